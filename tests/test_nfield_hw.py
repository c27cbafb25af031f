"""Tests of the neural field at the hardware-model level (rramcim.apps.nfield.hw)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from rramcim.analog.crossbar import CrossbarConfig, CrossbarMacro, PulseOp
from rramcim.analog.device import DeviceConfig
from rramcim.apps.nfield.hw import (
    ct_hardware_psnr,
    haq_program_layer,
    map_field,
    nominal_codes,
)
from rramcim.golden.fourier_enc import error_bound_lsb
from rramcim.golden.haq_quant import HaqQuantParams, ProgOp, quantize_weight
from rramcim.golden.nfield_top import NfieldHwConfig
from rramcim.nn.field import FieldConfig, NeuralField, rram_fourier_matrix

ENC_SEED = 3


@pytest.fixture(scope="module")
def small_net() -> NeuralField:
    torch.set_num_threads(1)
    fc = FieldConfig(n_in=3, n_freq=8, width=16, rank=4, depth=3, seed=1)
    b = rram_fourier_matrix(8, 3, sigma=4.0, seed=ENC_SEED)
    return NeuralField(fc, b).eval()


def _cfg(**kw: object) -> NfieldHwConfig:
    return NfieldHwConfig(encoder_seed=ENC_SEED, n_adc=8, n_cal=64, **kw)


def test_batched_pulse_verify_equal_per_cell_api(dev40: DeviceConfig) -> None:
    cfg = CrossbarConfig(rows=6, cols=8, n_adc=4)
    a = CrossbarMacro(cfg, dev40, seed=7, macro_id=2)
    b = CrossbarMacro(cfg, dev40, seed=7, macro_id=2)
    rows = torch.tensor([0, 1, 5, 3, 0])
    cols = torch.tensor([0, 7, 2, 3, 1])
    for op in (PulseOp.RESET, PulseOp.SET, PulseOp.SET):
        a.pulse_cells(op, 1, rows, cols)
        for r, c in zip(rows.tolist(), cols.tolist(), strict=True):
            b.pulse(op, r, c, 1)
        codes_a = a.verify_cells(1, rows, cols)
        codes_b = [b.verify(r, c, 1) for r, c in zip(rows.tolist(), cols.tolist(), strict=True)]
        assert codes_a.tolist() == codes_b
    for ga, gb in zip(a.programmed_conductances(), b.programmed_conductances(), strict=True):
        assert torch.equal(ga, gb)
    assert a.stats == b.stats


def test_haq_decisions_equal_golden_quantize_weight(
    small_net: NeuralField, dev40: DeviceConfig
) -> None:
    cfg = _cfg()
    hw = map_field(small_net, cfg, seed=11, device=dev40)
    li = 1
    prog, mc = hw.programs[li], hw.macros[li]
    p = HaqQuantParams(
        n_cells=cfg.n_cells, tgt_w=cfg.tgt_w, verify_bits=cfg.verify_bits,
        radix_f=cfg.haq_radix_f, ratio_q8=cfg.ratio_q8, row_w=12, col_w=12,
    )  # fmt: skip
    n_out, rows = prog.targets.shape
    assert rows == mc.cfg.rows
    # 1) the recorded decisions are the golden decisions for the recorded verify codes
    for j in range(n_out):
        for i in range(rows):

            def ver(k: int, row: int, col: int, neg: int, is_set: bool, j=j, i=i) -> int:
                return int(prog.verify[j, i, k])

            ops, beat, n_to = quantize_weight(
                p, int(prog.targets[j, i]), i, j * cfg.n_cells, 0,
                prog.code_unit, prog.code_reset, ver,
            )  # fmt: skip
            assert n_to == 0
            assert beat.bits == int(prog.bits[j, i]) and beat.acc == int(prog.acc[j, i])
            sets = [o.col for o in ops if o.op is ProgOp.SET]
            assert sets == [j * cfg.n_cells + k for k in range(cfg.n_cells) if beat.bits >> k & 1]
    # 2) the verify codes are what the macro's own pulse()/verify() answer, one op at a time
    seq = CrossbarMacro(mc.cfg, dev40, seed=11, macro_id=li + 1)
    for neg in (0, 1):
        for r in range(seq.cfg.rows):
            for c in range(seq.cfg.cols):
                seq.pulse(PulseOp.RESET, r, c, neg)
    assert nominal_codes(seq) == (prog.code_unit, prog.code_reset)
    used = n_out * cfg.n_cells + 1
    neg_codes = [[seq.verify(r, c, 1) for c in range(used)] for r in range(rows)]
    assert np.array_equal(np.array(neg_codes), prog.neg_verify)
    ref = n_out * cfg.n_cells
    ref_codes = []
    for r in range(rows):
        seq.pulse(PulseOp.SET, r, ref, 0)
        ref_codes.append(seq.verify(r, ref, 0))
    assert ref_codes == prog.ref_verify.tolist()
    for j in range(n_out):
        for i in range(rows):

            def live(k: int, row: int, col: int, neg: int, is_set: bool) -> int:
                if is_set:
                    seq.pulse(PulseOp.SET, row, col, neg)
                return seq.verify(row, col, neg)

            _, beat, _ = quantize_weight(
                p, int(prog.targets[j, i]), i, j * cfg.n_cells, 0,
                prog.code_unit, prog.code_reset, live,
            )  # fmt: skip
            assert beat.bits == int(prog.bits[j, i]) and beat.acc == int(prog.acc[j, i])
    gp_b, gn_b = mc.programmed_conductances()
    gp_s, gn_s = seq.programmed_conductances()
    assert torch.equal(gp_b, gp_s) and torch.equal(gn_b, gn_s)


def test_haq_program_layer_rejects_nothing_silently(dev40: DeviceConfig) -> None:
    """Zero targets are programmed (sent as +1), never skipped."""
    p = HaqQuantParams(n_cells=4, tgt_w=8, radix_f=8, row_w=4, col_w=6)
    mc = CrossbarMacro(CrossbarConfig(rows=2, cols=8, n_adc=8), dev40, seed=1)
    cu, cr = nominal_codes(mc)
    bits, ver, acc = haq_program_layer(mc, np.array([[1, -128]]), p, cu, cr)
    assert bits[0, 0] != 0 and (ver > 0).all()


def test_map_field_checks_encoder_seed(small_net: NeuralField, dev40: DeviceConfig) -> None:
    with pytest.raises(ValueError, match="do not reproduce the network's B"):
        map_field(small_net, NfieldHwConfig(encoder_seed=ENC_SEED + 1, n_adc=8), 0, dev40)


def _coords(n: int) -> np.ndarray:
    g = np.random.default_rng(2).integers(0, 256, size=(n, 3))
    return g.astype(np.float64) / 256.0


def test_batch_split_invariance(small_net: NeuralField, dev40: DeviceConfig) -> None:
    """Coordinates 0..255 in one batch == two batches of 128 with the read offsets."""
    hw = map_field(small_net, _cfg(), seed=5, device=dev40)
    x = _coords(256)
    one = hw.evaluate(x, keep=True)
    a = hw.evaluate(x[:128], first_vector=0, keep=True)
    b = hw.evaluate(x[128:], first_vector=128, keep=True)
    assert np.array_equal(one.out, np.concatenate([a.out, b.out]))
    for k in one.stages:
        assert np.array_equal(one.stages[k], np.concatenate([a.stages[k], b.stages[k]])), k
    split = hw.evaluate(x, keep=True, batch=100)
    assert np.array_equal(split.out, one.out) and split.counters == one.counters
    # the read noise is live: another epoch gives other codes
    assert not np.array_equal(hw.evaluate(x, epoch=1, keep=True).stages["acc0"], one.stages["acc0"])


@pytest.mark.parametrize("hi_res", [False, True], ids=["mlp12", "hi-res"])
def test_ideal_pipeline_within_derived_bound(
    small_net: NeuralField, ideal_dev: DeviceConfig, hi_res: bool
) -> None:
    """Ideal devices: hardware output vs the float network holding the cells' weights.

    Derived bounds (every term is a rounding of the contract, no noise, no clipping):

    * encoder phase (turns) <= 0.5 (2^CB - 1) ENC_GAIN / 2^(ENC_SHIFT + PHASE_F) (ADC
      rounding, CB planes) + 2^-(PHASE_F+1) + |phase| 2^-(GAIN_BITS-1) + sum_i x_i
      |g_ref - mean| sigma / std (+ 1e-6 for float32 B);
    * an input code (as a value) <= 2 pi e_phase + CORDIC bound + 1 LSB (rounding + clamp);
    * layer l, given its integer inputs x_q (local): |y s_l - x_q W_eff / 2^(L-1)| <= s_l e_y,
      ``s_l = M 2^(OUT_SHIFT-RADIX_F+PRE) / (cpc 2^(L-1))``, ``e_y = 1.5 sum R_k e_a /
      2^OUT_SHIFT + 2^-OUT_SHIFT + 1/2``, ``e_a = 0.5 (2^L - 1) / 2^PRE + [PRE > 0] / 2``;
      activation phase <= |phase| 2^-(GAIN_BITS-1) + 2^-(PHASE_F+1) turns;
    * end to end (propagated): e_pre <= ||W_eff||_inf e_x + s_l e_y, next e_x <= w0 e_pre +
      2 pi (|phase| 2^-(GAIN_BITS-1) + 2^-(PHASE_F+1)) + CORDIC + 1 LSB; output <= e_pre +
      |out| 2^-(GAIN_BITS-1) + 2^-(OUT_FRAC+1). With w0 = 30 (x30 per hidden layer) this
      worst case is loose (measured: bound 10.3 / 5.7, max error 0.033 / 0.016 for the
      mlp12 / hi-res cases); the local per-stage bounds above are the tight checks.
    """
    if hi_res:
        cfg = _cfg(enc_ref="exact", enc_adc_bits=16, mlp_adc_bits=16, in_bits=12, sin_w=16,
                   cordic_iters=16, phase_f=20, gain_bits=20, mlp_fs_margin=2.0)  # fmt: skip
    else:
        cfg = _cfg(enc_ref="exact", enc_adc_bits=14, mlp_adc_bits=12, mlp_fs_margin=2.0)
    hw = map_field(small_net, cfg, seed=0, device=ideal_dev)
    x = _coords(128)
    r = hw.evaluate(x, keep=True)
    assert r.total("adc_clipped") == 0
    k = hw.consts
    cordic = error_bound_lsb(cfg.fourier()) / 2.0 ** (cfg.sin_w - 1)
    lsb_in = 1.0 / 2.0 ** (cfg.in_bits - 1)
    gerr = 2.0 ** -(cfg.gain_bits - 1)
    rnd_ph = 2.0 ** -(cfg.phase_f + 1)
    xt = torch.from_numpy(x)
    phase = xt @ small_net.encoder.b.double().t()
    s = hw.summary["encoder"]
    g_ref = float(ideal_dev.to_grid(torch.tensor(s["g_mean_S"], dtype=torch.float64)))
    e_ph = (
        0.5 * (2**cfg.coord_bits - 1) * k.enc_gain / 2.0 ** (k.enc_shift + cfg.phase_f)
        + rnd_ph
        + phase.abs() * gerr
        + xt.sum(1, keepdim=True) * abs(g_ref - s["g_mean_S"]) * s["sigma"] / s["g_std_S"]
        + 1e-6 * (1.0 + phase.abs())
    )
    d = r.stages["enc_phase"] / 2.0**cfg.phase_f - phase.numpy()
    d -= np.round(d)
    assert (np.abs(d) <= e_ph.numpy()).all()
    h = torch.cat([xt, torch.sin(2 * math.pi * phase), torch.cos(2 * math.pi * phase)], 1)
    e_enc = (2 * math.pi * e_ph + cordic + lsb_in).repeat(1, 2)
    e_x = torch.cat([torch.zeros(x.shape[0], 3), e_enc], 1).max(1).values
    w0 = small_net.cfg.w0
    for li, lc in enumerate(k.layers):
        rk = torch.tensor(lc.comb.radix, dtype=torch.float64)
        bits = torch.from_numpy(hw.programs[li].bits)
        dig = torch.stack([((bits >> kk) & 1).double() - 0.5 for kk in range(cfg.n_cells)], -1)
        m_eff = lc.w_max * (dig @ rk) / 2.0**lc.comb.radix_f  # the weights the cells hold
        w_eff, b_eff = m_eff[:, :-1], m_eff[:, -1] / 2.0
        e_a = 0.5 * (2**lc.in_bits - 1) / 2.0**lc.pre_shift + (0.5 if lc.pre_shift else 0.0)
        e_y = 1.5 * float(rk.sum()) * e_a / 2.0**lc.comb.out_shift + 2.0**-lc.comb.out_shift + 0.5
        s_l = (
            lc.w_max
            * 2.0 ** (lc.comb.out_shift - lc.comb.radix_f + lc.pre_shift)
            / (lc.cpc * 2.0 ** (lc.in_bits - 1))
        )
        # local: this layer from its own integer inputs
        xq = torch.from_numpy(r.stages[f"in{li}"]).double() / 2.0 ** (lc.in_bits - 1)
        pre_hw = torch.from_numpy(r.stages[f"y{li}"]).double() * s_l
        assert ((pre_hw - xq @ m_eff.t()).abs() <= s_l * e_y + 1e-12).all(), li
        # end to end: the float network with the cells' weights
        pre = h @ w_eff.t() + b_eff
        e_pre = float(w_eff.abs().sum(1).max()) * e_x + s_l * e_y
        if lc.last:
            out_ref = pre[:, 0]
            bound = e_pre + out_ref.abs() * gerr + 2.0 ** -(cfg.out_frac + 1) + 1e-9
        else:
            ph_hw = w0 * pre_hw / (2 * math.pi)
            dp = r.stages[f"phase{li}"] / 2.0**cfg.phase_f - ph_hw.numpy()
            dp -= np.round(dp)
            assert (np.abs(dp) <= (ph_hw.abs() * gerr + rnd_ph).numpy() + 1e-12).all(), li
            ph_max = w0 * (pre.abs().max(1).values + e_pre) / (2 * math.pi)
            e_x = w0 * e_pre + 2 * math.pi * (ph_max * gerr + rnd_ph) + cordic + lsb_in
            h = torch.sin(w0 * pre)
    err = np.abs(r.value[:, 0] - out_ref.numpy())
    assert (err <= bound.numpy()).all()
    print(f"bound {float(bound.max()):.4g}, max error {float(err.max()):.4g}")


def test_ct_network_small_grid(dev40: DeviceConfig) -> None:
    """The shipped CT network maps and runs; counters are reported per stage."""
    from rramcim.apps.nfield.ct import pixel_coords
    from rramcim.apps.nfield.train import load_ct

    net, _ = load_ct()
    hw = map_field(net, NfieldHwConfig(), seed=0, device=dev40)
    assert [ly["shape"] for ly in hw.summary["layers"]] == [
        [100, 131],
        [10, 100],
        [100, 10],
        [1, 100],
    ]
    assert hw.summary["layers"][0]["in_bits"] == 9 and hw.consts.layers[0].pre_shift == 1
    x = pixel_coords(128)[::257][:64].double()
    r = hw.evaluate(x)
    assert r.out.shape == (64, 1)
    assert set(r.counters) == {"enc", "layer0", "layer1", "layer2", "layer3", "out"}
    assert r.counters["layer0"]["comb_sat"] == 0 and r.counters["out"]["out_sat"] == 0


def test_ct_hardware_psnr() -> None:
    """Full 128 x 128 CT slice at the hardware-model level with the defaults (about 17 s).

    Keyed draws make the number reproducible: the defaults (rram_40nm with its 0.2 uS read
    noise, programmed encoder reference, 8-bit MLP ADCs, 12 cells) give 12.81 dB against the
    software 28.97 dB; see the module doc of rramcim.apps.nfield.hw for the sweeps.
    """
    r = ct_hardware_psnr()
    assert abs(r["psnr_sw_dB"] - 28.97) < 0.01
    assert abs(r["psnr_hw_dB"] - 12.81) < 0.05
    assert r["counters"]["layer0"]["comb_sat"] == 0 and r["counters"]["out"]["out_sat"] == 0
    print(f"CT PSNR: software {r['psnr_sw_dB']:.2f} dB, hardware model {r['psnr_hw_dB']:.2f} dB")

"""The neural field at the hardware-model level: mapping onto macros, evaluation, CT PSNR.

:func:`map_field` turns a trained :class:`~rramcim.nn.field.NeuralField` into programmed
:class:`~rramcim.analog.crossbar.CrossbarMacro` objects and the constants of
:mod:`rramcim.golden.nfield_top` (whose docstring is the datapath contract);
:meth:`NfieldHardware.evaluate` runs coordinates through the bit-exact pipeline.

Mapping decisions (normative for the RTL bench, which repeats the programming)
------------------------------------------------------------------------------

* **Encoder** (macro id 0, seed ``seed``): G+ of (row i, column j) = formed conductance
  ``formed_conductances_S(n_freq * n_in, device, encoder_seed)[j * n_in + i]`` loaded with
  ``set_conductances``; the mapper checks that ``sigma (G - mean) / std`` (sample mean and
  unbiased std over those cells, ``sigma`` = std of the network's B) equals B to 1e-5
  relative, else ValueError. G- (``enc_ref``): ``"programmed"`` = ``DeviceModel.program`` of
  the G- cells (flat index of the macro, attempt 1) to the mean (the device quantises the
  target to its nearest level and adds programming noise and d2d variation); ``"exact"`` =
  the mean on the state grid, no noise (a trimmed reference). Padding columns: G+ = G- =
  the reference. ADC full scale: ``enc_fs_margin`` x the largest |ideal column current| over
  every non-empty row subset (no conversion can clip by construction when the margin >= 1).
* **MLP layer l** (macro id l + 1), in this order: (1) every cell of the macro gets one
  RESET pulse (``CrossbarMacro.pulse`` semantics: attempt = pulses so far + 1); (2) one
  VERIFY of every G- cell of the used columns; (3) the reference column's G+ cells get
  SET + VERIFY; (4) targets ``target_code([W | 2b] / M_l + comp, TGT_W)`` where, with
  ``compensate`` (default), ``comp_ji = sum_k (v-_jik - code_reset) / D / ratio**k +
  0.5 S ((v_ref_i - v-_ref_i) / D - 1)`` (``S = sum_k ratio**-k``) cancels what HAQ cannot
  see: the G- cells of the weight and the reference cells of its row (measured, not
  nominal; without it the 2 % d2d spread of the reference cells alone costs > 10 dB);
  (5) HAQ (golden ``quantize_weight`` semantics, VERIFY_UNSET = 1) per weight, in any order
  (each cell has its own draws); a target of 0 is sent as +1
  (cim_haq_quant's t = 0 shortcut leaves every cell RESET, which the reference-offset
  combination reads as -sum_k 0.5/ratio^k, not 0). ``code_reset`` / ``code_unit`` = the
  verify ADC codes (``floor(G / verify_lsb + 1/2)``) of the nominal RESET / SET levels.
  Pulses and verifies are batched over cells (``CrossbarMacro.pulse_cells`` /
  ``verify_cells``: the keyed draws of one ``pulse`` / ``verify`` per cell). ADC full
  scale: ``mlp_fs_margin`` x the largest ideal column current of
  the bit planes of ``n_cal`` calibration coordinates (keyed uniform in [0, 1)^n_in, key
  ``(seed, "nfield_cal")``) evaluated by the float network.
* ``cpc`` (codes per input LSB per SET cell) = mean ``code_per_unit`` x (nominal SET level -
  nominal RESET level) / g_step: the nominal calibration the gains derive from.

Measured (shipped CT field, 128 x 128, software 28.97 dB; ``enc_ref="exact"`` unless said)
------------------------------------------------------------------------------------------

* Ideal devices: N_CELLS 12 / MLP ADC 8, 12, 16 bits: 12.8, 22.4, 25.8 dB; the float network
  holding the 12-cell HAQ weights gives 25.85 dB (the HAQ ceiling), with 16 cells 28.76 dB;
  N_CELLS 16, MLP ADC 16: 28.6 dB. IN_BITS 8 / 10 / 12 change < 0.05 dB.
* Encoder ADC (ideal devices, N_CELLS 16, MLP ADC 16): 8 / 10 / 12 / 14 bits: 23.3 / 28.1 /
  28.5 / 28.6 dB, hence the default 12 (within 0.05 dB of 14 bits, two bits cheaper).
* Read noise per cell and read (ideal otherwise, N_CELLS 16, MLP ADC 16): 0.01 / 0.05 / 0.2
  uS (the rram_40nm value): 27.1 / 18.5 / 12.5 dB; the encoder phase dominates (sigma = 4:
  a 0.2 uS error is 0.2 turn of phase at x = 1).
* rram_40nm without read noise (N_CELLS 16, MLP ADC 16, verify 12 bits): 21.7 dB; also
  without stuck cells 28.5 dB (8-bit verify: 22.9 dB; without ``compensate``: ~12.5 dB).
* ``enc_ref="programmed"``: the G- level quantisation alone (32.8 uS level for a 34.87 uS
  mean) wrecks B (ideal devices: 12.8 dB). The full preset with the defaults: 12.8 dB.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
import torch

from rramcim import rng
from rramcim.analog.crossbar import CrossbarConfig, CrossbarMacro, PulseOp
from rramcim.analog.device import DeviceConfig, load_device
from rramcim.golden.haq_quant import HaqQuantParams, radix_table, target_code
from rramcim.golden.nfield_top import (
    LayerConsts,
    NfieldConsts,
    NfieldHwConfig,
    NfieldResult,
    coord_codes,
    layer_combine_config,
    quantize_gain,
    run_nfield,
)
from rramcim.nn.field import NeuralField, formed_conductances_S


def _pad(n: int, m: int) -> int:
    return -(-n // m) * m


def nominal_codes(macro: CrossbarMacro) -> tuple[int, int]:
    """``(code_unit, code_reset)``: verify codes of the nominal SET / RESET levels."""
    d = macro.device
    lv = macro.dev.quantize_levels(torch.tensor([d.g_max_S, d.g_min_S], dtype=torch.float64))
    c = torch.clamp(
        torch.floor(lv / macro.verify_lsb_S() + 0.5), 0, (1 << macro.cfg.verify_bits) - 1
    )
    return int(c[0]), int(c[1])


def target_compensation(
    neg_ver: np.ndarray,
    ref_ver: np.ndarray,
    code_unit: int,
    code_reset: int,
    n_out: int,
    cfg: NfieldHwConfig,
) -> np.ndarray:
    """Target shift ``[n_out, rows]`` (normalised weight units) that cancels the measured G-
    cells and reference column (module doc): ``sum_k (v-_ik - code_reset) / D / ratio**k +
    0.5 S ((v_ref_i - v-_ref_i) / D - 1)`` with ``S = sum_k ratio**-k``, ``D = code_unit -
    code_reset``."""
    d = float(code_unit - code_reset)
    n = cfg.n_cells
    rk = (cfg.ratio_q8 / 256.0) ** -np.arange(n, dtype=np.float64)
    rows = neg_ver.shape[0]
    dn = (neg_ver[:, : n_out * n].astype(np.float64) - code_reset) / d
    g_neg = (dn.reshape(rows, n_out, n) @ rk).T  # [n_out, rows]
    ref = (ref_ver.astype(np.float64) - neg_ver[:, n_out * n]) / d - 1.0
    return g_neg + 0.5 * float(rk.sum()) * ref[None, :]


@dataclass
class LayerProgram:
    """What programming a layer did (the RTL bench compares these).

    Attributes:
        targets: int64 ``[n_out, rows]`` HAQ targets (after the 0 -> 1 substitution).
        bits: int64 ``[n_out, rows]``, bit k = cell k SET.
        verify: int64 ``[n_out, rows, n_cells]`` verify codes in issue order per cell.
        acc: int64 ``[n_out, rows]`` final HAQ accumulators (cim_haq_quant's ``acc``).
        ref_verify: int64 ``[rows]`` verify codes of the reference column's SET cells.
        code_unit, code_reset: the run-time verify constants.
        zero_targets: weights whose target 0 was sent as +1.
        neg_verify: int64 ``[rows, n_out * n_cells + 1]`` verify codes of the G- cells (after
            their RESET, before any SET).
        compensation: float64 ``[n_out, rows]`` target shift (normalised weight units).
    """

    targets: np.ndarray
    bits: np.ndarray
    verify: np.ndarray
    acc: np.ndarray
    ref_verify: np.ndarray
    code_unit: int
    code_reset: int
    zero_targets: int
    neg_verify: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.int64))
    compensation: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))


def haq_program_layer(
    macro: CrossbarMacro, targets: np.ndarray, p: HaqQuantParams, code_unit: int, code_reset: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """HAQ (golden cim_haq_quant semantics, VERIFY_UNSET = 1) of every weight, batched.

    Weight (j, i) -> cells at row i, columns ``j * n_cells + k``, G+. Returns (bits, verify
    codes ``[n_out, rows, n_cells]``, acc).
    """
    n_out, rows = targets.shape
    t = torch.from_numpy(targets.astype(np.int64))
    d = code_unit - code_reset
    thr = (t * d) << p.shift
    acc = torch.zeros_like(t)
    bits = torch.zeros_like(t)
    ver = np.zeros((n_out, rows, p.n_cells), dtype=np.int64)
    jj, ii = torch.meshgrid(torch.arange(n_out), torch.arange(rows), indexing="ij")
    active = t != 0
    for k, c_k in enumerate(radix_table(p.ratio_q8, p.radix_f, p.n_cells)):
        is_set = (acc <= thr) & active
        sel = is_set.reshape(-1)
        cols = (jj * p.n_cells + k).reshape(-1)
        macro.pulse_cells(PulseOp.SET, 0, ii.reshape(-1)[sel], cols[sel])
        a = active.reshape(-1)
        code = np.zeros(n_out * rows, dtype=np.int64)
        code[a.numpy()] = macro.verify_cells(0, ii.reshape(-1)[a], cols[a]).numpy()
        ver[:, :, k] = code.reshape(n_out, rows)
        e = 2 * (torch.from_numpy(code).reshape(n_out, rows) - code_reset) - d
        acc = torch.where(active, acc + e * c_k, acc)
        bits = bits | (is_set.to(torch.int64) << k)
    return bits.numpy(), ver, acc.numpy()


@dataclass
class NfieldHardware:
    """A mapped neural field: macros, constants, programming record; :meth:`evaluate`.

    Attributes:
        cfg: configuration. consts: the datapath constants.
        enc_macro: the encoder macro. macros: the layer macros.
        programs: per-layer :class:`LayerProgram`.
        summary: programming summary (cells set, verifies, pulses, clipped, calibration).
    """

    cfg: NfieldHwConfig
    consts: NfieldConsts
    enc_macro: CrossbarMacro
    macros: list[CrossbarMacro]
    programs: list[LayerProgram]
    summary: dict = field(default_factory=dict)

    def evaluate(
        self,
        coords: torch.Tensor | np.ndarray,
        first_vector: int = 0,
        epoch: int = 0,
        keep: bool = False,
        batch: int = 4096,
    ) -> NfieldResult:
        """Evaluate float coordinates ``[V, n_in]`` in [0, 1) (codes: see golden item 1).

        ``first_vector`` is the number of the first coordinate since reset; the work is split
        into chunks of ``batch`` coordinates with the matching read offsets (the result does
        not depend on the split).
        """
        c = coord_codes(np.asarray(coords, dtype=np.float64), self.cfg.coord_bits)
        return self.evaluate_codes(c, first_vector, epoch, keep, batch)

    def evaluate_codes(
        self,
        codes: np.ndarray,
        first_vector: int = 0,
        epoch: int = 0,
        keep: bool = False,
        batch: int = 4096,
    ) -> NfieldResult:
        """Evaluate unsigned COORD_BITS coordinate codes ``[V, n_in]``."""
        codes = np.asarray(codes, dtype=np.int64)
        parts = [
            run_nfield(
                self.enc_macro,
                self.macros,
                self.consts,
                codes[s : s + batch],
                first_vector=first_vector + s,
                epoch=epoch,
                keep=keep,
            )
            for s in range(0, max(codes.shape[0], 1), batch)
        ]
        if len(parts) == 1:
            return parts[0]
        cnt: dict[str, dict[str, int]] = {}
        for p in parts:
            for st, d in p.counters.items():
                for kk, v in d.items():
                    cnt.setdefault(st, {}).setdefault(kk, 0)
                    cnt[st][kk] += v
        stages = (
            {kk: np.concatenate([p.stages[kk] for p in parts]) for kk in parts[0].stages}
            if keep
            else {}
        )
        return NfieldResult(
            out=np.concatenate([p.out for p in parts]),
            value=np.concatenate([p.value for p in parts]),
            counters=cnt,
            stages=stages,
        )


def _layer_params(net: NeuralField) -> list[tuple[torch.Tensor, torch.Tensor]]:
    return [
        (w.detach().double(), b.detach().double())
        for w, b in zip(net.weight_matrices(), net.biases(), strict=True)
    ]


def float_layer_inputs(net: NeuralField, x: torch.Tensor) -> list[torch.Tensor]:
    """Float inputs of every layer (encoder output first) at coordinates ``x``."""
    with torch.no_grad():
        h = net.encoder(x.to(torch.float32))
        out = [h.double()]
        for layer in net.layers[:-1]:
            h = layer(h)
            out.append(h.double())
    return out


def _planes(codes: torch.Tensor, bits: int) -> torch.Tensor:
    u = codes & ((1 << bits) - 1)
    return torch.cat([((u >> b) & 1) for b in range(bits)]).to(torch.float32)


def map_field(
    net: NeuralField,
    cfg: NfieldHwConfig | None = None,
    seed: int = 0,
    device: DeviceConfig | None = None,
) -> NfieldHardware:
    """Program a trained field onto macros and compute the datapath constants.

    Args:
        net: the trained field (RRAM encoder, SIREN layers).
        cfg: hardware configuration (default :class:`NfieldHwConfig`).
        seed: seed of every macro (programming, read and verify noise).
        device: device model (default: the preset ``cfg.device``).

    Raises:
        ValueError: a network this datapath cannot carry (no encoder, B not reproduced by
            the formed conductances, a layer larger than a macro, non-finite weights).
    """
    torch.set_num_threads(1)
    t0 = time.perf_counter()
    cfg = cfg or NfieldHwConfig()
    dev = device or load_device(cfg.device)
    fc = net.cfg
    if fc.n_freq < 1:
        raise ValueError("map_field: the network has no Gaussian encoder (n_freq = 0)")
    n_in, n_freq = fc.n_in, fc.n_freq
    # ---- encoder --------------------------------------------------------------------------
    b = net.encoder.b.detach().double()
    g = formed_conductances_S(n_freq * n_in, cfg.device, cfg.encoder_seed).double()
    g_mean, g_std = float(g.mean()), float(g.std())
    sigma = float(b.std())
    b_hw = sigma * (g - g_mean) / g_std
    err = float((b_hw.reshape(n_freq, n_in) - b).abs().max())
    if not err <= 1e-5 * max(1.0, float(b.abs().max())):
        raise ValueError(
            f"map_field: formed conductances (device {cfg.device!r}, encoder_seed "
            f"{cfg.encoder_seed}) do not reproduce the network's B (max error {err:.3g})"
        )
    n_adc_e = min(cfg.n_adc, _pad(n_freq, 1))
    cols_e = _pad(n_freq, n_adc_e)
    ecfg = CrossbarConfig(
        rows=max(n_in, 2),
        cols=cols_e,
        n_adc=n_adc_e,
        adc_bits=cfg.enc_adc_bits,
        verify_bits=cfg.verify_bits,
    )
    enc = CrossbarMacro(ecfg, dev, seed=seed, macro_id=0)
    rows_e = ecfg.rows
    g_ref = float(dev.to_grid(torch.tensor(g_mean, dtype=torch.float64)))
    gp = torch.full((rows_e, cols_e), g_ref, dtype=torch.float64)
    gp[:n_in, :n_freq] = g.reshape(n_freq, n_in).t()
    if cfg.enc_ref == "programmed":
        ri, ci = torch.meshgrid(torch.arange(rows_e), torch.arange(cols_e), indexing="ij")
        gn, _ = enc.dev.program(
            enc.cell_index(1, ri, ci),
            torch.full((rows_e, cols_e), g_mean, dtype=torch.float64),
            attempt=1,
        )
    else:
        gn = torch.full((rows_e, cols_e), g_ref, dtype=torch.float64)
    gp[:, n_freq:] = gn[:, n_freq:]
    gp[n_in:, :] = gn[n_in:, :]
    enc.set_conductances(gp, gn)
    subsets = torch.tensor(
        [[(s >> i) & 1 for i in range(rows_e)] for s in range(1, 1 << rows_e)], dtype=torch.float32
    )
    top = float(1 << (cfg.enc_adc_bits - 1))
    i_max = float(enc.ideal_currents_A(subsets).abs().max())
    enc.set_adc_full_scale(cfg.enc_fs_margin * i_max * top / (top - 1.0))
    cpu_e = float(enc.code_per_unit().mean())
    k_enc = sigma * dev.g_step_S * 2.0**cfg.phase_f / (g_std * cpu_e * 2.0**cfg.coord_bits)
    enc_gain, enc_shift = quantize_gain(k_enc, cfg.gain_bits)
    # ---- layers ---------------------------------------------------------------------------
    params = _layer_params(net)
    for li, (w, bb) in enumerate(params):
        bad = ~(torch.isfinite(w).all() & torch.isfinite(bb).all())
        if bool(bad):
            raise ValueError(f"map_field: layer {li} has non-finite weights or biases")
    key = rng.make_key(seed, "nfield_cal")
    xcal = rng.uniform(key, torch.arange(cfg.n_cal * n_in, dtype=torch.int64)).reshape(
        cfg.n_cal, n_in
    )
    hs = float_layer_inputs(net, xcal)
    lv = enc.dev.quantize_levels(torch.tensor([dev.g_max_S, dev.g_min_S], dtype=torch.float64))
    unit_units = float((lv[0] - lv[1]) / dev.g_step_S)
    p = cfg.haq_params()
    macros, programs, layers, summ_layers = [], [], [], []
    n_layers = len(params)
    for li, (w, bb) in enumerate(params):
        n_out, n_i = w.shape
        L = cfg.layer_bits(li)
        m_mat = torch.cat([w, 2.0 * bb.reshape(-1, 1)], dim=1)
        w_max = float(m_mat.abs().max()) or 1.0
        rows = n_i + 1
        n_adc = min(cfg.n_adc, n_out * cfg.n_cells + 1)
        cols = _pad(n_out * cfg.n_cells + 1, n_adc)
        if rows > 4096 or cols > 4096:
            raise ValueError(f"map_field: layer {li} needs a {rows} x {cols} macro (> 4096)")
        mc = CrossbarMacro(
            CrossbarConfig(
                rows=rows,
                cols=cols,
                n_adc=n_adc,
                adc_bits=cfg.mlp_adc_bits,
                verify_bits=cfg.verify_bits,
            ),
            dev,
            seed=seed,
            macro_id=li + 1,
        )
        rr, cc = torch.meshgrid(torch.arange(rows), torch.arange(cols), indexing="ij")
        for neg in (0, 1):
            mc.pulse_cells(PulseOp.RESET, neg, rr.reshape(-1), cc.reshape(-1))
        code_unit, code_reset = nominal_codes(mc)
        ref = n_out * cfg.n_cells
        used = ref + 1
        ru, cu = rr[:, :used].reshape(-1), cc[:, :used].reshape(-1)
        neg_ver = mc.verify_cells(1, ru, cu).numpy().reshape(rows, used)
        mc.pulse_cells(PulseOp.SET, 0, torch.arange(rows), torch.full((rows,), ref))
        ref_ver = mc.verify_cells(0, torch.arange(rows), torch.full((rows,), ref)).numpy()
        w_norm = (m_mat / w_max).numpy()
        comp = np.zeros_like(w_norm)
        if cfg.compensate:
            comp = target_compensation(neg_ver, ref_ver, code_unit, code_reset, n_out, cfg)
        tg = target_code(w_norm + comp, cfg.tgt_w)
        t_lim = 2 ** (cfg.tgt_w - 1)
        n_tclamp = int(np.count_nonzero(np.abs(w_norm + comp) * t_lim > t_lim - 0.5))
        n_zero = int((tg == 0).sum())
        tg[tg == 0] = 1
        bits, ver, acc = haq_program_layer(mc, tg, p, code_unit, code_reset)
        # ADC full scale from the calibration planes of the float layer input
        h = hs[li]
        if li == 0:
            xq = torch.cat(
                [
                    torch.floor(h[:, :n_in] * 2.0**cfg.coord_bits)
                    * 2.0 ** (L - 1 - cfg.coord_bits),
                    torch.floor(h[:, n_in:] * 2.0 ** (cfg.in_bits - 1) + 0.5).clamp(
                        -(2.0 ** (cfg.in_bits - 1)), 2.0 ** (cfg.in_bits - 1) - 1
                    )
                    * 2.0 ** (L - cfg.in_bits),
                ],
                dim=1,
            )
        else:
            xq = torch.floor(h * 2.0 ** (L - 1) + 0.5).clamp(-(2.0 ** (L - 1)), 2.0 ** (L - 1) - 1)
        xq = torch.cat([xq, torch.full((xq.shape[0], 1), 2.0 ** (L - 2))], dim=1).to(torch.int64)
        fs = float(mc.ideal_currents_A(_planes(xq, L)).abs().max())
        mc.set_adc_full_scale(cfg.mlp_fs_margin * fs)
        cpc = float(mc.code_per_unit().mean()) * unit_units
        comb, pre = layer_combine_config(cfg, L)
        last = li == n_layers - 1
        scale = (
            w_max * 2.0 ** (cfg.comb_out_shift - cfg.comb_radix_f + pre) / (cpc * 2.0 ** (L - 1))
        )
        if last:
            gain, shift = quantize_gain(scale * 2.0**cfg.out_frac, cfg.gain_bits)
        else:
            gain, shift = quantize_gain(
                fc.w0 * scale * 2.0**cfg.phase_f / (2.0 * math.pi), cfg.gain_bits
            )
        layers.append(
            LayerConsts(
                n_in=n_i,
                n_out=n_out,
                in_bits=L,
                bias_code=1 << (L - 2),
                pre_shift=pre,
                comb=comb,
                gain=gain,
                shift=shift,
                last=last,
                w_max=w_max,
                cpc=cpc,
            )
        )
        macros.append(mc)
        programs.append(
            LayerProgram(
                neg_verify=neg_ver,
                compensation=comp,
                targets=tg,
                bits=bits,
                verify=ver,
                acc=acc,
                ref_verify=ref_ver,
                code_unit=code_unit,
                code_reset=code_reset,
                zero_targets=n_zero,
            )
        )
        n_set = int(sum(bin(int(v)).count("1") for v in bits.reshape(-1))) + rows
        summ_layers.append(
            {
                "shape": [n_out, n_i],
                "rows": rows,
                "cols": cols,
                "in_bits": L,
                "cells_set": n_set,
                "cells_used": 2 * rows * (n_out * cfg.n_cells + 1),
                "pulses": mc.stats.pulses,
                "verifies": mc.stats.verifies,
                "clipped_programming": mc.stats.clipped_programming,
                "zero_targets": n_zero,
                "target_clamps": n_tclamp,
                "w_max": w_max,
                "adc_full_scale_A": mc.cfg.adc_full_scale_A,
                "code_unit": code_unit,
                "code_reset": code_reset,
                "pre_shift": pre,
                "gain": gain,
                "shift": shift,
            }
        )
    consts = NfieldConsts(
        cfg=cfg,
        n_in=n_in,
        n_freq=n_freq,
        enc_gain=enc_gain,
        enc_shift=enc_shift,
        layers=tuple(layers),
    )
    summary = {
        "encoder": {
            "rows": rows_e,
            "cols": cols_e,
            "g_mean_S": g_mean,
            "g_std_S": g_std,
            "sigma": sigma,
            "b_max_err": err,
            "adc_full_scale_A": enc.cfg.adc_full_scale_A,
            "enc_gain": enc_gain,
            "enc_shift": enc_shift,
            "ref": cfg.enc_ref,
        },
        "layers": summ_layers,
        "seconds": time.perf_counter() - t0,
    }
    return NfieldHardware(
        cfg=cfg, consts=consts, enc_macro=enc, macros=macros, programs=programs, summary=summary
    )


def ct_image(
    hw: NfieldHardware, n: int = 128, batch: int = 4096
) -> tuple[torch.Tensor, NfieldResult]:
    """The hardware-model CT slice ``[n, n]`` (masked to the inscribed circle) and the result."""
    from rramcim.apps.nfield.ct import circle_mask, pixel_coords

    r = hw.evaluate(pixel_coords(n).double(), batch=batch)
    img = torch.from_numpy(r.value[:, 0]).float().reshape(n, n) * circle_mask(n)
    return img, r


def ct_hardware_psnr(
    cfg: NfieldHwConfig | None = None,
    seed: int = 0,
    device: DeviceConfig | None = None,
    n: int = 128,
    *,
    net: NeuralField | None = None,
    info: dict | None = None,
    hw: NfieldHardware | None = None,
) -> dict:
    """PSNR of the shipped CT field at the hardware-model level against the phantom.

    Args:
        cfg, seed, device: the mapping (:func:`map_field`; ``cfg`` defaults to
            :class:`NfieldHwConfig` with the checkpoint's encoder seed).
        n: image side, pixels.
        net, info: the CT field and its summary (default: :func:`rramcim.apps.nfield.train.
            load_ct`), so that a caller with several design points loads it once.
        hw: the field already mapped with exactly these arguments (``map_s`` is then its
            mapping time, ``hw.summary["seconds"]``); it is evaluated, not mapped again.

    Returns:
        ``{"psnr_hw_dB", "psnr_sw_dB", "counters", "map_s", "eval_s"}``.
    """
    from rramcim.apps.nfield.ct import circle_mask, pixel_coords, psnr
    from rramcim.apps.nfield.train import load_ct
    from rramcim.data.phantom import shepp_logan_2d

    torch.set_num_threads(1)
    if net is None:
        net, info = load_ct()
    info = info or {}
    cfg = cfg or NfieldHwConfig(encoder_seed=int(info.get("config", {}).get("encoder_seed", 0)))
    target = torch.from_numpy(shepp_logan_2d(n)).float()
    with torch.no_grad():
        sw = net(pixel_coords(n)).reshape(n, n) * circle_mask(n)
    t0 = time.perf_counter()
    if hw is None:
        hw = map_field(net, cfg, seed, device)
        map_s = time.perf_counter() - t0
    else:
        map_s = float(hw.summary.get("seconds", 0.0))
    t1 = time.perf_counter()
    img, r = ct_image(hw, n)
    t2 = time.perf_counter()
    return {
        "psnr_hw_dB": psnr(img, target),
        "psnr_sw_dB": psnr(sw, target),
        "counters": r.counters,
        "map_s": map_s,
        "eval_s": t2 - t1,
    }

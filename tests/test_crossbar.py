"""Tests of rramcim.analog.crossbar and rramcim.analog.tiling."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy import stats

from rramcim.analog.crossbar import CrossbarConfig, CrossbarMacro, PulseOp
from rramcim.analog.device import DeviceConfig
from rramcim.analog.tiling import TiledCrossbar, plan_tiles


def small_cfg(**kw: object) -> CrossbarConfig:
    base = dict(rows=64, cols=32, n_adc=8, adc_bits=8, adc_full_scale_A=40e-6)
    base.update(kw)
    return CrossbarConfig(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("field", "value", "match"),
    [
        ("rows", 1, "rows"),
        ("cols", 30, "multiple of n_adc"),
        ("adc_bits", 17, "adc_bits"),
        ("adc_full_scale_A", 0.0, "adc_full_scale_A"),
        ("r_wire_ohm", -1.0, "r_wire_ohm"),
    ],
)
def test_config_out_of_range(field: str, value: object, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        small_cfg(**{field: value})


def test_default_is_the_40nm_macro() -> None:
    cfg = CrossbarConfig()
    assert cfg.rows == 512 and cfg.cols == 256 and cfg.cells == 512 * 512


def test_weight_mapping_is_differential_and_linear(ideal_dev: DeviceConfig) -> None:
    m = CrossbarMacro(small_cfg(), ideal_dev, seed=1)
    levels = torch.linspace(-1, 1, ideal_dev.n_levels * 2 - 1, dtype=torch.float64)
    w = levels[
        torch.randint(0, levels.numel(), (64, 32), generator=torch.Generator().manual_seed(0))
    ]
    rep = m.program_weights(w, w_max=1.0)
    gp, gn = m.conductances()
    assert rep.n_clipped == 0 and rep.n_stuck == 0
    # one of the two cells of every pair sits at g_min
    assert bool(
        (
            torch.minimum(gp, gn)
            == ideal_dev.to_grid(torch.tensor(ideal_dev.g_min_S, dtype=torch.float64))
        ).all()
    )
    dg = gp - gn
    span = ideal_dev.g_max_S - ideal_dev.g_min_S
    step = span / (ideal_dev.n_levels - 1)
    err = (dg - w * span).abs()
    assert float(err.max()) <= step / 2 + ideal_dev.g_step_S


def test_nonfinite_weights_rejected() -> None:
    m = CrossbarMacro(small_cfg(), seed=0)
    w = torch.zeros(64, 32)
    w[3, 4] = float("nan")
    with pytest.raises(ValueError, match=r"w\[3, 4\] = nan is not finite"):
        m.program_weights(w)


def test_noiseless_read_equals_exact_formula(ideal_dev: DeviceConfig) -> None:
    cfg = small_cfg()
    m = CrossbarMacro(cfg, ideal_dev, seed=2)
    m.program_weights(torch.rand(64, 32, generator=torch.Generator().manual_seed(1)) * 2 - 1)
    x = (torch.rand(50, 64, generator=torch.Generator().manual_seed(2)) < 0.4).float()
    res = m.read(x, torch.arange(cfg.n_groups), torch.arange(50 * cfg.n_groups).reshape(50, -1))
    gp, gn = m.conductances()
    units = (ideal_dev.to_units(gp) - ideal_dev.to_units(gn)).numpy().astype(np.int64)
    acc = x.numpy().astype(np.int64) @ units
    lsb = cfg.adc_lsb_A
    i_exact = acc * (ideal_dev.read_gain * ideal_dev.v_read_V * ideal_dev.g_step_S)
    codes = np.clip(np.floor(i_exact / lsb + 0.5), -128, 127).astype(np.int64)
    assert np.array_equal(res.codes.reshape(50, -1).numpy(), codes)
    assert m.stats.saturations == int(
        ((i_exact / lsb + 0.5 >= 128) | (i_exact / lsb + 0.5 < -128)).sum()
    )


def test_batched_equals_single_reads_and_any_order() -> None:
    cfg = small_cfg(adc_offset_sigma_lsb=0.5, adc_gain_sigma=0.03)
    m = CrossbarMacro(cfg, seed=3)
    m.program_weights(torch.randn(64, 32, generator=torch.Generator().manual_seed(3)))
    x = (torch.rand(40, 64, generator=torch.Generator().manual_seed(4)) < 0.5).float()
    k = torch.arange(40 * 4).reshape(40, 4) + 1000
    g = torch.tensor([0, 1, 2, 3])
    batch = m.read(x, g, k, epoch=2).codes
    for v in (0, 17, 39):
        for j in range(4):
            one = m.read(x[v : v + 1], int(g[j]), int(k[v, j]), epoch=2).codes
            assert torch.equal(one[0, 0], batch[v, j])
    rev = m.read(x.flip(0), g, k.flip(0), epoch=2).codes
    assert torch.equal(rev.flip(0), batch)
    other_epoch = m.read(x, g, k, epoch=3).codes
    assert not torch.equal(other_epoch, batch)


def test_output_referred_noise_equals_per_cell_noise(ideal_dev: DeviceConfig) -> None:
    """Same distribution as a fresh random number per cell per read (the bench's design)."""
    dev = ideal_dev.replace(read_noise_S=2e-7)
    cfg = CrossbarConfig(rows=64, cols=4, n_adc=4, adc_bits=16, adc_full_scale_A=1e-3)
    m = CrossbarMacro(cfg, dev, seed=4)
    m.program_weights(torch.rand(64, 4, generator=torch.Generator().manual_seed(5)) * 2 - 1)
    x = (torch.rand(1, 64, generator=torch.Generator().manual_seed(6)) < 0.5).float()
    n = 20_000
    res = m.read(x.expand(n, 64), 0, torch.arange(n).reshape(n, 1))
    i_model = res.codes[:, 0, :].double() * cfg.adc_lsb_A  # 16-bit ADC: LSB << sigma
    gp, gn = m.conductances()
    # reference: a fresh N(0, sigma) on every driven cell (2 per row), summed on the bit line
    gen = torch.Generator().manual_seed(7)
    on = x[0].bool()
    k = dev.read_gain * dev.v_read_V
    ideal = k * ((gp - gn)[on].sum(0))
    per_cell = (
        torch.randn(n, int(on.sum()) * 2, 4, generator=gen, dtype=torch.float64) * dev.read_noise_S
    )
    i_ref = ideal + k * per_cell.sum(1)
    i_ref = torch.floor(i_ref / cfg.adc_lsb_A + 0.5) * cfg.adc_lsb_A  # the same ADC quantisation
    sigma_expect = k * dev.read_noise_S * math.sqrt(2 * int(on.sum()))
    for c in range(4):
        a, b = i_model[:, c].numpy(), i_ref[:, c].numpy()
        assert np.std(a) == pytest.approx(sigma_expect, rel=0.04)
        assert np.std(b) == pytest.approx(sigma_expect, rel=0.04)
        assert abs(np.mean(a) - np.mean(b)) < 5 * sigma_expect / math.sqrt(n) + cfg.adc_lsb_A
        assert stats.ks_2samp(a, b).pvalue > 1e-3


def test_ir_drop_first_order(ideal_dev: DeviceConfig) -> None:
    cfg = small_cfg(r_wire_ohm=1000.0)
    m = CrossbarMacro(cfg, ideal_dev, seed=5)
    m.program_weights(torch.full((64, 32), 0.5), w_max=1.0)
    x = torch.zeros(1, 64)
    x[0, :10] = 1
    i = m.ideal_currents_A(x)[0, 0].item()
    gp, gn = m.conductances()
    k = ideal_dev.read_gain * ideal_dev.v_read_V
    sp, sn = float(gp[:10, 0].sum()), float(gn[:10, 0].sum())
    assert i == pytest.approx(k * (sp / (1 + 1000 * sp) - sn / (1 + 1000 * sn)), rel=1e-12)
    m0 = CrossbarMacro(small_cfg(), ideal_dev, seed=5)
    m0.program_weights(torch.full((64, 32), 0.5), w_max=1.0)
    assert abs(i) < abs(m0.ideal_currents_A(x)[0, 0].item())


def test_drift_changes_reads(dev40: DeviceConfig) -> None:
    m = CrossbarMacro(small_cfg(), dev40.replace(drift_nu_mean=0.05), seed=6)
    m.program_weights(torch.ones(64, 32))
    g0 = m.conductances()[0].clone()
    m.set_time(1e4)
    assert float(m.conductances()[0].mean()) < float(g0.mean()) * 0.7
    with pytest.raises(ValueError, match="t_s"):
        m.set_time(-1.0)


def test_non_binary_drive_rejected() -> None:
    m = CrossbarMacro(small_cfg(), seed=0)
    with pytest.raises(ValueError, match="binary"):
        m.read(torch.full((1, 64), 0.5), 0, 0)
    with pytest.raises(ValueError, match="group"):
        m.read(torch.zeros(1, 64), 4, 0)


def test_program_verify_port(ideal_dev: DeviceConfig) -> None:
    m = CrossbarMacro(small_cfg(), ideal_dev.replace(prog_noise_rel=0.1), seed=7)
    g_set = m.pulse(PulseOp.SET, 3, 4, 0)
    assert g_set == pytest.approx(ideal_dev.g_max_S, rel=0.5)
    code = m.verify(3, 4, 0)
    assert code == round(g_set / m.verify_lsb_S())
    g_reset = m.pulse(PulseOp.RESET, 3, 4, 0)
    assert g_reset < g_set
    # a second SET draws a new noise sample (the n-th pulse on the cell)
    assert m.pulse(PulseOp.SET, 3, 4, 0) != g_set
    with pytest.raises(ValueError, match="outside"):
        m.verify(64, 0, 0)


def test_form_random_array(dev40: DeviceConfig) -> None:
    m = CrossbarMacro(
        CrossbarConfig(rows=128, cols=64, n_adc=8),
        dev40.replace(p_stuck_lrs=0, p_stuck_hrs=0),
        seed=8,
    )
    formed = m.form_random()
    gp, gn = m.conductances()
    d = (gp - gn)[formed[0] & formed[1]]
    assert float(d.std()) == pytest.approx(6.352e-6, rel=0.08)


def test_plan_tiles_layout() -> None:
    cfg = CrossbarConfig(rows=64, cols=32, n_adc=8)
    plan = plan_tiles(150, 20, cfg)  # 3 row tiles, 1 column block of 3 groups
    assert [(p.row_tile, p.macro, p.group0, p.groups) for p in plan] == [
        (0, 0, 0, 3),
        (1, 1, 0, 3),
        (2, 2, 0, 3),
    ]
    plan = plan_tiles(100, 8, cfg)
    assert [(p.row_tile, p.macro, p.group0) for p in plan] == [(0, 0, 0), (1, 0, 1)]


def test_tiled_mvm_matches_software(ideal_dev: DeviceConfig) -> None:
    cfg = CrossbarConfig(rows=64, cols=32, n_adc=8, adc_bits=12, adc_full_scale_A=4e-4)
    w = torch.randn(150, 40, generator=torch.Generator().manual_seed(9), dtype=torch.float64)
    t = TiledCrossbar(w, cfg, ideal_dev.replace(n_levels=256), seed=9)
    assert len(t.macros) == 4  # 3 macros for the 32-wide block, one for the 8-wide block
    x = np.random.default_rng(0).integers(-8, 8, size=(20, 150))
    y = t.mvm(x, in_bits=4, signed=True) / t.codes_per_weight_unit()
    ref = x @ w.numpy()
    err = np.sqrt(np.mean((y - ref) ** 2)) / np.sqrt(np.mean(ref**2))
    assert err < 0.02, err  # 256 levels: quantisation error ~0.8 % of the weight spread
    # order of macros/keys: a repeat gives the same numbers
    assert np.array_equal(t.mvm(x, 4, True), t.mvm(x, 4, True))


def test_read_path_fast_accumulation_equals_controller_model() -> None:
    """The torch shift-add fast path equals golden.xbar_ctrl.accumulate on the kept codes."""
    from rramcim.golden.xbar_path import ReadPathConfig, run_read_path

    cfg = CrossbarConfig(rows=32, cols=32, n_adc=4, adc_bits=6, adc_full_scale_A=2e-5)
    m = CrossbarMacro(cfg, seed=11)
    m.program_weights(torch.randn(32, 32, generator=torch.Generator().manual_seed(11)))
    for rp in (
        ReadPathConfig(2, 3, 5, True),
        ReadPathConfig(1, 8, 1, False),
        ReadPathConfig(4, 2, 3, False),
    ):
        lo, hi = (
            (-(1 << (rp.in_bits - 1)), (1 << (rp.in_bits - 1)) - 1)
            if rp.signed
            else (0, (1 << rp.in_bits) - 1)
        )
        x = np.random.default_rng(rp.in_bits).integers(lo, hi + 1, size=(30, rp.tiles * 32))
        fast = run_read_path(m, x, rp, epoch=1, first_read=7)
        slow = run_read_path(m, x, rp, epoch=1, first_read=7, keep_codes=True)
        assert np.array_equal(fast.acc, slow.acc)
        assert fast.n_sat_flags == int(slow.sat_flags.sum()) and fast.n_clipped == int(
            slow.clipped.sum()
        )
        assert fast.n_clipped > 0  # the full scale is small enough to exercise clipping

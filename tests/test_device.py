"""Tests of rramcim.analog.device: the statistics are pinned to the configured values."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from rramcim.analog.device import (
    DeviceConfig,
    DeviceModel,
    as_device,
    cell_current_A,
    load_device,
)

N = 200_000


def cells(n: int = N) -> torch.Tensor:
    return torch.arange(n, dtype=torch.int64)


def test_preset_cites_every_field(dev40: DeviceConfig) -> None:
    assert dev40.name == "rram_40nm"
    for f, src in dev40.sources.items():
        assert src.startswith("["), f"{f} lacks a provenance tag"
    assert dev40.g_formed_mean_S == pytest.approx(34.05538e-6)
    assert dev40.v_read_V == 0.1 and dev40.t_read_s == 1e-8
    # differential sigma of two formed cells is the PRIME code's 6.352 uS
    assert dev40.g_formed_std_S * math.sqrt(2) == pytest.approx(6.352e-6, rel=1e-3)


@pytest.mark.parametrize(
    ("field", "value", "match"),
    [
        ("g_min_S", 1e-4, "g_min_S"),
        ("n_levels", 1, "n_levels"),
        ("p_stuck_hrs", -0.1, "p_stuck_hrs"),
        ("read_noise_S", float("nan"), "read_noise_S"),
        ("v_form_max_V", 1.0, "v_form_max_V"),
    ],
)
def test_out_of_range_config_is_a_clear_error(
    dev40: DeviceConfig, field: str, value: float, match: str
) -> None:
    with pytest.raises(ValueError, match=match):
        dev40.replace(**{field: value})


def test_as_device_takes_a_config_a_name_or_a_path(dev40: DeviceConfig) -> None:
    assert as_device(dev40) is dev40
    assert as_device("rram_40nm") == dev40
    from rramcim.analog.device import PARAMS_DIR

    assert as_device(PARAMS_DIR / "rram_180nm.json") == load_device("rram_180nm")
    with pytest.raises(FileNotFoundError, match="no_such_device"):
        as_device("no_such_device")


def test_bad_parameter_file_names_file_and_field(tmp_path, dev40: DeviceConfig) -> None:  # noqa: ANN001
    src = json.loads(
        (
            __import__("rramcim.analog.device", fromlist=["PARAMS_DIR"]).PARAMS_DIR
            / "rram_40nm.json"
        ).read_text()
    )
    src["params"]["g_max_S"]["value"] = -1.0
    p = tmp_path / "bad.json"
    p.write_text(json.dumps(src))
    with pytest.raises(ValueError, match=r"bad\.json.*g_max_S = -1\.0"):
        load_device(p)
    del src["params"]["g_max_S"]
    p.write_text(json.dumps(src))
    with pytest.raises(ValueError, match=r"bad\.json: missing parameter 'g_max_S'"):
        load_device(p)


def test_levels(dev40: DeviceConfig) -> None:
    lv = dev40.levels_S
    assert lv.numel() == dev40.n_levels
    assert float(lv[0]) == pytest.approx(dev40.g_min_S) and float(lv[-1]) == pytest.approx(
        dev40.g_max_S
    )
    assert bool((lv[1:] > lv[:-1]).all())


def test_programmed_level_sigma(dev40: DeviceConfig) -> None:
    cfg = dev40.replace(p_stuck_lrs=0.0, p_stuck_hrs=0.0, d2d_sigma_rel=0.0, prog_noise_rel=0.05)
    m = DeviceModel(cfg, seed=1)
    target = cfg.levels_S[8]
    g, n_clip = m.program(cells(), torch.full((N,), float(target), dtype=torch.float64))
    expect = math.sqrt((0.05 * float(target)) ** 2 + cfg.prog_noise_abs_S**2)
    assert n_clip == 0
    assert float(g.mean()) == pytest.approx(
        float(target), abs=4 * expect / math.sqrt(N) + cfg.g_step_S
    )
    assert float(g.std()) == pytest.approx(expect, rel=0.02)


def test_d2d_variation_sigma(dev40: DeviceConfig) -> None:
    m = DeviceModel(dev40.replace(d2d_sigma_rel=0.1), seed=2)
    s = m.d2d_scale(cells())
    assert float(s.mean()) == pytest.approx(1.0, abs=4 * 0.1 / math.sqrt(N))
    assert float(s.std()) == pytest.approx(0.1, rel=0.02)


def test_stuck_at_rates(dev40: DeviceConfig) -> None:
    cfg = dev40.replace(p_stuck_lrs=0.01, p_stuck_hrs=0.03)
    m = DeviceModel(cfg, seed=3)
    s = m.stuck(cells())
    for code, p in ((1, 0.01), (2, 0.03)):
        frac = float((s == code).double().mean())
        assert frac == pytest.approx(p, abs=4 * math.sqrt(p * (1 - p) / N))
    g, _ = m.program(cells(), torch.full((N,), 3e-5, dtype=torch.float64))
    assert bool((g[s == 1] == cfg.to_grid(torch.tensor(cfg.g_max_S, dtype=torch.float64))).all())
    assert bool((g[s == 2] == cfg.to_grid(torch.tensor(cfg.g_min_S, dtype=torch.float64))).all())


def test_drift_law(dev40: DeviceConfig) -> None:
    cfg = dev40.replace(p_stuck_lrs=0.0, p_stuck_hrs=0.0, drift_nu_mean=0.05, drift_nu_std=0.0)
    m = DeviceModel(cfg, seed=4)
    g0 = torch.full((1000,), 5e-5, dtype=torch.float64)
    for t in (0.5, 1.0, 10.0, 1e4):
        g = m.drift(cells(1000), g0, t)
        expect = 5e-5 * (max(t, 1.0) / 1.0) ** -0.05
        assert float((g - expect).abs().max()) <= cfg.g_step_S / 2 + 1e-15
    cfg2 = cfg.replace(drift_nu_std=0.01)
    g = DeviceModel(cfg2, seed=4).drift(cells(), torch.full((N,), 5e-5, dtype=torch.float64), 1e3)
    nu = -torch.log(g / 5e-5) / math.log(1e3)
    assert float(nu.mean()) == pytest.approx(0.05, abs=2e-4)
    assert float(nu.std()) == pytest.approx(0.01, rel=0.05)


def test_forming_distribution(dev40: DeviceConfig) -> None:
    cfg = dev40.replace(p_stuck_lrs=0.0, p_stuck_hrs=0.0, v_form_max_V=3.35)
    m = DeviceModel(cfg, seed=5)
    g, formed, v_form = m.form(cells())
    frac = float(formed.double().mean())
    assert frac == pytest.approx(cfg.formed_fraction, abs=4 * math.sqrt(0.25 / N))
    gf = g[formed]
    assert float(gf.mean()) == pytest.approx(cfg.g_formed_mean_S, rel=0.01)
    assert float(gf.std()) == pytest.approx(cfg.g_formed_std_S, rel=0.03)
    gp = g[~formed]
    assert float(gp.median()) == pytest.approx(cfg.g_pristine_S, rel=0.05)
    vf = v_form[formed]
    assert float(vf.min()) >= cfg.v_sweep_start_V and float(vf.max()) <= cfg.v_form_max_V + 1e-9
    steps = (vf - cfg.v_sweep_start_V) / cfg.v_sweep_step_V
    assert float((steps - steps.round()).abs().max()) < 1e-6


def test_random_pairs_have_paper_sigma(dev40: DeviceConfig) -> None:
    """Fully formed array: G+ - G- has the PRIME code's sigma (6.352 uS) and zero mean."""
    cfg = dev40.replace(p_stuck_lrs=0.0, p_stuck_hrs=0.0)
    g, formed, _ = DeviceModel(cfg, seed=6).form(cells(2 * N))
    assert float(formed.double().mean()) > 0.99
    d = (g[:N] - g[N:])[formed[:N] & formed[N:]]
    assert float(d.mean()) == pytest.approx(0.0, abs=4 * 6.352e-6 / math.sqrt(N))
    assert float(d.std()) == pytest.approx(6.352e-6, rel=0.03)


def test_keyed_draws_are_order_independent(dev40: DeviceConfig) -> None:
    m = DeviceModel(dev40, seed=9)
    c = cells(5000)
    perm = torch.randperm(5000, generator=torch.Generator().manual_seed(0))
    a, _, _ = m.form(c)
    b, _, _ = m.form(c[perm])
    assert torch.equal(a[perm], b)


def test_cell_current_linear_limit_and_nonlinearity(dev40: DeviceConfig) -> None:
    g = np.array([1e-6, 3e-5, 1e-4])
    assert np.allclose(cell_current_A(g, 1e-4, dev40.v_nl_V), g * 1e-4, rtol=1e-6)
    i = cell_current_A(g, dev40.v_read_V, dev40.v_nl_V)
    assert np.allclose(i / (g * dev40.v_read_V), dev40.read_gain)
    assert dev40.read_gain == pytest.approx(math.sinh(0.4) / 0.4)


def test_split_levels_sum_to_the_finer_grid(dev40: DeviceConfig) -> None:
    """n parallel cells: levels on the device grid, at most one level apart, and their sum
    is the target's nearest point of the n-times finer grid (clipped to the window)."""
    m = DeviceModel(dev40, seed=0)
    c = dev40
    step = (c.g_max_S - c.g_min_S) / (c.n_levels - 1)
    tgt = torch.linspace(c.g_min_S - 5e-6, c.g_max_S + 5e-6, 997, dtype=torch.float64)
    assert torch.equal(m.split_levels(tgt, 1)[0], m.quantize_levels(tgt))
    for n in (2, 7, 64):
        g = m.split_levels(tgt, n)
        assert g.shape == (n, tgt.numel())
        idx = (g - c.g_min_S) / step
        assert torch.allclose(idx, torch.round(idx), atol=1e-6)
        assert float(idx.min()) > -1e-6 and float(idx.max()) < c.n_levels - 1 + 1e-6
        assert float((idx.max(dim=0).values - idx.min(dim=0).values).max()) <= 1 + 1e-6
        want = torch.round((tgt.clamp(c.g_min_S, c.g_max_S) - c.g_min_S) / step * n)
        assert torch.allclose(idx.sum(dim=0), want, atol=1e-5)
    with pytest.raises(ValueError, match="split_levels: n_cells = 0"):
        m.split_levels(tgt, 0)

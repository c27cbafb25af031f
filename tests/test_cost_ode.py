"""Tests of the ODE-solve projection (rramcim.cost.ode)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from rramcim.cost import A100_FP32, DigitalBaseline
from rramcim.cost.ode import (
    PAPER_FIGURES,
    RRAM_180NM_LOOP,
    AnalogConstants,
    AnalogSolve,
    DigitalSolve,
    Integrator,
    MlpSpec,
    analog_cost,
    conductance_sum_S,
    diffusion_projection,
    digital_cost,
    project,
    render_table,
    twin_projection,
)

REL = 1e-12
PARAMS = Path(__file__).resolve().parents[1] / "models" / "params" / "rram_180nm.json"


@pytest.fixture
def toy_constants() -> AnalogConstants:
    """Round numbers so that every term can be checked by hand."""
    return AnalogConstants(
        name="toy",
        g_min_S=1e-6,
        g_max_S=11e-6,
        v_row_rms_V=0.1,
        p_integrator_W=1e-5,
        p_tia_W=2e-5,
        tias_per_column=1.0,
        p_activation_W=4e-6,
        p_summing_W=3e-5,
        dac_J=1e-13,
        adc_J=2e-12,
        t_adc_conv_s=1e-9,
    )


@pytest.fixture
def toy_mlp() -> MlpSpec:
    """One layer 1 -> 1: two differential pairs (weight and bias)."""
    return MlpSpec(name="toy", widths=(1, 1), n_state=1, weight_fill=0.5)


@pytest.fixture
def toy_baseline() -> DigitalBaseline:
    return DigitalBaseline(name="toy", throughput_flops=1e12, power_W=100.0, flops_per_mac=1)


@pytest.fixture(scope="module")
def defaults() -> list:
    return [
        twin_projection("hp"),
        twin_projection("l96"),
        diffusion_projection("ring"),
        diffusion_projection("hku"),
    ]


# --------------------------------------------------------------- hand-checked toy


def test_toy_analog_by_hand(toy_mlp: MlpSpec, toy_constants: AnalogConstants) -> None:
    solve = AnalogSolve(horizon_units=2.0, t_unit_s=1e-3, n_ticks=200, setup_ticks=2, adc_samples=3)
    a = analog_cost(toy_mlp, solve, toy_constants)
    # time: 2 set-up ticks of 10 us, 2 ms integration, one 1 ns conversion
    assert solve.t_tick_s == pytest.approx(1e-5, rel=REL)
    assert a.t_setup_s == pytest.approx(2e-5, rel=REL)
    assert a.t_integrate_s == pytest.approx(2e-3, rel=REL)
    assert a.t_readout_s == pytest.approx(1e-9, rel=REL)
    t = 2e-3 + 2e-5 + 1e-9
    assert a.total_s == pytest.approx(t, rel=REL)
    # crossbar: 2 pairs x (2 x 1 uS + 10 uS x 0.5) = 14 uS; x (0.1 V)^2 = 0.14 uW
    assert a.n_cells == 4
    assert a.g_sum_S == pytest.approx(14e-6, rel=REL)
    assert a.crossbar_power_W == pytest.approx(1.4e-7, rel=REL)
    assert a.crossbar_J == pytest.approx(1.4e-7 * t, rel=REL)
    # stages: 1 integrator, 1 TIA, 0 activation, 1 loop stage
    assert a.integrator_J == pytest.approx(1e-5 * t, rel=REL)
    assert a.tia_J == pytest.approx(2e-5 * t, rel=REL)
    assert a.activation_J == 0.0
    assert a.summing_J == pytest.approx(3e-5 * t, rel=REL)
    # DAC: 2 n_state + 0 + 2 + 0 = 4 channels x (200 + 2) ticks; ADC: 3 samples x 1 state
    assert a.dac_conversions == 4 * 202
    assert a.dac_J == pytest.approx(808 * 1e-13, rel=REL)
    assert a.adc_conversions == 3
    assert a.adc_J == pytest.approx(6e-12, rel=REL)
    expect = (1.4e-7 + 1e-5 + 2e-5 + 3e-5) * t + 808e-13 + 6e-12
    assert a.total_J == pytest.approx(expect, rel=REL)
    assert a.power_W == pytest.approx(expect / t, rel=REL)


def test_toy_analog_hidden_layer_stages(toy_constants: AnalogConstants) -> None:
    mlp = MlpSpec(name="h", widths=(2, 3, 2), n_state=2, weight_fill=0.0)
    solve = AnalogSolve(horizon_units=1.0, t_unit_s=1.0, n_ticks=1, setup_ticks=0, adc_samples=0)
    a = analog_cost(mlp, solve, toy_constants.replace(tias_per_column=2.0))
    assert a.n_cells == 2 * ((2 + 1) * 3 + (3 + 1) * 2)
    assert a.g_sum_S == pytest.approx(a.n_cells * 1e-6, rel=REL)  # fill 0: all at g_min
    assert (a.n_integrators, a.n_tias, a.n_activations, a.n_summing) == (2, 10.0, 3, 2)
    assert a.total_s == 1.0  # no set-up, no read-out
    assert a.activation_J == pytest.approx(3 * 4e-6, rel=REL)
    assert a.tia_J == pytest.approx(10 * 2e-5, rel=REL)


def test_parallel_pairs_scale_cells_and_crossbar_power(toy_constants: AnalogConstants) -> None:
    """n parallel pairs per weight: n times the cells, conductance and crossbar energy; the
    op-amp stages and converters are unchanged."""
    solve = AnalogSolve(horizon_units=1.0, t_unit_s=1e-3, n_ticks=100, setup_ticks=2, adc_samples=2)
    one, eight = (
        analog_cost(
            MlpSpec(name="p", widths=(1, 4, 1), n_state=1, n_parallel=n), solve, toy_constants
        )
        for n in (1, 8)
    )
    assert eight.n_cells == 8 * one.n_cells == 8 * 2 * (2 * 4 + 5 * 1)
    assert eight.g_sum_S == pytest.approx(8 * one.g_sum_S, rel=REL)
    assert eight.crossbar_J == pytest.approx(8 * one.crossbar_J, rel=REL)
    for f in ("tia_J", "integrator_J", "activation_J", "dac_J", "adc_J", "total_s"):
        assert getattr(eight, f) == getattr(one, f)
    hp8 = twin_projection("hp", n_parallel=8)
    assert hp8.analog.n_cells == 8 * twin_projection("hp").analog.n_cells
    assert any("8 parallel pairs" in a.source for a in hp8.assumptions)


def test_toy_digital_by_hand(toy_mlp: MlpSpec, toy_baseline: DigitalBaseline) -> None:
    d = digital_cost(
        toy_mlp, DigitalSolve(n_steps=100, method="euler", t_kernel_s=1e-6), toy_baseline
    )
    # 100 MACs; per step 1 bias add + 2 update FLOPs
    assert d.macs == 100
    assert d.elementwise_flops == 300
    assert d.mac_J == pytest.approx(100 * 1e-10, rel=REL)
    assert d.elementwise_J == pytest.approx(300 * 1e-10, rel=REL)
    assert d.t_compute_s == pytest.approx(400 / 1e12, rel=REL)
    # 1 layer kernel + 1 update kernel per step
    assert d.kernels == 200
    assert d.t_floor_s == pytest.approx(2e-4, rel=REL)
    assert d.total_s == pytest.approx(2e-4, rel=REL)
    assert d.latency_bound
    assert d.total_J == pytest.approx(4e-8, rel=REL)


def test_toy_digital_rk4_and_options(toy_mlp: MlpSpec, toy_baseline: DigitalBaseline) -> None:
    d = digital_cost(
        toy_mlp,
        DigitalSolve(n_steps=10, method=Integrator.RK4, t_kernel_s=0.0, count_elementwise=False),
        toy_baseline,
    )
    assert d.macs == 40  # 4 evaluations per step
    assert d.elementwise_flops == 0.0
    assert d.kernels == 10 * (4 * 1 + 4)
    assert not d.latency_bound
    assert d.total_s == pytest.approx(40e-12, rel=REL)
    s = digital_cost(
        toy_mlp,
        DigitalSolve(n_steps=10, method="rk4", t_kernel_s=1e-6, p_static_W=5.0),
        toy_baseline,
    )
    assert s.elementwise_flops == 10 * (4 * 1 + 13)
    assert s.static_J == pytest.approx(5.0 * 80e-6, rel=REL)


def test_embedding_counts() -> None:
    mlp = MlpSpec(
        name="e",
        widths=(2, 14, 14, 2),
        n_state=2,
        n_embed=14,
        activation="relu",
        extra_flops_per_eval=5.0,
    )
    assert mlp.macs_per_eval == 2 * 14 + 14 * 14 + 14 * 2
    assert mlp.elementwise_flops_per_eval == (14 + 14 + 2) + 28 + 28 + 5
    assert mlp.kernels_per_eval == 4
    assert mlp.solver_dac_channels == 2 * 2 + 0 + 2 + 14


def test_conductance_sum_matches_fill_average() -> None:
    rng = np.random.default_rng(0)
    W = [rng.normal(size=(4, 3)), rng.normal(size=(2, 4))]
    b = [rng.normal(size=4), rng.normal(size=2)]
    g = conductance_sum_S(W, b, 1e-6, 5e-5)
    by_hand = 0.0
    for w, bb in zip(W, b, strict=True):
        m = np.abs(np.concatenate([w, bb[:, None]], axis=1))
        by_hand += np.sum(2e-6 + 4.9e-5 * m / m.max())
    assert g == pytest.approx(by_hand, rel=1e-12)
    # same number from the averaged model when each layer has the same fill
    w1 = np.ones((1, 1))
    assert conductance_sum_S([w1], [np.ones(1)], 1e-6, 5e-5) == pytest.approx(2 * 51e-6)


# ------------------------------------------------------------------- scaling laws


def test_analog_energy_linear_in_horizon() -> None:
    e = [twin_projection("hp", horizon_units=h).analog.total_J for h in (2.0, 4.0, 6.0, 8.0)]
    d = np.diff(e)
    assert d == pytest.approx([d[0]] * 3, rel=1e-9)  # affine: a constant set-up offset
    # and proportional without set-up ticks
    mlp = MlpSpec(name="p", widths=(2, 8, 2), n_state=2)
    e1, e3 = (
        analog_cost(
            mlp,
            AnalogSolve(
                horizon_units=h, t_unit_s=1e-3, n_ticks=int(100 * h), setup_ticks=0, adc_samples=0
            ),
            RRAM_180NM_LOOP,
        ).total_J
        for h in (1.0, 3.0)
    )
    assert e3 == pytest.approx(3 * e1, rel=1e-12)


def test_digital_time_and_energy_linear_in_steps() -> None:
    t = [diffusion_projection("ring", n_steps=n).digital for n in (1000, 2000, 4000)]
    assert t[1].total_s == pytest.approx(2 * t[0].total_s, rel=1e-12)
    assert t[2].total_s == pytest.approx(4 * t[0].total_s, rel=1e-12)
    assert t[2].total_J == pytest.approx(4 * t[0].total_J, rel=1e-12)
    c = [twin_projection("l96", n_steps=n, t_kernel_s=0.0).digital.total_s for n in (500, 1500)]
    assert c[1] == pytest.approx(3 * c[0], rel=1e-12)  # compute-bound branch too


def test_time_scaling_override() -> None:
    base = twin_projection("l96")
    slow = twin_projection("l96", t_unit_s=2e-3)
    assert slow.analog.t_integrate_s == pytest.approx(2 * base.analog.t_integrate_s, rel=REL)
    assert slow.digital.total_s == base.digital.total_s
    assert slow.speed_ratio < base.speed_ratio


# ---------------------------------------------------------------- default workloads


def test_default_workloads(defaults: list) -> None:
    hp, l96, ring, hku = defaults
    assert hp.mlp.widths == (1, 32, 32, 1) and hp.mlp.n_input == 0
    assert twin_projection("hp", input_mode="concat").mlp.widths == (2, 32, 32, 1)
    assert l96.mlp.widths == (6, 64, 64, 6)
    assert ring.mlp.widths == hku.mlp.widths == (2, 14, 14, 2)
    # twins: 1 ms per unit, 10 us ticks, RK4 at dt 0.01
    assert hp.analog_solve.t_tick_s == pytest.approx(1e-5, rel=1e-9)
    assert hp.analog_solve.n_ticks == 800 and hp.digital_solve.n_steps == 800
    assert hp.digital_solve.method is Integrator.RK4
    assert l96.analog_solve.horizon_units == pytest.approx(15.0 / 0.9391782154266168)
    # diffusion: 240 ticks, Euler 10 000 / 5 000
    assert ring.analog_solve.n_ticks == hku.analog_solve.n_ticks == 240
    assert ring.analog_solve.t_tick_s == pytest.approx(1e-5, rel=1e-9)
    assert (ring.digital_solve.n_steps, hku.digital_solve.n_steps) == (10_000, 5_000)
    assert ring.digital_solve.method is Integrator.EULER
    assert hp.baseline == A100_FP32
    for p in defaults:
        for r in (p.speed_ratio, p.energy_ratio):
            assert math.isfinite(r) and r > 0
        assert p.analog.total_J > 0 and p.digital.total_J > 0
        assert p.paper == PAPER_FIGURES[p.name]


def test_constants_match_device_preset() -> None:
    params = json.loads(PARAMS.read_text())["params"]
    assert RRAM_180NM_LOOP.g_min_S == params["g_min_S"]["value"]
    assert RRAM_180NM_LOOP.g_max_S == params["g_max_S"]["value"]
    assert RRAM_180NM_LOOP.dac_J == pytest.approx(227e-15, rel=REL)
    assert RRAM_180NM_LOOP.adc_J == pytest.approx(3.1e-3 / 1.2e9, rel=REL)
    assert RRAM_180NM_LOOP.p_tia_W == pytest.approx(73.75e-6, rel=REL)
    assert RRAM_180NM_LOOP.p_activation_W == pytest.approx(0.81e-6, rel=REL)
    for f in ("g_min_S", "p_tia_W", "dac_J", "adc_J", "v_row_rms_V"):
        assert RRAM_180NM_LOOP.sources[f].startswith("[")
    assert "227 fJ" in RRAM_180NM_LOOP.table()


def test_paper_figures_pinned() -> None:
    want = {
        "twin-hp": ((4.2, 41.4), (166.5, 499.0)),
        "twin-l96": ((12.6, 189.7), (369.3, 673.9)),
        "diffusion-ring": ((64.8, 5.2), (69.0, 1 / (1 - 0.315))),
        "diffusion-hku": ((156.5, 4.1), (116.5, 1 / (1 - 0.52))),
    }
    for k, figs in want.items():
        got = PAPER_FIGURES[k]
        assert [f.version for f in got] == ["arXiv", "journal"]
        for f, (s, e) in zip(got, figs, strict=True):
            assert f.speed_ratio == s and f.energy_ratio == pytest.approx(e, rel=REL)
            assert "PAPERS.md" in f.provenance
    assert PAPER_FIGURES["diffusion-ring"][1].energy_reduction_pct == 31.5
    assert PAPER_FIGURES["diffusion-hku"][1].energy_reduction_pct == 52.0


# ----------------------------------------------------------------------- rendering


@pytest.mark.parametrize("fmt", ["text", "markdown"])
def test_table_lists_assumptions_and_papers(defaults: list, fmt: str) -> None:
    out = render_table(defaults, fmt=fmt)
    for p in defaults:
        assert p.name in out
        for a in p.assumptions:
            assert a.name in out and a.source in out
        for f in p.paper:
            assert f.provenance in out
    for fig in (
        "4.2x",
        "41.4x",
        "166.5x",
        "499x",
        "12.6x",
        "189.7x",
        "369.3x",
        "673.9x",
        "64.8x",
        "156.5x",
        "5.2x",
        "4.1x",
        "69x",
        "116.5x",
        "31.5 %",
        "52 %",
    ):
        assert fig in out, fig
    names = {a.name for a in defaults[0].assumptions}
    for key in (
        "p_integrator_W",
        "p_tia_W",
        "p_activation_W",
        "p_summing_W",
        "dac_J",
        "adc_J",
        "t_unit_s",
        "horizon_units",
        "n_steps",
        "t_kernel_s",
        "v_row_rms_V",
        "weight_fill",
        "baseline energy",
    ):
        assert key in names
    assert all(a.source for p in defaults for a in p.assumptions)
    if fmt == "markdown":
        assert "| workload |" in out and "### Assumptions" in out
    assert defaults[0].table(fmt) == render_table([defaults[0]], fmt)


# ---------------------------------------------------------------------- bad inputs


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"horizon_units": 0.0}, "horizon_units"),
        ({"horizon_units": -1.0}, "horizon_units"),
        ({"horizon_units": math.nan}, "horizon_units"),
        ({"t_unit_s": 0.0}, "t_unit_s"),
        ({"n_ticks": 0}, "n_ticks"),
        ({"n_ticks": 2.5}, "n_ticks"),
        ({"setup_ticks": -1}, "setup_ticks"),
        ({"adc_samples": -1}, "adc_samples"),
        ({"dac_channels": -2}, "dac_channels"),
    ],
)
def test_bad_analog_solve(kwargs: dict, field: str) -> None:
    args = {"horizon_units": 1.0, "t_unit_s": 1e-3, "n_ticks": 10, **kwargs}
    with pytest.raises(ValueError, match=f"AnalogSolve.{field}"):
        AnalogSolve(**args)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"n_steps": 0}, "n_steps"),
        ({"method": "midpoint"}, "method"),
        ({"t_kernel_s": -1e-6}, "t_kernel_s"),
        ({"p_static_W": math.inf}, "p_static_W"),
        ({"count_elementwise": 1}, "count_elementwise"),
    ],
)
def test_bad_digital_solve(kwargs: dict, field: str) -> None:
    with pytest.raises(ValueError, match=f"DigitalSolve.{field}"):
        DigitalSolve(**{"n_steps": 10, **kwargs})


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"widths": (1,)}, "widths"),
        ({"widths": (1, 0, 1)}, r"widths\[1\]"),
        ({"widths": (2, 4, 1)}, r"widths\[0\]"),
        ({"widths": (1, 4, 2)}, r"widths\[-1\]"),
        ({"n_state": 0}, "n_state"),
        ({"n_embed": 3}, "n_embed"),
        ({"activation": "gelu"}, "activation"),
        ({"weight_fill": 1.5}, "weight_fill"),
        ({"extra_flops_per_eval": -1.0}, "extra_flops_per_eval"),
        ({"n_parallel": 0}, "n_parallel"),
    ],
)
def test_bad_mlp(kwargs: dict, field: str) -> None:
    args = {"name": "m", "widths": (1, 4, 1), "n_state": 1, **kwargs}
    with pytest.raises(ValueError, match=f"MlpSpec.{field}"):
        MlpSpec(**args)


def test_bad_constants_and_calls(toy_mlp: MlpSpec) -> None:
    with pytest.raises(ValueError, match="AnalogConstants.p_tia_W"):
        RRAM_180NM_LOOP.replace(p_tia_W=-1.0)
    with pytest.raises(ValueError, match="AnalogConstants.g_max_S"):
        RRAM_180NM_LOOP.replace(g_max_S=1e-7)
    with pytest.raises(ValueError, match="AnalogConstants.tias_per_column"):
        RRAM_180NM_LOOP.replace(tias_per_column=0.5)
    with pytest.raises(ValueError, match="AnalogConstants.sources"):
        RRAM_180NM_LOOP.replace(sources={"nope": "x"})
    with pytest.raises(ValueError, match="twin_projection.kind"):
        twin_projection("lorenz")
    with pytest.raises(ValueError, match="twin_projection.input_mode"):
        twin_projection("hp", input_mode="sum")
    with pytest.raises(ValueError, match="twin_projection.dt_model"):
        twin_projection("hp", dt_model=0.0)
    with pytest.raises(ValueError, match="twin_projection.horizon_units"):
        twin_projection("hp", horizon_units=-8.0)
    with pytest.raises(ValueError, match="diffusion_projection.kind"):
        diffusion_projection("mnist")
    with pytest.raises(ValueError, match="DigitalSolve.n_steps"):
        diffusion_projection("ring", n_steps=0)
    with pytest.raises(ValueError, match="AnalogSolve.n_ticks"):
        diffusion_projection("hku", n_ticks=0)
    with pytest.raises(ValueError, match="render_table.fmt"):
        render_table([twin_projection("hp")], fmt="html")
    with pytest.raises(ValueError, match="render_table.projections"):
        render_table([])
    with pytest.raises(ValueError, match="project.baseline"):
        project(
            toy_mlp,
            AnalogSolve(horizon_units=1.0, t_unit_s=1.0, n_ticks=1),
            DigitalSolve(n_steps=1),
            baseline="a100",  # type: ignore[arg-type]
        )
    with pytest.raises(ValueError, match="conductance_sum_S.g_max_S"):
        conductance_sum_S([np.ones((1, 1))], [np.ones(1)], 1e-6, 1e-7)
    with pytest.raises(ValueError, match=r"conductance_sum_S.layers_W\[0\]"):
        conductance_sum_S([np.full((1, 1), np.nan)], [np.ones(1)], 1e-6, 5e-5)

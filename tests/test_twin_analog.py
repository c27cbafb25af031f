"""Tests of the neural-ODE twins on the closed-loop analogue solver (rramcim.apps.twin.analog)."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import torch

from rramcim.analog.device import DeviceConfig, load_device
from rramcim.analog.ode import DEFAULT_DEVICE, OdeSolverConfig, Phase
from rramcim.apps.twin.analog import (
    N_LOAD_TICKS,
    N_RESET_TICKS,
    T_UNIT_S,
    calibrate_trim,
    evaluate_hp_analog,
    evaluate_l96_analog,
    hp_mapping,
    hp_parallel_sweep,
    hp_reference_states,
    hp_solver,
    l96_mapping,
    l96_solver,
    map_twin,
    mapped_field,
    run_hp_analog,
    run_twin,
    twin_tick_codes,
)
from rramcim.apps.twin.evaluate import l96_test_starts, predict_hp, predict_l96
from rramcim.apps.twin.hp import TRAIN_DRIVES, UNSEEN_DRIVES, SineDrive
from rramcim.apps.twin.node import (
    InputMode,
    MLPVectorField,
    NodeConfig,
    load_checkpoint,
    vector_field,
)
from rramcim.apps.twin.train import HP_ASSET, L96_ASSET, HPTwinConfig, L96TwinConfig

# measured with the shipped checkpoints and the default preset (rram_180nm), seed 0
HP_SOFTWARE_EXTRAP = 0.0020  # the software twin's extrapolation NRMSE (test_twin.py)


@pytest.fixture(scope="module")
def ideal() -> DeviceConfig:
    """The default preset with noise off, 4096 levels and (almost) linear cells."""
    return load_device(DEFAULT_DEVICE).replace(
        prog_noise_abs_S=0.0, read_noise_S=0.0, n_levels=4096, v_nl_V=100.0
    )


@pytest.fixture(scope="module")
def hp_twin() -> tuple:
    fld, info = load_checkpoint(HP_ASSET)
    return fld, HPTwinConfig.from_json(info["config"])


@pytest.fixture(scope="module")
def l96_twin() -> tuple:
    fld, info = load_checkpoint(L96_ASSET)
    return fld, L96TwinConfig.from_json(info["config"]), info


def _software(fld, h: torch.Tensor, u: torch.Tensor | None) -> torch.Tensor:  # noqa: ANN001
    """The twin's field in float64 (its float32 weights, exactly widened)."""
    with torch.no_grad():
        Ws = [w.double() for w in fld.weights()]
        bs = [b.double() for b in fld.biases()]
        return vector_field(h, u, Ws, bs, fld.scales, fld.cfg.activation, fld.cfg.input_mode)


# ------------------------------------------------------------------------------ mapping
def test_hp_mapping_fold_and_scaling_exact(hp_twin: tuple) -> None:
    """The folded layers with the chosen voltages and RC compute the twin's field exactly;
    the affine twin's drive rides on coef_b (no input channel)."""
    fld, cfg = hp_twin
    assert fld.cfg.input_mode is InputMode.AFFINE
    mp = hp_mapping(fld, cfg)
    g = torch.Generator().manual_seed(0)
    h = torch.rand(64, 1, generator=g, dtype=torch.float64)
    u = (torch.rand(64, 1, generator=g, dtype=torch.float64) - 0.5) * 6.8
    want = _software(fld, h, u)
    got = mapped_field(mp)(h, u)
    assert float((got - want).abs().max()) <= 1e-13 * float(want.abs().max())
    c = mp.cfg
    # documented choices: 1 ms per model second, one 10 us tick per 0.01 s step
    assert mp.t_unit_s == T_UNIT_S == 1e-3
    assert c.t_tick_s == pytest.approx(cfg.dt_s * 1e-3) and mp.ticks_per_step == 1
    assert mp.affine and mp.b_code is None and c.n_input == 0 and mp.n_input_model == 1
    assert [w.shape[1] for w in mp.layers_W] == [1, 32, 32]  # the MLP sees the state only
    # training range -> +-0.7 of the rails; the largest training drive -> b = 0.9 of the DAC
    lo = fld.scales.h_offset[0] - fld.scales.h_scale[0]
    assert mp.h_to_V(np.array([[lo]]))[0, 0] == pytest.approx(-0.7 * c.v_rail_V)
    assert fld.scales.u_scale[0] * mp.u_per_input_V[0] == pytest.approx(0.9 * c.v_dac_fs_V)
    assert mp.V_to_h(mp.h_to_V(np.array([[0.3]])))[0, 0] == pytest.approx(0.3)
    assert 1e-5 < c.tau_int_s < 1e-3
    groups = [ch["group"] for ch in mp.channels()]
    assert groups == ["init", "coef_a", "coef_b", "noise"] and len(groups) == c.n_channels
    assert "drive" in mp.channels()[2]["signal"]


def test_concat_mapping_still_exact() -> None:
    """A concat field (state and drive into the MLP) keeps the drive on the input channel and
    a constant coef_b code of 1 V."""
    scales = load_checkpoint(HP_ASSET)[0].scales
    fld = MLPVectorField(NodeConfig(1, 1, (8, 8)), scales, torch.Generator().manual_seed(1))
    href = np.linspace(0.1, 0.98, 9)[:, None]
    mp = map_twin(fld, href, 0.01)
    assert not mp.affine and mp.cfg.n_input == 1 and float(mp.cfg.dac_volts(mp.b_code)) == 1.0
    h = torch.linspace(0.1, 0.98, 16, dtype=torch.float64)[:, None]
    u = torch.linspace(-3.0, 3.0, 16, dtype=torch.float64)[:, None]
    want = _software(fld, h, u)
    assert float((mapped_field(mp)(h, u) - want).abs().max()) <= 1e-13 * float(want.abs().max())
    plan = twin_tick_codes(mp, np.array([0.1]), 3, lambda t: np.ones((t.size, 1, 1)))
    lay = mp.cfg.channel_layout()
    assert plan.codes.shape == (5, mp.cfg.n_channels)  # one run: no batch axis
    assert np.all(plan.codes[:, lay["coef_b"]] == mp.b_code)
    want_u = mp.cfg.dac_codes(np.array([mp.u_per_input_V[0]]))[0][0]
    assert np.all(plan.codes[2:, lay["input"]] == want_u)
    assert np.all(plan.codes[:2, lay["input"]] == 1 << (mp.cfg.dac_bits - 1))


def test_hp_tick_codes_affine(hp_twin: tuple) -> None:
    """The per-tick DAC codes of an affine run: init held, drive (tick midpoint) on coef_b,
    the trim on coef_a / noise in proportion to it, mid-scale elsewhere; RESET, LOAD,
    INTEGRATE counts and the sample ticks that run_twin uses."""
    fld, cfg = hp_twin
    mp = hp_mapping(fld, cfg, ticks_per_step=2)
    c, lay = mp.cfg, mp.cfg.channel_layout()
    d = SineDrive(2.5, 1.0)
    u_fn = lambda t: np.asarray(d(t))[:, None, None]  # noqa: E731
    plan = twin_tick_codes(mp, np.array([[0.1]]), 5, u_fn)
    assert (plan.n_reset, plan.n_load, plan.n_integrate) == (N_RESET_TICKS, N_LOAD_TICKS, 10)
    assert plan.n_ticks == 12 and plan.codes.shape == (12, 1, c.n_channels)
    assert (
        plan.phases.tolist() == [Phase.RESET.value, Phase.LOAD.value] + [Phase.INTEGRATE.value] * 10
    )
    assert plan.sample_ticks.tolist() == [1, 3, 5, 7, 9, 11]
    mid = 1 << (c.dac_bits - 1)
    init = c.dac_codes(mp.h_to_V(np.array([[0.1]])))[0][0, 0]
    assert np.all(plan.codes[:, 0, lay["init"]] == init)
    t_mid = (np.arange(10) + 0.5) * 0.005
    want_b = c.dac_codes(d(t_mid) * mp.u_per_input_V[0])[0]
    assert np.array_equal(plan.codes[2:, 0, lay["coef_b"]][:, 0], want_b)
    assert np.all(plan.codes[:2, 0, lay["coef_b"]] == mid)
    assert np.all(plan.codes[:, 0, lay["coef_a"]] == mid)  # untrimmed: a = 0, n = 0
    assert np.all(plan.codes[:, 0, lay["noise"]] == mid) and plan.dac_clips == 0
    trimmed = dataclasses.replace(mp, trim_a=0.02, trim_n_V=(-0.05,))
    pt = twin_tick_codes(trimmed, np.array([[0.1]]), 5, u_fn)
    b = c.dac_volts(want_b) * c.coef_b_gain_per_V
    assert np.array_equal(pt.codes[2:, 0, lay["coef_a"]][:, 0], c.dac_codes(0.02 * b)[0])
    assert np.array_equal(pt.codes[2:, 0, lay["noise"]][:, 0], c.dac_codes(-0.05 * b)[0])
    assert np.all(pt.codes[:2, 0, lay["coef_a"]] == mid)


def test_l96_mapping_fold_exact(l96_twin: tuple) -> None:
    fld, cfg, _ = l96_twin
    mp = l96_mapping(fld, cfg)
    h = torch.as_tensor(l96_test_starts(cfg, 3))
    want = _software(fld, h, None)
    got = mapped_field(mp)(h, None)
    assert float((got - want).abs().max()) <= 1e-12 * float(want.abs().max())
    assert mp.cfg.n_input == 0 and mp.cfg.n_state == 6
    # the attractor (reference trajectory) uses 0.7 of the rails
    assert 0.15 < mp.x_per_h_V < 0.17


def test_map_twin_errors(hp_twin: tuple) -> None:
    fld, cfg = hp_twin
    href = np.array([[0.1], [0.9]])
    with pytest.raises(ValueError, match="ticks_per_step = 0"):
        map_twin(fld, href, 0.01, ticks_per_step=0)
    with pytest.raises(ValueError, match="state_headroom = 1.5"):
        map_twin(fld, href, 0.01, state_headroom=1.5)
    with pytest.raises(ValueError, match="u_ref_max"):
        map_twin(fld, href, 0.01, u_ref_max=[1.0, 2.0])
    with pytest.raises(ValueError, match="dt_model = -1"):
        map_twin(fld, href, -1)
    solver, mp, _, _ = hp_solver()
    with pytest.raises(ValueError, match="u_fn is None"):
        run_twin(solver, mp, np.array([[0.1]]), 3)


# ------------------------------------------------------------------------------ HP runs
def test_hp_pipeline_matches_software_with_programmed_weights(ideal: DeviceConfig) -> None:
    """Ideal cells: the analogue loop (DAC ZOH, RK4, ADC) follows the software neural ODE run
    with the programmed weights to a few ADC steps; the ZOH costs little."""
    drives = [TRAIN_DRIVES[1], UNSEEN_DRIVES[0]]
    t = np.arange(301) * 0.01
    errs = []
    for tps in (1, 2):
        solver, mp, _, _ = hp_solver(device=ideal, ticks_per_step=tps)
        Wp, bp = solver.programmed_weights()
        ref = predict_hp(mapped_field(mp, Wp, bp), drives, t, 0.1)
        an = run_hp_analog(solver, mp, drives, 300, 0.1)
        errs.append(float(np.max(np.abs(an - ref))))
        assert solver.stats.state_rail_clips == solver.stats.adc_clips == 0
    lsb_h = 1.0 / mp.x_per_h_V * mp.cfg.adc_lsb_V
    assert errs[0] < 3 * lsb_h and errs[1] < 3 * lsb_h


def test_hp_run_batch_invariant() -> None:
    """A drive's run is bit-identical alone or in a batch (read noise keyed by run id)."""
    solver, mp, _, _ = hp_solver(seed=3)
    drives = [TRAIN_DRIVES[0], TRAIN_DRIVES[2], UNSEEN_DRIVES[1]]
    batch = run_hp_analog(solver, mp, drives, 60, 0.1, run_ids=[10, 11, 12])
    alone = run_hp_analog(solver, mp, drives[1:2], 60, 0.1, run_ids=[11])
    assert np.array_equal(batch[:, 1], alone[:, 0])
    other = run_hp_analog(solver, mp, drives[1:2], 60, 0.1, run_ids=[5])
    assert not np.array_equal(other[:, 0], alone[:, 0])  # another run id: other read noise


def test_hp_evaluation_side_by_side_short(ideal: DeviceConfig) -> None:
    """The evaluation reports the software and the analogue metrics on the same segments."""
    r = evaluate_hp_analog(device=ideal, horizon_factor=1.5, seeds=(0, 1))
    sw = r["software"]
    assert sw["horizon_s"] == r["horizon_s"] == pytest.approx(3.0)
    assert len(r["analog"]) == 2
    for a in r["analog"]:
        assert len(a["per_drive"]) == len(TRAIN_DRIVES) + len(UNSEEN_DRIVES)
        # 4096 levels: the weight quantisation is negligible (measured 0.21 %, software 0.20 %)
        assert a["train_nrmse_max"] < 0.02 and a["extrap_nrmse_max"] < 0.05
        assert a["stats"]["adc_samples"] == 7 * 301
    assert r["extrap_ratio"] == pytest.approx(r["analog_extrap_nrmse_max"] / sw["extrap_nrmse_max"])


def _loop_rel_err(solver, mp, mp_ideal, href: np.ndarray, u: float = 2.0) -> float:  # noqa: ANN001
    """Largest relative error of the programmed loop's field (trim codes included, 64 read
    draws averaged) against the mapped twin's field, over the reference states."""
    c, lay, K, R = mp.cfg, mp.cfg.channel_layout(), href.shape[0], 64
    codes = np.full((K * R, c.n_channels), 1 << (c.dac_bits - 1), dtype=np.int64)
    bc = mp.drive_codes(np.array([u]))[0][0]
    a, n, _ = mp.trim_codes(np.array([bc]))
    codes[:, lay["coef_b"]], codes[:, lay["coef_a"]], codes[:, lay["noise"]] = bc, a[0], n[0]
    solver.start(range(5000, 5000 + K * R))
    dx = solver.derivative(codes, np.repeat(mp.h_to_V(href), R, 0)).reshape(K, R, 1).mean(1)
    got = dx / mp.x_per_h_V * mp.t_unit_s
    uq = torch.full((K, 1), float(c.dac_volts(bc)) / mp.u_per_input_V[0], dtype=torch.float64)
    want = mapped_field(mp_ideal)(torch.from_numpy(href), uq).numpy()
    return float(np.abs((got - want) / want).max())


def test_calibrate_trim(hp_twin: tuple, ideal: DeviceConfig) -> None:
    """The per-chip trim: about zero on an ideal array; on rram_180nm it cuts the programmed
    loop's field error (relative to the field, over the training range) several-fold."""
    fld, cfg = hp_twin
    href = hp_reference_states(fld)
    mp = hp_mapping(fld, cfg)
    solver = mp.solver(0, ideal)
    t0 = calibrate_trim(solver, mp, href)
    assert abs(t0.trim_a) < 1e-3 and max(abs(v) for v in t0.trim_n_V) < 1e-3
    assert solver.stats.ticks == 0  # the calibration reads leave the counters at zero
    solver = mp.solver(0)
    mt = calibrate_trim(solver, mp, href)
    assert mt.trimmed and not mp.trimmed
    rel = [_loop_rel_err(solver, m, mp, href) for m in (mp, mt)]
    assert rel[1] < rel[0] / 3, rel  # measured 5.07 % -> 1.31 % (seed 0)
    with pytest.raises(ValueError, match="only an affine mapping"):
        calibrate_trim(solver, dataclasses.replace(mp, input_mode="concat"), href)
    for kw, name in (({"n_reads": 0}, "n_reads"), ({"n_ticks": 1.5}, "n_ticks"),
                     ({"b_cal_V": 0.0}, "b_cal_V"), ({"floor": 2.0}, "floor")):  # fmt: skip
        with pytest.raises(ValueError, match=f"calibrate_trim: {name} = "):
            calibrate_trim(solver, mp, href, **kw)
    # eight data steps at b = 1 V carry the top reference states past the ADC's full scale:
    # a clipped move would give a wrong trim (measured trim_a 0.076 instead of -0.004)
    with pytest.raises(ValueError, match=r"calibration runs have s_last at the ADC full scale"):
        calibrate_trim(solver, mp, href, n_ticks=8)


def test_hp_affine_on_rram_180nm_under_10_percent() -> None:
    """The default preset over programming seeds 0..4 (trimmed, one tick per step): the
    analogue extrapolation NRMSE stays under 10 % on every seed (measured 1.6-2.7 %) and the
    error does not drift: the training-window and extrapolation errors are alike. Without
    the trim seed 0 gives 11.1 %."""
    r = evaluate_hp_analog(seeds=(0, 1, 2, 3, 4))
    ex = [a["extrap_nrmse_max"] for a in r["analog"]]
    assert max(ex) < 0.035 and r["analog_extrap_nrmse_max"] == max(ex)
    for a in r["analog"]:
        assert a["unseen_nrmse_max"] < 0.035 and a["train_nrmse_max"] < 0.025
        assert a["stats"]["state_rail_clips"] == a["stats"]["adc_clips"] == 0
    raw = evaluate_hp_analog(seeds=(0,), calibrate=False)
    assert 0.08 < raw["analog_extrap_nrmse_max"] < 0.15


def test_hp_affine_error_budget() -> None:
    """Diagnosis of the missed 2x target (software 0.20 %, so 2x is 0.40 %), trimmed:

    * no noise at all (64 levels, read non-linearity, DAC and ADC kept), one pair per
      weight: 0.15 %. That is a lucky cancellation of the level error against the read
      non-linearity's: with 16 pairs per weight (16 x finer levels) the noiseless loop gives
      1.12 %, and 0.11 % with linearised row drivers. The cells' read I-V non-linearity
      (2.7 % above linear at 0.1 V) bends every row input of every layer, which an affine
      trim cannot undo: a systematic floor of about 1 % once the levels are fine;
    * read noise off (programming error kept): seed 3 0.34 %, within 2x, seed 0 0.59 %;
    * the preset (seed 0): 2.10 %. The per-tick read noise is the main residual: multiplied
      by the drive, its integral is a random walk of the flux-to-state map.
    """
    dev = load_device(DEFAULT_DEVICE)
    sw = HP_SOFTWARE_EXTRAP
    quiet = dev.replace(read_noise_S=0.0, prog_noise_abs_S=0.0)
    assert evaluate_hp_analog(device=quiet)["analog_extrap_nrmse_max"] < 1.0 * sw
    fine = {"base": OdeSolverConfig(n_state=1, n_parallel=16)}
    assert evaluate_hp_analog(device=quiet, **fine)["analog_extrap_nrmse_max"] > 4.0 * sw
    linear = {"base": OdeSolverConfig(n_state=1, n_parallel=16, row_linearized=True)}
    assert evaluate_hp_analog(device=quiet, **linear)["analog_extrap_nrmse_max"] < 0.75 * sw
    r = evaluate_hp_analog(device=dev.replace(read_noise_S=0.0), seeds=(0, 3))
    assert r["analog"][1]["extrap_nrmse_max"] < 2.0 * sw < r["analog"][0]["extrap_nrmse_max"]
    assert evaluate_hp_analog()["analog_extrap_nrmse_max"] > 5.0 * sw


@pytest.mark.slow
def test_hp_affine_more_ticks_per_step() -> None:
    """Eight ticks per 0.01 s step average the read noise further: measured 0.59 / 1.06 /
    0.77 / 0.77 / 0.49 % extrapolation NRMSE over seeds 0-4 (one tick: 1.6-2.7 %)."""
    r = evaluate_hp_analog(seeds=(0, 1, 2, 3, 4), ticks_per_step=8)
    assert r["analog_extrap_nrmse_max"] < 0.013
    assert r["analog_extrap_nrmse_max"] > 2 * r["software"]["extrap_nrmse_max"]


@pytest.mark.slow
def test_hp_parallel_pairs_sweep() -> None:
    """n parallel cell pairs per weight (seeds 0-4, trimmed), measured worst-seed
    extrapolation NRMSE: n = 1 2.72 %, 4 2.14 %, 16 1.73 %, 64 1.23 % (64 x 2306 = 147 584
    cells; the crossbar's share of the solve energy grows from 0.3 % to 18 %). Finer levels
    and sqrt(n) less noise help, but not to 2x."""
    rows = hp_parallel_sweep((1, 4, 16, 64))
    worst = [r["extrap_nrmse_max"] for r in rows]
    assert worst[3] < worst[2] < worst[1] < worst[0]
    assert worst[0] == pytest.approx(0.0272, abs=5e-4) and worst[3] < 0.014
    assert rows[3]["ratio"] > 2.0
    assert rows[3]["cells"] == 64 * rows[0]["cells"] == 64 * 2306
    assert rows[3]["crossbar_J"] == pytest.approx(64 * rows[0]["crossbar_J"], rel=1e-12)


@pytest.mark.slow
def test_hp_parallel_pairs_linearised_rows() -> None:
    """Linearised row drivers remove the read non-linearity's floor, so parallel pairs pay
    off further: worst seed (0-4) 2.64 % at n = 1, 1.00 % at 16, 0.41 % at 64 (without them
    2.72 / 1.73 / 1.23 %). 0.41 % is still above 2x of the software twin (0.40 %)."""
    rows = hp_parallel_sweep((1, 16, 64), row_linearized=True)
    worst = [r["extrap_nrmse_max"] for r in rows]
    assert worst[2] < worst[1] < worst[0]
    assert worst[2] == pytest.approx(0.0041, abs=3e-4) and worst[1] < 0.0125
    assert rows[2]["ratio"] > 2.0


@pytest.mark.xfail(
    strict=True,
    reason=(
        "HP acceptance target not met with the default rram_180nm preset: the control-affine "
        "twin's analogue extrapolation NRMSE is 1.6-2.7 % over seeds 0-4 (under 10 %), but "
        "the software twin is at 0.20 %, so the ratio is 8-14x, not <= 2x. Error budget "
        "(test_hp_affine_error_budget): the read I-V non-linearity is a ~1 % floor once the "
        "levels are fine, programming error alone gives 0.34-0.59 %, and the per-tick read "
        "noise adds a random walk on top; 64 parallel cell pairs per weight still leave "
        "1.23 % (test_hp_parallel_pairs_sweep), 0.41 % with linearised row drivers. "
        "See the module docstring of rramcim.apps.twin.analog"
    ),
)
def test_hp_acceptance_target() -> None:
    """Target: analogue extrapolation NRMSE within 2x of the software twin's and under 10 %."""
    r = evaluate_hp_analog()
    assert r["software"]["extrap_nrmse_max"] == pytest.approx(HP_SOFTWARE_EXTRAP, abs=5e-4)
    assert r["analog_extrap_nrmse_max"] < 0.10
    assert r["extrap_ratio"] <= 2.0


# ------------------------------------------------------------------------------ Lorenz96
def test_l96_pipeline_short(l96_twin: tuple, ideal: DeviceConfig) -> None:
    """Ideal cells: the analogue Lorenz96 twin follows the software run with the programmed
    weights over one time unit to a small fraction of the attractor RMS (the init-code and
    ADC quantisation, 1e-3 of the RMS, grow with the chaotic divergence)."""
    fld, cfg, info = l96_twin
    solver, mp, _, _ = l96_solver(device=ideal)
    starts = l96_test_starts(cfg, 2)
    t = np.arange(101) * cfg.dt
    Wp, bp = solver.programmed_weights()
    ref = predict_l96(mapped_field(mp, Wp, bp), starts, t)
    an = run_twin(solver, mp, starts, 100)
    err = np.linalg.norm(an - ref, axis=-1) / info["attractor_rms"]
    assert err[0].max() < 1.5e-3 and err.max() < 1e-2


def test_l96_evaluation_reports_both() -> None:
    r = evaluate_l96_analog(n_starts=2, horizon_lyap=3.0)
    for side in ("software", "analog"):
        v = r[side]["vpt_lyap"]
        assert len(v) == 2 and all(0 <= x <= 3.0 + 1e-9 for x in v)
        assert r[side]["vpt_lyap_mean"] == pytest.approx(float(np.mean(v)))
    assert r["device"] == DEFAULT_DEVICE
    assert math.isfinite(r["mapping"]["tau_int_s"])


@pytest.mark.slow
def test_l96_valid_time_full() -> None:
    """Full Lorenz96 evaluation (10 starts, 15 Lyapunov times): software 4.98, analogue
    (rram_180nm, seed 0) 1.01 Lyapunov times, measured."""
    r = evaluate_l96_analog()
    assert r["software"]["vpt_lyap_mean"] == pytest.approx(4.98, abs=0.01)
    assert 0.5 < r["analog"]["vpt_lyap_mean"] < r["software"]["vpt_lyap_mean"]

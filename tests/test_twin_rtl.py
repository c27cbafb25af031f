"""The HP twin as a cim_ode_seq program (rramcim.apps.twin.rtl)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rramcim.apps.twin.analog import drive_samples, hp_solver, run_twin
from rramcim.apps.twin.hp import TRAIN_DRIVES, UNSEEN_DRIVES
from rramcim.apps.twin.rtl import HP_CHANNEL_MAP, MAX_TICKS, TWIN_BOARD, hp_top_run
from rramcim.golden import ode_seq, ode_top


@pytest.fixture(scope="module")
def chip():  # noqa: ANN201
    torch.set_num_threads(1)
    return hp_solver(seed=1)


@pytest.mark.parametrize("drive", [TRAIN_DRIVES[2], UNSEEN_DRIVES[1]])
def test_sequencer_program_reproduces_the_twin_run(chip, drive) -> None:  # noqa: ANN001
    """The program gives the twin's DAC codes on every tick and the RTL-level model (sequencer,
    SPI frames, DAC registers, solver) samples the same states as run_twin."""
    solver, mp, _, cfg = chip
    u = drive_samples([drive])
    run, codes = hp_top_run(mp, cfg.device.x0, 120, u, run_id=3)
    tr = ode_seq.run(TWIN_BOARD.seq(), run.channels, run.table, run.runcfg)
    assert np.array_equal(tr.codes[:, list(HP_CHANNEL_MAP)], codes)
    assert tr.dac_sat_count == 0
    (res,) = ode_top.simulate(TWIN_BOARD, [run], solver, HP_CHANNEL_MAP)
    ref = run_twin(solver, mp, np.array([[cfg.device.x0]]), 120, u, run_ids=[3])
    h = mp.V_to_h(res.states() * solver.cfg.adc_lsb_V)[:, 0]
    assert len(res.samples) == 120
    assert np.array_equal(h, ref[1:, 0, 0])


def test_limits(chip) -> None:  # noqa: ANN001
    solver, mp, _, cfg = chip
    u = drive_samples([TRAIN_DRIVES[0]])
    with pytest.raises(ValueError, match="drive table"):
        hp_top_run(mp, cfg.device.x0, MAX_TICKS, u)


def test_l96_program_is_constant_channels_and_matches_run_twin() -> None:
    from rramcim.apps.twin.analog import l96_solver
    from rramcim.apps.twin.evaluate import l96_test_starts
    from rramcim.apps.twin.rtl import L96_BOARD, L96_CHANNEL_MAP, l96_top_run

    solver, mp, _, cfg = l96_solver(seed=0)
    h0 = l96_test_starts(cfg, 2)[1]
    run, codes = l96_top_run(mp, h0, 40, run_id=2)
    assert all(run.channels[c].mode == ode_seq.Mode.CONST for c in L96_CHANNEL_MAP)
    (res,) = ode_top.simulate(L96_BOARD, [run], solver, L96_CHANNEL_MAP)
    ref = run_twin(solver, mp, h0[None], 40, None, run_ids=[2])
    h = mp.V_to_h(res.states() * solver.cfg.adc_lsb_V)
    assert h.shape == (40, 6)
    assert np.array_equal(h, ref[1:, 0])


def test_calibration_runs_through_the_top_give_the_same_trim(chip) -> None:  # noqa: ANN001
    """The trim's calibration runs as sequencer programs (every channel CONST): the RTL-level
    model samples exactly what run_calibration samples, so a trim fitted to the RTL's sample
    words is the hardware model's trim."""
    from rramcim.apps.twin.analog import (
        calibration_plan,
        fit_trim,
        hp_reference_states,
        run_calibration,
    )
    from rramcim.apps.twin.node import load_checkpoint
    from rramcim.apps.twin.rtl import calibration_top_runs
    from rramcim.apps.twin.train import HP_ASSET

    solver, mp, _, _ = chip
    fld, _ = load_checkpoint(HP_ASSET)
    plan = calibration_plan(mp, hp_reference_states(fld), n_reads=2)
    assert plan.n_runs == 66 and plan.n_ticks == 1
    s_first, s_last = run_calibration(solver, mp, plan)
    runs = calibration_top_runs(mp, plan)
    assert all(run.channels[c].mode == ode_seq.Mode.CONST for run in runs for c in HP_CHANNEL_MAP)
    res = ode_top.simulate(TWIN_BOARD, runs, solver, HP_CHANNEL_MAP)
    st = np.stack([r.states() for r in res])  # [B, 1 + n_ticks, 1]
    assert st.shape == (66, 2, 1)
    assert np.array_equal(st[:, 0], s_first) and np.array_equal(st[:, -1], s_last)
    a, b = fit_trim(mp, plan, s_first, s_last), fit_trim(mp, plan, st[:, 0], st[:, -1])
    assert (a.trim_a, a.trim_n_V) == (b.trim_a, b.trim_n_V)
    assert a.trim_a != 0.0

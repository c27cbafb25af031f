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

"""The HP twin through the ODE top: sequencer programs that replay the twin's DAC ticks.

:func:`rramcim.apps.twin.analog.twin_tick_codes` gives the DAC code of every solver channel on
every tick of a twin run (the hardware model of the twins steps the solver with exactly those
codes). This module writes them as a ``cim_ode_seq`` program for the twin board
(:data:`TWIN_BOARD`), so the RTL produces the same codes, bit for bit:

====  =========  ===============================================================
ch    mode       carries (solver channel)
====  =========  ===============================================================
0     CONST      ``init``: the voltage of h(0) (LOAD)
1     TABLE      ``coef_a``: the trim ``a = trim_a b(t)`` per tick (entries n .. 2n-1)
2     TABLE      ``coef_b``: the drive ``b(t)`` per tick (entries 0 .. n-1)
3     TABLE      ``noise``: the trim offset ``trim_n b(t)`` per tick (entries 2n .. 3n-1)
4-7   OFF        spare
====  =========  ===============================================================

with ``n`` = the run's ticks (RESET + LOAD + INTEGRATE): each TABLE channel steps one entry per
tick from entry 0 of its region. A table entry ``v`` (Q1.15) gives the DAC code ``2^11 + v/16``
(12-bit DAC), so entry ``16 (code - 2048)`` reproduces any code exactly. The drive table holds
1024 entries, so one run is at most 341 ticks (339 INTEGRATE ticks, 3.39 s of the HP twin at
one tick per 0.01 s step). Samples: every INTEGRATE tick (``sample_every`` 1), i.e. the state
after each data step, as :func:`rramcim.apps.twin.analog.run_twin` samples it (its first
sample, right after LOAD, has no RTL counterpart).
"""

from __future__ import annotations

import numpy as np

from rramcim.apps.twin.analog import TwinMapping, twin_tick_codes
from rramcim.golden.ode_seq import ChannelCfg, Mode, RunCfg, table_regs, u16
from rramcim.golden.ode_top import OdeRun, OdeTopConfig

TWIN_BOARD = OdeTopConfig(
    n_chips=2, n_addr=4, n_state=1, tab_depth=1024, smp_fifo_depth=8, cpha=0, clk_div=3
)
"""The HP twin board: two quad DACs, one integrator, SPI mode 0 at a third of the clock / 6."""
HP_CHANNEL_MAP = (0, 1, 2, 3)
"""DAC channel of each solver channel (init, coef_a, coef_b, noise)."""
MAX_TICKS = TWIN_BOARD.tab_depth // 3


def _entry(code: int, data_w: int) -> int:
    """Q1.15 table entry whose DAC code is ``code``."""
    return u16((int(code) - (1 << (data_w - 1))) << (16 - data_w))


def hp_top_run(
    mp: TwinMapping,
    h0: float,
    n_steps: int,
    u_fn,  # noqa: ANN001 (InputSamples)
    run_id: int = 0,
    t_tick_cyc: int = 800,
    cfg: OdeTopConfig = TWIN_BOARD,
) -> tuple[OdeRun, np.ndarray]:
    """The sequencer program of one HP twin run and the solver codes it must produce.

    Args:
        mp: the (trimmed) mapping of the programmed chip.
        h0: initial state (model units).
        n_steps: data steps (one tick each), 1 .. MAX_TICKS - 2.
        u_fn: drive samples of time (one run), as for :func:`twin_tick_codes`.
        run_id: the solver's run id.
        t_tick_cyc: RTL clock cycles per tick.

    Returns:
        ``(run, codes [n_ticks, n_channels])``.

    Raises:
        ValueError: a mapping with more than one tick per step or an input layer (the board
            carries the control-affine HP twin), or a run longer than the table.
    """
    if mp.ticks_per_step != 1 or not mp.affine or mp.cfg.n_state != 1:
        raise ValueError("hp_top_run: the twin board runs the affine HP twin, 1 tick per step")
    plan = twin_tick_codes(mp, np.array([float(h0)]), n_steps, u_fn)
    codes = np.asarray(plan.codes)
    n = codes.shape[0]
    if n > MAX_TICKS:
        raise ValueError(f"hp_top_run: {n} ticks, the drive table holds {MAX_TICKS} per channel")
    lay = mp.cfg.channel_layout()
    dw = cfg.data_w
    table = [0] * cfg.tab_depth
    ch = [ChannelCfg()] * cfg.n_ch
    ch[0] = ChannelCfg(Mode.CONST, _entry(codes[0, lay["init"].start], dw))
    for dac_ch, group, region in ((2, "coef_b", 0), (1, "coef_a", 1), (3, "noise", 2)):
        base = region * n
        for k in range(n):
            table[base + k] = _entry(codes[k, lay[group].start], dw)
        ch[dac_ch] = ChannelCfg(Mode.TABLE, *table_regs(base, n, 1.0))
    rc = RunCfg(n_reset=plan.n_reset, n_load=plan.n_load, n_int=plan.n_integrate,
                t_tick_cyc=t_tick_cyc, sample_every=1, seed=1)  # fmt: skip
    return OdeRun(tuple(ch), tuple(table), rc, run_id), codes

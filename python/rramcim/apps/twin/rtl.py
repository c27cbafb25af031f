"""The twins through the ODE top: sequencer programs that replay the twins' DAC ticks.

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
one tick per 0.01 s step). The Lorenz96 twin (autonomous: every channel constant) runs on
:data:`L96_BOARD` with CONST channels only (:func:`l96_top_run`); :func:`twin_top_run` is the
general rule (constant codes -> CONST, varying codes -> TABLE). Samples: every INTEGRATE tick
(``sample_every`` 1), i.e. the state after each data step, as
:func:`rramcim.apps.twin.analog.run_twin` samples it (its first sample, right after LOAD, has
no RTL counterpart).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from rramcim.apps.twin.analog import (
    N_LOAD_TICKS,
    N_RESET_TICKS,
    CalibrationPlan,
    TwinMapping,
    twin_tick_codes,
)
from rramcim.golden.ode_seq import ChannelCfg, Mode, RunCfg, table_regs, u16
from rramcim.golden.ode_top import OdeRun, OdeTopConfig

TWIN_BOARD = OdeTopConfig(
    n_chips=2, n_addr=4, n_state=1, tab_depth=1024, smp_fifo_depth=8, cpha=0, clk_div=3
)
"""The HP twin board: two quad DACs, one integrator, SPI mode 0 with SCLK at clk / 6."""
HP_CHANNEL_MAP = (0, 1, 2, 3)
"""DAC channel of each solver channel (init, coef_a, coef_b, noise)."""
MAX_TICKS = TWIN_BOARD.tab_depth // 3
"""Longest HP run (ticks): three TABLE channels share the drive table."""
L96_BOARD = OdeTopConfig(n_chips=4, n_addr=4, n_state=6, tab_depth=256, smp_fifo_depth=16)
"""The Lorenz96 board: four quad DACs, six integrators."""
L96_CHANNEL_MAP = tuple(range(14))
"""DAC channel of each L96 solver channel (init[6], coef_a, coef_b, noise[6])."""


def _entry(code: int, data_w: int) -> int:
    """Q1.15 table entry whose DAC code is ``code``."""
    return u16((int(code) - (1 << (data_w - 1))) << (16 - data_w))


def twin_top_run(
    mp: TwinMapping,
    h0: np.ndarray,
    n_steps: int,
    u_fn,  # noqa: ANN001 (InputSamples | None)
    cfg: OdeTopConfig,
    channel_map: tuple[int, ...],
    run_id: int = 0,
    t_tick_cyc: int = 800,
) -> tuple[OdeRun, np.ndarray]:
    """The sequencer program of one twin run and the solver codes it must produce.

    Every solver channel whose code is the same on every tick becomes a CONST channel; the
    others become TABLE channels, each stepping one entry per tick through its own region of
    the drive table.

    Args:
        mp: the mapping of the programmed chip (one tick per data step).
        h0: initial state ``[n_state]`` (model units).
        n_steps: data steps.
        u_fn: drive samples of time (None for an autonomous twin).
        cfg: the board.
        channel_map: DAC channel of each solver channel.
        run_id: the solver's run id.
        t_tick_cyc: RTL clock cycles per tick.

    Returns:
        ``(run, codes [n_ticks, n_channels])``.

    Raises:
        ValueError: more than one tick per step, a board that does not fit the solver, or a
            run whose TABLE channels need more entries than the table has.
    """
    if mp.ticks_per_step != 1:
        raise ValueError("twin_top_run: the boards run one tick per data step")
    if mp.cfg.n_state != cfg.n_state or len(channel_map) != mp.cfg.n_channels:
        raise ValueError(
            f"twin_top_run: the solver has {mp.cfg.n_state} states and {mp.cfg.n_channels} "
            f"channels, the board {cfg.n_state} states and a map of {len(channel_map)}"
        )
    plan = twin_tick_codes(mp, np.asarray(h0, dtype=np.float64).reshape(-1), n_steps, u_fn)
    codes = np.asarray(plan.codes)
    phases = (plan.n_reset, plan.n_load, plan.n_integrate)
    return _top_run(codes, phases, cfg, channel_map, run_id, t_tick_cyc, "twin_top_run"), codes


def _top_run(
    codes: np.ndarray,
    phases: tuple[int, int, int],
    cfg: OdeTopConfig,
    channel_map: tuple[int, ...],
    run_id: int,
    t_tick_cyc: int,
    who: str,
) -> OdeRun:
    """The sequencer program that writes ``codes [n_ticks, n_channels]`` tick by tick
    (constant channels CONST, the others TABLE), ``phases = (n_reset, n_load, n_int)``,
    sampled after every INTEGRATE tick."""
    n = codes.shape[0]
    varying = [i for i in range(codes.shape[1]) if np.any(codes[:, i] != codes[0, i])]
    if len(varying) * n > cfg.tab_depth:
        raise ValueError(
            f"{who}: {len(varying)} TABLE channels x {n} ticks exceed the drive table "
            f"({cfg.tab_depth} entries)"
        )
    dw = cfg.data_w
    table = [0] * cfg.tab_depth
    ch = [ChannelCfg()] * cfg.n_ch
    for i, dac_ch in enumerate(channel_map):
        if i in varying:
            base = varying.index(i) * n
            for k in range(n):
                table[base + k] = _entry(codes[k, i], dw)
            ch[dac_ch] = ChannelCfg(Mode.TABLE, *table_regs(base, n, 1.0))
        else:
            ch[dac_ch] = ChannelCfg(Mode.CONST, _entry(codes[0, i], dw))
    rc = RunCfg(n_reset=phases[0], n_load=phases[1], n_int=phases[2],
                t_tick_cyc=t_tick_cyc, sample_every=1, seed=1)  # fmt: skip
    return OdeRun(tuple(ch), tuple(table), rc, run_id)


def calibration_top_runs(
    mp: TwinMapping,
    plan: CalibrationPlan,
    indices: Sequence[int] | None = None,
    t_tick_cyc: int = 800,
    cfg: OdeTopConfig = TWIN_BOARD,
) -> list[OdeRun]:
    """The HP twin's calibration runs (:func:`rramcim.apps.twin.analog.calibration_plan`) on
    the twin board: every channel CONST (``init``, ``coef_b`` at the plan's code, ``coef_a``
    and ``noise`` at mid-scale), one RESET, one LOAD and ``1 + n_ticks`` INTEGRATE ticks,
    sampled after every INTEGRATE tick. Sample 0 and sample ``n_ticks`` of run ``i`` are the
    ``s_first`` and ``s_last`` that :func:`~rramcim.apps.twin.analog.fit_trim` takes.

    Args:
        mp: the mapping the plan was made for.
        plan: the calibration runs.
        indices: which runs of the plan (default all).
        t_tick_cyc: RTL clock cycles per tick.
        cfg: the board.
    """
    if not mp.affine or mp.cfg.n_state != 1:
        raise ValueError("calibration_top_runs: the twin board runs the control-affine HP twin")
    codes = plan.codes(mp.cfg)
    phases = (N_RESET_TICKS, N_LOAD_TICKS, 1 + plan.n_ticks)
    n = sum(phases)
    idx = range(plan.n_runs) if indices is None else indices
    return [
        _top_run(
            np.repeat(codes[i][None], n, axis=0),
            phases,
            cfg,
            HP_CHANNEL_MAP,
            int(plan.run_ids[i]),
            t_tick_cyc,
            "calibration_top_runs",
        )  # fmt: skip
        for i in idx
    ]


def hp_top_run(
    mp: TwinMapping,
    h0: float,
    n_steps: int,
    u_fn,  # noqa: ANN001 (InputSamples)
    run_id: int = 0,
    t_tick_cyc: int = 800,
    cfg: OdeTopConfig = TWIN_BOARD,
) -> tuple[OdeRun, np.ndarray]:
    """One HP twin run on the twin board (:func:`twin_top_run`; init CONST, the drive on
    ``coef_b`` and the trims on ``coef_a`` and ``noise`` as TABLE channels).

    Raises:
        ValueError: a mapping that is not the control-affine HP twin, or a run longer than
            the table allows.
    """
    if not mp.affine or mp.cfg.n_state != 1:
        raise ValueError("hp_top_run: the twin board runs the control-affine HP twin")
    n = int(n_steps) + 2
    if n > MAX_TICKS:
        raise ValueError(f"hp_top_run: {n} ticks, the drive table holds {MAX_TICKS} per channel")
    return twin_top_run(mp, np.array([float(h0)]), n_steps, u_fn, cfg, HP_CHANNEL_MAP, run_id,
                        t_tick_cyc)  # fmt: skip


def l96_top_run(
    mp: TwinMapping, h0: np.ndarray, n_steps: int, run_id: int = 0, t_tick_cyc: int = 700
) -> tuple[OdeRun, np.ndarray]:
    """One Lorenz96 twin run on :data:`L96_BOARD` (every channel CONST: the initial state on
    ``init``, the fixed score gain ``b`` on ``coef_b``, ``a`` = 0 and no noise)."""
    return twin_top_run(mp, h0, n_steps, None, L96_BOARD, L96_CHANNEL_MAP, run_id, t_tick_cyc)

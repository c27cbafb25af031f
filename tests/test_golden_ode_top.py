"""Unit tests of rramcim.golden.ode_top (hardware model of the ODE top with the solver board)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from rramcim.analog.ode import OdeSolver, OdeSolverConfig
from rramcim.golden import ode_top as top
from rramcim.golden.dac_spi import frame_word
from rramcim.golden.ode_seq import ChannelCfg, Mode, RunCfg, q15, ramp_regs, sine_regs, u16

CFG = top.OdeTopConfig(n_chips=2, n_addr=4, n_state=2, smp_fifo_depth=16)
CMAP = (5, 0, 1, 2, 3, 4)  # solver channels init0, init1, coef_a, coef_b, noise0, noise1


@pytest.fixture(scope="module")
def solver() -> OdeSolver:
    g = torch.Generator().manual_seed(1)
    W = [torch.randn(8, 2, generator=g) * 0.6, torch.randn(2, 8, generator=g) * 0.4]
    b = [torch.zeros(8), torch.zeros(2)]
    return OdeSolver(OdeSolverConfig(n_state=2), W, b, "tanh", seed=3)


def _run(run_id: int = 0, x0: float = 0.3, sample_every: int = 4) -> top.OdeRun:
    ch = [ChannelCfg()] * CFG.n_ch
    ch[5] = ChannelCfg(Mode.CONST, u16(q15(x0)))
    ch[0] = ChannelCfg(Mode.CONST, u16(q15(-0.2)))
    ch[1] = ChannelCfg(Mode.RAMP, *ramp_regs(-0.1, -0.002))
    ch[2] = ChannelCfg(Mode.SINE, *sine_regs(0.02, 0.0, 0.2, 0.4))
    ch[3] = ChannelCfg(Mode.CONST, 0)
    ch[4] = ChannelCfg(Mode.CONST, 0)
    rc = RunCfg(n_reset=1, n_load=2, n_int=12, sample_every=sample_every, seed=5)
    return top.OdeRun(tuple(ch), (0,) * CFG.tab_depth, rc, run_id)


def test_config_checks() -> None:
    assert top.OdeTopConfig.from_hdl(CFG.to_hdl()) == CFG
    with pytest.raises(ValueError, match="n_state"):
        top.OdeTopConfig(n_state=13)
    with pytest.raises(ValueError, match="smp_fifo_depth"):
        top.OdeTopConfig(smp_fifo_depth=24)
    with pytest.raises(ValueError, match="unknown"):
        top.OdeTopConfig.from_hdl({"N_WIDGETS": 1})


def test_trace_frames_ticks_samples(solver: OdeSolver) -> None:
    run = _run()
    (res,) = top.simulate(CFG, [run], solver, CMAP)
    rc = run.runcfg
    assert len(res.frames) == rc.n_ticks * CFG.n_addr
    assert len(res.ticks) == rc.n_ticks
    # samples at integrate ticks 4 and 8 and the final one (HOLD)
    t0 = rc.n_reset + rc.n_load
    assert [s.tick for s in res.samples] == [t0 + 4, t0 + 8, t0 + 12]
    assert res.samples[-1].flags >> (CFG.n_state + 1) == 1
    assert all(s.flags >> (CFG.n_state + 1) == 0 for s in res.samples[:-1])
    # switches per LDAC tick: RESET, LOAD, LOAD, then INTEGRATE
    assert [sw for sw, _ in res.ticks] == [1, 2, 2] + [4] * 12
    # frame words: chip 1 addr 1 carries the initial state (channel 5), addr 0 the noise
    # channel 4 (CONST 0, code 2048); its channels 6 and 7 are OFF (NOP frames)
    spi = CFG.spi()
    nop = frame_word(spi, spi.cmd_nop, 0, 0)
    f = res.frames[:4]
    assert f[2][1] == nop and f[3][1] == nop
    assert f[0][1] == frame_word(spi, spi.cmd_write, 0, 2048)
    assert f[1][1] == frame_word(spi, spi.cmd_write, 1, 2048 + q15(0.3) // 16)
    # the sample words: {flags, tick} then sign-extended codes
    w = res.words()
    assert len(w) == 3 * 3
    assert w[0] & ((1 << top.TICK_W) - 1) == t0 + 4
    assert np.array_equal(res.states()[0] % (1 << 32), np.array(w[1:3]))
    assert np.array_equal(top.sample_codes(w, CFG.n_state), res.states())
    with pytest.raises(ValueError, match="not samples of 3"):
        top.sample_codes(w[:-1], CFG.n_state)


def test_batch_equals_single_runs(solver: OdeSolver) -> None:
    runs = [_run(i, x0=0.1 * i) for i in range(3)]
    batch = top.simulate(CFG, runs, solver, CMAP)
    for r, res in zip(runs, batch, strict=True):
        (one,) = top.simulate(CFG, [r], solver, CMAP)
        assert one.words() == res.words()
        assert one.frames == res.frames


def test_load_phase_sets_the_state(solver: OdeSolver) -> None:
    # with a = b = 0 and no noise the state stays at the loaded value: the ADC reads it
    run = _run(x0=0.25)
    ch = list(run.channels)
    ch[1] = ChannelCfg(Mode.CONST, 0)
    ch[2] = ChannelCfg(Mode.CONST, 0)
    run = dataclasses.replace(run, channels=tuple(ch))
    (res,) = top.simulate(CFG, [run], solver, CMAP)
    sc = solver.cfg
    v_init = (2048 + q15(0.25) // 16 - 2048) / 2048 * sc.v_dac_fs_V
    want = int(np.floor(v_init / sc.adc_lsb_V + 0.5))
    assert all(s.codes[0] == want for s in res.samples)


def test_rejects_off_solver_channels_and_mixed_shapes(solver: OdeSolver) -> None:
    run = _run()
    ch = list(run.channels)
    ch[3] = ChannelCfg()
    bad = dataclasses.replace(run, channels=tuple(ch))
    with pytest.raises(ValueError, match="DAC channel 3 is OFF"):
        top.simulate(CFG, [bad], solver, CMAP)
    with pytest.raises(ValueError, match="phase lengths"):
        top.simulate(CFG, [run, _run(sample_every=3)], solver, CMAP)
    with pytest.raises(ValueError, match="channel_map"):
        top.simulate(CFG, [run], solver, CMAP[:-1])


def test_config_writes_cover_the_channel_table() -> None:
    run = _run()
    w = top.config_writes(CFG, run)
    data = [v for i, v in w if i == top.REG["CFG_DATA"]]
    assert len(data) == 4 * CFG.n_ch
    assert (top.REG["PHASES"], (2 << 16) | 1) in w
    assert (top.REG["INTEG"], (4 << 16) | 12) in w
    assert not any(i == top.REG["TAB_DATA"] for i, _ in w), "no TABLE channel, no table writes"

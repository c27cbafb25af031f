"""Unit tests of rramcim.golden.ode_seq (the reference of rtl/cim_ode_seq.sv); no simulator."""

from __future__ import annotations

import math
import random
import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from rramcim.golden.ode_seq import (
    CORDIC_ATAN,
    CORDIC_X0,
    SIN_ERR_BOUND_LSB,
    SW_OF_PHASE,
    ChannelCfg,
    ErrCode,
    Mode,
    NoiseGen,
    OdeSeqConfig,
    Phase,
    RunCfg,
    check,
    cordic,
    noise_regs,
    noise_value,
    q15,
    ramp_regs,
    run,
    s16,
    s32,
    sample_points,
    sat16,
    sin_q15,
    sine_regs,
    table_regs,
    to_code,
    validate,
)

RTL = Path(__file__).resolve().parents[1] / "rtl" / "cim_ode_seq.sv"


@pytest.fixture
def cfg() -> OdeSeqConfig:
    return OdeSeqConfig(n_chips=3, n_addr=2, data_w=12, tab_depth=64)


@pytest.fixture
def table() -> list[int]:
    rng = random.Random("table")
    return [rng.randrange(-32768, 32768) for _ in range(64)]


def _off(cfg: OdeSeqConfig) -> list[ChannelCfg]:
    return [ChannelCfg()] * cfg.n_ch


def _with(cfg: OdeSeqConfig, **chans: ChannelCfg) -> list[ChannelCfg]:
    out = _off(cfg)
    for k, c in chans.items():
        out[int(k[2:])] = c
    return out


# ----- configuration ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value"),
    [("n_chips", 0), ("n_chips", 9), ("n_addr", 17), ("data_w", 7), ("data_w", 17),
     ("n_state", 0), ("adc_bits", 3), ("tab_depth", 8), ("tab_depth", 48),
     ("tab_depth", 2048), ("cordic_iters", 7), ("cordic_iters", 17)],
)  # fmt: skip
def test_config_ranges(name: str, value: int) -> None:
    with pytest.raises(ValueError, match=name):
        OdeSeqConfig(**{name: value})


def test_config_hdl_roundtrip() -> None:
    c = OdeSeqConfig(n_chips=5, n_addr=3, tab_depth=64)
    assert OdeSeqConfig.from_hdl(c.to_hdl()) == c
    assert c.n_ch == 15
    with pytest.raises(ValueError, match="FOO"):
        OdeSeqConfig.from_hdl({"FOO": 1})


def test_channel_and_run_cfg_ranges() -> None:
    with pytest.raises(ValueError, match="mode"):
        ChannelCfg(mode=8)
    with pytest.raises(ValueError, match="p1"):
        ChannelCfg(p1=1 << 32)
    with pytest.raises(ValueError, match="ref"):
        ChannelCfg(ref=32)
    with pytest.raises(ValueError, match="n_int"):
        RunCfg(n_int=1 << 16)
    with pytest.raises(ValueError, match="seed"):
        RunCfg(seed=-1)
    c = ChannelCfg(Mode.NOISE, 1, 2, 3, ref=17)
    assert c.words() == (5 | 17 << 8, 1, 2, 3)
    assert ChannelCfg.from_words((0xFFFF_E005 | 17 << 8, 1, 2, 3)) == c


# ----- arithmetic -------------------------------------------------------------------------


def test_constants_match_rtl() -> None:
    """The RTL's CORDIC constants are the golden model's."""
    text = RTL.read_text()
    atan = [int(v) for v in re.findall(r"atan_i = 22'd(\d+);", text)]
    assert atan == list(CORDIC_ATAN)
    assert f"18'd{CORDIC_X0}" in text
    for i, a in enumerate(CORDIC_ATAN):
        assert a == round(math.atan(2.0**-i) / (2 * math.pi) * 2**20)
    k = math.prod(1 / math.sqrt(1 + 2.0 ** (-2 * i)) for i in range(16))
    assert round(k * 2**16) == CORDIC_X0


@pytest.mark.parametrize("iters", [8, 12, 16])
def test_sin_accuracy_exhaustive(iters: int) -> None:
    """Error against round(2^15 sin) over every phase is within the stated bound (and the
    bound is tight: it is reached)."""
    err = max(
        abs(sin_q15(p, iters) - sat16(math.floor(32768 * math.sin(2 * math.pi * p / 65536) + 0.5)))
        for p in range(65536)
    )
    assert err == SIN_ERR_BOUND_LSB[iters]


@pytest.mark.parametrize("iters", [9, 10, 11, 13, 14, 15])
def test_sin_accuracy_sampled(iters: int) -> None:
    for p in range(0, 65536, 7):
        exact = sat16(math.floor(32768 * math.sin(2 * math.pi * p / 65536) + 0.5))
        assert abs(sin_q15(p, iters) - exact) <= SIN_ERR_BOUND_LSB[iters]


def test_sin_symmetry_and_word_widths() -> None:
    b = SIN_ERR_BOUND_LSB[16]
    assert abs(sin_q15(0)) <= b and abs(sin_q15(0x8000)) <= b
    assert sin_q15(0x4000) >= 32767 - b and sin_q15(0xC000) <= -32768 + b
    for p in range(0, 65536, 97):
        assert abs(sin_q15(p) + sin_q15((p + 0x8000) & 0xFFFF)) <= 1  # odd symmetry
    # no intermediate value leaves the RTL words (x, y: 18-bit signed; z: 22-bit signed)
    for theta in range(0, 1 << 18, 37):
        x, y, z = CORDIC_X0, 0, theta
        for i in range(16):
            d = 1 if z >= 0 else -1
            x, y, z = x - d * (y >> i), y + d * (x >> i), z - d * CORDIC_ATAN[i]
            assert -(1 << 17) <= x < (1 << 17) and -(1 << 17) <= y < (1 << 17)
            assert -(1 << 21) <= z < (1 << 21)
        assert (x, y) == cordic(theta, 16)


def test_to_code_rounding_and_saturation() -> None:
    assert to_code(0, 12) == (2048, False)
    assert to_code(7, 12) == (2048, False)
    assert to_code(8, 12) == (2049, False)  # half rounds up
    assert to_code(-8, 12) == (2048, False)
    assert to_code(-9, 12) == (2047, False)
    assert to_code(-32768, 12) == (0, False)
    assert to_code(32759, 12) == (4095, False)
    assert to_code(32760, 12) == (4095, True)  # would be 4096
    assert to_code(32767, 16) == (65535, False)  # 16 bits never saturate
    assert to_code(-32768, 16) == (0, False)
    assert to_code(32767, 8) == (255, True)


def test_noise_generator_and_moments() -> None:
    g = NoiseGen(1)
    assert g.step() == 270369  # xorshift32 (13, 17, 5) from 1
    with pytest.raises(ValueError):
        NoiseGen(0)
    gen = NoiseGen(0xC0FFEE)
    x = np.array([gen.gauss() for _ in range(40000)], dtype=float)
    std = 4096 * 2 / math.sqrt(12)
    assert x.min() >= -8192 and x.max() <= 8188
    assert abs(x.mean()) < 4 * std / math.sqrt(x.size)
    assert abs(x.std() / std - 1) < 0.02
    kurt = ((x - x.mean()) ** 4).mean() / x.var() ** 2
    assert abs(kurt - 2.7) < 0.1  # sum of four uniforms: excess kurtosis -1.2 / 4
    # scaled: std(g_scaled) ~ sigma for the helper's amp
    _, amp = noise_regs(0.25, 0.0)
    gs = np.array([sat16((int(v) * s16(amp)) >> 11) for v in x])
    assert abs(gs.std() / (0.25 * 32768) - 1) < 0.03


# ----- modes ------------------------------------------------------------------------------


def test_const_and_off(cfg: OdeSeqConfig, table: list[int]) -> None:
    chans = _with(cfg, ch1=ChannelCfg(Mode.CONST, 0xABCD_8001))
    tr = run(cfg, chans, table, RunCfg(n_reset=1, n_load=0, n_int=2))
    assert (tr.values[:, 1] == -32767).all()
    assert (tr.values[:, 0] == 0).all() and (tr.codes[:, 0] == 0).all()


def test_ramp_exact(cfg: OdeSeqConfig, table: list[int]) -> None:
    rng = random.Random("ramp")
    for _ in range(20):
        p0, p1 = rng.getrandbits(32), rng.getrandbits(32)
        tr = run(cfg, _with(cfg, ch0=ChannelCfg(Mode.RAMP, p0, p1)), table, RunCfg(n_int=12))
        exp = [sat16((s32(p0 + k * p1) + (1 << 15)) >> 16) for k in range(tr.values.shape[0])]
        assert tr.values[:, 0].tolist() == exp
    # float helper: 0.5 -> -0.5 over 10 ticks
    p0, p1 = ramp_regs(0.5, -0.1)
    tr = run(cfg, _with(cfg, ch0=ChannelCfg(Mode.RAMP, p0, p1)), table, RunCfg(0, 0, 11))
    assert np.allclose(tr.values[:, 0] / 32768, 0.5 - 0.1 * np.arange(11), atol=2e-5)


def test_sine_exact(cfg: OdeSeqConfig, table: list[int]) -> None:
    rng = random.Random("sine")
    for _ in range(10):
        p0, p1, p2 = rng.getrandbits(32), rng.getrandbits(32), rng.getrandbits(32)
        tr = run(cfg, _with(cfg, ch3=ChannelCfg(Mode.SINE, p0, p1, p2)), table, RunCfg(n_int=9))
        amp, off = s16(p2), s16(p2 >> 16)
        exp = [
            sat16(((amp * sin_q15((p0 + k * p1) & 0xFFFF, cfg.cordic_iters)) >> 15) + off)
            for k in range(tr.values.shape[0])
        ]
        assert tr.values[:, 3].tolist() == exp
    # quarter-turn steps of a cosine at half amplitude plus offset 0.25
    p0, p1, p2 = sine_regs(0.25, 0.25, 0.5, 0.25)
    assert (p0, p1) == (0x4000, 0x4000)
    tr = run(cfg, _with(cfg, ch0=ChannelCfg(Mode.SINE, p0, p1, p2)), table, RunCfg(0, 0, 4))
    assert np.abs(tr.values[:, 0] - [24576, 8192, -8192, 8192]).max() <= 2


def test_table_exact(cfg: OdeSeqConfig, table: list[int]) -> None:
    rng = random.Random("tab")
    for _ in range(20):
        length = rng.randint(1, 64)
        base = rng.randint(0, 64 - length)
        span = length * 256
        p0, p1 = rng.randrange(span), rng.randrange(span)
        c = ChannelCfg(Mode.TABLE, p0, p1, (length << 16) | base)
        tr = run(cfg, _with(cfg, ch5=c), table, RunCfg(n_int=15))
        exp = [table[base + ((p0 + k * p1) % span >> 8)] for k in range(tr.values.shape[0])]
        assert tr.values[:, 5].tolist() == exp
    assert table_regs(3, 10, 1.5, 2.0) == (512, 384, (10 << 16) | 3)
    # whole-entry steps land exactly on len*256 and wrap to the segment start
    c = ChannelCfg(Mode.TABLE, *table_regs(5, 3, 1.0, 1.0))
    tr = run(cfg, _with(cfg, ch0=c), table, RunCfg(0, 0, 7))
    assert tr.values[:, 0].tolist() == [table[5 + i % 3] for i in range(1, 8)]


def test_noise_exact_and_draw_order(cfg: OdeSeqConfig, table: list[int]) -> None:
    chans = _with(
        cfg,
        ch0=ChannelCfg(Mode.CONST, 0x6000),
        ch2=ChannelCfg(Mode.NOISE, 0x0100, 0x7FFF, ref=0),
        ch3=ChannelCfg(Mode.RAMP, 0x8000_0000, 0x0100_0000),
        ch4=ChannelCfg(Mode.NOISE, 0xFF00, 0x8000, ref=3),
    )
    rc = RunCfg(n_reset=1, n_load=1, n_int=6, seed=0x1234_5678)
    tr = run(cfg, chans, table, rc)
    gen = NoiseGen(rc.seed)
    for k in range(rc.n_ticks):
        v2 = noise_value(gen.gauss(), 0x7FFF, 0x6000, 0x0100)
        v4 = noise_value(gen.gauss(), -0x8000, int(tr.values[k, 3]), -0x100)
        assert (tr.values[k, 2], tr.values[k, 4]) == (v2, v4)
    assert tr.rng_state == gen.state


# ----- rules, phases, beats, samples ------------------------------------------------------


def test_validate_rules(cfg: OdeSeqConfig) -> None:
    ok = _off(cfg)
    rc = RunCfg()
    assert check(cfg, ok, rc) is None
    cases = [
        (ok, replace(rc, n_int=0), ErrCode.N_INT, 0, "n_int"),
        (ok, replace(rc, seed=0), ErrCode.SEED, 0, "seed"),
        (_with(cfg, ch2=ChannelCfg(6)), rc, ErrCode.MODE, 2, "channel 2 mode: 6"),
        (_with(cfg, ch1=ChannelCfg(Mode.TABLE, p2=5)), rc, ErrCode.TAB_LEN, 1, "len 0"),
        (_with(cfg, ch1=ChannelCfg(Mode.TABLE, p2=(2 << 16) | 63)), rc, ErrCode.TAB_LEN, 1,
         "base 63 \\+ len 2"),
        (_with(cfg, ch3=ChannelCfg(Mode.TABLE, 0, 512, 2 << 16)), rc, ErrCode.TAB_STEP, 3,
         "p1: step 512"),
        (_with(cfg, ch3=ChannelCfg(Mode.TABLE, 512, 0, 2 << 16)), rc, ErrCode.TAB_START, 3,
         "p0: start 512"),
        (_with(cfg, ch4=ChannelCfg(Mode.NOISE, ref=4)), rc, ErrCode.NOISE_REF, 4,
         "channel 4 ref: 4"),
        (_with(cfg, ch0=ChannelCfg(Mode.NOISE)), rc, ErrCode.NOISE_REF, 0, "channel 0 ref"),
    ]  # fmt: skip
    for chans, r, code, ch, msg in cases:
        err = check(cfg, chans, r)
        assert err is not None and (err.code, err.ch) == (code, ch)
        with pytest.raises(ValueError, match=msg):
            validate(cfg, chans, r)
        with pytest.raises(ValueError, match=code.name):
            run(cfg, chans, [0] * cfg.tab_depth, r)
    # the first broken rule wins: run-level first, then the lowest channel
    two = _with(cfg, ch1=ChannelCfg(7), ch0=ChannelCfg(Mode.TABLE))
    assert check(cfg, two, rc).code == ErrCode.TAB_LEN
    assert check(cfg, two, replace(rc, seed=0)).code == ErrCode.SEED
    with pytest.raises(ValueError, match="channels"):
        check(cfg, ok[:-1], rc)
    with pytest.raises(ValueError, match="table"):
        run(cfg, ok, [0] * 10, rc)


def test_phases_and_samples() -> None:
    rc = RunCfg(n_reset=2, n_load=0, n_int=7, sample_every=3)
    assert sample_points(rc) == [sp for sp in sample_points(rc) if sp.tick in (5, 8, 9)] and [
        s.tick for s in sample_points(rc)
    ] == [5, 8, 9]
    assert [s.n_int_done for s in sample_points(rc)] == [3, 6, 7]
    assert [s.final for s in sample_points(rc)] == [False, False, True]
    assert [s.tick for s in sample_points(replace(rc, sample_every=0))] == [9]
    assert [s.tick for s in sample_points(replace(rc, sample_every=1))] == list(range(3, 10))
    cfg = OdeSeqConfig(n_chips=1, n_addr=1, tab_depth=16)
    tr = run(cfg, _off(cfg), [0] * 16, rc)
    assert tr.phases == [Phase.RESET] * 2 + [Phase.INTEGRATE] * 7 + [Phase.HOLD]
    assert tr.sw == [0b0001] * 2 + [0b0100] * 7 + [0b1000]
    assert SW_OF_PHASE[Phase.LOAD] == 0b0010 and SW_OF_PHASE[Phase.IDLE] == 0


def test_beat_stream_shape(cfg: OdeSeqConfig, table: list[int]) -> None:
    chans = _with(
        cfg,
        ch1=ChannelCfg(Mode.CONST, 0x7FFF),  # chip 0, addr 1: saturates at 12 bits
        ch2=ChannelCfg(Mode.CONST, 0x8000),  # chip 1, addr 0
        ch5=ChannelCfg(Mode.RAMP, 0, 1 << 20),  # chip 2, addr 1
    )
    rc = RunCfg(n_reset=1, n_load=2, n_int=3)
    tr = run(cfg, chans, table, rc)
    assert len(tr.beats) == rc.n_ticks * cfg.n_addr
    assert [b.addr for b in tr.beats] == [0, 1] * rc.n_ticks
    assert [b.last for b in tr.beats] == [False, True] * rc.n_ticks
    assert [b.tick for b in tr.beats] == [k for k in range(rc.n_ticks) for _ in range(2)]
    b0, b1 = tr.beats[0], tr.beats[1]
    assert (b0.mask, b0.codes) == (0b010, (0, 0, 0))
    assert (b1.mask, b1.codes) == (0b101, (4095, 0, 2048))
    assert b1.data_word(12) == 4095 | 2048 << 24
    assert tr.dac_sat_count == rc.n_ticks  # channel 1 every tick
    assert tr.sat[:, 1].all() and not tr.sat[:, [0, 2, 3, 4, 5]].any()
    # an all-OFF configuration still sends every beat (mask 0)
    tr = run(cfg, _off(cfg), table, rc)
    assert len(tr.beats) == rc.n_ticks * cfg.n_addr and all(b.mask == 0 for b in tr.beats)


def test_q15_helpers() -> None:
    assert q15(1.0) == 32767 and q15(-1.0) == -32768 and q15(0.5) == 16384
    assert q15(-0.5) == -16384 and q15(2**-16) == 1  # half up
    assert sine_regs(-0.25, 0.0, -1.0, 0.0) == (0, 0xC000, 0x8000)

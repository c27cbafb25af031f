"""Unit tests of rramcim.golden.dac_spi (the reference of rtl/cim_dac_spi.sv); no simulator."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest

from rramcim.golden.dac_spi import (
    COUNTER_MAX,
    CycleExpect,
    DacBeat,
    DacSpiConfig,
    DacSpiModel,
    LdacPulse,
    PinSample,
    SpiDecoder,
    SpiFrame,
    SpiMode,
    SpiProtocolError,
    beat_cycles,
    beat_timeline,
    chip_words,
    cycles_per_frame,
    decode_pins,
    frame_window_cycles,
    frame_word,
    frame_words,
    idle_cycle,
    ldac_extra_cycles,
    pack_data,
    stream_timeline,
)

RTL = Path(__file__).resolve().parents[1] / "rtl" / "cim_dac_spi.sv"


@pytest.fixture
def cfg() -> DacSpiConfig:
    return DacSpiConfig(n_chips=3, n_ch=6, clk_div=2, t_lead_cyc=3, t_lag_cyc=2, t_idle_cyc=4)


def _random_beats(cfg: DacSpiConfig, n: int, seed: str, bad: bool = True) -> list[DacBeat]:
    rng = random.Random(seed)
    hi = 15 if bad else cfg.n_ch - 1
    return [
        DacBeat(
            addr=rng.randint(0, hi),
            codes=tuple(rng.getrandbits(cfg.data_w) for _ in range(cfg.n_chips)),
            mask=rng.getrandbits(cfg.n_chips),
            last=rng.random() < 0.3,
        )
        for _ in range(n)
    ]


# ----- configuration ----------------------------------------------------------------------


def test_defaults_equal_rtl_defaults() -> None:
    text = RTL.read_text()
    rtl = {
        m.group(1): int(m.group(2))
        for m in re.finditer(r"parameter int\s+([A-Z_]+)\s*=\s*(\d+)", text)
    }
    assert set(rtl) == set(DacSpiConfig.HDL_NAMES)
    assert DacSpiConfig().to_hdl() == rtl


@pytest.mark.parametrize(
    ("kwargs", "field", "value"),
    [
        ({"n_chips": 0}, "n_chips", "0"),
        ({"n_chips": 9}, "n_chips", "9"),
        ({"n_ch": 17}, "n_ch", "17"),
        ({"data_w": 7}, "data_w", "7"),
        ({"data_w": 17, "frame_w": 32}, "data_w", "17"),
        ({"data_w": 12, "frame_w": 19}, "frame_w", "19"),
        ({"frame_w": 33}, "frame_w", "33"),
        ({"clk_div": 0}, "clk_div", "0"),
        ({"clk_div": 256}, "clk_div", "256"),
        ({"cpol": 2}, "cpol", "2"),
        ({"cpha": -1}, "cpha", "-1"),
        ({"t_lead_cyc": 0}, "t_lead_cyc", "0"),
        ({"t_lag_cyc": 256}, "t_lag_cyc", "256"),
        ({"t_idle_cyc": 0}, "t_idle_cyc", "0"),
        ({"ldac_w_cyc": 0}, "ldac_w_cyc", "0"),
        ({"cmd_write": 16}, "cmd_write", "16"),
        ({"cmd_nop": 0}, "cmd_nop", "0"),  # equals the default cmd_write
        ({"clk_div": 2.0}, "clk_div", "2.0"),
        ({"cpol": True}, "cpol", "True"),
    ],
)
def test_config_rejects_bad_values(kwargs: dict, field: str, value: str) -> None:
    with pytest.raises(ValueError, match=rf"^{field}: .*{re.escape(value)}"):
        DacSpiConfig(**kwargs)


def test_from_hdl() -> None:
    c = DacSpiConfig.from_hdl({"N_CHIPS": 8, "DATA_W": 16, "CPOL": 1, "T_IDLE": 7})
    assert (c.n_chips, c.data_w, c.cpol, c.t_idle_cyc, c.frame_w) == (8, 16, 1, 7, 24)
    assert c.mode is SpiMode.MODE3
    assert c.data_bus_w == 128
    with pytest.raises(ValueError, match="unknown cim_dac_spi parameter"):
        DacSpiConfig.from_hdl({"N_CHIP": 2})
    assert DacSpiConfig.from_hdl(c.to_hdl()) == c


@pytest.mark.parametrize(
    ("mode", "cpol", "cpha", "rising"),
    [(SpiMode.MODE0, 0, 0, True), (SpiMode.MODE1, 0, 1, False), (SpiMode.MODE2, 1, 0, False)]
    + [(SpiMode.MODE3, 1, 1, True)],
)
def test_spi_modes(mode: SpiMode, cpol: int, cpha: int, rising: bool) -> None:
    assert (mode.cpol, mode.cpha, mode.samples_on_rising) == (cpol, cpha, rising)
    assert DacSpiConfig(cpol=cpol, cpha=cpha).mode is mode


def test_bad_addrs() -> None:
    assert list(DacSpiConfig(n_ch=14).bad_addrs) == [14, 15]
    assert not DacSpiConfig(n_ch=16).bad_addrs


# ----- frame format -----------------------------------------------------------------------


def test_frame_word_layout() -> None:
    c = DacSpiConfig()  # 12-bit data in 24-bit frames: {cmd, addr, data, 4 zero bits}
    assert frame_word(c, 0x0, 3, 0xABC) == 0x03ABC0
    assert frame_word(c, 0xF, 0, 0) == 0xF00000
    c32 = DacSpiConfig(data_w=16, frame_w=32)
    assert frame_word(c32, 0x3, 0xA, 0xBEEF) == 0x3ABEEF00
    c_tight = DacSpiConfig(data_w=16, frame_w=24)  # no padding
    assert frame_word(c_tight, 0x1, 0x2, 0x3456) == 0x123456
    c8 = DacSpiConfig(data_w=8, frame_w=16)
    assert frame_word(c8, 0x5, 0x6, 0x78) == 0x5678


def test_frame_word_rejects_wide_fields() -> None:
    c = DacSpiConfig()
    with pytest.raises(ValueError, match="^cmd: 16"):
        frame_word(c, 16, 0, 0)
    with pytest.raises(ValueError, match="^addr: -1"):
        frame_word(c, 0, -1, 0)
    with pytest.raises(ValueError, match="^data: 4096"):
        frame_word(c, 0, 0, 4096)


def test_chip_words_mask_and_nop(cfg: DacSpiConfig) -> None:
    beat = DacBeat(addr=5, codes=(0x123, 0x456, 0x789), mask=0b101)
    assert chip_words(cfg, beat) == (0x051230, 0xF00000, 0x057890)
    assert chip_words(cfg, DacBeat(5, (1, 2, 3), 0)) == (0xF00000,) * 3
    assert chip_words(cfg, DacBeat(6, (1, 2, 3), 0b111)) is None  # bad address
    custom = DacSpiConfig(n_chips=2, cmd_write=0x3, cmd_nop=0x0)
    assert chip_words(custom, DacBeat(1, (0xFFF, 0xFFF), 0b10)) == (0x000000, 0x31FFF0)


def test_frame_words_skips_bad_beats(cfg: DacSpiConfig) -> None:
    beats = [
        DacBeat(0, (1, 2, 3), 0b111),
        DacBeat(15, (1, 2, 3), 0b111, last=True),
        DacBeat(2, (4, 5, 6), 0b010),
    ]
    assert frame_words(cfg, beats) == [
        (0x000010, 0x000020, 0x000030),
        (0xF00000, 0x020050, 0xF00000),
    ]


@pytest.mark.parametrize(
    ("beat", "field", "value"),
    [
        (DacBeat(16, (0, 0, 0), 0), "addr", "16"),
        (DacBeat(0, (0, 0), 0), "codes", "2 codes for 3 chips"),
        (DacBeat(0, (0, 4096, 0), 0), r"codes\[1\]", "4096"),
        (DacBeat(0, (0, -1, 0), 0), r"codes\[1\]", "-1"),
        (DacBeat(0, (0, 0, 0), 8), "mask", "8"),
    ],
)
def test_beat_check(cfg: DacSpiConfig, beat: DacBeat, field: str, value: str) -> None:
    with pytest.raises(ValueError, match=rf"^{field}: .*{value}"):
        chip_words(cfg, beat)


def test_pack_data(cfg: DacSpiConfig) -> None:
    assert pack_data(cfg, (0x001, 0x002, 0xFFF)) == 0xFFF_002_001
    assert DacBeat(0, (1, 2, 3), 0).data_word(cfg) == 0x003_002_001
    with pytest.raises(ValueError, match="codes"):
        pack_data(cfg, (1, 2))


# ----- pin timeline -----------------------------------------------------------------------


def _mode_cfg(mode: SpiMode, **kw: int) -> DacSpiConfig:
    return DacSpiConfig(cpol=mode.cpol, cpha=mode.cpha, **kw)


@pytest.mark.parametrize("mode", list(SpiMode))
def test_single_frame_pins_by_mode(mode: SpiMode) -> None:
    """One chip, 8-bit data, 16-bit frame, CLK_DIV 1, lead 1, lag 1: the exact pins."""
    c = _mode_cfg(mode, n_chips=1, data_w=8, frame_w=16, clk_div=1, t_lead_cyc=1, t_lag_cyc=1)
    word = frame_word(c, 0xA, 0x5, 0xC3)  # 0xA5C3 = 1010 0101 1100 0011
    bits = [(word >> (15 - i)) & 1 for i in range(16)]
    tl = beat_timeline(c, (word,), last=False)
    cs_low = [x for x in tl if not x.cs_n]
    assert len(cs_low) == frame_window_cycles(c) == 1 + 31 + 1
    # SCLK: CPOL in the lead cycle, then toggles every cycle, back at CPOL for the lag cycle
    assert [x.sclk for x in cs_low] == [c.cpol] + [c.cpol ^ (1 - k % 2) for k in range(32)]
    # MOSI: bit 0 from CS low; bit i from edge 2i-1+CPHA (edge k shows in rel. cycle 1+k)
    expect = []
    for rel in range(33):
        n_edges = max(0, rel)  # edges seen by relative cycle rel (edge k at rel = 1 + k)
        i = n_edges // 2 if c.cpha == 0 else max(0, (n_edges - 1) // 2)
        expect.append(bits[i] if i < 16 else 0)
    assert [x.mosi for x in cs_low] == expect
    if c.cpha == 1:
        assert cs_low[-1].mosi == bits[-1]  # last bit held until CS rises
    else:
        assert cs_low[-1].mosi == 0  # a 0 shifted in at the last (trailing) edge
    # on every sampling edge the slave sees the frame's bit, MSB first
    frames, _ = decode_pins([idle_cycle(c), *tl], 1, c.cpol, c.cpha, frame_w=16, idle_mosi=0)
    (f,) = frames
    assert f.words == (word,) and f.n_bits == 16 and f.complete


@pytest.mark.parametrize("mode", list(SpiMode))
@pytest.mark.parametrize(("clk_div", "frame_w", "data_w"), [(1, 24, 12), (3, 32, 16)])
def test_stream_round_trip(mode: SpiMode, clk_div: int, frame_w: int, data_w: int) -> None:
    """Decoding the golden pin timeline gives the golden frames, with the stated timing."""
    c = _mode_cfg(
        mode,
        n_chips=4,
        n_ch=10,
        data_w=data_w,
        frame_w=frame_w,
        clk_div=clk_div,
        t_lead_cyc=2,
        t_lag_cyc=3,
        t_idle_cyc=5,
        ldac_w_cyc=4,
    )
    beats = _random_beats(c, 40, f"rt:{mode}:{clk_div}")
    gaps = [random.Random(f"g{i}").choice([0, 0, 0, 1, 7, 300]) for i in range(len(beats))]
    tl = stream_timeline(c, beats, gaps, tail=10)
    frames, pulses = decode_pins(tl.cycles, 4, c.cpol, c.cpha, frame_w=frame_w, idle_mosi=0)
    assert [f.words for f in frames] == frame_words(c, beats)
    assert len(pulses) == sum(b.last for b in beats)
    for f in frames:
        assert f.complete and f.end_cycle - f.start_cycle == frame_window_cycles(c)
        assert f.lead_cycles == c.t_lead_cyc and f.lag_cycles == c.t_lag_cyc
        assert set(f.half_periods) == {clk_div} and len(f.edge_cycles) == 2 * frame_w
    for p in pulses:
        assert p.width_cycles == c.ldac_w_cyc
    # quiet time between bus actions is at least T_IDLE; exactly T_IDLE when back to back
    acts = sorted([(f.start_cycle, f.end_cycle) for f in frames])
    acts += [(p.start_cycle, p.end_cycle) for p in pulses]
    acts.sort()
    for (_, e0), (s1, _) in zip(acts, acts[1:], strict=False):
        assert s1 - e0 >= c.t_idle_cyc
    # acceptance cycles follow beat_cycles exactly
    for i in range(1, len(beats)):
        prev = beats[i - 1]
        earliest = tl.accept_cycles[i - 1] + beat_cycles(c, c.addr_ok(prev.addr), prev.last)
        present = tl.accept_cycles[i - 1] + 1 + gaps[i]
        assert tl.accept_cycles[i] == max(earliest, present)


def test_back_to_back_throughput() -> None:
    c = DacSpiConfig(n_chips=2, clk_div=3, t_lead_cyc=4, t_lag_cyc=5, t_idle_cyc=6)
    beats = [DacBeat(1, (1, 2), 0b11)] * 5
    tl = stream_timeline(c, beats)
    frames, _ = decode_pins(tl.cycles, 2, c.cpol, c.cpha)
    starts = [f.start_cycle for f in frames]
    assert cycles_per_frame(c) == 4 + 47 * 3 + 5 + 6
    assert {b - a for a, b in zip(starts, starts[1:], strict=False)} == {cycles_per_frame(c)}
    gaps = {b.start_cycle - a.end_cycle for a, b in zip(frames, frames[1:], strict=False)}
    assert gaps == {c.t_idle_cyc}
    assert tl.accept_cycles[0] == 0 and frames[0].start_cycle == 1


def test_ldac_position_and_cost() -> None:
    c = DacSpiConfig(n_chips=1, t_idle_cyc=3, ldac_w_cyc=5)
    w = frame_words(c, [DacBeat(0, (7,), 1)])[0]
    tl = beat_timeline(c, w, last=True)
    win = frame_window_cycles(c)
    assert len(tl) == beat_cycles(c, True, True) == cycles_per_frame(c) + ldac_extra_cycles(c)
    low = [n + 1 for n, x in enumerate(tl) if not x.ldac_n]  # offsets after acceptance
    assert low == list(range(win + 3 + 1, win + 3 + 5 + 1))
    assert all(x.cs_n for x in tl if not x.ldac_n)
    assert [n for n, x in enumerate(tl) if x.ready] == [len(tl) - 1]
    assert all(x.busy for x in tl)


def test_bad_beat_timeline() -> None:
    c = DacSpiConfig(n_ch=4, t_idle_cyc=3, ldac_w_cyc=2)
    assert beat_timeline(c, None, last=False) == [idle_cycle(c)]
    tl = beat_timeline(c, None, last=True)
    assert [x.ldac_n for x in tl] == [0, 0, 1, 1, 1]
    assert [x.ready for x in tl] == [0, 0, 0, 0, 1]
    assert all(x.cs_n and x.busy for x in tl)
    beats = [DacBeat(9, (0,) * 4, 0xF, last=True), DacBeat(3, (1,) * 4, 0x1)]
    t = stream_timeline(c, beats)
    frames, pulses = decode_pins(t.cycles, 4, 0, 1)
    assert len(frames) == 1 and len(pulses) == 1
    assert pulses[0].start_cycle == 1 and frames[0].start_cycle == pulses[0].end_cycle + 3


def test_stream_timeline_rejects_bad_gaps() -> None:
    c = DacSpiConfig()
    b = [DacBeat(0, (0,) * 4, 0)]
    with pytest.raises(ValueError, match="gaps"):
        stream_timeline(c, b, [0, 1])
    with pytest.raises(ValueError, match="gaps: -1"):
        stream_timeline(c, b, [-1])


# ----- status model -----------------------------------------------------------------------


def test_model_counts(cfg: DacSpiConfig) -> None:
    m = DacSpiModel(cfg)
    r = m.accept(DacBeat(1, (1, 2, 3), 0b011, last=True))
    assert r.ldac and r.words == chip_words(cfg, DacBeat(1, (1, 2, 3), 0b011))
    assert (m.frame_count, m.ldac_count, m.err_count, m.err_addr) == (0, 0, 0, False)
    m.frame_done()
    m.ldac_done()
    r = m.accept(DacBeat(7, (1, 2, 3), 0b011, last=True))
    assert r.words is None and r.ldac
    assert (m.frame_count, m.ldac_count, m.err_count, m.err_addr) == (1, 1, 1, True)
    m.accept(DacBeat(0, (1, 2, 3), 0))
    assert m.err_addr  # sticky
    m.reset()
    assert (m.frame_count, m.ldac_count, m.err_count, m.err_addr) == (0, 0, 0, False)


def test_model_counters_saturate(cfg: DacSpiConfig) -> None:
    m = DacSpiModel(cfg, frame_count=COUNTER_MAX, ldac_count=COUNTER_MAX - 1)
    m.err_count = COUNTER_MAX
    m.frame_done()
    m.ldac_done()
    m.ldac_done()
    m.accept(DacBeat(15, (0, 0, 0), 0))
    assert (m.frame_count, m.ldac_count, m.err_count) == (COUNTER_MAX,) * 3


def test_model_rejects_bad_beat(cfg: DacSpiConfig) -> None:
    with pytest.raises(ValueError, match="mask"):
        DacSpiModel(cfg).accept(DacBeat(0, (0, 0, 0), 0b1000))


# ----- decoder ----------------------------------------------------------------------------


def _pins(rows: list[tuple[int, int, int, int]]) -> list[PinSample]:
    return [PinSample(*r) for r in rows]


def test_decoder_mode1_by_hand() -> None:
    # CS falls, lead 1, 2 bits, CLK_DIV 1, sampled on falling edges: bits 1, 0 on line 0;
    # 0, 1 on line 1
    rows = [
        (1, 0, 0, 1),
        (0, 0, 0b01, 1),  # CS low
        (0, 1, 0b01, 1),  # edge 0 (rising, leading)
        (0, 0, 0b01, 1),  # edge 1 (falling: sample 01)
        (0, 1, 0b10, 1),  # edge 2 (rising: MOSI moves)
        (0, 0, 0b10, 1),  # edge 3 (falling: sample 10)
        (0, 0, 0b10, 1),  # lag
        (1, 0, 0, 1),  # CS high
        (1, 0, 0, 0),  # LDAC pulse of 2 cycles
        (1, 0, 0, 0),
        (1, 0, 0, 1),
    ]
    frames, pulses = decode_pins(_pins(rows), 2, 0, 1, frame_w=2, idle_mosi=0)
    assert frames == [
        SpiFrame(1, 7, 2, (0b10, 0b01), (2, 3, 4, 5), True),
    ]
    assert frames[0].lead_cycles == 1 and frames[0].lag_cycles == 2
    assert frames[0].half_periods == (1, 1, 1)
    assert pulses == [LdacPulse(8, 10)]


@pytest.mark.parametrize(
    ("rows", "msg"),
    [
        ([(1, 0, 0, 1), (1, 1, 0, 1)], "SCLK = 1 while CS is high"),
        ([(1, 0, 0, 1), (0, 1, 0, 1)], "edge in the cycle CS falls"),
        ([(1, 0, 0, 1), (0, 0, 0, 1), (0, 1, 0, 1), (1, 0, 0, 1)], "edge in the cycle CS rises"),
        # mode 1 samples on the falling edge: MOSI must not change there
        ([(1, 0, 0, 1), (0, 0, 0, 1), (0, 1, 0, 1), (0, 0, 1, 1)], "MOSI changed on a sampling"),
        ([(1, 0, 0, 1), (0, 0, 0, 1), (0, 0, 0, 0)], "LDAC low while CS is low"),
        ([(1, 0, 0, 1), (1, 0, 1, 1)], "MOSI = 0x1 while CS is high"),
    ],
)
def test_decoder_protocol_errors(rows: list[tuple[int, int, int, int]], msg: str) -> None:
    with pytest.raises(SpiProtocolError, match=msg):
        decode_pins(_pins(rows), 1, 0, 1, idle_mosi=0)


def test_decoder_changes_on_shift_edges_are_fine() -> None:
    # mode 0 samples on rising edges; a change on a falling edge is the normal shift
    rows = [(1, 0, 0, 1), (0, 0, 1, 1), (0, 1, 1, 1), (0, 0, 0, 1), (0, 1, 0, 1), (0, 0, 0, 1)]
    rows += [(0, 0, 0, 1), (1, 0, 0, 1)]
    frames, _ = decode_pins(_pins(rows), 1, 0, 0, frame_w=2)
    assert frames[0].words == (0b10,) and frames[0].complete


def test_decoder_abort_and_mid_frame_start() -> None:
    c = DacSpiConfig(n_chips=2, clk_div=1)
    w = frame_words(c, [DacBeat(3, (0xABC, 0x123), 0b11)])[0]
    tl = [idle_cycle(c), *beat_timeline(c, w, last=True)]
    dec = SpiDecoder(2, 0, 1, frame_w=24)
    cut = 20  # cycle of the reset: 20 cycles into the frame
    for cyc, x in enumerate(tl[:cut]):
        assert dec.step(x.pins, cyc) == []
    (f,) = dec.abort(cut)
    assert f.aborted and not f.complete and f.start_cycle == 1 and f.end_cycle == cut
    n_bits = f.n_bits
    assert 0 < n_bits < 24
    assert f.words == tuple(x >> (24 - n_bits) for x in w)  # the bits sent so far
    # restarting in the middle of a window: skipped until CS rises, then normal again
    events = [ev for cyc, x in enumerate(tl[cut:], cut) for ev in dec.step(x.pins, cyc)]
    assert [type(e) for e in events] == [LdacPulse]
    # an LDAC pulse cut by a reset
    dec2 = SpiDecoder(2, 0, 1)
    start = next(i for i, x in enumerate(tl) if not x.ldac_n)
    for cyc, x in enumerate(tl[: start + 1]):
        dec2.step(x.pins, cyc)
    (p,) = dec2.abort(start + 1)
    assert p.aborted and p.width_cycles == 1


def test_decoder_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match="^n_mosi: 0"):
        SpiDecoder(0, 0, 1)
    with pytest.raises(ValueError, match="^cpha: 2"):
        SpiDecoder(1, 0, 2)


def test_cycle_expect_pins() -> None:
    x = CycleExpect(0, 1, 5, 1, 0, 1)
    assert x.pins == PinSample(0, 1, 5, 1)

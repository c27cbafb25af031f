"""Bit-exact and cycle-exact reference of ``rtl/cim_dac_spi.sv`` (SPI driver of the DAC chips).

What is modelled:

* the frame every chip receives for a beat (:func:`chip_words`, :func:`frame_words`):
  ``{cmd[3:0], addr[3:0], data[data_w-1:0], zero padding}``, ``frame_w`` bits, MSB first;
  ``cmd_write`` for a chip whose mask bit is set, ``cmd_nop`` with address and data 0 otherwise;
* the status outputs (:class:`DacSpiModel`): saturating 32-bit counters of frames, LDAC pulses
  and bad beats, the sticky bad-address flag;
* the pin timeline, cycle by cycle (:func:`beat_timeline`, :func:`stream_timeline`): CS, SCLK,
  every MOSI line, LDAC, ``in_ready_o`` and ``busy_o``, and the derived figures
  (:func:`frame_window_cycles`, :func:`cycles_per_frame`, :func:`ldac_extra_cycles`);
* a decoder that turns sampled pin values back into frames and LDAC pulses and checks the
  bus rules (:class:`SpiDecoder`, :func:`decode_pins`); the bench's SPI monitor
  (``tb/vip/spi.py``) runs it on the pins it samples.

Cycle convention (the RTL header's): a beat accepted at the rising edge ending cycle ``a``
has its first CS-low cycle at ``a + 1``; a timeline "offset" ``n`` is cycle ``a + n``. A pin
value "in cycle c" is the value the flip-flops drive between the edge starting c and the edge
ending it (what the bench samples half a cycle later, at the falling edge). An SCLK edge "at
cycle c" is the change that becomes visible in cycle c.

Bad beats (``addr >= n_ch``, possible only for ``n_ch < 16``) send no frame, count in
``err_count`` and set ``err_addr``; one carrying ``last`` still gets its LDAC pulse.

Pure Python; no cocotb import.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

#: Largest value of the 32-bit status counters; they stick there instead of wrapping.
COUNTER_MAX = 2**32 - 1
#: Width of the command and address fields of a frame, bits.
CMD_W = 4
ADDR_W = 4


class SpiMode(enum.IntEnum):
    """The four SPI modes, ``mode = 2*CPOL + CPHA``."""

    MODE0 = 0  # CPOL 0, CPHA 0: SCLK idles low, sampled on the rising (leading) edge
    MODE1 = 1  # CPOL 0, CPHA 1: SCLK idles low, sampled on the falling (trailing) edge
    MODE2 = 2  # CPOL 1, CPHA 0: SCLK idles high, sampled on the falling (leading) edge
    MODE3 = 3  # CPOL 1, CPHA 1: SCLK idles high, sampled on the rising (trailing) edge

    @property
    def cpol(self) -> int:
        """SCLK idle level."""
        return self.value >> 1

    @property
    def cpha(self) -> int:
        """0: data sampled on the leading edge, 1: on the trailing edge."""
        return self.value & 1

    @property
    def samples_on_rising(self) -> bool:
        """Whether the slave samples MOSI on the rising SCLK edge."""
        return self.cpol == self.cpha


class SpiProtocolError(AssertionError):
    """The pins broke an SPI bus rule (:class:`SpiDecoder`). An ``AssertionError``, so a
    cocotb bench counts it as a failed check."""


@dataclass(frozen=True)
class DacSpiConfig:
    """HDL parameters of one ``cim_dac_spi`` instance (validated like the RTL's checks).

    Attributes:
        n_chips: DAC chips, one MOSI line each, 1 .. 8 (``N_CHIPS``).
        n_ch: channels per chip, 1 .. 16 (``N_CH``); addresses ``n_ch .. 15`` are bad.
        data_w: DAC code width, bits, 8 .. 16 (``DATA_W``).
        frame_w: frame length, bits, ``data_w + 8`` .. 32 (``FRAME_W``).
        clk_div: SCLK half period, clock cycles, 1 .. 255 (``CLK_DIV``).
        cpol: SCLK idle level, 0 .. 1 (``CPOL``).
        cpha: 0: sampled on the leading edge, 1: on the trailing edge, 0 .. 1 (``CPHA``).
        t_lead_cyc: cycles from CS low to the first SCLK edge, 1 .. 255 (``T_LEAD``).
        t_lag_cyc: cycles from the last SCLK edge to CS high, 1 .. 255 (``T_LAG``).
        t_idle_cyc: minimum quiet cycles (CS and LDAC high) between frames and LDAC pulses,
            1 .. 255 (``T_IDLE``).
        ldac_w_cyc: LDAC low pulse width, cycles, 1 .. 255 (``LDAC_W``).
        cmd_write: command of a written chip, 0 .. 15 (``CMD_WRITE``).
        cmd_nop: command of a masked chip, 0 .. 15, not ``cmd_write`` (``CMD_NOP``).
    """

    n_chips: int = 4
    n_ch: int = 8
    data_w: int = 12
    frame_w: int = 24
    clk_div: int = 2
    cpol: int = 0
    cpha: int = 1
    t_lead_cyc: int = 2
    t_lag_cyc: int = 2
    t_idle_cyc: int = 2
    ldac_w_cyc: int = 2
    cmd_write: int = 0x0
    cmd_nop: int = 0xF

    def __post_init__(self) -> None:
        _check_range("n_chips", self.n_chips, 1, 8)
        _check_range("n_ch", self.n_ch, 1, 16)
        _check_range("data_w", self.data_w, 8, 16)
        _check_range("frame_w", self.frame_w, self.data_w + 8, 32, "data_w + 8")
        _check_range("clk_div", self.clk_div, 1, 255)
        _check_range("cpol", self.cpol, 0, 1)
        _check_range("cpha", self.cpha, 0, 1)
        for name in ("t_lead_cyc", "t_lag_cyc", "t_idle_cyc", "ldac_w_cyc"):
            _check_range(name, getattr(self, name), 1, 255)
        _check_range("cmd_write", self.cmd_write, 0, 15)
        _check_range("cmd_nop", self.cmd_nop, 0, 15)
        if self.cmd_nop == self.cmd_write:
            raise ValueError(
                f"cmd_nop: {self.cmd_nop} equals cmd_write (a masked chip would be written)"
            )

    #: HDL parameter name -> field name.
    HDL_NAMES = {
        "N_CHIPS": "n_chips",
        "N_CH": "n_ch",
        "DATA_W": "data_w",
        "FRAME_W": "frame_w",
        "CLK_DIV": "clk_div",
        "CPOL": "cpol",
        "CPHA": "cpha",
        "T_LEAD": "t_lead_cyc",
        "T_LAG": "t_lag_cyc",
        "T_IDLE": "t_idle_cyc",
        "LDAC_W": "ldac_w_cyc",
        "CMD_WRITE": "cmd_write",
        "CMD_NOP": "cmd_nop",
    }

    @classmethod
    def from_hdl(cls, params: dict[str, int]) -> DacSpiConfig:
        """Build from HDL parameter names (``N_CHIPS``, ``CLK_DIV``, ...); missing ones default.

        Raises:
            ValueError: on an unknown name or an out-of-range value.
        """
        unknown = set(params) - set(cls.HDL_NAMES)
        if unknown:
            raise ValueError(f"unknown cim_dac_spi parameter(s): {', '.join(sorted(unknown))}")
        return cls(**{cls.HDL_NAMES[k]: int(v) for k, v in params.items()})

    def to_hdl(self) -> dict[str, int]:
        """The HDL parameters of this configuration."""
        return {k: getattr(self, v) for k, v in self.HDL_NAMES.items()}

    @property
    def mode(self) -> SpiMode:
        """The SPI mode (``2*cpol + cpha``)."""
        return SpiMode(2 * self.cpol + self.cpha)

    @property
    def data_bus_w(self) -> int:
        """Width of ``in_data_i`` in bits."""
        return self.n_chips * self.data_w

    @property
    def bad_addrs(self) -> range:
        """Address values that name no channel (empty when ``n_ch`` is 16)."""
        return range(self.n_ch, 1 << ADDR_W)

    def addr_ok(self, addr: int) -> bool:
        """Whether ``addr`` names an existing channel."""
        return 0 <= addr < self.n_ch


@dataclass(frozen=True)
class DacBeat:
    """One input beat of ``cim_dac_spi`` (one frame on every chip).

    Attributes:
        addr: channel, 0 .. 15 (``in_addr_i``; ``>= n_ch`` is a bad beat).
        codes: code of each chip, ``n_chips`` values in ``0 .. 2**data_w - 1``
            (``in_data_i``, chip k at ``[k*data_w +: data_w]``).
        mask: chips to write, bit k for chip k (``in_mask_i``); the others get a NOP frame.
        last: pulse LDAC after this beat (``in_last_i``).
    """

    addr: int
    codes: tuple[int, ...]
    mask: int
    last: bool = False

    def check(self, cfg: DacSpiConfig) -> None:
        """Check that the beat fits the ports of ``cfg``.

        Raises:
            ValueError: naming the field and the value that does not fit.
        """
        _check_range("addr", self.addr, 0, (1 << ADDR_W) - 1)
        if len(self.codes) != cfg.n_chips:
            raise ValueError(f"codes: {len(self.codes)} codes for {cfg.n_chips} chips")
        for k, c in enumerate(self.codes):
            _check_range(f"codes[{k}]", c, 0, (1 << cfg.data_w) - 1)
        _check_range("mask", self.mask, 0, (1 << cfg.n_chips) - 1)

    def data_word(self, cfg: DacSpiConfig) -> int:
        """``in_data_i`` as an unsigned integer."""
        return pack_data(cfg, self.codes)


def pack_data(cfg: DacSpiConfig, codes: Sequence[int]) -> int:
    """Pack one code per chip into the ``in_data_i`` word (chip k at ``[k*data_w +: data_w]``).

    Raises:
        ValueError: on a wrong number of codes or a code that does not fit ``data_w`` bits.
    """
    if len(codes) != cfg.n_chips:
        raise ValueError(f"codes: {len(codes)} codes for {cfg.n_chips} chips")
    word = 0
    for k, c in enumerate(codes):
        _check_range(f"codes[{k}]", c, 0, (1 << cfg.data_w) - 1)
        word |= c << (k * cfg.data_w)
    return word


def frame_word(cfg: DacSpiConfig, cmd: int, addr: int, data: int) -> int:
    """The ``frame_w``-bit word ``{cmd, addr, data, zero padding}`` (bit ``frame_w-1`` is sent
    first).

    Raises:
        ValueError: if a field does not fit its width.
    """
    _check_range("cmd", cmd, 0, (1 << CMD_W) - 1)
    _check_range("addr", addr, 0, (1 << ADDR_W) - 1)
    _check_range("data", data, 0, (1 << cfg.data_w) - 1)
    pad = cfg.frame_w - CMD_W - ADDR_W - cfg.data_w
    return ((((cmd << ADDR_W) | addr) << cfg.data_w) | data) << pad


def chip_words(cfg: DacSpiConfig, beat: DacBeat) -> tuple[int, ...] | None:
    """Frame word of every chip for one beat, or ``None`` for a bad beat (no frame is sent).

    Raises:
        ValueError: if the beat does not fit the ports (:meth:`DacBeat.check`).
    """
    beat.check(cfg)
    if not cfg.addr_ok(beat.addr):
        return None
    nop = frame_word(cfg, cfg.cmd_nop, 0, 0)
    return tuple(
        frame_word(cfg, cfg.cmd_write, beat.addr, c) if beat.mask >> k & 1 else nop
        for k, c in enumerate(beat.codes)
    )


def frame_words(cfg: DacSpiConfig, beats: Iterable[DacBeat]) -> list[tuple[int, ...]]:
    """The frames a beat sequence sends, in order: one tuple of per-chip words per frame
    (bad beats send none)."""
    out = []
    for b in beats:
        w = chip_words(cfg, b)
        if w is not None:
            out.append(w)
    return out


# ------------------------------------------------------------------------------------------
# Timing
# ------------------------------------------------------------------------------------------


def frame_window_cycles(cfg: DacSpiConfig) -> int:
    """CS-low cycles of one frame: ``T_LEAD + (2*FRAME_W - 1)*CLK_DIV + T_LAG``."""
    return cfg.t_lead_cyc + (2 * cfg.frame_w - 1) * cfg.clk_div + cfg.t_lag_cyc


def cycles_per_frame(cfg: DacSpiConfig) -> int:
    """Cycles from one CS fall to the next for back-to-back beats without ``last``:
    the CS-low window plus ``T_IDLE`` cycles of CS high."""
    return frame_window_cycles(cfg) + cfg.t_idle_cyc


def ldac_extra_cycles(cfg: DacSpiConfig) -> int:
    """Cycles a ``last`` flag adds to its beat: the LDAC pulse and ``T_IDLE`` quiet cycles."""
    return cfg.ldac_w_cyc + cfg.t_idle_cyc


def beat_cycles(cfg: DacSpiConfig, good: bool, last: bool) -> int:
    """Cycles from the accepting edge to the first cycle with ``in_ready_o`` high again
    (the acceptance cycle of a back-to-back successor).

    ``cycles_per_frame`` for a good beat, plus ``ldac_extra_cycles`` with ``last``; 1 for a bad
    beat, ``ldac_extra_cycles`` for a bad beat with ``last``.
    """
    if good:
        return cycles_per_frame(cfg) + (ldac_extra_cycles(cfg) if last else 0)
    return ldac_extra_cycles(cfg) if last else 1


class PinSample(NamedTuple):
    """The bus pins in one cycle. ``mosi``: bit k is chip k's line."""

    cs_n: int
    sclk: int
    mosi: int
    ldac_n: int = 1


class CycleExpect(NamedTuple):
    """Pins and handshake outputs of ``cim_dac_spi`` in one cycle."""

    cs_n: int
    sclk: int
    mosi: int
    ldac_n: int
    ready: int
    busy: int

    @property
    def pins(self) -> PinSample:
        return PinSample(self.cs_n, self.sclk, self.mosi, self.ldac_n)


def idle_cycle(cfg: DacSpiConfig) -> CycleExpect:
    """What an idle block shows: CS/LDAC high, SCLK at CPOL, MOSI 0, ready, not busy."""
    return CycleExpect(1, cfg.cpol, 0, 1, 1, 0)


def beat_timeline(cfg: DacSpiConfig, words: Sequence[int] | None, last: bool) -> list[CycleExpect]:
    """Cycle-exact outputs after the acceptance of one beat.

    Args:
        cfg: instance parameters.
        words: the per-chip frame words (:func:`chip_words`), or ``None`` for a bad beat.
        last: the beat's ``in_last_i``.

    Returns:
        Element ``n-1`` is cycle ``a + n`` for ``n = 1 .. beat_cycles(cfg, ...)``; the last
        element is the first cycle with ``in_ready_o`` high again. Beyond it (no new beat
        accepted) the block shows :func:`idle_cycle`.
    """
    out: list[CycleExpect] = []
    quiet = CycleExpect(1, cfg.cpol, 0, 1, 0, 1)
    if words is not None:
        f, div, lead = cfg.frame_w, cfg.clk_div, cfg.t_lead_cyc
        for rel in range(frame_window_cycles(cfg)):  # cycles since CS fell
            n_edges = 0 if rel < lead else min(2 * f, (rel - lead) // div + 1)
            sclk = cfg.cpol ^ (n_edges & 1)
            # bit i (i >= 1) appears at edge 2i-1+cpha: count the moving edges seen so far
            bit = n_edges // 2 if cfg.cpha == 0 else max(0, (n_edges - 1) // 2)
            mosi = 0
            if bit < f:
                for k, w in enumerate(words):
                    mosi |= ((w >> (f - 1 - bit)) & 1) << k
            out.append(CycleExpect(0, sclk, mosi, 1, 0, 1))
        out += [quiet] * cfg.t_idle_cyc
    elif not last:
        return [idle_cycle(cfg)]  # consumed in one cycle, busy_o never rises
    if last:
        out += [CycleExpect(1, cfg.cpol, 0, 0, 0, 1)] * cfg.ldac_w_cyc
        out += [quiet] * cfg.t_idle_cyc
    out[-1] = out[-1]._replace(ready=1)
    return out


@dataclass(frozen=True)
class Timeline:
    """Outputs of a stream of beats, cycle by cycle (:func:`stream_timeline`).

    Attributes:
        cycles: the outputs in cycles 0, 1, ... (cycle 0: the first cycle after reset).
        accept_cycles: the cycle in which each beat was accepted (valid and ready high).
    """

    cycles: list[CycleExpect]
    accept_cycles: list[int]


def stream_timeline(
    cfg: DacSpiConfig,
    beats: Sequence[DacBeat],
    gaps: Sequence[int] | None = None,
    tail: int = 0,
) -> Timeline:
    """Outputs of ``cim_dac_spi`` for a source that presents ``beats`` in order.

    Beat ``i`` is presented (``in_valid_i`` high) from cycle ``a_{i-1} + 1 + gaps[i]`` on
    (``a_{-1} = -1``, so the first beat comes ``gaps[0]`` cycles after reset) and accepted in
    the first cycle from then on in which ``in_ready_o`` is high.

    Args:
        cfg: instance parameters.
        beats: the beats.
        gaps: idle cycles before each beat (default: none, back to back).
        tail: idle cycles appended after the last beat's timeline.

    Raises:
        ValueError: on a bad beat field or a negative gap.
    """
    gaps = [0] * len(beats) if gaps is None else list(gaps)
    if len(gaps) != len(beats):
        raise ValueError(f"gaps: {len(gaps)} gaps for {len(beats)} beats")
    idle = idle_cycle(cfg)
    cycles: list[CycleExpect] = []
    accepts: list[int] = []
    pending: list[CycleExpect] = []  # outputs from the current cycle on
    c = 0
    prev_accept = -1
    for beat, gap in zip(beats, gaps, strict=True):
        if gap < 0:
            raise ValueError(f"gaps: {gap} is negative")
        present = prev_accept + 1 + gap
        while True:
            now = pending.pop(0) if pending else idle
            cycles.append(now)
            if c >= present and now.ready:
                break
            c += 1
        accepts.append(c)
        prev_accept = c
        pending = beat_timeline(cfg, chip_words(cfg, beat), beat.last)
        c += 1
    cycles += pending
    cycles += [idle] * tail
    return Timeline(cycles, accepts)


# ------------------------------------------------------------------------------------------
# Status model
# ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BeatResult:
    """What one accepted beat does.

    Attributes:
        words: per-chip frame words of its frame, or ``None`` (bad beat: no frame).
        ldac: whether an LDAC pulse follows.
    """

    words: tuple[int, ...] | None
    ldac: bool


@dataclass
class DacSpiModel:
    """Reference of the data and status outputs of one ``cim_dac_spi``.

    Feed every accepted beat, in order, to :meth:`accept`; call :meth:`frame_done` when a
    frame completes (CS rises at its end) and :meth:`ldac_done` when an LDAC pulse ends. The
    attributes then equal the RTL status outputs in that cycle. :meth:`reset` mirrors
    ``rst_ni`` (a cut frame or pulse is never counted).

    Attributes:
        cfg: instance parameters.
        frame_count: ``frame_count_o``, frames completed (saturates at :data:`COUNTER_MAX`).
        ldac_count: ``ldac_count_o``, LDAC pulses completed (saturates).
        err_count: ``err_count_o``, bad beats accepted (saturates; counted in the cycle after
            the accepting edge).
        err_addr: ``err_addr_o``, sticky.
    """

    cfg: DacSpiConfig
    frame_count: int = 0
    ldac_count: int = 0
    err_count: int = 0
    err_addr: bool = False
    _nop: int = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._nop = frame_word(self.cfg, self.cfg.cmd_nop, 0, 0)

    def reset(self) -> None:
        """Clear counters and the sticky flag (``rst_ni`` low)."""
        self.frame_count = self.ldac_count = self.err_count = 0
        self.err_addr = False

    def words(self, beat: DacBeat) -> tuple[int, ...] | None:
        """Per-chip frame words of a beat (a hook a bench may override to test itself)."""
        return chip_words(self.cfg, beat)

    def accept(self, beat: DacBeat) -> BeatResult:
        """Process one accepted beat; updates ``err_count`` / ``err_addr`` for a bad one.

        Raises:
            ValueError: if the beat does not fit the ports.
        """
        words = self.words(beat)
        if words is None:
            self.err_count = min(self.err_count + 1, COUNTER_MAX)
            self.err_addr = True
        return BeatResult(words, bool(beat.last))

    def frame_done(self) -> None:
        """A frame completed (CS rose at its end)."""
        self.frame_count = min(self.frame_count + 1, COUNTER_MAX)

    def ldac_done(self) -> None:
        """An LDAC pulse completed (LDAC rose at its end)."""
        self.ldac_count = min(self.ldac_count + 1, COUNTER_MAX)


# ------------------------------------------------------------------------------------------
# Pin decoder (the monitor's core)
# ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SpiFrame:
    """One CS-low window as seen on the pins.

    Attributes:
        start_cycle: first cycle with CS low.
        end_cycle: first cycle with CS high again (the window is ``end - start`` cycles).
        n_bits: bits sampled (sampling edges seen).
        words: per MOSI line, the bits sampled, first bit most significant
            (``n_bits`` bits each).
        edge_cycles: the cycle of every SCLK edge (the first cycle showing the new level).
        complete: not ``aborted`` and ``n_bits`` equals the decoder's ``frame_w`` (any
            count without one).
        t_start_ns: time of the first CS-low sample, ns (None if the caller gave no times).
        t_end_ns: time of the first CS-high sample, ns.
        aborted: cut by a bus reset (:meth:`SpiDecoder.abort`); ``end_cycle`` is the cycle of
            the reset.
    """

    start_cycle: int
    end_cycle: int
    n_bits: int
    words: tuple[int, ...]
    edge_cycles: tuple[int, ...]
    complete: bool
    t_start_ns: float | None = None
    t_end_ns: float | None = None
    aborted: bool = False

    @property
    def lead_cycles(self) -> int | None:
        """Cycles from CS low to the first SCLK edge (None without edges)."""
        return self.edge_cycles[0] - self.start_cycle if self.edge_cycles else None

    @property
    def lag_cycles(self) -> int | None:
        """Cycles from the last SCLK edge to CS high (None without edges)."""
        return self.end_cycle - self.edge_cycles[-1] if self.edge_cycles else None

    @property
    def half_periods(self) -> tuple[int, ...]:
        """Cycles between consecutive SCLK edges."""
        e = self.edge_cycles
        return tuple(b - a for a, b in zip(e, e[1:], strict=False))


@dataclass(frozen=True)
class LdacPulse:
    """One LDAC low pulse: ``start_cycle`` first low cycle, ``end_cycle`` first high cycle
    (or the cycle of the bus reset that cut it: ``aborted``); times in ns if given."""

    start_cycle: int
    end_cycle: int
    t_start_ns: float | None = None
    t_end_ns: float | None = None
    aborted: bool = False

    @property
    def width_cycles(self) -> int:
        return self.end_cycle - self.start_cycle


class SpiDecoder:
    """Turns per-cycle pin samples of a multi-MOSI SPI bus (shared SCLK and CS, optional LDAC)
    into frames and LDAC pulses, and checks the bus rules.

    Feed one :class:`PinSample` per clock cycle to :meth:`step` (sampled at the same point
    of every cycle, e.g. after the falling edge of the master's clock). An SCLK edge is seen
    as a level change between two samples; on each sampling edge of the mode (leading edge for
    CPHA 0, trailing for CPHA 1) the decoder takes every MOSI line's value of the sample
    *before* the edge, i.e. what a slave with zero setup time sees.

    Checks (a :class:`SpiProtocolError` names the rule and the cycle):

    * SCLK at CPOL in every sample with CS high, and no SCLK edge in the sample where CS
      falls or rises (lead and lag of at least one cycle);
    * MOSI unchanged across a sampling edge (the master must change it on the other edge);
    * with ``idle_mosi``: MOSI equal to it (all lines) whenever CS is high;
    * without ``ldac_in_frame_ok``: LDAC never low while CS is low.

    Args:
        n_mosi: MOSI lines, >= 1.
        cpol: SCLK idle level, 0 or 1.
        cpha: 0: sampled on the leading edge, 1: on the trailing edge.
        frame_w: expected bits per frame (sets :attr:`SpiFrame.complete`); None: any.
        idle_mosi: required MOSI word while CS is high, or None (not checked).
        ldac_in_frame_ok: allow LDAC low during a frame.
    """

    def __init__(
        self,
        n_mosi: int,
        cpol: int,
        cpha: int,
        *,
        frame_w: int | None = None,
        idle_mosi: int | None = None,
        ldac_in_frame_ok: bool = False,
    ) -> None:
        _check_range("n_mosi", n_mosi, 1, 1024)
        _check_range("cpol", cpol, 0, 1)
        _check_range("cpha", cpha, 0, 1)
        if frame_w is not None:
            _check_range("frame_w", frame_w, 1, 1 << 16)
        self.n_mosi = n_mosi
        self.cpol = cpol
        self.cpha = cpha
        self.frame_w = frame_w
        self.idle_mosi = idle_mosi
        self.ldac_in_frame_ok = ldac_in_frame_ok
        self.reset()

    def reset(self) -> None:
        """Forget the frame and pulse in progress and the previous sample; a window already
        open at the next sample is skipped (its start is unknown)."""
        self._prev: PinSample | None = None
        self._in_frame = False
        self._skip = False
        self._start = 0
        self._t_start: float | None = None
        self._words = [0] * self.n_mosi
        self._n_bits = 0
        self._edges: list[int] = []
        self._ldac_start: int | None = None
        self._t_ldac: float | None = None

    def abort(self, cycle: int, t_ns: float | None = None) -> list[SpiFrame | LdacPulse]:
        """The bus is being reset in ``cycle``: report the frame and LDAC pulse in progress,
        if any, as cut (``aborted``, ending in ``cycle``), then :meth:`reset`."""
        out: list[SpiFrame | LdacPulse] = []
        if self._in_frame:
            out.append(self._frame(cycle, t_ns, aborted=True))
        if self._ldac_start is not None:
            out.append(LdacPulse(self._ldac_start, cycle, self._t_ldac, t_ns, aborted=True))
        self.reset()
        return out

    def _frame(self, cycle: int, t_ns: float | None, aborted: bool) -> SpiFrame:
        return SpiFrame(
            start_cycle=self._start,
            end_cycle=cycle,
            n_bits=self._n_bits,
            words=tuple(self._words),
            edge_cycles=tuple(self._edges),
            complete=not aborted and (self.frame_w is None or self._n_bits == self.frame_w),
            t_start_ns=self._t_start,
            t_end_ns=t_ns,
            aborted=aborted,
        )

    def step(
        self, s: PinSample, cycle: int, t_ns: float | None = None
    ) -> list[SpiFrame | LdacPulse]:
        """Take the sample of ``cycle``; return the frames and pulses that ended in it.

        Raises:
            SpiProtocolError: on a broken bus rule (see the class docstring).
        """
        prev, self._prev = self._prev, s
        out: list[SpiFrame | LdacPulse] = []
        if s.cs_n:
            if s.sclk != self.cpol:
                raise SpiProtocolError(
                    f"cycle {cycle}: SCLK = {s.sclk} while CS is high (CPOL = {self.cpol})"
                )
            if self.idle_mosi is not None and s.mosi != self.idle_mosi:
                raise SpiProtocolError(
                    f"cycle {cycle}: MOSI = {s.mosi:#x} while CS is high (idle {self.idle_mosi:#x})"
                )
        elif not s.ldac_n and not self.ldac_in_frame_ok:
            raise SpiProtocolError(f"cycle {cycle}: LDAC low while CS is low")
        if prev is None:
            # first sample: a window or pulse already in progress has an unknown start
            self._skip = not s.cs_n
            return out
        edge = s.sclk != prev.sclk
        if s.cs_n:
            self._skip = False
            if self._in_frame:
                if edge:
                    raise SpiProtocolError(
                        f"cycle {cycle}: SCLK edge in the cycle CS rises (no lag time)"
                    )
                self._in_frame = False
                out.append(self._frame(cycle, t_ns, aborted=False))
        elif self._skip:
            pass
        elif not self._in_frame:  # CS falls
            if edge:
                raise SpiProtocolError(
                    f"cycle {cycle}: SCLK edge in the cycle CS falls (no lead time)"
                )
            self._in_frame = True
            self._start = cycle
            self._t_start = t_ns
            self._words = [0] * self.n_mosi
            self._n_bits = 0
            self._edges = []
        elif edge:
            self._edges.append(cycle)
            leading = prev.sclk == self.cpol
            if leading != bool(self.cpha):  # the sampling edge of the mode
                if s.mosi != prev.mosi:
                    raise SpiProtocolError(
                        f"cycle {cycle}: MOSI changed on a sampling edge "
                        f"({prev.mosi:#x} -> {s.mosi:#x}, bit {self._n_bits})"
                    )
                m = prev.mosi
                w = self._words
                for j in range(self.n_mosi):
                    w[j] = (w[j] << 1) | ((m >> j) & 1)
                self._n_bits += 1
        if not s.ldac_n and prev.ldac_n:
            self._ldac_start = cycle
            self._t_ldac = t_ns
        elif s.ldac_n and not prev.ldac_n and self._ldac_start is not None:
            out.append(LdacPulse(self._ldac_start, cycle, self._t_ldac, t_ns))
            self._ldac_start = None
        return out

    @property
    def in_frame(self) -> bool:
        """Whether a CS-low window is open (seen falling, not yet risen)."""
        return self._in_frame

    @property
    def in_ldac(self) -> bool:
        """Whether an LDAC pulse is open (seen falling, not yet risen)."""
        return self._ldac_start is not None

    @property
    def n_bits(self) -> int:
        """Bits sampled so far in the open window (or in the last one)."""
        return self._n_bits

    @property
    def n_edges(self) -> int:
        """SCLK edges seen so far in the open window (or in the last one)."""
        return len(self._edges)


def decode_pins(
    samples: Iterable[PinSample | CycleExpect],
    n_mosi: int,
    cpol: int,
    cpha: int,
    *,
    frame_w: int | None = None,
    idle_mosi: int | None = None,
) -> tuple[list[SpiFrame], list[LdacPulse]]:
    """Decode a whole per-cycle pin record (sample ``i`` is cycle ``i``) with
    :class:`SpiDecoder`; returns the frames and the LDAC pulses."""
    dec = SpiDecoder(n_mosi, cpol, cpha, frame_w=frame_w, idle_mosi=idle_mosi)
    frames: list[SpiFrame] = []
    pulses: list[LdacPulse] = []
    for c, s in enumerate(samples):
        pins = s.pins if isinstance(s, CycleExpect) else s
        for ev in dec.step(pins, c):
            (frames if isinstance(ev, SpiFrame) else pulses).append(ev)  # type: ignore[arg-type]
    return frames, pulses


def _check_range(name: str, value: int, lo: int, hi: int, lo_name: str | None = None) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name}: expected an integer, got {value!r}")
    if not lo <= value <= hi:
        lo_s = f"{lo_name} = {lo}" if lo_name else str(lo)
        raise ValueError(f"{name}: {value} out of {lo_s} .. {hi}")

"""Bit-exact reference of ``rtl/cim_ode_seq.sv`` (closed-loop solver sequencer).

The sequencer runs the analogue diffusion solver tick by tick: per tick it computes one signed
Q1.15 value ``v`` for every DAC channel, converts it to a DAC code and sends the codes to
``cim_dac_spi`` as ``n_addr`` beats; it sets the switch pins of the run phase and, on sample
ticks, asks the ADC interface for one conversion of the solver state and streams the result.

What is modelled (trace level, not cycle level):

* the configuration rules (:func:`check`, :func:`validate`) in the order the RTL checks them;
* the per-tick phase / switch pattern, the channel values and DAC codes, the DAC beat stream
  (address, one code per chip, chip mask, last flag), the sample points and the DAC-code
  saturation count (:func:`run`);
* the exact arithmetic of every channel mode, including the iterative CORDIC sine
  (:func:`sin_q15`) and the xorshift32 Gaussian approximation (:class:`NoiseGen`).

The cycle-level timing (tick timer, overruns, handshakes, abort) is specified in the RTL
header; the bench checks it from the pins with the formulas given there.

Channel index ``ch = chip * n_addr + addr``; values are computed for every tick ``k`` of the
run (RESET and LOAD ticks included, the HOLD tick excluded), in increasing channel order.

Arithmetic (all shifts are arithmetic, i.e. floor division by a power of two; ``sat16`` clamps
to ``[-32768, 32767]``; registers ``p0``, ``p1``, ``p2`` are 32-bit words):

* OFF (0): not written; value 0 (what a NOISE channel referring to it reads); the chip gets a
  NOP frame (mask bit 0, data 0).
* CONST (1): ``v = signed16(p0[15:0])``.
* RAMP (2): 32-bit accumulator ``A_0 = p0``, ``A_{k+1} = (A_k + p1) mod 2^32``;
  ``v = sat16((signed32(A_k) + 2^15) >> 16)``. ``A`` is Q1.31 (16 fraction bits below Q1.15).
* SINE (3): 16-bit phase ``P_0 = p0[15:0]``, ``P_{k+1} = (P_k + p1[15:0]) mod 2^16`` (a full
  turn is 2^16); ``v = sat16(((amp * sin_q15(P_k)) >> 15) + off)``, ``amp = signed16(p2[15:0])``,
  ``off = signed16(p2[31:16])``. Cosine: start phase + 0x4000.
* TABLE (4): index accumulator ``I_0 = p0``, ``I' = I_k + p1``, ``I_{k+1} = I' - len*256`` if
  ``I' >= len*256`` else ``I'`` (8 fraction bits); ``v = table[base + (I_k >> 8)]``,
  ``base = p2[15:0]``, ``len = p2[31:16]``.
* NOISE (5): ``g`` = sum of four signed 12-bit uniforms (four xorshift32 steps, the top 12
  bits of each new state; :class:`NoiseGen`), ``g`` in ``[-8192, 8188]``, standard deviation
  ``4096 * 2 / sqrt(12) = 2364.8``; ``g_scaled = sat16((g * amp) >> 11)`` with
  ``amp = signed16(p1[15:0])`` (so ``std(g_scaled) = amp * 2/sqrt(3) = 1.1547 * amp``);
  ``v = sat16(((g_scaled * v_ref) >> 15) + off)``, ``v_ref`` = this tick's value of channel
  ``ref`` (``ref < ch``), ``off = signed16(p0[15:0])``. One sample per NOISE channel per tick,
  channels in increasing order; the generator is seeded with ``seed`` at the start of a run.
* DAC code: ``s = 16 - data_w``; ``code = clamp(2^(data_w-1) + ((v + h) >> s), 0,
  2^data_w - 1)`` with ``h = 2^(s-1)`` (0 for ``s = 0``): round half up. A clamp of a written
  (not OFF) channel is a saturation and is counted.

CORDIC (:func:`sin_q15`, ``iters`` = ``CORDIC_ITERS``, 8 .. 16): quadrant ``q = P[15:14]``,
angle in the quadrant ``theta = P[13:0] * 16`` in units of 2^-20 turn (a quarter turn is 2^18).
Start ``x = 39797`` (``round(2^16 * prod 1/sqrt(1 + 2^-2i))``, the gain compensation; the same
integer for every ``iters`` in 8 .. 16), ``y = 0``, ``z = theta``; iteration ``i = 0 ..
iters-1``: ``d = +1`` if ``z >= 0`` else ``-1``; ``x' = x - d*(y >> i)``, ``y' = y + d*(x >> i)``,
``z' = z - d*ATAN[i]`` with ``ATAN[i] = round(atan(2^-i) / (2 pi) * 2^20)``. Word widths in the
RTL: x, y 18-bit signed (Q1.16), z 22-bit signed; no overflow occurs. Result ``r = y``
(``q`` even) or ``x`` (``q`` odd), negated for ``q >= 2``; ``sin_q15 = sat16((r + 1) >> 1)``.
Measured error against ``round(32768 sin)``: see ``tests/test_golden_ode_seq.py``
(:data:`SIN_ERR_BOUND_LSB`).

Pure Python/numpy; no cocotb import.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

#: Gain-compensated CORDIC start value of x (Q1.16).
CORDIC_X0 = 39797
#: ``round(atan(2^-i) / (2 pi) * 2^20)`` for i = 0 .. 15 (angle unit 2^-20 turn).
CORDIC_ATAN = (
    131072,
    77376,
    40884,
    20753,
    10417,
    5213,
    2607,
    1304,
    652,
    326,
    163,
    81,
    41,
    20,
    10,
    5,
)
#: Largest |sin_q15(P) - round(32768 sin(2 pi P / 2^16))| over all P, in Q1.15 LSB, per
#: CORDIC_ITERS (measured exhaustively by the unit tests; the residual angle after n
#: iterations is at most atan(2^-(n-1)), plus rounding).
SIN_ERR_BOUND_LSB = {8: 257, 9: 130, 10: 66, 11: 35, 12: 19, 13: 12, 14: 8, 15: 7, 16: 6}
#: Width of the ``ref`` field (bits [12:8] of the mode word): a NOISE channel can refer to
#: channels 0 .. 31.
REF_W = 5
#: Saturating counters of the RTL stick at this value.
COUNTER_MAX = 2**32 - 1
U32 = (1 << 32) - 1


class Mode(enum.IntEnum):
    """Channel modes (field 0 bits [2:0]); 6 and 7 are illegal."""

    OFF = 0
    CONST = 1
    RAMP = 2
    SINE = 3
    TABLE = 4
    NOISE = 5


class Phase(enum.IntEnum):
    """Run phases (``phase_o``)."""

    IDLE = 0
    RESET = 1
    LOAD = 2
    INTEGRATE = 3
    HOLD = 4


#: Switch pins ``sw_o = {S4, S3, S2, S1}`` of each phase.
SW_OF_PHASE = {Phase.IDLE: 0b0000, Phase.RESET: 0b0001, Phase.LOAD: 0b0010}
SW_OF_PHASE |= {Phase.INTEGRATE: 0b0100, Phase.HOLD: 0b1000}


class ErrCode(enum.IntEnum):
    """``err_code_o``: the first configuration rule a refused start broke."""

    NONE = 0
    N_INT = 1  # n_int == 0
    SEED = 2  # seed == 0
    MODE = 3  # mode 6 or 7
    TAB_LEN = 4  # TABLE: len == 0 or base + len > tab_depth
    TAB_STEP = 5  # TABLE: p1 >= len * 256
    TAB_START = 6  # TABLE: p0 >= len * 256
    NOISE_REF = 7  # NOISE: ref >= ch


def _check_range(name: str, value: int, lo: int, hi: int) -> None:
    if not isinstance(value, (int, np.integer)) or not lo <= value <= hi:
        raise ValueError(f"{name}: {value!r} outside {lo} .. {hi}")


def s16(x: int) -> int:
    """Low 16 bits of ``x`` as a signed integer."""
    x &= 0xFFFF
    return x - 0x10000 if x & 0x8000 else x


def s32(x: int) -> int:
    """Low 32 bits of ``x`` as a signed integer."""
    x &= U32
    return x - (1 << 32) if x & (1 << 31) else x


def sat16(x: int) -> int:
    """Clamp to the signed 16-bit range."""
    return max(-32768, min(32767, x))


@dataclass(frozen=True)
class OdeSeqConfig:
    """HDL parameters of one ``cim_ode_seq`` instance (validated like the RTL's checks).

    Attributes:
        n_chips: DAC chips, 1 .. 8 (``N_CHIPS``).
        n_addr: channels per chip, 1 .. 16 (``N_ADDR``).
        data_w: DAC code width, bits, 8 .. 16 (``DATA_W``).
        n_state: state channels per ADC conversion, 1 .. 16 (``N_STATE``).
        adc_bits: ADC code width, bits, 4 .. 16 (``ADC_BITS``).
        tab_depth: drive-table entries, a power of two, 16 .. 1024 (``TAB_DEPTH``).
        cordic_iters: CORDIC iterations per sine, 8 .. 16 (``CORDIC_ITERS``).
    """

    n_chips: int = 4
    n_addr: int = 4
    data_w: int = 12
    n_state: int = 2
    adc_bits: int = 12
    tab_depth: int = 256
    cordic_iters: int = 16

    HDL_NAMES = {
        "N_CHIPS": "n_chips",
        "N_ADDR": "n_addr",
        "DATA_W": "data_w",
        "N_STATE": "n_state",
        "ADC_BITS": "adc_bits",
        "TAB_DEPTH": "tab_depth",
        "CORDIC_ITERS": "cordic_iters",
    }

    def __post_init__(self) -> None:
        _check_range("n_chips", self.n_chips, 1, 8)
        _check_range("n_addr", self.n_addr, 1, 16)
        _check_range("data_w", self.data_w, 8, 16)
        _check_range("n_state", self.n_state, 1, 16)
        _check_range("adc_bits", self.adc_bits, 4, 16)
        _check_range("tab_depth", self.tab_depth, 16, 1024)
        if self.tab_depth & (self.tab_depth - 1):
            raise ValueError(f"tab_depth: {self.tab_depth} is not a power of two")
        _check_range("cordic_iters", self.cordic_iters, 8, 16)

    @classmethod
    def from_hdl(cls, params: dict[str, int]) -> OdeSeqConfig:
        """Build from HDL parameter names; missing ones default.

        Raises:
            ValueError: on an unknown name or an out-of-range value.
        """
        unknown = set(params) - set(cls.HDL_NAMES)
        if unknown:
            raise ValueError(f"unknown cim_ode_seq parameter(s): {', '.join(sorted(unknown))}")
        return cls(**{cls.HDL_NAMES[k]: int(v) for k, v in params.items()})

    def to_hdl(self) -> dict[str, int]:
        """The HDL parameters of this configuration."""
        return {k: getattr(self, v) for k, v in self.HDL_NAMES.items()}

    @property
    def n_ch(self) -> int:
        """DAC channels, ``n_chips * n_addr``."""
        return self.n_chips * self.n_addr


@dataclass(frozen=True)
class ChannelCfg:
    """Register values of one channel (word address ``ch*4 + field``).

    Attributes:
        mode: field 0 bits [2:0], 0 .. 7 (:class:`Mode`; 6 and 7 are refused at start).
        p0: field 1, 32-bit register value, 0 .. 2^32-1.
        p1: field 2, 32-bit register value.
        p2: field 3, 32-bit register value.
        ref: field 0 bits [12:8], 0 .. 31: the channel a NOISE channel multiplies by.
    """

    mode: int = Mode.OFF
    p0: int = 0
    p1: int = 0
    p2: int = 0
    ref: int = 0

    def __post_init__(self) -> None:
        _check_range("mode", int(self.mode), 0, 7)
        for name in ("p0", "p1", "p2"):
            _check_range(name, getattr(self, name), 0, U32)
        _check_range("ref", self.ref, 0, (1 << REF_W) - 1)

    def words(self) -> tuple[int, int, int, int]:
        """The four register words (fields 0 .. 3)."""
        return (int(self.mode) | (self.ref << 8), self.p0, self.p1, self.p2)

    @classmethod
    def from_words(cls, words: Sequence[int]) -> ChannelCfg:
        """Inverse of :meth:`words` (bits the RTL ignores are dropped)."""
        w0 = int(words[0])
        return cls(w0 & 7, int(words[1]) & U32, int(words[2]) & U32, int(words[3]) & U32,
                   (w0 >> 8) & ((1 << REF_W) - 1))  # fmt: skip


@dataclass(frozen=True)
class RunCfg:
    """Run parameters (the ``*_i`` run inputs; port widths are checked here, the rules at
    start by :func:`check`).

    Attributes:
        n_reset: RESET ticks, 0 .. 65535.
        n_load: LOAD ticks, 0 .. 65535.
        n_int: INTEGRATE ticks, 0 .. 65535 (0 is refused at start).
        t_tick_cyc: tick period, clock cycles, 0 .. 2^32-1 (0 acts as 1).
        sample_every: sample after every k-th integrate tick, 0 .. 65535 (0: final only).
        seed: noise generator seed, 0 .. 2^32-1 (0 is refused at start).
    """

    n_reset: int = 1
    n_load: int = 1
    n_int: int = 8
    t_tick_cyc: int = 1000
    sample_every: int = 0
    seed: int = 1

    def __post_init__(self) -> None:
        for name in ("n_reset", "n_load", "n_int", "sample_every"):
            _check_range(name, getattr(self, name), 0, 0xFFFF)
        _check_range("t_tick_cyc", self.t_tick_cyc, 0, U32)
        _check_range("seed", self.seed, 0, U32)

    @property
    def n_ticks(self) -> int:
        """Ticks that send DAC beats (RESET + LOAD + INTEGRATE)."""
        return self.n_reset + self.n_load + self.n_int


@dataclass(frozen=True)
class ConfigError:
    """A broken configuration rule (the one the RTL reports).

    Attributes:
        code: the rule (``err_code_o``).
        ch: the channel (``err_ch_o``), 0 for the run-level rules.
        message: names the channel, field and value.
    """

    code: ErrCode
    ch: int
    message: str


def check(
    cfg: OdeSeqConfig,
    channels: Sequence[ChannelCfg],
    runcfg: RunCfg,
) -> ConfigError | None:
    """The first broken rule in the RTL's order, or ``None``.

    Order: ``n_int == 0``, ``seed == 0``, then channel by channel (increasing ``ch``): mode,
    table span, table step, table start, noise reference.

    Raises:
        ValueError: if ``channels`` does not hold ``cfg.n_ch`` entries.
    """
    if len(channels) != cfg.n_ch:
        raise ValueError(f"channels: {len(channels)} entries for {cfg.n_ch} channels")
    if runcfg.n_int == 0:
        return ConfigError(ErrCode.N_INT, 0, "n_int: 0 (at least one integrate tick)")
    if runcfg.seed == 0:
        return ConfigError(ErrCode.SEED, 0, "seed: 0 (xorshift32 would stay at 0)")
    for ch, c in enumerate(channels):
        if c.mode > Mode.NOISE:
            return ConfigError(ErrCode.MODE, ch, f"channel {ch} mode: {c.mode} is not 0 .. 5")
        if c.mode == Mode.TABLE:
            base, length = c.p2 & 0xFFFF, c.p2 >> 16
            span = length * 256
            if length == 0 or base + length > cfg.tab_depth:
                return ConfigError(
                    ErrCode.TAB_LEN,
                    ch,
                    f"channel {ch} p2: base {base} + len {length} outside 1 .. "
                    f"tab_depth {cfg.tab_depth} (len >= 1 required)",
                )
            if c.p1 >= span:
                return ConfigError(
                    ErrCode.TAB_STEP, ch, f"channel {ch} p1: step {c.p1} >= len*256 = {span}"
                )
            if c.p0 >= span:
                return ConfigError(
                    ErrCode.TAB_START, ch, f"channel {ch} p0: start {c.p0} >= len*256 = {span}"
                )
        if c.mode == Mode.NOISE and c.ref >= ch:
            return ConfigError(
                ErrCode.NOISE_REF, ch, f"channel {ch} ref: {c.ref} is not a lower channel"
            )
    return None


def validate(cfg: OdeSeqConfig, channels: Sequence[ChannelCfg], runcfg: RunCfg) -> None:
    """Raise on the first broken configuration rule (see :func:`check`).

    Raises:
        ValueError: naming the channel, field and value.
    """
    err = check(cfg, channels, runcfg)
    if err is not None:
        raise ValueError(f"{err.code.name}: {err.message}")


# ----- arithmetic ---------------------------------------------------------------------------


def cordic(theta: int, iters: int) -> tuple[int, int]:
    """Rotation-mode CORDIC of the RTL: ``(x, y) ~ 2^16 (cos, sin)`` of ``theta`` (unit 2^-20
    turn, ``0 <= theta < 2^18``)."""
    _check_range("iters", iters, 8, 16)
    x, y, z = CORDIC_X0, 0, theta
    for i in range(iters):
        if z >= 0:
            x, y, z = x - (y >> i), y + (x >> i), z - CORDIC_ATAN[i]
        else:
            x, y, z = x + (y >> i), y - (x >> i), z + CORDIC_ATAN[i]
    return x, y


def sin_q15(phase: int, iters: int = 16) -> int:
    """Sine of a 16-bit phase (full turn 2^16) in Q1.15, bit-exact with the RTL's CORDIC.

    Args:
        phase: 0 .. 65535.
        iters: CORDIC iterations, 8 .. 16.
    """
    _check_range("phase", phase, 0, 0xFFFF)
    q = phase >> 14
    x, y = cordic((phase & 0x3FFF) << 4, iters)
    r = x if q & 1 else y
    if q & 2:
        r = -r
    return sat16((r + 1) >> 1)


def to_code(v: int, data_w: int) -> tuple[int, bool]:
    """DAC code of a Q1.15 value and whether it saturated (see the module docstring)."""
    s = 16 - data_w
    h = (1 << s) >> 1
    c = (1 << (data_w - 1)) + ((v + h) >> s)
    hi = (1 << data_w) - 1
    if c > hi:
        return hi, True
    if c < 0:
        return 0, True
    return c, False


class NoiseGen:
    """xorshift32 (shifts 13, 17, 5) and the sum-of-four-uniforms Gaussian of the RTL.

    Args:
        seed: 1 .. 2^32-1.
    """

    def __init__(self, seed: int) -> None:
        _check_range("seed", seed, 1, U32)
        self.state = seed

    def step(self) -> int:
        """Advance once; returns the new 32-bit state."""
        x = self.state
        x ^= (x << 13) & U32
        x ^= x >> 17
        x ^= (x << 5) & U32
        self.state = x
        return x

    def uniform12(self) -> int:
        """One draw: the top 12 bits of the new state, signed, -2048 .. 2047."""
        u = self.step() >> 20
        return u - 4096 if u & 0x800 else u

    def gauss(self) -> int:
        """Sum of four draws, -8192 .. 8188 (std 2364.8)."""
        return sum(self.uniform12() for _ in range(4))


def noise_value(g: int, amp: int, v_ref: int, off: int) -> int:
    """NOISE channel value from a Gaussian draw ``g`` (signed 16-bit operands)."""
    g_scaled = sat16((g * amp) >> 11)
    return sat16(((g_scaled * v_ref) >> 15) + off)


# ----- run ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Beat:
    """One DAC beat (``dac_*_o``).

    Attributes:
        tick: tick index ``k``.
        addr: channel address within a chip, 0 .. n_addr-1.
        codes: code per chip (0 for masked chips).
        mask: bit c set when chip c's channel is not OFF.
        last: final beat of the tick.
    """

    tick: int
    addr: int
    codes: tuple[int, ...]
    mask: int
    last: bool

    def data_word(self, data_w: int) -> int:
        """``dac_data_o`` (chip c at ``[c*data_w +: data_w]``)."""
        return sum(c << (i * data_w) for i, c in enumerate(self.codes))


@dataclass(frozen=True)
class Sample:
    """One sample point.

    Attributes:
        tick: tick index at whose beginning the conversion is requested (``smp_tick_o``).
        n_int_done: integrate ticks completed before the sample.
        final: the final sample (HOLD tick).
    """

    tick: int
    n_int_done: int
    final: bool


@dataclass
class RunTrace:
    """What one run does, tick by tick.

    Attributes:
        phases: phase of every tick, ``n_ticks + 1`` entries (the last is HOLD).
        sw: switch pins of every tick.
        values: Q1.15 value of every channel, ``[n_ticks, n_ch]`` (0 for OFF).
        codes: DAC code, ``[n_ticks, n_ch]`` (0 for OFF).
        sat: code saturated, ``[n_ticks, n_ch]`` (never for OFF).
        beats: DAC beats in order, ``n_ticks * n_addr``.
        samples: sample points in order (the last is the final one).
        dac_sat_count: saturations in the run.
        rng_state: noise generator state at the end.
    """

    phases: list[Phase]
    sw: list[int]
    values: np.ndarray
    codes: np.ndarray
    sat: np.ndarray
    beats: list[Beat] = field(default_factory=list)
    samples: list[Sample] = field(default_factory=list)
    dac_sat_count: int = 0
    rng_state: int = 0


def phase_list(runcfg: RunCfg) -> list[Phase]:
    """Phase of every tick, HOLD tick included."""
    return (
        [Phase.RESET] * runcfg.n_reset
        + [Phase.LOAD] * runcfg.n_load
        + [Phase.INTEGRATE] * runcfg.n_int
        + [Phase.HOLD]
    )


def sample_points(runcfg: RunCfg) -> list[Sample]:
    """Sample points: integrate tick ``j > 0`` with ``j % sample_every == 0``, and the final."""
    t0 = runcfg.n_reset + runcfg.n_load
    se = runcfg.sample_every
    out = [Sample(t0 + j, j, False) for j in range(1, runcfg.n_int) if se and j % se == 0]
    out.append(Sample(t0 + runcfg.n_int, runcfg.n_int, True))
    return out


def run(
    cfg: OdeSeqConfig,
    channels: Sequence[ChannelCfg],
    table: Sequence[int] | np.ndarray,
    runcfg: RunCfg,
) -> RunTrace:
    """One run of the sequencer.

    Args:
        cfg: HDL parameters.
        channels: ``cfg.n_ch`` channel configurations.
        table: drive table, ``cfg.tab_depth`` signed Q1.15 entries (or their 16-bit patterns).
        runcfg: run parameters.

    Raises:
        ValueError: on a configuration the RTL refuses (:func:`validate`) or a table of the
            wrong length.
    """
    validate(cfg, channels, runcfg)
    tab = [s16(int(t)) for t in np.asarray(table, dtype=np.int64).ravel()]
    if len(tab) != cfg.tab_depth:
        raise ValueError(f"table: {len(tab)} entries for tab_depth {cfg.tab_depth}")
    nt, nch = runcfg.n_ticks, cfg.n_ch
    phases = phase_list(runcfg)
    values = np.zeros((nt, nch), dtype=np.int64)
    codes = np.zeros((nt, nch), dtype=np.int64)
    sat = np.zeros((nt, nch), dtype=bool)
    acc = [c.p0 for c in channels]
    gen = NoiseGen(runcfg.seed)
    beats: list[Beat] = []
    for k in range(nt):
        for ch, c in enumerate(channels):
            m = Mode(c.mode)
            if m == Mode.OFF:
                continue
            if m == Mode.CONST:
                v = s16(c.p0)
            elif m == Mode.RAMP:
                v = sat16((s32(acc[ch]) + (1 << 15)) >> 16)
                acc[ch] = (acc[ch] + c.p1) & U32
            elif m == Mode.SINE:
                p = acc[ch] & 0xFFFF
                v = sat16(((s16(c.p2) * sin_q15(p, cfg.cordic_iters)) >> 15) + s16(c.p2 >> 16))
                acc[ch] = (p + c.p1) & 0xFFFF
            elif m == Mode.TABLE:
                base, span = c.p2 & 0xFFFF, (c.p2 >> 16) * 256
                v = tab[base + (acc[ch] >> 8)]
                nxt = acc[ch] + c.p1
                acc[ch] = nxt - span if nxt >= span else nxt
            else:  # NOISE
                v = noise_value(gen.gauss(), s16(c.p1), int(values[k, c.ref]), s16(c.p0))
            values[k, ch] = v
            codes[k, ch], sat[k, ch] = to_code(v, cfg.data_w)
        for a in range(cfg.n_addr):
            chs = [chip * cfg.n_addr + a for chip in range(cfg.n_chips)]
            mask = sum(1 << i for i, ch in enumerate(chs) if channels[ch].mode != Mode.OFF)
            beats.append(
                Beat(k, a, tuple(int(codes[k, ch]) for ch in chs), mask, a == cfg.n_addr - 1)
            )
    return RunTrace(
        phases=phases,
        sw=[SW_OF_PHASE[p] for p in phases],
        values=values,
        codes=codes,
        sat=sat,
        beats=beats,
        samples=sample_points(runcfg),
        dac_sat_count=int(sat.sum()),
        rng_state=gen.state,
    )


# ----- register helpers ---------------------------------------------------------------------


def q15(x: float) -> int:
    """Signed Q1.15 integer of ``x`` (round half up, clamped to -1 .. 1 - 2^-15)."""
    return sat16(math.floor(x * 32768 + 0.5))


def u16(x: int) -> int:
    """16-bit pattern of a signed value."""
    return x & 0xFFFF


def ramp_regs(v0: float, dv_per_tick: float) -> tuple[int, int]:
    """``(p0, p1)`` of a RAMP channel starting at ``v0`` (normalised, -1 .. 1) and moving by
    ``dv_per_tick`` per tick (Q1.31 accumulator, 2^-31 resolution)."""
    p0 = math.floor(v0 * 2**31 + 0.5)
    p1 = math.floor(dv_per_tick * 2**31 + 0.5)
    return p0 & U32, p1 & U32


def sine_regs(
    freq_cycles_per_tick: float, phase0_cycles: float, amp: float, off: float
) -> tuple[int, int, int]:
    """``(p0, p1, p2)`` of a SINE channel ``v = amp * sin(2 pi (phase0 + f k)) + off``.

    Args:
        freq_cycles_per_tick: frequency, turns per tick (2^-16 resolution; negative allowed).
        phase0_cycles: start phase, turns (0.25 gives a cosine).
        amp: amplitude, normalised, -1 .. 1.
        off: offset, normalised, -1 .. 1.
    """
    p0 = math.floor(phase0_cycles * 65536 + 0.5) & 0xFFFF
    p1 = math.floor(freq_cycles_per_tick * 65536 + 0.5) & 0xFFFF
    return p0, p1, (u16(q15(off)) << 16) | u16(q15(amp))


def table_regs(
    base: int, length: int, step_entries: float, start_entry: float = 0.0
) -> tuple[int, int, int]:
    """``(p0, p1, p2)`` of a TABLE channel reading ``length`` entries from ``base``,
    advancing ``step_entries`` entries per tick (2^-8 resolution), starting at ``start_entry``.
    """
    _check_range("base", base, 0, 0xFFFF)
    _check_range("length", length, 0, 0xFFFF)
    p0 = math.floor(start_entry * 256 + 0.5)
    p1 = math.floor(step_entries * 256 + 0.5)
    return p0 & U32, p1 & U32, (length << 16) | base


def noise_regs(sigma: float, off: float) -> tuple[int, int]:
    """``(p0, p1)`` of a NOISE channel whose ``g_scaled`` has standard deviation ``sigma``
    (normalised), plus offset ``off``: ``amp = sigma * sqrt(3) / 2``."""
    return u16(q15(off)), u16(q15(sigma * math.sqrt(3) / 2))

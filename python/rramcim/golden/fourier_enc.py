"""Bit-exact reference of ``rtl/cim_fourier_enc.sv``: sin/cos of the Gaussian-encoder phases.

The neural-field encoder (PAPERS.md §3.2) is ``gamma(x) = [x, sin 2 pi Bx, cos 2 pi Bx]``;
the product ``Bx`` comes out of the RRAM array, and this block computes its sine and cosine.

Fixed-point contract (normative; the RTL header states the same):

* Input ``P``: a ``phase_w``-bit two's-complement integer with ``phase_f`` fraction bits, the
  phase ``P / 2**phase_f`` in turns. Only ``u = P mod 2**phase_f`` matters (exact wrap).
* Internal formats: angle ``z`` with ``zf = max(phase_f, out_w + 8)`` fraction bits of a turn,
  ``x``/``y`` with ``xf = out_w + 4`` fraction bits, ``G = 5`` guard bits above the output.
* Tables: ``ATAN32[i] = round(atan(2**-i) / (2 pi) * 2**32)``; ``atan_i = round(ATAN32[i] /
  2**(32 - zf))``; ``X0 = round(K32 / 2**(32 - xf))`` with ``K32 = round(2**32 *
  prod_{i<20} (1 + 2**(-2i))**-0.5)`` (one gain for every ``iters``); ``round`` is half up.
* Folding: ``q = (u >> (phase_f - 2)) + bit(u, phase_f - 3) mod 4``; ``z0`` = the low
  ``phase_f - 2`` bits of ``u`` as a signed number; ``z = z0 * 2**(zf - phase_f)``.
* ``iters`` iterations from ``x = X0, y = 0``: ``d = +1 if z >= 0 else -1``; ``x' = x - d *
  (y >> i)``, ``y' = y + d * (x >> i)``, ``z' = z - d * atan_i`` (``>>``: floor).
* Unfold: ``q = 0: (c, s) = (x, y)``; ``1: (-y, x)``; ``2: (-x, -y)``; ``3: (y, -x)``.
* Output ``sat((v + 2**(G-1)) >> G)`` to the signed ``out_w``-bit range (Q1.(out_w-1)); +1.0
  saturates to the largest code; every saturated value is one saturation event.

Accuracy (measured on every fraction code by ``tests/test_golden_fourier_enc.py``): the error
against ``sin(2 pi P / 2**phase_f) * 2**(out_w-1)`` is at most
``2**(out_w-1) * atan(2**-(iters-1)) + 1.5`` LSB (residual angle of the CORDIC plus the
rounding of the output and of the datapath); :data:`MEASURED_ERR_LSB` lists measured maxima.

Pure Python + numpy; no cocotb import.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from rramcim.fixedpoint import check_int

#: Largest value of the 32-bit status counter; it sticks there instead of wrapping.
COUNTER_MAX = 2**32 - 1

#: Legal ranges (inclusive) of the RTL parameters (``phase_f`` is 4 .. phase_w).
PHASE_W_RANGE = (8, 32)
OUT_W_RANGE = (8, 24)
ITERS_RANGE = (8, 20)
TAG_W_RANGE = (1, 32)
_FIELD_RANGES = {
    "phase_w": PHASE_W_RANGE,
    "out_w": OUT_W_RANGE,
    "iters": ITERS_RANGE,
    "tag_w": TAG_W_RANGE,
}

#: Guard bits of the x/y datapath above the output LSB.
GUARD = 5

#: ``round(atan(2**-i) / (2 pi) * 2**32)``, i = 0 .. 19: the RTL's ``atan32`` table.
ATAN32 = tuple(int(math.floor(math.atan(2.0**-i) / (2 * math.pi) * 2**32 + 0.5)) for i in range(20))

#: ``round(2**32 * prod_{i<20} 1/sqrt(1 + 2**-2i))``: the CORDIC gain compensation.
K32 = int(
    math.floor(2**32 * math.prod(1 / math.sqrt(1 + 2.0 ** (-2 * i)) for i in range(20)) + 0.5)
)

#: Measured max |error| in output LSB of sin and cos over every fraction code, for
#: (out_w, iters) with phase_f = 16 (see the unit tests, which re-measure these).
MEASURED_ERR_LSB = {(16, 8): 255.2, (16, 12): 16.4, (16, 16): 1.6, (16, 20): 0.8}


def _round_shift(v: int, sh: int) -> int:
    """``floor(v / 2**sh + 1/2)`` for ``sh >= 0``."""
    return v if sh == 0 else (v + (1 << (sh - 1))) >> sh


@dataclass(frozen=True)
class FourierEncConfig:
    """HDL parameters of one ``cim_fourier_enc`` instance.

    Attributes:
        phase_w: width of ``in_phase_i`` in bits (``PHASE_W``), 8 .. 32.
        phase_f: fraction bits of the phase (``PHASE_F``), 4 .. phase_w; LSB = 2**-phase_f
            turn.
        out_w: width of sin/cos (``OUT_W``), 8 .. 24; Q1.(out_w-1).
        iters: CORDIC iterations (``ITERS``), 8 .. 20.
        tag_w: width of the pass-through tag (``TAG_W``), 1 .. 32.
    """

    phase_w: int = 16
    phase_f: int = 14
    out_w: int = 16
    iters: int = 16
    tag_w: int = 8

    def __post_init__(self) -> None:
        for name, (lo, hi) in _FIELD_RANGES.items():
            check_int("FourierEncConfig", name, getattr(self, name), lo, hi)
        check_int("FourierEncConfig", "phase_f", self.phase_f, 4, self.phase_w)

    @classmethod
    def from_hdl(cls, params: dict[str, int]) -> FourierEncConfig:
        """Build from HDL parameter names (``PHASE_W``, ``PHASE_F``, ``OUT_W``, ``ITERS``,
        ``TAG_W``)."""
        names = {
            "PHASE_W": "phase_w",
            "PHASE_F": "phase_f",
            "OUT_W": "out_w",
            "ITERS": "iters",
            "TAG_W": "tag_w",
        }
        unknown = set(params) - set(names)
        if unknown:
            raise ValueError(f"unknown cim_fourier_enc parameter(s): {', '.join(sorted(unknown))}")
        return cls(**{names[k]: int(v) for k, v in params.items()})

    @property
    def zf(self) -> int:
        """Fraction bits (of a turn) of the CORDIC angle."""
        return max(self.phase_f, self.out_w + 8)

    @property
    def xf(self) -> int:
        """Fraction bits of the x/y datapath."""
        return self.out_w + 4

    @property
    def atan(self) -> tuple[int, ...]:
        """``atan_i`` in units of ``2**-zf`` turn, i = 0 .. iters-1."""
        return tuple(_round_shift(a, 32 - self.zf) for a in ATAN32[: self.iters])

    @property
    def x0(self) -> int:
        """Start value of x (gain compensation) in units of ``2**-xf``."""
        return _round_shift(K32, 32 - self.xf)

    @property
    def phase_min(self) -> int:
        """Most negative phase code."""
        return -(1 << (self.phase_w - 1))

    @property
    def phase_max(self) -> int:
        """Most positive phase code."""
        return (1 << (self.phase_w - 1)) - 1

    @property
    def out_max(self) -> int:
        """Largest output code (``1 - 2**-(out_w-1)``)."""
        return (1 << (self.out_w - 1)) - 1

    @property
    def latency(self) -> int:
        """Edges from the input transfer to the output becoming valid."""
        return self.iters + 1


def fourier_enc(
    phase: npt.ArrayLike, cfg: FourierEncConfig, *, check: bool = True
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """sin and cos of phases in turns, bit-exact with the RTL (vectorised).

    Args:
        phase: signed phase codes (``phase_w`` bits, ``phase_f`` fraction bits, turns), any
            shape.
        cfg: the instance's parameters.
        check: validate the dtype and range of ``phase``.

    Returns:
        ``(sin, cos, sat_sin, sat_cos)``: int64 codes (Q1.(out_w-1)) and bool saturation flags,
        each of the shape of ``phase``.

    Raises:
        ValueError: non-integer phases or a phase outside the ``phase_w``-bit range.
    """
    p = np.asarray(phase)
    if check:
        if p.dtype == bool or not np.issubdtype(p.dtype, np.integer):
            raise ValueError(f"phase: expected integer codes, got dtype {p.dtype}")
        if p.size and (int(p.min()) < cfg.phase_min or int(p.max()) > cfg.phase_max):
            bad = int(p.min()) if int(p.min()) < cfg.phase_min else int(p.max())
            raise ValueError(
                f"phase: value {bad} outside [{cfg.phase_min}, {cfg.phase_max}] (phase_w)"
            )
    f = cfg.phase_f
    u = p.astype(np.int64) & ((1 << f) - 1)
    q = ((u >> (f - 2)) + ((u >> (f - 3)) & 1)) & 3
    zlow = u & ((1 << (f - 2)) - 1)
    z0 = np.where(zlow >= (1 << (f - 3)), zlow - (1 << (f - 2)), zlow)
    z = z0 << (cfg.zf - f)
    x = np.full(u.shape, cfg.x0, dtype=np.int64)
    y = np.zeros(u.shape, dtype=np.int64)
    for i, a in enumerate(cfg.atan):
        pos = z >= 0
        xs, ys = x >> i, y >> i
        x, y = np.where(pos, x - ys, x + ys), np.where(pos, y + xs, y - xs)
        z = np.where(pos, z - a, z + a)
    s = np.choose(q, (y, x, -y, -x))
    c = np.choose(q, (x, -y, -x, y))
    lo, hi = -(1 << (cfg.out_w - 1)), cfg.out_max
    rs = (s + (1 << (GUARD - 1))) >> GUARD
    rc = (c + (1 << (GUARD - 1))) >> GUARD
    sat_s = (rs > hi) | (rs < lo)
    sat_c = (rc > hi) | (rc < lo)
    return np.clip(rs, lo, hi), np.clip(rc, lo, hi), sat_s, sat_c


def phase_code(turns: npt.ArrayLike, cfg: FourierEncConfig) -> np.ndarray:
    """Phase codes of phases in turns (e.g. ``B @ x``): ``floor(t * 2**phase_f + 1/2)``,
    wrapped into the ``phase_w``-bit range (a whole number of turns changes nothing).

    Raises:
        ValueError: a NaN or infinite phase.
    """
    t = np.asarray(turns, dtype=np.float64)
    if not np.isfinite(t).all():
        raise ValueError(f"phase_code: phase {t[~np.isfinite(t)].ravel()[0]!r} is not finite")
    code = np.floor(t * float(1 << cfg.phase_f) + 0.5)
    span = float(1 << cfg.phase_w)
    code = np.mod(code - cfg.phase_min, span) + cfg.phase_min
    return code.astype(np.int64)


def float_error_lsb(phase: npt.ArrayLike, cfg: FourierEncConfig) -> tuple[float, float]:
    """Largest |error| of sin and cos against float64 sin/cos of ``2 pi P / 2**phase_f``,
    in output LSB (the ideal values clipped to the output range)."""
    p = np.asarray(phase, dtype=np.int64)
    s, c, _, _ = fourier_enc(p, cfg)
    ang = 2 * np.pi * (p & ((1 << cfg.phase_f) - 1)) / float(1 << cfg.phase_f)
    scale = float(1 << (cfg.out_w - 1))
    lo, hi = -scale, float(cfg.out_max)
    es = np.abs(s - np.clip(np.sin(ang) * scale, lo, hi)).max()
    ec = np.abs(c - np.clip(np.cos(ang) * scale, lo, hi)).max()
    return float(es), float(ec)


def error_bound_lsb(cfg: FourierEncConfig) -> float:
    """Documented bound of :func:`float_error_lsb`:
    ``2**(out_w-1) * atan(2**-(iters-1)) + 1.5`` LSB."""
    return (1 << (cfg.out_w - 1)) * math.atan(2.0 ** -(cfg.iters - 1)) + 1.5


# ------------------------------------------------------------------------------------------
# Stateful model of the RTL block
# ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FourierBeat:
    """One output beat of ``cim_fourier_enc``.

    Attributes:
        tag: ``out_tag_o``.
        sin: ``out_sin_o`` as a signed integer (Q1.(out_w-1)).
        cos: ``out_cos_o`` as a signed integer.
        sat: ``out_sat_o`` (bit 1: sin saturated, bit 0: cos saturated).
        quadrant: the folded quadrant ``q`` (not a port, for coverage).
    """

    tag: int
    sin: int
    cos: int
    sat: int
    quadrant: int


class FourierEncModel:
    """Reference of one ``cim_fourier_enc`` instance, beat by beat.

    Feed it every accepted input beat in order with :meth:`process`; ``sat_count`` then equals
    ``sat_count_o`` once that beat's output is valid. :meth:`reset` mirrors ``rst_ni``.
    """

    def __init__(self, cfg: FourierEncConfig) -> None:
        self.cfg = cfg
        self.sat_count = 0

    def reset(self) -> None:
        """``rst_ni``: the counter restarts."""
        self.sat_count = 0

    def compute(self, phase: int) -> tuple[int, int, bool, bool]:
        """sin, cos and saturation flags of one phase (a hook a bench may override)."""
        s, c, ss, sc = fourier_enc(np.array([phase], dtype=np.int64), self.cfg)
        return int(s[0]), int(c[0]), bool(ss[0]), bool(sc[0])

    def process(self, phase: int, tag: int) -> FourierBeat:
        """One input beat (signed phase code, tag) -> its output beat.

        Raises:
            ValueError: a tag wider than ``tag_w`` or a phase out of range.
        """
        if not 0 <= tag < (1 << self.cfg.tag_w):
            raise ValueError(f"tag: {tag} does not fit {self.cfg.tag_w} bits")
        s, c, ss, sc = self.compute(phase)
        self.sat_count = min(self.sat_count + int(ss) + int(sc), COUNTER_MAX)
        f = self.cfg.phase_f
        u = phase & ((1 << f) - 1)
        q = ((u >> (f - 2)) + ((u >> (f - 3)) & 1)) & 3
        return FourierBeat(tag, s, c, (int(ss) << 1) | int(sc), q)

"""Bit-exact reference of ``rtl/cim_haq_combine.sv``: weighted combination of HAQ cell columns.

Hardware-aware quantisation (PAPERS.md §3.4) stores each weight on ``n`` binary cells with a
redundant radix ``ratio`` ~ 1.5: ``w ~ sum_k (c_k - 0.5 c_ref) / ratio**k``. The crossbar
returns one ADC code per cell column; this block combines the ``n`` codes of one output.

Fixed-point contract (normative; the RTL header states the same):

* ``R_k = round(2**radix_f * (256 / ratio_q8)**k)`` (exact rational arithmetic, round half
  up), ``k = 0 .. n_cells-1``; ``R_0 = 2**radix_f``.
* ``acc = sum_k code_k * R_k`` (codes signed ``adc_bits``-bit; exact, ``acc_w = adc_bits +
  radix_f + clog2(n_cells)`` bits).
* ``diff = acc - offset`` (``offset`` signed ``off_w``-bit, acc LSBs; for the ``0.5 c_ref``
  terms use :func:`offset_for_ref`).
* ``y = sat((diff + 2**(out_shift-1)) >> out_shift)`` (no rounding term for ``out_shift = 0``)
  to the signed ``out_w``-bit range; a clamp is one saturation event.

The output LSB is ``2**(out_shift - radix_f)`` ADC code units of cell 0.

Pure Python + numpy; no cocotb import.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from rramcim.fixedpoint import check_int

#: Largest value of the 32-bit status counter; it sticks there instead of wrapping.
COUNTER_MAX = 2**32 - 1

#: Legal ranges (inclusive) of the RTL parameters (``out_shift``: 0 .. max(acc_w, off_w)).
N_CELLS_RANGE = (1, 16)
ADC_BITS_RANGE = (2, 16)
RATIO_Q8_RANGE = (288, 512)
RADIX_F_RANGE = (4, 20)
OFF_W_RANGE = (2, 48)
OUT_W_RANGE = (4, 32)
TAG_W_RANGE = (1, 32)
_FIELD_RANGES = {
    "n_cells": N_CELLS_RANGE,
    "adc_bits": ADC_BITS_RANGE,
    "ratio_q8": RATIO_Q8_RANGE,
    "radix_f": RADIX_F_RANGE,
    "off_w": OFF_W_RANGE,
    "out_w": OUT_W_RANGE,
    "tag_w": TAG_W_RANGE,
}

#: HAQ settings of the neural-field paper (PAPERS.md §3.4): ratio 1.5, 8 .. 12 cells.
HAQ_RATIO_Q8 = 384


def radix_table(n_cells: int, ratio_q8: int, radix_f: int) -> tuple[int, ...]:
    """``R_k = round(2**radix_f * (256 / ratio_q8)**k)`` exactly (half up), k < n_cells."""
    out = []
    for k in range(n_cells):
        num = 1 << (radix_f + 8 * k)
        den = ratio_q8**k
        out.append((2 * num + den) // (2 * den))
    return tuple(out)


@dataclass(frozen=True)
class HaqCombineConfig:
    """HDL parameters of one ``cim_haq_combine`` instance.

    Attributes:
        n_cells: cells per weight (``N_CELLS``), 1 .. 16.
        adc_bits: width of one ADC code (``ADC_BITS``), 2 .. 16, signed.
        ratio_q8: radix ratio in Q8 (``RATIO_Q8``), 288 .. 512 (1.125 .. 2.0; 384 = 1.5).
        radix_f: fraction bits of the radix weights (``RADIX_F``), 4 .. 20; the last weight
            ``R_(n_cells-1)`` must be >= 1.
        off_w: width of the offset input (``OFF_W``), 2 .. 48, signed, acc LSBs.
        out_w: width of the output (``OUT_W``), 4 .. 32, signed.
        out_shift: rounding right shift (``OUT_SHIFT``), 0 .. max(acc_w, off_w).
        tag_w: width of the pass-through tag (``TAG_W``), 1 .. 32.
    """

    n_cells: int = 12
    adc_bits: int = 8
    ratio_q8: int = HAQ_RATIO_Q8
    radix_f: int = 12
    off_w: int = 24
    out_w: int = 16
    out_shift: int = 8
    tag_w: int = 8

    def __post_init__(self) -> None:
        for name, (lo, hi) in _FIELD_RANGES.items():
            check_int("HaqCombineConfig", name, getattr(self, name), lo, hi)
        check_int("HaqCombineConfig", "out_shift", self.out_shift, 0, max(self.acc_w, self.off_w))
        if self.radix[-1] < 1:
            raise ValueError(
                f"radix_f = {self.radix_f} gives R_{self.n_cells - 1} = 0 (ratio_q8 = "
                f"{self.ratio_q8}, n_cells = {self.n_cells}): every cell needs a weight >= 1"
            )

    @classmethod
    def from_hdl(cls, params: dict[str, int]) -> HaqCombineConfig:
        """Build from HDL parameter names (``N_CELLS``, ``ADC_BITS``, ``RATIO_Q8``,
        ``RADIX_F``, ``OFF_W``, ``OUT_W``, ``OUT_SHIFT``, ``TAG_W``)."""
        names = {
            "N_CELLS": "n_cells",
            "ADC_BITS": "adc_bits",
            "RATIO_Q8": "ratio_q8",
            "RADIX_F": "radix_f",
            "OFF_W": "off_w",
            "OUT_W": "out_w",
            "OUT_SHIFT": "out_shift",
            "TAG_W": "tag_w",
        }
        unknown = set(params) - set(names)
        if unknown:
            raise ValueError(f"unknown cim_haq_combine parameter(s): {', '.join(sorted(unknown))}")
        return cls(**{names[k]: int(v) for k, v in params.items()})

    @property
    def radix(self) -> tuple[int, ...]:
        """The radix weights ``R_k`` (unsigned, ``radix_f`` fraction bits)."""
        return radix_table(self.n_cells, self.ratio_q8, self.radix_f)

    @property
    def acc_w(self) -> int:
        """Width of the accumulator in bits."""
        return self.adc_bits + self.radix_f + (self.n_cells - 1).bit_length()

    @property
    def code_min(self) -> int:
        """Most negative ADC code."""
        return -(1 << (self.adc_bits - 1))

    @property
    def code_max(self) -> int:
        """Most positive ADC code."""
        return (1 << (self.adc_bits - 1)) - 1

    @property
    def off_min(self) -> int:
        """Most negative offset."""
        return -(1 << (self.off_w - 1))

    @property
    def off_max(self) -> int:
        """Most positive offset."""
        return (1 << (self.off_w - 1)) - 1

    @property
    def out_min(self) -> int:
        """Most negative output."""
        return -(1 << (self.out_w - 1))

    @property
    def out_max(self) -> int:
        """Most positive output."""
        return (1 << (self.out_w - 1)) - 1

    @property
    def ratio(self) -> float:
        """The radix ratio as a number (``ratio_q8 / 256``)."""
        return self.ratio_q8 / 256.0


def haq_combine(
    codes: npt.ArrayLike, offset: npt.ArrayLike, cfg: HaqCombineConfig, *, check: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Combine the cell codes of outputs, bit-exact with the RTL (vectorised).

    Args:
        codes: signed ADC codes, shape ``[..., n_cells]`` (cell 0 the most significant).
        offset: signed offsets (acc LSBs), broadcastable to ``codes.shape[:-1]``.
        cfg: the instance's parameters.
        check: validate dtypes, the last dimension and the ranges.

    Returns:
        ``(y, sat)``: int64 outputs and bool saturation flags, shape ``codes.shape[:-1]``.

    Raises:
        ValueError: wrong dtype, shape or a value out of range (``check``).
    """
    c = np.asarray(codes)
    o = np.asarray(offset)
    if check:
        for name, a, lo, hi in (
            ("codes", c, cfg.code_min, cfg.code_max),
            ("offset", o, cfg.off_min, cfg.off_max),
        ):
            if a.dtype == bool or not np.issubdtype(a.dtype, np.integer):
                raise ValueError(f"{name}: expected integers, got dtype {a.dtype}")
            if a.size and (int(a.min()) < lo or int(a.max()) > hi):
                bad = int(a.min()) if int(a.min()) < lo else int(a.max())
                raise ValueError(f"{name}: value {bad} outside [{lo}, {hi}]")
        if c.ndim < 1 or c.shape[-1] != cfg.n_cells:
            raise ValueError(
                f"codes: last dimension must be n_cells = {cfg.n_cells}, shape {c.shape}"
            )
    acc = c.astype(np.int64) @ np.asarray(cfg.radix, dtype=np.int64)
    diff = acc - o.astype(np.int64)
    sh = cfg.out_shift
    rnd = (diff + (1 << (sh - 1) if sh else 0)) >> sh
    sat = (rnd > cfg.out_max) | (rnd < cfg.out_min)
    return np.clip(rnd, cfg.out_min, cfg.out_max), sat


def offset_for_ref(c_ref: int, cfg: HaqCombineConfig) -> int:
    """Offset of the ``0.5 c_ref`` terms: ``round(0.5 * c_ref * sum_k R_k)`` (half up).

    Args:
        c_ref: the ADC code of a "set" cell (the reference conductance), signed.

    Raises:
        ValueError: the offset does not fit ``off_w`` bits.
    """
    off = (int(c_ref) * sum(cfg.radix) + 1) >> 1
    if not cfg.off_min <= off <= cfg.off_max:
        raise ValueError(
            f"offset_for_ref: offset {off} (c_ref = {c_ref}) does not fit off_w = {cfg.off_w}"
        )
    return off


def haq_combine_float(codes: npt.ArrayLike, c_ref: float, ratio: float) -> np.ndarray:
    """Float reference: ``sum_k (code_k - 0.5 c_ref) / ratio**k`` in ADC code units."""
    c = np.asarray(codes, dtype=np.float64)
    w = ratio ** -np.arange(c.shape[-1], dtype=np.float64)
    return (c - 0.5 * c_ref) @ w


# ------------------------------------------------------------------------------------------
# Stateful model of the RTL block
# ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HaqBeat:
    """One output beat of ``cim_haq_combine``: ``out_value_o`` (signed), ``out_sat_o`` and
    ``out_tag_o``."""

    tag: int
    value: int
    sat: bool


class HaqCombineModel:
    """Reference of one ``cim_haq_combine`` instance, beat by beat; ``sat_count`` equals
    ``sat_count_o`` once the last processed beat's output is valid."""

    def __init__(self, cfg: HaqCombineConfig) -> None:
        self.cfg = cfg
        self.sat_count = 0

    def reset(self) -> None:
        """``rst_ni``: the counter restarts."""
        self.sat_count = 0

    def compute(self, codes: list[int], offset: int) -> tuple[int, bool]:
        """Value and saturation flag of one beat (a hook a bench may override)."""
        y, sat = haq_combine(np.array([codes], dtype=np.int64), np.array([offset]), self.cfg)
        return int(y[0]), bool(sat[0])

    def process(self, codes: list[int], offset: int, tag: int) -> HaqBeat:
        """One input beat -> its output beat.

        Raises:
            ValueError: a tag wider than ``tag_w`` or codes/offset out of range.
        """
        if not 0 <= tag < (1 << self.cfg.tag_w):
            raise ValueError(f"tag: {tag} does not fit {self.cfg.tag_w} bits")
        y, sat = self.compute(codes, offset)
        self.sat_count = min(self.sat_count + int(sat), COUNTER_MAX)
        return HaqBeat(tag, y, sat)


def pack_codes(codes: list[int], cfg: HaqCombineConfig) -> int:
    """``in_codes_i`` of a beat: code k (two's complement) at bits ``[k*adc_bits +: adc_bits]``."""
    mask = (1 << cfg.adc_bits) - 1
    word = 0
    for k, v in enumerate(codes):
        word |= (int(v) & mask) << (k * cfg.adc_bits)
    return word

"""Bit-exact reference of ``rtl/cim_haq_quant.sv``: HAQ successive-approximation programming.

For each weight the block decides, cell by cell, whether to SET the cell, from the value the
cells already programmed *actually* have (read back through the macro's verify port); the
float algorithm is :mod:`rramcim.analog.haq` (PAPERS.md §3.4).

Fixed-point contract (normative; the RTL header states the same)

* Target: ``t``, a ``TGT_W``-bit two's-complement code, ``w~ = t / 2**(TGT_W-1)``
  (Q1.(TGT_W-1); :func:`target_code` converts normalised weights).
* Cell reading: ``v``, the unsigned ``VERIFY_BITS`` verify code. Run-time codes
  ``code_reset`` (verify reading of an unset cell) and ``code_unit`` (of a nominal set cell)
  give ``D = code_unit - code_reset`` (signed, ``VERIFY_BITS + 1`` bits; legal use needs
  ``D > 0``, else the sticky ``err_cfg`` is set and the arithmetic below still applies).
  A cell's digit ``r - 0.5`` with ``r = (v - code_reset) / D`` is ``e / (2 D)`` with the
  integer ``e = 2 (v - code_reset) - D`` (``VERIFY_BITS + 3`` bits signed).
* Radix weights: ``c_0 = 2**RADIX_F``, ``c_k = floor((512 c_{k-1} + R) / (2 R))`` with
  ``R = RATIO_Q8`` (ratio = R / 256), i.e. ``c_{k-1} / ratio`` rounded half up
  (:func:`radix_table`; each step's rounding is damped by the next divisions, so
  ``|c_k - 2**RADIX_F / ratio**k| <= 0.5 / (1 - 1/ratio)`` LSB, 1.5 LSB at ratio 1.5).
* Accumulator ``acc = sum_{k<x} e_k c_k`` (signed ``ACC_W = VERIFY_BITS + RADIX_F + 7``
  bits, never overflows) is ``approx * 2 D 2**RADIX_F``; the threshold is
  ``T = (t * D) << (RADIX_F - TGT_W + 2)`` (``RADIX_F >= TGT_W - 2``), so the float rule
  "cell x unset if approx > w~" is the exact integer compare: **cell x is SET iff
  ``acc <= T``**.
* Per cell, in order k = 0 .. N_CELLS-1: SET: program op SET, then VERIFY; the verify code
  gives ``e_k``. Unset: with ``VERIFY_UNSET = 1`` one VERIFY (the measured code gives
  ``e_k``); with ``VERIFY_UNSET = 0`` no operation and the nominal ``e_k = -D``.
  A VERIFY not answered within ``TIMEOUT_CYC`` cycles counts one timeout, marks the weight's
  result (``err``) and uses the nominal ``e_k`` (``+D`` set, ``-D`` unset).
  Then ``acc += e_k * c_k``.
* Zero weight (``t = 0``): no operation, result ``bits = 0``, ``acc = 0`` (the weight stays 0).
* Cell addresses: row ``row``, column ``(col + k) mod 2**COL_W``, G- select ``neg``.
* Result beat: ``bits`` (bit k = cell k set), the final ``acc`` (all N_CELLS cells; the
  effective normalised weight is ``acc / (2 D 2**RADIX_F)``, :func:`acc_to_float`) and
  ``err``.

Status: 16-bit saturating counters of verify timeouts and of protocol errors (a
``verify_valid`` pulse while no verify is awaited), sticky ``err_cfg``.

Pure Python; no cocotb import.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from rramcim.fixedpoint import check_int

#: Largest value of the 16-bit status counters; they stick there.
COUNTER_MAX = 2**16 - 1

#: Legal ranges (inclusive) of the RTL parameters.
N_CELLS_RANGE = (2, 16)
TGT_W_RANGE = (4, 16)
VERIFY_BITS_RANGE = (2, 16)
RADIX_F_MAX = 24  # RADIX_F in [TGT_W - 2, 24]
RATIO_Q8_RANGE = (257, 512)  # ratio in (1, 2]
ROW_W_RANGE = (1, 12)
COL_W_RANGE = (1, 12)
TIMEOUT_CYC_RANGE = (2, 65535)
_FIELD_RANGES = {
    "n_cells": N_CELLS_RANGE,
    "tgt_w": TGT_W_RANGE,
    "verify_bits": VERIFY_BITS_RANGE,
    "ratio_q8": RATIO_Q8_RANGE,
    "row_w": ROW_W_RANGE,
    "col_w": COL_W_RANGE,
    "verify_unset": (0, 1),
    "timeout_cyc": TIMEOUT_CYC_RANGE,
}


class ProgOp(enum.IntEnum):
    """``prog_op`` encoding of the macro's program/verify port."""

    SET = 0
    RESET = 1
    FORM = 2
    VERIFY = 3


class Op(NamedTuple):
    """One operation on the program port (``code``: the verify answer, None on timeout or
    for a SET)."""

    op: ProgOp
    row: int
    col: int
    neg: int
    cell: int
    code: int | None = None


class HaqBeat(NamedTuple):
    """A result beat: ``bits`` (bit k = cell k set), ``acc`` (signed), ``err`` (a verify of
    this weight timed out)."""

    bits: int
    acc: int
    err: bool


#: ``verify(cell, row, col, neg, is_set)`` -> verify code, or None (no answer: timeout).
VerifyFn = Callable[[int, int, int, int, bool], "int | None"]


def radix_table(ratio_q8: int, radix_f: int, n_cells: int) -> list[int]:
    """The radix constants ``c_k`` (see the contract), k = 0 .. n_cells-1."""
    c = [1 << radix_f]
    for _ in range(1, n_cells):
        c.append((512 * c[-1] + ratio_q8) // (2 * ratio_q8))
    return c


def ratio_q8(ratio: float) -> int:
    """``RATIO_Q8`` of a radix: ``floor(ratio * 256 + 0.5)`` (1.5 -> 384)."""
    return int(np.floor(float(ratio) * 256.0 + 0.5))


def target_code(w_norm: npt.ArrayLike, tgt_w: int) -> np.ndarray:
    """Normalised weights ``w~`` in [-1, 1] to target codes ``floor(w~ 2**(TGT_W-1) + 0.5)``
    saturated to the ``TGT_W``-bit signed range (``+1`` becomes the largest code).

    Raises:
        ValueError: a value that is not finite.
    """
    a = np.asarray(w_norm, dtype=np.float64)
    if not np.isfinite(a).all():
        raise ValueError("target_code: non-finite normalised weight")
    s = float(1 << (tgt_w - 1))
    return np.clip(np.floor(a * s + 0.5), -s, s - 1).astype(np.int64)


@dataclass(frozen=True)
class HaqQuantParams:
    """HDL parameters of ``cim_haq_quant`` (names in :meth:`from_hdl`).

    Attributes:
        n_cells: cells per weight (``N_CELLS``), 2 .. 16.
        tgt_w: target code width in bits (``TGT_W``), 4 .. 16; Q1.(TGT_W-1).
        verify_bits: verify code width in bits (``VERIFY_BITS``), 2 .. 16.
        radix_f: fractional bits of the radix constants (``RADIX_F``), TGT_W-2 .. 24.
        ratio_q8: radix in Q.8 (``RATIO_Q8``), 257 .. 512 (ratio 1.0039 .. 2; 384 = 1.5).
        row_w: row address width (``ROW_W``), 1 .. 12.
        col_w: column address width (``COL_W``), 1 .. 12.
        verify_unset: 1: verify unset cells too and use their measured value; 0: assume
            them at the nominal reset level (``VERIFY_UNSET``).
        timeout_cyc: cycles a VERIFY may take before it counts as lost (``TIMEOUT_CYC``),
            2 .. 65535.
    """

    n_cells: int = 8
    tgt_w: int = 12
    verify_bits: int = 8
    radix_f: int = 16
    ratio_q8: int = 384
    row_w: int = 9
    col_w: int = 8
    verify_unset: int = 1
    timeout_cyc: int = 64

    def __post_init__(self) -> None:
        for name, (lo, hi) in _FIELD_RANGES.items():
            check_int("HaqQuantParams", name, getattr(self, name), lo, hi)
        check_int("HaqQuantParams", "radix_f", self.radix_f, self.tgt_w - 2, RADIX_F_MAX)

    _HDL = {
        "N_CELLS": "n_cells",
        "TGT_W": "tgt_w",
        "VERIFY_BITS": "verify_bits",
        "RADIX_F": "radix_f",
        "RATIO_Q8": "ratio_q8",
        "ROW_W": "row_w",
        "COL_W": "col_w",
        "VERIFY_UNSET": "verify_unset",
        "TIMEOUT_CYC": "timeout_cyc",
    }

    @classmethod
    def from_hdl(cls, params: dict[str, int]) -> HaqQuantParams:
        """Build from HDL parameter names (any subset; the rest default)."""
        unknown = set(params) - set(cls._HDL)
        if unknown:
            raise ValueError(f"unknown cim_haq_quant parameter(s): {', '.join(sorted(unknown))}")
        return cls(**{cls._HDL[k]: int(v) for k, v in params.items()})

    @property
    def acc_w(self) -> int:
        """Accumulator / ``out_acc_o`` width in bits."""
        return self.verify_bits + self.radix_f + 7

    @property
    def shift(self) -> int:
        """``RADIX_F - TGT_W + 2``: left shift of ``t * D`` into accumulator units."""
        return self.radix_f - self.tgt_w + 2

    @property
    def radix(self) -> list[int]:
        """The constants ``c_k``."""
        return radix_table(self.ratio_q8, self.radix_f, self.n_cells)

    @property
    def ratio(self) -> float:
        """The radix as a float (``ratio_q8 / 256``)."""
        return self.ratio_q8 / 256.0


def threshold(p: HaqQuantParams, target: int, code_unit: int, code_reset: int) -> int:
    """``T = (t * D) << shift``."""
    return (target * (code_unit - code_reset)) << p.shift


def acc_to_float(p: HaqQuantParams, acc: int, code_unit: int, code_reset: int) -> float:
    """The normalised effective weight of a result: ``acc / (2 D 2**RADIX_F)``."""
    return acc / (2.0 * (code_unit - code_reset) * float(1 << p.radix_f))


def quantize_weight(
    p: HaqQuantParams,
    target: int,
    row: int,
    col: int,
    neg: int,
    code_unit: int,
    code_reset: int,
    verify: VerifyFn,
) -> tuple[list[Op], HaqBeat, int]:
    """Program one weight: the operations in issue order, the result beat, the timeouts.

    Args:
        p: HDL parameters.
        target: signed target code ``t`` (``TGT_W`` bits).
        row, col, neg: cell base address (``col`` is the column of cell 0).
        code_unit, code_reset: the run-time verify codes of a nominal set / an unset cell.
        verify: answers each VERIFY (see :data:`VerifyFn`); called in issue order.

    Returns:
        ``(ops, beat, n_timeouts)``.

    Raises:
        ValueError: an input out of its port's range, or a verify code out of range.
    """
    lo_t, hi_t = -(1 << (p.tgt_w - 1)), (1 << (p.tgt_w - 1)) - 1
    check_int("quantize_weight", "target", target, lo_t, hi_t)
    check_int("quantize_weight", "row", row, 0, (1 << p.row_w) - 1)
    check_int("quantize_weight", "col", col, 0, (1 << p.col_w) - 1)
    check_int("quantize_weight", "neg", neg, 0, 1)
    vmax = (1 << p.verify_bits) - 1
    check_int("quantize_weight", "code_unit", code_unit, 0, vmax)
    check_int("quantize_weight", "code_reset", code_reset, 0, vmax)
    if target == 0:
        return [], HaqBeat(0, 0, False), 0
    d = code_unit - code_reset
    thr = threshold(p, target, code_unit, code_reset)
    acc = bits = timeouts = 0
    ops: list[Op] = []
    for k, c_k in enumerate(p.radix):
        c = (col + k) & ((1 << p.col_w) - 1)
        is_set = acc <= thr
        e = d if is_set else -d  # nominal contribution (no verify / timeout)
        if is_set:
            bits |= 1 << k
            ops.append(Op(ProgOp.SET, row, c, neg, k))
        if is_set or p.verify_unset:
            code = verify(k, row, c, neg, is_set)
            if code is None:
                timeouts += 1
            else:
                check_int("quantize_weight", "verify code", code, 0, vmax)
                e = 2 * (code - code_reset) - d
            ops.append(Op(ProgOp.VERIFY, row, c, neg, k, code))
        acc += e * c_k
    return ops, HaqBeat(bits, acc, timeouts > 0), timeouts


@dataclass
class HaqQuantModel:
    """Stateful model of the whole block: results and the status outputs.

    Attributes:
        p: HDL parameters.
        timeouts: ``cnt_timeout_o`` (sticks at :data:`COUNTER_MAX`).
        proto_errors: ``cnt_proto_o`` (sticks at :data:`COUNTER_MAX`).
        err_cfg: sticky: a weight was accepted with ``code_unit <= code_reset``.
    """

    p: HaqQuantParams = field(default_factory=HaqQuantParams)
    timeouts: int = 0
    proto_errors: int = 0
    err_cfg: bool = False

    def reset(self) -> None:
        """``rst_ni``: counters and flags to zero."""
        self.timeouts = self.proto_errors = 0
        self.err_cfg = False

    def quantize(
        self,
        target: int,
        row: int,
        col: int,
        neg: int,
        code_unit: int,
        code_reset: int,
        verify: VerifyFn,
    ) -> tuple[list[Op], HaqBeat]:
        """One accepted weight (a hook a bench may override to prove its checker fails)."""
        if code_unit <= code_reset:
            self.err_cfg = True
        ops, beat, n_to = quantize_weight(
            self.p, target, row, col, neg, code_unit, code_reset, verify
        )
        self.timeouts = min(self.timeouts + n_to, COUNTER_MAX)
        return ops, beat

    def protocol_error(self) -> None:
        """A ``verify_valid`` pulse while no verify was awaited."""
        self.proto_errors = min(self.proto_errors + 1, COUNTER_MAX)


def ideal_verify(code_unit: int, code_reset: int) -> VerifyFn:
    """A noiseless macro: a set cell reads ``code_unit``, an unset one ``code_reset``."""

    def fn(cell: int, row: int, col: int, neg: int, is_set: bool) -> int:
        return code_unit if is_set else code_reset

    return fn


def noisy_code(value: float, code_unit: int, code_reset: int, verify_bits: int) -> int:
    """Verify code of a cell whose programmed value is ``value`` (1 = nominal set, 0 =
    unset): ``floor(code_reset + value * D + 0.5)`` clamped to the code range."""
    v = int(np.floor(code_reset + value * (code_unit - code_reset) + 0.5))
    return max(0, min((1 << verify_bits) - 1, v))

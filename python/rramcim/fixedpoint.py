"""Integer arithmetic shared with the RTL: two's-complement widths, saturation, rounding, packing.

Every function here has an exact RTL counterpart; the golden models use nothing else for
fixed-point work, so "bit-exact" has one definition.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np


def clog2(n: int) -> int:
    """Ceiling of log2 (Verilog ``$clog2``): bits needed to index ``n`` items; 0 for n <= 1."""
    if n < 1:
        raise ValueError(f"clog2: n must be >= 1, got {n}")
    return (n - 1).bit_length()


def sel_width(n: int) -> int:
    """Width of a select signal for ``n`` items as the RTL declares it (at least 1 bit)."""
    return max(1, clog2(n))


def int_range(bits: int, signed: bool) -> tuple[int, int]:
    """Smallest and largest value of a ``bits``-wide integer."""
    if bits < 1:
        raise ValueError(f"bits must be >= 1, got {bits}")
    if signed:
        return -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    return 0, (1 << bits) - 1


def saturate(x: np.ndarray | int, bits: int, signed: bool = True) -> np.ndarray:
    """Clamp to the range of a ``bits``-wide integer (RTL: compare and select)."""
    lo, hi = int_range(bits, signed)
    return np.clip(np.asarray(x, dtype=np.int64), lo, hi)


def wrap(x: np.ndarray | int, bits: int, signed: bool = True) -> np.ndarray:
    """Two's-complement wrap-around to ``bits`` (RTL: plain truncation of the sum)."""
    x = np.asarray(x, dtype=np.int64) & ((1 << bits) - 1)
    if signed:
        x = np.where(x >= (1 << (bits - 1)), x - (1 << bits), x)
    return x


def round_half_up_shift(x: np.ndarray | int, shift: int) -> np.ndarray:
    """``floor((x + 2^(shift-1)) / 2^shift)``: arithmetic right shift with round-half-up."""
    x = np.asarray(x, dtype=np.int64)
    if shift <= 0:
        return x << (-shift)
    return (x + (1 << (shift - 1))) >> shift


def to_unsigned(x: int, bits: int) -> int:
    """Two's-complement bit pattern of ``x`` as a non-negative integer.

    Raises:
        ValueError: if ``x`` does not fit a signed or unsigned ``bits``-wide field.
    """
    if not -(1 << (bits - 1)) <= x < (1 << bits):
        raise ValueError(f"value {x} does not fit in {bits} bits")
    return x & ((1 << bits) - 1)


def from_unsigned(u: int, bits: int, signed: bool = True) -> int:
    """Interpret a ``bits``-wide bit pattern as a (signed) integer."""
    u &= (1 << bits) - 1
    if signed and u >= (1 << (bits - 1)):
        return u - (1 << bits)
    return u


def pack(values: Iterable[int], width: int) -> int:
    """Concatenate fields into one bus value, element 0 in the least significant bits.

    Matches the RTL convention ``bus[i*width +: width] = values[i]``.
    """
    out = 0
    for i, v in enumerate(values):
        out |= to_unsigned(int(v), width) << (i * width)
    return out


def unpack(bus: int, n: int, width: int, signed: bool = True) -> list[int]:
    """Split a bus value into ``n`` fields of ``width`` bits (inverse of :func:`pack`)."""
    mask = (1 << width) - 1
    return [from_unsigned((bus >> (i * width)) & mask, width, signed) for i in range(n)]


def check_range(name: str, values: Sequence[int] | np.ndarray, bits: int, signed: bool) -> None:
    """Raise ``ValueError`` naming ``name`` and the first offending value if out of range."""
    arr = np.asarray(values, dtype=np.int64)
    lo, hi = int_range(bits, signed)
    bad = np.flatnonzero((arr < lo) | (arr > hi))
    if bad.size:
        i = int(bad[0])
        raise ValueError(
            f"{name}[{i}] = {int(arr.flat[i])} outside the {bits}-bit "
            f"{'signed' if signed else 'unsigned'} range [{lo}, {hi}] "
            f"({bad.size} value(s) out of range)"
        )


def check_int(owner: str, name: str, value: object, lo: int, hi: int) -> int:
    """Validate one integer configuration field of a golden model (or an integer port value).

    Args:
        owner: what the field belongs to (a config class or a function name), named first in
            the message: ``owner.name``.
        name: the field.
        value: the value given; ``bool`` is rejected, numpy integers are accepted.
        lo: smallest legal value (inclusive).
        hi: largest legal value (inclusive).

    Returns:
        ``value`` as a Python ``int``.

    Raises:
        ValueError: ``value`` is not an integer (``owner.name must be an integer in [lo, hi],
            got value``) or lies outside the range (``owner.name = value is outside [lo, hi]``).
    """
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ValueError(f"{owner}.{name} must be an integer in [{lo}, {hi}], got {value!r}")
    v = int(value)
    if not lo <= v <= hi:
        raise ValueError(f"{owner}.{name} = {v} is outside [{lo}, {hi}]")
    return v

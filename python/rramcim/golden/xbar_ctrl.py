"""Bit-exact reference of ``rtl/cim_xbar_ctrl.sv``, the crossbar read controller.

The controller applies multi-bit inputs bit-serially to the macro and shift-adds the signed ADC
codes of every read; row tiles of a vector add into the same accumulators. The contract
(numbering, read order, formats) is ``docs/read_path.md``:

* read order inside a vector: for t in tiles, for b in bit planes (LSB first), for g in groups;
  read index ``r = (t*B + b)*G + g`` converts macro column group ``t*G + g`` with the word lines
  at bit plane b of tile t (:func:`read_schedule`);
* ``acc[g*n_adc + a] = sum_t sum_b s_b * 2**b * code[t, b, g, a]`` with ``s_b = -1`` on the
  sign plane (b = B-1) of a signed input and +1 otherwise (:func:`accumulate`);
* the accumulator width :func:`acc_width` excludes overflow.

Pure integer numpy; no cocotb import.
"""

from __future__ import annotations

import numpy as np

from rramcim.fixedpoint import check_range, clog2

#: Legal ranges (inclusive), those of the RTL parameters / configuration inputs.
TILES_RANGE = (1, 4096)
GROUPS_RANGE = (1, 4096)
IN_BITS_RANGE = (1, 16)
ADC_BITS_RANGE = (2, 16)


def _check_int(name: str, value: object, lo: int, hi: int) -> int:
    """Return ``value`` as int, or raise ValueError naming ``name`` if not an int in [lo, hi]."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be an integer in [{lo}, {hi}], got {value!r}")
    v = int(value)
    if not lo <= v <= hi:
        raise ValueError(f"{name} = {v} is outside [{lo}, {hi}]")
    return v


def _check_bool(name: str, value: object) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be a bool, got {value!r}")
    return bool(value)


def acc_width(adc_bits: int, in_bits: int, n_tiles: int) -> int:
    """Minimum accumulator width ACC_W of the RTL, in bits.

    ``adc_bits + in_bits + clog2(n_tiles) + 1``: a sum of ``n_tiles`` tiles of ``in_bits``
    shifted ``adc_bits``-bit signed codes needs ``adc_bits + in_bits + clog2(n_tiles)`` bits;
    the RTL keeps one more as margin (its parameter check requires at least this value).

    Args:
        adc_bits: ADC code width in bits, 2..16.
        in_bits: maximum input precision in bits, 1..16.
        n_tiles: maximum row tiles per vector, 1..4096.

    Raises:
        ValueError: an argument out of range (naming it).
    """
    adc_bits = _check_int("adc_bits", adc_bits, *ADC_BITS_RANGE)
    in_bits = _check_int("in_bits", in_bits, *IN_BITS_RANGE)
    n_tiles = _check_int("n_tiles", n_tiles, *TILES_RANGE)
    return adc_bits + in_bits + clog2(n_tiles) + 1


def read_schedule(tiles: int, groups: int, in_bits: int) -> list[tuple[int, int, int]]:
    """Reads of one vector in the controller's order: ``(t, b, g)`` for read index ``r``.

    Entry ``r = (t*in_bits + b)*groups + g`` converts macro column group ``t*groups + g`` with
    the word lines at bit plane ``b`` (LSB first) of row tile ``t``.

    Args:
        tiles: row tiles per vector, 1..4096.
        groups: column groups per tile, 1..4096.
        in_bits: bit planes per input, 1..16.

    Raises:
        ValueError: an argument out of range, or ``tiles * groups > 4096`` (naming them).
    """
    tiles = _check_int("tiles", tiles, *TILES_RANGE)
    groups = _check_int("groups", groups, *GROUPS_RANGE)
    in_bits = _check_int("in_bits", in_bits, *IN_BITS_RANGE)
    if tiles * groups > GROUPS_RANGE[1]:
        raise ValueError(
            f"tiles * groups = {tiles} * {groups} = {tiles * groups} exceeds the "
            f"{GROUPS_RANGE[1]} column groups a macro can have"
        )
    return [(t, b, g) for t in range(tiles) for b in range(in_bits) for g in range(groups)]


def plane_weights(in_bits: int, signed: bool) -> np.ndarray:
    """Weight ``s_b * 2**b`` of every bit plane b (int64, shape ``(in_bits,)``).

    Args:
        in_bits: bit planes, 1..16.
        signed: two's-complement inputs: the top plane weighs ``-2**(in_bits-1)``.
    """
    in_bits = _check_int("in_bits", in_bits, *IN_BITS_RANGE)
    signed = _check_bool("signed", signed)
    w = np.left_shift(np.int64(1), np.arange(in_bits, dtype=np.int64))
    if signed:
        w[-1] = -w[-1]
    return w


def bit_planes(x_int: np.ndarray, in_bits: int, signed: bool) -> np.ndarray:
    """Binary planes of integer inputs, as the controller drives them on the word lines.

    Args:
        x_int: integer inputs, any shape; each in the ``in_bits`` range (signed:
            ``[-2**(in_bits-1), 2**(in_bits-1) - 1]``, unsigned: ``[0, 2**in_bits - 1]``).
        in_bits: bit planes, 1..16.
        signed: two's-complement inputs.

    Returns:
        uint8 array of shape ``(in_bits,) + x_int.shape``; plane b holds bit b of the
        two's-complement pattern of every element (``sum_b plane_weights[b] * planes[b] == x``).

    Raises:
        ValueError: a non-integer input, or a value outside the range (naming it).
    """
    in_bits = _check_int("in_bits", in_bits, *IN_BITS_RANGE)
    signed = _check_bool("signed", signed)
    x = np.asarray(x_int)
    if x.dtype == np.bool_ or not np.issubdtype(x.dtype, np.integer):
        raise ValueError(f"x_int must hold integers, got dtype {x.dtype}")
    x = x.astype(np.int64)
    check_range("x_int", x.reshape(-1), in_bits, signed)
    u = x & ((1 << in_bits) - 1)
    shifts = np.arange(in_bits, dtype=np.int64).reshape((in_bits,) + (1,) * x.ndim)
    return ((u[np.newaxis, ...] >> shifts) & 1).astype(np.uint8)


def accumulate(
    codes: np.ndarray,
    tiles: int,
    groups: int,
    in_bits: int,
    signed: bool,
    *,
    adc_bits: int | None = None,
) -> np.ndarray:
    """Accumulators of the controller after one vector (its output words), exact int64.

    Args:
        codes: signed ADC codes, shape ``(..., tiles, in_bits, groups, n_adc)``:
            ``codes[..., t, b, g, a]`` is channel a of the read of group ``t*groups + g`` at
            bit plane b of tile t.
        tiles: row tiles per vector, 1..4096.
        groups: column groups per tile, 1..4096.
        in_bits: bit planes, 1..16.
        signed: two's-complement inputs (the sign plane is subtracted).
        adc_bits: if given (2..16), every code must be an ``adc_bits``-wide signed value.

    Returns:
        int64 array of shape ``(..., groups * n_adc)``; output ``o = g*n_adc + a`` is
        ``sum_t sum_b s_b * 2**b * codes[..., t, b, g, a]``.

    Raises:
        ValueError: a bad argument, a shape that does not match ``tiles, in_bits, groups``,
            non-integer codes, codes outside ``adc_bits``, or codes so large that the sum could
            leave int64 (naming the argument and value).
    """
    tiles = _check_int("tiles", tiles, *TILES_RANGE)
    groups = _check_int("groups", groups, *GROUPS_RANGE)
    w = plane_weights(in_bits, signed)
    c = np.asarray(codes)
    if c.dtype == np.bool_ or not np.issubdtype(c.dtype, np.integer):
        raise ValueError(f"codes must hold integers, got dtype {c.dtype}")
    if c.ndim < 4 or c.shape[-4:-1] != (tiles, len(w), groups):
        raise ValueError(
            f"codes must have shape (..., tiles={tiles}, in_bits={len(w)}, groups={groups}, "
            f"n_adc), got {c.shape}"
        )
    if c.shape[-1] < 1:
        raise ValueError(f"codes must have at least one ADC channel, got shape {c.shape}")
    c = c.astype(np.int64)
    if adc_bits is not None:
        adc_bits = _check_int("adc_bits", adc_bits, *ADC_BITS_RANGE)
        check_range("codes", c.reshape(-1), adc_bits, True)
    elif c.size:
        # |sum| <= max|code| * (2**in_bits - 1) * tiles must stay inside int64.
        peak = int(np.max(np.abs(c)))
        bound = peak * ((1 << len(w)) - 1) * tiles
        if bound >= 1 << 62:
            raise ValueError(f"codes: max |code| = {peak} could overflow the int64 accumulation")
    # sum over t and b of w[b] * code -> (..., groups, n_adc)
    acc = np.einsum("...tbga,b->...ga", c, w, dtype=np.int64)
    return acc.reshape(acc.shape[:-2] + (groups * c.shape[-1],))

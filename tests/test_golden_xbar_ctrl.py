"""Unit tests of rramcim.golden.xbar_ctrl (the reference of rtl/cim_xbar_ctrl.sv); no simulator."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from rramcim.golden.xbar_ctrl import (
    acc_width,
    accumulate,
    bit_planes,
    plane_weights,
    read_schedule,
)


@dataclass(frozen=True)
class Shape:
    """One controller configuration with the macro slice it uses.

    Attributes:
        rows: word lines per tile, >= 1.
        n_adc: ADC channels (outputs per group), >= 1.
        tiles: row tiles per vector, >= 1.
        groups: column groups per tile, >= 1.
        in_bits: input bit planes, 1..16.
        signed: two's-complement inputs.
    """

    rows: int
    n_adc: int
    tiles: int
    groups: int
    in_bits: int
    signed: bool


SHAPES = [
    Shape(rows=16, n_adc=4, tiles=2, groups=3, in_bits=4, signed=True),
    Shape(rows=16, n_adc=4, tiles=2, groups=3, in_bits=4, signed=False),
    Shape(rows=9, n_adc=2, tiles=1, groups=1, in_bits=1, signed=False),
    Shape(rows=7, n_adc=3, tiles=3, groups=2, in_bits=8, signed=True),
    Shape(rows=5, n_adc=1, tiles=4, groups=1, in_bits=16, signed=True),
]


@pytest.fixture(
    params=SHAPES, ids=lambda s: f"T{s.tiles}G{s.groups}B{s.in_bits}{'s' if s.signed else 'u'}"
)
def shape(request: pytest.FixtureRequest) -> Shape:
    return request.param


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20240611)


def _random_inputs(rng: np.random.Generator, s: Shape, n: int) -> np.ndarray:
    lo, hi = (
        (-(1 << (s.in_bits - 1)), (1 << (s.in_bits - 1)) - 1)
        if s.signed
        else (0, (1 << s.in_bits) - 1)
    )
    x = rng.integers(lo, hi + 1, size=(n, s.tiles, s.rows), dtype=np.int64)
    x[0] = lo  # extremes always present
    x[1] = hi
    return x


# ---------------------------------------------------------------------------------------------
# read order
# ---------------------------------------------------------------------------------------------


def test_read_schedule_order_and_index(shape: Shape) -> None:
    sched = read_schedule(shape.tiles, shape.groups, shape.in_bits)
    assert len(sched) == shape.tiles * shape.in_bits * shape.groups
    for r, (t, b, g) in enumerate(sched):
        assert r == (t * shape.in_bits + b) * shape.groups + g
    # tile-major, then bit plane LSB first, then group
    assert sched == sorted(sched)
    assert sched[0] == (0, 0, 0)
    assert sched[-1] == (shape.tiles - 1, shape.in_bits - 1, shape.groups - 1)


def test_read_schedule_small_example() -> None:
    assert read_schedule(2, 2, 2) == [
        (0, 0, 0), (0, 0, 1), (0, 1, 0), (0, 1, 1),
        (1, 0, 0), (1, 0, 1), (1, 1, 0), (1, 1, 1),
    ]  # fmt: skip


# ---------------------------------------------------------------------------------------------
# bit planes
# ---------------------------------------------------------------------------------------------


def test_plane_weights() -> None:
    assert plane_weights(4, False).tolist() == [1, 2, 4, 8]
    assert plane_weights(4, True).tolist() == [1, 2, 4, -8]
    assert plane_weights(1, True).tolist() == [-1]
    assert plane_weights(16, True)[-1] == -(1 << 15)


def test_bit_planes_reconstruct(shape: Shape, rng: np.random.Generator) -> None:
    x = _random_inputs(rng, shape, 20)
    planes = bit_planes(x, shape.in_bits, shape.signed)
    assert planes.shape == (shape.in_bits,) + x.shape
    assert planes.dtype == np.uint8
    assert set(np.unique(planes).tolist()) <= {0, 1}
    w = plane_weights(shape.in_bits, shape.signed)
    assert np.array_equal(np.tensordot(w, planes.astype(np.int64), axes=1), x)


def test_bit_planes_signed_patterns() -> None:
    p = bit_planes(np.array([-1, -8, 7, 0, 5]), 4, True)
    assert p[:, 0].tolist() == [1, 1, 1, 1]  # -1 = 1111
    assert p[:, 1].tolist() == [0, 0, 0, 1]  # -8 = 1000 (LSB first)
    assert p[:, 2].tolist() == [1, 1, 1, 0]
    assert p[:, 3].tolist() == [0, 0, 0, 0]
    assert p[:, 4].tolist() == [1, 0, 1, 0]


def test_bit_planes_unsigned_patterns() -> None:
    p = bit_planes(np.array([[15, 6]]), 4, False)
    assert p.shape == (4, 1, 2)
    assert p[:, 0, 0].tolist() == [1, 1, 1, 1]
    assert p[:, 0, 1].tolist() == [0, 1, 1, 0]


# ---------------------------------------------------------------------------------------------
# accumulation
# ---------------------------------------------------------------------------------------------


def test_accumulate_ideal_codes_give_matrix_product(shape: Shape, rng: np.random.Generator) -> None:
    """Codes equal to the exact binary dot products -> acc equals the integer x @ W."""
    s = shape
    V = 6
    x = _random_inputs(rng, s, V)  # [V, T, rows]
    wmat = rng.integers(-3, 4, size=(s.tiles, s.rows, s.groups * s.n_adc), dtype=np.int64)
    planes = bit_planes(x, s.in_bits, s.signed).astype(np.int64)  # [B, V, T, rows]
    # code[v, t, b, g, a] = sum_r plane_b[v, t, r] * W[t, r, g*n_adc + a]
    dots = np.einsum("bvtr,tro->vtbo", planes, wmat)
    codes = dots.reshape(V, s.tiles, s.in_bits, s.groups, s.n_adc)
    acc = accumulate(codes, s.tiles, s.groups, s.in_bits, s.signed)
    expect = np.einsum("vtr,tro->vo", x, wmat)
    assert acc.dtype == np.int64
    assert acc.shape == (V, s.groups * s.n_adc)
    assert np.array_equal(acc, expect)


def test_accumulate_output_numbering() -> None:
    """Output o = g*n_adc + a; only the code of (t=1, b=2, g=1, a=0) is set."""
    codes = np.zeros((2, 3, 2, 2), dtype=np.int64)
    codes[1, 2, 1, 0] = 5
    acc = accumulate(codes, 2, 2, 3, False)
    assert acc.tolist() == [0, 0, 5 * 4, 0]
    acc_s = accumulate(codes, 2, 2, 3, True)  # b = 2 is the sign plane
    assert acc_s.tolist() == [0, 0, -5 * 4, 0]


def test_accumulate_batch_dims(shape: Shape, rng: np.random.Generator) -> None:
    s = shape
    codes = rng.integers(-128, 128, size=(2, 3, s.tiles, s.in_bits, s.groups, s.n_adc))
    acc = accumulate(codes, s.tiles, s.groups, s.in_bits, s.signed, adc_bits=8)
    assert acc.shape == (2, 3, s.groups * s.n_adc)
    one = accumulate(codes[1, 2], s.tiles, s.groups, s.in_bits, s.signed)
    assert np.array_equal(acc[1, 2], one)


@pytest.mark.parametrize(
    "adc_bits,in_bits,n_tiles", [(2, 1, 1), (6, 4, 2), (8, 8, 4), (16, 16, 4096)]
)
def test_acc_width_holds_extremes(adc_bits: int, in_bits: int, n_tiles: int) -> None:
    w = acc_width(adc_bits, in_bits, n_tiles)
    assert w == adc_bits + in_bits + (n_tiles - 1).bit_length() + 1
    lo_code, hi_code = -(1 << (adc_bits - 1)), (1 << (adc_bits - 1)) - 1
    lo, hi = -(1 << (w - 1)), (1 << (w - 1)) - 1
    for signed in (False, True):
        for code in (lo_code, hi_code):
            codes = np.full((n_tiles, in_bits, 1, 1), code, dtype=np.int64)
            if signed:  # worst case: the sign plane carries the opposite extreme
                codes[:, -1] = hi_code if code == lo_code else lo_code
            acc = int(accumulate(codes, n_tiles, 1, in_bits, signed, adc_bits=adc_bits)[0])
            assert lo <= acc <= hi, (signed, code, acc, w)


# ---------------------------------------------------------------------------------------------
# validation
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args,match",
    [
        ((0, 1, 1), r"tiles = 0"),
        ((1, 0, 1), r"groups = 0"),
        ((1, 1, 0), r"in_bits = 0"),
        ((1, 1, 17), r"in_bits = 17"),
        ((64, 65, 1), r"tiles \* groups"),
        ((1.5, 1, 1), r"tiles must be an integer"),
    ],
)
def test_read_schedule_validation(args: tuple, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        read_schedule(*args)


def test_bit_planes_validation() -> None:
    with pytest.raises(ValueError, match=r"x_int\[1\] = 8 outside the 4-bit signed"):
        bit_planes(np.array([0, 8]), 4, True)
    with pytest.raises(ValueError, match=r"x_int\[0\] = -1 outside the 4-bit unsigned"):
        bit_planes(np.array([-1]), 4, False)
    with pytest.raises(ValueError, match=r"x_int must hold integers"):
        bit_planes(np.array([0.5]), 4, False)
    with pytest.raises(ValueError, match=r"in_bits = 17"):
        bit_planes(np.array([0]), 17, False)
    with pytest.raises(ValueError, match=r"signed must be a bool"):
        bit_planes(np.array([0]), 4, 1)  # type: ignore[arg-type]


def test_accumulate_validation() -> None:
    codes = np.zeros((2, 3, 4, 5), dtype=np.int64)
    accumulate(codes, 2, 4, 3, True)  # the matching shape is accepted
    with pytest.raises(ValueError, match=r"codes must have shape \(\.\.\., tiles=2, in_bits=2"):
        accumulate(codes, 2, 4, 2, True)
    with pytest.raises(ValueError, match=r"codes must have shape"):
        accumulate(np.zeros((3, 4), dtype=np.int64), 1, 3, 4, True)
    with pytest.raises(ValueError, match=r"codes must hold integers"):
        accumulate(codes.astype(float), 2, 4, 3, True)
    bad = codes.copy()
    bad[1, 2, 3, 4] = 128
    with pytest.raises(ValueError, match=r"codes\[119\] = 128 outside the 8-bit signed"):
        accumulate(bad, 2, 4, 3, True, adc_bits=8)
    with pytest.raises(ValueError, match=r"adc_bits = 1"):
        accumulate(codes, 2, 4, 3, True, adc_bits=1)
    with pytest.raises(ValueError, match=r"tiles = 0"):
        accumulate(codes, 0, 4, 3, True)
    huge = codes.copy()
    huge[0, 0, 0, 0] = 1 << 60
    with pytest.raises(ValueError, match=r"could overflow"):
        accumulate(huge, 2, 4, 3, False)


@pytest.mark.parametrize(
    "args,match",
    [((1, 4, 1), r"adc_bits = 1"), ((8, 0, 1), r"in_bits = 0"), ((8, 4, 0), r"n_tiles = 0")],
)
def test_acc_width_validation(args: tuple, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        acc_width(*args)

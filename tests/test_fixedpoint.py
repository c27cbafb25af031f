"""Tests of rramcim.fixedpoint (the integer arithmetic shared with the RTL)."""

from __future__ import annotations

import numpy as np
import pytest

from rramcim import fixedpoint as fp


def test_clog2_and_sel_width() -> None:
    assert [fp.clog2(n) for n in (1, 2, 3, 4, 5, 512, 513)] == [0, 1, 2, 2, 3, 9, 10]
    assert fp.sel_width(1) == 1 and fp.sel_width(16) == 4
    with pytest.raises(ValueError, match="n must be >= 1"):
        fp.clog2(0)


def test_pack_unpack_roundtrip() -> None:
    rng = np.random.default_rng(0)
    for width in (1, 4, 8, 13):
        for signed in (False, True):
            lo, hi = fp.int_range(width, signed)
            vals = rng.integers(lo, hi + 1, size=37).tolist()
            assert fp.unpack(fp.pack(vals, width), len(vals), width, signed) == vals


def test_pack_rejects_out_of_range() -> None:
    with pytest.raises(ValueError, match="does not fit in 4 bits"):
        fp.pack([16], 4)


def test_saturate_wrap_round() -> None:
    assert fp.saturate([-200, 5, 200], 8).tolist() == [-128, 5, 127]
    assert fp.saturate([-1, 300], 8, signed=False).tolist() == [0, 255]
    assert fp.wrap([128, -129, 255], 8).tolist() == [-128, 127, -1]
    assert fp.round_half_up_shift([5, 6, 7, -5, -6], 2).tolist() == [1, 2, 2, -1, -1]


def test_check_range_names_value() -> None:
    with pytest.raises(ValueError, match=r"x\[2\] = 9 outside the 3-bit signed range"):
        fp.check_range("x", [0, 1, 9], 3, True)

"""Tests of rramcim.data.phantom: value ranges, symmetry, keyed prior perturbation, 3-D table."""

from __future__ import annotations

import numpy as np
import pytest

from rramcim.data.phantom import (
    SHEPP_LOGAN_2D,
    SHEPP_LOGAN_3D,
    PriorPerturbation,
    perturb_ellipses,
    prior_phantom_2d,
    rasterise_ellipses,
    shepp_logan_2d,
    shepp_logan_3d,
)


def test_tables_have_ten_entries() -> None:
    assert len(SHEPP_LOGAN_2D) == 10
    assert len(SHEPP_LOGAN_3D) == 10


def test_2d_range_values_and_orientation() -> None:
    img = shepp_logan_2d(128)
    assert img.shape == (128, 128)
    assert img.min() == 0.0 and img.max() == 1.0
    # the documented levels: skull 1, brain 0.2, background 0
    assert img[64, 0] == 0.0
    assert img[96, 64] == pytest.approx(0.2)  # y = -0.5, x = 0: brain
    # the small ellipse 5 (0.1 at y = +0.35) lies in the upper half (row 0 at the top)
    assert img[41, 64] == pytest.approx(0.3)


def test_2d_left_right_symmetry_of_the_symmetric_part() -> None:
    # ellipses 1, 2, 5, 6, 7, 9 are centred on x = 0 and unrotated: mirror symmetric
    sym = tuple(SHEPP_LOGAN_2D[i] for i in (0, 1, 4, 5, 6, 8))
    img = rasterise_ellipses(sym, 64, 2)
    np.testing.assert_allclose(img, img[:, ::-1], atol=1e-12)
    # the full phantom is not (ventricles rotated, ellipses 8 and 10 off-centre) but nearly
    full = shepp_logan_2d(64)
    assert 0 < np.abs(full - full[:, ::-1]).mean() < 0.02


def test_supersampling_gives_partial_values_on_edges() -> None:
    hard = shepp_logan_2d(64, supersample=1)
    soft = shepp_logan_2d(64, supersample=4)
    levels = {0.0, 0.1, 0.2, 0.3, 0.4, 1.0}
    assert all(any(abs(v - lv) < 1e-9 for lv in levels) for v in np.unique(hard.round(12)))
    assert len(np.unique(soft.round(9))) > len(np.unique(hard.round(9)))
    assert abs(hard.mean() - soft.mean()) < 0.01


def test_prior_is_keyed_close_and_in_range() -> None:
    a = prior_phantom_2d(64, PriorPerturbation(seed=3))
    b = prior_phantom_2d(64, PriorPerturbation(seed=3))
    c = prior_phantom_2d(64, PriorPerturbation(seed=4))
    target = shepp_logan_2d(64)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert a.min() >= 0.0 and a.max() <= 1.0
    mse = np.mean((a - target) ** 2)
    assert 1e-3 < mse < 0.1


def test_zero_perturbation_is_identity() -> None:
    zero = PriorPerturbation(shift=0, scale=0, rot_deg=0, intensity=0, breath=0)
    np.testing.assert_allclose(perturb_ellipses(SHEPP_LOGAN_2D, zero), np.array(SHEPP_LOGAN_2D))


def test_perturbation_moves_skull_pair_rigidly() -> None:
    pert = PriorPerturbation(seed=1)
    e = perturb_ellipses(SHEPP_LOGAN_2D, pert)
    base = np.array(SHEPP_LOGAN_2D)
    dx = e[:2, 3] - base[:2, 3]
    dy = e[:2, 4] / (1.0 + pert.breath) - base[:2, 4]
    assert dx[0] == pytest.approx(dx[1]) and dy[0] == pytest.approx(dy[1])
    np.testing.assert_allclose(e[0, 1:3] / base[0, 1:3], e[1, 1:3] / base[1, 1:3])
    assert e[0, 5] == pytest.approx(e[1, 5])
    # the inner ellipses move independently
    assert len(np.unique(np.round(e[2:, 3] - base[2:, 3], 12))) == 8


@pytest.mark.parametrize(
    ("field", "value"),
    [("shift", 0.5), ("scale", -0.1), ("rot_deg", 90.0), ("breath", float("nan"))],
)
def test_bad_perturbation_raises(field: str, value: float) -> None:
    with pytest.raises(ValueError, match=rf"PriorPerturbation\.{field} = {value!r}"):
        PriorPerturbation(**{field: value})


def test_bad_sizes_raise() -> None:
    with pytest.raises(ValueError, match="n = 1"):
        shepp_logan_2d(1)
    with pytest.raises(ValueError, match="supersample = 0"):
        shepp_logan_2d(16, supersample=0)
    with pytest.raises(ValueError, match="shape.H"):
        shepp_logan_3d((4, 1, 4))


def test_3d_range_and_central_slice() -> None:
    vol = shepp_logan_3d((16, 64, 64), supersample=1)
    assert vol.shape == (16, 64, 64)
    assert vol.min() == 0.0 and vol.max() == 1.0
    # the central slice (z near 0) resembles the 2-D phantom
    mid = 0.5 * (vol[7] + vol[8])
    assert np.abs(mid - shepp_logan_2d(64, 1)).mean() < 0.03
    # the top slice (z = -1 + 1/16) lies outside the skull ellipsoid (c = 0.81)
    assert vol[0].max() == 0.0

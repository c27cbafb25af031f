"""Tests of rramcim.apps.nfield.ct3d: 3-D phantom and prior, config, two-stage training."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest
import torch

from rramcim.apps.nfield.ct import psnr
from rramcim.apps.nfield.ct3d import (
    Ct3dConfig,
    perturb_ellipsoids,
    rasterise_ellipsoids,
    run_ct3d,
    ssim_volume,
    voxel_coords,
)
from rramcim.data.phantom import SHEPP_LOGAN_3D, PriorPerturbation, shepp_logan_3d
from rramcim.nn.field import FieldConfig


@pytest.fixture(scope="module")
def tiny_result():
    cfg = Ct3dConfig(shape=(4, 32, 32), n_views=8, iters_prior=20, iters_recon=10, recon_slices=2)
    return cfg, run_ct3d(cfg)


def test_rasteriser_matches_phantom_module() -> None:
    a = rasterise_ellipsoids(SHEPP_LOGAN_3D, (6, 24, 24), z_half=1.0, supersample=2)
    b = shepp_logan_3d((6, 24, 24), supersample=2)
    assert np.array_equal(a, b)


def test_rasteriser_slab_and_range() -> None:
    v = rasterise_ellipsoids(SHEPP_LOGAN_3D, (4, 32, 32), z_half=0.5)
    assert v.shape == (4, 32, 32) and v.min() >= 0.0 and v.max() <= 1.0
    # the slab z in [-0.5, 0.5] cuts the head: every slice holds the skull and the brain
    assert all(v[i].max() > 0.5 and v[i].mean() > 0.1 for i in range(4))
    with pytest.raises(ValueError, match="z_half"):
        rasterise_ellipsoids(SHEPP_LOGAN_3D, (4, 32, 32), z_half=0.0)


def test_perturbation_keyed_and_rigid_skull() -> None:
    p = PriorPerturbation(seed=3)
    t1 = perturb_ellipsoids(SHEPP_LOGAN_3D, p)
    t2 = perturb_ellipsoids(SHEPP_LOGAN_3D, p)
    t3 = perturb_ellipsoids(SHEPP_LOGAN_3D, PriorPerturbation(seed=4))
    assert t1.shape == (10, 10)
    assert np.array_equal(t1, t2) and not np.array_equal(t1, t3)
    base = np.asarray(SHEPP_LOGAN_3D)
    # the skull pair shares its x, z shifts (y also carries the breathing stretch of y0);
    # the outer intensities are untouched
    assert np.allclose(t1[0, [4, 6]] - base[0, [4, 6]], t1[1, [4, 6]] - base[1, [4, 6]])
    assert np.array_equal(t1[:2, 0], base[:2, 0])
    zero = PriorPerturbation(shift=0, scale=0, rot_deg=0, intensity=0, breath=0)
    assert np.array_equal(perturb_ellipsoids(SHEPP_LOGAN_3D, zero), base)


def test_prior_close_but_not_equal_to_target() -> None:
    # measured on 16 x 64 x 64, z_half 0.5: prior vs target 20.2 dB (seed 0), 19.2 dB (seed 1)
    shape = (16, 64, 64)
    target = rasterise_ellipsoids(SHEPP_LOGAN_3D, shape, 0.5)
    for seed in (0, 1):
        prior = rasterise_ellipsoids(
            perturb_ellipsoids(SHEPP_LOGAN_3D, PriorPerturbation(seed=seed)), shape, 0.5
        )
        assert 15.0 < psnr(prior, target) < 30.0


def test_voxel_coords() -> None:
    c = voxel_coords((2, 4, 8))
    assert c.shape == (64, 3)
    assert torch.allclose(c[0], torch.tensor([1 / 16, 1 / 8, 1 / 4]))
    assert torch.allclose(c[-1], torch.tensor([15 / 16, 7 / 8, 3 / 4]))
    assert float(c.min()) > 0 and float(c.max()) < 1


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"shape": (16, 64, 32)}, "shape"),
        ({"shape": (0, 64, 64)}, "shape"),
        ({"shape": (4, 8, 8)}, "shape"),
        ({"shape": (4, 64)}, "shape"),
        ({"z_half": 1.5}, "z_half"),
        ({"n_views": 0}, "n_views"),
        ({"iters_prior": -1}, "iters_prior"),
        ({"lr_recon": 0.0}, "lr_recon"),
        ({"recon_slices": 17}, "recon_slices"),
        ({"encoder_sigma": math.nan}, "encoder_sigma"),
        ({"fbp_window": "box"}, "fbp_window"),
        ({"field": FieldConfig(n_in=2)}, "field.n_in"),
        ({"seed": 0.5}, "seed"),
    ],
)
def test_config_validation(kwargs: dict, name: str) -> None:
    with pytest.raises(ValueError, match=rf"Ct3dConfig\.{name} = ") as e:
        Ct3dConfig(**kwargs)
    value = next(iter(kwargs.values()))
    shown = repr(value.n_in) if isinstance(value, FieldConfig) else repr(value)
    assert shown in str(e.value)


def test_config_defaults() -> None:
    cfg = Ct3dConfig()
    assert cfg.shape == (16, 64, 64) and cfg.n_views == 20 and cfg.encoder_sigma == 4.0
    assert cfg.field.widths == [131, 100, 10, 100, 1]


def test_ssim_volume() -> None:
    v = torch.rand(3, 16, 16, generator=torch.Generator().manual_seed(0))
    assert ssim_volume(v, v) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="ssim_volume"):
        ssim_volume(v, v[0])


def test_tiny_end_to_end(tiny_result) -> None:
    cfg, r = tiny_result
    for a in (r.target, r.prior, r.field_volume, r.fbp_volume):
        assert a.shape == (4, 32, 32) and a.dtype == np.float32
    assert r.sinogram.shape == (4, 8, 32)
    for v in (r.psnr_field_dB, r.ssim_field, r.psnr_fbp_dB, r.ssim_fbp, r.psnr_prior_dB):
        assert math.isfinite(v)
    assert len(r.history["prior_loss"]) == 20 and len(r.history["recon_loss"]) == 10
    assert r.history["prior_loss"][-1] < r.history["prior_loss"][0]
    assert r.net is not None and r.net.cfg.widths == [131, 100, 10, 100, 1]
    # outside the inscribed cylinder the field volume is masked to 0
    assert r.field_volume[:, 0, 0].max() == 0.0
    assert "neural field" in r.table() and r.config["shape"] == (4, 32, 32)


def test_tiny_deterministic(tiny_result) -> None:
    cfg, r = tiny_result
    r2 = run_ct3d(cfg)
    assert np.array_equal(r.field_volume, r2.field_volume)


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1])
def test_field_beats_fbp_at_20_views(seed: int) -> None:
    # measured on 16 x 64 x 64, 20 views (1 thread, shared 2-core machine, 150-250 s per seed):
    # seed 0: field 28.69 dB / 0.803, seed 1: 26.99 dB / 0.740; FBP (ram-lak) 24.62 dB / 0.713.
    # The margin (+4.1 / +2.4 dB) is smaller than the 2-D case's +8 dB: at 64 x 64 the
    # 20-view FBP is less undersampled than at 128 x 128. The bound is +2 dB, not tuned.
    t0 = time.perf_counter()
    r = run_ct3d(Ct3dConfig(seed=seed, encoder_seed=seed, prior_seed=seed))
    print(f"seed {seed}: {time.perf_counter() - t0:.1f} s\n{r.table()}")
    assert r.psnr_field_dB >= r.psnr_fbp_dB + 2.0
    assert r.ssim_field > r.ssim_fbp

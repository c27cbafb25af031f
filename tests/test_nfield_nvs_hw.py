"""Tests of rramcim.apps.nfield.nvs_hw (the radiance field on the chip's datapath)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from rramcim.apps.nfield.hw import map_field
from rramcim.apps.nfield.nvs import NvsConfig, make_views
from rramcim.apps.nfield.nvs_hw import (
    NVS_HW_FIELD,
    HardwareNerf,
    SirenNerf,
    SirenNerfConfig,
    head,
    load_nvs_hw,
    train_nvs_hw,
    unit_coords,
    views_quality,
)
from rramcim.golden.nfield_top import NfieldHwConfig


@pytest.mark.parametrize(
    ("field", "value"),
    [("n_freq", 0), ("width", 3), ("rank", 0), ("depth", 9), ("sigma", 0.0), ("w0", 0.0)],
)
def test_config_rejects_out_of_range(field: str, value: float) -> None:
    with pytest.raises(ValueError, match=field):
        SirenNerfConfig(**{field: value})


def test_unit_coords_masks_points_outside_the_cube() -> None:
    pts = torch.tensor([[0.0, 0.0, 0.0], [1.5, 0.0, 0.0], [-1.0, -1.0, -1.0], [0.9, -0.2, 1.0]])
    t = torch.tensor([0.1, 0.2, 1.0, 0.4])
    x, inside = unit_coords(pts, t, 1.0 - 2.0**-12)
    assert inside.tolist() == [True, False, True, False]
    assert torch.allclose(x[0], torch.tensor([0.5, 0.5, 0.5, 0.1]))
    assert float(x[1, 3]) == pytest.approx(1.0 - 2.0**-12)  # t = 1 is clamped below 1
    assert x.shape == (2, 4)


def test_head_maps_outputs_to_density_and_colour() -> None:
    cfg = SirenNerfConfig()
    s, c = head(torch.tensor([[-0.5, 0.0, 1.0, -1.0], [0.5, 0.0, 0.0, 0.0]]), cfg)
    assert s.tolist() == [0.0, pytest.approx(0.5 * cfg.sigma_max)]
    assert c[0, 0] == pytest.approx(0.5) and c[0, 1] > 0.98 and c[0, 2] < 0.02


def test_outside_points_have_zero_density() -> None:
    net = SirenNerf(SirenNerfConfig(n_freq=4, width=8, rank=2), dynamic=False)
    pts = torch.tensor([[2.0, 0.0, 0.0], [0.1, 0.2, 0.3]])
    with torch.no_grad():
        s, c = net(pts, torch.zeros_like(pts))
    assert float(s[0]) == 0.0 and float(c[0].abs().sum()) == 0.0
    with pytest.raises(ValueError, match="time"):
        SirenNerf(SirenNerfConfig(n_freq=4, width=8, rank=2), dynamic=True)(pts, pts)


def test_training_is_reproducible() -> None:
    nvs = NvsConfig(image_size=12, train_views=4, test_views=1, steps=3, gt_samples=16)
    cfg = SirenNerfConfig(n_freq=4, width=8, rank=2, sigma=1.5)
    a, ia = train_nvs_hw(nvs, cfg)
    b, ib = train_nvs_hw(nvs, cfg)
    for (ka, va), (kb, vb) in zip(a.state_dict().items(), b.state_dict().items(), strict=True):
        assert ka == kb and torch.equal(va, vb)
    assert ia["psnr_dB"] == ib["psnr_dB"]


@pytest.fixture(scope="module")
def shipped() -> tuple[dict, dict]:
    return load_nvs_hw()


def test_shipped_checkpoint_loads_with_its_summary(shipped: tuple[dict, dict]) -> None:
    nets, summary = shipped
    assert set(nets) == {"static", "dynamic"}
    assert SirenNerfConfig(**summary["field"]) == NVS_HW_FIELD
    assert nets["dynamic"].field.cfg.n_in == 4 and nets["static"].field.cfg.n_in == 3
    assert summary["static"]["psnr_dB"] > 30.0


def test_missing_array_is_named(tmp_path, shipped: tuple[dict, dict]) -> None:  # noqa: ANN001
    from rramcim.apps.nfield.nvs_hw import nvs_hw_asset

    with np.load(nvs_hw_asset()) as z:
        arrays = {k: z[k] for k in z.files if k != "static.layers.0.linear.weight"}
    bad = tmp_path / "bad.npz"
    np.savez(bad, **arrays)
    with pytest.raises(ValueError, match="static.layers.0"):
        load_nvs_hw(bad)
    with pytest.raises(FileNotFoundError, match="nfield-nvs-hw"):
        load_nvs_hw(tmp_path / "none.npz")


def test_hardware_field_numbers_coordinates_as_one_stream(shipped: tuple[dict, dict]) -> None:
    net = shipped[0]["static"]
    hw = map_field(net.field, NfieldHwConfig(), 0)
    f = HardwareNerf(hw, net.cfg, dynamic=False)
    g = torch.Generator().manual_seed(0)
    pts = torch.rand(40, 3, generator=g) * 2.4 - 1.2
    s1, c1 = f(pts[:20], pts[:20])
    s2, c2 = f(pts[20:], pts[20:])
    x, inside = unit_coords(pts, None, SirenNerf.coord_max)
    r = hw.evaluate(x.double())  # one stream from vector 0
    s, c = head(torch.from_numpy(r.value).float(), net.cfg)
    assert torch.equal(torch.cat([s1, s2])[inside], s)
    # the sigmoid of a different batch shape may differ in the last float32 bit
    assert torch.allclose(torch.cat([c1, c2])[inside], c, rtol=0.0, atol=1e-6)
    assert f.next_vector == int(inside.sum())


def test_views_quality_of_the_float_field(shipped: tuple[dict, dict]) -> None:
    net = shipped[0]["static"]
    nvs = dataclasses.replace(NvsConfig(), test_views=1, image_size=16)
    _, test = make_views(nvs)
    q = views_quality(net, test, nvs)
    assert q["psnr_dB"] > 25.0 and 0.0 < q["ssim"] <= 1.0

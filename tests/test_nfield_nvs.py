"""Unit tests of :mod:`rramcim.apps.nfield.nvs` (scenes, renderer, low-rank field, pruning)."""

from __future__ import annotations

import math

import pytest
import torch

from rramcim.apps.nfield import nvs


@pytest.fixture(autouse=True)
def _one_thread() -> None:
    torch.set_num_threads(1)


def test_scene_field_inside_outside() -> None:
    sc = nvs.make_scene("static")
    pts = torch.tensor([[0.0, 0.0, 0.0], [0.95, 0.95, 0.95]])
    sig, rgb = sc.field(pts)
    assert sig[0] > 0.99 * sc.objects[0].density  # the centre of the red sphere
    assert sig[1] < 1e-6  # empty corner
    assert rgb[0, 0] > rgb[0, 1] and rgb[0, 0] > rgb[0, 2]
    assert torch.all((rgb >= 0) & (rgb <= 1))


def test_dynamic_scene_moves() -> None:
    sc = nvs.make_scene("dynamic")
    box = sc.objects[1]
    p = torch.tensor([box.center])
    s0, _ = sc.field(p, torch.tensor([0.0]))
    s1, _ = sc.field(p, torch.tensor([1.0]))
    assert s0[0] > 0.9 * box.density and s1[0] < 0.1 * box.density


def test_camera_rays_unit_and_centred() -> None:
    c2w = nvs.look_at_poses([0.0, 90.0], [15.0, 40.0], 3.0)
    o, d = nvs.camera_rays(c2w, 8, 30.0)
    assert torch.allclose(d.norm(dim=-1), torch.ones(2, 64), atol=1e-6)
    assert torch.allclose(o.norm(dim=-1), torch.full((2, 64), 3.0), atol=1e-5)
    # the mean ray direction points at the origin
    mean_dir = d.mean(1)
    mean_dir = mean_dir / mean_dir.norm(dim=-1, keepdim=True)
    to_origin = -o[:, 0] / o[:, 0].norm(dim=-1, keepdim=True)
    assert torch.allclose(mean_dir, to_origin, atol=1e-3)


def test_render_empty_and_opaque() -> None:
    o = torch.zeros(5, 3)
    d = torch.tensor([[0.0, 0.0, 1.0]]).expand(5, 3)

    def empty(p, dd, t):  # noqa: ANN001, ANN202
        return torch.zeros(p.shape[0]), torch.zeros(p.shape[0], 3)

    def opaque(p, dd, t):  # noqa: ANN001, ANN202
        return torch.full((p.shape[0],), 1e4), torch.tensor([[0.2, 0.4, 0.6]]).expand(p.shape[0], 3)

    assert torch.allclose(
        nvs.render_rays(empty, o, d, near=1, far=2, n_samples=8), torch.ones(5, 3)
    )
    got = nvs.render_rays(opaque, o, d, near=1, far=2, n_samples=8)
    assert torch.allclose(got, torch.tensor([[0.2, 0.4, 0.6]]).expand(5, 3), atol=1e-5)


def test_render_uniform_medium_matches_beer_lambert() -> None:
    o, d = torch.zeros(1, 3), torch.tensor([[1.0, 0.0, 0.0]])
    s = 0.7

    def medium(p, dd, t):  # noqa: ANN001, ANN202
        return torch.full((p.shape[0],), s), torch.zeros(p.shape[0], 3)

    got = nvs.render_rays(medium, o, d, near=0.0, far=2.0, n_samples=64)
    # black medium over a white background: exp(-sigma L) of the background is left
    assert float(got[0, 0]) == pytest.approx(math.exp(-s * 2.0), rel=1e-5)


def test_low_rank_layer_shapes() -> None:
    lr = nvs.LowRankLinear(64, 64, 8)
    assert lr.v is not None and lr.v.weight.shape == (8, 64) and lr.u.weight.shape == (64, 8)
    assert lr.dense().shape == (64, 64)
    full = nvs.LowRankLinear(10, 64, 16)  # rank >= min(in, out): a full layer
    assert full.v is None and full.dense().shape == (64, 10)


def test_field_outputs_and_weights() -> None:
    net = nvs.NerfField(nvs.NerfConfig(depth=4, width=32, rank=8, skip=1), seed=3)
    p, d = torch.rand(7, 3), torch.nn.functional.normalize(torch.randn(7, 3), dim=-1)
    sig, rgb = net(p, d)
    assert sig.shape == (7,) and rgb.shape == (7, 3)
    assert torch.all(sig >= 0) and torch.all((rgb > 0) & (rgb < 1))
    assert net.n_weights() == sum(m.numel() for m in net.matrices())
    again = nvs.NerfField(nvs.NerfConfig(depth=4, width=32, rank=8, skip=1), seed=3)
    assert torch.equal(again(p, d)[1], rgb)  # keyed initialisation


def test_time_input_required() -> None:
    net = nvs.NerfField(nvs.NerfConfig(width=16, rank=4, time_input=True))
    p, d = torch.rand(3, 3), torch.rand(3, 3)
    assert net(p, d, torch.rand(3))[0].shape == (3,)
    with pytest.raises(ValueError, match="time input"):
        net(p, d)


def test_prune_keeps_important_units_exactly() -> None:
    """Units whose producing weights are zero are removed first and change nothing."""
    torch.manual_seed(0)
    net = nvs.NerfField(nvs.NerfConfig(depth=3, width=16, rank=None, skip=0), seed=1)
    with torch.no_grad():
        for layer in net.trunk:  # silence the upper half of every layer's units
            layer.u.weight[8:] = 0.0
            layer.u.bias[8:] = 0.0
    p, d = torch.rand(11, 3), torch.nn.functional.normalize(torch.randn(11, 3), dim=-1)
    before = net(p, d)
    n_before = net.n_weights()
    nvs.prune_trunk(net, 0.5)
    after = net(p, d)
    assert net.widths == [8, 8, 8]
    assert net.n_weights() < n_before
    assert torch.allclose(before[0], after[0], atol=1e-6)
    assert torch.allclose(before[1], after[1], atol=1e-6)


def test_prune_identity_and_bad_fraction() -> None:
    net = nvs.NerfField(nvs.NerfConfig(depth=3, width=16, rank=4, skip=1))
    n = net.n_weights()
    nvs.prune_trunk(net, 1.0)
    assert net.n_weights() == n
    with pytest.raises(ValueError, match="keep_frac"):
        nvs.prune_trunk(net, 0.0)


def test_haq_copy_close_with_many_cells() -> None:
    net = nvs.NerfField(nvs.NerfConfig(depth=3, width=16, rank=4, skip=1))
    q = nvs.haq_copy(net, 16, noise_std=0.0)
    for a, b in zip(net.matrices(), q.matrices(), strict=True):
        scale = float(a.detach().abs().max())
        assert float((a - b).detach().abs().max()) <= 1e-2 * scale
    noisy = nvs.haq_copy(net, 4, noise_std=0.15, key=5)
    assert any(not torch.equal(a, b) for a, b in zip(net.matrices(), noisy.matrices(), strict=True))


@pytest.mark.parametrize(
    ("field", "value"),
    [("depth", 1), ("width", 4), ("rank", 0), ("skip", 3), ("sigma_pts", 0.0)],
)
def test_nerf_config_validation(field: str, value: object) -> None:
    with pytest.raises(ValueError, match=f"NerfConfig.{field}"):
        nvs.NerfConfig(**{"depth": 4, field: value})


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("scene", "moving"),
        ("image_size", 4),
        ("fov_deg", 150.0),
        ("prune_ratio", 1.0),
        ("far", 1.0),
    ],
)
def test_nvs_config_validation(field: str, value: object) -> None:
    with pytest.raises(ValueError, match="NvsConfig"):
        nvs.NvsConfig(**{field: value})

"""Tests of PRIME inpainting: data and mask, pruned FSVAE, shipped asset, early stop, energy."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rramcim.apps.prime.inpaint import (
    MACRO,
    InpaintTrainConfig,
    _layer_read_stats,
    _row_conv,
    early_stop_steps,
    energy_projection,
    gather_patches,
    ink_threshold,
    latent_noise,
    load_classifier,
    load_inpaint,
    psnr,
    quantize_pixels,
    reconstruct,
    scaled_threshold,
)
from rramcim.apps.prime.inpaint_model import (
    InpaintModelConfig,
    PrunedFSVAE,
    apply_mask,
    inpaint_data,
    lif_over_time,
    region_mask,
)
from rramcim.nn.lif import LIFCell


@pytest.fixture(scope="module", autouse=True)
def _one_thread():  # noqa: ANN202
    """One torch thread, as training and evaluation use (two are slow on shared cores)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def cfg() -> InpaintModelConfig:
    return InpaintModelConfig()


@pytest.fixture(scope="module")
def data(cfg: InpaintModelConfig) -> tuple[torch.Tensor, torch.Tensor, np.ndarray, np.ndarray]:
    return inpaint_data(cfg)


@pytest.fixture(scope="module")
def random_net(cfg: InpaintModelConfig) -> PrunedFSVAE:
    """The network on Gaussian stand-in conductances (no forming: fast)."""
    g = torch.Generator().manual_seed(0)
    dg = [torch.randn(s.fan_in, s.cols, generator=g) * 6.35 for s in cfg.layer_specs()]
    return PrunedFSVAE(dg, cfg, 0.003)


@pytest.fixture(scope="module")
def shipped(cfg: InpaintModelConfig, data):  # noqa: ANN001, ANN201
    """The shipped network and classifier, and their outputs on 20 test digits."""
    net, _, summary = load_inpaint()
    clf, info = load_classifier()
    x, _, _, te = data
    ids = te[:20]
    clean = x[ids]
    masked = apply_mask(clean, cfg)
    rec, stats = reconstruct(net, masked, ids, seed=summary["config"]["seed"], record=True)
    return net, clf, info, clean, masked, rec, stats


# -- configuration --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kw",
    [
        {"img_px": 18},
        {"mask_px": 0},
        {"mask_px": 15},
        {"steps": 1},
        {"sparsity": 1.0},
        {"tau": 1.5},
        {"vth": 0.0},
        {"out_gain": -1.0},
        {"latent": 2.5},
    ],
)
def test_bad_model_config_raises(kw: dict) -> None:
    with pytest.raises(ValueError, match="InpaintModelConfig"):
        InpaintModelConfig(**kw)


@pytest.mark.parametrize(
    "kw", [{"epochs": 0}, {"batch": 0}, {"lr": 0.0}, {"weight_decay": -1.0}, {"seed": -1}]
)
def test_bad_train_config_raises(kw: dict) -> None:
    with pytest.raises(ValueError, match="InpaintTrainConfig"):
        InpaintTrainConfig(**kw)


def test_train_config_accepts_model_dict() -> None:
    c = InpaintTrainConfig(model={"channels": 8})
    assert c.model == InpaintModelConfig(channels=8)


# -- data -----------------------------------------------------------------------------------


def test_data_split_range_and_mask(cfg: InpaintModelConfig, data) -> None:  # noqa: ANN001
    x, y, tr, te = data
    assert x.shape == (1797, 1, 16, 16) and y.shape == (1797,)
    assert float(x.min()) == -1.0 and float(x.max()) == 1.0
    assert (len(tr), len(te)) == (1438, 359) and not set(tr) & set(te)
    assert cfg.mask_slice == slice(5, 11)
    m = apply_mask(x[:5], cfg)
    where = region_mask(cfg)
    assert int(where.sum()) == 36 and bool(where[5:11, 5:11].all())
    assert bool((m[..., where] == -1).all())
    assert torch.equal(m[..., ~where], x[:5][..., ~where])
    assert float(x[:5][..., where].max()) > -1  # the square does hide ink


# -- network --------------------------------------------------------------------------------


def test_forward_shapes_and_supermask(cfg: InpaintModelConfig, random_net: PrunedFSVAE) -> None:
    x = torch.zeros(3, 1, 16, 16) - 1
    noise = latent_noise(0, np.arange(3), cfg)
    o = random_net(x, noise, record=True)
    assert o.recon.shape == (3, cfg.steps, 1, 16, 16)
    assert o.q.shape == o.p.shape == o.z.shape == (3, cfg.steps, cfg.latent)
    assert bool((o.recon.abs() < 1).all())
    assert set(o.z.unique().tolist()) <= {0.0, 1.0}
    for m, s in zip(random_net.masks(), cfg.layer_specs(), strict=True):
        assert tuple(m.shape) == (s.fan_in, s.cols)
        assert float(m.float().mean()) == pytest.approx(0.5, abs=1e-9)
    with pytest.raises(ValueError, match="noise"):
        random_net(x, noise[:, :3])


def test_fixed_weights_get_no_gradient(cfg: InpaintModelConfig, random_net: PrunedFSVAE) -> None:
    names = {n for n, _ in random_net.named_parameters()}
    assert not any(n.endswith("weight_fixed") for n in names)
    w0 = [layer.sm.weight_fixed.clone() for layer in random_net.pruned.values()]
    random_net.train()
    x = apply_mask(torch.rand(4, 1, 16, 16) * 2 - 1, cfg)
    o = random_net(x, latent_noise(1, np.arange(4), cfg))
    o.recon[:, -1].mean().backward()
    for layer, w in zip(random_net.pruned.values(), w0, strict=True):
        assert not layer.sm.weight_fixed.requires_grad
        assert torch.equal(layer.sm.weight_fixed, w)
    assert random_net.pruned["enc1"].sm.scores.grad is not None
    random_net.zero_grad()
    random_net.eval()


def test_lif_sequence_matches_stepped_cell() -> None:
    cell = LIFCell(vth=0.2, leak=0.25, neg_slope=1.0, lens=0.5)
    g = torch.Generator().manual_seed(3)
    x = (torch.randn(4, 16, 9, generator=g, dtype=torch.float64) * 0.3).requires_grad_()
    w = torch.randn(4, 16, 9, generator=g, dtype=torch.float64)
    y1 = lif_over_time(x, cell)
    (y1 * w).sum().backward()
    g1 = x.grad.clone()
    x.grad = None
    st, out = None, []
    for t in range(16):
        s, st = cell(x[:, t], st)
        out.append(s)
    y2 = torch.stack(out, 1)
    (y2 * w).sum().backward()
    assert torch.equal(y1, y2)
    assert torch.allclose(g1, x.grad, atol=1e-12)


def test_transposed_conv_is_the_gather_view_of_the_crossbar(
    cfg: InpaintModelConfig, random_net: PrunedFSVAE
) -> None:
    layer = random_net.pruned["dec0"]
    c = cfg.channels
    s = (torch.rand(2, c, 4, 4, generator=torch.Generator().manual_seed(1)) < 0.3).float()
    with torch.no_grad():
        y = layer(s) - layer.bias.reshape(1, -1, 1, 1)
        w = layer.matrix()  # crossbar matrix [c * 9, c]
        assert tuple(w.shape) == (c * 9, c)
        yg = gather_patches(s, layer.spec) @ w  # [2 * 64, c]
    assert torch.allclose(yg.reshape(2, 64, c).transpose(1, 2).reshape(y.shape), y, atol=1e-6)


def test_output_layer_is_the_scatter_view_of_the_crossbar(
    cfg: InpaintModelConfig, random_net: PrunedFSVAE
) -> None:
    layer = random_net.pruned["out"]
    c = cfg.channels
    s = (torch.rand(2, c, 8, 8, generator=torch.Generator().manual_seed(4)) < 0.3).float()
    with torch.no_grad():
        y = layer(s) - layer.bias.reshape(1, -1, 1, 1)
        w = layer.matrix()  # crossbar matrix [c, 9]: one read per input pixel
        assert tuple(w.shape) == (c, 9)
        part = (gather_patches(s, layer.spec) @ w).reshape(2, 64, 9).transpose(1, 2)
        # the partial sums of every input pixel are added into its 3 x 3 output neighbourhood
        ys = torch.nn.functional.fold(part, (16, 16), 3, padding=1, stride=2)
    assert torch.allclose(ys, y, atol=1e-6)


def test_latent_noise_is_keyed_per_sample(cfg: InpaintModelConfig) -> None:
    a = latent_noise(0, np.arange(6), cfg)
    b = latent_noise(0, np.array([4, 1]), cfg)
    assert torch.equal(a[[4, 1]], b)
    assert not torch.equal(a, latent_noise(1, np.arange(6), cfg))
    assert float(a.min()) >= 0 and float(a.max()) < 1


# -- energy counts --------------------------------------------------------------------------


def test_read_counts_equal_the_macro_model(cfg: InpaintModelConfig) -> None:
    from rramcim.analog.device import load_device
    from rramcim.analog.tiling import TiledCrossbar

    for spec in [cfg.layer_specs()[i] for i in (1, 4, 5)]:  # enc1, dec0 (gather), out (scatter)
        size_in = spec.size_out * 2 if spec.kind == "conv" else spec.size_out // 2
        s = torch.rand(2, spec.c_in, size_in, size_in, generator=torch.Generator().manual_seed(2))
        s = (s < 0.2).float()
        arr = TiledCrossbar.formed(spec.fan_in, spec.cols, MACRO, load_device("rram_40nm"), 0)
        arr.mvm(gather_patches(s, spec).long().numpy(), 1, False)
        st = arr.macros[0].stats
        rows = float(_row_conv(s, spec, torch.ones(spec.fan_in)).sum())
        mine = _layer_read_stats(spec.name, spec.fan_in, spec.cols, 2 * spec.positions, rows, 1)
        assert mine == {
            "reads": st.reads,
            "conversions": st.conversions,
            "row_activations": st.row_activations,
            "cell_reads": st.cell_reads,
        }


# -- shipped asset --------------------------------------------------------------------------


def test_shipped_asset_inpaints(cfg: InpaintModelConfig, shipped) -> None:  # noqa: ANN001
    from rramcim.apps.prime.inpaint import classifier_score

    net, clf, info, clean, masked, rec, _ = shipped
    assert info["test_acc"] >= 0.95
    for m in net.masks():
        assert float(m.float().mean()) == pytest.approx(0.5, abs=1e-9)
    where = region_mask(cfg)
    x, _, tr, te = inpaint_data(cfg)
    mean_fill = masked.clone()
    mean_fill[..., where] = x[tr].mean(0, keepdim=True).expand_as(masked)[..., where]
    p_rec = float(psnr(rec[:, -1], clean, where).mean())  # 17.2 dB when shipped
    assert p_rec > 15.0
    assert p_rec > float(psnr(masked, clean, where).mean()) + 10.0  # 3.6 dB
    assert p_rec > float(psnr(mean_fill, clean, where).mean()) + 4.0  # 10.6 dB
    assert float(psnr(rec[:, -1], clean).mean()) > 17.0  # 19.2 dB
    assert classifier_score(clf, rec[:, -1]) > classifier_score(clf, masked) + 1.5  # 6.0 / 3.2
    # the same digits in another batch get the same latent noise, so the same output
    r2, _ = reconstruct(net, masked[5:8], te[5:8], seed=0)
    assert torch.allclose(r2, rec[5:8], atol=1e-6)


def test_early_stop_golden_and_float(cfg: InpaintModelConfig, shipped) -> None:  # noqa: ANN001
    *_, rec, _ = shipped
    x, _, tr, _ = inpaint_data(cfg)
    assert scaled_threshold(cfg.n_pix) == pytest.approx(0.05)
    thr = ink_threshold(float(((x[tr] + 1) / 2).mean()), cfg.n_pix)
    assert thr == pytest.approx(0.125, abs=0.002)
    with pytest.raises(ValueError):
        ink_threshold(0.0, 256)
    sg, metric = early_stop_steps(rec, thr, golden=True)
    sf, _ = early_stop_steps(rec, thr, golden=False)
    assert bool(((sg >= 3) & (sg <= cfg.steps)).all()) and metric.shape == (rec.shape[0], cfg.steps)
    assert sg.mean() < cfg.steps  # it does stop early (9.5 steps on average when shipped)
    assert (sg == sf).mean() >= 0.75  # Q0.7 pixels against float ones: 85 % here
    # the golden rule is exactly the float rule on the Q0.7 pixels it sees
    q = torch.from_numpy(quantize_pixels(rec.reshape(rec.shape[0], cfg.steps, -1))) / 128.0
    sq, _ = early_stop_steps(q.double().reshape(rec.shape), thr, golden=False)
    assert np.array_equal(sg, sq)
    # a looser threshold never stops later
    s_lo, _ = early_stop_steps(rec, thr * 4, golden=True)
    assert (s_lo <= sg).all()


def test_energy_projection(cfg: InpaintModelConfig, shipped) -> None:  # noqa: ANN001
    *_, stats = shipped
    n = stats["rows.enc0"].shape[0]
    full = energy_projection(cfg, stats, np.full(n, cfg.steps))
    early = energy_projection(cfg, stats, np.full(n, cfg.steps // 2))
    assert full["gain"] == pytest.approx(full["gain_no_early_stop"])
    assert early["analog_J_per_image"] < full["analog_J_per_image"]
    assert early["gain"] > full["gain"] > 1
    assert full["paper_gain"] == 62.5 and full["assumptions"]
    # real-valued first layer: every input pixel x kept fan-out (23^2 in-bounds taps of 8 x 8)
    assert full["synops_muls_per_image"] == pytest.approx(23 * 23 * 32 / 2, rel=0.1)


def test_run_inpaint_evaluation_api(tmp_path) -> None:  # noqa: ANN001
    import json

    from rramcim.apps.prime.inpaint import run_inpaint_evaluation

    lines: list[str] = []
    res = run_inpaint_evaluation(n=12, out_dir=str(tmp_path), log=lines.append)
    for key in (
        "psnr_masked_all_steps",
        "psnr_masked_early_stop",
        "psnr_full",
        "score_recon",
        "score_clean",
        "score_masked_input",
        "mean_steps",
        "load_saving",
        "energy",
        "n_test",
        "T",
    ):
        assert key in res
    assert res["n_test"] == 12 and res["T"] == 16
    assert res["energy"]["paper_gain"] == 62.5 and res["energy"]["gain"] > 1
    assert res["load_saving"] == pytest.approx(1 - res["mean_steps"] / 16)
    assert res["golden_equals_float_on_q07_pixels"]
    assert "not Inception-v3" in res["score_name"]
    assert json.loads((tmp_path / "inpaint.json").read_text())["n_test"] == 12
    assert (tmp_path / "inpaint.png").stat().st_size > 10_000
    assert any("PSNR" in line for line in lines)

"""Tests of the PRIME workload: formed arrays, shipped checkpoint, software and hardware model."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rramcim.apps.prime.evaluate import net_from_masks, theta_sweep
from rramcim.apps.prime.train import (
    ASSET,
    LAYER_SHAPES,
    early_stop_float,
    evaluate,
    form_arrays,
    load_checkpoint,
)


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> tuple[torch.Tensor, torch.Tensor]:
    """Three test samples per class of N-Digits, binary frames (T = 10)."""
    from rramcim.data.ndigits import make_ndigits
    from rramcim.data.nmnist import load_frames

    root = tmp_path_factory.mktemp("ndigits")
    make_ndigits(root, seed=0, per_class_limit=3, progress=False)
    f, y = load_frames(root, "Test", T=10, split_mode="time")
    return torch.from_numpy((f > 0).astype(np.float32)), torch.from_numpy(y)


@pytest.fixture(scope="module")
def model() -> tuple[list, list[torch.Tensor], list[torch.Tensor]]:
    masks, _ = load_checkpoint(ASSET)
    arrays = form_arrays(0)
    dg = [a.conductance_matrix_S() * 1e6 for a in arrays]
    return arrays, dg, masks


def test_formed_weights_are_random_conductances(model) -> None:  # noqa: ANN001
    _, dg, _ = model
    for d, (k, m) in zip(dg, LAYER_SHAPES, strict=True):
        assert tuple(d.shape) == (k, m)
        core = d[d.abs() < 30]  # stuck-at cells aside
        assert abs(float(core.mean())) < 0.5
        assert float(core.std()) == pytest.approx(6.35, rel=0.1)


def test_checkpoint_masks_prune_half(model) -> None:  # noqa: ANN001
    _, _, masks = model
    for m, (k, n) in zip(masks, LAYER_SHAPES, strict=True):
        assert tuple(m.shape) == (k, n)
        assert float(m.float().mean()) == pytest.approx(0.5, abs=1e-3)


def test_software_baseline_on_held_out_digits(model, data) -> None:  # noqa: ANN001
    _, dg, masks = model
    x, y = data
    acc, out = evaluate(net_from_masks(dg, masks), x, y)
    assert acc >= 0.85
    pred, step = early_stop_float(out, 2.0, 0.8)
    assert step.min() >= 1 and step.max() <= 10
    pts = theta_sweep(out, y, [0.5, 0.8, 0.99])
    assert pts[0].mean_steps <= pts[1].mean_steps <= pts[2].mean_steps


def test_hardware_model_matches_software_and_is_batch_independent(model, data) -> None:  # noqa: ANN001
    from rramcim.apps.prime.hardware import PrimeHardware, PrimeHwConfig

    _, dg, masks = model
    arrays = form_arrays(0)  # fresh macros: pruning changes them
    x, y = data
    net = net_from_masks(dg, masks)
    hw = PrimeHardware(arrays, masks, net, x[:8], PrimeHwConfig())
    sel = torch.tensor([0, 7, 13, 22])
    r = hw.run(x[sel], sample_ids=sel.numpy(), chunk=4)
    _, out = evaluate(net, x[sel], y[sel])
    sw = out.mean(1).argmax(1).numpy()
    assert (r.pred_all == sw).mean() >= 0.75
    assert r.out_mem.shape == (4, 10, 10)
    # the same sample alone, in another chunk, gets the same noise and the same result
    r1 = hw.run(x[sel[2:3]], sample_ids=sel[2:3].numpy())
    assert np.array_equal(r1.out_mem[0], r.out_mem[2])

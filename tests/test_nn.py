"""Tests of rramcim.nn: LIF cells with surrogate gradients and supermask layers."""

from __future__ import annotations

import pytest
import torch

from rramcim.nn.lif import IntegratorCell, LIFCell, spike
from rramcim.nn.supermask import SupermaskLinear, TopKMask


def test_spike_forward_and_rectangular_surrogate() -> None:
    v = torch.tensor([-0.6, -0.4, 0.0, 0.1, 0.49, 0.7], requires_grad=True)
    s = spike(v, 0.5)
    assert s.tolist() == [0, 0, 0, 1, 1, 1]
    s.sum().backward()
    assert v.grad.tolist() == [0.0, 1.0, 1.0, 1.0, 1.0, 0.0]


def test_lif_cell_equations() -> None:
    cell = LIFCell(vth=0.2, leak=0.2, neg_slope=0.1)
    s, st = cell(torch.tensor([0.15, 0.3, -1.0]), None)
    assert s.tolist() == [0, 1, 0]
    assert torch.allclose(st[0], torch.tensor([0.15, 0.3, -0.1]))
    s, st = cell(torch.tensor([0.2, 0.0, 0.0]), st)
    # neuron 0: 0.15 * 0.2 + 0.2 = 0.23 > 0.2 spikes; neuron 1 was reset: 0; neuron 2: -0.1*0.2*0.1
    assert s.tolist() == [1, 0, 0]
    assert torch.allclose(st[0], torch.tensor([0.23, 0.0, -0.002]))


def test_integrator() -> None:
    cell = IntegratorCell(0.1)
    u = cell(torch.tensor([1.0, -1.0]), None)
    u = cell(torch.tensor([0.5, 0.5]), u)
    assert torch.allclose(u, torch.tensor([1.5, 0.4]))


def test_topk_mask_keeps_fraction_and_passes_gradient() -> None:
    m = TopKMask.apply(torch.tensor([0.1, 0.9, 0.5, 0.3]), 0.5)
    assert m.tolist() == [0, 1, 1, 0]


def test_supermask_gradient_sign_follows_abs_score() -> None:
    """A negative score whose weight should be pruned must move towards zero (|s| shrinks)."""
    layer = SupermaskLinear(torch.tensor([[1.0, 1.0]]), scale=1.0, sparsity=0.5)
    with torch.no_grad():
        layer.scores.copy_(torch.tensor([[-0.9, 0.1]]))
    # the loss grows with output, so keeping edge 0 is bad: |score 0| must decrease
    y = layer(torch.tensor([[1.0, 1.0]]))
    y.sum().backward()
    step = -layer.scores.grad[0, 0]
    assert step > 0  # gradient descent moves the negative score up, towards 0


def test_supermask_weights_fixed() -> None:
    layer = SupermaskLinear(torch.randn(4, 6), sparsity=0.5)
    assert not layer.weight_fixed.requires_grad
    assert [n for n, _ in layer.named_parameters()] == ["scores"]
    assert int(layer.mask().sum()) == 12
    with pytest.raises(ValueError, match="sparsity"):
        SupermaskLinear(torch.randn(2, 2), sparsity=1.0)

"""Supermask (edge-popup) layers: fixed random weights, learned topology (PAPERS.md §1.4).

Every weight has a trainable score. The mask keeps, per layer, the ``1 - sparsity`` fraction of
weights with the largest |score| (``sparsity = 0.5`` in PRIME); its gradient passes straight
through to the scores. The weights themselves never change: on the chip they are the random
conductances left by electroforming, and pruning only resets cell pairs to high resistance.
"""

from __future__ import annotations

import math

import torch
from torch import nn


class TopKMask(torch.autograd.Function):
    """Binary mask of the largest-``keep`` fraction of its (non-negative) input; the gradient
    passes straight through. Callers pass ``|scores|`` so that autograd carries the sign."""

    @staticmethod
    def forward(ctx, magnitude: torch.Tensor, keep: float) -> torch.Tensor:  # noqa: ANN001
        flat = magnitude.detach().flatten()
        n_keep = max(1, int(round(keep * flat.numel())))
        # threshold = the n_keep-th largest |score|; ties resolved by index (deterministic)
        idx = torch.topk(flat, n_keep, sorted=False).indices
        mask = torch.zeros_like(flat)
        mask[idx] = 1.0
        return mask.view_as(magnitude)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor, None]:  # noqa: ANN001
        return grad, None


class _Supermask(nn.Module):
    def __init__(self, weight: torch.Tensor, scale: float = 0.01, sparsity: float = 0.5) -> None:
        super().__init__()
        if not 0 <= sparsity < 1:
            raise ValueError(f"sparsity = {sparsity} must be in [0, 1)")
        if not torch.isfinite(weight).all():
            raise ValueError("supermask layer: fixed weights contain NaN/inf")
        self.register_buffer("weight_fixed", weight.detach().clone().float())
        self.scale = float(scale)
        self.sparsity = float(sparsity)
        self.scores = nn.Parameter(torch.empty_like(self.weight_fixed))
        # Kaiming-uniform(a = sqrt 5) initialisation, as for an ordinary layer's weights
        nn.init.kaiming_uniform_(self.scores, a=math.sqrt(5))

    def mask(self) -> torch.Tensor:
        """The current binary mask (1 = edge kept)."""
        return TopKMask.apply(self.scores.abs(), 1.0 - self.sparsity)

    def effective_weight(self) -> torch.Tensor:
        """``W_fixed * scale * mask``."""
        return self.weight_fixed * self.scale * self.mask()


class SupermaskConv2d(_Supermask):
    """2-D convolution (no bias) with fixed weights ``[out, in, k, k]`` and a learned mask."""

    def __init__(
        self,
        weight: torch.Tensor,
        stride: int = 1,
        padding: int = 0,
        scale: float = 0.01,
        sparsity: float = 0.5,
    ) -> None:
        super().__init__(weight, scale, sparsity)
        self.stride, self.padding = stride, padding

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.conv2d(
            x, self.effective_weight(), None, self.stride, self.padding
        )


class SupermaskLinear(_Supermask):
    """Linear layer (no bias) with fixed weights ``[out, in]`` and a learned mask."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.linear(x, self.effective_weight())

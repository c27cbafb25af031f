"""Leaky integrate-and-fire cells with a rectangular surrogate gradient (PRIME, PAPERS.md §1.3).

Per timestep, for the spiking cell::

    U <- U * (1 - s)            hard reset after a spike
    U <- U * leak               leak = 1 - decay (PRIME: decay 0.8, so leak 0.2)
    U <- U + I
    U <- LeakyReLU_0.1(U)
    s <- H(U - Vth)             straight-through: dH/dU = 1/(2 w) on |U - Vth| < w (w = 0.5)

The output cell integrates without leak or reset: ``U <- LeakyReLU_0.1(U + I)``, and the
network output is the mean of its membrane over the timesteps.
"""

from __future__ import annotations

import torch
from torch import nn


class SpikeFn(torch.autograd.Function):
    """Heaviside spike with a rectangular surrogate gradient of half-width ``lens``."""

    @staticmethod
    def forward(ctx, v: torch.Tensor, lens: float) -> torch.Tensor:  # noqa: ANN001
        ctx.save_for_backward(v)
        ctx.lens = lens
        return (v > 0).to(v.dtype)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor, None]:  # noqa: ANN001
        (v,) = ctx.saved_tensors
        return grad * (v.abs() < ctx.lens).to(grad.dtype) / (2 * ctx.lens), None


def spike(v: torch.Tensor, lens: float = 0.5) -> torch.Tensor:
    """``H(v)`` forward, rectangular surrogate backward."""
    return SpikeFn.apply(v, lens)


class LIFCell(nn.Module):
    """PRIME's spiking cell; call once per timestep with the synaptic input.

    Args:
        vth: firing threshold (membrane units), > 0.
        leak: membrane retention per step (1 - decay), [0, 1].
        neg_slope: LeakyReLU slope on negative membrane, [0, 1].
        lens: half-width of the surrogate window.
    """

    def __init__(
        self, vth: float = 0.2, leak: float = 0.2, neg_slope: float = 0.1, lens: float = 0.5
    ) -> None:
        super().__init__()
        if not vth > 0 or not 0 <= leak <= 1 or not 0 <= neg_slope <= 1:
            raise ValueError(f"LIFCell: vth={vth}, leak={leak}, neg_slope={neg_slope} out of range")
        self.vth, self.leak, self.neg_slope, self.lens = vth, leak, neg_slope, lens

    def forward(self, cur: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor] | None):  # noqa: ANN201
        """One step: returns (spikes, (membrane, spikes))."""
        if state is None:
            u = torch.zeros_like(cur)
            s = torch.zeros_like(cur)
        else:
            u, s = state
        u = u * (1 - s) * self.leak + cur
        u = torch.nn.functional.leaky_relu(u, self.neg_slope)
        s = spike(u - self.vth, self.lens)
        return s, (u, s)


class IntegratorCell(nn.Module):
    """Non-spiking output cell: ``U <- LeakyReLU(U + I)``; returns the membrane."""

    def __init__(self, neg_slope: float = 0.1) -> None:
        super().__init__()
        self.neg_slope = neg_slope

    def forward(self, cur: torch.Tensor, u: torch.Tensor | None) -> torch.Tensor:
        """One step; returns the new membrane (also the state)."""
        return torch.nn.functional.leaky_relu(cur if u is None else u + cur, self.neg_slope)

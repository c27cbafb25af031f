"""PRIME networks (PAPERS.md §1.2): the N-MNIST conv SNN and its MLP variant.

``PrimeConvNet``: 2x34x34 -> conv5x5(12, pad 1) -> LIF(0.2) -> avgpool2 -> conv5x5(64) -> LIF(0.2)
-> avgpool2 -> fc 2304 -> 10 (output integrator), T steps; no biases. ``PrimeMLP``:
2312 -> 250 -> 250 -> 10 with LIF(0.5). Weights are fixed (random conductances in µS times
``software_scale`` = 0.01, as in the paper's code); only the supermask scores train.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from rramcim.nn.lif import IntegratorCell, LIFCell
from rramcim.nn.supermask import SupermaskConv2d, SupermaskLinear

SOFTWARE_SCALE = 0.01
"""Weight = conductance difference (µS) x 0.01 (PRIME Classification/layer.py)."""


@dataclass(frozen=True)
class ConvGeometry:
    """One convolution layer: channels, kernel, stride, padding, input size (square)."""

    c_in: int
    c_out: int
    k: int
    stride: int
    pad: int
    size_in: int

    @property
    def size_out(self) -> int:
        return (self.size_in + 2 * self.pad - self.k) // self.stride + 1

    @property
    def fan_in(self) -> int:
        return self.c_in * self.k * self.k


CONV_LAYERS = (ConvGeometry(2, 12, 5, 1, 1, 34), ConvGeometry(12, 64, 5, 1, 0, 16))
FC_IN, N_CLASSES = 64 * 6 * 6, 10


def conv_weight_from_matrix(m: torch.Tensor, g: ConvGeometry) -> torch.Tensor:
    """Crossbar matrix ``[c_in*k*k, c_out]`` -> conv weight ``[c_out, c_in, k, k]``."""
    return m.t().reshape(g.c_out, g.c_in, g.k, g.k)


class PrimeConvNet(nn.Module):
    """The N-MNIST convolutional SNN of PRIME on fixed random weights.

    Args:
        dg_uS: per layer, the crossbar matrix of differential conductances in µS
            (``[50, 12]``, ``[300, 64]``, ``[2304, 10]``).
        sparsity: pruned fraction per layer (0.5 in the paper).
        vth: thresholds of the two spiking layers.
    """

    def __init__(self, dg_uS: list[torch.Tensor], sparsity: float = 0.5, vth: float = 0.2) -> None:
        super().__init__()
        g0, g1 = CONV_LAYERS
        self.conv0 = SupermaskConv2d(
            conv_weight_from_matrix(dg_uS[0], g0), g0.stride, g0.pad, SOFTWARE_SCALE, sparsity
        )
        self.conv1 = SupermaskConv2d(
            conv_weight_from_matrix(dg_uS[1], g1), g1.stride, g1.pad, SOFTWARE_SCALE, sparsity
        )
        self.fc = SupermaskLinear(dg_uS[2].t(), SOFTWARE_SCALE, sparsity)
        self.lif0, self.lif1 = LIFCell(vth), LIFCell(vth)
        self.out = IntegratorCell()

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        """frames ``[B, T, 2, 34, 34]`` (binary) -> output membranes ``[B, T, 10]``."""
        s0 = s1 = None
        u = None
        outs = []
        for t in range(frames.shape[1]):
            z, s0 = self.lif0(self.conv0(frames[:, t]), s0)
            z = torch.nn.functional.avg_pool2d(z, 2)
            z, s1 = self.lif1(self.conv1(z), s1)
            z = torch.nn.functional.avg_pool2d(z, 2)
            u = self.out(self.fc(z.flatten(1)), u)
            outs.append(u)
        return torch.stack(outs, 1)

    def masks(self) -> list[torch.Tensor]:
        """Masks in crossbar orientation ``[fan_in, out]`` per layer."""
        return [
            self.conv0.mask().reshape(12, -1).t(),
            self.conv1.mask().reshape(64, -1).t(),
            self.fc.mask().t(),
        ]

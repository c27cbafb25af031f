"""VP-SDE with a linear beta schedule and the denoising score-matching loss (PAPERS.md §4.2).

Forward SDE on t in [0, 1] (dimensionless diffusion time)::

    beta(t) = b0 + t (b1 - b0)                       b0 = 0.001, b1 = 0.5 (training)
    dx = -1/2 beta(t) x dt + sqrt(beta(t)) dW

Its Gaussian transition kernel from x(0) = x0::

    m(t)     = exp(-1/4 t^2 (b1 - b0) - 1/2 t b0)     (mean coefficient, = exp(-1/2 int_0^t beta))
    sigma(t) = sqrt(1 - m(t)^2)                        (standard deviation)
    x(t)     = m(t) x0 + sigma(t) z,  z ~ N(0, I)

With b1 = 0.5 the process does not reach N(0, I) by t = 1 (m(1) = 0.882, sigma(1) = 0.471);
the samplers start from N(0, I) by default and scale beta at sampling (see
:mod:`rramcim.apps.diffusion.samplers`).

Denoising score matching (DSM): the score of the kernel is -z / sigma(t), so a network
s_theta(x, t) is trained on ``E_t E_x0 E_z || s_theta(x_t, t) sigma(t) + z ||^2`` (sum over the
two coordinates, mean over the batch), t ~ U(t_min, 1) with t_min = 1e-5. The paper adds a
saturation penalty on the hidden activations (the op-amps of the analogue MLP saturate); here
``alpha * sum_{batch, units} h * [h > h_sat]`` with h_sat = 1.5, i.e. the sum of the hidden
activations that exceed 1.5 (gradient 1 on each of them), divided by the batch size.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch

T_MIN_TRAIN = 1e-5
"""Lower end of the training time distribution t ~ U(T_MIN_TRAIN, 1)."""
H_SAT = 1.5
"""Hidden-activation level above which the saturation penalty acts."""


@dataclass(frozen=True)
class VPSDE:
    """Variance-preserving SDE with the linear schedule beta(t) = b0 + t (b1 - b0).

    Attributes:
        beta_min: b0 = beta(0), > 0 (per unit diffusion time).
        beta_max: b1 = beta(1), >= beta_min.
    """

    beta_min: float = 0.001
    beta_max: float = 0.5

    def __post_init__(self) -> None:
        if not (math.isfinite(self.beta_min) and self.beta_min > 0):
            raise ValueError(f"VPSDE.beta_min = {self.beta_min!r} must be finite and > 0")
        if not (math.isfinite(self.beta_max) and self.beta_max >= self.beta_min):
            raise ValueError(
                f"VPSDE.beta_max = {self.beta_max!r} must be finite and >= beta_min "
                f"({self.beta_min!r})"
            )

    def beta(self, t: torch.Tensor | float) -> torch.Tensor:
        """beta(t) = b0 + t (b1 - b0) (no clamping: negative for t < -b0 / (b1 - b0))."""
        t = torch.as_tensor(t)
        return self.beta_min + t * (self.beta_max - self.beta_min)

    def mean_coeff(self, t: torch.Tensor | float) -> torch.Tensor:
        """m(t) = exp(-1/4 t^2 (b1 - b0) - 1/2 t b0)."""
        t = torch.as_tensor(t)
        return torch.exp(-0.25 * t**2 * (self.beta_max - self.beta_min) - 0.5 * t * self.beta_min)

    def std(self, t: torch.Tensor | float) -> torch.Tensor:
        """sigma(t) = sqrt(1 - m(t)^2)."""
        m = self.mean_coeff(t)
        return torch.sqrt(1.0 - m**2)

    def drift(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """f(x, t) = -1/2 beta(t) x (``t`` broadcast over the last axis of ``x``)."""
        return -0.5 * self.beta(t)[..., None] * x

    def perturb(
        self, x0: torch.Tensor, t: torch.Tensor, z: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """x_t = m(t) x0 + sigma(t) z for clean data ``x0`` [B, d], times ``t`` [B], ``z`` [B, d].

        Returns:
            ``(x_t [B, d], sigma(t) [B])``.
        """
        m = self.mean_coeff(t)
        s = torch.sqrt(1.0 - m**2)
        return m[:, None] * x0 + s[:, None] * z, s


ScoreWithHidden = Callable[
    [torch.Tensor, torch.Tensor], tuple[torch.Tensor, Sequence[torch.Tensor]]
]
"""``(x_t [B, d], t [B]) -> (score [B, d], hidden activations)`` (the loss's view of a net)."""


def saturation_penalty(hidden: Sequence[torch.Tensor], h_sat: float = H_SAT) -> torch.Tensor:
    """Sum of the hidden activations above ``h_sat``, per batch element (mean over the batch).

    Args:
        hidden: activations [B, units] of each hidden layer.
        h_sat: threshold.

    Returns:
        0-d tensor ``sum_{layers, units} h [h > h_sat]`` averaged over B.
    """
    total = torch.zeros((), dtype=hidden[0].dtype)
    for h in hidden:
        total = total + (h * (h > h_sat)).sum() / h.shape[0]
    return total


def dsm_loss(
    score_fn: ScoreWithHidden,
    sde: VPSDE,
    x0: torch.Tensor,
    t: torch.Tensor,
    z: torch.Tensor,
    alpha_sat: float = 0.0,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Denoising score-matching loss with the saturation penalty.

    Args:
        score_fn: the network (see :data:`ScoreWithHidden`).
        sde: the forward process.
        x0: clean samples [B, d].
        t: diffusion times [B] in (0, 1].
        z: standard normal noise [B, d].
        alpha_sat: weight of :func:`saturation_penalty`, >= 0.

    Returns:
        ``(total loss, DSM part)``, both 0-d; DSM = mean_B sum_d (s sigma + z)^2.
    """
    xt, s = sde.perturb(x0, t, z)
    score, hidden = score_fn(xt, t)
    dsm = ((score * s[:, None] + z) ** 2).sum(dim=1).mean()
    if alpha_sat:
        return dsm + alpha_sat * saturation_penalty(hidden), dsm
    return dsm, dsm

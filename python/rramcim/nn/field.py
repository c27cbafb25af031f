"""Neural-field layers of paper 3 (PAPERS.md §3.2, §3.3): the RRAM Gaussian encoder and a
low-rank SIREN.

* :class:`GaussianEncoder`: ``gamma(x) = [x, sin(2 pi x B^T), cos(2 pi x B^T)]`` with a fixed
  frequency matrix ``B [n_freq, n_in]`` (cycles per unit of x).
* :func:`rram_fourier_matrix`: ``B`` from the electroforming stochasticity of the device
  model (formed-cell conductances of a preset, mean removed, scaled to ``sigma``), or one of
  the encoder-robustness variants of the paper (:class:`EncoderVariant`).
* :class:`SirenLinear`: a linear layer followed by ``sin(w0 * .)`` (SIREN, Sitzmann et al.
  2020), with SIREN's initialisation; the last layer is linear.
* :class:`NeuralField`: encoder + SIREN with low-rank hidden layers, configured by
  :class:`FieldConfig`. The default is the paper's CT network 131 -> 100 -> 10 -> 100 -> 1
  (3 coordinates, 64 frequencies, width 100, rank 10, depth 3). ``weight_matrices()`` lists
  every matrix ``[out, in]`` in evaluation order, the input of the HAQ mapping onto cells.

Initialisation and every draw are keyed: weights come from a ``torch.Generator`` seeded with
``rng.make_key(seed, "field_init", layer)`` (its low 63 bits), ``B`` from
:class:`rramcim.analog.device.DeviceModel` or :mod:`rramcim.rng`.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass

import torch
from torch import nn

from rramcim import rng
from rramcim.analog.device import DeviceModel, load_device


class EncoderVariant(enum.Enum):
    """Distribution of the encoder frequencies ``B / sigma`` (PAPERS.md §3.2).

    ``RRAM``: formed-cell conductances of the device model, standardised (the paper's hardware
    mode ``gauss``). ``IDEAL``: keyed standard normals, no device (``ideal-Gaussian``). The
    robustness modes transform the standardised RRAM values ``z``: censored ones clip at
    ``+k`` (right) or ``-k`` (left), truncated ones drop the values beyond ``+k`` / ``-k``
    (and take the next cells instead), skewed ones are skew-normal with shape ``+-alpha``
    (location 0, scale 1, built from two cells: ``delta |z1| + sqrt(1 - delta^2) z2`` with
    ``delta = alpha / sqrt(1 + alpha^2)``).
    """

    RRAM = "rram"
    IDEAL = "ideal"
    RIGHT_CENSORED = "right_censored"
    LEFT_CENSORED = "left_censored"
    RIGHT_TRUNCATED = "right_truncated"
    LEFT_TRUNCATED = "left_truncated"
    RIGHT_SKEWED = "right_skewed"
    LEFT_SKEWED = "left_skewed"


def formed_conductances_S(n: int, device: str = "rram_40nm", seed: int = 0) -> torch.Tensor:
    """Conductances of the first ``n`` formed, non-stuck cells of a freshly formed array.

    Cells ``0, 1, 2, ...`` of macro 0 are formed with :meth:`DeviceModel.form`; unformed and
    stuck-at cells are skipped (they are not part of the encoder in hardware).

    Args:
        n: number of conductances, [1, 10^7].
        device: device preset name or parameter file.
        seed: seed of the device model.

    Returns:
        float64 tensor ``[n]`` (S).
    """
    if not 1 <= int(n) <= 10**7:
        raise ValueError(f"formed_conductances_S: n = {n!r} is outside [1, 1e7]")
    model = DeviceModel(load_device(device), seed)
    out: list[torch.Tensor] = []
    have, start, block = 0, 0, max(2 * int(n), 1024)
    while have < n:
        cells = torch.arange(start, start + block, dtype=torch.int64)
        g, formed, _ = model.form(cells)
        ok = formed & (model.stuck(cells) == 0)
        out.append(g[ok])
        have += int(ok.sum())
        start += block
        if start > 100 * int(n) + 10**5:
            raise RuntimeError(f"formed_conductances_S: too few formed cells in {device}")
    return torch.cat(out)[: int(n)]


def rram_fourier_matrix(
    n_freq: int = 64,
    n_in: int = 3,
    sigma: float = 4.0,
    variant: EncoderVariant | str = EncoderVariant.RRAM,
    *,
    k_sigma: float = 2.0,
    skew_alpha: float = 2.0,
    device: str = "rram_40nm",
    seed: int = 0,
) -> torch.Tensor:
    """The encoder matrix ``B = sigma * z`` with ``z`` from the RRAM forming stochasticity.

    ``z`` = (formed-cell conductance - sample mean) / sample sigma over the cells used, so
    ``B`` has zero mean and standard deviation ``sigma`` for ``RRAM``; the robustness
    variants transform ``z`` as described in :class:`EncoderVariant` and are *not*
    re-standardised (a censored matrix at ``k_sigma = 2``, ``sigma = 4`` clips at +-8 as in
    the paper's ``RC-/LC-Gaussian``).

    Args:
        n_freq: number of frequencies (rows), [1, 4096].
        n_in: input dimension (columns), [1, 16].
        sigma: target standard deviation of ``B`` (cycles per unit of x), (0, 1000]; CT 4.
        variant: an :class:`EncoderVariant` or its value.
        k_sigma: censoring / truncation point in units of sigma, (0, 10].
        skew_alpha: skew-normal shape magnitude, [0, 100].
        device: device preset name or file (``RRAM`` and its variants).
        seed: seed of the device model or of the keyed normals.

    Returns:
        float32 tensor ``[n_freq, n_in]``.
    """
    variant = EncoderVariant(variant)
    if not 1 <= int(n_freq) <= 4096:
        raise ValueError(f"rram_fourier_matrix: n_freq = {n_freq!r} is outside [1, 4096]")
    if not 1 <= int(n_in) <= 16:
        raise ValueError(f"rram_fourier_matrix: n_in = {n_in!r} is outside [1, 16]")
    if not (math.isfinite(sigma) and 0.0 < sigma <= 1000.0):
        raise ValueError(f"rram_fourier_matrix: sigma = {sigma!r} is outside (0, 1000]")
    if not (math.isfinite(k_sigma) and 0.0 < k_sigma <= 10.0):
        raise ValueError(f"rram_fourier_matrix: k_sigma = {k_sigma!r} is outside (0, 10]")
    if not (math.isfinite(skew_alpha) and 0.0 <= skew_alpha <= 100.0):
        raise ValueError(f"rram_fourier_matrix: skew_alpha = {skew_alpha!r} is outside [0, 100]")
    m = int(n_freq) * int(n_in)
    if variant is EncoderVariant.IDEAL:
        z = rng.normal(rng.make_key(seed, "fourier_ideal"), torch.arange(m, dtype=torch.int64))
        return (sigma * z).reshape(n_freq, n_in).to(torch.float32)

    def standard(count: int) -> torch.Tensor:
        g = formed_conductances_S(count, device, seed)
        return (g - g.mean()) / g.std()

    if variant in (
        EncoderVariant.RRAM,
        EncoderVariant.RIGHT_CENSORED,
        EncoderVariant.LEFT_CENSORED,
    ):
        z = standard(m)
        if variant is EncoderVariant.RIGHT_CENSORED:
            z = torch.clamp(z, max=k_sigma)
        elif variant is EncoderVariant.LEFT_CENSORED:
            z = torch.clamp(z, min=-k_sigma)
    elif variant in (EncoderVariant.RIGHT_TRUNCATED, EncoderVariant.LEFT_TRUNCATED):
        pool = standard(4 * m + 1024)
        keep = pool <= k_sigma if variant is EncoderVariant.RIGHT_TRUNCATED else pool >= -k_sigma
        z = pool[keep]
        if z.numel() < m:  # pragma: no cover - needs k_sigma far below 1
            raise RuntimeError(f"rram_fourier_matrix: too few cells within {k_sigma} sigma")
        z = z[:m]
    else:
        pair = standard(2 * m).reshape(2, m)
        a = skew_alpha if variant is EncoderVariant.RIGHT_SKEWED else -skew_alpha
        delta = a / math.sqrt(1.0 + a * a)
        z = delta * pair[0].abs() + math.sqrt(1.0 - delta * delta) * pair[1]
    return (sigma * z).reshape(n_freq, n_in).to(torch.float32)


class GaussianEncoder(nn.Module):
    """Random Fourier features ``gamma(x) = [x, sin(2 pi x B^T), cos(2 pi x B^T)]``.

    Args:
        b: frequency matrix ``[n_freq, n_in]`` (cycles per unit of x); stored as a buffer,
            not trained.
    """

    def __init__(self, b: torch.Tensor) -> None:
        super().__init__()
        if b.ndim != 2:
            raise ValueError(f"GaussianEncoder: B must be [n_freq, n_in], got {tuple(b.shape)}")
        self.register_buffer("b", b.detach().to(torch.float32).clone())

    @property
    def n_in(self) -> int:
        """Input dimension."""
        return int(self.b.shape[1])

    @property
    def n_out(self) -> int:
        """Output width ``n_in + 2 n_freq``."""
        return int(self.b.shape[1] + 2 * self.b.shape[0])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Encode ``x [..., n_in]`` into ``[..., n_in + 2 n_freq]``."""
        if x.shape[-1] != self.n_in:
            raise ValueError(f"GaussianEncoder: x has {x.shape[-1]} inputs, B has {self.n_in}")
        proj = 2.0 * math.pi * (x @ self.b.t())
        return torch.cat([x, torch.sin(proj), torch.cos(proj)], dim=-1)


def _generator(seed: int, *purpose: object) -> torch.Generator:
    gen = torch.Generator()
    gen.manual_seed(rng.make_key(seed, *purpose) & ((1 << 63) - 1))
    return gen


class SirenLinear(nn.Module):
    """``y = sin(w0 (W x + b))`` (or ``W x + b`` when ``is_last``) with SIREN initialisation.

    Weights: first layer ``U(-1/in, 1/in)``, other layers ``U(-sqrt(6/in)/w0, sqrt(6/in)/w0)``.
    Biases: ``U(-1/sqrt(in), 1/sqrt(in))`` (torch's ``nn.Linear`` default, kept by SIREN).

    Args:
        n_in: input features, >= 1.
        n_out: output features, >= 1.
        w0: sine frequency factor, (0, 1000]; the paper's 30.
        is_first: first-layer initialisation.
        is_last: no sine (linear output layer).
        generator: source of the initial values (keyed by the caller).
    """

    def __init__(
        self,
        n_in: int,
        n_out: int,
        w0: float = 30.0,
        *,
        is_first: bool = False,
        is_last: bool = False,
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__()
        if n_in < 1 or n_out < 1:
            raise ValueError(f"SirenLinear: n_in = {n_in}, n_out = {n_out} must be >= 1")
        if not (math.isfinite(w0) and 0.0 < w0 <= 1000.0):
            raise ValueError(f"SirenLinear: w0 = {w0!r} is outside (0, 1000]")
        self.w0 = float(w0)
        self.is_first = is_first
        self.is_last = is_last
        self.linear = nn.Linear(n_in, n_out)
        bound = 1.0 / n_in if is_first else math.sqrt(6.0 / n_in) / self.w0
        with torch.no_grad():
            self.linear.weight.uniform_(-bound, bound, generator=generator)
            bb = 1.0 / math.sqrt(n_in)
            self.linear.bias.uniform_(-bb, bb, generator=generator)
        self.init_bound = bound

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply the layer."""
        y = self.linear(x)
        return y if self.is_last else torch.sin(self.w0 * y)


@dataclass(frozen=True)
class FieldConfig:
    """Shape of a :class:`NeuralField`.

    Layers: ``SirenLinear(n_in + 2 n_freq -> width, first)``, then ``depth - 2`` hidden
    ``width x width`` layers, each split into ``width -> rank -> width`` (two sine layers)
    when ``rank`` > 0, then ``SirenLinear(width -> n_out, last)``. The default is the paper's
    CT network 131 -> 100 -> 10 -> 100 -> 1.

    Attributes:
        n_in: coordinate dimension, [1, 16].
        n_freq: encoder frequencies, [0, 4096] (0: no encoder, the coordinates go straight in).
        width: hidden width, [1, 4096].
        rank: rank of the hidden layers, [0, width] (0: full-rank layers).
        depth: number of width-changing stages incl. first and last layer, [2, 32].
        n_out: output channels, [1, 64].
        w0: sine frequency factor of every layer, (0, 1000].
        seed: key of the weight initialisation, any int.
    """

    n_in: int = 3
    n_freq: int = 64
    width: int = 100
    rank: int = 10
    depth: int = 3
    n_out: int = 1
    w0: float = 30.0
    seed: int = 0

    def __post_init__(self) -> None:
        for name, lo, hi in (
            ("n_in", 1, 16),
            ("n_freq", 0, 4096),
            ("width", 1, 4096),
            ("rank", 0, self.width),
            ("depth", 2, 32),
            ("n_out", 1, 64),
        ):
            v = getattr(self, name)
            if int(v) != v or not lo <= int(v) <= hi:
                raise ValueError(f"FieldConfig.{name} = {v!r} is outside [{lo}, {hi}]")
        if not (math.isfinite(self.w0) and 0.0 < self.w0 <= 1000.0):
            raise ValueError(f"FieldConfig.w0 = {self.w0!r} is outside (0, 1000]")
        if int(self.seed) != self.seed:
            raise ValueError(f"FieldConfig.seed = {self.seed!r} must be an integer")

    @property
    def widths(self) -> list[int]:
        """Feature widths from the network input to the output, e.g. [131, 100, 10, 100, 1]."""
        w = [self.n_in + 2 * self.n_freq, self.width]
        for _ in range(self.depth - 2):
            w += [self.rank, self.width] if self.rank > 0 else [self.width]
        return [*w, self.n_out]


class NeuralField(nn.Module):
    """Coordinate network ``f(x) = SIREN(gamma(x))``.

    Args:
        cfg: the shape.
        b: encoder matrix ``[cfg.n_freq, cfg.n_in]`` (e.g. :func:`rram_fourier_matrix`);
            required when ``cfg.n_freq`` > 0.
    """

    def __init__(self, cfg: FieldConfig, b: torch.Tensor | None = None) -> None:
        super().__init__()
        self.cfg = cfg
        if cfg.n_freq > 0:
            if b is None or tuple(b.shape) != (cfg.n_freq, cfg.n_in):
                got = None if b is None else tuple(b.shape)
                raise ValueError(f"NeuralField: B must be [{cfg.n_freq}, {cfg.n_in}], got {got}")
            self.encoder: nn.Module = GaussianEncoder(b)
        else:
            self.encoder = nn.Identity()
        w = cfg.widths
        layers = []
        for i in range(len(w) - 1):
            gen = _generator(cfg.seed, "field_init", i)
            layers.append(
                SirenLinear(
                    w[i],
                    w[i + 1],
                    cfg.w0,
                    is_first=i == 0,
                    is_last=i == len(w) - 2,
                    generator=gen,
                )
            )
        self.layers = nn.ModuleList(layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Evaluate at coordinates ``x [..., n_in]``; returns ``[..., n_out]``."""
        h = self.encoder(x)
        for layer in self.layers:
            h = layer(h)
        return h

    def weight_matrices(self) -> list[torch.Tensor]:
        """The weight matrices ``[out, in]`` in evaluation order (live parameters)."""
        return [layer.linear.weight for layer in self.layers]

    def biases(self) -> list[torch.Tensor]:
        """The bias vectors in evaluation order (live parameters)."""
        return [layer.linear.bias for layer in self.layers]

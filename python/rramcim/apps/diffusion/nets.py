"""Networks of the diffusion tasks (PAPERS.md §4.3, §4.4) and their checkpoints.

Score networks (the object the analogue closed-loop solver maps onto crossbars)::

    e(t, c) = temb(t) + cemb(c)                                  [14], cemb = 0 unconditional
    temb(t) = [sin(2 pi W t), cos(2 pi W t)]                     W in R^7 ~ N(0, 1), fixed
    h1 = relu(W1 x + b1 + e)                                     W1 [14, 2]
    h2 = relu(W2 h1 + b2 + e)                                    W2 [14, 14]
    s(x, t, c) = amp * (W3 h2 + b3)                              W3 [2, 14], amp = 5

Conditional net: ``cemb(c) = EmbedFC(onehot(c))`` with EmbedFC = Linear(3, 14) -> GELU ->
Linear(14, 14); the null class of classifier-free guidance (:data:`NULL_CLASS`) is the
all-zero one-hot vector, whose embedding is the constant ``Linear2(GELU(bias1)) + bias2``.
Guidance: ``s = (1 + w) s(x, t, c) - w s(x, t, null)``.

Noise-aware forward (``noisy=True``): every weight and bias of the three crossbar layers
(W1..W3, b1..b3) is multiplied by (1 + n), n ~ N(0, 0.1^2) with every |n| >= 0.2 redrawn from
U(-0.2, 0.2); one draw per forward pass (per batch), from the given torch generator. The time
frequencies and the class embedding are not perturbed: in the hardware they are digital values
written to DACs (PAPERS.md §4.5).

:meth:`ScoreMLP.analog_export` gives the float layers as plain tensors and
:func:`export_score` evaluates the formula above from them; it reproduces the module's
(noise-free) output to float rounding.

Also here: the convolutional VAE of the letters (2-D latent), the letter classifier used for
the accuracy metric, and the ``.npz`` checkpoints (float32 arrays named
``<net>.<parameter>`` plus a JSON ``summary`` holding each net's kind and config).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional as nnf

ASSETS = Path(__file__).resolve().parents[2] / "assets"
"""Folder of the shipped checkpoints (``diffusion_ring.npz``, ``diffusion_hku.npz``)."""

NULL_CLASS = -1
"""Class index of the empty (unconditional) label in classifier-free guidance."""
N_STD = 0.1
"""Relative standard deviation of the noise-aware training's weight noise."""
N_LIM = 0.2
"""Weight-noise truncation: draws with |n| >= N_LIM are redrawn from U(-N_LIM, N_LIM)."""


def weight_noise(
    shape: torch.Size | tuple[int, ...],
    generator: torch.Generator,
    std: float = N_STD,
    lim: float = N_LIM,
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """Relative weight error n: N(0, std^2), entries with |n| >= lim replaced by U(-lim, lim)."""
    n = torch.randn(shape, generator=generator, dtype=dtype) * std
    u = (torch.rand(shape, generator=generator, dtype=dtype) * 2.0 - 1.0) * lim
    return torch.where(n.abs() >= lim, u, n)


def _init_uniform(module: nn.Module, generator: torch.Generator | None) -> None:
    """torch's default Linear/Conv init bound 1/sqrt(fan_in), drawn from a keyed generator."""
    if generator is None:
        return
    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, nn.Linear | nn.Conv2d | nn.ConvTranspose2d):
                w = m.weight
                if isinstance(m, nn.ConvTranspose2d):
                    fan_in = w.shape[0] * w[0, 0].numel()
                else:
                    fan_in = w[0].numel()
                bound = 1.0 / math.sqrt(fan_in)
                w.uniform_(-bound, bound, generator=generator)
                if m.bias is not None:
                    m.bias.uniform_(-bound, bound, generator=generator)


class TimeEncoding(nn.Module):
    """Gaussian Fourier time embedding [sin(2 pi W t), cos(2 pi W t)] with fixed W ~ N(0, 1).

    Args:
        n_freq: number of frequencies (7; the embedding has 2 n_freq channels).
        generator: keyed generator of W (zeros when None: set by a checkpoint load).
    """

    def __init__(self, n_freq: int = 7, generator: torch.Generator | None = None) -> None:
        super().__init__()
        W = torch.zeros(n_freq) if generator is None else torch.randn(n_freq, generator=generator)
        self.register_buffer("freqs", W)

    def forward(self, t: torch.Tensor) -> torch.Tensor:
        """Embedding [B, 2 n_freq] of times ``t`` [B] (or a 0-d time)."""
        arg = 2.0 * math.pi * torch.as_tensor(t, dtype=self.freqs.dtype).reshape(-1, 1) * self.freqs
        return torch.cat((torch.sin(arg), torch.cos(arg)), dim=1)


@dataclass(frozen=True)
class ScoreNetConfig:
    """Size of a score MLP 2 -> hidden -> hidden -> 2.

    Attributes:
        hidden: hidden width, = 2 n_freq (the embedding is added to the pre-activations).
        n_freq: time-embedding frequencies, >= 1.
        amp: output gain, > 0 (5 in the paper).
        n_classes: classes of the conditional net (0: unconditional).
    """

    hidden: int = 14
    n_freq: int = 7
    amp: float = 5.0
    n_classes: int = 0

    def __post_init__(self) -> None:
        if int(self.n_freq) != self.n_freq or self.n_freq < 1:
            raise ValueError(f"ScoreNetConfig.n_freq = {self.n_freq!r} must be >= 1")
        if self.hidden != 2 * self.n_freq:
            raise ValueError(
                f"ScoreNetConfig.hidden = {self.hidden!r} must equal 2 n_freq = {2 * self.n_freq}"
            )
        if not (math.isfinite(self.amp) and self.amp > 0):
            raise ValueError(f"ScoreNetConfig.amp = {self.amp!r} must be finite and > 0")
        if int(self.n_classes) != self.n_classes or self.n_classes < 0:
            raise ValueError(f"ScoreNetConfig.n_classes = {self.n_classes!r} must be >= 0")


class ScoreMLP(nn.Module):
    """Unconditional score network s(x, t) (see the module docstring).

    Args:
        cfg: sizes (``cfg.n_classes`` must be 0).
        generator: keyed generator of the initial weights and of the time frequencies.
    """

    def __init__(
        self, cfg: ScoreNetConfig | None = None, generator: torch.Generator | None = None
    ) -> None:
        super().__init__()
        cfg = cfg or ScoreNetConfig()
        self._check_classes(cfg)
        self.cfg = cfg
        h = cfg.hidden
        self.temb = TimeEncoding(cfg.n_freq, generator)
        self.lin1 = nn.Linear(2, h)
        self.lin2 = nn.Linear(h, h)
        self.lin3 = nn.Linear(h, 2)
        self._init_extra(generator)
        for lin in self.layers():
            _init_uniform(lin, generator)

    def _check_classes(self, cfg: ScoreNetConfig) -> None:
        if cfg.n_classes != 0:
            raise ValueError("ScoreMLP is unconditional: ScoreNetConfig.n_classes must be 0")

    def _init_extra(self, generator: torch.Generator | None) -> None:
        """Hook of the conditional net (class embedding)."""

    @property
    def amp(self) -> float:
        """Output gain."""
        return float(self.cfg.amp)

    def layers(self) -> list[nn.Linear]:
        """The three crossbar layers."""
        return [self.lin1, self.lin2, self.lin3]

    def class_embedding(self, c: torch.Tensor | None, batch: int) -> torch.Tensor | None:
        """Class embedding [B, hidden] (None for the unconditional net)."""
        return None

    def embedding(self, t: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        """e(t, c) [B, hidden] for times ``t`` [B] (a 0-d time is broadcast over ``c``)."""
        te = self.temb(t)
        ce = self.class_embedding(c, te.shape[0])
        if ce is None:
            return te
        return te + ce

    def core(
        self,
        x: torch.Tensor,
        e: torch.Tensor,
        noisy: bool = False,
        generator: torch.Generator | None = None,
    ) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """Score and hidden activations for explicit embedding ``e`` [B or 1, hidden].

        Args:
            x: states [B, 2].
            e: embedding added to both hidden pre-activations.
            noisy: multiply every weight and bias by (1 + n) (:func:`weight_noise`).
            generator: the noise generator (required when ``noisy``).

        Returns:
            ``(s [B, 2], [h1, h2])``.
        """
        Ws = [lin.weight for lin in self.layers()]
        bs = [lin.bias for lin in self.layers()]
        if noisy:
            if generator is None:
                raise ValueError("ScoreMLP.core: noisy=True needs a generator")
            Ws = [W * (1.0 + weight_noise(W.shape, generator, dtype=W.dtype)) for W in Ws]
            bs = [b * (1.0 + weight_noise(b.shape, generator, dtype=b.dtype)) for b in bs]
        h1 = torch.relu(nnf.linear(x, Ws[0], bs[0]) + e)
        h2 = torch.relu(nnf.linear(h1, Ws[1], bs[1]) + e)
        return self.cfg.amp * nnf.linear(h2, Ws[2], bs[2]), [h1, h2]

    def forward_hidden(
        self,
        x: torch.Tensor,
        t: torch.Tensor,
        c: torch.Tensor | None = None,
        noisy: bool = False,
        generator: torch.Generator | None = None,
    ) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """``(s(x, t, c) [B, 2], hidden activations)``; see :meth:`core`."""
        return self.core(x, self.embedding(t, c), noisy, generator)

    def forward(
        self,
        x: torch.Tensor,
        t: torch.Tensor,
        c: torch.Tensor | None = None,
        noisy: bool = False,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """Score s(x, t[, c]) [B, 2] for states ``x`` [B, 2] and times ``t`` [B] (or 0-d)."""
        return self.forward_hidden(x, t, c, noisy, generator)[0]

    def analog_export(self) -> dict:
        """Float layers and embedding as plain tensors (detached float32 copies).

        Returns:
            ``dict(W=[W1 [14, 2], W2 [14, 14], W3 [2, 14]], b=[b1, b2, b3], amp=5.0,
            freqs=[7], class_embed=[n_classes, 14] or None, null_embed=[14] or None)``;
            :func:`export_score` evaluates ``s(x, t, c)`` from it.
        """
        with torch.no_grad():
            return {
                "W": [lin.weight.detach().float().clone() for lin in self.layers()],
                "b": [lin.bias.detach().float().clone() for lin in self.layers()],
                "amp": float(self.cfg.amp),
                "freqs": self.temb.freqs.detach().float().clone(),
                "class_embed": None,
                "null_embed": None,
            }

    def n_params(self) -> int:
        """Trainable parameters (weights and biases)."""
        return sum(p.numel() for p in self.parameters())


class EmbedFC(nn.Module):
    """Class embedding Linear(n_in, n_out) -> GELU -> Linear(n_out, n_out)."""

    def __init__(self, n_in: int, n_out: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(n_in, n_out)
        self.fc2 = nn.Linear(n_out, n_out)

    def forward(self, v: torch.Tensor) -> torch.Tensor:
        """Embedding [B, n_out] of one-hot (or zero) rows ``v`` [B, n_in]."""
        return self.fc2(nnf.gelu(self.fc1(v)))


class ScoreMLPCond(ScoreMLP):
    """Conditional score network s(x, t, c) with an EmbedFC class embedding.

    Class indices are 0..n_classes-1, or :data:`NULL_CLASS` for the empty label.
    """

    def _check_classes(self, cfg: ScoreNetConfig) -> None:
        if cfg.n_classes < 1:
            raise ValueError("ScoreMLPCond needs ScoreNetConfig.n_classes >= 1")

    def _init_extra(self, generator: torch.Generator | None) -> None:
        self.cemb = EmbedFC(self.cfg.n_classes, self.cfg.hidden)
        _init_uniform(self.cemb, generator)

    def one_hot(self, c: torch.Tensor) -> torch.Tensor:
        """One-hot rows [B, n_classes]; :data:`NULL_CLASS` gives a zero row."""
        c = torch.as_tensor(c, dtype=torch.int64).reshape(-1)
        if bool(((c < NULL_CLASS) | (c >= self.cfg.n_classes)).any()):
            raise ValueError(
                f"ScoreMLPCond: class indices must be in [0, {self.cfg.n_classes}) or "
                f"NULL_CLASS = {NULL_CLASS}"
            )
        v = torch.zeros(c.numel(), self.cfg.n_classes, dtype=self.lin1.weight.dtype)
        keep = c >= 0
        v[keep.nonzero().reshape(-1), c[keep]] = 1.0
        return v

    def class_embedding(self, c: torch.Tensor | None, batch: int) -> torch.Tensor:
        """EmbedFC(onehot(c)) [B, hidden]; ``c = None`` means the null class for all rows."""
        if c is None:
            c = torch.full((batch,), NULL_CLASS, dtype=torch.int64)
        return self.cemb(self.one_hot(c))

    def guided(
        self, x: torch.Tensor, t: torch.Tensor, c: torch.Tensor, w: float = 0.0
    ) -> torch.Tensor:
        """Classifier-free guidance (1 + w) s(x, t, c) - w s(x, t, null) [B, 2]."""
        s = self.forward(x, t, c)
        if w == 0.0:
            return s
        return (1.0 + w) * s - w * self.forward(x, t, torch.full_like(c, NULL_CLASS))

    def analog_export(self) -> dict:
        """As :meth:`ScoreMLP.analog_export`, with ``class_embed`` [n_classes, 14] (row k =
        cemb(k)) and ``null_embed`` [14] = cemb(NULL_CLASS)."""
        out = super().analog_export()
        with torch.no_grad():
            k = torch.arange(self.cfg.n_classes)
            out["class_embed"] = self.class_embedding(k, k.numel()).float().clone()
            out["null_embed"] = (
                self.class_embedding(torch.tensor([NULL_CLASS]), 1)[0].float().clone()
            )
        return out


def export_embedding(exp: Mapping, t: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
    """e(t, c) [B, hidden] from an :meth:`ScoreMLP.analog_export` dict.

    Args:
        exp: the export.
        t: times [B] (or 0-d, broadcast over ``c``).
        c: class indices [B] (:data:`NULL_CLASS` allowed) or None (no class embedding for an
            unconditional export, the null embedding for a conditional one).
    """
    f = exp["freqs"]
    arg = 2.0 * math.pi * torch.as_tensor(t, dtype=f.dtype).reshape(-1, 1) * f
    e = torch.cat((torch.sin(arg), torch.cos(arg)), dim=1)
    if exp["class_embed"] is None:
        return e
    table = torch.cat((exp["class_embed"], exp["null_embed"][None]), dim=0)
    n = exp["class_embed"].shape[0]
    if c is None:
        c = torch.full((e.shape[0],), NULL_CLASS, dtype=torch.int64)
    c = torch.as_tensor(c, dtype=torch.int64).reshape(-1)
    return e + table[torch.where(c < 0, n, c)]


def export_score(exp: Mapping, x: torch.Tensor, e: torch.Tensor) -> torch.Tensor:
    """s = amp (W3 relu(W2 relu(W1 x + b1 + e) + b2 + e) + b3) [B, 2] for explicit ``e``."""
    W1, W2, W3 = exp["W"]
    b1, b2, b3 = exp["b"]
    h1 = torch.relu(x @ W1.T + b1 + e)
    h2 = torch.relu(h1 @ W2.T + b2 + e)
    return exp["amp"] * (h2 @ W3.T + b3)


# ------------------------------------------------------------------------------ letters
@dataclass(frozen=True)
class VAEConfig:
    """Convolutional VAE of the 12 x 12 letters.

    Attributes:
        image_px: input side, pixels; 12 (two stride-2 convolutions: 12 -> 6 -> 3).
        latent: latent dimension (2 in the paper).
        fc: width of the fully connected layer between the convolutions and mu/logvar.
    """

    image_px: int = 12
    latent: int = 2
    fc: int = 16

    def __post_init__(self) -> None:
        if self.image_px != 12:
            raise ValueError(f"VAEConfig.image_px = {self.image_px!r}: only 12 is supported")
        if int(self.latent) != self.latent or self.latent < 1:
            raise ValueError(f"VAEConfig.latent = {self.latent!r} must be >= 1")
        if int(self.fc) != self.fc or self.fc < 1:
            raise ValueError(f"VAEConfig.fc = {self.fc!r} must be >= 1")


class ConvVAE(nn.Module):
    """Encoder conv 1->8 3x3 s2, conv 8->16 3x3 s2 (ReLU), fc 144 -> 16 (ReLU) -> mu, logvar;
    decoder mirrored: fc latent -> 16 -> 144 (ReLU), transposed conv 16->8, 8->1 (3x3 s2),
    sigmoid. 12 x 12 images in [0, 1].

    Args:
        cfg: sizes.
        generator: keyed generator of the initial weights.
    """

    def __init__(self, cfg: VAEConfig | None = None, generator: torch.Generator | None = None):
        super().__init__()
        cfg = cfg or VAEConfig()
        self.cfg = cfg
        self.conv1 = nn.Conv2d(1, 8, 3, stride=2, padding=1)
        self.conv2 = nn.Conv2d(8, 16, 3, stride=2, padding=1)
        self.fc = nn.Linear(16 * 9, cfg.fc)
        self.mu = nn.Linear(cfg.fc, cfg.latent)
        self.logvar = nn.Linear(cfg.fc, cfg.latent)
        self.dfc1 = nn.Linear(cfg.latent, cfg.fc)
        self.dfc2 = nn.Linear(cfg.fc, 16 * 9)
        self.deconv1 = nn.ConvTranspose2d(16, 8, 3, stride=2, padding=1, output_padding=1)
        self.deconv2 = nn.ConvTranspose2d(8, 1, 3, stride=2, padding=1, output_padding=1)
        _init_uniform(self, generator)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(mu, logvar)`` [B, latent] of images [B, 1, 12, 12]."""
        h = nnf.relu(self.conv2(nnf.relu(self.conv1(x))))
        h = nnf.relu(self.fc(h.flatten(1)))
        return self.mu(h), self.logvar(h)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Images [B, 1, 12, 12] in (0, 1) of latents [B, latent]."""
        h = nnf.relu(self.dfc2(nnf.relu(self.dfc1(z)))).reshape(-1, 16, 3, 3)
        return torch.sigmoid(self.deconv2(nnf.relu(self.deconv1(h))))

    def forward(
        self, x: torch.Tensor, eps: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(reconstruction, mu, logvar)`` with the reparameterised z = mu + exp(logvar/2) eps."""
        mu, logvar = self.encode(x)
        return self.decode(mu + torch.exp(0.5 * logvar) * eps), mu, logvar


class LetterClassifier(nn.Module):
    """Small CNN for the letter-accuracy metric: conv 1->16 3x3 (pad 1), ReLU, max-pool 2;
    conv 16->32 3x3 (pad 1), ReLU, max-pool 2; fc 288 -> 64 (ReLU) -> n_classes logits."""

    def __init__(self, n_classes: int = 3, generator: torch.Generator | None = None) -> None:
        super().__init__()
        self.n_classes = n_classes
        self.conv1 = nn.Conv2d(1, 16, 3, padding=1)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1)
        self.fc1 = nn.Linear(32 * 9, 64)
        self.fc2 = nn.Linear(64, n_classes)
        _init_uniform(self, generator)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits [B, n_classes] of images [B, 1, 12, 12]."""
        h = nnf.max_pool2d(nnf.relu(self.conv1(x)), 2)
        h = nnf.max_pool2d(nnf.relu(self.conv2(h)), 2)
        return self.fc2(nnf.relu(self.fc1(h.flatten(1))))


# ------------------------------------------------------------------------------ checkpoints
def _build(kind: str, config: dict) -> nn.Module:
    if kind == "ScoreMLP":
        return ScoreMLP(ScoreNetConfig(**config))
    if kind == "ScoreMLPCond":
        return ScoreMLPCond(ScoreNetConfig(**config))
    if kind == "ConvVAE":
        return ConvVAE(VAEConfig(**config))
    if kind == "LetterClassifier":
        return LetterClassifier(**config)
    raise ValueError(f"unknown network kind {kind!r}")


def _describe(net: nn.Module) -> dict:
    if isinstance(net, ScoreMLP):
        return {"kind": type(net).__name__, "config": asdict(net.cfg)}
    if isinstance(net, ConvVAE):
        return {"kind": "ConvVAE", "config": asdict(net.cfg)}
    if isinstance(net, LetterClassifier):
        return {"kind": "LetterClassifier", "config": {"n_classes": net.n_classes}}
    raise ValueError(f"cannot store a {type(net).__name__}")


def save_nets(path: Path, nets: Mapping[str, nn.Module], summary: dict) -> None:
    """Write every net's state (float32 arrays ``<name>.<tensor>``) and the JSON ``summary``.

    The summary gets a ``nets`` entry (kind and config of each net) so :func:`load_nets`
    rebuilds them.
    """
    info = dict(summary)
    info["nets"] = {name: _describe(net) for name, net in nets.items()}
    arrays = {}
    for name, net in nets.items():
        for k, v in net.state_dict().items():
            arrays[f"{name}.{k}"] = v.detach().cpu().numpy().astype(np.float32)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, summary=json.dumps(info, default=float), **arrays)


def load_nets(path: Path) -> tuple[dict[str, nn.Module], dict]:
    """Nets (float32, eval mode) and summary of a checkpoint written by :func:`save_nets`.

    Raises:
        FileNotFoundError: no file (names the ``train_*`` function that writes it).
        ValueError: no summary, a missing array, a wrong shape or a non-finite value; the
            message names the file and the array.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(
            f"diffusion checkpoint {path} not found: run "
            "rramcim.apps.diffusion.train.train_all (or train_ring / train_hku)"
        )
    nets: dict[str, nn.Module] = {}
    with np.load(path) as z:
        if "summary" not in z.files:
            raise ValueError(f"{path}: no 'summary' entry")
        info = json.loads(str(z["summary"]))
        if "nets" not in info:
            raise ValueError(f"{path}: summary has no 'nets' entry")
        for name, d in info["nets"].items():
            net = _build(d["kind"], d["config"])
            state = {}
            for k, ref in net.state_dict().items():
                key = f"{name}.{k}"
                if key not in z.files:
                    raise ValueError(f"{path}: array {key!r} is missing")
                a = z[key]
                if a.shape != tuple(ref.shape):
                    raise ValueError(
                        f"{path}: array {key!r} has shape {a.shape}, not {tuple(ref.shape)}"
                    )
                if not np.all(np.isfinite(a)):
                    raise ValueError(f"{path}: array {key!r} holds NaN/inf")
                state[k] = torch.from_numpy(a.astype(np.float32))
            net.load_state_dict(state)
            net.eval()
            nets[name] = net
    return nets, info

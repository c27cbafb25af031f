"""Training of the diffusion models (software level) and their shipped checkpoints.

Recipes (PAPERS.md §4.3, §4.4; the paper's hyper-parameters unless stated):

* unconditional ring score net :data:`RING_RECIPE`: 10 000 ring points, 10 000 epochs of
  batch 512 (20 batches an epoch, a keyed shuffle each epoch: 200 000 Adam steps), lr 2e-4,
  weight decay 3e-5 (Adam's L2 form), saturation penalty alpha 1e-7, gradient-norm clip 0.1,
  EMA 0.95 per step (the EMA weights are the result), noise-aware forward in every step;
* VAE :data:`VAE_RECIPE`: 20 epochs, batch 64, Adam lr 1e-3, loss = BCE (summed over the
  pixels) + 3 KL(q(z|x) || N(m_c, I)) with the class prior means m_c = (2 sqrt3, 2),
  (-2 sqrt3, 2), (0, -4) (radius 4, 120 degrees apart), averaged over the batch;
* letter classifier :data:`CLASSIFIER_RECIPE` ([I], the paper has none): 10 epochs, batch 64,
  Adam lr 1e-3, cross-entropy, on the training letters;
* conditional latent score net :data:`COND_RECIPE`: trained on the encoder means of the
  training letters scaled by 1/8, 3000 epochs of batch 512 (10 batches an epoch with the
  default 4800 training letters: 30 000 steps), lr 2e-4, weight decay 1e-4, alpha 3e-6, clip
  0.1, EMA 0.95, label dropout 0.1 (dropped labels -> the null class), noise-aware.

Nothing is shortened (``recipe_note`` in each summary says so).

Data: the letter set differs from the paper's (EMNIST is not available offline): 2000 Pillow
renderings per class (:mod:`rramcim.apps.diffusion.data`), 1600 for training, 400 for test.

Checkpoints (float32 arrays, JSON ``summary`` with configs, recipes, seeds, training times
and metrics measured on the stored float32 weights):

* ``assets/diffusion_ring.npz``: net ``score`` (:class:`ScoreMLP`);
* ``assets/diffusion_hku.npz``: nets ``vae`` (:class:`ConvVAE`), ``classifier``
  (:class:`LetterClassifier`) and ``score`` (:class:`ScoreMLPCond`) in one file (they only
  make sense together: the score net lives in this VAE's latent space).

All randomness is keyed (torch generators seeded from ``rng.make_key(seed, purpose)``), one
torch thread: ``train_all(out_dir, seed)`` reproduces the files bit for bit on one machine
(a second ``train_all`` run reproduced both files' arrays and metrics bit for bit).

Shipped results (seed 0, measured when written on a shared two-core machine, one thread;
``tests/test_diffusion.py`` holds them to the bounds in brackets):

* training time (shipped run / reproduction run): ring 382 s / 336 s (200 000 steps),
  letters 106 s / 73 s (shipped: rendering 1.3 s, VAE 11 s, classifier 4 s, conditional net
  89 s); ``train_all`` with the summaries' evaluations 526 s / 451 s in all;
* ring, 10 000 samples against 10 000 fresh ring points (two fresh sets: KL 0.097,
  L2 0.0143): PF-ODE Euler 10 000 steps KL 0.311 [< 0.45], L2 0.0184, radius 0.694 +- 0.049
  [std < 0.06] (data 0.700 +- 0.040); SDE Euler 10 000 steps KL 0.672, L2 0.0220, radius
  0.679 +- 0.115; PF-ODE from N(0, 0.471^2 I) KL 2.24;
* letters: classifier test accuracy 100 % (1200 test letters); VAE test reconstruction MSE
  0.0486 per pixel (class-mean image 0.065, global mean image 0.077), classifier accuracy on
  the reconstructions 99.9 %; PF-ODE Euler 5000 steps, 1000 samples per class: decoded-letter
  accuracy H 100 %, K 100 %, U 99.1 % [>= 90 % each], latent KL against the training latents
  0.79 / 0.89 / 0.82 (training vs test latents: 0.40 / 0.53 / 0.50);
* tick-held sampling (:mod:`rramcim.apps.diffusion.evaluate`): 240 ticks over [1, -0.2] with
  12-bit DACs, 20 sub-steps a tick: ring KL 0.314 (PF-ODE) / 0.676 (SDE), letters accuracy
  100 / 100 / 99.1 %; even 12 ticks cost little (ring PF-ODE KL 0.378).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as nnf

from rramcim.apps.diffusion.data import (
    CLASSES,
    LetterConfig,
    LetterSet,
    make_letters,
    ring_samples,
)
from rramcim.apps.diffusion.nets import (
    ASSETS,
    NULL_CLASS,
    ConvVAE,
    LetterClassifier,
    ScoreMLP,
    ScoreMLPCond,
    ScoreNetConfig,
    VAEConfig,
    load_nets,
    save_nets,
)
from rramcim.apps.diffusion.samplers import PRIOR_STD
from rramcim.apps.diffusion.sde import T_MIN_TRAIN, VPSDE, dsm_loss
from rramcim.rng import make_key
from rramcim.threads import torch_threads

RING_ASSET = ASSETS / "diffusion_ring.npz"
"""Shipped unconditional ring model."""
HKU_ASSET = ASSETS / "diffusion_hku.npz"
"""Shipped letters model (VAE + classifier + conditional score net)."""

Log = Callable[[str], None]

PRIOR_MEANS = (
    (2.0 * math.sqrt(3.0), 2.0),
    (-2.0 * math.sqrt(3.0), 2.0),
    (0.0, -4.0),
)
"""Class prior means of the VAE latent for 'H', 'K', 'U'."""
LATENT_SCALE = 8.0
"""VAE latent = LATENT_SCALE x diffusion latent."""


def _gen(seed: int, *purpose: object) -> torch.Generator:
    """A torch generator keyed by (seed, purpose...)."""
    return torch.Generator().manual_seed(make_key(seed, *purpose) & ((1 << 63) - 1))


def _check_int(owner: str, name: str, v: object, lo: int) -> None:
    if not isinstance(v, int) or isinstance(v, bool) or v < lo:
        raise ValueError(f"{owner}.{name} = {v!r} must be an integer >= {lo}")


@dataclass(frozen=True)
class ScoreRecipe:
    """Training recipe of a score network (DSM loss, Adam).

    Attributes:
        epochs: passes over the training set, >= 1.
        batch: batch size, >= 1.
        lr: Adam learning rate, (0, 1].
        weight_decay: Adam's L2 weight decay lambda, >= 0.
        alpha_sat: weight of the saturation penalty (hidden activations above 1.5), >= 0.
        grad_clip: gradient-norm clip, > 0.
        ema: EMA decay per step, [0, 1) (0: no averaging).
        noise_aware: multiply the weights by (1 + n) in every training forward.
        label_dropout: probability of replacing a label by the null class, [0, 1) (0 for
            the unconditional net).
        seed: keys the initial weights, shuffles, times, noise and weight noise.
    """

    epochs: int = 10000
    batch: int = 512
    lr: float = 2e-4
    weight_decay: float = 3e-5
    alpha_sat: float = 1e-7
    grad_clip: float = 0.1
    ema: float = 0.95
    noise_aware: bool = True
    label_dropout: float = 0.0
    seed: int = 0

    def __post_init__(self) -> None:
        _check_int("ScoreRecipe", "epochs", self.epochs, 1)
        _check_int("ScoreRecipe", "batch", self.batch, 1)
        if not 0 < self.lr <= 1:
            raise ValueError(f"ScoreRecipe.lr = {self.lr!r} must be in (0, 1]")
        for name in ("weight_decay", "alpha_sat"):
            if not getattr(self, name) >= 0:
                raise ValueError(f"ScoreRecipe.{name} = {getattr(self, name)!r} must be >= 0")
        if not self.grad_clip > 0:
            raise ValueError(f"ScoreRecipe.grad_clip = {self.grad_clip!r} must be > 0")
        if not 0 <= self.ema < 1:
            raise ValueError(f"ScoreRecipe.ema = {self.ema!r} must be in [0, 1)")
        if not 0 <= self.label_dropout < 1:
            raise ValueError(f"ScoreRecipe.label_dropout = {self.label_dropout!r}: [0, 1)")


RING_RECIPE = ScoreRecipe(epochs=10000, weight_decay=3e-5, alpha_sat=1e-7)
"""Paper recipe of the unconditional net (PAPERS.md §4.3 table)."""
COND_RECIPE = ScoreRecipe(epochs=3000, weight_decay=1e-4, alpha_sat=3e-6, label_dropout=0.1)
"""Paper recipe of the conditional net (PAPERS.md §4.3 table)."""


@dataclass(frozen=True)
class VAERecipe:
    """VAE training (paper: 20 epochs, batch 64, lr 1e-3, KL weight 3).

    Attributes:
        epochs: >= 1.
        batch: >= 1.
        lr: Adam learning rate, (0, 1].
        kl_weight: weight of the KL term, >= 0.
        seed: keys the initial weights, shuffles and the reparameterisation noise.
    """

    epochs: int = 20
    batch: int = 64
    lr: float = 1e-3
    kl_weight: float = 3.0
    seed: int = 0

    def __post_init__(self) -> None:
        _check_int("VAERecipe", "epochs", self.epochs, 1)
        _check_int("VAERecipe", "batch", self.batch, 1)
        if not 0 < self.lr <= 1:
            raise ValueError(f"VAERecipe.lr = {self.lr!r} must be in (0, 1]")
        if not self.kl_weight >= 0:
            raise ValueError(f"VAERecipe.kl_weight = {self.kl_weight!r} must be >= 0")


VAE_RECIPE = VAERecipe()
"""Paper recipe of the VAE."""


@dataclass(frozen=True)
class ClassifierRecipe:
    """Letter-classifier training ([I]).

    Attributes:
        epochs: >= 1.
        batch: >= 1.
        lr: Adam learning rate, (0, 1].
        seed: keys the initial weights and shuffles.
    """

    epochs: int = 10
    batch: int = 64
    lr: float = 1e-3
    seed: int = 0

    def __post_init__(self) -> None:
        _check_int("ClassifierRecipe", "epochs", self.epochs, 1)
        _check_int("ClassifierRecipe", "batch", self.batch, 1)
        if not 0 < self.lr <= 1:
            raise ValueError(f"ClassifierRecipe.lr = {self.lr!r} must be in (0, 1]")


CLASSIFIER_RECIPE = ClassifierRecipe()
"""Default classifier recipe."""


@dataclass(frozen=True)
class RingConfig:
    """Unconditional ring task.

    Attributes:
        n_data: training points, >= 1 (10 000 in the paper).
        net: score-net size (unconditional).
        sde: forward process of training.
        recipe: training recipe (:data:`RING_RECIPE`); its seed also keys the data.
        beta_scale: beta multiplier at sampling, > 0 (2 in the paper).
        prior_std: standard deviation of the sampler's x(1), > 0 (default 1: N(0, I), see
            :mod:`rramcim.apps.diffusion.samplers`).
        eval_samples: samples of the metrics stored in the summary, >= 100.
        eval_steps: Euler steps of those metrics, >= 1.
    """

    n_data: int = 10000
    net: ScoreNetConfig = field(default_factory=ScoreNetConfig)
    sde: VPSDE = field(default_factory=VPSDE)
    recipe: ScoreRecipe = RING_RECIPE
    beta_scale: float = 2.0
    prior_std: float = PRIOR_STD
    eval_samples: int = 10000
    eval_steps: int = 10000

    def __post_init__(self) -> None:
        _check_int("RingConfig", "n_data", self.n_data, 1)
        _check_int("RingConfig", "eval_samples", self.eval_samples, 100)
        _check_int("RingConfig", "eval_steps", self.eval_steps, 1)
        if self.net.n_classes != 0:
            raise ValueError("RingConfig.net must be unconditional (n_classes = 0)")
        for name in ("beta_scale", "prior_std"):
            if not getattr(self, name) > 0:
                raise ValueError(f"RingConfig.{name} = {getattr(self, name)!r} must be > 0")

    @property
    def seed(self) -> int:
        """The recipe's seed."""
        return self.recipe.seed

    def to_json(self) -> dict:
        """JSON-able dict."""
        return asdict(self)

    @staticmethod
    def from_json(d: dict) -> RingConfig:
        """Inverse of :meth:`to_json`."""
        return RingConfig(
            n_data=int(d["n_data"]),
            net=ScoreNetConfig(**d["net"]),
            sde=VPSDE(**d["sde"]),
            recipe=ScoreRecipe(**d["recipe"]),
            beta_scale=float(d["beta_scale"]),
            prior_std=float(d["prior_std"]),
            eval_samples=int(d["eval_samples"]),
            eval_steps=int(d["eval_steps"]),
        )


@dataclass(frozen=True)
class HKUConfig:
    """Conditional latent-diffusion task on the 'H', 'K', 'U' letters.

    Attributes:
        letters: the rendered letter set (2000 per class, 1600 for training).
        vae: VAE size (2-D latent).
        vae_recipe: VAE training.
        classifier_recipe: classifier training.
        net: conditional score-net size (n_classes = 3).
        sde: forward process of training.
        recipe: score-net training (:data:`COND_RECIPE`).
        latent_scale: VAE latent / diffusion latent, > 0 (8).
        beta_scale: beta multiplier at sampling, > 0 (1.5 in the paper).
        guidance_w: classifier-free guidance weight at sampling (0 in the paper).
        prior_std: standard deviation of the sampler's x(1), > 0 (as in :class:`RingConfig`).
        eval_per_class: samples per class of the metrics stored in the summary, >= 10.
        eval_steps: Euler steps of those metrics, >= 1.
    """

    letters: LetterConfig = field(
        default_factory=lambda: LetterConfig(n_per_class=2000, n_train=1600)
    )
    vae: VAEConfig = field(default_factory=VAEConfig)
    vae_recipe: VAERecipe = VAE_RECIPE
    classifier_recipe: ClassifierRecipe = CLASSIFIER_RECIPE
    net: ScoreNetConfig = field(default_factory=lambda: ScoreNetConfig(n_classes=len(CLASSES)))
    sde: VPSDE = field(default_factory=VPSDE)
    recipe: ScoreRecipe = COND_RECIPE
    latent_scale: float = LATENT_SCALE
    beta_scale: float = 1.5
    guidance_w: float = 0.0
    prior_std: float = PRIOR_STD
    eval_per_class: int = 1000
    eval_steps: int = 5000

    def __post_init__(self) -> None:
        if self.net.n_classes != len(CLASSES):
            raise ValueError(f"HKUConfig.net.n_classes must be {len(CLASSES)}")
        if self.vae.latent != 2:
            raise ValueError("HKUConfig.vae.latent must be 2 (the diffusion runs in 2-D)")
        for name in ("latent_scale", "beta_scale", "prior_std"):
            if not getattr(self, name) > 0:
                raise ValueError(f"HKUConfig.{name} = {getattr(self, name)!r} must be > 0")
        if not math.isfinite(self.guidance_w):
            raise ValueError(f"HKUConfig.guidance_w = {self.guidance_w!r} must be finite")
        _check_int("HKUConfig", "eval_per_class", self.eval_per_class, 10)
        _check_int("HKUConfig", "eval_steps", self.eval_steps, 1)

    def to_json(self) -> dict:
        """JSON-able dict."""
        d = asdict(self)
        d["letters"] = self.letters.to_json()
        return d

    @staticmethod
    def from_json(d: dict) -> HKUConfig:
        """Inverse of :meth:`to_json`."""
        return HKUConfig(
            letters=LetterConfig.from_json(d["letters"]),
            vae=VAEConfig(**d["vae"]),
            vae_recipe=VAERecipe(**d["vae_recipe"]),
            classifier_recipe=ClassifierRecipe(**d["classifier_recipe"]),
            net=ScoreNetConfig(**d["net"]),
            sde=VPSDE(**d["sde"]),
            recipe=ScoreRecipe(**d["recipe"]),
            latent_scale=float(d["latent_scale"]),
            beta_scale=float(d["beta_scale"]),
            guidance_w=float(d["guidance_w"]),
            prior_std=float(d["prior_std"]),
            eval_per_class=int(d["eval_per_class"]),
            eval_steps=int(d["eval_steps"]),
        )


# ------------------------------------------------------------------------------ training loops
def fit_score(
    net: ScoreMLP,
    x: torch.Tensor,
    labels: torch.Tensor | None,
    sde: VPSDE,
    recipe: ScoreRecipe,
    tag: str,
    log: Log = print,
) -> list[dict]:
    """Train ``net`` on data ``x`` [N, 2] (and ``labels`` [N] for a conditional net) with the
    DSM loss; the net ends with the EMA weights (or the last weights when ``ema = 0``).

    Returns:
        History rows (epoch, mean DSM loss of the epoch, elapsed seconds).
    """
    n = x.shape[0]
    gen = _gen(recipe.seed, tag, "train")
    opt = torch.optim.Adam(net.parameters(), lr=recipe.lr, weight_decay=recipe.weight_decay)
    shadow = [p.detach().clone() for p in net.parameters()]
    history: list[dict] = []
    t0 = time.perf_counter()
    report = max(1, recipe.epochs // 10)
    for ep in range(recipe.epochs):
        perm = torch.randperm(n, generator=gen)
        total, count = 0.0, 0
        for i in range(0, n, recipe.batch):
            idx = perm[i : i + recipe.batch]
            b = idx.numel()
            x0 = x[idx]
            t = T_MIN_TRAIN + (1.0 - T_MIN_TRAIN) * torch.rand(b, generator=gen)
            z = torch.randn(b, 2, generator=gen)
            c = None
            if labels is not None:
                c = labels[idx]
                if recipe.label_dropout > 0:
                    drop = torch.rand(b, generator=gen) < recipe.label_dropout
                    c = torch.where(drop, torch.full_like(c, NULL_CLASS), c)

            def score_fn(xt: torch.Tensor, tt: torch.Tensor, c=c):  # noqa: ANN001, ANN202
                return net.forward_hidden(xt, tt, c, recipe.noise_aware, gen)

            loss, dsm = dsm_loss(score_fn, sde, x0, t, z, recipe.alpha_sat)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), recipe.grad_clip)
            opt.step()
            with torch.no_grad():
                for s, p in zip(shadow, net.parameters(), strict=True):
                    s.mul_(recipe.ema).add_(p.detach(), alpha=1.0 - recipe.ema)
            total += float(dsm.detach()) * b
            count += b
        if (ep + 1) % report == 0 or ep == 0:
            el = time.perf_counter() - t0
            history.append({"epoch": ep + 1, "dsm": total / count, "elapsed_s": el})
            log(f"{tag}: epoch {ep + 1:6d}/{recipe.epochs}  DSM {total / count:.4f}  {el:7.1f} s")
    with torch.no_grad():
        for s, p in zip(shadow, net.parameters(), strict=True):
            p.copy_(s)
    net.eval()
    return history


def vae_loss(
    vae: ConvVAE,
    x: torch.Tensor,
    y: torch.Tensor,
    eps: torch.Tensor,
    kl_weight: float,
    prior_means: torch.Tensor,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(loss, BCE, KL)`` per image (batch means): BCE summed over pixels + kl_weight KL to
    N(prior_means[y], I)."""
    rec, mu, logvar = vae(x, eps)
    bce = nnf.binary_cross_entropy(rec, x, reduction="sum") / x.shape[0]
    m = prior_means[y]
    kl = 0.5 * (logvar.exp() + (mu - m) ** 2 - 1.0 - logvar).sum() / x.shape[0]
    return bce + kl_weight * kl, bce, kl


def fit_vae(vae: ConvVAE, data: LetterSet, recipe: VAERecipe, log: Log = print) -> list[dict]:
    """Train the VAE on the training letters; returns per-epoch history."""
    gen = _gen(recipe.seed, "vae", "train")
    opt = torch.optim.Adam(vae.parameters(), lr=recipe.lr)
    pm = torch.tensor(PRIOR_MEANS, dtype=torch.float32)
    n = data.x_train.shape[0]
    history = []
    t0 = time.perf_counter()
    vae.train()
    for ep in range(recipe.epochs):
        perm = torch.randperm(n, generator=gen)
        tb, tk = 0.0, 0.0
        for i in range(0, n, recipe.batch):
            idx = perm[i : i + recipe.batch]
            eps = torch.randn(idx.numel(), vae.cfg.latent, generator=gen)
            loss, bce, kl = vae_loss(
                vae, data.x_train[idx], data.y_train[idx], eps, recipe.kl_weight, pm
            )
            opt.zero_grad()
            loss.backward()
            opt.step()
            tb += float(bce.detach()) * idx.numel()
            tk += float(kl.detach()) * idx.numel()
        history.append({"epoch": ep + 1, "bce": tb / n, "kl": tk / n})
        if (ep + 1) % max(1, recipe.epochs // 4) == 0:
            log(
                f"vae: epoch {ep + 1:3d}  BCE {tb / n:.2f}  KL {tk / n:.3f}  "
                f"{time.perf_counter() - t0:.1f} s"
            )
    vae.eval()
    return history


def fit_classifier(
    clf: LetterClassifier, data: LetterSet, recipe: ClassifierRecipe, log: Log = print
) -> list[dict]:
    """Train the letter classifier on the training letters; returns per-epoch history."""
    gen = _gen(recipe.seed, "classifier", "train")
    opt = torch.optim.Adam(clf.parameters(), lr=recipe.lr)
    n = data.x_train.shape[0]
    history = []
    clf.train()
    for ep in range(recipe.epochs):
        perm = torch.randperm(n, generator=gen)
        tot = 0.0
        for i in range(0, n, recipe.batch):
            idx = perm[i : i + recipe.batch]
            loss = nnf.cross_entropy(clf(data.x_train[idx]), data.y_train[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            tot += float(loss.detach()) * idx.numel()
        history.append({"epoch": ep + 1, "ce": tot / n})
    log(f"classifier: {recipe.epochs} epochs, final CE {history[-1]['ce']:.4f}")
    clf.eval()
    return history


def encode_latents(vae: ConvVAE, x: torch.Tensor, latent_scale: float) -> torch.Tensor:
    """Encoder means of images [N, 1, 12, 12] divided by ``latent_scale`` [N, 2]."""
    with torch.no_grad():
        return vae.encode(x)[0] / latent_scale


# ------------------------------------------------------------------------------ tasks
def _float32(net: torch.nn.Module) -> torch.nn.Module:
    net = net.float()
    net.eval()
    return net


def train_ring(
    cfg: RingConfig | None = None, out_path: Path | None = RING_ASSET, log: Log = print
) -> tuple[ScoreMLP, dict]:
    """Train the unconditional ring score net; write the checkpoint (unless ``out_path`` is
    None); return ``(net, summary)``. The summary's metrics are PF-ODE and SDE Euler KL/L2
    (``cfg.eval_steps`` steps, ``cfg.eval_samples`` samples) against fresh ring data."""
    from rramcim.apps.diffusion.evaluate import evaluate_ring

    cfg = cfg or RingConfig()
    with torch_threads():
        x = ring_samples(cfg.n_data, cfg.seed, "train")
        net = ScoreMLP(cfg.net, generator=_gen(cfg.seed, "ring", "init"))
        t0 = time.perf_counter()
        history = fit_score(net, x, None, cfg.sde, cfg.recipe, "ring", log)
        train_s = time.perf_counter() - t0
        net = _float32(net)
        t1 = time.perf_counter()
        metrics = evaluate_ring(
            net,
            n_samples=cfg.eval_samples,
            n_steps=cfg.eval_steps,
            beta_scale=cfg.beta_scale,
            seed=cfg.seed,
            ticks=False,
            prior_std=cfg.prior_std,
        )
        eval_s = time.perf_counter() - t1
    summary = {
        "workload": "diffusion-ring",
        "config": cfg.to_json(),
        "recipe_note": "paper hyper-parameters, nothing shortened",
        "n_params": net.n_params(),
        "history": history,
        "train_time_s": train_s,
        "eval_time_s": eval_s,
        "metrics": metrics,
        "versions": _versions(),
    }
    log(
        f"ring: {net.n_params()} parameters, trained in {train_s:.0f} s; KL PF-ODE "
        f"{metrics['ode']['kl']:.4f}, SDE {metrics['sde']['kl']:.4f} "
        f"(data floor {metrics['floor']['kl']:.4f})"
    )
    if out_path is not None:
        save_nets(Path(out_path), {"score": net}, summary)
        log(f"wrote {out_path}")
    return net, summary


def train_vae(cfg: HKUConfig | None = None, log: Log = print) -> tuple[ConvVAE, dict]:
    """Train the letter VAE; return ``(vae, summary part)`` with test reconstruction quality."""
    cfg = cfg or HKUConfig()
    data = make_letters(cfg.letters)
    vae = ConvVAE(cfg.vae, generator=_gen(cfg.vae_recipe.seed, "vae", "init"))
    t0 = time.perf_counter()
    history = fit_vae(vae, data, cfg.vae_recipe, log)
    train_s = time.perf_counter() - t0
    vae = _float32(vae)
    with torch.no_grad():
        mu, _ = vae.encode(data.x_test)
        rec = vae.decode(mu)
        bce = float(nnf.binary_cross_entropy(rec, data.x_test, reduction="sum")) / len(rec)
        mse = float(((rec - data.x_test) ** 2).mean())
    return vae, {
        "history": history,
        "train_time_s": train_s,
        "test_bce_per_image": bce,
        "test_mse_per_pixel": mse,
    }


def train_classifier(
    cfg: HKUConfig | None = None, log: Log = print
) -> tuple[LetterClassifier, dict]:
    """Train the letter classifier; return ``(classifier, summary part)`` with test accuracy."""
    from rramcim.apps.diffusion.metrics import classify

    cfg = cfg or HKUConfig()
    data = make_letters(cfg.letters)
    clf = LetterClassifier(
        len(CLASSES), generator=_gen(cfg.classifier_recipe.seed, "classifier", "init")
    )
    t0 = time.perf_counter()
    history = fit_classifier(clf, data, cfg.classifier_recipe, log)
    train_s = time.perf_counter() - t0
    clf = _float32(clf)
    pred = classify(clf, data.x_test)
    acc = float((pred == data.y_test).float().mean())
    log(f"classifier: test accuracy {100 * acc:.2f} %")
    return clf, {"history": history, "train_time_s": train_s, "test_accuracy": acc}


def train_cond_score(
    vae: ConvVAE, cfg: HKUConfig | None = None, log: Log = print
) -> tuple[ScoreMLPCond, dict]:
    """Train the conditional score net on the VAE's (1/latent_scale) training latents."""
    cfg = cfg or HKUConfig()
    data = make_letters(cfg.letters)
    z = encode_latents(vae, data.x_train, cfg.latent_scale)
    net = ScoreMLPCond(cfg.net, generator=_gen(cfg.recipe.seed, "hku", "init"))
    t0 = time.perf_counter()
    history = fit_score(net, z, data.y_train, cfg.sde, cfg.recipe, "hku", log)
    train_s = time.perf_counter() - t0
    return _float32(net), {"history": history, "train_time_s": train_s}


def train_hku(
    cfg: HKUConfig | None = None, out_path: Path | None = HKU_ASSET, log: Log = print
) -> tuple[dict, dict]:
    """Render the letters, train VAE, classifier and conditional score net; write the
    checkpoint (unless ``out_path`` is None).

    Returns:
        ``({"vae", "classifier", "score"}, summary)``; the summary's metrics are measured
        with :func:`rramcim.apps.diffusion.evaluate.evaluate_hku` (Euler PF-ODE,
        ``cfg.eval_steps`` steps, ``cfg.eval_per_class`` samples per class).
    """
    from rramcim.apps.diffusion.evaluate import evaluate_hku

    cfg = cfg or HKUConfig()
    with torch_threads():
        t0 = time.perf_counter()
        make_letters(cfg.letters)
        render_s = time.perf_counter() - t0
        vae, vae_info = train_vae(cfg, log)
        clf, clf_info = train_classifier(cfg, log)
        net, net_info = train_cond_score(vae, cfg, log)
        nets = {"vae": vae, "classifier": clf, "score": net}
        t1 = time.perf_counter()
        metrics = evaluate_hku(
            nets, cfg, n_per_class=cfg.eval_per_class, n_steps=cfg.eval_steps, ticks=False
        )
        eval_s = time.perf_counter() - t1
    summary = {
        "workload": "diffusion-hku",
        "config": cfg.to_json(),
        "recipe_note": "paper hyper-parameters, nothing shortened; letters rendered with Pillow",
        "classes": list(CLASSES),
        "prior_means": [list(m) for m in PRIOR_MEANS],
        "render_time_s": render_s,
        "vae": vae_info,
        "classifier": clf_info,
        "score": net_info,
        "n_params": {k: sum(p.numel() for p in v.parameters()) for k, v in nets.items()},
        "train_time_s": render_s
        + vae_info["train_time_s"]
        + clf_info["train_time_s"]
        + net_info["train_time_s"],
        "eval_time_s": eval_s,
        "metrics": metrics,
        "versions": _versions(),
    }
    log(
        f"hku: trained in {summary['train_time_s']:.0f} s; classifier test accuracy "
        f"{100 * clf_info['test_accuracy']:.2f} %; generated-letter accuracy per class "
        + ", ".join(
            f"{c} {100 * a:.1f} %"
            for c, a in zip(CLASSES, metrics["ode"]["accuracy"]["per_class"], strict=True)
        )
    )
    if out_path is not None:
        save_nets(Path(out_path), nets, summary)
        log(f"wrote {out_path}")
    return nets, summary


def train_all(out_dir: Path | str = ASSETS, seed: int = 0, log: Log = print) -> dict:
    """Train both tasks with every recipe's seed set to ``seed``; write
    ``diffusion_ring.npz`` and ``diffusion_hku.npz`` into ``out_dir``.

    Returns:
        ``{"ring": summary, "hku": summary, "total_time_s": ...}``.
    """
    out = Path(out_dir)
    t0 = time.perf_counter()
    ring_cfg = RingConfig(recipe=replace(RING_RECIPE, seed=seed))
    hku_cfg = HKUConfig(
        letters=replace(HKUConfig().letters, seed=seed),
        vae_recipe=replace(VAE_RECIPE, seed=seed),
        classifier_recipe=replace(CLASSIFIER_RECIPE, seed=seed),
        recipe=replace(COND_RECIPE, seed=seed),
    )
    _, hku = train_hku(hku_cfg, out / HKU_ASSET.name, log)
    _, ring = train_ring(ring_cfg, out / RING_ASSET.name, log)
    total = time.perf_counter() - t0
    log(f"diffusion: everything trained and evaluated in {total:.0f} s")
    return {"ring": ring, "hku": hku, "total_time_s": total}


def load_ring(path: Path = RING_ASSET) -> tuple[ScoreMLP, dict]:
    """The ring score net (float32, eval) and the summary of a ring checkpoint."""
    nets, info = load_nets(path)
    if set(nets) != {"score"} or type(nets["score"]) is not ScoreMLP:
        raise ValueError(f"{path}: not a ring checkpoint (nets {sorted(nets)})")
    return nets["score"], info  # type: ignore[return-value]


def load_hku(path: Path = HKU_ASSET) -> tuple[dict, dict]:
    """``({"vae", "classifier", "score"}, summary)`` of a letters checkpoint."""
    nets, info = load_nets(path)
    if set(nets) != {"vae", "classifier", "score"}:
        raise ValueError(f"{path}: not a letters checkpoint (nets {sorted(nets)})")
    return nets, info


def _versions() -> dict:
    import PIL

    import rramcim

    return {
        "rramcim": getattr(rramcim, "__version__", "?"),
        "torch": torch.__version__,
        "numpy": np.__version__,
        "pillow": PIL.__version__,
    }

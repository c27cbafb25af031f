"""PRIME image inpainting: training, evaluation, convergence early stop and energy projection.

The network, data and their deviations from the paper are described in
:mod:`rramcim.apps.prime.inpaint_model`. This module adds

* the fixed weights: six layers electroformed on 512 x 512-cell macros of the device model
  (:func:`form_inpaint_arrays`, macro ids ``100 * (10 + layer) + i``, i.e. keyed apart from the
  classification app's layers 0..2);
* training (:func:`train_inpaint`, ``rramcim train inpaint``): AdamW, lr 1e-3, weight decay
  1e-3 (paper), on the mask scores, biases, tdBN, output gain and prior/posterior weights,
  cosine annealing over all batches, loss ``MSE(x_hat_T, clean) + MMD`` (PAPERS.md §1.3,
  weight 1), 100 epochs of batch 32 (paper: 150 epochs of batch 250 on 60k MNIST digits);
  no scheduled sampling. Measured alternatives (test PSNR of the masked square / whole
  image): lr 3e-3 for 40 epochs 17.44 / 18.91 dB, for 60 epochs 17.75 / 19.24 dB; the
  default 17.92 / 19.23 dB in 494 s on one core shared with other jobs. And the local digit
  classifier of the score (:func:`train_classifier`, 99.2 % test accuracy, 3 s);
* evaluation (:func:`run_inpaint_evaluation`, ``rramcim eval inpaint``, called by
  ``rramcim sim``) from the shipped assets, no training.

Metrics (all on the 359 test digits):

* PSNR with peak 2 (pixel range [-1, 1]): ``10 log10(4 / MSE)`` per image, then the mean over
  images; of the masked 6 x 6 square and of the whole 16 x 16 image.
* Classifier-based score (local digit classifier, not Inception-v3): the Inception-Score
  formula ``exp(E_x KL(p(y|x) || p(y)))`` with ``p(y|x)`` from :class:`DigitClassifier`
  trained on the clean training digits, one split over the whole test set (range 1 .. 10).
* Baselines of the masked square: the masked input itself (-1), the mean training image, and a
  1-nearest-neighbour fill (the training image closest on the visible pixels).
* Convergence early stop (PAPERS.md §1.5): ``m_t = sum |x_t - x_{t-1}| / 100``, stop at ``t``
  when ``m_t < m_{t-1} < m_{t-2}`` and ``m_t < thr``. Evaluated bit-exactly with the golden
  model of ``cim_early_stop`` (:func:`rramcim.golden.early_stop.run_convergence`) on 8-bit
  pixels (``PIX_W = 8``, ``PIX_FRAC = 7``: Q0.7, LSB 1/128, saturating at 127/128) and with
  the float rule on the float reconstructions (the two differ only through the rounding of
  the pixels: 95 % equal stop steps with Q0.7, 99 % with 10-bit and all with 12-bit pixels,
  measured on the shipped network). Load saving = ``1 - mean(stop step) / T``.
  The paper's ``thr = 0.2`` belongs to 32 x 32 MNIST; two scalings are reported:

  - *ink* (the primary one, :func:`ink_threshold`): the background sits at the ``tanh``
    saturation and hardly changes, so ``m_t`` is a sum over the digit's ink; keeping the
    change per unit of ink gives ``0.2 * ink_digits / ink_MNIST32``, with ink = mean pixel
    intensity in [0, 1] times pixels: ``0.1307 * 1024`` for MNIST resized to 32 x 32 (0.1307
    is MNIST's mean intensity, the usual normalisation constant; resizing keeps the mean)
    and ``0.326 * 256`` for the 16 x 16 digits (training split): ``thr = 0.125``;
  - *per pixel* (:func:`scaled_threshold`): the same mean change per pixel,
    ``0.2 * 256 / 1024 = 0.05``; it ignores that the digits have 2.5 times MNIST's ink
    share.

  A sweep over thresholds is reported with both.
* Energy (:func:`energy_projection`): see its docstring for every assumption.

Randomness: the latent Bernoulli draws of test sample ``i`` at step ``t``, channel ``l`` are
``rramcim.rng.uniform(make_key(seed, "inpaint_latent"), (i * T + t) * latent + l)``, so a
sample's result does not depend on its batch.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as nnf

from rramcim.analog.crossbar import CrossbarConfig, ReadStats
from rramcim.analog.tiling import TiledCrossbar, plan_tiles
from rramcim.apps.prime.inpaint_model import (
    PAPER_SCALE,
    PAPER_SIGMA,
    DigitClassifier,
    InpaintModelConfig,
    LayerSpec,
    PrunedFSVAE,
    apply_mask,
    inpaint_data,
    mmd_loss,
    region_mask,
)
from rramcim.threads import torch_threads

ASSETS = Path(__file__).resolve().parents[2] / "assets"
ASSET = ASSETS / "prime_inpaint.npz"
"""Shipped inpainting checkpoint (reproduced by ``rramcim train inpaint``)."""
CLASSIFIER_ASSET = ASSETS / "prime_inpaint_classifier.npz"
"""Shipped local digit classifier of the score (reproduced by ``rramcim train inpaint``)."""

LAYER_BASE = 10
"""Pruned layer ``i`` is formed on macros ``100 * (LAYER_BASE + i) + j``."""
MACRO = CrossbarConfig(rows=512, cols=256, n_adc=32, adc_bits=8)
"""Macro geometry (the 40 nm 512 x 512-cell macro, as the classification app)."""

PIX_W = 8
"""Pixel width of the early-stop block's image buffer, bits (signed)."""
PIX_FRAC = 7
"""Fractional bits of a pixel (Q0.7)."""
PAPER_THR = 0.2
"""The paper's convergence threshold on ``sum|dx| / 100`` for 32 x 32 images."""
PAPER_PIX = 1024
"""Pixels of the paper's images (32 x 32)."""
PAPER_GAIN = 62.5
"""The paper's energy-efficiency gain for inpainting (PAPERS.md §1.8)."""
PAPER_LOAD_SAVING = 0.125
"""The paper's computational-load saving for inpainting."""
IN_BITS_FIRST = 8
"""Bits of the real-valued input of the first layer (two's complement, bit-serial)."""
PSNR_PEAK = 2.0
"""Peak-to-peak pixel range of the PSNR ([-1, 1])."""


@dataclass(frozen=True)
class InpaintTrainConfig:
    """Training configuration.

    Attributes:
        model: network geometry.
        epochs: training epochs, >= 1.
        batch: batch size, >= 1.
        lr: AdamW learning rate (paper 1e-3), > 0.
        weight_decay: AdamW weight decay (paper 1e-3), >= 0.
        mmd_weight: weight of the MMD term, >= 0.
        seed: seed of the forming (the random weights), of the initialisation and of training.
        device: device preset of the formed macros.
        clf_epochs: epochs of the local digit classifier, >= 1.
        threads: torch CPU threads, >= 1 (1: on two cores shared with other jobs, two
            threads ran 20-40 times slower than one, measured).
    """

    model: InpaintModelConfig = field(default_factory=InpaintModelConfig)
    epochs: int = 100
    batch: int = 32
    lr: float = 1e-3
    weight_decay: float = 1e-3
    mmd_weight: float = 1.0
    seed: int = 0
    device: str = "rram_40nm"
    clf_epochs: int = 30
    threads: int = 1

    def __post_init__(self) -> None:
        if isinstance(self.model, dict):
            object.__setattr__(self, "model", InpaintModelConfig(**self.model))
        for name in ("epochs", "batch", "clf_epochs", "threads"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"InpaintTrainConfig.{name} = {v!r} must be an int >= 1")
        if not (math.isfinite(self.lr) and self.lr > 0):
            raise ValueError(f"InpaintTrainConfig.lr = {self.lr!r} must be > 0")
        for name in ("weight_decay", "mmd_weight"):
            v = getattr(self, name)
            if not (math.isfinite(v) and v >= 0):
                raise ValueError(f"InpaintTrainConfig.{name} = {v!r} must be >= 0")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise ValueError(f"InpaintTrainConfig.seed = {self.seed!r} must be an int >= 0")


# ------------------------------------------------------------------------------------------
# fixed weights
# ------------------------------------------------------------------------------------------


def weight_scale(device: str = "rram_40nm") -> float:
    """Software scale (weight per µS): ``0.003 * 6.91593 / sigma_dG``, ``sigma_dG`` the nominal
    std of ``G+ - G-`` of two formed cells, ``sqrt(2) g_formed_std`` (µS)."""
    from rramcim.analog.device import load_device

    sigma_uS = math.sqrt(2.0) * load_device(device).g_formed_std_S * 1e6
    return PAPER_SCALE * PAPER_SIGMA / sigma_uS


def form_inpaint_arrays(
    cfg: InpaintModelConfig, seed: int = 0, device: str = "rram_40nm"
) -> list[TiledCrossbar]:
    """Electroform the macros of the six pruned layers (deterministic in ``seed``)."""
    from rramcim.analog.device import load_device
    from rramcim.apps.prime.arrays import form_layer

    dev = load_device(device)
    return [
        form_layer(LAYER_BASE + i, s.fan_in, s.cols, MACRO, dev, seed)
        for i, s in enumerate(cfg.layer_specs())
    ]


def build_model(
    cfg: InpaintModelConfig, seed: int = 0, device: str = "rram_40nm"
) -> tuple[PrunedFSVAE, list[TiledCrossbar]]:
    """The network on the formed conductances of ``seed`` (fresh masks) and the arrays."""
    arrays = form_inpaint_arrays(cfg, seed, device)
    dg = [(a.conductance_matrix_S() * 1e6).float() for a in arrays]
    # nn.Module initialisers (scores, MLPs) draw from torch's global generator: seed a forked
    # copy so that the caller's random state is left as it was
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        net = PrunedFSVAE(dg, cfg, weight_scale(device))
    return net, arrays


def latent_noise(seed: int, sample_ids: np.ndarray, cfg: InpaintModelConfig) -> torch.Tensor:
    """Keyed uniforms ``[N, T, latent]`` of the Bernoulli latent (module docstring)."""
    from rramcim import rng

    T, L = cfg.steps, cfg.latent
    ids = torch.as_tensor(np.asarray(sample_ids, dtype=np.int64))
    ctr = (ids.reshape(-1, 1, 1) * T + torch.arange(T).reshape(1, T, 1)) * L + torch.arange(
        L
    ).reshape(1, 1, L)
    return (
        rng.uniform(rng.make_key(seed, "inpaint_latent"), ctr.reshape(-1))
        .reshape(ids.numel(), T, L)
        .float()
    )


# ------------------------------------------------------------------------------------------
# metrics
# ------------------------------------------------------------------------------------------


def psnr(x: torch.Tensor, ref: torch.Tensor, where: torch.Tensor | None = None) -> torch.Tensor:
    """Per-image PSNR (dB, peak 2) of ``x`` against ``ref`` ``[N, ..., px, px]``, over the pixels
    where ``where [px, px]`` is True (all pixels if None)."""
    d = (x - ref) ** 2
    if where is not None:
        d = d[..., where]
    mse = d.reshape(d.shape[0], -1).mean(1).clamp_min(1e-12)
    return 10 * torch.log10(PSNR_PEAK**2 / mse)


def classifier_score(clf: DigitClassifier, x: torch.Tensor) -> float:
    """``exp(E_x KL(p(y|x) || p(y)))`` with the local classifier (not Inception-v3)."""
    with torch.no_grad():
        p = torch.softmax(clf(x.reshape(-1, 1, *x.shape[-2:])), 1).double()
    py = p.mean(0, keepdim=True)
    kl = (p * (torch.log(p.clamp_min(1e-30)) - torch.log(py.clamp_min(1e-30)))).sum(1)
    return float(torch.exp(kl.mean()))


def scaled_threshold(n_pix: int, thr: float = PAPER_THR) -> float:
    """The paper's threshold (on ``sum|dx| / 100`` over 1024 pixels) at the same mean change
    per pixel for ``n_pix`` pixels: ``thr * n_pix / 1024``."""
    return thr * n_pix / PAPER_PIX


MNIST_MEAN_INTENSITY = 0.1307
"""Mean pixel intensity of MNIST in [0, 1] (dataset fact, the usual normalisation mean)."""


def ink_threshold(mean_intensity: float, n_pix: int, thr: float = PAPER_THR) -> float:
    """The paper's threshold at the same change per unit of ink (module docstring):
    ``thr * mean_intensity * n_pix / (0.1307 * 1024)``.

    Args:
        mean_intensity: mean pixel intensity of the images in [0, 1] units.
        n_pix: pixels per image.
        thr: the paper's threshold.
    """
    if not (0 < mean_intensity <= 1) or n_pix < 1:
        raise ValueError(f"ink_threshold: mean_intensity {mean_intensity}, n_pix {n_pix}")
    return thr * mean_intensity * n_pix / (MNIST_MEAN_INTENSITY * PAPER_PIX)


def quantize_pixels(x: torch.Tensor) -> np.ndarray:
    """Pixels in [-1, 1] -> ``PIX_W``-bit signed codes with ``PIX_FRAC`` fractional bits
    (round half to even, saturated)."""
    lo, hi = -(1 << (PIX_W - 1)), (1 << (PIX_W - 1)) - 1
    return torch.clamp(torch.round(x.double() * (1 << PIX_FRAC)), lo, hi).long().numpy()


def early_stop_steps(
    recon: torch.Tensor, thr: float, golden: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Stop steps (1..T) of the convergence rule on reconstructions ``[N, T, 1, px, px]``.

    Args:
        recon: reconstruction after every step.
        thr: threshold on ``sum|dx| / 100`` (pixel units).
        golden: the bit-exact golden model on Q0.7 pixels (else the float rule on the float
            pixels).

    Returns:
        ``(stop step [N], metric per step [N, T])`` (metric in pixel LSBs for golden, in the
        float units ``sum|dx| / 100`` otherwise; the step-1 entry means "no metric").
    """
    from rramcim.golden.early_stop import (
        EarlyStopConfig,
        EarlyStopRule,
        float_convergence,
        run_convergence,
    )

    N, T = recon.shape[:2]
    flat = recon.reshape(N, T, -1)
    if not golden:
        r = float_convergence(flat.double().numpy(), thr=thr, t_steps=T)
        return r.stop_step, r.maxp
    cfg = EarlyStopConfig(
        n_pix=flat.shape[2], pix_w=PIX_W, t_max=T, rule=EarlyStopRule.CONVERGENCE
    ).with_float(conv_thr=thr, pix_frac=PIX_FRAC)
    r = run_convergence(quantize_pixels(flat), cfg)
    return r.stop_step, r.metric


# ------------------------------------------------------------------------------------------
# classifier
# ------------------------------------------------------------------------------------------


def _shift(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Random shifts of -1..1 px per image and axis (background -1 fills the border)."""
    n, px = x.shape[0], x.shape[-1]
    d = torch.randint(0, 3, (n, 2), generator=gen)
    p = nnf.pad(x, (1, 1, 1, 1), value=-1.0)
    out = torch.empty_like(x)
    for dy in range(3):
        for dx in range(3):
            sel = (d[:, 0] == dy) & (d[:, 1] == dx)
            out[sel] = p[sel, :, dy : dy + px, dx : dx + px]
    return out


def train_classifier(
    cfg: InpaintTrainConfig,
    log=print,  # noqa: ANN001
) -> tuple[DigitClassifier, dict]:
    """Train the local digit classifier on the clean training digits (random 1-px shifts)."""
    x, y, tr, te = inpaint_data(cfg.model)
    with torch.random.fork_rng():  # see build_model
        torch.manual_seed(cfg.seed + 1)
        clf = DigitClassifier(cfg.model.img_px)
    opt = torch.optim.Adam(clf.parameters(), lr=2e-3)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=cfg.clf_epochs)
    gen = torch.Generator().manual_seed(cfg.seed + 1)
    xtr, ytr = x[tr], y[tr]
    t0 = time.perf_counter()
    for _ in range(cfg.clf_epochs):
        clf.train()
        perm = torch.randperm(len(tr), generator=gen)
        for i in range(0, len(tr), 64):
            idx = perm[i : i + 64]
            loss = nnf.cross_entropy(clf(_shift(xtr[idx], gen)), ytr[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        sched.step()
    clf.eval()
    with torch.no_grad():
        acc = float((clf(x[te]).argmax(1) == y[te]).float().mean())
        acc_masked = float((clf(apply_mask(x[te], cfg.model)).argmax(1) == y[te]).float().mean())
    info = {
        "test_acc": acc,
        "test_acc_masked_input": acc_masked,
        "epochs": cfg.clf_epochs,
        "train_time_s": time.perf_counter() - t0,
        "seed": cfg.seed + 1,
        "img_px": cfg.model.img_px,
    }
    log(f"digit classifier: test accuracy {100 * acc:.2f} % ({100 * acc_masked:.2f} % masked)")
    return clf, info


def save_classifier(clf: DigitClassifier, info: dict, path: Path = CLASSIFIER_ASSET) -> None:
    """Write the classifier (float32 state dict + summary)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    sd = {k: v.detach().numpy().astype(np.float32) for k, v in clf.state_dict().items()}
    np.savez_compressed(path, summary=json.dumps(info), **sd)


def load_classifier(path: Path = CLASSIFIER_ASSET) -> tuple[DigitClassifier, dict]:
    """The shipped local digit classifier (eval mode) and its summary."""
    if not Path(path).exists():
        raise FileNotFoundError(f"digit classifier {path} not found: run `rramcim train inpaint`")
    with np.load(path) as z:
        info = json.loads(str(z["summary"]))
        clf = DigitClassifier(int(info["img_px"]))
        clf.load_state_dict({k: torch.from_numpy(z[k]) for k in z.files if k != "summary"})
    clf.eval()
    return clf, info


# ------------------------------------------------------------------------------------------
# inpainting network: train / save / load
# ------------------------------------------------------------------------------------------


def _trained_state(net: PrunedFSVAE) -> dict[str, torch.Tensor]:
    """Everything in the state dict except the fixed weights and the scores (the masks)."""
    return {
        k: v
        for k, v in net.state_dict().items()
        if not (k.endswith(".sm.weight_fixed") or k.endswith(".sm.scores"))
    }


def reconstruct(
    net: PrunedFSVAE,
    x_masked: torch.Tensor,
    sample_ids: np.ndarray,
    seed: int = 0,
    batch: int = 128,
    record: bool = False,
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Reconstructions after every step ``[N, T, 1, px, px]`` (eval mode, keyed latent noise)
    and, with ``record``, the per-sample, per-step spike counts the energy model needs."""
    net.eval()
    outs, stats = [], []
    with torch.no_grad():
        for i in range(0, x_masked.shape[0], batch):
            ids = np.asarray(sample_ids)[i : i + batch]
            o = net(x_masked[i : i + batch], latent_noise(seed, ids, net.cfg), record=record)
            outs.append(o.recon)
            if record:
                stats.append(spike_statistics(net, x_masked[i : i + batch], o.spikes))
    rec = {k: torch.cat([s[k] for s in stats]) for k in stats[0]} if record else {}
    return torch.cat(outs), rec


def train_inpaint(
    cfg: InpaintTrainConfig,
    out_path: Path | None = ASSET,
    clf_path: Path | None = CLASSIFIER_ASSET,
    log=print,  # noqa: ANN001
) -> dict:
    """Train the masks and the trained parameters; write the checkpoints; return a summary.

    Runs with ``cfg.threads`` torch threads (the caller's setting is restored afterwards)."""
    with torch_threads(cfg.threads):
        return _train(cfg, out_path, clf_path, log)


def _train(cfg: InpaintTrainConfig, out_path: Path | None, clf_path: Path | None, log) -> dict:  # noqa: ANN001
    t0 = time.perf_counter()
    clf, clf_info = train_classifier(cfg, log)
    if clf_path is not None:
        save_classifier(clf, clf_info, clf_path)
        log(f"wrote {clf_path}")
    m = cfg.model
    x, _, tr, te = inpaint_data(m)
    net, _ = build_model(m, cfg.seed, cfg.device)
    params = [p for p in net.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    steps_per_epoch = -(-len(tr) // cfg.batch)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=cfg.epochs * steps_per_epoch)
    gen = torch.Generator().manual_seed(cfg.seed)
    xtr = x[tr]
    xin = apply_mask(xtr, m)
    history = []
    t1 = time.perf_counter()
    for ep in range(cfg.epochs):
        net.train()
        perm = torch.randperm(len(tr), generator=gen)
        tot = tot_mse = 0.0
        for i in range(0, len(tr), cfg.batch):
            idx = perm[i : i + cfg.batch]
            noise = torch.rand(idx.numel(), m.steps, m.latent, generator=gen)
            o = net(xin[idx], noise)
            mse = nnf.mse_loss(o.recon[:, -1], xtr[idx])
            loss = mse + cfg.mmd_weight * mmd_loss(o.q, o.p)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            tot += float(loss.detach()) * idx.numel()
            tot_mse += float(mse.detach()) * idx.numel()
        h = {
            "epoch": ep + 1,
            "loss": tot / len(tr),
            "train_mse": tot_mse / len(tr),
            "elapsed_s": time.perf_counter() - t1,
        }
        history.append(h)
        log(
            f"epoch {ep + 1:2d}/{cfg.epochs}  loss {h['loss']:.4f}  mse {h['train_mse']:.4f}  "
            f"{h['elapsed_s']:.0f} s"
        )
    train_s = time.perf_counter() - t1
    rec, _ = reconstruct(net, apply_mask(x[te], m), te, cfg.seed)
    where = region_mask(m)
    summary = {
        "config": asdict(cfg),
        "weight_scale": weight_scale(cfg.device),
        "test_psnr_masked": float(psnr(rec[:, -1], x[te], where).mean()),
        "test_psnr_full": float(psnr(rec[:, -1], x[te]).mean()),
        "n_train": len(tr),
        "n_test": len(te),
        "history": history,
        "vae_train_time_s": train_s,
        "train_time_s": time.perf_counter() - t0,
        "classifier": clf_info,
    }
    log(
        f"test PSNR masked {summary['test_psnr_masked']:.2f} dB, full "
        f"{summary['test_psnr_full']:.2f} dB; {summary['train_time_s']:.0f} s in all"
    )
    if out_path is not None:
        save_inpaint(net, summary, out_path)
        log(f"wrote {out_path}")
    return summary


def save_inpaint(net: PrunedFSVAE, summary: dict, path: Path = ASSET) -> None:
    """Masks (packed bits, crossbar orientation) + trained parameters (float32) + summary."""
    masks = [mk.numpy().astype(bool) for mk in net.masks()]
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        path,
        **{f"mask{i}": np.packbits(mk.ravel()) for i, mk in enumerate(masks)},
        shapes=np.array([mk.shape for mk in masks]),
        **{f"p.{k}": v.detach().numpy().astype(np.float32) for k, v in _trained_state(net).items()},
        summary=json.dumps(summary),
    )


def load_inpaint(
    path: Path = ASSET,
) -> tuple[PrunedFSVAE, list[TiledCrossbar], dict]:
    """Rebuild the trained network from a checkpoint: forming (seed, device of the summary),
    masks and trained parameters. Returns ``(net in eval mode, formed arrays, summary)``."""
    if not Path(path).exists():
        raise FileNotFoundError(
            f"inpainting checkpoint {path} not found: run `rramcim train inpaint`"
        )
    with np.load(path) as z:
        summary = json.loads(str(z["summary"]))
        shapes = [tuple(int(v) for v in s) for s in z["shapes"]]
        masks = [
            torch.from_numpy(np.unpackbits(z[f"mask{i}"])[: s[0] * s[1]].reshape(s).astype(bool))
            for i, s in enumerate(shapes)
        ]
        state = {k[2:]: torch.from_numpy(z[k]) for k in z.files if k.startswith("p.")}
    tcfg = InpaintTrainConfig(**summary["config"])
    net, arrays = build_model(tcfg.model, tcfg.seed, tcfg.device)
    net.set_masks(masks)
    missing = set(_trained_state(net)) - set(state)
    if missing:
        raise ValueError(f"{path}: missing parameters {sorted(missing)}")
    for k, v in state.items():
        if k.endswith("num_batches_tracked"):
            state[k] = v.long()
    net.load_state_dict(state, strict=False)
    net.eval()
    return net, arrays, summary


# ------------------------------------------------------------------------------------------
# energy
# ------------------------------------------------------------------------------------------


def _row_conv(s: torch.Tensor, spec: LayerSpec, per_row: torch.Tensor) -> torch.Tensor:
    """``sum_rows s_row * per_row[row]`` for every read vector of layer ``spec``:
    ``[N, C, H, W]`` spikes -> ``[N, positions]`` (``per_row [fan_in]`` in crossbar row order)."""
    if spec.scatter:
        return (s * per_row.float().reshape(1, -1, 1, 1)).sum(1).flatten(1)
    w = per_row.float().reshape(1, spec.c_in, spec.k, spec.k)
    if spec.kind == "conv":
        out = nnf.conv2d(s, w, None, spec.stride, 1)
    else:  # gather view of the transposed conv (see inpaint_model.PrunedLayer)
        out = nnf.conv_transpose2d(
            s, w.flip(2, 3).transpose(0, 1), None, spec.stride, 1, output_padding=spec.stride - 1
        )
    return out.flatten(1)


def gather_patches(s: torch.Tensor, spec: LayerSpec) -> torch.Tensor:
    """Crossbar row vectors ``[N * positions, fan_in]`` (rows ``(c, ky, kx)``, or ``c`` in
    scatter form) of one conv or transposed-conv layer for inputs ``[N, C, H, W]`` (positions
    row-major per sample)."""
    if spec.scatter:
        return s.permute(0, 2, 3, 1).reshape(-1, s.shape[1])
    if spec.kind == "convT":
        n, c, h, w = s.shape
        z = torch.zeros(n, c, spec.stride * h - 1, spec.stride * w - 1, dtype=s.dtype)
        z[..., :: spec.stride, :: spec.stride] = s
        # padding k - 1 - p = 1 before, 1 + output_padding after
        z = nnf.pad(z, (1, spec.stride, 1, spec.stride))
        u = nnf.unfold(z, spec.k)
    else:
        u = nnf.unfold(s, spec.k, padding=1, stride=spec.stride)
    return u.transpose(1, 2).reshape(-1, u.shape[1])


def spike_statistics(
    net: PrunedFSVAE, x_masked: torch.Tensor, spikes: dict[str, torch.Tensor]
) -> dict[str, torch.Tensor]:
    """Per sample and step: driven rows (summed over read vectors) and spike-driven ADDs of
    every layer on the crossbars (``[N, T]`` each; ``enc0`` ``[N, 1]``: computed once).

    Keys ``rows.<layer>`` (row activations per column group read), ``adds.<layer>`` (input
    spikes x kept fan-out, FSVAE's count). ``enc0`` counts the set bits of the 8 bit planes.
    """
    cfg = net.cfg
    out: dict[str, torch.Tensor] = {}
    specs = {s.name: s for s in cfg.layer_specs()}
    kept = {n: layer.mask_matrix().detach().sum(1) for n, layer in net.pruned.items()}
    ones = {n: torch.ones(s.fan_in) for n, s in specs.items()}
    N, T = x_masked.shape[0], cfg.steps
    # enc0: real-valued input, 8-bit two's complement planes, once per sample
    code = torch.clamp(torch.round(x_masked * 127), -128, 127).long() & 0xFF
    rows0 = torch.zeros(N)
    for b in range(IN_BITS_FIRST):
        plane = ((code >> b) & 1).float()
        rows0 += _row_conv(plane, specs["enc0"], ones["enc0"]).sum(1)
    out["rows.enc0"] = rows0.reshape(N, 1)
    out["muls.enc0"] = (
        _row_conv(torch.ones_like(x_masked), specs["enc0"], kept["enc0"]).sum(1).reshape(N, 1)
    )
    for name in ("enc1", "dec0", "out"):
        s = spikes[name].flatten(0, 1)
        out[f"rows.{name}"] = _row_conv(s, specs[name], ones[name]).sum(1).reshape(N, T)
        out[f"adds.{name}"] = _row_conv(s, specs[name], kept[name]).sum(1).reshape(N, T)
    for name, key in (("bl", "bl"), ("din", "din")):
        s = spikes[key].reshape(N, T, -1)
        out[f"rows.{name}"] = s.sum(2)
        out[f"adds.{name}"] = (s * kept[name]).sum(2)
    for name in ("post1", "post2"):
        s = spikes[name]
        out[f"rows.{name}"] = s.sum(2)
        out[f"adds.{name}"] = s.sum(2) * (cfg.hidden if name == "post1" else cfg.latent)
    return out


def mapped_layers(cfg: InpaintModelConfig) -> list[tuple[str, int, int, int]]:
    """``(name, fan_in, out, read vectors per step)`` of every layer on the crossbars in
    inference: the six pruned layers and the two posterior layers (programmed weights);
    the prior is not used at inference."""
    rows = [(s.name, s.fan_in, s.cols, s.positions) for s in cfg.layer_specs()]
    rows += [("post1", 2 * cfg.latent, cfg.hidden, 1), ("post2", cfg.hidden, cfg.latent, 1)]
    return rows


def dense_macs(cfg: InpaintModelConfig) -> tuple[int, int]:
    """Dense MACs of the digital baseline: ``(first layer, once per sample; every later layer,
    per step)``. Transposed convs are charged as scatter, ``H_in W_in c_in c_out k^2``."""
    first = 0
    per_step = 0
    for s in cfg.layer_specs():
        if s.kind == "convT":
            n = (s.size_out // s.stride) ** 2 * s.c_in * s.c_out * s.k * s.k
        else:
            n = s.positions * s.fan_in * s.c_out
        if s.name == "enc0":
            first = n
        else:
            per_step += n
    per_step += 2 * cfg.latent * cfg.hidden + cfg.hidden * cfg.latent
    return first, per_step


def _layer_read_stats(name: str, fan_in: int, out: int, vectors: float, rows: float, bits: int):  # noqa: ANN202
    """ReadStats counters of ``vectors`` reads-per-vector sets on the tiled layer, with
    ``rows`` driven rows in all (sum over vectors and planes): the macro model's convention
    (one read per (vector, plane, column group); all ``n_adc`` channels of a group converted;
    ``2 * cols`` cells charged per driven row and group read)."""
    plan = plan_tiles(fan_in, out, MACRO)
    if len({p.row_tile for p in plan}) != 1:
        raise ValueError(f"layer {name}: fan-in {fan_in} spans several row tiles")
    groups = sum(p.groups for p in plan)
    reads = vectors * bits * groups
    return {
        "reads": reads,
        "conversions": reads * MACRO.n_adc,
        "row_activations": rows * groups,
        "cell_reads": rows * groups * 2 * MACRO.cols,
    }


def energy_projection(
    cfg: InpaintModelConfig, stats: dict[str, torch.Tensor], stop_step: np.ndarray
) -> dict:
    """Energy per inpainted image on the analogue macros against the A100 baseline.

    Assumptions (returned in ``assumptions``):

    * On chip: the six pruned layers on electroformed macros (pruned pairs RESET) and the two
      posterior layers on write-verified macros (ordinary trained weights); the prior is not
      needed at inference. Digital periphery (tdBN folded into the LIF threshold and current
      scale, LIF updates, sigmoid and Bernoulli sampling, the membrane output layer, the early
      stop) is not charged.
    * Mapping (:class:`LayerSpec`): crossbar rows = fan-in (``c_in*3*3`` for conv and the
      gather-form transposed conv ``dec0``, ``c_in`` for the scatter-form output layer,
      features for linear); one read vector per output pixel (conv, gather), input pixel
      (scatter) or step (linear) at every step, also when no row is driven. Spikes drive
      rows with one binary plane; the first layer's real input is applied as 8 bit planes
      (two's complement) once per image, its current held for all T steps (the input is the
      same at every step).
    * Counters as the macro model's :class:`ReadStats`: one read per (vector, plane, column
      group), every group converts all 32 ADC channels (also the output layer's single
      column), ``2 * 256`` cells charged per driven row and group read. Per-op constants and
      the A100 (19.5 TFLOP/s, 300 W, 1 FLOP per MAC) of :func:`rramcim.cost.default_cost_model`
      (PAPERS.md §3.7 constants of the same 40 nm macro family).
    * Digital baseline: the dense (unpruned) network on the A100, all T steps (and, second
      figure, the same early-stop steps), first layer once per image, transposed convs as
      scatter MACs.
    * With early stop a sample's layers stop after its stop step.
    """
    from rramcim.cost import default_cost_model

    model = default_cost_model()
    N = int(stats["rows.enc0"].shape[0])
    T = cfg.steps
    steps = torch.as_tensor(np.asarray(stop_step), dtype=torch.int64)
    upto = (torch.arange(T).reshape(1, T) < steps.reshape(-1, 1)).float()  # [N, T]
    tot_es: dict[str, float] = {}
    tot_all: dict[str, float] = {}
    per_layer = {}
    for name, fan_in, out, vec in mapped_layers(cfg):
        rows = stats[f"rows.{name}"]
        if name == "enc0":
            a = _layer_read_stats(name, fan_in, out, N * vec, float(rows.sum()), IN_BITS_FIRST)
            b = a
        else:
            a = _layer_read_stats(
                name, fan_in, out, float(upto.sum()) * vec, float((rows * upto).sum()), 1
            )
            b = _layer_read_stats(name, fan_in, out, N * T * vec, float(rows.sum()), 1)
        per_layer[name] = {k: v / N for k, v in b.items()}
        for k in a:
            tot_es[k] = tot_es.get(k, 0.0) + a[k]
            tot_all[k] = tot_all.get(k, 0.0) + b[k]
    first, per_step = dense_macs(cfg)
    mean_steps = float(steps.float().mean())
    macs_all = first + per_step * T
    macs_same = first + per_step * mean_steps

    def _e(c: dict[str, float]) -> tuple[float, dict]:
        oc = ReadStats(**{k: int(round(v)) for k, v in c.items()}).op_counts(0).scaled(1.0 / N)
        e = model.energy(oc)
        return e.total_J, {k: v for k, v in e.components().items() if v}

    e_es, comp_es = _e(tot_es)
    e_all, _ = _e(tot_all)
    adds = sum(float((stats[k] * upto).sum()) for k in stats if k.startswith("adds."))
    adds_all = sum(float(stats[k].sum()) for k in stats if k.startswith("adds."))
    muls = float(stats["muls.enc0"].sum())
    gpu_all = model.baseline_energy(macs_all)
    gpu_same = model.baseline_energy(macs_same)
    return {
        "analog_J_per_image": e_es,
        "analog_J_per_image_all_steps": e_all,
        "analog_components_J": comp_es,
        "gpu_J_per_image_all_steps": gpu_all,
        "gpu_J_per_image_same_steps": gpu_same,
        "gain": gpu_all / e_es,
        "gain_vs_gpu_same_steps": gpu_same / e_es,
        "gain_no_early_stop": gpu_all / e_all,
        "early_stop_energy_saving": 1 - e_es / e_all,
        "paper_gain": PAPER_GAIN,
        "dense_macs_per_image_all_steps": macs_all,
        "synops_adds_per_image": adds / N,
        "synops_adds_per_image_all_steps": adds_all / N,
        "synops_muls_per_image": muls / N,
        "dense_macs_over_synops": macs_all / ((adds + muls) / N),
        "reads_per_image": tot_es["reads"] / N,
        "adc_conversions_per_image": tot_es["conversions"] / N,
        "per_layer_all_steps": per_layer,
        "assumptions": [
            "pruned layers on electroformed 512x512-cell macros (pruned pairs RESET); posterior "
            "MLP on write-verified macros; prior unused at inference",
            "digital periphery (tdBN folded, LIF, sigmoid/Bernoulli, output integrator, early "
            "stop) not charged",
            "one read vector per output pixel (conv, dec0 in gather form), input pixel (output "
            "layer in scatter form) or step (linear) every step, also with no driven row; "
            "spikes = 1 binary plane",
            "first layer: 8-bit two's-complement bit-serial input once per image, current held "
            "for all T steps; the GPU also computes it once",
            "ReadStats convention: all 32 ADC channels of a group converted, 2*256 cells charged "
            "per driven row and group read",
            "per-op constants: rramcim.cost RRAM_40NM_NF (PAPERS.md §3.7); baseline A100 FP32 "
            "19.5 TFLOP/s at 300 W, 1 FLOP/MAC, dense unpruned network, transposed convs as "
            "scatter MACs",
            "gain = A100 energy for all T steps / analogue energy up to each sample's stop step",
        ],
    }


# ------------------------------------------------------------------------------------------
# evaluation
# ------------------------------------------------------------------------------------------

THR_SWEEP = (0.025, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4)
"""Thresholds of the sweep (on ``sum|dx| / 100``), besides the two scaled ones."""


def _nn_fill(x_te: torch.Tensor, x_tr: torch.Tensor, where: torch.Tensor) -> torch.Tensor:
    """1-nearest-neighbour fill: the masked square of the training image closest (L2) on the
    visible pixels."""
    vis = ~where
    a = x_te[:, 0][:, vis]
    b = x_tr[:, 0][:, vis]
    j = torch.cdist(a.double(), b.double()).argmin(1)
    out = x_te.clone()
    out[:, 0][:, where] = x_tr[j][:, 0][:, where]
    return out


def run_inpaint_evaluation(
    n: int | None = None,
    out_dir: str | None = None,
    log=print,  # noqa: ANN001
    *,
    asset: Path = ASSET,
    classifier: Path = CLASSIFIER_ASSET,
) -> dict:
    """Evaluate the shipped inpainting network on the test digits (no training).

    Args:
        n: first ``n`` test digits only (default: all 359).
        out_dir: write ``inpaint.json`` and ``inpaint.png`` there.
        log: printer of the summary lines.
        asset: inpainting checkpoint (default: the shipped one).
        classifier: digit-classifier checkpoint of the score (default: the shipped one).

    Returns:
        The metrics of the module docstring (PSNR in dB, scores in 1..10, energies in J).
    """
    with torch_threads():  # see InpaintTrainConfig.threads
        return _evaluate(n, out_dir, log, asset, classifier)


def _evaluate(n: int | None, out_dir: str | None, log, asset: Path, classifier: Path) -> dict:  # noqa: ANN001
    t0 = time.perf_counter()
    net, _, summary = load_inpaint(asset)
    clf, clf_info = load_classifier(classifier)
    tcfg = InpaintTrainConfig(**summary["config"])
    m = tcfg.model
    x, _, tr, te = inpaint_data(m)
    te = te if n is None else te[: int(n)]
    clean = x[te]
    masked = apply_mask(clean, m)
    where = region_mask(m)
    rec, stats = reconstruct(net, masked, te, tcfg.seed, record=True)
    T = m.steps
    mean_ink = float(((x[tr] + 1) / 2).mean())
    thr = ink_threshold(mean_ink, m.n_pix)
    thr_pix = scaled_threshold(m.n_pix)
    stop_g, _ = early_stop_steps(rec, thr, golden=True)
    stop_p, _ = early_stop_steps(rec, thr_pix, golden=True)
    stop_f, _ = early_stop_steps(rec, thr, golden=False)
    rows = torch.arange(len(te))
    rec_es = rec[rows, torch.as_tensor(stop_g - 1)]
    final = rec[:, -1]
    psnr_steps = [float(psnr(rec[:, t], clean, where).mean()) for t in range(T)]
    mean_img = x[tr].mean(0, keepdim=True)
    fill_mean = masked.clone()
    fill_mean[..., where] = mean_img.expand_as(masked)[..., where]
    fill_nn = _nn_fill(clean, x[tr], where)
    sweep = []
    for th in sorted({*THR_SWEEP, thr, thr_pix}):
        st, _ = early_stop_steps(rec, th, golden=True)
        r_es = rec[rows, torch.as_tensor(st - 1)]
        sweep.append(
            {
                "thr": th,
                "mean_steps": float(st.mean()),
                "load_saving": 1 - float(st.mean()) / T,
                "psnr_masked": float(psnr(r_es, clean, where).mean()),
                "score": classifier_score(clf, r_es),
            }
        )
    # bit-exactness of the golden rule: the float rule on the same Q0.7 pixels must agree
    q = torch.from_numpy(quantize_pixels(rec.reshape(len(te), T, -1))).double() / (1 << PIX_FRAC)
    stop_fq, _ = early_stop_steps(q.reshape(rec.shape), thr, golden=False)
    mean_steps = float(stop_g.mean())
    res = {
        "n_test": len(te),
        "T": T,
        "img_px": m.img_px,
        "mask": f"centre {m.mask_px}x{m.mask_px} of {m.img_px}x{m.img_px} set to -1",
        "psnr_peak": PSNR_PEAK,
        "psnr_masked_all_steps": psnr_steps[-1],
        "psnr_masked_early_stop": float(psnr(rec_es, clean, where).mean()),
        "psnr_full": float(psnr(final, clean).mean()),
        "psnr_full_early_stop": float(psnr(rec_es, clean).mean()),
        "psnr_masked_per_step": psnr_steps,
        "psnr_masked_baseline_masked_input": float(psnr(masked, clean, where).mean()),
        "psnr_masked_baseline_mean_fill": float(psnr(fill_mean, clean, where).mean()),
        "psnr_masked_baseline_nn_fill": float(psnr(fill_nn, clean, where).mean()),
        "psnr_full_baseline_masked_input": float(psnr(masked, clean).mean()),
        "score_name": "classifier-based score (local digit classifier, not Inception-v3)",
        "score_recon": classifier_score(clf, final),
        "score_recon_early_stop": classifier_score(clf, rec_es),
        "score_clean": classifier_score(clf, clean),
        "score_masked_input": classifier_score(clf, masked),
        "score_nn_fill": classifier_score(clf, fill_nn),
        "classifier_test_acc": clf_info["test_acc"],
        "early_stop_threshold": thr,
        "early_stop_threshold_rule": (
            f"paper thr {PAPER_THR} on sum|dx|/100 for MNIST 32x32, scaled to the same change "
            f"per unit of ink: {PAPER_THR} * ({mean_ink:.4f} * {m.n_pix}) / "
            f"({MNIST_MEAN_INTENSITY} * {PAPER_PIX})"
        ),
        "early_stop_threshold_per_pixel": thr_pix,
        "mean_steps_per_pixel_threshold": float(stop_p.mean()),
        "load_saving_per_pixel_threshold": 1 - float(stop_p.mean()) / T,
        "pixel_format": f"PIX_W={PIX_W}, PIX_FRAC={PIX_FRAC} (Q0.7, saturating)",
        "mean_steps": mean_steps,
        "load_saving": 1 - mean_steps / T,
        "paper_load_saving": PAPER_LOAD_SAVING,
        "mean_steps_float": float(stop_f.mean()),
        "load_saving_float": 1 - float(stop_f.mean()) / T,
        "golden_float_stop_agreement": float((stop_g == stop_f).mean()),
        "golden_float_mean_abs_step_difference": float(np.abs(stop_g - stop_f).mean()),
        "golden_equals_float_on_q07_pixels": bool((stop_g == stop_fq).all()),
        "stop_step_histogram": np.bincount(stop_g, minlength=T + 1)[1:].tolist(),
        "threshold_sweep": sweep,
        "train_summary": {
            k: summary[k] for k in ("train_time_s", "vae_train_time_s", "test_psnr_masked")
        },
    }
    res["energy"] = energy_projection(m, stats, stop_g)
    res["eval_time_s"] = time.perf_counter() - t0
    _log_table(res, log)
    if out_dir:
        p = Path(out_dir)
        p.mkdir(parents=True, exist_ok=True)
        (p / "inpaint.json").write_text(json.dumps(res, indent=2, default=float))
        _plot(res, masked, rec, rec_es, clean, stop_g, p / "inpaint.png")
        res["figure"] = str(p / "inpaint.png")
    return res


def _log_table(res: dict, log) -> None:  # noqa: ANN001
    e = res["energy"]
    rows = [
        ("test digits", f"{res['n_test']} ({res['mask']})"),
        ("PSNR masked, all T steps", f"{res['psnr_masked_all_steps']:.2f} dB"),
        ("PSNR masked, early stop", f"{res['psnr_masked_early_stop']:.2f} dB"),
        (
            "PSNR masked: -1 / mean / 1-NN fill",
            (
                f"{res['psnr_masked_baseline_masked_input']:.2f} / "
                f"{res['psnr_masked_baseline_mean_fill']:.2f} / "
                f"{res['psnr_masked_baseline_nn_fill']:.2f} dB"
            ),
        ),
        ("PSNR full image", f"{res['psnr_full']:.2f} dB"),
        (
            "score recon / early stop",
            f"{res['score_recon']:.2f} / {res['score_recon_early_stop']:.2f}",
        ),
        (
            "score clean / masked input",
            f"{res['score_clean']:.2f} / {res['score_masked_input']:.2f}",
        ),
        ("mean stop step (golden)", f"{res['mean_steps']:.2f} of {res['T']}"),
        (
            "load saving (paper 12.5 %)",
            (
                f"{100 * res['load_saving']:.1f} % (thr {res['early_stop_threshold']:.3f}); "
                f"{100 * res['load_saving_per_pixel_threshold']:.1f} % "
                f"(thr {res['early_stop_threshold_per_pixel']:.3f})"
            ),
        ),
        ("golden vs float stop agreement", f"{100 * res['golden_float_stop_agreement']:.1f} %"),
        ("energy gain vs A100 (paper 62.5x)", f"{e['gain']:.1f} x"),
        ("eval time", f"{res['eval_time_s']:.1f} s"),
    ]
    w = max(len(k) for k, _ in rows)
    log("PRIME inpainting (pruned FSVAE, digits stand-in; score: local digit classifier)")
    for k, v in rows:
        log(f"  {k:<{w}}  {v}")


def _plot(res, masked, rec, rec_es, clean, stop, path) -> None:  # noqa: ANN001
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    k = min(8, masked.shape[0])
    fig = plt.figure(figsize=(12, 4.6))
    left, right = fig.subfigures(1, 2, width_ratios=[1.35, 1])
    axs = left.subplots(4, k, squeeze=False)
    left.subplots_adjust(left=0.1, right=0.99, top=0.9, bottom=0.02, wspace=0.06, hspace=0.12)
    names = ("masked input", f"recon, T={res['T']}", "recon, early stop", "clean")
    rows = (masked, rec[:, -1], rec_es, clean)
    for r, (imgs, name) in enumerate(zip(rows, names, strict=True)):
        for c in range(k):
            ax = axs[r, c]
            ax.imshow(imgs[c, 0].numpy(), cmap="gray", vmin=-1, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
            if c == 0:
                ax.set_ylabel(name, fontsize=8)
            if r == 2:
                ax.set_title(f"stop t={int(stop[c])}", fontsize=7, pad=2)
    left.suptitle("first test digits", fontsize=9)
    ax = right.subplots()
    t = np.arange(1, res["T"] + 1)
    ax.plot(t, res["psnr_masked_per_step"], "o-", ms=3, label="reconstruction after t steps")
    for key, lab, st in (
        ("psnr_masked_baseline_nn_fill", "1-NN fill", ":"),
        ("psnr_masked_baseline_mean_fill", "mean-image fill", "--"),
        ("psnr_masked_baseline_masked_input", "masked input", "-."),
    ):
        ax.axhline(res[key], color="grey", ls=st, lw=1, label=lab)
    ax.axvline(res["mean_steps"], color="C3", lw=1, label=f"mean stop step {res['mean_steps']:.2f}")
    ax.set(xlabel="step t", ylabel="PSNR of the masked square (dB, peak 2)")
    ax.set_title("PSNR vs step (test digits)", fontsize=9)
    ax.legend(fontsize=7, loc="lower right")
    right.subplots_adjust(left=0.16, right=0.97, top=0.9, bottom=0.13)
    fig.savefig(path, dpi=110)
    plt.close(fig)

"""Quality metrics of the generated samples (PAPERS.md §4.4).

* :func:`hist_kl`: KL(P_data || Q_gen) of 2-D histograms, 50 x 50 bins over a stated range
  (default [-1, 1]^2, which holds the ring and the 1/8-scaled letter latents). Each histogram
  is divided by its number of samples (points outside the range count as lost mass), then
  every bin gets a floor ``eps`` = 1e-6 and is renormalised: ``p = (c / N + eps) / sum(..)``.
  KL = sum_bins p log(p / q). The floor bounds the penalty of a data bin the generated set
  missed (1e-6 is 1 % of one sample's mass at 10 000 samples). Two independent finite sets
  from the same distribution give a positive value (the finite-sample floor; the evaluation
  reports it next to the models' values).
* :func:`hist_l2`: the paper's ``calDistance``: the L2 norm of the difference of the two
  histograms, 100 x 100 bins over [-1, 1]^2, each normalised to unit sum (divided by its
  number of samples).
* :func:`letter_accuracy`: latents (in the diffusion's 1/8 scale) are multiplied by the
  latent scale, decoded by the VAE and classified; the fraction classified as the requested
  class, per class.
"""

from __future__ import annotations

import numpy as np
import torch

from rramcim.apps.diffusion.nets import ConvVAE, LetterClassifier

KL_BINS = 50
"""Bins per axis of :func:`hist_kl`."""
KL_EPS = 1e-6
"""Probability floor of every bin in :func:`hist_kl`."""
L2_BINS = 100
"""Bins per axis of :func:`hist_l2`."""
RANGE = ((-1.0, 1.0), (-1.0, 1.0))
"""Default histogram range of both metrics."""


def _hist(x: np.ndarray | torch.Tensor, bins: int, rng_: tuple) -> np.ndarray:
    a = np.asarray(x, dtype=np.float64)
    if a.ndim != 2 or a.shape[1] != 2 or a.shape[0] < 1:
        raise ValueError(f"metrics: samples must have shape [N >= 1, 2], got {a.shape}")
    h, _, _ = np.histogram2d(a[:, 0], a[:, 1], bins=bins, range=rng_)
    return h / a.shape[0]


def hist_kl(
    data: np.ndarray | torch.Tensor,
    gen: np.ndarray | torch.Tensor,
    bins: int = KL_BINS,
    range_: tuple = RANGE,
    eps: float = KL_EPS,
) -> float:
    """KL(P_data || Q_gen) of 2-D histograms (nats; see the module docstring)."""
    if not eps > 0:
        raise ValueError(f"hist_kl: eps = {eps!r} must be > 0")
    p = _hist(data, bins, range_) + eps
    q = _hist(gen, bins, range_) + eps
    p /= p.sum()
    q /= q.sum()
    return float(np.sum(p * np.log(p / q)))


def hist_l2(
    data: np.ndarray | torch.Tensor,
    gen: np.ndarray | torch.Tensor,
    bins: int = L2_BINS,
    range_: tuple = RANGE,
) -> float:
    """L2 norm of the difference of the normalised 2-D histograms."""
    return float(np.linalg.norm(_hist(data, bins, range_) - _hist(gen, bins, range_)))


def classify(classifier: LetterClassifier, images: torch.Tensor, batch: int = 2048) -> torch.Tensor:
    """Predicted class [N] of images [N, 1, 12, 12]."""
    out = []
    with torch.no_grad():
        for i in range(0, images.shape[0], batch):
            out.append(classifier(images[i : i + batch]).argmax(dim=1))
    return torch.cat(out) if out else torch.zeros(0, dtype=torch.int64)


def letter_accuracy(
    vae: ConvVAE,
    classifier: LetterClassifier,
    latents: torch.Tensor,
    classes: torch.Tensor,
    latent_scale: float = 8.0,
) -> dict:
    """Accuracy of decoded latents per requested class.

    Args:
        vae: decoder.
        classifier: letter classifier.
        latents: generated latents [N, 2] in the diffusion's scale (VAE latent / latent_scale).
        classes: requested class per sample [N].
        latent_scale: multiplies the latents before decoding (8).

    Returns:
        ``{"per_class": [acc of class 0, 1, ...], "mean": overall accuracy, "n": [count per
        class]}``, accuracies as fractions.
    """
    classes = torch.as_tensor(classes, dtype=torch.int64)
    with torch.no_grad():
        imgs = vae.decode(torch.as_tensor(latents, dtype=torch.float32) * latent_scale)
    pred = classify(classifier, imgs)
    per, cnt = [], []
    for k in range(classifier.n_classes):
        m = classes == k
        cnt.append(int(m.sum()))
        per.append(float((pred[m] == k).float().mean()) if cnt[-1] else float("nan"))
    return {"per_class": per, "mean": float((pred == classes).float().mean()), "n": cnt}

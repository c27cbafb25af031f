"""Data of the two diffusion tasks (PAPERS.md §4.4, §6.4): the ring and the 'HKU' letters.

Ring: radius r ~ N(0.7, 0.04^2) (0.04 is the standard deviation), angle phi ~ U(0, 2 pi),
x = (r cos phi, r sin phi). Keyed: sample i of a set uses counter i of the keys
``(seed, "ring", purpose, "radius")`` and ``(seed, "ring", purpose, "angle")``.

Letters (stand-in for EMNIST 'H', 'K', 'U', which is not available offline): each glyph is
drawn with Pillow's built-in default font (``ImageFont.load_default(size=font_px)``, the
FreeType face Pillow ships) on a ``render_px`` square canvas, white on black, centred, with a
random stroke width; an affine jitter (rotation, isotropic scale, horizontal shear, shift)
about the canvas centre is applied with bicubic resampling and the image is area-averaged
down to ``image_px`` x ``image_px`` (12 x 12, the paper's crop size); pixel values in [0, 1].
Every jitter parameter is a keyed uniform variate of ``(seed, "letters", class, name)`` with
counter = the sample's index in its class, so the set is a pure function of the config.
The split is fixed: in every class the first ``n_train`` samples are the training set, the
rest the test set.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from functools import lru_cache

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont

from rramcim import rng

CLASSES = ("H", "K", "U")
"""Letters of the conditional task; the class index is the position in this tuple."""

RING_RADIUS = 0.7
"""Mean ring radius."""
RING_RADIUS_STD = 0.04
"""Standard deviation of the ring radius."""


def ring_samples(n: int, seed: int = 0, purpose: str = "train") -> torch.Tensor:
    """``n`` ring points [n, 2] (float32), keyed by ``(seed, purpose)``.

    Args:
        n: number of points, >= 1.
        seed: data seed.
        purpose: names the set (``"train"``, ``"test"``, ``"reference"``, ...); different
            purposes give independent sets.
    """
    if int(n) != n or n < 1:
        raise ValueError(f"ring_samples: n = {n!r} must be an integer >= 1")
    c = torch.arange(int(n), dtype=torch.int64)
    r = RING_RADIUS + RING_RADIUS_STD * rng.normal(rng.make_key(seed, "ring", purpose, "radius"), c)
    phi = 2.0 * math.pi * rng.uniform(rng.make_key(seed, "ring", purpose, "angle"), c)
    return torch.stack((r * torch.cos(phi), r * torch.sin(phi)), dim=1).float()


@dataclass(frozen=True)
class LetterConfig:
    """The rendered letter set.

    Attributes:
        n_per_class: images per class, >= 2.
        n_train: training images per class (the first ``n_train`` of each class),
            1 <= n_train < n_per_class.
        image_px: output side, pixels, >= 4 (12 in the paper).
        render_px: canvas side before down-sampling, pixels, a multiple of ``image_px``.
        font_px: font size on the canvas, pixels, in [4, render_px].
        stroke_px: (min, max) stroke width on the canvas, integer pixels, 0 <= min <= max.
        rot_deg: rotation drawn from U(-rot_deg, rot_deg), degrees, in [0, 45].
        scale: (min, max) isotropic scale, 0 < min <= max <= 2.
        shear: horizontal shear drawn from U(-shear, shear) (dimensionless), in [0, 1).
        shift_px: shift of each axis drawn from U(-shift_px, shift_px), output pixels, in
            [0, image_px / 4].
        seed: keys every jitter parameter.
    """

    n_per_class: int = 1000
    n_train: int = 800
    image_px: int = 12
    render_px: int = 48
    font_px: int = 44
    stroke_px: tuple[int, int] = (1, 3)
    rot_deg: float = 12.0
    scale: tuple[float, float] = (0.85, 1.1)
    shear: float = 0.2
    shift_px: float = 1.0
    seed: int = 0

    def __post_init__(self) -> None:
        if int(self.n_per_class) != self.n_per_class or self.n_per_class < 2:
            raise ValueError(f"LetterConfig.n_per_class = {self.n_per_class!r} must be >= 2")
        if not 1 <= self.n_train < self.n_per_class:
            raise ValueError(f"LetterConfig.n_train = {self.n_train!r} must be in [1, n_per_class)")
        if self.image_px < 4 or self.render_px % self.image_px:
            raise ValueError(
                f"LetterConfig: image_px = {self.image_px!r} must be >= 4 and divide "
                f"render_px = {self.render_px!r}"
            )
        if not 4 <= self.font_px <= self.render_px:
            raise ValueError(f"LetterConfig.font_px = {self.font_px!r} must be in [4, render_px]")
        lo, hi = self.stroke_px
        if int(lo) != lo or int(hi) != hi or not 0 <= lo <= hi:
            raise ValueError(f"LetterConfig.stroke_px = {self.stroke_px!r}: 0 <= min <= max")
        if not 0 <= self.rot_deg <= 45:
            raise ValueError(f"LetterConfig.rot_deg = {self.rot_deg!r} must be in [0, 45]")
        if not 0 < self.scale[0] <= self.scale[1] <= 2:
            raise ValueError(f"LetterConfig.scale = {self.scale!r}: 0 < min <= max <= 2")
        if not 0 <= self.shear < 1:
            raise ValueError(f"LetterConfig.shear = {self.shear!r} must be in [0, 1)")
        if not 0 <= self.shift_px <= self.image_px / 4:
            raise ValueError(
                f"LetterConfig.shift_px = {self.shift_px!r} must be in [0, image_px / 4]"
            )

    def to_json(self) -> dict:
        """JSON-able dict."""
        d = asdict(self)
        d["stroke_px"] = list(self.stroke_px)
        d["scale"] = list(self.scale)
        return d

    @staticmethod
    def from_json(d: dict) -> LetterConfig:
        """Inverse of :meth:`to_json`."""
        d = dict(d)
        d["stroke_px"] = tuple(int(v) for v in d["stroke_px"])
        d["scale"] = tuple(float(v) for v in d["scale"])
        return LetterConfig(**d)


@dataclass(frozen=True)
class LetterSet:
    """Rendered letters: images [N, 1, px, px] float32 in [0, 1] and labels [N] int64."""

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor


@lru_cache(maxsize=4)
def _font(size: int) -> ImageFont.FreeTypeFont:
    font = ImageFont.load_default(size=size)
    if not isinstance(font, ImageFont.FreeTypeFont):  # pragma: no cover - Pillow without FreeType
        raise RuntimeError("letters: Pillow's default font needs FreeType support")
    return font


def render_letter(
    letter: str,
    cfg: LetterConfig,
    stroke_px: int,
    rot_deg: float,
    scale: float,
    shear: float,
    shift_px: tuple[float, float],
) -> np.ndarray:
    """One glyph image [image_px, image_px] float32 in [0, 1] for explicit jitter parameters.

    The affine map (canvas coordinates about the centre c) sends a glyph point p to
    ``c + scale * R(rot) S(shear) (p - c) + shift * render_px / image_px``.
    """
    R = cfg.render_px
    img = Image.new("L", (R, R), 0)
    draw = ImageDraw.Draw(img)
    c = R / 2.0
    draw.text(
        (c, c),
        letter,
        fill=255,
        font=_font(cfg.font_px),
        anchor="mm",
        stroke_width=int(stroke_px),
        stroke_fill=255,
    )
    a = math.radians(rot_deg)
    rot = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
    fwd = scale * rot @ np.array([[1.0, shear], [0.0, 1.0]])
    inv = np.linalg.inv(fwd)
    k = R / cfg.image_px
    off = np.array([c + shift_px[0] * k, c + shift_px[1] * k])
    # PIL's AFFINE maps each output pixel (x, y) to the input point inv (x - off) + c
    b = np.array([c, c]) - inv @ off
    coeffs = (inv[0, 0], inv[0, 1], b[0], inv[1, 0], inv[1, 1], b[1])
    img = img.transform((R, R), Image.Transform.AFFINE, coeffs, Image.Resampling.BICUBIC)
    img = img.resize((cfg.image_px, cfg.image_px), Image.Resampling.BOX)
    return np.asarray(img, dtype=np.float32) / 255.0


def _jitter(cfg: LetterConfig, cls: int, name: str, n: int, lo: float, hi: float) -> np.ndarray:
    u = rng.uniform(rng.make_key(cfg.seed, "letters", cls, name), torch.arange(n))
    return (lo + (hi - lo) * u).numpy()


def render_class(cfg: LetterConfig, cls: int) -> np.ndarray:
    """All ``cfg.n_per_class`` images of class ``cls`` [n, px, px] (float32)."""
    n = cfg.n_per_class
    lo, hi = cfg.stroke_px
    stroke = np.floor(_jitter(cfg, cls, "stroke", n, lo, hi + 1)).astype(int).clip(lo, hi)
    rot = _jitter(cfg, cls, "rot", n, -cfg.rot_deg, cfg.rot_deg)
    sc = _jitter(cfg, cls, "scale", n, *cfg.scale)
    sh = _jitter(cfg, cls, "shear", n, -cfg.shear, cfg.shear)
    dx = _jitter(cfg, cls, "dx", n, -cfg.shift_px, cfg.shift_px)
    dy = _jitter(cfg, cls, "dy", n, -cfg.shift_px, cfg.shift_px)
    return np.stack(
        [
            render_letter(CLASSES[cls], cfg, stroke[i], rot[i], sc[i], sh[i], (dx[i], dy[i]))
            for i in range(n)
        ]
    )


@lru_cache(maxsize=2)
def make_letters(cfg: LetterConfig = LetterConfig()) -> LetterSet:  # noqa: B008
    """The rendered letter set with its fixed train/test split (cached per config)."""
    xs_tr, ys_tr, xs_te, ys_te = [], [], [], []
    for k in range(len(CLASSES)):
        imgs = torch.from_numpy(render_class(cfg, k))[:, None]
        xs_tr.append(imgs[: cfg.n_train])
        xs_te.append(imgs[cfg.n_train :])
        ys_tr.append(torch.full((cfg.n_train,), k, dtype=torch.int64))
        ys_te.append(torch.full((cfg.n_per_class - cfg.n_train,), k, dtype=torch.int64))
    return LetterSet(torch.cat(xs_tr), torch.cat(ys_tr), torch.cat(xs_te), torch.cat(ys_te))

"""N-Digits: a small, offline **stand-in** for N-MNIST. It is *not* N-MNIST.

PRIME's classification workload uses N-MNIST (Orchard et al. 2015: MNIST digits shown on a
monitor and recorded by an ATIS camera that makes three saccades). N-MNIST cannot be
downloaded on the build machines, so this module makes a dataset of the same shape and file
format from scikit-learn's ``load_digits`` (1797 images, 8 x 8, grey levels 0..16, shipped
inside the package) and a simulated DVS camera:

1. Each 8 x 8 digit is scaled to [0, 1] (``/16``) and upsampled bilinearly to 28 x 28
   (``scipy.ndimage.zoom``, order 1), the size of an MNIST digit.
2. The digit is shown as a bright pattern on a dark display: intensity
   ``I = intensity_bg + (intensity_fg - intensity_bg) * digit`` (relative units).
3. The camera makes three saccades, like the N-MNIST pan-tilt: the digit's top-left corner
   moves in straight lines between the three ``saccade_vertices_px`` of a triangle inside the
   34 x 34 frame, ``t_saccade_s`` each (0.1 s; 0.3 s in all), with a minimum-jerk position
   profile ``s(u) = 10u^3 - 15u^4 + 6u^5`` (zero speed at the vertices, so the event rate dips
   between saccades as in the real recordings). Sub-pixel positions are rendered by bilinear
   interpolation of the 28 x 28 image; outside it the display shows the background.
4. Each of the 34 x 34 pixels sees the log intensity ``L = log(I + intensity_eps)`` at the
   sub-step times ``k * t_substep_s``, linearly interpolated in between. It keeps a reference
   level ``L_ref``; when ``L - L_ref`` reaches ``+C_on`` (``-C_off``) it emits an ON (OFF)
   event at the interpolated crossing time and moves ``L_ref`` by ``+C_on`` (``-C_off``)
   (several events in one sub-step if the change is large). ``C_on``/``C_off`` are per-pixel
   thresholds ``contrast_threshold + threshold_sigma * N(0, 1)`` (clipped at
   ``contrast_threshold / 4``), fixed for the camera. A pixel cannot fire within
   ``t_refractory_s`` of its previous event; a crossing that falls in the refractory period
   fires when it ends (if the change is still beyond threshold by the end of that sub-step,
   else later). At t = 0 each pixel's ``L - L_ref`` is uniform in ``(-C_off, C_on)`` (no
   event for a still scene).
5. Background activity: Poisson events at ``noise_rate_Hz`` per pixel, uniform in time, random
   polarity, independent of the signal (they do not reset the pixel).

Timestamps are rounded to whole µs. The model is an assumption-level emulator (threshold
crossings of log intensity, as in ESIM/v2e), not a circuit model: no photoreceptor bandwidth,
no leak events, no ATIS exposure-measurement events.

Randomness: the camera's threshold map comes from ``numpy.random.default_rng((seed, 0))``;
sample ``i``'s initial levels and noise from ``default_rng((seed, 1, i))``. A sample is a pure
function of ``(seed, i, DvsConfig)``, whatever batch it is simulated in.

Dataset split (:func:`ndigits_split`): stratified by class; within class ``c`` the sklearn
indices are permuted by ``default_rng((split_seed, 2, c))`` and the first
``round(test_fraction * n_c)`` go to Test. The split does not depend on ``seed``.
Files: ``<root>/Train|Test/<label>/<sklearn index, 5 digits>.bin`` in N-MNIST format, read back
with :func:`rramcim.data.nmnist.read_nmnist` like the real dataset.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import time
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
from scipy import ndimage

from rramcim.data.events import EVENT_DTYPE, sort_events
from rramcim.data.nmnist import NMNIST_SIZE, SPLITS, encode_nmnist

NDIGITS_VERSION = "1"
"""Generator version, written to the manifest; bump it when the output changes."""
MANIFEST = "manifest.json"
"""Manifest file name in the dataset root."""
N_SOURCE_IMAGES = 1797
"""Images in ``sklearn.datasets.load_digits``."""

_STREAM_CAMERA = 0
_STREAM_SAMPLE = 1
_STREAM_SPLIT = 2
_DIGIT_GREY_MAX = 16.0


def _check(name: str, value: float, lo: float, hi: float, *, lo_open: bool = False) -> None:
    ok = math.isfinite(value) and (value > lo if lo_open else value >= lo) and value <= hi
    if not ok:
        br = "(" if lo_open else "["
        raise ValueError(f"DvsConfig.{name} = {value!r} is outside {br}{lo}, {hi}]")


@dataclass(frozen=True)
class DvsConfig:
    """Simulated DVS camera and saccade motion of N-Digits (values are assumptions).

    Attributes:
        contrast_threshold: mean ON/OFF threshold C in natural-log intensity units,
            (0.01, 2]; 0.2 (typical DVS 15-30 % contrast; assumption).
        threshold_sigma: pixel-to-pixel sigma of each threshold, log units,
            [0, contrast_threshold / 3]; 0.03 (assumption).
        t_refractory_s: refractory period, s, [0, 0.1]; 1 ms.
        t_substep_s: simulation sub-step, s, [1e-5, 1e-2]; 1 ms. ``t_saccade_s`` must be a
            whole number of sub-steps.
        t_saccade_s: duration of each of the three saccades, s, [1e-3, 10]; 0.1 s (N-MNIST
            saccades are about 100 ms; total about 300 ms).
        noise_rate_Hz: background-activity rate per pixel, Hz, [0, 1000]; 0.1.
        intensity_bg: display background intensity, relative, [0, 1); 0.25.
        intensity_fg: intensity of a full-grey stroke, relative, (intensity_bg, 1]; 1.0.
        intensity_eps: constant added before the log (dark signal), relative, (0, 1]; 0.01.
        image_px: upsampled digit size, pixels, [8, frame_px]; 28 (MNIST).
        frame_px: sensor size, pixels, [8, 240]; 34 (N-MNIST).
        saccade_vertices_px: three ``(x, y)`` positions of the digit's top-left corner in the
            frame, pixels, each coordinate in [0, frame_px - image_px]; the motion visits them
            in order and returns to the first.
    """

    contrast_threshold: float = 0.2
    threshold_sigma: float = 0.03
    t_refractory_s: float = 1e-3
    t_substep_s: float = 1e-3
    t_saccade_s: float = 0.1
    noise_rate_Hz: float = 0.1
    intensity_bg: float = 0.25
    intensity_fg: float = 1.0
    intensity_eps: float = 0.01
    image_px: int = 28
    frame_px: int = NMNIST_SIZE
    saccade_vertices_px: tuple[tuple[float, float], ...] = field(
        default=((1.0, 5.0), (5.0, 5.0), (3.0, 1.0))
    )

    def __post_init__(self) -> None:
        _check("contrast_threshold", self.contrast_threshold, 0.01, 2.0, lo_open=True)
        _check("threshold_sigma", self.threshold_sigma, 0.0, self.contrast_threshold / 3)
        _check("t_refractory_s", self.t_refractory_s, 0.0, 0.1)
        _check("t_substep_s", self.t_substep_s, 1e-5, 1e-2)
        _check("t_saccade_s", self.t_saccade_s, 1e-3, 10.0)
        ratio = self.t_saccade_s / self.t_substep_s
        if abs(ratio - round(ratio)) > 1e-6 * ratio:
            raise ValueError(
                f"DvsConfig.t_saccade_s = {self.t_saccade_s} is not a whole number of "
                f"t_substep_s = {self.t_substep_s}"
            )
        if abs(self.t_substep_s * 1e6 - round(self.t_substep_s * 1e6)) > 1e-6:
            raise ValueError(f"DvsConfig.t_substep_s = {self.t_substep_s} is not whole µs")
        _check("noise_rate_Hz", self.noise_rate_Hz, 0.0, 1000.0)
        _check("intensity_bg", self.intensity_bg, 0.0, 1.0)
        if self.intensity_bg >= 1.0:
            raise ValueError(f"DvsConfig.intensity_bg = {self.intensity_bg} must be < 1")
        _check("intensity_fg", self.intensity_fg, self.intensity_bg, 1.0, lo_open=True)
        _check("intensity_eps", self.intensity_eps, 0.0, 1.0, lo_open=True)
        for name, v in (("frame_px", self.frame_px), ("image_px", self.image_px)):
            if int(v) != v:
                raise ValueError(f"DvsConfig.{name} = {v!r} is not an integer")
        _check("frame_px", self.frame_px, 8, 240)
        _check("image_px", self.image_px, 8, self.frame_px)
        verts = self.saccade_vertices_px
        room = self.frame_px - self.image_px
        if len(verts) != 3 or any(len(v) != 2 for v in verts):
            raise ValueError(
                f"DvsConfig.saccade_vertices_px = {verts!r} must be three (x, y) pairs"
            )
        for i, v in enumerate(verts):
            for c, name in zip(v, "xy", strict=True):
                if not (math.isfinite(c) and 0.0 <= c <= room):
                    raise ValueError(
                        f"DvsConfig.saccade_vertices_px[{i}].{name} = {c!r} is outside "
                        f"[0, {room}] (frame_px - image_px)"
                    )
        object.__setattr__(
            self, "saccade_vertices_px", tuple((float(a), float(b)) for a, b in verts)
        )

    @property
    def steps_per_saccade(self) -> int:
        """Sub-steps per saccade."""
        return round(self.t_saccade_s / self.t_substep_s)

    @property
    def n_steps(self) -> int:
        """Sub-steps of a whole recording (three saccades)."""
        return 3 * self.steps_per_saccade

    @property
    def t_substep_us(self) -> int:
        """Sub-step, µs."""
        return round(self.t_substep_s * 1e6)

    @property
    def duration_us(self) -> int:
        """Length of a recording, µs."""
        return self.n_steps * self.t_substep_us

    def to_json(self) -> dict[str, object]:
        """Fields as JSON-ready values (tuples become lists)."""
        return json.loads(json.dumps(asdict(self)))


@lru_cache(maxsize=4)
def _digit_images_cached(image_px: int) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    digits = load_digits()
    imgs = np.asarray(digits.images, dtype=np.float64) / _DIGIT_GREY_MAX
    if imgs.shape != (N_SOURCE_IMAGES, 8, 8):
        raise RuntimeError(f"sklearn load_digits gave images of shape {imgs.shape}")
    f = image_px / 8.0
    up = ndimage.zoom(imgs, (1.0, f, f), order=1)
    up = np.clip(up, 0.0, 1.0)
    labels = np.asarray(digits.target, dtype=np.int64)
    up.setflags(write=False)
    labels.setflags(write=False)
    return up, labels


def digit_images(image_px: int = 28) -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's digits scaled to [0, 1] and upsampled bilinearly.

    Args:
        image_px: output size, pixels (28 for MNIST size).

    Returns:
        ``(images, labels)``: read-only float64 ``[1797, image_px, image_px]`` in [0, 1] and
        int64 ``[1797]``, in sklearn order.
    """
    return _digit_images_cached(int(image_px))


def saccade_path(cfg: DvsConfig) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Digit position at every sub-step boundary.

    Args:
        cfg: camera and motion configuration.

    Returns:
        ``(t_us, x_px, y_px)``, each ``[n_steps + 1]`` float64: time, µs, and the top-left
        corner of the digit in the frame, pixels.
    """
    n = cfg.steps_per_saccade
    u = np.arange(n, dtype=np.float64) / n
    s = u**3 * (10.0 - 15.0 * u + 6.0 * u**2)
    v = np.asarray(cfg.saccade_vertices_px + (cfg.saccade_vertices_px[0],), dtype=np.float64)
    segs = [v[k] + s[:, None] * (v[k + 1] - v[k]) for k in range(3)]
    pos = np.concatenate([*segs, v[:1]], axis=0)
    t_us = np.arange(cfg.n_steps + 1, dtype=np.float64) * cfg.t_substep_us
    return t_us, pos[:, 0], pos[:, 1]


def _camera_thresholds(seed: int, cfg: DvsConfig) -> tuple[np.ndarray, np.ndarray]:
    """Per-pixel ON and OFF thresholds of the camera, log units, flat ``[frame_px**2]``."""
    rng = np.random.default_rng((seed, _STREAM_CAMERA))
    p = cfg.frame_px * cfg.frame_px
    z = rng.standard_normal((2, p))
    c = cfg.contrast_threshold + cfg.threshold_sigma * z
    c = np.maximum(c, cfg.contrast_threshold / 4)
    return c[0], c[1]


def _render(padded: np.ndarray, x: float, y: float, cfg: DvsConfig) -> np.ndarray:
    """Digit values in the frame for top-left corner (x, y): bilinear, [B, F, F]."""
    m = cfg.frame_px - cfg.image_px + 1
    f_px = cfg.frame_px
    ix, iy = math.floor(x), math.floor(y)
    fx, fy = x - ix, y - iy
    a, b = m - iy, m - ix
    out = (1.0 - fy) * (
        (1.0 - fx) * padded[:, a : a + f_px, b : b + f_px]
        + fx * padded[:, a : a + f_px, b - 1 : b - 1 + f_px]
    )
    if fy:
        out += fy * (
            (1.0 - fx) * padded[:, a - 1 : a - 1 + f_px, b : b + f_px]
            + fx * padded[:, a - 1 : a - 1 + f_px, b - 1 : b - 1 + f_px]
        )
    return out


def simulate_dvs(
    images: np.ndarray,
    indices: np.ndarray | list[int],
    seed: int = 0,
    cfg: DvsConfig | None = None,
) -> list[np.ndarray]:
    """Record digits with the simulated camera (see the module docstring).

    Args:
        images: ``[B, image_px, image_px]`` digit images in [0, 1].
        indices: ``[B]`` sample indices that key each sample's random numbers.
        seed: dataset seed, >= 0.
        cfg: camera configuration (default :class:`DvsConfig`).

    Returns:
        One event array (:data:`EVENT_DTYPE`, time order, ``0 <= t_us <= duration_us``) per
        image.
    """
    cfg = cfg or DvsConfig()
    imgs = np.asarray(images, dtype=np.float64)
    idx_list = [int(i) for i in np.asarray(indices).reshape(-1)]
    if imgs.ndim != 3 or imgs.shape[1:] != (cfg.image_px, cfg.image_px):
        raise ValueError(f"images of shape {imgs.shape}; expected [B, {cfg.image_px}, ...]")
    if len(idx_list) != imgs.shape[0]:
        raise ValueError(f"{len(idx_list)} indices for {imgs.shape[0]} images")
    if seed < 0 or any(i < 0 for i in idx_list):
        raise ValueError("seed and sample indices must be >= 0")
    n_b = imgs.shape[0]
    f_px = cfg.frame_px
    n_pix = f_px * f_px
    m = f_px - cfg.image_px + 1
    padded = np.zeros((n_b, cfg.image_px + 2 * m, cfg.image_px + 2 * m))
    padded[:, m : m + cfg.image_px, m : m + cfg.image_px] = imgs
    t_us, px, py = saccade_path(cfg)
    c_on, c_off = _camera_thresholds(seed, cfg)
    c_on_b = np.tile(c_on, n_b)
    c_off_b = np.tile(c_off, n_b)
    gain = cfg.intensity_fg - cfg.intensity_bg
    bg = cfg.intensity_bg + cfg.intensity_eps

    def log_intensity(k: int) -> np.ndarray:
        return np.log(bg + gain * _render(padded, px[k], py[k], cfg)).reshape(-1)

    # Per-sample random numbers: initial levels, then background noise.
    rngs = [np.random.default_rng((seed, _STREAM_SAMPLE, i)) for i in idx_list]
    u0 = np.concatenate([r.random(n_pix) for r in rngs])
    level = log_intensity(0)
    ref = level - (u0 * (c_on_b + c_off_b) - c_off_b)
    t_last = np.full(n_b * n_pix, -np.inf)
    dt = float(cfg.t_substep_us)
    refr = cfg.t_refractory_s * 1e6

    out_idx: list[np.ndarray] = []
    out_t: list[np.ndarray] = []
    out_on: list[np.ndarray] = []
    for k in range(1, cfg.n_steps + 1):
        new = log_intensity(k)
        d1 = new - ref
        cand = np.flatnonzero((d1 >= c_on_b) | (d1 <= -c_off_b))
        if cand.size:
            t0 = t_us[k - 1]
            t1 = t_us[k]
            d1c = d1[cand]
            on = d1c > 0
            s = np.where(on, 1.0, -1.0)
            thr = np.where(on, c_on_b[cand], c_off_b[cand])
            a0 = s * (level[cand] - ref[cand])  # change at t0, in the direction of the crossing
            a1 = s * d1c
            span = np.where(a1 > a0, a1 - a0, 1.0)
            tl = t_last[cand]
            n_fired = np.zeros(cand.size)
            active = np.ones(cand.size, dtype=bool)
            j = 1
            while True:
                lev = j * thr
                frac = np.where(a0 >= lev, 0.0, (lev - a0) / span)
                t_fire = np.maximum(t0 + frac * dt, tl + refr)
                fire = active & (t_fire <= t1)
                if not fire.any():
                    break
                out_idx.append(cand[fire])
                out_t.append(t_fire[fire])
                out_on.append(on[fire])
                tl = np.where(fire, t_fire, tl)
                n_fired += fire
                j += 1
                active = fire & (a1 >= j * thr)
                if not active.any():
                    break
            ref[cand] += s * thr * n_fired
            t_last[cand] = tl
        level = new

    if out_idx:
        all_idx = np.concatenate(out_idx)
        all_t = np.rint(np.concatenate(out_t)).astype(np.int64)
        all_on = np.concatenate(out_on)
    else:
        all_idx = np.zeros(0, dtype=np.int64)
        all_t = np.zeros(0, dtype=np.int64)
        all_on = np.zeros(0, dtype=bool)
    sample = all_idx // n_pix
    pix = all_idx % n_pix
    order = np.argsort(sample, kind="stable")
    bounds = np.searchsorted(sample[order], np.arange(n_b + 1))
    duration_us = cfg.duration_us
    lam = cfg.noise_rate_Hz * n_pix * duration_us * 1e-6
    result: list[np.ndarray] = []
    for b, rng in enumerate(rngs):
        sel = order[bounds[b] : bounds[b + 1]]
        n_noise = int(rng.poisson(lam)) if lam > 0 else 0
        noise_pix = rng.integers(0, n_pix, n_noise)
        noise_t = rng.integers(0, duration_us, n_noise)
        noise_p = rng.integers(0, 2, n_noise)
        ev = np.empty(sel.size + n_noise, dtype=EVENT_DTYPE)
        ev["t_us"] = np.concatenate([all_t[sel], noise_t])
        allp = np.concatenate([pix[sel], noise_pix])
        ev["x"] = allp % f_px
        ev["y"] = allp // f_px
        ev["p"] = np.concatenate([all_on[sel].astype(np.int8), noise_p.astype(np.int8)])
        result.append(sort_events(ev))
    return result


def ndigits_events(index: int, seed: int = 0, cfg: DvsConfig | None = None) -> np.ndarray:
    """Events of one N-Digits sample (sklearn index ``index``), as written by
    :func:`make_ndigits`.

    Args:
        index: sklearn digit index, 0..1796.
        seed: dataset seed.
        cfg: camera configuration.

    Returns:
        Event array (:data:`EVENT_DTYPE`).
    """
    cfg = cfg or DvsConfig()
    if not 0 <= int(index) < N_SOURCE_IMAGES:
        raise ValueError(f"index = {index} is outside 0..{N_SOURCE_IMAGES - 1}")
    imgs, _ = digit_images(cfg.image_px)
    return simulate_dvs(imgs[int(index)][None], [int(index)], seed, cfg)[0]


def ndigits_split(
    labels: np.ndarray, test_fraction: float = 0.2, split_seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """The fixed, stratified Train/Test split of N-Digits (module docstring).

    Args:
        labels: class of every source image (sklearn order).
        test_fraction: share of each class in Test, [0, 1).
        split_seed: key of the split permutation, >= 0.

    Returns:
        ``(train_indices, test_indices)``, sorted int64 sklearn indices.
    """
    if not (math.isfinite(test_fraction) and 0.0 <= test_fraction < 1.0):
        raise ValueError(f"test_fraction = {test_fraction!r} is outside [0, 1)")
    if split_seed < 0:
        raise ValueError(f"split_seed = {split_seed} must be >= 0")
    labels = np.asarray(labels)
    train: list[np.ndarray] = []
    test: list[np.ndarray] = []
    for c in np.unique(labels):
        idx = np.flatnonzero(labels == c)
        perm = np.random.default_rng((split_seed, _STREAM_SPLIT, int(c))).permutation(idx.size)
        n_test = round(test_fraction * idx.size)
        test.append(idx[perm[:n_test]])
        train.append(idx[perm[n_test:]])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(test))


@dataclass(frozen=True)
class NDigitsSummary:
    """What :func:`make_ndigits` produced.

    Attributes:
        root: dataset root.
        n_train: Train recordings.
        n_test: Test recordings.
        n_events: events in all recordings.
        events_per_sample_mean: mean events per recording.
        elapsed_s: wall time of this call, s.
        skipped: True when an existing, matching dataset was kept.
        manifest: the manifest contents.
    """

    root: Path
    n_train: int
    n_test: int
    n_events: int
    events_per_sample_mean: float
    elapsed_s: float
    skipped: bool
    manifest: dict[str, object] = field(repr=False)


def _selected(labels: np.ndarray, idx: np.ndarray, per_class_limit: int | None) -> np.ndarray:
    if per_class_limit is None:
        return idx
    keep = [idx[labels[idx] == c][:per_class_limit] for c in np.unique(labels)]
    return np.sort(np.concatenate(keep))


def _count_files(root: Path) -> int:
    return sum(1 for s in SPLITS if (root / s).is_dir() for _ in (root / s).glob("*/*.bin"))


def make_ndigits(
    root: str | os.PathLike[str],
    seed: int = 0,
    test_fraction: float = 0.2,
    per_class_limit: int | None = None,
    *,
    cfg: DvsConfig | None = None,
    split_seed: int = 0,
    batch_size: int = 256,
    progress: bool = True,
) -> NDigitsSummary:
    """Write the N-Digits stand-in dataset in the N-MNIST layout and format.

    ``<root>/Train|Test/<label>/<sklearn index:05d>.bin`` plus ``<root>/manifest.json``
    (generator version, seed, split, camera parameters, counts). Idempotent: if the manifest
    exists with the same parameters and all files are present, nothing is done. A root that
    holds ``Train/`` or ``Test/`` without an N-Digits manifest (e.g. real N-MNIST) is never
    overwritten. Files are generated in ``<root>/.ndigits-partial`` and moved in place at the
    end; the manifest is written last.

    Args:
        root: dataset folder.
        seed: camera/sample seed, >= 0.
        test_fraction: share of each class in Test, [0, 1) (:func:`ndigits_split`).
        per_class_limit: at most this many recordings per class in each split (the lowest
            sklearn indices of that class in that split); ``None`` for all.
        cfg: camera configuration (default :class:`DvsConfig`).
        split_seed: key of the Train/Test split, >= 0.
        batch_size: samples simulated together (memory/speed only; results do not depend on
            it).
        progress: show a progress bar.

    Returns:
        The :class:`NDigitsSummary`.

    Raises:
        FileExistsError: ``root`` holds a dataset that is not N-Digits.
    """
    t_start = time.perf_counter()
    cfg = cfg or DvsConfig()
    if seed < 0:
        raise ValueError(f"seed = {seed} must be >= 0")
    if per_class_limit is not None and per_class_limit < 1:
        raise ValueError(f"per_class_limit = {per_class_limit} must be >= 1 or None")
    if batch_size < 1:
        raise ValueError(f"batch_size = {batch_size} must be >= 1")
    if cfg.frame_px != NMNIST_SIZE:
        raise ValueError(f"N-Digits files are {NMNIST_SIZE}x{NMNIST_SIZE}; cfg.frame_px differs")
    root = Path(root)
    params = json.loads(
        json.dumps(
            {
                "generator_version": NDIGITS_VERSION,
                "seed": int(seed),
                "split_seed": int(split_seed),
                "test_fraction": float(test_fraction),
                "per_class_limit": per_class_limit,
                "dvs": cfg.to_json(),
            }
        )
    )
    man_path = root / MANIFEST
    old = None
    if man_path.is_file():
        try:
            old = json.loads(man_path.read_text())
        except json.JSONDecodeError:
            old = None
    ours = isinstance(old, dict) and old.get("dataset") == "N-Digits"
    if ours and old.get("params") == params and _count_files(root) == old.get("n_samples"):
        return NDigitsSummary(
            root=root,
            n_train=int(old["n_train"]),
            n_test=int(old["n_test"]),
            n_events=int(old["n_events"]),
            events_per_sample_mean=float(old["events_per_sample_mean"]),
            elapsed_s=time.perf_counter() - t_start,
            skipped=True,
            manifest=old,
        )
    if not ours and any((root / s).exists() for s in SPLITS):
        raise FileExistsError(
            f"{root} holds Train/ or Test/ without an N-Digits manifest (real N-MNIST or an "
            "interrupted run?); refusing to overwrite it: delete it or choose another root"
        )

    imgs, labels = digit_images(cfg.image_px)
    train_idx, test_idx = ndigits_split(labels, test_fraction, split_seed)
    jobs = [
        (split, int(i))
        for split, idx in (("Train", train_idx), ("Test", test_idx))
        for i in _selected(labels, idx, per_class_limit)
    ]
    staging = root / ".ndigits-partial"
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    counts: dict[str, dict[str, int]] = {s: {} for s in SPLITS}
    n_events = 0
    n_on = 0
    batches = range(0, len(jobs), batch_size)
    if progress:
        from tqdm import tqdm

        batches = tqdm(batches, desc="N-Digits", unit="batch")
    for start in batches:
        chunk = jobs[start : start + batch_size]
        ids = [i for _, i in chunk]
        evs = simulate_dvs(imgs[ids], ids, seed, cfg)
        for (split, i), ev in zip(chunk, evs, strict=True):
            lab = int(labels[i])
            path = staging / split / str(lab) / f"{i:05d}.bin"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(encode_nmnist(ev))
            counts[split][str(lab)] = counts[split].get(str(lab), 0) + 1
            n_events += ev.size
            n_on += int(ev["p"].sum())
    if man_path.exists():
        man_path.unlink()
    for s in SPLITS:
        if (root / s).exists():
            shutil.rmtree(root / s)
        if (staging / s).exists():
            (staging / s).rename(root / s)
        else:
            (root / s).mkdir()
    shutil.rmtree(staging)
    n_train = sum(counts["Train"].values())
    n_test = sum(counts["Test"].values())
    n_samples = n_train + n_test
    manifest: dict[str, object] = {
        "dataset": "N-Digits",
        "stand_in_for": "N-MNIST (Orchard et al. 2015); NOT N-MNIST",
        "generator": "rramcim.data.ndigits.make_ndigits",
        "source": "sklearn.datasets.load_digits (1797 images, 8x8, 0..16)",
        "format": "N-MNIST .bin, <root>/Train|Test/<label>/<sklearn index>.bin",
        "params": params,
        "split_rule": "per class: default_rng((split_seed, 2, label)).permutation; "
        "first round(test_fraction*n) to Test",
        "duration_us": cfg.duration_us,
        "counts": {s: dict(sorted(counts[s].items())) for s in SPLITS},
        "n_train": n_train,
        "n_test": n_test,
        "n_samples": n_samples,
        "n_events": n_events,
        "events_per_sample_mean": n_events / max(n_samples, 1),
        "on_fraction": n_on / max(n_events, 1),
    }
    tmp = root / (MANIFEST + ".tmp")
    tmp.write_text(json.dumps(manifest, indent=2) + "\n")
    tmp.replace(man_path)
    return NDigitsSummary(
        root=root,
        n_train=n_train,
        n_test=n_test,
        n_events=n_events,
        events_per_sample_mean=n_events / max(n_samples, 1),
        elapsed_s=time.perf_counter() - t_start,
        skipped=False,
        manifest=manifest,
    )

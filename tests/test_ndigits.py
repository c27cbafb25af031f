"""N-Digits stand-in dataset and its simulated DVS camera: rramcim.data.ndigits."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from scipy import ndimage

from rramcim.data.events import events_to_frames
from rramcim.data.ndigits import (
    MANIFEST,
    DvsConfig,
    digit_images,
    make_ndigits,
    ndigits_events,
    ndigits_split,
    saccade_path,
    simulate_dvs,
)
from rramcim.data.nmnist import list_dataset, load_frames, read_nmnist

SUBSET = [int(i) for i in range(0, 40, 2)]  # 20 samples, all ten classes


@pytest.fixture(scope="module")
def cfg() -> DvsConfig:
    return DvsConfig()


@pytest.fixture(scope="module")
def subset_events(cfg: DvsConfig) -> list[np.ndarray]:
    imgs, _ = digit_images()
    return simulate_dvs(imgs[SUBSET], SUBSET, seed=0, cfg=cfg)


@pytest.mark.parametrize(
    ("changes", "msg"),
    [
        ({"contrast_threshold": 0.0}, "contrast_threshold"),
        ({"threshold_sigma": 0.1}, "threshold_sigma"),
        ({"t_saccade_s": 0.1005}, "whole number"),
        ({"intensity_fg": 0.2}, "intensity_fg"),
        ({"saccade_vertices_px": ((0, 0), (7, 0), (3, 3))}, r"saccade_vertices_px\[1\]\.x"),
        ({"saccade_vertices_px": ((0, 0), (1, 1))}, "three"),
        ({"image_px": 40}, "image_px"),
    ],
)
def test_config_validation(changes: dict, msg: str) -> None:
    with pytest.raises(ValueError, match=msg):
        DvsConfig(**changes)


def test_config_defaults(cfg: DvsConfig) -> None:
    assert cfg.n_steps == 300 and cfg.duration_us == 300_000
    t, x, y = saccade_path(cfg)
    assert t[0] == 0 and t[-1] == 300_000
    for k, v in enumerate(cfg.saccade_vertices_px + cfg.saccade_vertices_px[:1]):
        assert (x[100 * k], y[100 * k]) == v  # at a vertex every 100 ms, back to the start


def test_digit_images() -> None:
    imgs, labels = digit_images()
    assert imgs.shape == (1797, 28, 28) and labels.shape == (1797,)
    assert imgs.min() >= 0 and imgs.max() <= 1 and set(labels.tolist()) == set(range(10))


def test_events_inside_frame_and_recording(subset_events: list[np.ndarray], cfg: DvsConfig) -> None:
    for ev in subset_events:
        assert 1000 < ev.size < 20_000
        assert ev["x"].min() >= 0 and ev["x"].max() < 34
        assert ev["y"].min() >= 0 and ev["y"].max() < 34
        assert ev["t_us"].min() >= 0 and ev["t_us"].max() <= cfg.duration_us
        assert (np.diff(ev["t_us"]) >= 0).all()


def test_both_polarities_roughly_balanced(subset_events: list[np.ndarray]) -> None:
    for ev in subset_events:
        on = ev["p"].mean()
        assert 0.35 < on < 0.65, on


def test_three_saccades_visible_in_event_rate(subset_events: list[np.ndarray]) -> None:
    t = np.concatenate([ev["t_us"] for ev in subset_events])
    rate, _ = np.histogram(t, bins=30, range=(0, 300_000))  # 10 ms bins
    for s in range(3):
        mid = rate[10 * s + 4 : 10 * s + 6].mean()
        ends = (rate[10 * s], rate[10 * s + 9])
        assert mid > 4 * max(ends), (s, rate.tolist())


def test_refractory_period(cfg: DvsConfig) -> None:
    quiet = DvsConfig(noise_rate_Hz=0.0)
    ev = ndigits_events(3, cfg=quiet)
    pix = ev["y"].astype(np.int64) * 34 + ev["x"]
    order = np.lexsort((ev["t_us"], pix))
    same = np.diff(pix[order]) == 0
    gaps = np.diff(ev["t_us"][order])[same]
    assert gaps.min() >= round(quiet.t_refractory_s * 1e6) - 1  # 1 µs timestamp rounding


def test_still_scene_and_noise(cfg: DvsConfig) -> None:
    blank = np.zeros((1, 28, 28))
    assert simulate_dvs(blank, [0], 0, DvsConfig(noise_rate_Hz=0.0))[0].size == 0
    noisy = simulate_dvs(blank, [0], 0, DvsConfig(noise_rate_Hz=20.0))[0]
    expected = 20.0 * 34 * 34 * 0.3
    assert abs(noisy.size - expected) < 5 * np.sqrt(expected)


def test_deterministic_per_sample(subset_events: list[np.ndarray]) -> None:
    # alone vs inside a batch of 20: identical; another seed differs
    for pos in (0, 7, 19):
        np.testing.assert_array_equal(ndigits_events(SUBSET[pos]), subset_events[pos])
    other = ndigits_events(SUBSET[7], seed=1)
    assert other.size != subset_events[7].size or not np.array_equal(other, subset_events[7])


def _gradient_map(img28: np.ndarray, cfg: DvsConfig) -> np.ndarray:
    """Log-intensity gradient magnitude of the digit at the triangle's centroid, blurred."""
    cx, cy = np.mean(cfg.saccade_vertices_px, axis=0).round().astype(int)
    canvas = np.zeros((34, 34))
    canvas[cy : cy + 28, cx : cx + 28] = img28
    lg = np.log(cfg.intensity_bg + cfg.intensity_eps + (1 - cfg.intensity_bg) * canvas)
    g = np.hypot(ndimage.sobel(lg, 0), ndimage.sobel(lg, 1))
    return ndimage.gaussian_filter(g, 1.5)


def test_event_map_looks_like_the_digit(subset_events: list[np.ndarray], cfg: DvsConfig) -> None:
    imgs, _ = digit_images()
    own, other = [], []
    for k, (i, ev) in enumerate(zip(SUBSET, subset_events, strict=True)):
        acc = events_to_frames(ev, 1, 34, 34).sum(axis=(0, 1)).astype(float).ravel()
        own.append(np.corrcoef(acc, _gradient_map(imgs[i], cfg).ravel())[0, 1])
        j = SUBSET[(k + 5) % len(SUBSET)]
        other.append(np.corrcoef(acc, _gradient_map(imgs[j], cfg).ravel())[0, 1])
    assert min(own) > 0.7, own
    assert np.mean(own) > np.mean(other) + 0.15


def test_split_is_fixed_and_stratified() -> None:
    _, labels = digit_images()
    tr, te = ndigits_split(labels, 0.2, 0)
    assert len(np.intersect1d(tr, te)) == 0 and len(tr) + len(te) == 1797
    for c in range(10):
        n_c = int((labels == c).sum())
        assert int((labels[te] == c).sum()) == round(0.2 * n_c)
    tr2, te2 = ndigits_split(labels, 0.2, 0)
    np.testing.assert_array_equal(te, te2)
    assert not np.array_equal(te, ndigits_split(labels, 0.2, 1)[1])


def test_make_ndigits_layout_manifest_idempotent(tmp_path: Path, cfg: DvsConfig) -> None:
    root = tmp_path / "nd"
    s = make_ndigits(root, seed=0, per_class_limit=2, progress=False)
    assert (s.n_train, s.n_test, s.skipped) == (20, 20, False)
    man = json.loads((root / MANIFEST).read_text())
    assert man["dataset"] == "N-Digits" and "NOT N-MNIST" in man["stand_in_for"]
    assert man["params"]["seed"] == 0 and man["params"]["dvs"] == cfg.to_json()
    assert man["counts"]["Train"] == {str(c): 2 for c in range(10)}
    assert man["n_samples"] == 40 and man["n_events"] > 0
    items = list_dataset(root, "Train")
    assert len(items) == 20 and [lb for _, lb in items] == [c for c in range(10) for _ in (0, 1)]
    path, _ = items[5]
    np.testing.assert_array_equal(read_nmnist(path), ndigits_events(int(path.stem)))
    fr, lab = load_frames(root, "Test", T=10, split_mode="number")
    assert fr.shape == (20, 10, 2, 34, 34) and sorted(set(lab.tolist())) == list(range(10))
    assert not (root / ".ndigits-partial").exists()

    again = make_ndigits(root, seed=0, per_class_limit=2, progress=False)
    assert again.skipped and again.n_events == s.n_events
    changed = make_ndigits(root, seed=1, per_class_limit=1, progress=False)
    assert not changed.skipped and (changed.n_train, changed.n_test) == (10, 10)
    assert len(list_dataset(root, "Train")) == 10  # old files replaced, not mixed


def test_make_ndigits_refuses_foreign_dataset(tmp_path: Path) -> None:
    (tmp_path / "Train" / "0").mkdir(parents=True)
    with pytest.raises(FileExistsError, match="without an N-Digits manifest"):
        make_ndigits(tmp_path, per_class_limit=1, progress=False)

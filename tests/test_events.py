"""Event arrays, frame binning (both split modes) and spikes: rramcim.data.events."""

from __future__ import annotations

import numpy as np
import pytest

from rramcim.data.events import (
    EVENT_DTYPE,
    check_events,
    crop_time,
    events_to_frames,
    frames_to_spikes,
    make_events,
    sort_events,
    time_bins,
)


@pytest.fixture()
def random_events() -> np.ndarray:
    rng = np.random.default_rng((7, 1))
    n = 5000
    return sort_events(
        make_events(
            rng.integers(0, 300_000, n),
            rng.integers(0, 34, n),
            rng.integers(0, 34, n),
            rng.integers(0, 2, n),
        )
    )


def test_make_events_fields_and_dtype() -> None:
    ev = make_events([3, 1], [0, 33], [5, 6], [1, 0])
    assert ev.dtype == EVENT_DTYPE
    assert ev["t_us"].tolist() == [3, 1]
    assert ev["x"].tolist() == [0, 33] and ev["y"].tolist() == [5, 6]
    assert ev["p"].tolist() == [1, 0]


@pytest.mark.parametrize(
    ("args", "msg"),
    [
        (([0, 1], [0], [0, 0], [0, 0]), "field 'x' has 1 values"),
        (([0, 1], [0, 0], [0, 0], [0, 2]), r"events\[1\]: polarity p = 2"),
        (([0.5], [0], [0], [0]), r"t_us\[0\] = 0.5 is not an integer"),
        (([0], [40000], [0], [0]), r"x\[0\] = 40000 does not fit"),
    ],
)
def test_make_events_rejects(args: tuple, msg: str) -> None:
    with pytest.raises(ValueError, match=msg):
        make_events(*args)


def test_out_of_frame_error_names_index_and_coordinates() -> None:
    ev = make_events([0, 1, 2], [1, 34, 2], [1, 3, 2], [0, 1, 1])
    with pytest.raises(ValueError, match=r"events\[1\] at \(x=34, y=3, t_us=1\).*34x34"):
        events_to_frames(ev, 10, 34, 34)
    with pytest.raises(ValueError, match=r"y = -1"):
        check_events(make_events([0], [0], [-1], [0]), 34, 34)


def test_time_split_bin_edges() -> None:
    # span: t0 = 0, D = 99 - 0 + 1 = 100 us -> bin = floor(t * 10 / 100)
    ev = make_events([0, 9, 10, 19, 55, 99], [0, 1, 2, 3, 4, 5], [0] * 6, [0, 1, 0, 1, 0, 1])
    assert time_bins(ev, 10, "time").tolist() == [0, 0, 1, 1, 5, 9]
    fr = events_to_frames(ev, 10, 2, 8, split="time")
    assert fr.shape == (10, 2, 2, 8) and fr.dtype == np.uint16
    assert fr[0, 0, 0, 0] == 1 and fr[0, 1, 0, 1] == 1  # frames[bin, p, y, x]
    assert fr[1, 0, 0, 2] == 1 and fr[1, 1, 0, 3] == 1
    assert fr[5, 0, 0, 4] == 1 and fr[9, 1, 0, 5] == 1
    assert fr.sum() == 6


def test_time_split_is_relative_to_first_event() -> None:
    ev = make_events([1000, 1050, 1099], [0, 0, 0], [0, 0, 0], [1, 1, 1])
    assert time_bins(ev, 2, "time").tolist() == [0, 1, 1]  # D = 100: [1000,1050) [1050,1100)


def test_time_window_bins_and_outside_error() -> None:
    ev = make_events([0, 19, 20, 199], [0] * 4, [0] * 4, [1] * 4)
    assert time_bins(ev, 10, "time", t_window_us=200).tolist() == [0, 0, 1, 9]
    late = make_events([0, 200], [0, 0], [0, 0], [1, 1])
    with pytest.raises(ValueError, match=r"events\[1\].*t_us = 200 outside the window.*crop"):
        events_to_frames(late, 10, 34, 34, t_window_us=200)
    fr = events_to_frames(crop_time(late, 0, 200), 10, 34, 34, t_window_us=200)
    assert fr.sum() == 1


def test_number_split_chunk_sizes() -> None:
    n = 25
    ev = make_events(np.arange(n), np.zeros(n), np.zeros(n), np.ones(n))
    b = time_bins(ev, 10, "number")
    sizes = np.bincount(b, minlength=10)
    assert sizes.sum() == n and sizes.max() - sizes.min() <= 1
    assert (np.diff(b) >= 0).all()  # chunks are contiguous in list order
    assert b.tolist() == [(j * 10) // n for j in range(n)]


def test_number_split_requires_time_order() -> None:
    ev = make_events([5, 3], [0, 0], [0, 0], [0, 0])
    with pytest.raises(ValueError, match=r"time order: events\[1\].t_us = 3"):
        events_to_frames(ev, 2, 34, 34, split="number")


@pytest.mark.parametrize("split", ["time", "number"])
def test_counts_conserved(random_events: np.ndarray, split: str) -> None:
    fr = events_to_frames(random_events, 10, 34, 34, split=split)
    assert fr.sum() == random_events.size
    on = int((random_events["p"] == 1).sum())
    assert fr[:, 1].sum() == on and fr[:, 0].sum() == random_events.size - on
    per_pixel = np.zeros((34, 34), dtype=np.int64)
    np.add.at(per_pixel, (random_events["y"], random_events["x"]), 1)
    np.testing.assert_array_equal(fr.sum(axis=(0, 1)), per_pixel)


def test_number_split_equal_chunks_on_random(random_events: np.ndarray) -> None:
    fr = events_to_frames(random_events, 10, 34, 34, split="number")
    per_bin = fr.reshape(10, -1).sum(1)
    assert per_bin.max() - per_bin.min() <= 1


def test_empty_events_give_zero_frames() -> None:
    ev = np.zeros(0, dtype=EVENT_DTYPE)
    for split in ("time", "number"):
        fr = events_to_frames(ev, 4, 34, 34, split=split)
        assert fr.shape == (4, 2, 34, 34) and fr.sum() == 0


def test_count_overflow_is_an_error() -> None:
    n = 70_000
    ev = make_events(np.zeros(n, dtype=np.int64), np.zeros(n), np.zeros(n), np.ones(n))
    with pytest.raises(OverflowError, match="65535"):
        events_to_frames(ev, 1, 2, 2)


def test_bad_arguments() -> None:
    ev = make_events([0], [0], [0], [0])
    with pytest.raises(ValueError, match="T = 0"):
        events_to_frames(ev, 0, 34, 34)
    with pytest.raises(ValueError, match="split"):
        events_to_frames(ev, 2, 34, 34, split="bogus")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="t_window_us applies"):
        events_to_frames(ev, 2, 34, 34, split="number", t_window_us=10)


def test_frames_to_spikes() -> None:
    fr = np.array([[0, 1], [5, 0]], dtype=np.uint16)
    sp = frames_to_spikes(fr)
    assert sp.dtype == np.uint8 and sp.tolist() == [[0, 1], [1, 0]]


def test_sort_and_crop() -> None:
    ev = make_events([5, 1, 5, 3], [2, 0, 1, 0], [0, 0, 0, 0], [0, 1, 1, 0])
    s = sort_events(ev)
    assert s["t_us"].tolist() == [1, 3, 5, 5] and s["x"].tolist() == [0, 0, 1, 2]
    assert crop_time(s, 3, 5)["t_us"].tolist() == [3]

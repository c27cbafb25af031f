"""Address-event arrays and their conversion to frames.

An event stream is a 1-D structured numpy array of :data:`EVENT_DTYPE`:

=========  ========  ===========================================================
field      dtype     meaning
=========  ========  ===========================================================
``t_us``   int64     timestamp, microseconds (any origin; file readers start at 0)
``x``      int16     pixel column, 0 = left
``y``      int16     pixel row, 0 = top
``p``      int8      polarity: 0 = OFF (log intensity fell), 1 = ON (it rose)
=========  ========  ===========================================================

Frames are event counts per time bin, polarity and pixel, shaped ``[T, 2, height, width]``
(channel 0 = OFF, channel 1 = ON), as fed to the PRIME N-MNIST network (T = 10, 2 x 34 x 34).
Nothing is dropped silently: an event outside the frame or the time window is an error that
names its index; crop explicitly with :func:`crop_time` first.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

EVENT_DTYPE = np.dtype([("t_us", "<i8"), ("x", "<i2"), ("y", "<i2"), ("p", "i1")])
"""Structured dtype of an event array (see the module docstring)."""

OFF = 0
"""Polarity value of an OFF event (and frame channel of OFF counts)."""
ON = 1
"""Polarity value of an ON event (and frame channel of ON counts)."""

SplitMode = Literal["time", "number"]


def make_events(t_us: object, x: object, y: object, p: object) -> np.ndarray:
    """Build an event array from four equally long 1-D sequences.

    Args:
        t_us: timestamps, µs (integers).
        x: columns.
        y: rows.
        p: polarities, 0 = OFF, 1 = ON.

    Returns:
        A structured array of :data:`EVENT_DTYPE`, in the given order.

    Raises:
        ValueError: lengths differ, a value does not fit its field's dtype, or a polarity is
            not 0/1 (the message names the index and value).
    """
    cols = {"t_us": t_us, "x": x, "y": y, "p": p}
    arrs = {k: np.asarray(v).reshape(-1) for k, v in cols.items()}
    n = len(arrs["t_us"])
    for k, a in arrs.items():
        if len(a) != n:
            raise ValueError(f"make_events: field {k!r} has {len(a)} values, t_us has {n}")
        if n and a.dtype.kind not in "biu":
            a = a.astype(np.float64)
            bad = ~np.isfinite(a) | (a != np.round(a))
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                raise ValueError(f"make_events: {k}[{i}] = {a[i].item()} is not an integer")
            arrs[k] = a
        info = np.iinfo(EVENT_DTYPE[k])
        if n:
            bad = (a < info.min) | (a > info.max)
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                raise ValueError(
                    f"make_events: {k}[{i}] = {a[i].item()} does not fit {EVENT_DTYPE[k]}"
                )
    ev = np.empty(n, dtype=EVENT_DTYPE)
    for k, a in arrs.items():
        ev[k] = a
    check_events(ev)
    return ev


def as_events(events: object, *, name: str = "events") -> np.ndarray:
    """View or convert ``events`` as a 1-D array of :data:`EVENT_DTYPE`.

    Args:
        events: a structured array with (at least) the fields ``t_us, x, y, p``.
        name: what to call the argument in error messages.

    Returns:
        The array itself if it already has :data:`EVENT_DTYPE`, else a converted copy.

    Raises:
        TypeError: not a structured array with the four fields.
    """
    arr = np.asarray(events)
    if arr.dtype == EVENT_DTYPE:
        return arr.reshape(-1)
    names = arr.dtype.names or ()
    missing = [f for f in EVENT_DTYPE.names if f not in names]
    if missing:
        raise TypeError(
            f"{name}: expected a structured array with fields {EVENT_DTYPE.names}, "
            f"got dtype {arr.dtype} (missing {missing})"
        )
    out = np.empty(arr.size, dtype=EVENT_DTYPE)
    for f in EVENT_DTYPE.names:
        out[f] = arr[f].reshape(-1)
    return out


def check_events(
    events: np.ndarray,
    height: int | None = None,
    width: int | None = None,
    *,
    name: str = "events",
) -> None:
    """Check polarities and (optionally) that every event lies inside a frame.

    Args:
        events: event array (:data:`EVENT_DTYPE`).
        height: frame rows; ``None`` skips the ``y`` bound check.
        width: frame columns; ``None`` skips the ``x`` bound check.
        name: what to call the array in error messages.

    Raises:
        ValueError: the first offending event, by index, field and value (and its
            coordinates for an out-of-frame event).
    """
    ev = as_events(events, name=name)
    if ev.size == 0:
        return
    p = ev["p"]
    bad = (p != OFF) & (p != ON)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(f"{name}[{i}]: polarity p = {int(p[i])} is not 0 (OFF) or 1 (ON)")
    for field, size, axis in (("x", width, "width"), ("y", height, "height")):
        if size is None:
            continue
        v = ev[field]
        bad = (v < 0) | (v >= size)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ValueError(
                f"{name}[{i}] at (x={int(ev['x'][i])}, y={int(ev['y'][i])}, "
                f"t_us={int(ev['t_us'][i])}) is outside the {height}x{width} frame: "
                f"{field} = {int(v[i])} not in [0, {size}) ({axis})"
            )


def crop_time(events: np.ndarray, t_start_us: int, t_stop_us: int) -> np.ndarray:
    """Keep the events with ``t_start_us <= t_us < t_stop_us`` (order preserved).

    Args:
        events: event array.
        t_start_us: first kept time, µs.
        t_stop_us: end of the kept interval (exclusive), µs; must be >= ``t_start_us``.

    Returns:
        A new event array.
    """
    if t_stop_us < t_start_us:
        raise ValueError(f"crop_time: t_stop_us = {t_stop_us} < t_start_us = {t_start_us}")
    ev = as_events(events)
    keep = (ev["t_us"] >= t_start_us) & (ev["t_us"] < t_stop_us)
    return ev[keep].copy()


def time_bins(
    events: np.ndarray,
    T: int,
    split: SplitMode = "time",
    t_window_us: int | None = None,
) -> np.ndarray:
    """Bin index (0..T-1) of every event; the rules are those of :func:`events_to_frames`.

    Args:
        events: event array.
        T: number of bins, >= 1.
        split: ``"time"`` or ``"number"``.
        t_window_us: window of ``"time"`` mode, µs (see :func:`events_to_frames`).

    Returns:
        int64 array of bin indices, one per event.
    """
    ev = as_events(events)
    T = int(T)
    if T < 1:
        raise ValueError(f"T = {T} must be >= 1")
    n = ev.size
    if split == "number":
        if t_window_us is not None:
            raise ValueError('t_window_us applies to split="time" only')
        if n > 1:
            dt = np.diff(ev["t_us"])
            if (dt < 0).any():
                i = int(np.flatnonzero(dt < 0)[0]) + 1
                raise ValueError(
                    f'split="number" needs events in time order: events[{i}].t_us = '
                    f"{int(ev['t_us'][i])} < events[{i - 1}].t_us = {int(ev['t_us'][i - 1])}"
                )
        return (np.arange(n, dtype=np.int64) * T) // max(n, 1)
    if split != "time":
        raise ValueError(f'split = {split!r} must be "time" or "number"')
    t = ev["t_us"].astype(np.int64)
    if t_window_us is not None:
        t_window_us = int(t_window_us)
        if t_window_us < 1:
            raise ValueError(f"t_window_us = {t_window_us} must be >= 1")
        bad = (t < 0) | (t >= t_window_us)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ValueError(
                f"events[{i}] at (x={int(ev['x'][i])}, y={int(ev['y'][i])}) has t_us = "
                f"{int(t[i])} outside the window [0, {t_window_us}); crop with crop_time() first"
            )
        return (t * T) // t_window_us
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    t0 = int(t.min())
    duration = int(t.max()) - t0 + 1
    return ((t - t0) * T) // duration


def events_to_frames(
    events: np.ndarray,
    T: int,
    height: int,
    width: int,
    split: SplitMode = "time",
    t_window_us: int | None = None,
) -> np.ndarray:
    """Integrate events into ``T`` count frames.

    Bin rules (integer arithmetic, every event lands in exactly one bin):

    * ``split="time"`` without a window: with ``t0 = min(t_us)`` and the span
      ``D = max(t_us) - t0 + 1`` µs, an event goes to bin ``floor((t_us - t0) * T / D)``,
      i.e. bin ``i`` covers ``[t0 + i*D/T, t0 + (i+1)*D/T)``: T equal bins (to 1 µs) over the
      recording's own span, the first starting at the first event and the last ending just
      after the last event. This is the usual N-MNIST "split by time" pipeline
      (spikingjelly's ``split_by='time'`` uses ``dt = (t_last - t0) // T`` and lets the last
      bin absorb the remainder, so bin edges can differ from these by up to ``T`` µs).
    * ``split="time"`` with ``t_window_us = W``: bin ``floor(t_us * T / W)`` for
      ``0 <= t_us < W``; bin ``i`` covers ``[i*W/T, (i+1)*W/T)``. Same window for every
      sample; an event outside ``[0, W)`` is an error.
    * ``split="number"``: events are taken in array order (which must be time order) and
      event ``j`` of ``N`` goes to bin ``floor(j * T / N)``: T chunks whose sizes differ by at
      most one (spikingjelly's ``split_by='number'`` gives every chunk ``N // T`` events and
      the last one the remainder).

    Args:
        events: event array (:data:`EVENT_DTYPE`).
        T: number of frames, >= 1.
        height: frame rows (y range ``[0, height)``).
        width: frame columns (x range ``[0, width)``).
        split: ``"time"`` or ``"number"``.
        t_window_us: optional fixed window of ``"time"`` mode, µs.

    Returns:
        uint16 array ``[T, 2, height, width]`` of event counts (channel 0 = OFF, 1 = ON);
        its sum equals the number of events.

    Raises:
        ValueError: an event outside the frame or window (index and coordinates named),
            a bad polarity, unsorted events in ``"number"`` mode, or bad arguments.
        OverflowError: a count exceeds 65535.
    """
    ev = as_events(events)
    height, width = int(height), int(width)
    if height < 1 or width < 1:
        raise ValueError(f"frame size {height}x{width} must be at least 1x1")
    check_events(ev, height, width)
    b = time_bins(ev, T, split, t_window_us)
    T = int(T)
    size = T * 2 * height * width
    if ev.size == 0:
        return np.zeros((T, 2, height, width), dtype=np.uint16)
    flat = ((b * 2 + ev["p"].astype(np.int64)) * height + ev["y"].astype(np.int64)) * width
    flat += ev["x"].astype(np.int64)
    counts = np.bincount(flat, minlength=size)
    if counts.max() > np.iinfo(np.uint16).max:
        raise OverflowError(f"a frame count reaches {counts.max()} > 65535 (uint16)")
    return counts.astype(np.uint16).reshape(T, 2, height, width)


def frames_to_spikes(frames: np.ndarray) -> np.ndarray:
    """Binary spike frames: 1 where a bin holds at least one event.

    Args:
        frames: count frames of any shape (e.g. ``[T, 2, H, W]`` or ``[N, T, 2, H, W]``).

    Returns:
        uint8 array of 0/1, same shape.
    """
    return (np.asarray(frames) > 0).astype(np.uint8)


def sort_events(events: np.ndarray) -> np.ndarray:
    """Events sorted by time, ties broken by row, column, then polarity (a stable order).

    Args:
        events: event array.

    Returns:
        A new, sorted event array.
    """
    ev = as_events(events)
    order = np.lexsort((ev["p"], ev["x"], ev["y"], ev["t_us"]))
    return ev[order]


def check_writable(
    ev: np.ndarray, width: int, height: int, t_min: int, t_max: int | None, fmt: str
) -> np.ndarray:
    """Validate events before writing them in a file format; returns ``t_us`` as int64.

    Every field must fit the format (x in 0..width-1, y in 0..height-1, p in {0, 1}, t in
    ``t_min..t_max``) and the events must be in time order.

    Raises:
        ValueError: naming the first offending event's index, field and value.
    """
    t = ev["t_us"].astype(np.int64)
    t_bad = (t < t_min) if t_max is None else ((t < t_min) | (t > t_max))
    t_why = f"is below {t_min}" if t_max is None else f"not in {t_min}..{t_max}"
    checks = (
        ("x", ev["x"], (ev["x"] < 0) | (ev["x"] >= width), f"not in 0..{width - 1}"),
        ("y", ev["y"], (ev["y"] < 0) | (ev["y"] >= height), f"not in 0..{height - 1}"),
        ("p", ev["p"], (ev["p"] != 0) & (ev["p"] != 1), "not 0 (OFF) or 1 (ON)"),
        ("t_us", t, t_bad, t_why),
    )
    for name, vals, bad, why in checks:
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ValueError(f"events[{i}].{name} = {int(vals[i])} {why}")
    back = np.diff(t) < 0
    if back.any():
        i = int(np.flatnonzero(back)[0]) + 1
        raise ValueError(
            f"events[{i}].t_us = {int(t[i])} < events[{i - 1}].t_us = {int(t[i - 1])}: "
            f"{fmt} files are in time order (sort_events() first)"
        )
    return t

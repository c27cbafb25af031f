"""N-MNIST binary event files (Orchard et al., Front. Neurosci. 9:437, 2015) and dataset folders.

File format (one ``.bin`` file per recording, no header), 5 bytes = 40 bits per event:

======  =================================================================
byte    content
======  =================================================================
0       x, pixel column, 0..33
1       y, pixel row, 0..33
2       bit 7: polarity (1 = ON, 0 = OFF); bits 6..0: timestamp bits 22..16
3       timestamp bits 15..8
4       timestamp bits 7..0
======  =================================================================

so ``ts = ((b2 & 0x7F) << 16) | (b3 << 8) | b4``, a 23-bit big-endian count of µs. The
counter wraps every 2^23 µs (8.39 s). A record with ``y == 240`` (0xF0) is a *timestamp
overflow marker*, not an event: every later timestamp gets ``+2^23`` µs per preceding marker.
:func:`write_nmnist` emits one marker (x = 0, y = 240, other bits 0) each time an event's time
crosses a multiple of 2^23 µs, so reading back gives the original monotonic 64-bit µs times.

Note on other readers: the reader published with the dataset and the Python readers derived
from it add ``2**13`` (not 2^23) per marker. Real N-MNIST recordings last about 0.3 s and hold
no markers, so the two agree on the real data; 2^23 is the value consistent with a 23-bit
counter and is what this module reads and writes.

Dataset layout (as the released N-MNIST archives unpack): ``<root>/Train/<label>/<id>.bin``
and ``<root>/Test/<label>/<id>.bin``, ``label`` in ``0..9``. Point ``root`` at a real N-MNIST
folder and the same code runs on it; :mod:`rramcim.data.ndigits` writes its stand-in in this
layout and format.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

import numpy as np

from rramcim.data.events import (
    EVENT_DTYPE,
    SplitMode,
    as_events,
    check_writable,
    events_to_frames,
)

NMNIST_SIZE = 34
"""Width and height of N-MNIST frames, pixels."""
OVERFLOW_Y = 240
"""``y`` byte of a timestamp-overflow marker record."""
TS_BITS = 23
"""Width of the stored timestamp, bits."""
OVERFLOW_US = 1 << TS_BITS
"""Time added per overflow marker, µs (2^23)."""
RECORD_BYTES = 5
"""Bytes per stored record."""
SPLITS = ("Train", "Test")
"""Sub-folders of a dataset root."""

Split = Literal["Train", "Test"]


class NmnistFormatError(ValueError):
    """A file or folder does not follow the N-MNIST format or layout."""


def decode_nmnist(
    data: bytes | np.ndarray,
    *,
    source: str = "<bytes>",
    width: int = NMNIST_SIZE,
    height: int = NMNIST_SIZE,
) -> np.ndarray:
    """Decode N-MNIST records held in memory.

    Args:
        data: the file contents.
        source: name used in error messages (the file path).
        width: sensor columns; an event with ``x >= width`` is an error.
        height: sensor rows; an event with ``y >= height`` (and ``y != 240``) is an error.

    Returns:
        Events (:data:`EVENT_DTYPE`), in file order, overflow markers applied and removed.

    Raises:
        NmnistFormatError: truncated record or out-of-range coordinate, naming ``source``,
            the byte offset and the value.
    """
    raw = np.frombuffer(data, dtype=np.uint8) if isinstance(data, bytes | bytearray) else data
    raw = np.asarray(raw, dtype=np.uint8).reshape(-1)
    n_bytes = raw.size
    if n_bytes % RECORD_BYTES:
        off = n_bytes - n_bytes % RECORD_BYTES
        raise NmnistFormatError(
            f"{source}: {n_bytes} bytes is not a multiple of {RECORD_BYTES}; the record at "
            f"byte offset {off} is truncated ({n_bytes - off} of {RECORD_BYTES} bytes present)"
        )
    rec = raw.reshape(-1, RECORD_BYTES)
    x = rec[:, 0]
    y = rec[:, 1]
    marker = y == OVERFLOW_Y
    for col, name, size in ((0, "x", width), (1, "y", height)):
        bad = (rec[:, col] >= size) & ~marker
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise NmnistFormatError(
                f"{source}: byte offset {i * RECORD_BYTES + col} (record {i}): "
                f"{name} = {int(rec[i, col])} is outside 0..{size - 1}"
            )
    b2 = rec[:, 2].astype(np.int64)
    ts = ((b2 & 0x7F) << 16) | (rec[:, 3].astype(np.int64) << 8) | rec[:, 4].astype(np.int64)
    wraps = np.cumsum(marker, dtype=np.int64)
    keep = ~marker
    ev = np.empty(int(keep.sum()), dtype=EVENT_DTYPE)
    ev["t_us"] = (ts + wraps * OVERFLOW_US)[keep]
    ev["x"] = x[keep]
    ev["y"] = y[keep]
    ev["p"] = (b2[keep] >> 7).astype(np.int8)
    return ev


def read_nmnist(
    path: str | os.PathLike[str], *, width: int = NMNIST_SIZE, height: int = NMNIST_SIZE
) -> np.ndarray:
    """Read one N-MNIST ``.bin`` file.

    Args:
        path: file path.
        width: sensor columns (34 for N-MNIST).
        height: sensor rows (34 for N-MNIST).

    Returns:
        Events (:data:`EVENT_DTYPE`) with 64-bit µs timestamps; an empty file gives an empty
        array.

    Raises:
        NmnistFormatError: truncated file or out-of-range coordinate (file, byte offset, value).
    """
    data = Path(path).read_bytes()
    return decode_nmnist(data, source=str(path), width=width, height=height)


def encode_nmnist(
    events: np.ndarray, *, width: int = NMNIST_SIZE, height: int = NMNIST_SIZE
) -> bytes:
    """Encode events as N-MNIST records, inserting overflow markers.

    Args:
        events: event array (:data:`EVENT_DTYPE` fields), time order (non-decreasing
            ``t_us``), ``t_us >= 0``.
        width: sensor columns, at most 240 so coordinates fit a byte and differ from markers.
        height: sensor rows, at most 240.

    Returns:
        The file contents.

    Raises:
        ValueError: an invalid event, naming its index, field and value.
    """
    ev = as_events(events)
    if not (1 <= width <= OVERFLOW_Y and 1 <= height <= OVERFLOW_Y):
        raise ValueError(f"sensor {width}x{height} does not fit the N-MNIST byte coordinates")
    n = ev.size
    if n == 0:
        return b""
    t = check_writable(ev, width, height, 0, None, "N-MNIST")
    wraps = t >> TS_BITS
    n_rec = n + int(wraps[-1])
    rec = np.zeros((n_rec, RECORD_BYTES), dtype=np.uint8)
    rec[:, 1] = OVERFLOW_Y  # every row not overwritten by an event is a marker
    row = np.arange(n, dtype=np.int64) + wraps  # event i follows wraps[i] markers
    ts = t & (OVERFLOW_US - 1)
    rec[row, 0] = ev["x"]
    rec[row, 1] = ev["y"]
    rec[row, 2] = ((ev["p"].astype(np.int64) << 7) | (ts >> 16)).astype(np.uint8)
    rec[row, 3] = ((ts >> 8) & 0xFF).astype(np.uint8)
    rec[row, 4] = (ts & 0xFF).astype(np.uint8)
    return rec.tobytes()


def write_nmnist(
    path: str | os.PathLike[str],
    events: np.ndarray,
    *,
    width: int = NMNIST_SIZE,
    height: int = NMNIST_SIZE,
) -> None:
    """Write events as an N-MNIST ``.bin`` file (parent folders are created).

    Args:
        path: file path.
        events: event array in time order, ``t_us >= 0`` (see :func:`encode_nmnist`).
        width: sensor columns.
        height: sensor rows.

    Raises:
        ValueError: an invalid event (index, field and value named); nothing is written.
    """
    data = encode_nmnist(events, width=width, height=height)
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(data)


def list_dataset(root: str | os.PathLike[str], split: Split) -> list[tuple[Path, int]]:
    """The recordings of one split, as ``(path, label)`` pairs.

    Order: by label, then by file name (N-MNIST ids are zero-padded, so this is numeric
    order); the same on every machine.

    Args:
        root: dataset root holding ``Train/`` and ``Test/``.
        split: ``"Train"`` or ``"Test"``.

    Returns:
        The list of ``(path, label)``.

    Raises:
        NmnistFormatError: unknown split, missing folder, or no ``.bin`` file in it.
    """
    if split not in SPLITS:
        raise NmnistFormatError(f"split = {split!r} must be one of {SPLITS}")
    folder = Path(root) / split
    if not folder.is_dir():
        raise NmnistFormatError(
            f"{folder}: no such folder; expected the N-MNIST layout "
            f"<root>/{split}/<label>/<id>.bin (root = {root})"
        )
    items: list[tuple[Path, int]] = []
    for sub in folder.iterdir():
        if sub.is_dir() and sub.name.isdigit():
            label = int(sub.name)
            items.extend((f, label) for f in sub.glob("*.bin") if f.is_file())
    if not items:
        raise NmnistFormatError(
            f"{folder}: no <label>/<id>.bin files found (expected the N-MNIST layout "
            f"<root>/{split}/<label>/<id>.bin)"
        )
    items.sort(key=lambda it: (it[1], it[0].name))
    return items


def _round_robin(items: list[tuple[Path, int]], limit: int) -> list[tuple[Path, int]]:
    """The first ``limit`` items taken label by label in turn (each label in list order)."""
    by_label: dict[int, list[tuple[Path, int]]] = {}
    for it in items:
        by_label.setdefault(it[1], []).append(it)
    labels = sorted(by_label)
    out: list[tuple[Path, int]] = []
    k = 0
    while len(out) < limit and any(k < len(by_label[lb]) for lb in labels):
        for lb in labels:
            if k < len(by_label[lb]) and len(out) < limit:
                out.append(by_label[lb][k])
        k += 1
    return out


def load_frames(
    root: str | os.PathLike[str],
    split: Split,
    T: int = 10,
    split_mode: SplitMode = "time",
    limit: int | None = None,
    *,
    t_window_us: int | None = None,
    progress: bool = False,
    first: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Read a split of an N-MNIST-layout folder and bin every recording into frames.

    Args:
        root: dataset root (real N-MNIST or N-Digits).
        split: ``"Train"`` or ``"Test"``.
        T: frames per recording (PRIME uses 10).
        split_mode: ``"time"`` or ``"number"``, see
            :func:`rramcim.data.events.events_to_frames`.
        limit: keep at most this many recordings, taken round-robin over the labels
            (label 0's first file, label 1's first, ..., then the second files, ...) so a small
            limit stays class-balanced; ``None`` keeps all. Deterministic.
        t_window_us: fixed window of ``"time"`` mode, µs (``None``: each recording's span).
        progress: show a progress bar.
        first: keep only the first this many recordings of the (limited) list, in list order
            (e.g. a prefix of the split without reading the rest); ``None`` keeps all.

    Returns:
        ``(frames, labels)``: uint16 ``[N, T, 2, 34, 34]`` event counts and int64 ``[N]``,
        in :func:`list_dataset` order (restricted to the ``limit`` subset).

    Raises:
        NmnistFormatError: missing or empty folder, or a bad file.
    """
    items = list_dataset(root, split)
    if limit is not None:
        if limit < 1:
            raise ValueError(f"limit = {limit} must be >= 1 or None")
        chosen = set(_round_robin(items, int(limit)))
        items = [it for it in items if it in chosen]
    if first is not None:
        if first < 0:
            raise ValueError(f"first = {first} must be >= 0 or None")
        items = items[: int(first)]
    frames = np.zeros((len(items), int(T), 2, NMNIST_SIZE, NMNIST_SIZE), dtype=np.uint16)
    labels = np.array([lb for _, lb in items], dtype=np.int64)
    it = items
    if progress:
        from tqdm import tqdm

        it = tqdm(items, desc=f"load {split}", unit="file")
    for i, (path, _) in enumerate(it):
        ev = read_nmnist(path)
        try:
            frames[i] = events_to_frames(
                ev, T, NMNIST_SIZE, NMNIST_SIZE, split=split_mode, t_window_us=t_window_us
            )
        except ValueError as exc:
            raise NmnistFormatError(f"{path}: {exc}") from exc
    return frames, labels

"""AEDAT event files (jAER / iniVation): versions 1.0 and 2.0 (DVS128 addresses) and 3.1
(polarity packets).

AEDAT 1.0 / 2.0 (jAER): optional ASCII header lines, each starting with ``#`` and ending with
CRLF (LF accepted); the first line is the version line ``#!AER-DAT2.0`` (no version line means
1.0). Then big-endian records of (address, timestamp): ``uint16`` + ``int32`` (6 bytes) in 1.0,
``uint32`` + ``int32`` (8 bytes) in 2.0. Timestamps are µs; a backward jump of more than 2^31
µs is taken as a wrap of the 32-bit counter and unwrapped. As in jAER, the header ends at the
first line not starting with ``#``; a headerless 1.0 file whose first address byte is 0x23
(``#``) is therefore misread (2.0 DVS128 addresses start with 0x00, so 2.0 is not affected).

DVS128 address (bits): 15 = external/sync event, 14..8 = y, 7..1 = x, 0 = polarity. Decoded
as in jAER's DVS128/Tmpdiff128 extractor for x (``x = 127 - addr[7:1]``); y is turned into a
row from the top (``y = 127 - addr[14:8]``, jAER's origin is bottom-left); sync events
(bit 15) are not pixel events and are counted, not returned.

Polarity: the sources disagree. jAER's extractor (``setFliptype(true)``, "The ON events have
raw polarity 0") and its MATLAB script ``extractRetina128EventsFromAddr.m``
(``pol = 1 - 2*bit0``) take raw bit 0 = 0 as ON; iniVation's AEDAT 1.0 page says '1' means ON.
The default ``raw_on=0`` follows jAER's code, which is what plays the files back; pass
``raw_on=1`` for the other reading. :func:`write_aedat` uses the same argument, so round trips
hold either way.

AEDAT 3.1 (cAER/libcaer): header lines from ``#!AER-DAT3.1`` to ``#!END-HEADER``, then
little-endian event packets: a 28-byte header (int16 eventType, int16 eventSource, int32
eventSize, eventTSOffset, eventTSOverflow, eventCapacity, eventNumber, eventValid) followed by
``eventCapacity * eventSize`` bytes. Polarity packets (type 1, 8-byte events) hold uint32 data
(bit 0 valid, bit 1 polarity 1 = ON, bits 16..2 y, bits 31..17 x, origin top-left) and an
int32 timestamp; the full time is ``eventTSOverflow << 31 | timestamp``. Other packet types
(frames, IMU, special events) are skipped and counted. AEDAT 3.0 and 4.0 are not supported.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from rramcim.data.events import EVENT_DTYPE, as_events, check_writable

DVS128_SIZE = 128
"""Width and height of the DVS128 pixel array."""
SENSOR_SIZES: dict[str, tuple[int, int]] = {
    "dvs128": (128, 128),
    "davis240": (240, 180),
    "davis346": (346, 260),
}
"""(width, height) of known sensors; AEDAT 1.0/2.0 address decoding exists for dvs128 only."""
SYNC_BIT = 0x8000
"""DVS128 address bit of an external (sync) event."""
POLARITY_EVENT = 1
"""AEDAT 3.1 eventType of polarity packets."""
PACKET_HEADER_BYTES = 28
"""AEDAT 3.1 packet header size."""

_HDR_DT = np.dtype(
    [
        ("type", "<i2"),
        ("source", "<i2"),
        ("size", "<i4"),
        ("ts_offset", "<i4"),
        ("ts_overflow", "<i4"),
        ("capacity", "<i4"),
        ("number", "<i4"),
        ("valid", "<i4"),
    ]
)
_POL_DT = np.dtype([("data", "<u4"), ("t", "<i4")])
_VERSION_RE = re.compile(rb"^#!AER-DAT(\d+)\.(\d+)\r?\n$")
_WRAP = 1 << 32


class AedatFormatError(ValueError):
    """A file does not follow the AEDAT format (message names the file and byte offset)."""


@dataclass(frozen=True)
class AedatRecording:
    """The contents of an AEDAT file.

    Attributes:
        path: the file.
        version: format version, e.g. ``"2.0"``.
        header: header lines without their line ending (``#`` kept).
        events: pixel events (:data:`EVENT_DTYPE`), file order.
        n_special: records that are not pixel events (DVS128 sync events; AEDAT 3.1 events of
            other packet types and invalid events).
    """

    path: str
    version: str
    header: tuple[str, ...]
    events: np.ndarray = field(repr=False)
    n_special: int = 0


def _sensor_size(sensor: str) -> tuple[int, int]:
    try:
        return SENSOR_SIZES[sensor]
    except KeyError:
        raise ValueError(f"sensor = {sensor!r} must be one of {sorted(SENSOR_SIZES)}") from None


def _parse_header(data: bytes, source: str) -> tuple[str, list[str], int]:
    """Version, header lines and the byte offset where the binary data starts."""
    pos = 0
    lines: list[str] = []
    version = "1.0"
    n = len(data)
    while pos < n and data[pos] == ord("#"):
        nl = data.find(b"\n", pos)
        if nl < 0:
            raise AedatFormatError(
                f"{source}: byte offset {pos}: header line is not terminated by a newline"
            )
        raw = data[pos : nl + 1]
        if not lines:
            if raw.startswith(b"#!AER-DAT"):
                m = _VERSION_RE.match(raw)
                if not m:
                    raise AedatFormatError(
                        f"{source}: byte offset 0: malformed version line {raw[:40]!r} "
                        "(expected e.g. '#!AER-DAT2.0')"
                    )
                version = f"{int(m.group(1))}.{int(m.group(2))}"
        elif raw.startswith(b"#!AER-DAT"):
            raise AedatFormatError(f"{source}: byte offset {pos}: version line not first")
        try:
            text = raw.rstrip(b"\r\n").decode("ascii")
        except UnicodeDecodeError:
            text = raw.rstrip(b"\r\n").decode("latin-1")
        lines.append(text)
        pos = nl + 1
        if version.startswith("3.") and text == "#!END-HEADER":
            break
    if version not in ("1.0", "2.0", "3.1"):
        raise AedatFormatError(
            f"{source}: byte offset 0: AEDAT {version} is not supported (1.0, 2.0 and 3.1 are)"
        )
    if version == "3.1" and (not lines or lines[-1] != "#!END-HEADER"):
        raise AedatFormatError(
            f"{source}: byte offset {pos}: AEDAT 3.1 header has no '#!END-HEADER' line"
        )
    return version, lines, pos


def _unwrap(ts: np.ndarray) -> np.ndarray:
    t = ts.astype(np.int64)
    if t.size > 1:
        wraps = np.concatenate(([0], np.cumsum(np.diff(t) < -(1 << 31))))
        t = t + wraps * _WRAP
    return t


def decode_dvs128(address: np.ndarray, *, raw_on: int = 0) -> tuple[np.ndarray, ...]:
    """Split DVS128 addresses into ``(x, y, p, is_sync)`` (see the module docstring).

    Args:
        address: uint32 addresses.
        raw_on: value of address bit 0 that means ON (0 in jAER, the default).

    Returns:
        x (column), y (row from the top), p (1 = ON), is_sync (bool).
    """
    a = np.asarray(address, dtype=np.uint32)
    x = (DVS128_SIZE - 1 - ((a >> 1) & 0x7F)).astype(np.int16)
    y = (DVS128_SIZE - 1 - ((a >> 8) & 0x7F)).astype(np.int16)
    p = ((a & 1) == raw_on).astype(np.int8)
    return x, y, p, (a & SYNC_BIT) != 0


def encode_dvs128(x: np.ndarray, y: np.ndarray, p: np.ndarray, *, raw_on: int = 0) -> np.ndarray:
    """DVS128 addresses (uint32) of pixel events; the inverse of :func:`decode_dvs128`."""
    xr = (DVS128_SIZE - 1 - np.asarray(x, dtype=np.int64)).astype(np.uint32)
    yr = (DVS128_SIZE - 1 - np.asarray(y, dtype=np.int64)).astype(np.uint32)
    bit = np.where(np.asarray(p) == 1, raw_on, 1 - raw_on).astype(np.uint32)
    return (yr << 8) | (xr << 1) | bit


def _load_v1_v2(
    data: bytes, pos: int, version: str, source: str, sensor: str, raw_on: int
) -> tuple[np.ndarray, int]:
    if sensor != "dvs128":
        raise ValueError(f"AEDAT {version} address decoding is implemented for dvs128 only")
    addr_dt = ">u2" if version == "1.0" else ">u4"
    rec_bytes = 6 if version == "1.0" else 8
    body = len(data) - pos
    if body % rec_bytes:
        off = pos + body - body % rec_bytes
        raise AedatFormatError(
            f"{source}: {body} data bytes after the header is not a multiple of {rec_bytes}; "
            f"the record at byte offset {off} is truncated ({body % rec_bytes} of {rec_bytes} "
            "bytes present)"
        )
    rec = np.frombuffer(data, dtype=np.dtype([("a", addr_dt), ("t", ">i4")]), offset=pos)
    addr = rec["a"].astype(np.uint32)
    bad = addr > 0xFFFF
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise AedatFormatError(
            f"{source}: byte offset {pos + i * rec_bytes}: address 0x{int(addr[i]):08x} is not a "
            "DVS128 address (bits 31..16 set; DAVIS recordings are not supported)"
        )
    x, y, p, sync = decode_dvs128(addr, raw_on=raw_on)
    t = _unwrap(rec["t"])
    keep = ~sync
    ev = np.empty(int(keep.sum()), dtype=EVENT_DTYPE)
    ev["t_us"], ev["x"], ev["y"], ev["p"] = t[keep], x[keep], y[keep], p[keep]
    return ev, int(sync.sum())


def _load_v31(data: bytes, pos: int, source: str, sensor: str) -> tuple[np.ndarray, int]:
    width, height = _sensor_size(sensor)
    hdr_dt, pol_dt = _HDR_DT, _POL_DT
    chunks: list[np.ndarray] = []
    n_special = 0
    n = len(data)
    while pos < n:
        if n - pos < PACKET_HEADER_BYTES:
            raise AedatFormatError(
                f"{source}: byte offset {pos}: truncated packet header "
                f"({n - pos} of {PACKET_HEADER_BYTES} bytes)"
            )
        h = np.frombuffer(data, dtype=hdr_dt, count=1, offset=pos)[0]
        size, cap, num = int(h["size"]), int(h["capacity"]), int(h["number"])
        if size < 1 or cap < 0 or not 0 <= num <= cap:
            raise AedatFormatError(
                f"{source}: byte offset {pos}: bad packet header (eventSize={size}, "
                f"eventCapacity={cap}, eventNumber={num})"
            )
        start = pos + PACKET_HEADER_BYTES
        end = start + cap * size
        if end > n:
            raise AedatFormatError(
                f"{source}: byte offset {pos}: packet of {cap} x {size} bytes is truncated "
                f"({n - start} bytes present)"
            )
        if int(h["type"]) == POLARITY_EVENT:
            if size != pol_dt.itemsize or int(h["ts_offset"]) != 4:
                raise AedatFormatError(
                    f"{source}: byte offset {pos}: polarity packet with eventSize={size}, "
                    f"eventTSOffset={int(h['ts_offset'])} (expected 8 and 4)"
                )
            rec = np.frombuffer(data, dtype=pol_dt, count=num, offset=start)
            d = rec["data"]
            valid = (d & 1) == 1
            n_special += int((~valid).sum())
            d = d[valid]
            ev = np.empty(d.size, dtype=EVENT_DTYPE)
            ev["t_us"] = (np.int64(int(h["ts_overflow"])) << 31) | rec["t"][valid].astype(np.int64)
            ev["x"] = ((d >> 17) & 0x7FFF).astype(np.int16)
            ev["y"] = ((d >> 2) & 0x7FFF).astype(np.int16)
            ev["p"] = ((d >> 1) & 1).astype(np.int8)
            bad = (ev["x"] >= width) | (ev["y"] >= height)
            if bad.any():
                i = int(np.flatnonzero(valid)[np.flatnonzero(bad)[0]])
                xi, yi = int(rec["data"][i] >> 17 & 0x7FFF), int(rec["data"][i] >> 2 & 0x7FFF)
                raise AedatFormatError(
                    f"{source}: byte offset {start + i * size}: event at (x={xi}, y={yi}) "
                    f"outside the {width}x{height} {sensor} array"
                )
            chunks.append(ev)
        else:
            n_special += num
        pos = end
    events = np.concatenate(chunks) if chunks else np.zeros(0, dtype=EVENT_DTYPE)
    return events, n_special


def load_aedat(
    path: str | os.PathLike[str], sensor: str = "dvs128", *, raw_on: int = 0
) -> AedatRecording:
    """Read an AEDAT 1.0, 2.0 or 3.1 file with its header.

    Args:
        path: file path.
        sensor: ``"dvs128"`` (AEDAT 1.0/2.0 address decoding and 3.1 bounds), or for 3.1 also
            ``"davis240"``/``"davis346"`` (bounds only).
        raw_on: AEDAT 1.0/2.0 only: value of address bit 0 that means ON (module docstring).

    Returns:
        The :class:`AedatRecording`.

    Raises:
        AedatFormatError: bad or unsupported header, truncated data, or an address that is not a
            pixel of ``sensor``, naming the file and byte offset.
    """
    if raw_on not in (0, 1):
        raise ValueError(f"raw_on = {raw_on!r} must be 0 or 1")
    source = str(path)
    data = Path(path).read_bytes()
    version, lines, pos = _parse_header(data, source)
    if version == "3.1":
        events, n_special = _load_v31(data, pos, source, sensor)
    else:
        events, n_special = _load_v1_v2(data, pos, version, source, sensor, raw_on)
    return AedatRecording(source, version, tuple(lines), events, n_special)


def read_aedat(
    path: str | os.PathLike[str], sensor: str = "dvs128", *, raw_on: int = 0
) -> np.ndarray:
    """Pixel events of an AEDAT file (see :func:`load_aedat`).

    Args:
        path: file path.
        sensor: sensor name (``"dvs128"``).
        raw_on: AEDAT 1.0/2.0 polarity convention (module docstring).

    Returns:
        Events (:data:`EVENT_DTYPE`), file order, timestamps in µs as stored (unwrapped).
    """
    return load_aedat(path, sensor, raw_on=raw_on).events


def _check_writable(ev: np.ndarray, width: int, height: int, t_max: int) -> np.ndarray:
    return check_writable(ev, width, height, 0, t_max, "AEDAT")


def write_aedat(
    path: str | os.PathLike[str],
    events: np.ndarray,
    sensor: str = "dvs128",
    *,
    version: str = "2.0",
    raw_on: int = 0,
    comments: Sequence[str] = (),
) -> None:
    """Write events as an AEDAT 2.0 (DVS128 addresses) or 3.1 (polarity packets) file.

    Args:
        path: file path (parent folders are created).
        events: event array in time order, ``0 <= t_us < 2^31`` for 2.0 (no wrap is written).
        sensor: ``"dvs128"`` (2.0 and 3.1) or another :data:`SENSOR_SIZES` key (3.1 only).
        version: ``"2.0"`` or ``"3.1"``.
        raw_on: 2.0 only: value of address bit 0 written for ON events.
        comments: extra header lines (without ``#`` and line ending; no newlines inside).

    Raises:
        ValueError: an event outside the sensor, a bad polarity, a time out of range or out of
            order (index, field and value named), or bad arguments.
    """
    ev = as_events(events)
    width, height = _sensor_size(sensor)
    for c in comments:
        if "\n" in c or "\r" in c:
            raise ValueError(f"header comment {c!r} contains a line break")
    if version == "2.0":
        if sensor != "dvs128":
            raise ValueError("AEDAT 2.0 writing is implemented for dvs128 addresses only")
        if raw_on not in (0, 1):
            raise ValueError(f"raw_on = {raw_on!r} must be 0 or 1")
        t = _check_writable(ev, width, height, (1 << 31) - 1)
        lines = [
            "#!AER-DAT2.0",
            "# This is a raw AE data file - do not edit (written by rramcim)",
            "# Data format is int32 address, int32 timestamp (8 bytes total), "
            "repeated for each event",
            "# Timestamps tick is 1 us",
            "# AEChip: ch.unizh.ini.jaer.chip.retina.DVS128",
            f"# rramcim: x = 127 - addr[7:1], y(row from top) = 127 - addr[14:8], "
            f"ON when addr[0] == {raw_on}",
            *(f"# {c}" for c in comments),
        ]
        rec = np.empty(ev.size, dtype=np.dtype([("a", ">u4"), ("t", ">i4")]))
        rec["a"] = encode_dvs128(ev["x"], ev["y"], ev["p"], raw_on=raw_on)
        rec["t"] = t
        body = rec.tobytes()
    elif version == "3.1":
        t = _check_writable(ev, width, height, (1 << 62) - 1)
        lines = [
            "#!AER-DAT3.1",
            "#Format: RAW",
            f"#Source 0: {sensor.upper()}",
            "#Start-Time: 1970-01-01 00:00:00 (TZ+0000)",
            *(f"# {c}" for c in comments),
            "#!END-HEADER",
        ]
        body = _encode_v31_polarity(ev, t)
    else:
        raise ValueError(f"version = {version!r} must be '2.0' or '3.1'")
    header = "".join(f"{ln}\r\n" for ln in lines).encode("ascii")
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(header + body)


def _encode_v31_polarity(ev: np.ndarray, t: np.ndarray, max_packet: int = 4096) -> bytes:
    """Polarity packets: a new packet every ``max_packet`` events or timestamp-overflow change."""
    out: list[bytes] = []
    overflow = t >> 31
    n = ev.size
    start = 0
    while start < n:
        stop = min(start + max_packet, n)
        same = np.flatnonzero(overflow[start:stop] != overflow[start])
        if same.size:
            stop = start + int(same[0])
        k = stop - start
        hdr = np.array([(POLARITY_EVENT, 0, 8, 4, int(overflow[start]), k, k, k)], dtype=_HDR_DT)
        rec = np.empty(k, dtype=_POL_DT)
        sl = slice(start, stop)
        rec["data"] = (
            (ev["x"][sl].astype(np.uint32) << 17)
            | (ev["y"][sl].astype(np.uint32) << 2)
            | (ev["p"][sl].astype(np.uint32) << 1)
            | np.uint32(1)
        )
        rec["t"] = (t[sl] & ((1 << 31) - 1)).astype(np.int32)
        out.append(hdr.tobytes() + rec.tobytes())
        start = stop
    return b"".join(out)

"""N-MNIST file format and dataset folders: rramcim.data.nmnist.

The byte-level tests build records by hand from the published format (Orchard et al. 2015:
40 bits per event; x, y bytes; polarity in bit 7 of byte 2; 23-bit big-endian µs timestamp;
y = 240 marks a timestamp overflow), independent of the writer.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rramcim.data.events import EVENT_DTYPE, events_to_frames, make_events, sort_events
from rramcim.data.nmnist import (
    OVERFLOW_US,
    NmnistFormatError,
    list_dataset,
    load_frames,
    read_nmnist,
    write_nmnist,
)


def spec_record(x: int, y: int, p: int, ts: int) -> bytes:
    """One 5-byte record written straight from the format description."""
    assert 0 <= ts < 2**23
    return bytes([x, y, (p << 7) | (ts >> 16), (ts >> 8) & 0xFF, ts & 0xFF])


def test_writer_matches_spec_bytes(tmp_path: Path) -> None:
    ev = make_events([0x5ABCDE], [12], [33], [1])
    f = tmp_path / "one.bin"
    write_nmnist(f, ev)
    assert f.read_bytes() == bytes([12, 33, 0xDA, 0xBC, 0xDE])
    assert f.read_bytes() == spec_record(12, 33, 1, 0x5ABCDE)


def test_reader_decodes_hand_built_records(tmp_path: Path) -> None:
    data = (
        spec_record(0, 0, 0, 0)
        + spec_record(33, 1, 1, 1000)
        + spec_record(7, 240, 0, 0)  # overflow marker
        + spec_record(5, 6, 1, 17)
    )
    f = tmp_path / "h.bin"
    f.write_bytes(data)
    ev = read_nmnist(f)
    assert ev.dtype == EVENT_DTYPE
    assert ev["x"].tolist() == [0, 33, 5]
    assert ev["y"].tolist() == [0, 1, 6]
    assert ev["p"].tolist() == [0, 1, 1]
    assert ev["t_us"].tolist() == [0, 1000, OVERFLOW_US + 17]


def test_timestamp_overflow_round_trip(tmp_path: Path) -> None:
    t = [5, OVERFLOW_US - 1, OVERFLOW_US, OVERFLOW_US + 7, 3 * OVERFLOW_US + 1]
    ev = make_events(t, [1, 2, 3, 4, 5], [0, 0, 0, 0, 0], [1, 0, 1, 0, 1])
    f = tmp_path / "ovf.bin"
    write_nmnist(f, ev)
    raw = np.frombuffer(f.read_bytes(), dtype=np.uint8).reshape(-1, 5)
    # markers before the 3rd event (crosses 2^23) and two before the 5th (jumps to 3*2^23)
    assert raw.shape[0] == 5 + 3
    assert raw[:, 1].tolist() == [0, 0, 240, 0, 0, 240, 240, 0]
    back = read_nmnist(f)
    np.testing.assert_array_equal(back, ev)
    assert (np.diff(back["t_us"]) >= 0).all()


def test_round_trip_random(tmp_path: Path) -> None:
    rng = np.random.default_rng((3, 4))
    n = 2000
    ev = sort_events(
        make_events(
            rng.integers(0, 20_000_000, n),
            rng.integers(0, 34, n),
            rng.integers(0, 34, n),
            rng.integers(0, 2, n),
        )
    )
    f = tmp_path / "r.bin"
    write_nmnist(f, ev)
    np.testing.assert_array_equal(read_nmnist(f), ev)


def test_empty_file(tmp_path: Path) -> None:
    f = tmp_path / "empty.bin"
    write_nmnist(f, np.zeros(0, dtype=EVENT_DTYPE))
    assert f.read_bytes() == b""
    ev = read_nmnist(f)
    assert ev.dtype == EVENT_DTYPE and ev.size == 0


def test_truncated_file_names_byte_offset(tmp_path: Path) -> None:
    f = tmp_path / "trunc.bin"
    f.write_bytes(spec_record(1, 1, 1, 1) + spec_record(2, 2, 0, 2) + b"\x03\x03\x80")
    with pytest.raises(NmnistFormatError, match=r"trunc\.bin.*byte offset 10.*3 of 5 bytes"):
        read_nmnist(f)


@pytest.mark.parametrize(("field", "rec", "offset"), [("x", (34, 0), 5), ("y", (0, 35), 6)])
def test_bad_coordinate_names_file_offset_value(
    tmp_path: Path, field: str, rec: tuple[int, int], offset: int
) -> None:
    f = tmp_path / "bad.bin"
    f.write_bytes(spec_record(0, 0, 0, 0) + spec_record(rec[0], rec[1], 1, 9))
    value = rec[0] if field == "x" else rec[1]
    with pytest.raises(
        NmnistFormatError, match=rf"bad\.bin: byte offset {offset} .*{field} = {value} "
    ):
        read_nmnist(f)


@pytest.mark.parametrize(
    ("ev", "msg"),
    [
        (make_events([0, 1], [0, 34], [0, 0], [0, 0]), r"events\[1\]\.x = 34"),
        (make_events([0], [0], [40], [0]), r"events\[0\]\.y = 40"),
        (make_events([-1], [0], [0], [0]), r"events\[0\]\.t_us = -1"),
        (make_events([5, 4], [0, 0], [0, 0], [0, 0]), r"events\[1\]\.t_us = 4 < events\[0\]"),
    ],
)
def test_writer_rejects_invalid_events(tmp_path: Path, ev: np.ndarray, msg: str) -> None:
    f = tmp_path / "w.bin"
    with pytest.raises(ValueError, match=msg):
        write_nmnist(f, ev)
    assert not f.exists()


def test_writer_rejects_bad_polarity(tmp_path: Path) -> None:
    ev = np.zeros(1, dtype=EVENT_DTYPE)
    ev["p"] = 3
    with pytest.raises(ValueError, match=r"events\[0\]\.p = 3"):
        write_nmnist(tmp_path / "p.bin", ev)


# -- dataset folders ----------------------------------------------------------------------


@pytest.fixture()
def small_dataset(tmp_path: Path) -> Path:
    rng = np.random.default_rng((9, 9))
    for split, n_per in (("Train", 3), ("Test", 2)):
        for label in (0, 1, 2):
            for k in range(n_per):
                n = int(rng.integers(10, 200))
                ev = sort_events(
                    make_events(
                        rng.integers(0, 300_000, n),
                        rng.integers(0, 34, n),
                        rng.integers(0, 34, n),
                        rng.integers(0, 2, n),
                    )
                )
                write_nmnist(tmp_path / split / str(label) / f"{10 * label + k:05d}.bin", ev)
    return tmp_path


def test_list_dataset_sorted(small_dataset: Path) -> None:
    items = list_dataset(small_dataset, "Train")
    assert [lb for _, lb in items] == [0, 0, 0, 1, 1, 1, 2, 2, 2]
    assert [p.name for p, _ in items][:3] == ["00000.bin", "00001.bin", "00002.bin"]
    assert items == list_dataset(small_dataset, "Train")


@pytest.mark.parametrize("mode", ["time", "number"])
def test_load_frames(small_dataset: Path, mode: str) -> None:
    fr, lab = load_frames(small_dataset, "Test", T=10, split_mode=mode)  # type: ignore[arg-type]
    assert fr.shape == (6, 10, 2, 34, 34) and fr.dtype == np.uint16
    assert lab.dtype == np.int64 and lab.tolist() == [0, 0, 1, 1, 2, 2]
    for i, (path, _) in enumerate(list_dataset(small_dataset, "Test")):
        ev = read_nmnist(path)
        assert fr[i].sum() == ev.size
        np.testing.assert_array_equal(fr[i], events_to_frames(ev, 10, 34, 34, split=mode))


def test_load_frames_limit_is_class_balanced(small_dataset: Path) -> None:
    _, lab = load_frames(small_dataset, "Train", limit=4)
    assert sorted(lab.tolist()) == [0, 0, 1, 2]


def test_missing_or_empty_dataset(tmp_path: Path) -> None:
    with pytest.raises(NmnistFormatError, match=r"Train: no such folder.*<label>/<id>\.bin"):
        load_frames(tmp_path, "Train")
    (tmp_path / "Test" / "3").mkdir(parents=True)
    with pytest.raises(NmnistFormatError, match=r"Test: no <label>/<id>\.bin files"):
        list_dataset(tmp_path, "Test")
    with pytest.raises(NmnistFormatError, match="split"):
        list_dataset(tmp_path, "Validation")  # type: ignore[arg-type]


def test_load_frames_names_bad_file(small_dataset: Path) -> None:
    bad = small_dataset / "Test" / "1" / "00011.bin"
    bad.write_bytes(bad.read_bytes() + b"\x00")
    with pytest.raises(NmnistFormatError, match=r"00011\.bin.*byte offset"):
        load_frames(small_dataset, "Test")

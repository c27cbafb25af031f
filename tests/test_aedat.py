"""AEDAT 1.0/2.0 (DVS128) and 3.1 (polarity packets) files: rramcim.data.aedat."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest

from rramcim.data.aedat import (
    AedatFormatError,
    decode_dvs128,
    encode_dvs128,
    load_aedat,
    read_aedat,
    write_aedat,
)
from rramcim.data.events import EVENT_DTYPE, make_events, sort_events

V2_HEADER = b"#!AER-DAT2.0\r\n# hand-built\r\n"


def dvs128_events(n: int, seed: int, t_max: int = 2_000_000) -> np.ndarray:
    rng = np.random.default_rng((seed, 5))
    return sort_events(
        make_events(
            rng.integers(0, t_max, n),
            rng.integers(0, 128, n),
            rng.integers(0, 128, n),
            rng.integers(0, 2, n),
        )
    )


def v2_body(records: list[tuple[int, int]]) -> bytes:
    return b"".join(struct.pack(">Ii", a, t) for a, t in records)


def test_round_trip_v2(tmp_path: Path) -> None:
    ev = dvs128_events(3000, 1)
    f = tmp_path / "rec.aedat"
    write_aedat(f, ev, comments=["N-Digits export test"])
    rec = load_aedat(f)
    assert rec.version == "2.0" and rec.n_special == 0
    assert rec.header[0] == "#!AER-DAT2.0"
    assert "# AEChip: ch.unizh.ini.jaer.chip.retina.DVS128" in rec.header
    assert "# N-Digits export test" in rec.header
    np.testing.assert_array_equal(rec.events, ev)


def test_v2_bytes_follow_jaer_dvs128_layout(tmp_path: Path) -> None:
    # (x=0, y=0) is top-left: raw x = 127, raw y = 127 (jAER: x flipped, y from the bottom);
    # ON has raw polarity bit 0 (jAER Tmpdiff128/DVS128 extractor).
    ev = make_events([1234], [0], [0], [1])
    f = tmp_path / "one.aedat"
    write_aedat(f, ev)
    data = f.read_bytes()
    assert data.startswith(b"#!AER-DAT2.0\r\n")
    assert data[-8:] == struct.pack(">Ii", (127 << 8) | (127 << 1) | 0, 1234)
    f2 = tmp_path / "one_raw_on1.aedat"
    write_aedat(f2, ev, raw_on=1)
    assert f2.read_bytes()[-8:] == struct.pack(">Ii", (127 << 8) | (127 << 1) | 1, 1234)
    np.testing.assert_array_equal(read_aedat(f2, raw_on=1), ev)
    assert read_aedat(f2)["p"].tolist() == [0]  # read with the other convention


def test_address_codec_inverse() -> None:
    x, y, p = np.arange(128), np.arange(128)[::-1], np.arange(128) % 2
    a = encode_dvs128(x, y, p)
    dx, dy, dp, sync = decode_dvs128(a)
    assert dx.tolist() == x.tolist() and dy.tolist() == y.tolist() and dp.tolist() == p.tolist()
    assert not sync.any()


def test_hand_built_v2_with_sync_event_and_lf_header(tmp_path: Path) -> None:
    addr_on = (127 - 5) << 8 | (127 - 9) << 1 | 0  # x=9, y=5, ON
    data = b"#!AER-DAT2.0\n# LF-only line\n" + v2_body([(addr_on, 10), (0x8000, 11), (1, 12)])
    f = tmp_path / "h.aedat"
    f.write_bytes(data)
    rec = load_aedat(f)
    assert rec.n_special == 1
    assert rec.events["x"].tolist() == [9, 127]
    assert rec.events["y"].tolist() == [5, 127]
    assert rec.events["p"].tolist() == [1, 0]
    assert rec.events["t_us"].tolist() == [10, 12]


def test_timestamp_wrap_is_unwrapped(tmp_path: Path) -> None:
    f = tmp_path / "wrap.aedat"
    f.write_bytes(V2_HEADER + v2_body([(0, 2**31 - 2), (0, -(2**31) + 3)]))
    assert read_aedat(f)["t_us"].tolist() == [2**31 - 2, 2**31 + 3]


def test_v1_without_header(tmp_path: Path) -> None:
    f = tmp_path / "v1.dat"
    f.write_bytes(struct.pack(">Hi", (127 - 2) << 8 | (127 - 3) << 1 | 1, 77))
    rec = load_aedat(f)
    assert rec.version == "1.0" and rec.header == ()
    assert rec.events.tolist() == [(77, 3, 2, 0)]


def test_truncated_v2_names_file_and_offset(tmp_path: Path) -> None:
    f = tmp_path / "t.aedat"
    f.write_bytes(V2_HEADER + v2_body([(0, 1), (2, 3)]) + b"\x00\x00\x01")
    off = len(V2_HEADER) + 16
    with pytest.raises(AedatFormatError, match=rf"t\.aedat.*byte offset {off}.*3 of 8"):
        read_aedat(f)


@pytest.mark.parametrize(
    ("data", "msg"),
    [
        (b"#!AER-DAT2.x\r\n", r"byte offset 0: malformed version line"),
        (b"#!AER-DAT4.0\r\n", r"AEDAT 4.0 is not supported"),
        (b"#!AER-DAT2.0\r\n# no newline", r"byte offset 14: header line is not terminated"),
        (b"#!AER-DAT3.1\r\n#Format: RAW\r\n", r"no '#!END-HEADER'"),
        (b"# comment\r\n#!AER-DAT2.0\r\n", r"byte offset 11: version line not first"),
    ],
)
def test_bad_header(tmp_path: Path, data: bytes, msg: str) -> None:
    f = tmp_path / "bad.aedat"
    f.write_bytes(data)
    with pytest.raises(AedatFormatError, match=rf"bad\.aedat.*{msg}"):
        load_aedat(f)


def test_davis_address_rejected(tmp_path: Path) -> None:
    f = tmp_path / "davis.aedat"
    f.write_bytes(V2_HEADER + v2_body([(0, 1), (0x80000000, 2)]))
    with pytest.raises(AedatFormatError, match=rf"byte offset {len(V2_HEADER) + 8}.*0x80000000"):
        read_aedat(f)


def test_writer_rejects_invalid(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"events\[0\]\.x = 128"):
        write_aedat(tmp_path / "a.aedat", make_events([0], [128], [0], [0]))
    with pytest.raises(ValueError, match=r"events\[1\]\.t_us = 1 < events\[0\]"):
        write_aedat(tmp_path / "a.aedat", make_events([2, 1], [0, 0], [0, 0], [0, 0]))
    with pytest.raises(ValueError, match=r"t_us = 2147483648 not in"):
        write_aedat(tmp_path / "a.aedat", make_events([2**31], [0], [0], [0]))
    assert not (tmp_path / "a.aedat").exists()


def test_empty_v2(tmp_path: Path) -> None:
    f = tmp_path / "e.aedat"
    write_aedat(f, np.zeros(0, dtype=EVENT_DTYPE))
    ev = read_aedat(f)
    assert ev.dtype == EVENT_DTYPE and ev.size == 0


# -- AEDAT 3.1 ----------------------------------------------------------------------------


def test_round_trip_v31_with_overflow_and_foreign_packet(tmp_path: Path) -> None:
    ev = dvs128_events(9000, 2)  # > one packet of 4096
    late = make_events([2**31 + 5, 2**32 + 9], [1, 2], [3, 4], [1, 0])  # new ts_overflow
    ev = np.concatenate([ev, late])
    f = tmp_path / "r.aedat"
    write_aedat(f, ev, version="3.1")
    rec = load_aedat(f)
    assert rec.version == "3.1" and rec.header[-1] == "#!END-HEADER"
    np.testing.assert_array_equal(rec.events, ev)
    # append an IMU-like packet (type 3, 2 events of 12 bytes) and an invalid polarity event
    imu = struct.pack("<hhiiiiii", 3, 0, 12, 8, 0, 2, 2, 2) + bytes(24)
    bad_pol = struct.pack("<hhiiiiii", 1, 0, 8, 4, 0, 1, 1, 0) + struct.pack("<Ii", 0, 1)
    f.write_bytes(f.read_bytes() + imu + bad_pol)
    rec2 = load_aedat(f)
    assert rec2.n_special == 3
    np.testing.assert_array_equal(rec2.events, ev)


def test_v31_hand_built_polarity_packet(tmp_path: Path) -> None:
    data_word = (17 << 17) | (9 << 2) | (1 << 1) | 1  # x=17, y=9, ON, valid
    body = struct.pack("<hhiiiiii", 1, 0, 8, 4, 1, 1, 1, 1) + struct.pack("<Ii", data_word, 5)
    f = tmp_path / "h31.aedat"
    f.write_bytes(b"#!AER-DAT3.1\r\n#Format: RAW\r\n#!END-HEADER\r\n" + body)
    assert read_aedat(f).tolist() == [((1 << 31) | 5, 17, 9, 1)]


def test_v31_truncated_packet(tmp_path: Path) -> None:
    hdr = b"#!AER-DAT3.1\r\n#!END-HEADER\r\n"
    body = struct.pack("<hhiiiiii", 1, 0, 8, 4, 0, 2, 2, 2) + bytes(12)
    f = tmp_path / "t31.aedat"
    f.write_bytes(hdr + body)
    with pytest.raises(AedatFormatError, match=rf"byte offset {len(hdr)}: packet .*truncated"):
        read_aedat(f)
    f.write_bytes(hdr + body[:10])
    with pytest.raises(AedatFormatError, match=r"truncated packet header \(10 of 28"):
        read_aedat(f)

"""Unit tests of rramcim.golden.fourier_enc (the reference of rtl/cim_fourier_enc.sv).

Bit level: the vectorised model against :func:`_ref_scalar`, a literal plain-integer
transcription of the RTL header's contract (tables rebuilt from ``math``), on random phases
and every corner (quadrant boundaries, wrap, the phase extremes). The RTL's ``atan32`` table
and ``K32`` constant are parsed from the source and compared with the model's.

Accuracy: for every fraction code (phase_f = 16, 65536 phases) the error against float64
sin/cos stays within :func:`error_bound_lsb` and matches :data:`MEASURED_ERR_LSB`.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pytest

from rramcim.golden.fourier_enc import (
    ATAN32,
    COUNTER_MAX,
    K32,
    MEASURED_ERR_LSB,
    FourierEncConfig,
    FourierEncModel,
    error_bound_lsb,
    float_error_lsb,
    fourier_enc,
    phase_code,
)

RTL = Path(__file__).resolve().parents[1] / "rtl" / "cim_fourier_enc.sv"


@pytest.fixture
def cfg() -> FourierEncConfig:
    """The RTL defaults: PHASE_W 16, PHASE_F 14, OUT_W 16, ITERS 16."""
    return FourierEncConfig()


def _ref_scalar(p: int, c: FourierEncConfig) -> tuple[int, int, bool, bool]:
    """The contract with Python integers, tables recomputed here."""

    def rnd(v: int, sh: int) -> int:
        return v if sh == 0 else (v + (1 << (sh - 1))) // (1 << sh)

    zf = max(c.phase_f, c.out_w + 8)
    xf = c.out_w + 4
    k = 1.0
    for i in range(20):
        k /= math.sqrt(1.0 + 4.0**-i)
    x = rnd(round(k * 2**32), 32 - xf)
    y = 0
    u = p % (1 << c.phase_f)
    q = (u // (1 << (c.phase_f - 2)) + (u >> (c.phase_f - 3)) % 2) % 4
    z0 = u % (1 << (c.phase_f - 2))
    if z0 >= 1 << (c.phase_f - 3):
        z0 -= 1 << (c.phase_f - 2)
    z = z0 * 2 ** (zf - c.phase_f)
    for i in range(c.iters):
        a = rnd(round(math.atan(2.0**-i) / (2 * math.pi) * 2**32), 32 - zf)
        d = 1 if z >= 0 else -1
        x, y, z = x - d * (y // 2**i), y + d * (x // 2**i), z - d * a
    s, co = [(y, x), (x, -y), (-y, -x), (-x, y)][q]
    hi, lo = (1 << (c.out_w - 1)) - 1, -(1 << (c.out_w - 1))
    rs, rc = (s + 16) // 32, (co + 16) // 32  # 5 guard bits, half up
    return min(max(rs, lo), hi), min(max(rc, lo), hi), not lo <= rs <= hi, not lo <= rc <= hi


CFGS = [
    FourierEncConfig(),
    FourierEncConfig(phase_w=8, phase_f=4, out_w=8, iters=8, tag_w=1),
    FourierEncConfig(phase_w=32, phase_f=32, out_w=24, iters=20, tag_w=32),
    FourierEncConfig(phase_w=24, phase_f=10, out_w=12, iters=11),
]


@pytest.mark.parametrize("c", CFGS, ids=lambda c: f"p{c.phase_w}f{c.phase_f}o{c.out_w}i{c.iters}")
def test_matches_scalar_contract(c: FourierEncConfig) -> None:
    rng = np.random.default_rng(5)
    f = c.phase_f
    corners = [c.phase_min, c.phase_max, 0, -1, 1]
    for q in range(8):  # octant boundaries and their neighbours
        b = q << (f - 3)
        corners += [b - 1, b, b + 1]
    p = np.array(
        [v for v in corners if c.phase_min <= v <= c.phase_max]
        + list(rng.integers(c.phase_min, c.phase_max, 400, endpoint=True)),
        dtype=np.int64,
    )
    s, co, ss, sc = fourier_enc(p, c)
    for i, v in enumerate(p):
        assert (int(s[i]), int(co[i]), bool(ss[i]), bool(sc[i])) == _ref_scalar(int(v), c), v


def test_wrap_is_exact(cfg: FourierEncConfig) -> None:
    """A whole number of turns changes nothing (the integer part of the phase wraps)."""
    turn = 1 << cfg.phase_f
    p = np.arange(-turn, turn - 1, 7, dtype=np.int64)
    p2 = np.where(p + turn <= cfg.phase_max, p + turn, p - turn)
    a, b = fourier_enc(p, cfg), fourier_enc(p2, cfg)
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)


def test_exact_angles(cfg: FourierEncConfig) -> None:
    """0, 1/4, 1/2, 3/4 turn give (0, +1), (+1, 0), (0, -1), (-1, 0) within one LSB; +1
    saturates to the largest code."""
    q = 1 << (cfg.phase_f - 2)
    s, c, ss, sc = fourier_enc(np.array([0, q, 2 * q, 3 * q]), cfg)
    full = cfg.out_max
    assert np.abs(s - [0, full, 0, -full - 1]).max() <= 1
    assert np.abs(c - [full, 0, -full - 1, 0]).max() <= 1
    assert c[0] == full and s[1] == full
    assert sc[0] or ss[1]  # +1.0 rounds to 2^(out_w-1): saturated


@pytest.mark.parametrize(("out_w", "iters"), sorted(MEASURED_ERR_LSB))
def test_error_every_phase(out_w: int, iters: int) -> None:
    """Max error vs float sin/cos over every fraction code (phase_f 16) within the bound."""
    c = FourierEncConfig(phase_w=16, phase_f=16, out_w=out_w, iters=iters)
    es, ec = float_error_lsb(np.arange(c.phase_min, c.phase_max + 1), c)
    bound = error_bound_lsb(c)
    assert max(es, ec) <= bound
    assert max(es, ec) <= MEASURED_ERR_LSB[(out_w, iters)] <= max(es, ec) + 0.1


@pytest.mark.parametrize("iters", [8, 13, 20])
@pytest.mark.parametrize("out_w", [8, 12, 24])
def test_error_bound_dense(out_w: int, iters: int) -> None:
    c = FourierEncConfig(phase_w=20, phase_f=18, out_w=out_w, iters=iters)
    p = np.arange(0, 1 << 18, 3)
    assert max(float_error_lsb(p, c)) <= error_bound_lsb(c)


def test_rtl_tables_match() -> None:
    """The RTL's atan32 table and K32 equal the model's constants."""
    text = RTL.read_text()
    table = {int(i): int(v) for i, v in re.findall(r"^\s+(\d+):\s+atan32 = 32'd(\d+);", text, re.M)}
    assert table == dict(enumerate(ATAN32))
    assert int(re.search(r"K32 = 32'd(\d+);", text).group(1)) == K32


def test_phase_code(cfg: FourierEncConfig) -> None:
    assert int(phase_code(0.25, cfg)) == 1 << (cfg.phase_f - 2)
    assert int(phase_code(-0.5, cfg)) == -(1 << (cfg.phase_f - 1))
    big = 2.0 ** (cfg.phase_w - cfg.phase_f)  # outside the range: wraps by whole turns
    assert int(phase_code(big + 0.25, cfg)) == 1 << (cfg.phase_f - 2)
    with pytest.raises(ValueError, match="not finite"):
        phase_code(float("nan"), cfg)


def test_model_counts(cfg: FourierEncConfig) -> None:
    m = FourierEncModel(cfg)
    b = m.process(0, 3)
    assert b.tag == 3 and b.cos == cfg.out_max and b.quadrant == 0
    assert m.sat_count == bin(b.sat).count("1")
    m.sat_count = COUNTER_MAX
    m.process(0, 0)
    assert m.sat_count == COUNTER_MAX
    m.reset()
    assert m.sat_count == 0
    with pytest.raises(ValueError, match="tag"):
        m.process(0, 1 << cfg.tag_w)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("phase_w", 7),
        ("phase_w", 33),
        ("phase_f", 3),
        ("phase_f", 17),
        ("out_w", 25),
        ("iters", 7),
        ("iters", 21),
        ("tag_w", 0),
        ("iters", 12.0),
        ("out_w", True),
    ],
)
def test_bad_config(field: str, value: object) -> None:
    with pytest.raises(ValueError, match=field):
        FourierEncConfig(**{field: value})


def test_bad_inputs(cfg: FourierEncConfig) -> None:
    with pytest.raises(ValueError, match="phase"):
        fourier_enc(np.array([cfg.phase_max + 1]), cfg)
    with pytest.raises(ValueError, match="dtype"):
        fourier_enc(np.array([0.5]), cfg)
    with pytest.raises(ValueError, match="FOO"):
        FourierEncConfig.from_hdl({"FOO": 1})
    assert FourierEncConfig.from_hdl({"ITERS": 9}).iters == 9

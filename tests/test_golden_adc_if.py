"""Unit tests of rramcim.golden.adc_if (the reference of rtl/cim_adc_if.sv); no simulator."""

from __future__ import annotations

import random

import numpy as np
import pytest

from rramcim.golden.adc_if import (
    COUNTER_MAX,
    AdcIfConfig,
    AdcIfModel,
    code_limits,
    pack_codes,
    pack_flags,
    response_latency_cycles,
    saturation_flags,
    start_offset_cycles,
    unpack_codes,
)


@pytest.fixture
def cfg() -> AdcIfConfig:
    return AdcIfConfig(n_adc=4, adc_bits=6, n_groups=6, t_settle_cyc=2, t_timeout_cyc=16)


@pytest.mark.parametrize(("bits", "lo", "hi"), [(2, -2, 1), (6, -32, 31), (16, -32768, 32767)])
def test_code_limits(bits: int, lo: int, hi: int) -> None:
    assert code_limits(bits) == (lo, hi)


@pytest.mark.parametrize("bits", [1, 17, 0])
def test_code_limits_rejects_bad_width(bits: int) -> None:
    with pytest.raises(ValueError, match="adc_bits"):
        code_limits(bits)


def test_saturation_flags_extremes_only() -> None:
    flags = saturation_flags([-32, -31, 0, 30, 31, -1], 6)
    assert flags.tolist() == [True, False, False, False, True, False]


def test_saturation_flags_two_bit_adc() -> None:
    # With 2 bits only -1 and 0 are unsaturated.
    assert saturation_flags([-2, -1, 0, 1], 2).tolist() == [True, False, False, True]


def test_saturation_flags_batch_shape() -> None:
    codes = np.array([[127, 0, -128], [1, 2, 3]])
    flags = saturation_flags(codes, 8)
    assert flags.shape == (2, 3)
    assert flags.tolist() == [[True, False, True], [False, False, False]]


@pytest.mark.parametrize("bad", [[32], [-33], [0.5]])
def test_saturation_flags_rejects_out_of_range(bad: list[float]) -> None:
    with pytest.raises(ValueError, match="codes"):
        saturation_flags(bad, 6)


@pytest.mark.parametrize("bits", [2, 5, 8, 16])
def test_pack_unpack_roundtrip(bits: int) -> None:
    rng = random.Random(f"pack:{bits}")
    lo, hi = code_limits(bits)
    for n in (1, 3, 32):
        codes = [rng.randint(lo, hi) for _ in range(n)] + [lo, hi][: max(0, n - 1)]
        codes = codes[:n]
        word = pack_codes(codes, bits)
        assert 0 <= word < 1 << (n * bits)
        assert unpack_codes(word, n, bits).tolist() == codes


def test_pack_layout() -> None:
    # channel 0 in the low bits, two's complement
    assert pack_codes([-1, 1], 4) == 0x1F
    assert pack_flags([True, False, True]) == 0b101


def test_unpack_rejects_wide_word() -> None:
    with pytest.raises(ValueError, match="word"):
        unpack_codes(1 << 12, 2, 6)


def test_config_validation() -> None:
    with pytest.raises(ValueError, match="n_adc"):
        AdcIfConfig(n_adc=0)
    with pytest.raises(ValueError, match="t_settle_cyc"):
        AdcIfConfig(t_settle_cyc=256)
    with pytest.raises(ValueError, match="t_timeout_cyc"):
        AdcIfConfig(t_timeout_cyc=0)
    with pytest.raises(ValueError, match="n_groups"):
        AdcIfConfig(n_groups=4097)
    with pytest.raises(ValueError, match="unknown"):
        AdcIfConfig.from_hdl({"N_ADCS": 4})


@pytest.mark.parametrize(
    ("n_groups", "mux_w", "bad"),
    [(1, 1, [1]), (2, 1, []), (6, 3, [6, 7]), (8, 3, []), (4096, 12, [])],
)
def test_mux_width_and_bad_groups(n_groups: int, mux_w: int, bad: list[int]) -> None:
    c = AdcIfConfig(n_groups=n_groups)
    assert c.mux_w == mux_w
    assert list(c.bad_groups) == bad


def test_from_hdl_matches_fields() -> None:
    c = AdcIfConfig.from_hdl({"N_ADC": 8, "ADC_BITS": 10, "N_GROUPS": 4, "T_SETTLE_CYC": 0})
    assert (c.n_adc, c.adc_bits, c.n_groups, c.t_settle_cyc) == (8, 10, 4, 0)
    assert c.code_w == 80


def test_timing(cfg: AdcIfConfig) -> None:
    assert start_offset_cycles(cfg) == 3
    assert response_latency_cycles(cfg, 0, 1) == 2 + 1 + 2
    assert response_latency_cycles(cfg, 0, 16) == 2 + 16 + 2  # done on the last WAIT cycle
    assert response_latency_cycles(cfg, 0, 17) == 2 + 16 + 2  # one cycle late: timeout
    assert response_latency_cycles(cfg, 0, None) == 2 + 16 + 2
    assert response_latency_cycles(cfg, 6, 3) == 1  # bad group: no conversion
    with pytest.raises(ValueError, match="t_conv_cyc"):
        response_latency_cycles(cfg, 0, 0)


def test_model_conversion(cfg: AdcIfConfig) -> None:
    m = AdcIfModel(cfg)
    r = m.respond(2, [-32, 5, 31, -31])
    assert r.codes == (-32, 5, 31, -31)
    assert r.sat == (True, False, True, False)
    assert r.sat_word == 0b0101
    assert r.code_word == pack_codes([-32, 5, 31, -31], 6)
    assert not r.timeout
    assert (m.conv_count, m.sat_count, m.err_timeout, m.err_group) == (1, 2, False, False)


def test_model_timeout_counts_conversion(cfg: AdcIfConfig) -> None:
    m = AdcIfModel(cfg)
    r = m.respond(0, None)
    assert r.timeout and r.code_word == 0 and r.sat_word == 0
    assert (m.conv_count, m.sat_count, m.err_timeout) == (1, 0, True)
    m.respond(1, [0, 0, 0, 0])
    assert m.err_timeout  # sticky


def test_model_bad_group(cfg: AdcIfConfig) -> None:
    m = AdcIfModel(cfg)
    r = m.respond(7, [31, 31, 31, 31])  # codes are ignored: no conversion starts
    assert not r.timeout and r.code_word == 0 and r.sat_word == 0
    assert (m.conv_count, m.sat_count, m.err_group) == (0, 0, True)
    with pytest.raises(ValueError, match="group"):
        m.respond(8, None)  # does not fit in 3 select bits


def test_model_rejects_bad_codes(cfg: AdcIfConfig) -> None:
    m = AdcIfModel(cfg)
    with pytest.raises(ValueError, match="shape"):
        m.respond(0, [0, 0, 0])
    with pytest.raises(ValueError, match="out of the ADC range"):
        m.respond(0, [0, 0, 0, 32])


def test_model_counters_saturate(cfg: AdcIfConfig) -> None:
    m = AdcIfModel(cfg, sat_count=COUNTER_MAX - 1, conv_count=COUNTER_MAX)
    m.respond(0, [31, -32, 31, 0])
    assert m.sat_count == COUNTER_MAX
    assert m.conv_count == COUNTER_MAX


def test_model_reset(cfg: AdcIfConfig) -> None:
    m = AdcIfModel(cfg)
    m.respond(0, None)
    m.respond(7, None)
    m.reset()
    assert (m.conv_count, m.sat_count, m.err_timeout, m.err_group) == (0, 0, False, False)


def test_count_batch_equals_respond(cfg: AdcIfConfig) -> None:
    rng = np.random.default_rng(1234)
    codes = rng.integers(-32, 32, size=(50, 4))
    codes[::7, 1] = 31
    codes[::5, 2] = -32
    a, b = AdcIfModel(cfg), AdcIfModel(cfg)
    sat = a.count_batch(codes)
    for row in codes:
        b.respond(0, row)
    assert (a.conv_count, a.sat_count) == (b.conv_count, b.sat_count)
    assert sat.sum() == b.sat_count

"""Unit tests of the neural-field datapath's integer pipeline (rramcim.golden.nfield_top)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from rramcim.golden.haq_combine import haq_combine_float
from rramcim.golden.nfield_top import (
    COMBINE_MAX_BITS,
    LayerConsts,
    NfieldHwConfig,
    combine_layer,
    coord_codes,
    gain_phase,
    input_code,
    layer_combine_config,
    quantize_gain,
)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("coord_bits", 3),
        ("in_bits", 16),
        ("n_cells", 1),
        ("enc_adc_bits", 17),
        ("mlp_adc_bits", 3),
        ("cordic_iters", 7),
        ("sin_w", 7),
        ("phase_f", 40),
        ("comb_radix_f", 21),
        ("ratio_q8", 256),
        ("out_frac", 0),
        ("mlp_fs_margin", float("nan")),
        ("enc_ref", "magic"),
        ("compensate", 1),
        ("device", ""),
    ],
)
def test_config_rejects_bad_values(field: str, value: object) -> None:
    with pytest.raises(ValueError, match=field) as ei:
        NfieldHwConfig(**{field: value})
    assert repr(value) in str(ei.value) or str(value) in str(ei.value)


def test_config_defaults_and_layer_bits() -> None:
    c = NfieldHwConfig()
    assert c.l0_bits == 9 and c.layer_bits(0) == 9 and c.layer_bits(2) == 8
    assert c.fourier().out_w == c.sin_w
    assert c.replace(coord_bits=6).l0_bits == 8
    with pytest.raises(ValueError, match="sin_w"):
        NfieldHwConfig(in_bits=12, sin_w=10)


@pytest.mark.parametrize("g", [1e-6, 0.013, 1.0, 3.7, 1234.5])
def test_quantize_gain(g: float) -> None:
    gain, shift = quantize_gain(g, 16)
    assert 2**14 <= gain <= 2**15
    assert abs(gain / 2**shift - g) <= g * 2.0**-15
    with pytest.raises(ValueError, match="gain"):
        quantize_gain(-1.0, 16)
    with pytest.raises(ValueError, match="negative shift"):
        quantize_gain(2.0**40, 16)


def test_coord_codes_exact_pixel_centres() -> None:
    n = 128
    x = (np.arange(n) + 0.5) / n
    c = coord_codes(x, 8)
    assert np.array_equal(c, 2 * np.arange(n) + 1)
    for bad in (1.0, -0.01, float("nan")):
        with pytest.raises(ValueError, match="outside"):
            coord_codes(np.array([0.5, bad]), 8)


def test_input_code_rounds_and_counts_clamps() -> None:
    cfg = NfieldHwConfig()  # sin_w 12 -> in_bits 8: shift 4
    v = np.array([2047, 2040, 2039, -2048, 8, 7, -8, -9])
    y, n = input_code(v, cfg)
    assert y.tolist() == [127, 127, 127, -128, 1, 0, 0, -1]
    assert n == 2  # 2047 and 2040 round to 128 and clamp


def test_gain_phase_wraps_whole_turns() -> None:
    cfg = NfieldHwConfig(phase_w=20, phase_f=16)
    v = np.array([3, -5, 1 << 30])
    p = gain_phase(v, 3, 0, cfg)
    assert p.tolist()[:2] == [9, -15]
    # only the fraction of a turn matters: the wrapped phase is congruent mod 2**phase_f
    assert (int(p[2]) - 3 * (1 << 30)) % (1 << cfg.phase_f) == 0


def _layer(cfg: NfieldHwConfig, in_bits: int, n_out: int) -> LayerConsts:
    comb, pre = layer_combine_config(cfg, in_bits)
    return LayerConsts(
        n_in=4, n_out=n_out, in_bits=in_bits, bias_code=1 << (in_bits - 2), pre_shift=pre,
        comb=comb, gain=1, shift=0, last=False, w_max=1.0, cpc=1.0,
    )  # fmt: skip


def test_pre_shift_keeps_combiner_in_range() -> None:
    cfg = NfieldHwConfig()
    for L in (8, 9):
        comb, pre = layer_combine_config(cfg, L)
        assert comb.adc_bits == min(COMBINE_MAX_BITS, L + cfg.mlp_adc_bits)
        assert pre == max(0, L + cfg.mlp_adc_bits - COMBINE_MAX_BITS)


@pytest.mark.parametrize("in_bits", [8, 9])
def test_combine_layer_matches_float_and_never_saturates(in_bits: int) -> None:
    cfg = NfieldHwConfig()
    n_out = 3
    lc = _layer(cfg, in_bits, n_out)
    n = cfg.n_cells
    acc_bits = in_bits + cfg.mlp_adc_bits  # the read path's accumulator width
    gen = np.random.default_rng(5)
    # extremes of the signed read path: sum_b s_b 2**b code_b with |code| <= 2**(ADC-1)
    a_half, l_half = 2 ** (cfg.mlp_adc_bits - 1), 2 ** (in_bits - 1)
    hi = 2 ** (acc_bits - 1) - l_half - a_half + 1
    lo = -(2 ** (acc_bits - 1)) + a_half + l_half
    acc = gen.integers(lo, hi + 1, size=(64, n_out * n + 1))
    acc[0], acc[1] = hi, lo  # extremes
    acc[2, : n_out * n], acc[2, -1] = hi, lo
    acc[3, : n_out * n], acc[3, -1] = lo, hi
    y, cnt = combine_layer(acc, lc)
    assert cnt == {"pre_clamp": 0, "offset_clamp": 0, "comb_sat": 0}
    a = np.floor(acc / 2.0**lc.pre_shift + 0.5)
    ref = haq_combine_float(a[:, :-1].reshape(64, n_out, n), 0.0, cfg.ratio_q8 / 256.0)
    ratio = cfg.ratio_q8 / 256.0
    ref -= 0.5 * a[:, -1:] * sum(ratio**-k for k in range(n))
    ref *= 2.0 ** (lc.comb.radix_f - lc.comb.out_shift)
    # R_k rounding (<= 0.5 each, |a| < 2**(A-1)) + offset rounding + output rounding
    bound = (n + 0.5 * n) * 0.5 * 2.0 ** (lc.comb.adc_bits - 1) / 2.0**lc.comb.out_shift + 1.5
    assert np.abs(y - ref).max() <= bound
    assert math.isfinite(bound)

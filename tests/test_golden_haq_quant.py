"""Unit tests of rramcim.golden.haq_quant (the reference of rtl/cim_haq_quant.sv); no simulator.

- Radix constants: the recurrence, its bound against the exact ``2**F / ratio**k``.
- Integer decision rule against an exact-rational transcription of the float algorithm
  (``fractions.Fraction``, same radix constants, any verify codes): identical decisions and
  ``acc / (2 D 2**F)`` equal to the rational approx, for random targets and noisy codes.
- Ideal verify codes: decisions equal :func:`rramcim.analog.haq.haq_map` without noise on
  ``w~ = t / 2**(TGT_W-1)`` (except exact ties within the constants' rounding, none seen).
- Noisy verify codes drawn with the float model's keyed noise: the golden effective weight
  tracks the float model's within the verify-code quantization.
- Operation sequence: SET + VERIFY per set cell, VERIFY per unset cell only with
  VERIFY_UNSET = 1, column wrap, zero weights issue nothing; timeouts use nominal values.
- Width bounds: the accumulator and threshold stay inside ACC_W at the extremes.
- Bad parameters / inputs raise ValueError naming the field and value.
"""

from __future__ import annotations

import random
from fractions import Fraction

import pytest
import torch

from rramcim.analog.haq import cell_noise, haq_map
from rramcim.golden.haq_quant import (
    COUNTER_MAX,
    HaqQuantModel,
    HaqQuantParams,
    ProgOp,
    acc_to_float,
    ideal_verify,
    noisy_code,
    quantize_weight,
    radix_table,
    ratio_q8,
    target_code,
    threshold,
)


@pytest.fixture
def p() -> HaqQuantParams:
    """RTL defaults: 8 cells, TGT_W 12, VERIFY_BITS 8, RADIX_F 16, ratio 1.5."""
    return HaqQuantParams()


def _random_verify(rnd: random.Random, vbits: int):  # noqa: ANN202
    def fn(cell: int, row: int, col: int, neg: int, is_set: bool) -> int:
        return rnd.randrange(1 << vbits)

    return fn


def _fraction_ref(
    p: HaqQuantParams, t: int, unit: int, rst: int, codes: list[int]
) -> tuple[int, Fraction]:
    """The float algorithm in exact rationals with the RTL's radix constants: cell k's value
    r_k = (code_k - rst) / (unit - rst) (codes given per cell, used for set and unset)."""
    d = unit - rst
    wt = Fraction(t, 1 << (p.tgt_w - 1))
    approx = Fraction(0)
    bits = 0
    for k, c in enumerate(p.radix):
        if not approx > wt:
            bits |= 1 << k
        r = Fraction(codes[k] - rst, d)
        approx += (r - Fraction(1, 2)) * Fraction(c, 1 << p.radix_f)
    return bits, approx


def test_radix_table() -> None:
    c = radix_table(384, 16, 16)
    assert c[0] == 1 << 16 and c[1] == 43691 and c[2] == 29127
    for ratio in (1.25, 1.4, 1.5, 1.6, 2.0):
        q = ratio_q8(ratio)
        tab = radix_table(q, 20, 16)
        exact = [(1 << 20) / (q / 256) ** k for k in range(16)]
        bound = 0.5 / (1 - 256 / q) if q < 512 else 0.5
        assert max(abs(a - b) for a, b in zip(tab, exact, strict=True)) <= bound + 1e-9
    assert radix_table(512, 8, 9) == [256, 128, 64, 32, 16, 8, 4, 2, 1]


@pytest.mark.parametrize(
    "params",
    [
        HaqQuantParams(),
        HaqQuantParams(n_cells=16, tgt_w=16, radix_f=24, verify_bits=10, ratio_q8=358),
        HaqQuantParams(n_cells=3, tgt_w=4, radix_f=2, verify_bits=4, ratio_q8=512),
    ],
)
def test_integer_rule_equals_rational_algorithm(params: HaqQuantParams) -> None:
    rnd = random.Random(1)
    vmax = (1 << params.verify_bits) - 1
    for _ in range(400):
        t = rnd.randint(-(1 << (params.tgt_w - 1)), (1 << (params.tgt_w - 1)) - 1)
        rst = rnd.randint(0, vmax // 4)
        unit = rnd.randint(rst + 1, vmax)
        codes = [rnd.randint(0, vmax) for _ in range(params.n_cells)]
        ops, beat, n_to = quantize_weight(
            params, t, 0, 0, 0, unit, rst, lambda k, *_, c=codes: c[k]
        )
        if t == 0:
            assert beat == (0, 0, False) and ops == []
            continue
        bits, approx = _fraction_ref(params, t, unit, rst, codes)
        assert beat.bits == bits
        assert Fraction(beat.acc, 2 * (unit - rst) << params.radix_f) == approx
        assert n_to == 0
        lo, hi = -(1 << (params.acc_w - 1)), (1 << (params.acc_w - 1)) - 1
        assert lo <= beat.acc <= hi
        assert lo <= threshold(params, t, unit, rst) <= hi


def test_ideal_codes_reproduce_float_algorithm(p: HaqQuantParams) -> None:
    unit, rst = 170, 10
    codes = torch.arange(-(1 << 11), 1 << 11)
    wt = codes.to(torch.float64) / (1 << 11)
    ref = haq_map(wt, p.n_cells, 1.5, 0.0)
    # haq_map normalises by max|w~| = 1 here (code -2048 -> -1.0)
    assert ref.scale == 1.0
    mism = 0
    for i, t in enumerate(codes.tolist()):
        _, beat, _ = quantize_weight(p, t, 0, 0, 0, unit, rst, ideal_verify(unit, rst))
        bits = sum(1 << k for k in range(p.n_cells) if ref.bits[i, k])
        mism += beat.bits != bits
        if t:
            assert abs(acc_to_float(p, beat.acc, unit, rst) - float(ref.w_q[i])) < 1e-3
    assert mism == 0


def test_noisy_codes_track_float_model() -> None:
    p = HaqQuantParams(n_cells=12, tgt_w=14, radix_f=20, verify_bits=10)
    unit, rst = 600, 40
    n = 500
    w = torch.linspace(-1, 1, n, dtype=torch.float64)
    ref = haq_map(w, 12, 1.5, 0.15, key=9)
    idx = torch.arange(n)
    z = torch.stack([cell_noise(9, k, idx) for k in range(12)], dim=1)
    t_codes = target_code(w.numpy(), p.tgt_w)
    err_g, err_f = [], []
    for i in range(n):

        def ver(k: int, row: int, col: int, neg: int, is_set: bool, i: int = i) -> int:
            val = 1.0 + 0.15 * float(z[i, k]) if is_set else 0.0
            return noisy_code(val, unit, rst, p.verify_bits)

        _, beat, _ = quantize_weight(p, int(t_codes[i]), 0, 0, 0, unit, rst, ver)
        wq = acc_to_float(p, beat.acc, unit, rst) if t_codes[i] else 0.0
        err_g.append(wq - float(w[i]))
        err_f.append(float(ref.w_q[i] - w[i]))
    rms_g = (sum(e * e for e in err_g) / n) ** 0.5
    rms_f = (sum(e * e for e in err_f) / n) ** 0.5
    # both correct the noise down to the radix resolution; code quantization (1/560 per
    # cell, redundantly corrected) adds little
    assert rms_f < 0.01 and rms_g < 0.01, (rms_f, rms_g)


def test_operation_sequence(p: HaqQuantParams) -> None:
    unit, rst = 170, 10
    ver = ideal_verify(unit, rst)
    ops, beat, _ = quantize_weight(p, 1000, 5, 250, 1, unit, rst, ver)
    cols = [o.col for o in ops]
    assert all(o.row == 5 and o.neg == 1 for o in ops)
    assert set(cols) == {(250 + k) % 256 for k in range(p.n_cells)}  # wraps at 2**COL_W
    n_set = bin(beat.bits).count("1")
    assert [o.op for o in ops].count(ProgOp.SET) == n_set
    assert [o.op for o in ops].count(ProgOp.VERIFY) == p.n_cells  # VERIFY_UNSET = 1
    for k in range(p.n_cells):  # SET precedes the VERIFY of the same cell
        kops = [o.op for o in ops if o.cell == k]
        assert kops == ([ProgOp.SET, ProgOp.VERIFY] if beat.bits >> k & 1 else [ProgOp.VERIFY])
    p0 = HaqQuantParams(verify_unset=0)
    ops0, beat0, _ = quantize_weight(p0, 1000, 5, 250, 1, unit, rst, ver)
    assert beat0 == beat  # ideal codes: the nominal reset level is what a verify reads
    assert [o.op for o in ops0].count(ProgOp.VERIFY) == n_set
    assert quantize_weight(p, 0, 1, 2, 0, unit, rst, ver)[:2] == ([], (0, 0, False))


def test_extremes_and_timeouts(p: HaqQuantParams) -> None:
    unit, rst = 170, 10
    lo, hi = -(1 << 11), (1 << 11) - 1
    _, b_hi, _ = quantize_weight(p, hi, 0, 0, 0, unit, rst, ideal_verify(unit, rst))
    _, b_lo, _ = quantize_weight(p, lo, 0, 0, 0, unit, rst, ideal_verify(unit, rst))
    assert b_hi.bits & 1 and not b_lo.bits & 1
    assert (
        acc_to_float(p, b_lo.acc, unit, rst) < -0.9 and acc_to_float(p, b_hi.acc, unit, rst) > 0.9
    )

    def lost(k: int, *_: object) -> None:
        return None

    ops, beat, n_to = quantize_weight(p, 300, 0, 0, 0, unit, rst, lost)
    _, ideal, _ = quantize_weight(p, 300, 0, 0, 0, unit, rst, ideal_verify(unit, rst))
    assert beat.err and n_to == p.n_cells and (beat.bits, beat.acc) == (ideal.bits, ideal.acc)
    assert all(o.code is None for o in ops if o.op is ProgOp.VERIFY)

    m = HaqQuantModel(p)
    for _ in range(3):
        m.quantize(300, 0, 0, 0, unit, rst, lost)
    assert m.timeouts == 3 * p.n_cells
    m.timeouts = COUNTER_MAX - 1
    m.quantize(300, 0, 0, 0, unit, rst, lost)
    assert m.timeouts == COUNTER_MAX
    m.quantize(300, 0, 0, 0, 10, 10, ideal_verify(10, 10))
    assert m.err_cfg
    m.protocol_error()
    assert m.proto_errors == 1
    m.reset()
    assert (m.timeouts, m.proto_errors, m.err_cfg) == (0, 0, False)


def test_acc_width_bound() -> None:
    for params in (
        HaqQuantParams(n_cells=16, verify_bits=16, radix_f=24, tgt_w=16, ratio_q8=257),
        HaqQuantParams(n_cells=16, verify_bits=2, radix_f=2, tgt_w=4, ratio_q8=257),
    ):
        vmax = (1 << params.verify_bits) - 1
        lo, hi = -(1 << (params.acc_w - 1)), (1 << (params.acc_w - 1)) - 1
        for unit, rst, code in ((vmax, 0, 0), (0, vmax, vmax), (vmax, 0, vmax), (0, vmax, 0)):
            for t in (-(1 << (params.tgt_w - 1)), (1 << (params.tgt_w - 1)) - 1):
                _, beat, _ = quantize_weight(params, t, 0, 0, 0, unit, rst, lambda *_a, c=code: c)
                assert lo <= beat.acc <= hi
                assert lo <= threshold(params, t, unit, rst) <= hi


def test_target_code() -> None:
    assert target_code([0.0, 1.0, -1.0, 0.5, -0.25], 12).tolist() == [0, 2047, -2048, 1024, -512]
    with pytest.raises(ValueError, match="non-finite"):
        target_code([float("nan")], 8)


@pytest.mark.parametrize(
    ("kwargs", "field", "value"),
    [
        ({"n_cells": 1}, "n_cells", "1"),
        ({"n_cells": 17}, "n_cells", "17"),
        ({"tgt_w": 3}, "tgt_w", "3"),
        ({"verify_bits": 17}, "verify_bits", "17"),
        ({"radix_f": 9}, "radix_f", "9"),  # < TGT_W - 2 = 10
        ({"radix_f": 25}, "radix_f", "25"),
        ({"ratio_q8": 256}, "ratio_q8", "256"),
        ({"ratio_q8": 513}, "ratio_q8", "513"),
        ({"row_w": 0}, "row_w", "0"),
        ({"col_w": 13}, "col_w", "13"),
        ({"verify_unset": 2}, "verify_unset", "2"),
        ({"timeout_cyc": 1}, "timeout_cyc", "1"),
    ],
)
def test_bad_params(kwargs: dict, field: str, value: str) -> None:
    with pytest.raises(ValueError, match=rf"{field} = {value} is outside"):
        HaqQuantParams(**kwargs)


def test_bad_inputs(p: HaqQuantParams) -> None:
    ver = ideal_verify(170, 10)
    with pytest.raises(ValueError, match="target = 2048"):
        quantize_weight(p, 2048, 0, 0, 0, 170, 10, ver)
    with pytest.raises(ValueError, match="col = 256"):
        quantize_weight(p, 1, 0, 256, 0, 170, 10, ver)
    with pytest.raises(ValueError, match="verify code = 300"):
        quantize_weight(p, 1, 0, 0, 0, 170, 10, lambda *_a: 300)
    with pytest.raises(ValueError, match="unknown cim_haq_quant parameter"):
        HaqQuantParams.from_hdl({"N_CELL": 4})
    assert HaqQuantParams.from_hdl({"N_CELLS": 4, "RATIO_Q8": 358}).ratio == 358 / 256

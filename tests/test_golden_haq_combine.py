"""Unit tests of rramcim.golden.haq_combine (the reference of rtl/cim_haq_combine.sv).

Bit level: the radix table against exact ``fractions`` arithmetic, the vectorised model
against a literal scalar transcription of the contract on random and extreme codes, offsets
and shifts. Function: the HAQ successive-approximation mapping of PAPERS.md §3.4 (noise free)
read back through ideal ADC codes and combined with the ``0.5 c_ref`` offset reproduces the
quantised weight within the rounding of the radix table and the output.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from rramcim.golden.haq_combine import (
    COUNTER_MAX,
    HaqCombineConfig,
    HaqCombineModel,
    haq_combine,
    haq_combine_float,
    offset_for_ref,
    pack_codes,
    radix_table,
)


@pytest.fixture
def cfg() -> HaqCombineConfig:
    """The RTL defaults: 12 cells, 8-bit codes, ratio 1.5, RADIX_F 12, shift 8."""
    return HaqCombineConfig()


CFGS = [
    HaqCombineConfig(),
    HaqCombineConfig(n_cells=1, adc_bits=2, radix_f=4, off_w=2, out_w=32, out_shift=0),
    HaqCombineConfig(
        n_cells=16, adc_bits=16, ratio_q8=288, radix_f=20, off_w=48, out_w=8, out_shift=30
    ),
    HaqCombineConfig(
        n_cells=8, adc_bits=6, ratio_q8=410, radix_f=10, off_w=12, out_w=10, out_shift=3
    ),
]


def _ref_scalar(codes: list[int], off: int, c: HaqCombineConfig) -> tuple[int, bool]:
    r = [
        int(Fraction(2**c.radix_f) * Fraction(256, c.ratio_q8) ** k + Fraction(1, 2))
        for k in range(c.n_cells)
    ]
    diff = sum(a * b for a, b in zip(codes, r, strict=True)) - off
    y = (diff + (2 ** (c.out_shift - 1) if c.out_shift else 0)) // 2**c.out_shift
    return min(max(y, c.out_min), c.out_max), not c.out_min <= y <= c.out_max


@pytest.mark.parametrize("ratio_q8", [288, 358, 384, 410, 511, 512])
def test_radix_table_exact(ratio_q8: int) -> None:
    for f in (4, 12, 20):
        for k, r in enumerate(radix_table(16, ratio_q8, f)):
            exact = Fraction(2**f) * Fraction(256, ratio_q8) ** k
            assert r == int(exact + Fraction(1, 2))  # floor(x + 1/2), x > 0
    assert radix_table(3, 384, 12) == (4096, 2731, 1820)


@pytest.mark.parametrize("c", CFGS, ids=lambda c: f"n{c.n_cells}a{c.adc_bits}r{c.ratio_q8}")
def test_matches_scalar_contract(c: HaqCombineConfig) -> None:
    rng = np.random.default_rng(11)
    codes = rng.integers(c.code_min, c.code_max, (300, c.n_cells), endpoint=True)
    offs = rng.integers(c.off_min, c.off_max, 300, endpoint=True)
    codes[0], codes[1], offs[0], offs[1] = c.code_max, c.code_min, c.off_min, c.off_max
    y, sat = haq_combine(codes, offs, c)
    for i in range(len(offs)):
        assert (int(y[i]), bool(sat[i])) == _ref_scalar(list(codes[i]), int(offs[i]), c)


def test_acc_width_is_enough() -> None:
    """The extreme accumulator fits acc_w signed bits for the widest combinations."""
    for c in CFGS:
        s = sum(c.radix)
        assert -(1 << (c.acc_w - 1)) <= c.code_min * s
        assert c.code_max * s <= (1 << (c.acc_w - 1)) - 1


def _haq_states(w: np.ndarray, n: int, ratio: float) -> np.ndarray:
    """PAPERS.md §3.4 successive approximation without noise: cell states r[..., k]."""
    r = np.zeros((*w.shape, n))
    approx = np.zeros(w.shape)
    for x in range(n):
        r[..., x] = np.where(approx > w, 0.0, 1.0)
        approx = approx + (r[..., x] - 0.5) / ratio**x
    return r


def test_reconstructs_haq_weights() -> None:
    """Cells of HAQ-mapped weights, read as ideal codes (g per set cell), combine to
    g * 2^radix_f * w_q within the rounding bound."""
    c = HaqCombineConfig(n_cells=12, adc_bits=8, radix_f=12, off_w=24, out_w=24, out_shift=0)
    g = 100  # ADC code of a set cell
    w = np.random.default_rng(2).uniform(-1, 1, 500)
    states = _haq_states(w, c.n_cells, c.ratio)
    codes = (states * g).astype(np.int64)
    y, sat = haq_combine(codes, np.full(500, offset_for_ref(g, c)), c)
    want = haq_combine_float(codes, g, c.ratio) * 2**c.radix_f
    assert not sat.any()
    assert np.abs(y - want).max() <= 0.5 * g * c.n_cells + 1
    wq = want / (g * 2**c.radix_f)
    assert np.abs(wq - w).max() <= 0.5 / c.ratio ** (c.n_cells - 2)  # HAQ converges


def test_saturation_and_model(cfg: HaqCombineConfig) -> None:
    codes = [cfg.code_max] * cfg.n_cells
    m = HaqCombineModel(cfg)
    b = m.process(codes, cfg.off_min, 5)
    assert b.sat and b.value == cfg.out_max and m.sat_count == 1 and b.tag == 5
    b = m.process([cfg.code_min] * cfg.n_cells, cfg.off_max, 0)
    assert b.sat and b.value == cfg.out_min and m.sat_count == 2
    m.sat_count = COUNTER_MAX
    m.process(codes, cfg.off_min, 0)
    assert m.sat_count == COUNTER_MAX
    m.reset()
    assert m.sat_count == 0
    with pytest.raises(ValueError, match="tag"):
        m.process(codes, 0, 1 << cfg.tag_w)


def test_rounding_half_up() -> None:
    c = HaqCombineConfig(n_cells=1, adc_bits=4, radix_f=4, off_w=8, out_w=8, out_shift=5)
    # acc = code * 16; diff = acc - off; (diff + 16) >> 5
    y, _ = haq_combine(np.array([[1], [-1], [1], [-1]]), np.array([0, 0, -1, 1]), c)
    assert list(y) == [1, 0, 1, -1]


def test_pack_codes(cfg: HaqCombineConfig) -> None:
    assert pack_codes([1, -1], HaqCombineConfig(n_cells=2, adc_bits=4)) == 0xF1
    assert pack_codes([0] * cfg.n_cells, cfg) == 0


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("n_cells", 0),
        ("n_cells", 17),
        ("adc_bits", 1),
        ("adc_bits", 17),
        ("ratio_q8", 287),
        ("ratio_q8", 513),
        ("radix_f", 3),
        ("radix_f", 21),
        ("off_w", 1),
        ("off_w", 49),
        ("out_w", 3),
        ("out_w", 33),
        ("out_shift", -1),
        ("out_shift", 99),
        ("tag_w", 0),
        ("tag_w", 33),
        ("n_cells", 2.0),
    ],
)
def test_bad_config(field: str, value: object) -> None:
    with pytest.raises(ValueError, match=field):
        HaqCombineConfig(**{field: value})


def test_bad_last_weight() -> None:
    with pytest.raises(ValueError, match="radix_f = 4"):
        HaqCombineConfig(n_cells=12, radix_f=4, out_shift=0)


def test_bad_inputs(cfg: HaqCombineConfig) -> None:
    ok = np.zeros((1, cfg.n_cells), dtype=np.int64)
    with pytest.raises(ValueError, match="codes"):
        haq_combine(ok + cfg.code_max + 1, np.array([0]), cfg)
    with pytest.raises(ValueError, match="offset"):
        haq_combine(ok, np.array([cfg.off_max + 1]), cfg)
    with pytest.raises(ValueError, match="n_cells"):
        haq_combine(np.zeros((1, 3), dtype=np.int64), np.array([0]), cfg)
    with pytest.raises(ValueError, match="dtype"):
        haq_combine(ok.astype(float), np.array([0]), cfg)
    with pytest.raises(ValueError, match="off_w"):
        offset_for_ref(10**9, cfg)
    with pytest.raises(ValueError, match="FOO"):
        HaqCombineConfig.from_hdl({"FOO": 1})

"""Unit tests of rramcim.golden.early_stop (reference of rtl/cim_early_stop.sv); no simulator."""

from __future__ import annotations

import math
import re
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from rramcim.golden.early_stop import (
    EXP2_LUT,
    Q_W,
    ConvergenceState,
    EarlyStopConfig,
    EarlyStopRule,
    accumulate_sums,
    alpha_from_code,
    alpha_ln2_code,
    confidence_step,
    confidence_terms,
    conv_thr_code,
    convergence_init,
    convergence_step,
    decision_margin,
    exp_arg_code,
    exp_term,
    float_classification,
    float_convergence,
    inv_theta_code,
    rtl_lut_lines,
    run_classification,
    run_convergence,
    run_sample,
)

RTL = Path(__file__).resolve().parents[1] / "rtl" / "cim_early_stop.sv"
Q_MAX = (1 << Q_W) - 1


@pytest.fixture
def cfg() -> EarlyStopConfig:
    """PRIME classification: 10 classes, Q5.10 membranes, T = 10, alpha = 2, theta = 0.8."""
    return EarlyStopConfig(t_steps=10).with_float(alpha=2.0, theta=0.8)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20240415)


# ------------------------------------------------------------------------------------------
# configuration and codes
# ------------------------------------------------------------------------------------------


def test_config_defaults_and_derived_fields() -> None:
    c = EarlyStopConfig()
    assert c.s_w == 16 + 4  # u_w + clog2(t_max)
    assert c.t_steps == c.t_max == 16
    assert (c.conf_w, c.m_w, c.met_w, c.t_w, c.cls_w) == (21, 18, 21, 5, 4)
    assert c.alpha_ln2 == alpha_ln2_code(2.0) and c.inv_theta == inv_theta_code(0.8, 10)
    assert c.metric_none == (1 << 21) - 1
    p = c.hdl_params()
    assert EarlyStopConfig.from_hdl(p) == c
    assert p == {"N_CLASSES": 10, "U_W": 16, "F": 10, "T_MAX": 16, "N_PIX": 1024, "PIX_W": 8,
                 "S_W": 20}  # fmt: skip


def test_replace_keeps_a_minimal_sum_width() -> None:
    c = EarlyStopConfig()  # s_w = 16 + clog2(16) = 20
    assert c.replace(t_max=40, t_steps=40).s_w == 16 + 6
    assert c.replace(u_w=24).s_w == 28
    wide = c.replace(s_w=30)
    assert wide.replace(t_max=40).s_w == 30  # an explicit width is kept
    with pytest.raises(ValueError, match="s_w"):
        c.replace(t_max=40, s_w=20)


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"n_classes": 1}, "n_classes"),
        ({"n_classes": 65}, "n_classes"),
        ({"u_w": 7}, "u_w"),
        ({"frac": 16}, "frac"),
        ({"t_max": 256}, "t_max"),
        ({"n_pix": 4097}, "n_pix"),
        ({"pix_w": 1}, "pix_w"),
        ({"s_w": 19}, "s_w"),
        ({"s_w": 41}, "s_w"),
        ({"t_steps": 17}, "t_steps"),
        ({"alpha_ln2": 0}, "alpha_ln2"),
        ({"inv_theta": 1 << 21}, "inv_theta"),
        ({"conv_thr": 1 << 18}, "conv_thr"),
        ({"rule": 2}, "rule"),
        ({"enable": 1}, "enable"),
        ({"n_classes": 2.0}, "n_classes"),
    ],
)
def test_config_rejects_bad_fields(kw: dict[str, object], field: str) -> None:
    with pytest.raises(ValueError, match=field):
        EarlyStopConfig(**kw)  # type: ignore[arg-type]


def test_from_hdl_rejects_unknown_parameter() -> None:
    with pytest.raises(ValueError, match="N_ROWS"):
        EarlyStopConfig.from_hdl({"N_ROWS": 3})


def test_alpha_code() -> None:
    assert alpha_ln2_code(2.0) == round(2 * math.log(2) * 4096) == 5678
    assert abs(alpha_from_code(5678) / 2.0 - 1) < 2**-13
    assert alpha_ln2_code(23.0) < 65536
    for bad in (0.0, -1.0, float("nan"), 24.0, 1e-5):
        with pytest.raises(ValueError, match="alpha"):
            alpha_ln2_code(bad)


def test_inv_theta_code() -> None:
    assert inv_theta_code(0.8, 10) == 81920
    assert inv_theta_code(1.0, 10) == 65536
    assert inv_theta_code(1e-6, 10) == (1 << 21) - 1  # saturated: always stops
    for bad in (0.0, 1.01, float("inf")):
        with pytest.raises(ValueError, match="theta"):
            inv_theta_code(bad, 10)


def test_conv_thr_code_matches_the_float_predicate() -> None:
    # 0.2 * 100 * 64 = 1280.0000000000002 in float: the code must still be 1280
    assert conv_thr_code(0.2, 6, 1024, 8) == 1280
    for thr in (0.0, 0.1, 0.2, 0.3, 1.0, 0.123456):
        for pf in (0, 3, 7):
            k = conv_thr_code(thr, pf, 1024, 8)
            for m in range(max(0, k - 3), k + 3):
                assert (m < k) == ((m / (1 << pf)) / 100.0 < thr), (thr, pf, m, k)
    with pytest.raises(ValueError, match="does not fit"):
        conv_thr_code(1e6, 0, 4, 2)


# ------------------------------------------------------------------------------------------
# exponent: table, divider, terms
# ------------------------------------------------------------------------------------------


def test_exp2_lut() -> None:
    f = np.arange(256)
    assert EXP2_LUT.shape == (256,) and EXP2_LUT[0] == 1 << 16
    assert np.all(np.diff(EXP2_LUT) < 0) and EXP2_LUT[-1] > 1 << 15
    assert np.all(np.abs(EXP2_LUT - 2.0 ** (16 - f / 256)) <= 0.5)


def test_rtl_table_equals_golden() -> None:
    """The case table in the RTL is exactly rtl_lut_lines() (so exactly EXP2_LUT)."""
    text = RTL.read_text()
    items = re.findall(r"8'd(\d+)\s*: lut = 17'h([0-9a-f]{5});", text)
    assert [(int(a), int(b, 16)) for a, b in items] == list(enumerate(EXP2_LUT.tolist()))
    for line in rtl_lut_lines():
        assert line in text


def _q_exact(D: int, t: int, A: int, F: int) -> int:
    """round-half-up(D * 2**20 / (t * A * 2**F)), saturated, with exact rationals."""
    y = Fraction(D * (1 << 20), t * A * (1 << F))
    return min(math.floor(y + Fraction(1, 2)), Q_MAX)


@pytest.mark.parametrize("frac", [0, 7, 10, 20, 24, 31])
def test_exp_arg_code_is_exact_rounding(frac: int, rng: np.random.Generator) -> None:
    c = EarlyStopConfig(u_w=32, frac=frac, t_max=255, s_w=40)
    for _ in range(400):
        D = int(rng.integers(0, 1 << int(rng.integers(1, 40))))
        t = int(rng.integers(1, 256))
        A = int(rng.integers(1, 1 << 16))
        got = int(exp_arg_code(D, t, c.replace(alpha_ln2=A)))
        assert got == _q_exact(D, t, A, frac), (D, t, A)


def test_exp_arg_code_half_rounds_up() -> None:
    c = EarlyStopConfig(frac=10, alpha_ln2=1 << 11)  # t*A = 2048 -> q = D * 2**10 / 2048 = D/2
    assert exp_arg_code(np.array([0, 1, 2, 3, 5]), 1, c).tolist() == [0, 1, 1, 2, 3]


def test_exp_term() -> None:
    assert int(exp_term(0)) == 1 << 16
    assert int(exp_term(256)) == 1 << 15  # y = 1: 2**-1
    assert exp_term(np.arange(17 * 256, Q_MAX + 1)).max() == 0  # saturation region
    q = np.arange(0, Q_MAX + 1, 7)
    assert np.array_equal(exp_term(q), EXP2_LUT[q % 256] >> (q // 256))
    approx = 2.0 ** (16 - q / 256)
    assert np.all(np.abs(exp_term(q) - approx) <= 1.5 + approx * 1e-12)
    with pytest.raises(ValueError, match="q"):
        exp_term(Q_MAX + 1)


def test_hand_computed_example() -> None:
    """Two classes, integer membranes (F = 0), alpha = 2, one step: S = (10, 0).
    y = 10 / (2 ln 2) = 7.213 -> q = round(10 * 2**20 / 5678) = 1847 = 7*256 + 55,
    term = EXP2_LUT[55] >> 7 = 56468 >> 7 = 441 (float: 2**16 * e**-5 = 441.6)."""
    c = EarlyStopConfig(n_classes=2, u_w=8, frac=0, t_max=4, alpha_ln2=5678)
    cls, q, term = confidence_terms(np.array([[10, 0]]), 1, c)
    assert cls.tolist() == [0] and q.tolist() == [[0, 1847]]
    assert int(EXP2_LUT[55]) == 56468 and term.tolist() == [[65536, 441]]
    stop, _, conf = confidence_step(np.array([[10, 0]]), 1, c)
    assert conf.tolist() == [65977] and stop.tolist() == [True]  # 65977 < 81920


# ------------------------------------------------------------------------------------------
# classification rule
# ------------------------------------------------------------------------------------------


def test_ties_pick_lowest_index(cfg: EarlyStopConfig) -> None:
    S = np.array([[5, 9, 9, 1, 9, 0, 0, 0, 0, 0], [3] * 10, [-4] * 9 + [7]])
    cls, q, term = confidence_terms(S, 1, cfg)
    assert cls.tolist() == [1, 0, 9]
    assert term[0, [1, 2, 4]].tolist() == [65536] * 3  # every tied winner weighs exactly 1.0
    _, _, conf = confidence_step(S, 1, cfg)
    assert conf[1] == 10 * 65536  # all equal: p = 1/n


def test_forced_stop_and_enable(cfg: EarlyStopConfig) -> None:
    S = np.zeros((1, 10), dtype=np.int64)  # never confident
    assert confidence_step(S, 9, cfg)[0].tolist() == [False]
    assert confidence_step(S, 10, cfg)[0].tolist() == [True]  # t == T
    confident = np.array([[30000] + [-30000] * 9])
    assert confidence_step(confident, 1, cfg)[0].tolist() == [True]
    assert confidence_step(confident, 1, cfg.replace(enable=False))[0].tolist() == [False]
    with pytest.raises(ValueError, match="t must be"):
        confidence_step(S, 11, cfg)


def test_confidence_step_is_vectorised(cfg: EarlyStopConfig, rng: np.random.Generator) -> None:
    S = rng.integers(-(1 << 19), 1 << 19, size=(64, 10))
    t = rng.integers(1, 11, size=64)
    stop, cls, conf = confidence_step(S, t, cfg)
    for b in range(64):
        s1, c1, m1 = confidence_step(S[b : b + 1], int(t[b]), cfg)
        assert (s1[0], c1[0], m1[0]) == (stop[b], cls[b], conf[b])


def test_saturation_and_sum_extremes() -> None:
    c = EarlyStopConfig(n_classes=2, u_w=8, frac=0, t_max=255, t_steps=255)
    hi, lo = 127, -128
    U = np.zeros((1, 255, 2), dtype=np.int64)
    U[0, :, 0], U[0, :, 1] = hi, lo
    run = run_classification(U, c.replace(enable=False))
    assert run.q_sat[0].all() and run.metric[0].tolist() == [65536] * 255  # loser term 0
    S = np.array([[255 * hi, 255 * lo]])
    assert accumulate_sums(S - U[:, 0], U[:, 0], c).tolist() == S.tolist()  # fits S_W = 16
    with pytest.raises(ValueError, match="S \\+ U"):
        accumulate_sums(np.array([[32700, 0]]), np.array([[127, 0]]), c)  # beyond S_W bits
    with pytest.raises(ValueError, match="U"):
        accumulate_sums(np.zeros((1, 2), np.int64), np.array([[128, 0]]), c)


def test_run_classification_decisions(cfg: EarlyStopConfig) -> None:
    U = np.zeros((2, 10, 10), dtype=np.int64)
    U[0, 2, 4] = 30000  # step 3: class 4 leads by 30000/3/1024 = 9.8 -> confident
    run = run_classification(U, cfg)
    assert run.stop_step.tolist() == [3, 10] and run.pred.tolist() == [4, 0]
    d = run.decisions(0)
    assert [x[:3] for x in d] == [(0, 1, 0), (0, 2, 0), (1, 3, 4)]
    assert d[0][3] == 10 * 65536
    assert len(run.decisions(1)) == 10 and run.decisions(1)[-1][0] == 1


@pytest.mark.parametrize("n_classes", [2, 10, 64])
@pytest.mark.parametrize("alpha", [0.5, 2.0, 5.0])
@pytest.mark.parametrize("theta", [0.5, 0.8, 0.95])
def test_agreement_with_float_rule(
    n_classes: int, alpha: float, theta: float, rng: np.random.Generator
) -> None:
    """Random logits (Q5.10, 10 steps): the fixed-point rule equals the float rule on the same
    sums except where max p is within decision_margin of theta; the prediction is exact."""
    c = EarlyStopConfig(n_classes=n_classes, t_max=16, t_steps=10)
    c = c.with_float(alpha=alpha, theta=theta)
    B = 4000
    scale = rng.uniform(0.05, 6.0, size=(B, 1, 1)) * 1024
    U = np.clip(np.round(rng.normal(0.0, 1.0, size=(B, 10, n_classes)) * scale), -32768, 32767)
    U = U.astype(np.int64)
    fixed = run_classification(U, c)
    ref = float_classification(U / 1024.0, alpha=alpha, theta=theta, t_steps=10)
    differ = (fixed.metric < c.inv_theta) != ref.rule
    margin = np.abs(ref.maxp - theta)
    bound = decision_margin(theta, n_classes, alpha)
    assert bound < 0.01
    assert (margin[differ] <= bound).all(), (margin[differ].max(), bound)
    assert differ.mean() < 0.01
    assert np.array_equal(fixed.cls, np.argmax(np.cumsum(U, axis=1), axis=2))
    same = ~differ.any(axis=1)
    assert np.array_equal(fixed.stop_step[same], ref.stop_step[same])
    assert np.array_equal(fixed.pred[same], ref.pred[same])


# ------------------------------------------------------------------------------------------
# convergence rule
# ------------------------------------------------------------------------------------------


@pytest.fixture
def ccfg() -> EarlyStopConfig:
    return EarlyStopConfig(n_pix=4, pix_w=8, t_max=16, t_steps=8, rule=EarlyStopRule.CONVERGENCE,
                           conv_thr=10)  # fmt: skip


def _imgs(metrics: list[int], n_pix: int = 4) -> np.ndarray:
    """Images whose successive L1 changes are ``metrics`` (pixel 0 moves up and down)."""
    x = [np.zeros(n_pix, dtype=np.int64)]
    for k, m in enumerate(metrics):
        nxt = x[-1].copy()
        nxt[0] += m if k % 2 == 0 else -m
        x.append(nxt)
    return np.stack(x)[None]


def test_convergence_index_convention(ccfg: EarlyStopConfig) -> None:
    # m_2 = 5, m_3 = 4: stops at t = 3 (m_1 = inf makes m_2 < m_1 true)
    assert run_convergence(_imgs([5, 4, 3, 2, 1, 0, 0]), ccfg).stop_step.tolist() == [3]
    # tiny, decreasing metrics never stop before t = 3
    run = run_convergence(_imgs([0, 0, 0, 0, 0, 0, 0]), ccfg)
    assert run.stop.tolist()[0][:3] == [False, False, False] and run.stop_step.tolist() == [8]
    # t = 4 needs m_3 < m_2 as well
    assert run_convergence(_imgs([3, 5, 4, 2, 9, 9, 9]), ccfg).stop_step.tolist() == [5]
    # strict: equal metrics never stop
    assert run_convergence(_imgs([5, 5, 5, 5, 5, 5, 5]), ccfg).stop_step.tolist() == [8]
    # threshold strict: m_t = thr does not stop, thr - 1 does
    assert run_convergence(_imgs([20, 10, 9, 0, 0, 0, 0]), ccfg).stop_step.tolist() == [4]
    # metric of step 1 is "none" (all ones), then the L1 changes
    assert run_convergence(_imgs([5, 4, 3, 2, 1, 0, 0]), ccfg).metric[0, :3].tolist() == [
        ccfg.metric_none,
        5,
        4,
    ]
    # enable off: runs T steps
    off = ccfg.replace(enable=False)
    assert run_convergence(_imgs([5, 4, 3, 2, 1, 0, 0]), off).stop_step.tolist() == [8]


def test_convergence_t1_metric_none_even_when_it_could_be_a_metric() -> None:
    # N_PIX = 1, PIX_W = 2: m_w = met_w... conf_w is larger, so "none" cannot be a metric
    c = EarlyStopConfig(n_pix=1, pix_w=2, t_max=4, rule=EarlyStopRule.CONVERGENCE, conv_thr=3)
    run = run_convergence(np.array([[[-2], [1], [-2], [0]]]), c)
    assert run.metric[0].tolist() == [c.metric_none, 3, 3, 2] and run.stop_step.tolist() == [4]


def test_convergence_state_and_step_agree(ccfg: EarlyStopConfig, rng: np.random.Generator) -> None:
    imgs = rng.integers(-128, 128, size=(16, 8, 4))
    state = convergence_init(16, ccfg)
    hist = np.full((16, 2), ccfg.metric_none)
    prev = None
    for t in range(1, 9):
        state, stop_a, m_a = state.step(imgs[:, t - 1], ccfg)
        stop_b, m_b, hist = convergence_step(prev, imgs[:, t - 1], hist, t, ccfg)
        prev = imgs[:, t - 1]
        assert np.array_equal(stop_a, stop_b) and np.array_equal(m_a, m_b)
    assert isinstance(state, ConvergenceState) and state.t == 8
    with pytest.raises(ValueError, match="prev_img"):
        convergence_step(None, imgs[:, 1], hist, 2, ccfg)


def test_convergence_matches_float_rule(rng: np.random.Generator) -> None:
    """Pixels with 6 fractional bits, PRIME's thr = 0.2 and /100 scaling: exactly the float
    rule, on converging and random sequences."""
    c = EarlyStopConfig(n_pix=64, pix_w=8, t_max=16, rule=EarlyStopRule.CONVERGENCE)
    c = c.with_float(conv_thr=0.2, pix_frac=6)
    B, T = 2000, 16
    target = rng.integers(-100, 100, size=(B, 1, 64))
    amp = (
        rng.uniform(0.0, 40.0, size=(B, 1, 1))
        * rng.uniform(0.3, 1.0, size=(B, 1, 1)) ** (np.arange(T)[None, :, None])
    )
    imgs = np.clip(target + np.round(rng.normal(size=(B, T, 64)) * amp), -128, 127).astype(int)
    fixed = run_convergence(imgs, c)
    ref = float_convergence(imgs / 64.0, thr=0.2, t_steps=T)
    assert np.array_equal(fixed.stop_step, ref.stop_step)
    assert len(set(fixed.stop_step.tolist())) > 8  # stops spread over many steps
    finite = np.isfinite(ref.maxp)
    assert np.allclose(fixed.metric[finite] / 64.0 / 100.0, ref.maxp[finite])


def test_run_sample_dispatches(cfg: EarlyStopConfig, ccfg: EarlyStopConfig) -> None:
    U = np.zeros((1, 10, 10), dtype=np.int64)
    assert run_sample(U, cfg).stop_step.tolist() == [10]
    assert run_sample(_imgs([5, 4, 3, 2, 1, 0, 0]), ccfg).stop_step.tolist() == [3]
    with pytest.raises(ValueError, match="U must be"):
        run_classification(np.zeros((1, 9, 10), dtype=np.int64), cfg)
    with pytest.raises(ValueError, match="img"):
        run_convergence(np.full((1, 8, 4), 128), ccfg)

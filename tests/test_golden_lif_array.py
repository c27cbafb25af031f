"""Unit tests of rramcim.golden.lif_array (the reference of rtl/cim_lif_array.sv); no simulator.

Bit level: hand-computed cases (rounding of negative products, hard reset, saturation at both
ends, integrator mode, extreme leak codes, negative thresholds) and random agreement with
:func:`_ref_scalar`, a literal plain-integer transcription of the fixed-point contract (with
``sat_to_range`` applied), over several word widths and batch shapes.

Statistics (fixed point vs the float PRIME cell, T = 10 steps, random currents): the
tolerance is derived from the contract. With leak = 51/256 (0.2 - 0.00078) and slope = 26/256
(0.1 + 0.0016), input rounding, ``mul_q8`` rounding and LeakyReLU rounding (0.5 LSB each)
give, for a neuron whose spike train so far equals the float one, per step
``|e_t| <= 0.2*|e_(t-1)| + 1.5 + 0.00078*M1 + 0.0016*M3`` (LSB; M1, M3 the largest
``|u1|``, ``|u3|`` of the float trajectory in LSB), hence
``|e| <= (1.5 + 0.00078*M1 + 0.0016*M3) / 0.8`` in LIF mode and
``|e_t| <= t * (1.5 + 0.0016*M3)`` in integrator mode (no leak to forget errors). Besides
this hard bound: at least 99 % of the spike decisions agree and the mean error stays below
1 LSB.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from rramcim.golden.lif_array import (
    COUNTER_MAX,
    LifArrayModel,
    LifConfig,
    LifMode,
    integrator_step,
    integrator_step_float,
    lif_step,
    lif_step_float,
    lif_step_sat,
    mul_q8,
    q8,
    to_fixed,
    vth_fixed,
    work_dtype,
)


@pytest.fixture
def cfg() -> LifConfig:
    """The RTL defaults: U_W 16, F 10, IN_W 24, leak 51, slope 26, Vth 205 (0.2)."""
    return LifConfig()


def _ref_scalar(
    u: int, s_prev: bool, cur: int, c: LifConfig, clamp_input: bool = True
) -> tuple[int, bool, int]:
    """The contract, transcribed literally with Python integers (floor division);
    ``clamp_input=False`` leaves out ``sat_to_range`` (it must not matter)."""

    def mq8(x: int, m: int) -> int:
        return (x * m + 128) // 256

    def sat(x: int, bits: int) -> int:
        return max(-(1 << (bits - 1)), min((1 << (bits - 1)) - 1, x))

    cur_r = sat(cur, c.u_w + 2) if clamp_input else cur  # sat_to_range
    if c.mode is LifMode.LIF:
        u1 = 0 if s_prev else u
        u2 = mq8(u1, c.leak_q8)
    else:
        u2 = u
    tot = u2 + cur_r
    u3 = sat(tot, c.u_w)
    sat_dir = (tot > c.u_max) - (tot < c.u_min)
    u4 = mq8(u3, c.neg_q8) if u3 < 0 else u3
    s = c.mode is LifMode.LIF and u4 > c.vth
    return u4, s, sat_dir


# ------------------------------------------------------------------------------------------
# Helpers and configuration
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("x", "m", "want"),
    [
        (2, 64, 1),  # +0.5 rounds up
        (-2, 64, 0),  # -0.5 rounds up (towards +inf), not away from zero
        (-3, 128, -1),  # -1.5 -> -1
        (-5, 51, -1),  # -0.996 -> -1
        (-1, 26, 0),  # -0.10 -> 0
        (-6, 26, -1),  # -0.61 -> -1
        (-1000, 26, -102),  # -101.56 -> -102 (floor((-26000 + 128) / 256))
        (1000, 51, 199),  # 199.22
        (-32768, 255, -32640),
        (32767, 255, 32639),
        (12345, 0, 0),
        (-12345, 0, 0),
    ],
)
def test_mul_q8_cases(x: int, m: int, want: int) -> None:
    assert int(mul_q8(x, m)) == want
    assert (x * m + 128) // 256 == want  # the definition


def test_mul_q8_never_grows() -> None:
    x = np.arange(-(1 << 15), 1 << 15, 7)
    for m in (0, 1, 51, 128, 254, 255):
        assert (np.abs(mul_q8(x, m)) <= np.abs(x)).all()


def test_q8_and_thresholds() -> None:
    assert (q8(0.2), q8(0.1), q8(0.0), q8(255 / 256)) == (51, 26, 0, 255)
    assert vth_fixed(0.2, 10) == 205  # 204.8 rounds half up
    assert vth_fixed(0.5, 10) == 512
    assert vth_fixed(0.2, 6) == 13
    with pytest.raises(ValueError, match="Q0.8"):
        q8(1.0)
    with pytest.raises(ValueError, match="does not fit"):
        vth_fixed(40.0, 10, u_w=16)


def test_to_fixed_rounding_and_saturation() -> None:
    got = to_fixed([0.2, -0.2, 0.5 / 1024, -0.5 / 1024, -1.5 / 1024], 10)
    assert got.tolist() == [205, -205, 1, 0, -1]
    assert got.dtype == np.int64
    assert to_fixed([1e9, -1e9], 10, bits=24).tolist() == [2**23 - 1, -(2**23)]
    with pytest.raises(ValueError, match="not finite"):
        to_fixed([0.0, np.nan], 10)


def test_config_defaults_and_from_float() -> None:
    c = LifConfig()
    assert (c.u_w, c.frac, c.in_w, c.leak_q8, c.neg_q8, c.vth) == (16, 10, 24, 51, 26, 205)
    assert c.mode is LifMode.LIF
    assert LifConfig.from_float() == c
    fc = LifConfig.from_float(vth=0.5, mode=LifMode.INTEGRATOR, u_w=12, frac=6, in_w=16)
    assert (fc.vth, fc.mode, fc.u_min, fc.u_max) == (32, LifMode.INTEGRATOR, -2048, 2047)
    assert c.leak == 51 / 256 and c.lsb == 2**-10


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"u_w": 7}, "u_w"),
        ({"u_w": 33}, "u_w"),
        ({"frac": 15}, "frac"),
        ({"in_w": 41}, "in_w"),
        ({"leak_q8": 256}, "leak_q8"),
        ({"neg_q8": -1}, "neg_q8"),
        ({"vth": 40000}, "vth"),
        ({"vth": 0.5}, "vth"),
        ({"mode": 1}, "mode"),
    ],
)
def test_config_rejects(kw: dict, field: str) -> None:
    with pytest.raises(ValueError, match=field):
        LifConfig(**kw)


# ------------------------------------------------------------------------------------------
# Bit-level steps
# ------------------------------------------------------------------------------------------


def test_lif_step_hand_cases(cfg: LifConfig) -> None:
    # spike: u2 = floor((1000*51 + 128) / 256) = 199, u3 = 299 > 205
    u, s, n = lif_step([1000], [False], [100], cfg)
    assert (u.tolist(), s.tolist(), n) == ([299], [True], 0)
    # hard reset after the spike; negative membrane scaled: floor((-50*26 + 128)/256) = -5
    u, s, n = lif_step(u, s, [-50], cfg)
    assert (u.tolist(), s.tolist(), n) == ([-5], [False], 0)
    # leak of a negative membrane: floor((-5*51 + 128)/256) = -1; -1 + 205 = 204, not > 205
    u, s, n = lif_step(u, s, [205], cfg)
    assert (u.tolist(), s.tolist()) == ([204], [False])
    # exactly at threshold: no spike; one above: spike
    assert not lif_step([0], [0], [205], cfg)[1][0]
    assert lif_step([0], [0], [206], cfg)[1][0]


def test_lif_step_saturation(cfg: LifConfig) -> None:
    u, s, sat = lif_step_sat(
        [32767, -32768, 32767, 0], [0, 0, 1, 0], [cfg.in_max, cfg.in_min, 32767, 32767], cfg
    )
    # top: clamp to 32767 and spike; bottom: -32768 -> floor((-32768*26 + 128)/256) = -3328
    assert u.tolist() == [32767, -3328, 32767, 32767]
    assert s.tolist() == [True, False, True, True]
    # row 2: reset to 0 then +32767 fits exactly; row 3: 0 + 32767 fits
    assert sat.tolist() == [1, -1, 0, 0]
    assert lif_step([32767, 100], [0, 0], [32767, 0], cfg)[2] == 1  # 6528 + 32767 saturates


def test_lif_step_extreme_leak_and_vth(cfg: LifConfig) -> None:
    u = np.array([-32768, -1, 0, 1, 32767])
    no_leak = cfg.replace(leak_q8=0)
    assert lif_step(u, np.zeros(5, bool), np.zeros(5, np.int64), no_leak)[0].tolist() == [0] * 5
    full = cfg.replace(leak_q8=255, neg_q8=255, vth=-100)
    got, s, _ = lif_step(u, np.zeros(5, bool), np.zeros(5, np.int64), full)
    # leak 255: floor((x*255 + 128)/256); then the negative ones again by 255
    u2 = (u * 255 + 128) // 256
    u4 = np.where(u2 < 0, (u2 * 255 + 128) // 256, u2)
    assert got.tolist() == u4.tolist()
    assert s.tolist() == (u4 > -100).tolist()  # a negative threshold fires at 0


def test_integrator(cfg: LifConfig) -> None:
    integ = cfg.replace(mode=LifMode.INTEGRATOR)
    # no leak, no reset (s_prev ignored), never spikes
    u, s, n = lif_step([1000, 1000, 0, 32767], [1, 0, 1, 0], [100, 100, -1000, 1], integ)
    assert u.tolist() == [1100, 1100, -102, 32767]
    assert not s.any() and n == 1
    u2, n2 = integrator_step([1000, 1000, 0, 32767], [100, 100, -1000, 1], cfg)  # mode ignored
    assert u2.tolist() == u.tolist() and n2 == 1
    # U = -2^15 plus I = 2^16 is exactly 2^15: one above the range, a saturation event
    # (sat_to_range clamps I to 17 bits, so the RTL adder still sees the overflow)
    u3, _, sat = lif_step_sat([-32768, -32768, 32767], [0, 0, 0], [65536, 65535, -65536], integ)
    assert u3.tolist() == [32767, 32767, -3328] and sat.tolist() == [1, 0, -1]


def test_batch_shapes_and_dtypes(cfg: LifConfig) -> None:
    rng = np.random.default_rng(7)
    u = rng.integers(cfg.u_min, cfg.u_max + 1, size=(3, 4, 5))
    s = rng.random((3, 4, 5)) < 0.3
    cur = rng.integers(-5000, 5000, size=(3, 4, 5))
    u4, s4, n = lif_step(u, s, cur, cfg)
    assert u4.shape == s4.shape == (3, 4, 5) and u4.dtype == np.int32 and s4.dtype == bool
    flat = lif_step(u.reshape(-1), s.reshape(-1), cur.reshape(-1), cfg)
    assert (flat[0] == u4.reshape(-1)).all() and flat[2] == n
    # broadcasting: one current per neuron applied to a batch of states
    ub, _, _ = lif_step(u, s, cur[0, 0], cfg)
    assert ub.shape == (3, 4, 5)
    assert work_dtype(cfg.replace(u_w=25, frac=10)) is np.int64
    # inputs are not modified in place
    u_copy = u.copy()
    lif_step(u, s, cur, cfg)
    assert (u == u_copy).all()


def test_step_rejects_bad_inputs(cfg: LifConfig) -> None:
    with pytest.raises(ValueError, match="u: value 40000"):
        lif_step([40000], [0], [0], cfg)
    with pytest.raises(ValueError, match="cur: value"):
        lif_step([0], [0], [1 << 23], cfg)
    with pytest.raises(ValueError, match="dtype float"):
        lif_step([0.5], [0], [0], cfg)
    with pytest.raises(ValueError, match="s_prev"):
        lif_step([0], [2], [0], cfg)


WIDTHS = [(8, 0, 8), (8, 6, 40), (12, 6, 16), (16, 10, 24), (24, 16, 40), (25, 10, 24)]
WIDTHS += [(32, 30, 40), (32, 10, 8)]


@pytest.mark.parametrize(("u_w", "frac", "in_w"), WIDTHS)
def test_random_against_literal_contract(u_w: int, frac: int, in_w: int) -> None:
    rng = np.random.default_rng(u_w * 1000 + in_w)
    n = 3000
    base = LifConfig(u_w=u_w, frac=frac, in_w=in_w, vth=0)
    u = rng.integers(base.u_min, base.u_max + 1, size=n)
    u[:4] = [base.u_min, base.u_max, -1, 0]
    cur = rng.integers(base.in_min, base.in_max + 1, size=n)
    small = rng.random(n) < 0.5  # half of them in the membrane range (no saturation)
    lo, hi = max(base.u_min // 2, base.in_min), min(base.u_max // 2, base.in_max)
    cur[small] = rng.integers(lo, hi + 1, size=int(small.sum()))
    cur[4:8] = [base.in_min, base.in_max, -1, 0]
    u[8:12] = [base.u_min, base.u_max, base.u_min, base.u_max]  # extreme pairs
    cur[8:12] = [base.in_max, base.in_min, base.in_min, base.in_max]
    s_prev = rng.random(n) < 0.4
    for leak, neg, mode in itertools.product((0, 51, 255), (0, 26, 255), list(LifMode)):
        vth = int(rng.integers(base.u_min, base.u_max + 1))
        c = base.replace(leak_q8=leak, neg_q8=neg, vth=vth, mode=mode)
        got_u, got_s, got_sat = lif_step_sat(u, s_prev, cur, c)
        ref = [
            _ref_scalar(int(a), bool(b), int(i), c) for a, b, i in zip(u, s_prev, cur, strict=True)
        ]
        wide = [
            _ref_scalar(int(a), bool(b), int(i), c, clamp_input=False)
            for a, b, i in zip(u, s_prev, cur, strict=True)
        ]
        assert ref == wide, c
        ref_u, ref_s, ref_sat = (np.array(col) for col in zip(*ref, strict=True))
        assert (got_u == ref_u).all(), (c, np.flatnonzero(got_u != ref_u)[:5])
        assert (got_s == ref_s).all(), c
        assert (got_sat == ref_sat).all(), c
        assert lif_step(u, s_prev, cur, c)[2] == int(np.count_nonzero(ref_sat))


# ------------------------------------------------------------------------------------------
# Stateful block model
# ------------------------------------------------------------------------------------------


def test_block_model_updates_clear_and_errors() -> None:
    m = LifArrayModel(n_neurons=5, u_w=16, frac=10, in_w=24)
    c = m.config()
    assert m.idx_w == 3 and list(m.bad_indices) == [5, 6, 7]
    b = m.update(2, 1000, c)
    assert (b.idx, b.spike, b.mem, b.err) == (2, True, 1000, False)
    b = m.update(2, 5, c)  # hard reset after the spike
    assert (b.mem, b.spike, b.s_prev) == (5, False, True)
    b = m.update(1, -40000, c)
    assert (b.sat, b.u3_neg, b.mem) == (-1, True, mul_q8(-32768, 26))
    b = m.update(6, 123, c)  # bad index: answered, counted, no state change
    assert (b.err, b.spike, b.mem) == (True, False, 0) and m.err_idx
    assert (m.upd_count, m.spike_count, m.sat_count) == (4, 1, 1)
    m.clear(busy=True)  # ignored, flagged
    assert m.err_clr and m.u[2] == 5
    m.clear()
    assert not m.u.any() and not m.s.any() and m.upd_count == 4
    m.reset()
    assert (m.upd_count, m.err_idx, m.err_clr) == (0, False, False)
    with pytest.raises(ValueError, match="index bits"):
        m.update(8, 0, c)
    with pytest.raises(ValueError, match="widths"):
        m.update(0, 0, LifConfig(u_w=12, frac=6))


def test_block_model_counters_stick() -> None:
    m = LifArrayModel.from_hdl({"N_NEURONS": 4, "U_W": 12, "F": 6, "IN_W": 16})
    c = m.config(vth=0)
    m.upd_count = m.spike_count = m.sat_count = COUNTER_MAX - 1
    for _ in range(3):
        m.update(0, c.in_max, c)
    assert m.upd_count == m.spike_count == m.sat_count == COUNTER_MAX
    with pytest.raises(ValueError, match="unknown"):
        LifArrayModel.from_hdl({"N_NEURON": 4})


# ------------------------------------------------------------------------------------------
# Fixed point vs float
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", list(LifMode))
@pytest.mark.parametrize("vth", [0.2, 0.5])
def test_tracks_float_reference(mode: LifMode, vth: float) -> None:
    cfg = LifConfig.from_float(vth=vth, mode=mode)
    rng = np.random.default_rng(20240 + int(vth * 10) + 7 * mode.value)
    n, t_steps, lsb = 20_000, 10, cfg.lsb
    uf = np.zeros(n)
    sf = np.zeros(n, dtype=bool)
    ux = np.zeros(n, dtype=np.int64)
    sx = np.zeros(n, dtype=bool)
    same_train = np.ones(n, dtype=bool)
    m1 = np.zeros(n)  # largest |u1| and |u3| of the float trajectory, LSB
    m3 = np.zeros(n)
    agree = 0
    errs = []
    scale = rng.choice([0.1, 0.3, 1.0], size=n)  # membrane units
    for t in range(1, t_steps + 1):
        cur = rng.normal(0.1, 1.0, size=n) * scale
        if mode is LifMode.LIF:
            u1 = uf * (1.0 - sf)
            m1 = np.maximum(m1, np.abs(u1) / lsb)
            m3 = np.maximum(m3, np.abs(u1 * 0.2 + cur) / lsb)
            uf, sf_new = lif_step_float(uf, sf, cur, vth=vth)
        else:
            m3 = np.maximum(m3, np.abs(uf + cur) / lsb)
            uf, sf_new = integrator_step_float(uf, cur), np.zeros(n, dtype=bool)
        ux, sx_new, n_sat = lif_step(ux, sx, to_fixed(cur, cfg.frac, cfg.in_w), cfg)
        assert n_sat == 0  # currents stay far inside the membrane range
        agree += int(np.count_nonzero(sf_new == sx_new))
        same_train &= sf_new == sx_new
        err = np.abs(ux * lsb - uf) / lsb
        if mode is LifMode.LIF:
            bound = (1.5 + 0.00078 * m1 + 0.0016 * m3) / 0.8
        else:
            bound = t * (1.5 + 0.0016 * m3)
        over = same_train & (err > bound)
        assert not over.any(), (
            f"t={t}: {int(over.sum())} neurons beyond the bound, worst error "
            f"{err[over].max():.2f} LSB"
        )
        errs.append(err[same_train])
        sf, sx = sf_new, sx_new
    assert agree / (n * t_steps) >= 0.99
    assert np.concatenate(errs).mean() <= 1.0

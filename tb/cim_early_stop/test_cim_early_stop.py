"""cocotb bench of ``rtl/cim_early_stop.sv`` against ``rramcim.golden.early_stop``.

Structure: a small :class:`TB` owns the pins and runs two components, both acting on the
falling clock edge (inputs set half a cycle before the rising edge that samples them) and
reading DUT outputs in the ``ReadOnly`` phase after those writes:

* source: takes queued :class:`Sample` objects one after the other: drives the ``cfg_*`` pins,
  pulses ``start_i`` (random gap before it; sometimes with the first beat already offered in
  the start cycle), then presents the steps (classification: one ``cls`` beat per step;
  convergence: ``N_PIX`` ``pix`` beats per step with ``pix_last_i`` on the last), with random
  idle gaps (garbage on the data pins while not valid). After a step it waits for that step's
  decision, or, when the model says the decision is not a stop, may present the next step at
  once (it stalls until the block is ready again). Right after ``start_i`` the ``cfg_*`` pins
  get random values (the block must use the sampled copy). Error injections (start while busy,
  wrong ``pix_last_i``, beats on the other rule's stream) are flags of a sample;
* decision monitor: random ``dec_ready_i`` back-pressure, checks the beat stays stable while
  stalled, compares every beat with the golden decisions of the sample in flight
  (:func:`rramcim.golden.early_stop.run_sample`), checks the exact latency of the RTL header
  (valid from the cycle after edge ``E + 17*N_CLASSES - 1`` for rule 0 and ``E`` for rule 1,
  ``E`` = the edge that transfers the beat / last pixel), ``steps_o``/``busy_o`` at every
  decision, the input ready in the cycle after a non-stop decision, and idle + counters after
  a stop decision.

Randomness: one numpy generator per test, keyed by cocotb's per-test seed (logged at the start
of each test together with the regression seed ``COCOTB_RANDOM_SEED``; ``SEED=<n>`` or
``COCOTB_RANDOM_SEED=<n>`` reproduces a run).

Testplan (feature -> test)

=====================================================================  ==========================
feature                                                                 test
=====================================================================  ==========================
rule 0: sums, argmax (lowest index on ties), divider, exp table,        run_classification_random
confidence sum, stop / forced stop at cfg_steps_i, dec_class/metric     (every decision)
rule 0 stops at every step 1..T (small T), never, tie, enable off,      run_classification_random
exponent saturation, sums at both S_W extremes over T_MAX steps,        (coverage)
confidence sum equal to / one below the 1/theta code
rule 1: |dx| sums, pixel buffer, m_1 = inf (all-ones metric), strict    run_convergence_random
m_t < m_{t-1} < m_{t-2}, t = 3 special case, threshold, forced stop     (every decision)
rule 1 stops at every step 3..T, never, enable off, equal metrics,      run_convergence_random
largest metric, cfg_steps_i = 1 and 2, m_t == thr, drop after plateau   (coverage)
both rules in one run, rule switches between samples                    run_backpressure_idle
decision back-pressure (stable while stalled), input gaps, next step    run_backpressure_idle
presented early (stalls), beat offered with start_i, full-speed step    (+ every test)
period 17*N_CLASSES+1 / N_PIX+1 cycles
exact decision latency, ready the cycle after a non-stop decision,      every test, every step
idle + step/stop counters after a stop decision, steps_o, busy_o
cfg_* sampled by start_i (pins randomised during the sample)            every test
async reset during division, pixel stream and a stalled decision;       run_reset_mid
outputs clear at once, counters restart, unreset pixel buffer unused
start_i while busy -> err_start_o; illegal cfg -> err_cfg_o, stays     run_protocol_errors
idle; wrong pix_last_i (early / missing) -> err_last_o, count kept;
beats after the stop and on the other stream -> refused, err_data_o
the checker catches a wrong model                                       run_expect_fail
=====================================================================  ==========================

Coverage bins are declared per test; a hole fails the test.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import cocotb
import numpy as np
import pytest
from cocotb.clock import Clock
from cocotb.simtime import get_sim_time
from cocotb.triggers import ClockCycles, Event, FallingEdge, ReadOnly, RisingEdge, Timer

from rramcim.fixedpoint import pack, to_unsigned
from rramcim.golden.early_stop import (
    EarlyStopConfig,
    EarlyStopRule,
    SampleRun,
    alpha_ln2_code,
    inv_theta_code,
    run_sample,
)
from tb.vip.params import param
from tb.vip.runner import RTL, run_bench, simulators

CLK_PERIOD_NS = 10
CLS, CONV = EarlyStopRule.CLASSIFICATION, EarlyStopRule.CONVERGENCE

Model = Callable[[np.ndarray, EarlyStopConfig], SampleRun]


class ProtocolError(AssertionError):
    """The DUT broke the interface contract (handshakes, latency, status, errors)."""


class ScoreboardError(AssertionError):
    """A decision differs from the model's prediction."""


class UnexpectedBenchError(RuntimeError):
    """A protocol error in ``run_expect_fail`` (must not count as the expected failure)."""


# ------------------------------------------------------------------------------------------
# Parameters, samples, knobs, coverage
# ------------------------------------------------------------------------------------------


def base_config() -> EarlyStopConfig:
    """Configuration of the running bench (HDL parameters from ``PARAM_*``)."""
    names = ("N_CLASSES", "U_W", "F", "T_MAX", "N_PIX", "PIX_W", "S_W")
    return EarlyStopConfig.from_hdl({n: param(n) for n in names}, t_steps=1)


@dataclass
class Sample:
    """One sample, its golden decisions and what the bench observed.

    Attributes:
        idx: sequence number since the test began.
        cfg: run-time configuration (rule, T, enable, codes).
        data: membranes [t_steps, n_classes] or reconstructions [t_steps, n_pix].
        tag: stimulus kind (for the log and coverage).
        run: golden decisions at every step (batch of one).
        expect: decision beats ``(stop, step, class, metric)`` the block must produce.
        pins: ``cfg_*`` pin values that differ from ``cfg`` (e.g. an alpha of 0 in rule 1).
        start_mid: step (0-based) after whose input start_i is pulsed again (err_start_o).
        other_at: step (0-based) after whose input a beat is offered on the other stream.
        last_override: ``{(step, pixel): pix_last_i}`` deviating from the pixel count.
        got: decision beats received.
    """

    idx: int
    cfg: EarlyStopConfig
    data: np.ndarray
    tag: str
    run: SampleRun
    expect: list[tuple[int, int, int, int]]
    pins: dict[str, int] = field(default_factory=dict)
    start_mid: int | None = None
    other_at: int | None = None
    last_override: dict[tuple[int, int], int] = field(default_factory=dict)
    got: list[tuple[int, int, int, int]] = field(default_factory=list)

    @property
    def rule(self) -> EarlyStopRule:
        return self.cfg.rule


@dataclass
class Knobs:
    """Stimulus knobs (probabilities per beat / decision / cycle; gaps in cycles)."""

    p_gap: float = 0.2  # idle gap (1..max_gap cycles) before an input beat
    max_gap: int = 3
    p_dec_stall: float = 0.3  # dec_ready_i low in a cycle
    p_early: float = 0.3  # present the next step before a non-stop decision is taken
    p_start_gap: float = 0.5  # idle cycles before start_i
    p_beat_with_start: float = 0.2  # first beat already offered in the start cycle

    @classmethod
    def full_speed(cls) -> Knobs:
        return cls(0.0, 1, 0.0, 0.0, 0.0, 0.0)


class Coverage:
    """Named bins; :meth:`require` fails the test on every declared bin left at zero."""

    def __init__(self, bins: Iterable[str] = ()) -> None:
        self.bins: dict[str, int] = dict.fromkeys(bins, 0)
        self.seen: dict[str, int] = {}

    def hit(self, name: str) -> None:
        self.seen[name] = self.seen.get(name, 0) + 1
        if name in self.bins:
            self.bins[name] += 1

    def require(self, log) -> None:  # noqa: ANN001 - cocotb logger
        log.info("coverage: %s", ", ".join(f"{k}={v}" for k, v in sorted(self.seen.items())))
        holes = [k for k, v in self.bins.items() if v == 0]
        if holes:
            raise AssertionError(f"coverage holes: {holes}")


# ------------------------------------------------------------------------------------------
# Test bench
# ------------------------------------------------------------------------------------------


class TB:
    """Pins, components and scoreboard of ``cim_early_stop``.

    Args:
        dut: top-level handle.
        name: test name (keys the random streams).
        model: reference ``(data [1, T, n], cfg) -> SampleRun``.
        expect_fail: protocol errors raise :class:`UnexpectedBenchError`, so only a
            scoreboard mismatch counts as the expected failure.
    """

    def __init__(
        self, dut, name: str, model: Model = run_sample, expect_fail: bool = False
    ) -> None:  # noqa: ANN001
        self.dut = dut
        self.log = dut._log
        self.base = base_config()
        c = self.base
        test_seed = int(cocotb.RANDOM_SEED)
        digest = int(hashlib.sha1(f"{__name__}.{name}".encode()).hexdigest(), 16)
        self.rng = np.random.default_rng(test_seed)
        self.log.info(
            "regression seed (COCOTB_RANDOM_SEED / SEED) %d, per-test seed %d, params %s",
            test_seed - digest,
            test_seed,
            c.hdl_params(),
        )
        self.model = model
        self.expect_fail = expect_fail
        self.knobs = Knobs()
        self.cov = Coverage()
        self.u_lo, self.u_hi = -(1 << (c.u_w - 1)), (1 << (c.u_w - 1)) - 1
        self.x_lo, self.x_hi = -(1 << (c.pix_w - 1)), (1 << (c.pix_w - 1)) - 1
        self.t_small = min(c.t_max, 5)
        self.n_samples = 0
        self._tasks: list = []
        self._clock_started = False
        self.dec_ev = Event()
        self._reset_state()

    # -- bookkeeping --------------------------------------------------------------------------

    def _reset_state(self) -> None:
        self.pending: deque[Sample] = deque()
        self.cur: Sample | None = None  # sample in flight (started, stop not yet taken)
        self.sourcing: Sample | None = None  # sample whose inputs the source presents
        self.done: list[Sample] = []
        self.n_dec = 0  # decisions transferred since reset
        self.n_stop = 0  # stop decisions transferred since reset
        self.last_xfer_ns: float | None = None  # ReadOnly time before the step's last transfer
        self.beat_ns: list[tuple[int, int, float]] = []  # (sample, step, time) of step ends

    def fail(self, msg: str) -> None:
        full = f"{msg} (per-test seed {cocotb.RANDOM_SEED}, t={get_sim_time('ns')} ns)"
        raise (UnexpectedBenchError if self.expect_fail else ProtocolError)(full)

    # -- stimulus -----------------------------------------------------------------------------

    def make(self, cfg: EarlyStopConfig, data: np.ndarray, tag: str, **kw: object) -> Sample:
        """A sample with its golden decisions."""
        data = np.asarray(data, dtype=np.int64)[: cfg.t_steps]
        run = self.model(data[None], cfg)
        s = Sample(self.n_samples, cfg, data, tag, run, run.decisions(0), **kw)  # type: ignore[arg-type]
        self.n_samples += 1
        return s

    def cls_cfg(self, t_steps: int, *, alpha: float = 2.0, theta: float = 0.8, enable=True):  # noqa: ANN001, ANN201
        return self.base.replace(
            t_steps=t_steps,
            rule=CLS,
            enable=enable,
            alpha_ln2=alpha_ln2_code(alpha),
            inv_theta=inv_theta_code(theta, self.base.n_classes),
        )

    def conv_cfg(self, t_steps: int, thr: int, enable: bool = True) -> EarlyStopConfig:
        return self.base.replace(t_steps=t_steps, rule=CONV, enable=enable, conv_thr=thr)

    def clip_u(self, x: np.ndarray) -> np.ndarray:
        return np.clip(np.round(x), self.u_lo, self.u_hi).astype(np.int64)

    def cls_random(self, t_steps: int | None = None, enable: bool | None = None) -> Sample:
        """Random logits: a class with a random signal strength in random noise, random
        temperature and threshold; stops happen at every step count."""
        c, r = self.base, self.rng
        T = t_steps or int(r.integers(1, min(c.t_max, 12) + 1))
        en = bool(r.random() < 0.85) if enable is None else enable
        alpha = float(r.choice([0.5, 1.0, 2.0, 2.0, 4.0, r.uniform(0.3, 6.0)]))
        theta = float(r.choice([0.8, 0.8, r.uniform(0.3, 0.99)]))
        full = (self.u_hi - self.u_lo) / (1 << c.frac)  # full scale in real units
        unit = min(1.0, full / 16)  # typical membrane size, real units
        strength = unit * float(r.lognormal(0.0, 1.0)) * float(r.choice([0.3, 1.0, 3.0]))
        noise = unit * float(r.uniform(0.2, 3.0))
        cls = int(r.integers(c.n_classes))
        u = r.normal(0.0, noise, size=(T, c.n_classes))
        u[:, cls] += strength
        u += r.normal(0.0, noise, size=(1, c.n_classes))  # per-sample class bias
        data = self.clip_u(u * (1 << c.frac))
        pick = r.random(data.shape)  # extremes sprinkled in
        data[pick < 0.01] = self.u_lo
        data[pick > 0.99] = self.u_hi
        return self.make(self.cls_cfg(T, alpha=alpha, theta=theta, enable=en), data, "random")

    def cls_stop_at(self, s: int, T: int) -> Sample:
        """Equal membranes (no confidence) before step s, a decisive step s (one class at the
        top of the range, the others at the bottom); random afterwards."""
        c, r = self.base, self.rng
        cls = int(r.integers(c.n_classes))
        data = self.clip_u(r.normal(0, 1, size=(T, c.n_classes)) * (1 << c.frac))
        data[: s - 1] = data[: s - 1, :1]  # equal classes
        data[s - 1] = self.u_lo
        data[s - 1, cls] = self.u_hi
        # temperature such that step s is confident: the gap of the running mean (real units)
        # must exceed alpha * (ln(theta*(n-1)/(1-theta)) + 1)
        theta = 0.8
        gap = (self.u_hi - self.u_lo) / s / (1 << c.frac)
        need = math.log(theta * (c.n_classes - 1) / (1 - theta)) + 1.0
        alpha = min(2.0, gap / need)
        smp = self.make(self.cls_cfg(T, alpha=alpha, theta=theta), data, f"stop_at={s}")
        assert int(smp.run.stop_step[0]) == s, f"directed sample does not stop at {s}"
        return smp

    def cls_edges(self, T: int) -> list[Sample]:
        """The 1/theta code equal to the confidence sum of step 1 (strict: no stop there) and
        one above it (stops at step 1)."""
        base = self.cls_random(t_steps=T, enable=True)
        m = int(base.run.metric[0, 0])
        eq = self.make(base.cfg.replace(inv_theta=m), base.data, "conf==thr")
        above = self.make(base.cfg.replace(inv_theta=m + 1), base.data, "conf<thr")
        assert int(above.run.stop_step[0]) == 1 and not bool(eq.run.stop[0, 0] and T > 1)
        return [eq, above]

    def cls_never(self, T: int) -> Sample:
        """Equal membranes in every step (ties everywhere): p = 1/n, never confident."""
        c, r = self.base, self.rng
        col = self.clip_u(r.normal(0, 2, size=(T, 1)) * (1 << c.frac))
        return self.make(self.cls_cfg(T), np.repeat(col, c.n_classes, axis=1), "never")

    def cls_tie(self, T: int) -> Sample:
        """Two classes with identical, leading membranes: the lower index must win."""
        c, r = self.base, self.rng
        a, b = sorted(r.choice(c.n_classes, size=2, replace=False).tolist())
        data = self.clip_u(r.normal(0, 1, size=(T, c.n_classes)) * (1 << c.frac))
        lead = self.clip_u(r.uniform(0.5, 3, size=T) * (1 << c.frac))
        data[:, a] = lead
        data[:, b] = lead
        return self.make(self.cls_cfg(T, theta=0.99), data, "tie")

    def cls_extreme(self, high: bool) -> Sample:
        """T_MAX steps with class 0 at one extreme of the range and class 1 at the other
        (sums reach both S_W extremes, the exponent saturates), early stop off."""
        c, r = self.base, self.rng
        T = c.t_max
        data = self.clip_u(r.normal(0, 1, size=(T, c.n_classes)) * (1 << c.frac))
        data[:, 0] = self.u_hi if high else self.u_lo
        data[:, 1] = self.u_lo if high else self.u_hi
        return self.make(self.cls_cfg(T, enable=False), data, "extreme")

    # convergence

    def images_for(self, metrics: list[int], x1: np.ndarray | None = None) -> np.ndarray:
        """Reconstructions x_1.. whose successive L1 changes are ``metrics`` (m_2, m_3, ...);
        any metric up to n_pix * 2**(pix_w-1) is reachable."""
        c, r = self.base, self.rng
        x = r.integers(self.x_lo, self.x_hi + 1, size=c.n_pix) if x1 is None else x1.copy()
        imgs = [x.copy()]
        for m in metrics:
            assert 0 <= m <= c.n_pix * (1 << (c.pix_w - 1)), m
            nxt = x.copy()
            left = int(m)
            for i in r.permutation(c.n_pix):
                if left == 0:
                    break
                v = int(x[i])
                up, down = self.x_hi - v, v - self.x_lo
                a = min(left, max(up, down))
                nxt[i] = v + a if up >= down else v - a
                left -= a
            x = nxt
            imgs.append(x.copy())
        return np.stack(imgs)

    @property
    def m_cap(self) -> int:
        return self.base.n_pix * (1 << (self.base.pix_w - 1))

    def conv_stop_at(self, s: int, T: int) -> Sample:
        """Metrics H (steps 2..s-2), M >= thr (s-1), L < thr (s): stops exactly at s >= 3."""
        r = self.rng
        cap = self.m_cap
        H = int(r.integers(max(2, cap // 2), cap + 1))
        thr = int(r.integers(1, H))
        M = int(r.integers(thr, H))
        L = int(r.integers(0, thr))
        ms = [H] * (s - 3) + [M, L] + r.integers(0, cap + 1, size=T - s).tolist()
        smp = self.make(self.conv_cfg(T, thr), self.images_for(ms), f"stop_at={s}")
        assert int(smp.run.stop_step[0]) == s, f"directed sample does not stop at {s}"
        return smp

    def conv_edges(self, T: int) -> list[Sample]:
        """Where only strictness blocks the stop: m_4 == thr after a decrease (M, thr), and a
        drop below thr right after a plateau (H, H, L): neither may stop at t = 4."""
        r = self.rng
        cap = self.m_cap
        H = int(r.integers(max(3, cap // 2), cap + 1))
        M = int(r.integers(2, H))
        thr = int(r.integers(1, M))
        L = int(r.integers(0, thr))
        rest = r.integers(0, cap + 1, size=T - 4).tolist()
        eq = self.make(self.conv_cfg(T, thr), self.images_for([H, M, thr] + rest), "m==thr")
        flat = self.make(self.conv_cfg(T, thr), self.images_for([H, H, L] + rest), "plateau")
        for smp in (eq, flat):
            assert int(smp.run.stop_step[0]) != 4
        return [eq, flat]

    def conv_random(self, t_steps: int | None = None, enable: bool | None = None) -> Sample:
        """Converging reconstructions: metrics decay geometrically with noise, random
        threshold; some plateaus (equal metrics)."""
        c, r = self.base, self.rng
        T = t_steps or int(r.integers(1, min(c.t_max, 12) + 1))
        en = bool(r.random() < 0.85) if enable is None else enable
        cap = self.m_cap
        m0 = r.uniform(0.2, 1.0) * cap
        rate = r.uniform(0.3, 1.1)
        ms = [m0 * rate**k * r.uniform(0.8, 1.2) for k in range(max(T - 1, 0))]
        ms = [int(min(cap, max(0, round(m)))) for m in ms]
        if len(ms) > 2 and r.random() < 0.2:
            ms[len(ms) // 2] = ms[len(ms) // 2 - 1]  # a plateau
        thr = int(r.integers(0, cap + 1)) if r.random() < 0.5 else int(r.uniform(0, 0.3) * cap)
        return self.make(self.conv_cfg(T, thr, en), self.images_for(ms), "random")

    def conv_never(self, T: int) -> Sample:
        """Equal metrics at every step (strict comparison never holds)."""
        m = int(self.rng.integers(0, self.m_cap + 1))
        return self.make(self.conv_cfg(T, self.m_cap), self.images_for([m] * (T - 1)), "never")

    def conv_extreme(self, T: int) -> Sample:
        """Images alternating between all-minimum and all-maximum: the largest metric."""
        c = self.base
        imgs = np.array(
            [[self.x_lo if k % 2 == 0 else self.x_hi] * c.n_pix for k in range(T)], np.int64
        )
        return self.make(self.conv_cfg(T, (1 << c.m_w) - 1), imgs, "extreme")

    def queue(self, samples: Iterable[Sample]) -> None:
        self.pending.extend(samples)

    # -- pins ---------------------------------------------------------------------------------

    def drive_cfg(self, cfg: EarlyStopConfig, pins: dict[str, int] | None = None) -> None:
        d = self.dut
        v = {
            "cfg_steps_i": cfg.t_steps,
            "cfg_rule_i": int(cfg.rule),
            "cfg_enable_i": int(cfg.enable),
            "cfg_alpha_ln2_i": cfg.alpha_ln2,
            "cfg_inv_theta_i": cfg.inv_theta,
            "cfg_conv_thr_i": cfg.conv_thr,
        }
        v.update(pins or {})
        for k, x in v.items():
            getattr(d, k).value = x

    def drive_cfg_garbage(self) -> None:
        c, r, d = self.base, self.rng, self.dut
        d.cfg_steps_i.value = int(r.integers(0, 1 << c.t_w))
        d.cfg_rule_i.value = int(r.integers(2))
        d.cfg_enable_i.value = int(r.integers(2))
        d.cfg_alpha_ln2_i.value = int(r.integers(0, 1 << 16))
        d.cfg_inv_theta_i.value = int(r.integers(0, 1 << c.conf_w))
        d.cfg_conv_thr_i.value = int(r.integers(0, 1 << c.m_w))

    def garbage(self, bits: int) -> int:
        return int.from_bytes(self.rng.bytes((bits + 7) // 8), "little") & ((1 << bits) - 1)

    def drive_idle(self) -> None:
        d = self.dut
        d.start_i.value = 0
        d.cls_valid_i.value = 0
        d.pix_valid_i.value = 0
        d.pix_last_i.value = 0
        d.dec_ready_i.value = 0

    async def start(self) -> None:
        """Idle inputs, clock, reset, components."""
        d = self.dut
        d.rst_ni.value = 0
        self.drive_idle()
        self.drive_cfg(self.base)
        d.cls_data_i.value = 0
        d.pix_data_i.value = 0
        if not self._clock_started:
            Clock(d.clk_i, CLK_PERIOD_NS, unit="ns", impl="gpi").start(start_high=False)
            self._clock_started = True
        await ClockCycles(d.clk_i, 3)
        await FallingEdge(d.clk_i)
        d.rst_ni.value = 1
        self._reset_state()
        self.start_components()

    def start_components(self) -> None:
        self._tasks = [cocotb.start_soon(c()) for c in (self._source, self._monitor)]

    def stop_components(self) -> None:
        for t in self._tasks:
            t.cancel()
        self._tasks = []

    def check_reset_outputs(self) -> None:
        d = self.dut
        names = (
            "cls_ready_o pix_ready_o dec_valid_o dec_stop_o dec_step_o dec_class_o dec_metric_o "
            "busy_o steps_o step_count_o stop_count_o err_start_o err_cfg_o err_last_o err_data_o"
        )
        for n in names.split():
            if int(getattr(d, n).value):
                self.fail(f"{n} not cleared by the asynchronous reset")

    async def reset(self, hold_cycles: int = 2) -> None:
        """Asynchronous reset in the middle of a cycle; checks the outputs clear at once."""
        d = self.dut
        await Timer(CLK_PERIOD_NS // 5, unit="ns")  # off the clock edges
        if int(d.dec_valid_o.value):
            self.cov.hit("reset_in_decision")
        elif int(d.pix_ready_o.value):
            self.cov.hit("reset_in_pixels")
        elif int(d.busy_o.value) and not int(d.cls_ready_o.value):
            self.cov.hit("reset_in_evaluation")
        self.stop_components()
        self.drive_idle()
        d.rst_ni.value = 0
        await ReadOnly()
        self.check_reset_outputs()
        await ClockCycles(d.clk_i, hold_cycles)
        await ReadOnly()
        self.check_reset_outputs()
        await FallingEdge(d.clk_i)
        d.rst_ni.value = 1
        self._reset_state()
        self.start_components()

    # -- components ---------------------------------------------------------------------------

    async def _gap(self) -> None:
        """Random idle cycles (valid low, garbage data) before a beat; at a falling edge."""
        k, r, d = self.knobs, self.rng, self.dut
        if r.random() >= k.p_gap:
            return
        self.cov.hit("in_gap")
        d.cls_data_i.value = self.garbage(self.base.n_classes * self.base.u_w)
        d.pix_data_i.value = self.garbage(self.base.pix_w)
        for _ in range(int(r.integers(1, k.max_gap + 1))):
            await FallingEdge(d.clk_i)

    async def _offer(self, valid, ready) -> None:  # noqa: ANN001
        """Hold the beat on the pins until it transfers; returns at the next falling edge."""
        d = self.dut
        valid.value = 1
        while True:
            await ReadOnly()
            if int(ready.value):
                self.last_xfer_ns = get_sim_time("ns")
                break
            self.cov.hit("in_stall")
            await RisingEdge(ready)
            await FallingEdge(d.clk_i)
        await FallingEdge(d.clk_i)
        valid.value = 0

    async def _send_step(self, s: Sample, i: int) -> None:
        d, c = self.dut, self.base
        if s.rule == CLS:
            await self._gap()
            d.cls_data_i.value = pack(s.data[i].tolist(), c.u_w)
            await self._offer(d.cls_valid_i, d.cls_ready_o)
            d.cls_data_i.value = self.garbage(c.n_classes * c.u_w)
            return
        for p in range(c.n_pix):
            await self._gap()
            d.pix_data_i.value = to_unsigned(int(s.data[i, p]), c.pix_w)
            d.pix_last_i.value = s.last_override.get((i, p), int(p == c.n_pix - 1))
            await self._offer(d.pix_valid_i, d.pix_ready_o)
        d.pix_last_i.value = 0

    async def _wait_decisions(self, s: Sample, n: int) -> None:
        """Until ``n`` decisions of ``s`` are in; returns at a falling edge."""
        if len(s.got) >= n:
            return
        while len(s.got) < n:
            self.dec_ev.clear()
            await self.dec_ev.wait()
        await FallingEdge(self.dut.clk_i)

    async def _source(self) -> None:
        d, k, r = self.dut, self.knobs, self.rng
        while True:
            await FallingEdge(d.clk_i)
            if not self.pending:
                continue
            s = self.pending.popleft()
            self.sourcing = s  # not idle from here on (drain() must not end in the start gap)
            if r.random() < k.p_start_gap:
                await ClockCycles(d.clk_i, int(r.integers(1, 4)))
                await FallingEdge(d.clk_i)
            self.drive_cfg(s.cfg, s.pins)
            d.start_i.value = 1
            with_beat = s.rule == CLS and r.random() < k.p_beat_with_start
            if with_beat:  # the first beat offered in the start cycle is not an error
                d.cls_data_i.value = pack(s.data[0].tolist(), self.base.u_w)
                d.cls_valid_i.value = 1
                self.cov.hit("beat_with_start")
            await ReadOnly()
            if int(d.busy_o.value):
                self.fail(f"busy_o high when sample {s.idx} starts")
            self.cur = self.sourcing = s
            self.cov.hit(f"rule={int(s.rule)}")
            await FallingEdge(d.clk_i)
            d.start_i.value = 0
            self.drive_cfg_garbage()
            if with_beat:
                await self._offer(d.cls_valid_i, d.cls_ready_o)
            steps = len(s.expect)
            for i in range(steps):
                if i or not with_beat:
                    await self._send_step(s, i)
                self.beat_ns.append((s.idx, i, self.last_xfer_ns))
                if s.start_mid == i:
                    d.start_i.value = 1  # the block is busy: ignored, err_start_o
                    await FallingEdge(d.clk_i)
                    d.start_i.value = 0
                if s.other_at == i:
                    await self._other_stream(s)
                if i + 1 < steps and r.random() < k.p_early:
                    self.cov.hit("early_present")
                    continue
                await self._wait_decisions(s, i + 1)
            await self._wait_decisions(s, steps)
            self.sourcing = None

    async def _other_stream(self, s: Sample) -> None:
        """Offer a beat on the stream the sample's rule does not use for two cycles."""
        d = self.dut
        valid, ready = (
            (d.pix_valid_i, d.pix_ready_o) if s.rule == CLS else (d.cls_valid_i, d.cls_ready_o)
        )
        valid.value = 1
        for _ in range(2):
            await ReadOnly()
            if int(ready.value):
                self.fail("a beat on the other rule's stream was accepted")
            await FallingEdge(d.clk_i)
        valid.value = 0
        self.cov.hit("other_stream")

    async def _monitor(self) -> None:
        d, k, r, c = self.dut, self.knobs, self.rng, self.base
        stalled: tuple[int, int, int, int] | None = None
        after: tuple[Sample, tuple[int, int, int, int]] | None = None
        lat_cls = 17 * c.n_classes * CLK_PERIOD_NS
        lat_pix = CLK_PERIOD_NS
        while True:
            await FallingEdge(d.clk_i)
            ready = 0 if r.random() < k.p_dec_stall else 1
            d.dec_ready_i.value = ready
            await ReadOnly()
            if after is not None:
                self._after_decision(*after)
                after = None
            if not int(d.dec_valid_o.value):
                if stalled is not None:
                    self.fail("dec_valid_o dropped before the decision was taken")
                await RisingEdge(d.dec_valid_o)
                continue
            beat = (
                int(d.dec_stop_o.value),
                int(d.dec_step_o.value),
                int(d.dec_class_o.value),
                int(d.dec_metric_o.value),
            )
            if stalled is None:  # first cycle of this decision
                s = self.cur
                if s is None:
                    self.fail(f"decision {beat} with no sample in flight")
                lat = lat_cls if s.rule == CLS else lat_pix
                now = get_sim_time("ns")
                if self.last_xfer_ns is None or now - self.last_xfer_ns != lat:
                    self.fail(
                        f"sample {s.idx}: decision {beat} {now - (self.last_xfer_ns or 0)} ns "
                        f"after the input, header says {lat} ns"
                    )
                if int(d.steps_o.value) != beat[1] or not int(d.busy_o.value):
                    self.fail(f"steps_o={int(d.steps_o.value)}/busy_o low at decision {beat}")
            elif beat != stalled:
                self.fail(f"decision changed while stalled: {stalled} -> {beat}")
            if not ready:
                stalled = beat
                self.cov.hit("dec_stall")
                continue
            stalled = None
            s = self._on_decision(beat)
            after = (s, beat)

    def _on_decision(self, beat: tuple[int, int, int, int]) -> Sample:
        s = self.cur
        assert s is not None
        i = len(s.got)
        if i >= len(s.expect):
            self.fail(f"sample {s.idx}: decision {beat} after the expected stop")
        exp = s.expect[i]
        if beat != exp:
            raise ScoreboardError(
                f"sample {s.idx} ({s.tag}, rule {int(s.rule)}, T={s.cfg.t_steps}, enable="
                f"{int(s.cfg.enable)}) step {i + 1}: (stop, step, class, metric) = {beat}, "
                f"model {exp} (per-test seed {cocotb.RANDOM_SEED})"
            )
        s.got.append(beat)
        self.n_dec += 1
        if beat[0]:
            self.n_stop += 1
            self.cur = None
            self.done.append(s)
            self._cover_sample(s)
        self.dec_ev.set()
        return s

    def _after_decision(self, s: Sample, beat: tuple[int, int, int, int]) -> None:
        """One cycle after a decision transferred (ReadOnly)."""
        d = self.dut
        cls_rdy, pix_rdy = int(d.cls_ready_o.value), int(d.pix_ready_o.value)
        if beat[0]:
            if int(d.busy_o.value) or cls_rdy or pix_rdy:
                self.fail(f"sample {s.idx}: not idle after the stop decision")
            counts = (int(d.step_count_o.value), int(d.stop_count_o.value))
            if counts != (self.n_dec, self.n_stop):
                self.fail(f"step/stop_count_o = {counts}, expected {(self.n_dec, self.n_stop)}")
        else:
            want = (1, 0) if s.rule == CLS else (0, 1)
            if (cls_rdy, pix_rdy) != want:
                self.fail(f"(cls, pix)_ready_o = {(cls_rdy, pix_rdy)} after a non-stop decision")

    def _cover_sample(self, s: Sample) -> None:
        run, cfg, cov = s.run, s.cfg, self.cov
        n = len(s.got)
        name = "cls" if s.rule == CLS else "conv"
        if not cfg.enable:
            cov.hit(f"{name}_enable_off")
            return
        if s.rule == CLS:
            fired = bool(run.metric[0, n - 1] < cfg.inv_theta)
            sums = np.cumsum(s.data[:n], axis=0)
            ties = (sums == sums.max(axis=1, keepdims=True)).sum(axis=1)
            if (ties > 1).any():
                cov.hit("cls_tie")
            if run.q_sat[0, :n].any():
                cov.hit("cls_q_sat")
            if (run.metric[0, :n] == cfg.inv_theta).any():
                cov.hit("cls_conf==thr")
        else:
            m = run.metric[0, :n]
            fired = n >= 3 and bool(m[-1] < cfg.conv_thr) and n == int(run.stop_step[0])
            fired = fired and bool(m[-1] < m[-2]) and (n == 3 or bool(m[-2] < m[-3]))
            if n >= 3 and (m[2:] == m[1:-1]).any():
                cov.hit("conv_metric_tie")
            for t in range(3, n + 1):  # 1-based step t, m[t-1] = m_t
                down = m[t - 1] < m[t - 2]
                if down and (t == 3 or m[t - 2] < m[t - 3]) and m[t - 1] == cfg.conv_thr:
                    cov.hit("conv_m==thr")
                if t >= 4 and down and m[t - 2] == m[t - 3] and m[t - 1] < cfg.conv_thr:
                    cov.hit("conv_plateau_drop")
        if fired:
            cov.hit(f"{name}_stop@{n}" if cfg.t_steps <= self.t_small else f"{name}_stop_late")
        else:
            cov.hit(f"{name}_never")

    # -- test helpers -------------------------------------------------------------------------

    def idle(self) -> bool:
        return not (self.pending or self.cur or self.sourcing)

    async def drain(self, max_cycles: int = 2_000_000) -> None:
        """Wait until every queued sample has been decided."""
        for _ in range(0, max_cycles, 64):
            if self.idle():
                break
            await ClockCycles(self.dut.clk_i, 64)
        else:
            self.fail(f"timeout: {len(self.pending)} queued, sample in flight: {self.cur}")
        await FallingEdge(self.dut.clk_i)

    async def check_status(self, errs: dict[str, int] | None = None) -> None:
        """Counters equal the bench's; sticky errors as given (default: none)."""
        d = self.dut
        await ReadOnly()
        counts = (int(d.step_count_o.value), int(d.stop_count_o.value))
        if counts != (self.n_dec, self.n_stop):
            self.fail(f"step/stop_count_o = {counts}, expected {(self.n_dec, self.n_stop)}")
        want = {"err_start_o": 0, "err_cfg_o": 0, "err_last_o": 0, "err_data_o": 0}
        want.update(errs or {})
        got = {n: int(getattr(d, n).value) for n in want}
        if got != want:
            self.fail(f"error flags {got}, expected {want}")
        self.log.info(
            "%d samples, %d decisions since reset; flags %s", self.n_stop, self.n_dec, got
        )
        await FallingEdge(d.clk_i)

    def set_knobs(self, knobs: Knobs) -> None:
        vars(self.knobs).update(vars(knobs))


# ------------------------------------------------------------------------------------------
# Stimulus plans
# ------------------------------------------------------------------------------------------


def cls_plan(tb: TB, min_steps: int) -> list[Sample]:
    """Directed classification samples (every coverage bin), then random ones until the
    samples hold ``min_steps`` decisions."""
    Ts = tb.t_small
    plan = [tb.cls_stop_at(s, Ts) for s in range(1, Ts + 1)]
    plan += [tb.cls_never(Ts), tb.cls_tie(Ts), tb.cls_extreme(True), tb.cls_extreme(False)]
    plan += tb.cls_edges(Ts)
    plan += [tb.cls_random(enable=False)]
    steps = sum(len(s.expect) for s in plan)
    while steps < min_steps:
        plan.append(tb.cls_random())
        steps += len(plan[-1].expect)
    return plan


def conv_plan(tb: TB, min_steps: int) -> list[Sample]:
    """Directed convergence samples, then random ones until ``min_steps`` decisions."""
    Ts = tb.t_small
    plan = [tb.conv_stop_at(s, Ts) for s in range(3, Ts + 1)]
    plan += [tb.conv_never(Ts), tb.conv_extreme(min(Ts, 4)), tb.conv_random(enable=False)]
    plan += [tb.conv_random(t_steps=1), tb.conv_random(t_steps=min(2, tb.base.t_max))]
    if Ts >= 4 and tb.m_cap >= 3:  # needs metrics H > M > thr >= 1
        plan += tb.conv_edges(Ts)
    steps = sum(len(s.expect) for s in plan)
    while steps < min_steps:
        plan.append(tb.conv_random())
        steps += len(plan[-1].expect)
    return plan


def cls_bins(tb: TB) -> list[str]:
    bins = [f"cls_stop@{s}" for s in range(1, tb.t_small + 1)]
    bins += ["cls_never", "cls_tie", "cls_enable_off", "cls_q_sat", "cls_conf==thr", "rule=0"]
    return bins


def conv_bins(tb: TB) -> list[str]:
    bins = [f"conv_stop@{s}" for s in range(3, tb.t_small + 1)]
    bins += ["conv_never", "conv_enable_off", "rule=1"]
    if tb.t_small >= 4 and tb.m_cap >= 3:
        bins += ["conv_m==thr", "conv_plateau_drop"]
    if tb.t_small >= 5:
        bins.append("conv_metric_tie")
    return bins


def shuffled(tb: TB, samples: list[Sample]) -> list[Sample]:
    return [samples[i] for i in tb.rng.permutation(len(samples))]


# ------------------------------------------------------------------------------------------
# Tests
# ------------------------------------------------------------------------------------------

TIMEOUT = {"timeout_time": 2000, "timeout_unit": "ms"}


@cocotb.test(**TIMEOUT)
async def run_classification_random(dut) -> None:  # noqa: ANN001
    """Rule 0: directed + random logits (>= 200 steps), early stop on and off."""
    tb = TB(dut, "run_classification_random")
    tb.cov = Coverage(cls_bins(tb) + ["in_gap", "dec_stall", "early_present"])
    await tb.start()
    plan = cls_plan(tb, min_steps=200)
    tb.queue(shuffled(tb, plan))
    await tb.drain()
    assert len(tb.done) == len(plan), f"{len(tb.done)} of {len(plan)} samples decided"
    extremes = [s for s in tb.done if s.tag == "extreme"]
    for s in extremes:  # both S_W extremes reached
        total = np.cumsum(s.data, axis=0)[-1, :2]
        assert abs(int(total[0] - total[1])) == tb.base.t_max * (tb.u_hi - tb.u_lo), total
    tb.log.info(
        "%d samples, %d steps; stop steps %s",
        len(tb.done),
        tb.n_dec,
        np.bincount([len(s.got) for s in tb.done]).tolist(),
    )
    await tb.check_status()
    tb.cov.require(tb.log)


@cocotb.test(**TIMEOUT)
async def run_convergence_random(dut) -> None:  # noqa: ANN001
    """Rule 1: directed + random image sequences (converging, plateaus, extremes)."""
    tb = TB(dut, "run_convergence_random")
    tb.cov = Coverage(conv_bins(tb) + ["in_gap", "dec_stall"])
    await tb.start()
    plan = conv_plan(tb, min_steps=120)
    tb.queue(shuffled(tb, plan))
    await tb.drain()
    assert len(tb.done) == len(plan), f"{len(tb.done)} of {len(plan)} samples decided"
    big = max(int(s.run.metric[0, 1:].max(initial=0)) for s in tb.done if len(s.got) > 1)
    assert big == tb.base.n_pix * ((1 << tb.base.pix_w) - 1), big  # largest metric seen
    tb.log.info("%d samples, %d steps", len(tb.done), tb.n_dec)
    await tb.check_status()
    tb.cov.require(tb.log)


@cocotb.test(**TIMEOUT)
async def run_backpressure_idle(dut) -> None:  # noqa: ANN001
    """Both rules interleaved: heavy back-pressure and gaps, then full speed (exact period)."""
    tb = TB(dut, "run_backpressure_idle")
    tb.cov = Coverage(["rule=0", "rule=1", "in_gap", "dec_stall", "early_present"])
    tb.cov.bins.update(dict.fromkeys(["beat_with_start", "in_stall"], 0))
    await tb.start()
    tb.set_knobs(Knobs(p_gap=0.5, max_gap=6, p_dec_stall=0.7, p_early=0.5, p_beat_with_start=0.5))
    mixed = [tb.cls_random() for _ in range(6)] + [tb.conv_random() for _ in range(6)]
    tb.queue(shuffled(tb, mixed))
    await tb.drain()
    # Each classification sample offers its first beat in the start cycle with probability
    # 0.5, so the six above offer none once in 64 seeds (seed 1796025970 on verilator,
    # c64u32f24t7p37w16): then one more sample offers it.
    if not tb.cov.bins["beat_with_start"]:
        tb.set_knobs(
            Knobs(p_gap=0.5, max_gap=6, p_dec_stall=0.7, p_early=0.5, p_beat_with_start=1.0)
        )
        tb.queue([tb.cls_random()])
        await tb.drain()
    # A stalled input beat depends on how the random gaps fall against the block's busy
    # cycles; with some seeds and sizes twelve samples offer none. Top up with samples whose
    # next step is always presented early (before the decision is taken) until one stalls.
    for _ in range(8):
        if tb.cov.bins["in_stall"]:
            break
        tb.set_knobs(Knobs(p_gap=0.0, max_gap=1, p_dec_stall=0.9, p_early=1.0))
        tb.queue([tb.cls_random(), tb.conv_random()])
        await tb.drain()
    await tb.check_status()
    # full speed: every step of a sample starts exactly one period after the previous one
    tb.set_knobs(Knobs.full_speed())
    c = tb.base
    fast = [tb.cls_random(t_steps=min(c.t_max, 4), enable=False) for _ in range(2)]
    fast += [tb.conv_random(t_steps=min(c.t_max, 4), enable=False) for _ in range(2)]
    tb.beat_ns.clear()
    tb.queue(fast)
    await tb.drain()
    ends = {(i, k): t for i, k, t in tb.beat_ns}
    for s in fast:
        period = (17 * c.n_classes + 1) if s.rule == CLS else (c.n_pix + 1)
        for k in range(1, len(s.got)):
            cycles = (ends[(s.idx, k)] - ends[(s.idx, k - 1)]) / CLK_PERIOD_NS
            if cycles != period:
                tb.fail(f"sample {s.idx} step {k + 1}: {cycles} cycles, header says {period}")
    await tb.check_status()
    tb.cov.require(tb.log)


async def _wait_for(
    tb: TB, cond: Callable[[], bool], what: str, extra_cycles: int = 0, max_cycles: int = 500_000
) -> None:
    """Until ``cond()`` holds in the middle of a cycle, then ``extra_cycles`` more rising edges;
    returns in the ReadOnly phase (the caller's reset then lands in that very cycle)."""
    for _ in range(max_cycles):
        await FallingEdge(tb.dut.clk_i)
        await ReadOnly()
        if cond():
            if extra_cycles:
                await ClockCycles(tb.dut.clk_i, extra_cycles)
            return
    tb.fail(f"timeout waiting for {what}")


@cocotb.test(**TIMEOUT)
async def run_reset_mid(dut) -> None:  # noqa: ANN001
    """Asynchronous reset while dividing, while pixels stream and while a decision stalls."""
    tb = TB(dut, "run_reset_mid")
    d, c = dut, tb.base
    tb.cov = Coverage(["reset_in_evaluation", "reset_in_pixels", "reset_in_decision"])
    await tb.start()
    T = min(c.t_max, 4)
    for _round in range(2):
        # 1) rule 0 between the beat and the decision of step >= 2 (dividers running)
        tb.queue([tb.cls_random(t_steps=T, enable=False) for _ in range(2)])
        await _wait_for(
            tb,
            lambda: (
                tb.n_dec >= 1
                and bool(int(d.busy_o.value))
                and not int(d.cls_ready_o.value)
                and not int(d.dec_valid_o.value)
            ),
            "a classification step being evaluated",
            int(tb.rng.integers(0, 17 * c.n_classes - 2)),
        )
        await tb.reset()
        await tb.check_status()
        tb.queue([tb.cls_random(), tb.conv_random()])
        await tb.drain()
        await tb.check_status()
        # 2) rule 1 in the middle of the pixel stream of step >= 2 (buffer partly shifted)
        tb.queue([tb.conv_random(t_steps=T, enable=False)])
        await _wait_for(
            tb,
            lambda: bool(int(d.pix_ready_o.value)) and int(d.steps_o.value) >= 1,
            "the pixels of step 2",
            int(tb.rng.integers(0, (c.n_pix + 1) // 2)),
        )
        await tb.reset()
        await tb.check_status()
        tb.queue([tb.conv_random(), tb.conv_random(), tb.cls_random()])
        await tb.drain()
        await tb.check_status()
        # 3) while a decision is stalled
        tb.set_knobs(Knobs(p_dec_stall=0.95))
        tb.queue([tb.cls_random(t_steps=T)])
        await _wait_for(tb, lambda: bool(int(d.dec_valid_o.value)), "a decision")
        await tb.reset()
        tb.set_knobs(Knobs())
        await tb.check_status()
        tb.queue([tb.cls_random(), tb.conv_random()])
        await tb.drain()
        await tb.check_status()
    tb.cov.require(tb.log)


@cocotb.test(**TIMEOUT)
async def run_protocol_errors(dut) -> None:  # noqa: ANN001
    """Illegal starts, wrong pix_last_i, beats after the stop and on the other stream."""
    tb = TB(dut, "run_protocol_errors")
    d, c = dut, tb.base
    await tb.start()
    T = min(c.t_max, 4)

    async def poke_start(pins: dict[str, int]) -> None:
        await FallingEdge(d.clk_i)
        tb.drive_cfg(tb.cls_cfg(T), pins)
        d.start_i.value = 1
        await FallingEdge(d.clk_i)
        d.start_i.value = 0
        await ReadOnly()
        if int(d.busy_o.value) or int(d.cls_ready_o.value) or int(d.pix_ready_o.value):
            tb.fail(f"start_i with illegal cfg {pins} started a sample")
        await FallingEdge(d.clk_i)

    # illegal configurations: ignored, err_cfg_o
    bad = [{"cfg_steps_i": 0}, {"cfg_rule_i": 0, "cfg_alpha_ln2_i": 0}]
    if (1 << c.t_w) - 1 > c.t_max:
        bad += [{"cfg_steps_i": c.t_max + 1}, {"cfg_steps_i": (1 << c.t_w) - 1}]
    for pins in bad:
        await poke_start(pins)
        await tb.check_status({"err_cfg_o": 1})
        await tb.reset()
    # alpha 0 is legal for rule 1 (unused there)
    tb.queue([tb.conv_random(t_steps=T)])
    tb.pending[-1].pins = {"cfg_alpha_ln2_i": 0}
    await tb.drain()
    await tb.check_status()

    # start_i while busy: ignored (the sample goes on), err_start_o
    for make in (tb.cls_random, tb.conv_random):
        s = make(t_steps=T, enable=False)
        s.start_mid = int(tb.rng.integers(0, T))
        tb.queue([s])
        await tb.drain()
        await tb.check_status({"err_start_o": 1})
        await tb.reset()

    # wrong pix_last_i: early (if a step has > 1 pixel) and missing; the count rules
    s = tb.conv_random(t_steps=T, enable=False)
    s.last_override = {(0, c.n_pix - 1): 0}
    if c.n_pix > 1:
        s.last_override[(T - 1, int(tb.rng.integers(0, c.n_pix - 1)))] = 1
    tb.queue([s])
    await tb.drain()
    await tb.check_status({"err_last_o": 1})
    await tb.reset()

    # a beat on the other rule's stream during a sample: refused, err_data_o
    for make in (tb.cls_random, tb.conv_random):
        s = make(t_steps=T, enable=False)
        s.other_at = int(tb.rng.integers(0, T))
        tb.queue([s])
        await tb.drain()
        await tb.check_status({"err_data_o": 1})
        await tb.reset()

    # beats after the stop decision: refused (ready stays low, nothing taken), err_data_o
    for make, valid, ready in (
        (tb.cls_random, d.cls_valid_i, d.cls_ready_o),
        (tb.conv_random, d.pix_valid_i, d.pix_ready_o),
    ):
        tb.queue([make(t_steps=T)])
        await tb.drain()
        steps = int(d.steps_o.value)
        valid.value = 1
        for _ in range(int(tb.rng.integers(2, 8))):
            await ReadOnly()
            if int(ready.value) or int(d.dec_valid_o.value) or int(d.busy_o.value):
                tb.fail("a beat after the stop decision was taken")
            await FallingEdge(d.clk_i)
        valid.value = 0
        if int(d.steps_o.value) != steps:
            tb.fail("steps_o changed after the stop decision")
        await tb.check_status({"err_data_o": 1})
        # the block still works; the flag stays until reset
        tb.queue([tb.cls_random(), tb.conv_random()])
        await tb.drain()
        await tb.check_status({"err_data_o": 1})
        await tb.reset()
    await tb.check_status()


@cocotb.test(expect_fail=True, **TIMEOUT)
async def run_expect_fail(dut) -> None:  # noqa: ANN001
    """A model that breaks argmax ties towards the highest index (a ``>=`` in the scan) must be
    caught: samples whose classes tie (equal membranes) make every decision differ."""

    def wrong_model(data: np.ndarray, cfg: EarlyStopConfig) -> SampleRun:
        if cfg.rule != CLS:
            return run_sample(data, cfg)
        run = run_sample(data[..., ::-1], cfg)  # argmax of the mirrored classes
        last = cfg.n_classes - 1
        return dataclasses.replace(run, cls=last - run.cls, pred=last - run.pred)

    tb = TB(dut, "run_expect_fail", model=wrong_model, expect_fail=True)
    await tb.start()
    tb.queue([tb.cls_never(min(tb.base.t_max, 4)) for _ in range(4)])
    await tb.drain()


# ------------------------------------------------------------------------------------------
# pytest entry
# ------------------------------------------------------------------------------------------

PARAM_SETS = {
    # PRIME classification (10 classes, Q5.10 membranes, T = 10 fits) and an 8x8 image
    "c10u16f10t16p64w8": {
        "N_CLASSES": 10,
        "U_W": 16,
        "F": 10,
        "T_MAX": 16,
        "N_PIX": 64,
        "PIX_W": 8,
        "S_W": 20,
    },
    # corners: 2 classes, 8-bit integer membranes (F = 0: numerator shifted by 20), the
    # longest samples (T_MAX = 255, full 8-bit step port), one 2-bit pixel
    "c2u8f0t255p1w2": {
        "N_CLASSES": 2,
        "U_W": 8,
        "F": 0,
        "T_MAX": 255,
        "N_PIX": 1,
        "PIX_W": 2,
        "S_W": 16,
    },
    # corners: 64 classes of 32 bits with F = 24 (> 20: the divisor is shifted), S_W above its
    # minimum (40), non-power-of-two T_MAX and N_PIX, 16-bit pixels
    "c64u32f24t7p37w16": {
        "N_CLASSES": 64,
        "U_W": 32,
        "F": 24,
        "T_MAX": 7,
        "N_PIX": 37,
        "PIX_W": 16,
        "S_W": 40,
    },
}


def test_param_sets_cover_corners() -> None:
    """The parameter sets are legal and cover the width corners of the RTL."""
    cfgs = [EarlyStopConfig.from_hdl(p) for p in PARAM_SETS.values()]
    assert {2, 64} <= {c.n_classes for c in cfgs}
    assert {8, 32} <= {c.u_w for c in cfgs}
    assert any(c.frac < 20 for c in cfgs) and any(c.frac > 20 for c in cfgs)
    assert 255 in {c.t_max for c in cfgs} and 1 in {c.n_pix for c in cfgs}
    assert {2, 16} <= {c.pix_w for c in cfgs}
    assert any(c.s_w > c.u_w + (c.t_max - 1).bit_length() for c in cfgs)


@pytest.mark.sim
@pytest.mark.parametrize("params", list(PARAM_SETS.values()), ids=list(PARAM_SETS))
@pytest.mark.parametrize("sim", simulators())
def test_cim_early_stop(sim: str, params: dict[str, int], request: pytest.FixtureRequest) -> None:
    run_bench(
        sim=sim,
        nodeid=request.node.nodeid,
        toplevel="cim_early_stop",
        module="test_cim_early_stop",
        sources=[RTL / "cim_early_stop.sv"],
        parameters=params,
        bench_dir=Path(__file__).parent,
    )

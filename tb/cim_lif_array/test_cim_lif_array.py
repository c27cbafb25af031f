"""cocotb bench of ``rtl/cim_lif_array.sv`` against ``rramcim.golden.lif_array``.

Structure: :class:`TB` is a :class:`tb.vip.leaf.LeafTB` (clock and reset start-up, one step per
clock cycle, the input driver, reset in the middle and the pytest entry live there). On the
falling edge it drives every input for the next rising edge (``out_ready_i`` with random
back-pressure, then the next operation of the plan: an input beat after a random idle gap,
held while stalled, with garbage on the data pins while ``in_valid_i`` is low; or a ``clr_i``
pulse); in the ``ReadOnly`` phase after those writes it reads the outputs, so every handshake
of the coming edge is known, identically on Icarus and Verilator. The scoreboard is the golden
:class:`~rramcim.golden.lif_array.LifArrayModel`, fed every accepted beat (and every clear) in
order; it predicts each output beat and the status outputs. Beside it a two-slot occupancy
model of the pipeline (stage 1, output register) predicts ``in_ready_o``, ``out_valid_o`` and
``busy_o`` in every cycle, which pins down the latency (2 edges) and the throughput (one beat
per cycle without back-pressure) of the RTL header cycle by cycle.

Stimulus: "samples" like the PRIME network's: a clear, then T = 2..6 timesteps in which a random
subset of neurons is updated in a random order (now and then the same neuron twice back to
back), with random configurations per sample (LIF / integrator, leak and slope codes including
0 and 255, thresholds from PRIME's 0.2 / 0.5 and random signed values) and, now and then, a
new configuration in the middle of a sample (the RTL samples it with every beat). Synaptic
inputs mix values near the threshold, values across the membrane range, values beyond it
(saturation) and the input extremes.

Randomness: ``random.Random`` generators keyed by cocotb's per-test seed (logged at the start
of each test). cocotb logs the regression seed at start-up and on failure; ``SEED=<it>``
(``COCOTB_RANDOM_SEED``) reproduces a run.

Testplan (feature -> tests that check it)

- LIF step bit-exact (hard reset, Q0.8 leak, add, saturation, LeakyReLU, threshold), output
  order, index echo -> run_random (every beat), all other tests
- strict threshold (u4 = Vth does not fire) -> run_random (bin at_vth, directed)
- integrator mode (no leak, no reset, no spike) -> run_random (bin integrator),
  run_counter_saturation (bin integrator_after_spike: s_prev ignored)
- configuration sampled with each beat; changes in the middle of a sample -> run_random
  (bin cfg_change_mid_sample); garbage on the cfg pins between beats -> every test
- extreme leak / slope codes 0 and 255, negative thresholds -> run_random (bins leak=0,
  leak=255, neg=0, neg=255, vth<0; directed configurations first)
- saturation both ways, counted in sat_count_o -> run_random (bins sat_pos, sat_neg)
- spike / no spike / reset after a spike / negative-membrane LeakyReLU branch -> run_random
  (bins spike, no_spike, reset_after_spike, neg_leaky)
- back-to-back same neuron (bypass), same neuron read one edge after its write-back
  -> run_random (bins same_idx_b2b, same_idx_after_write; directed hazard patterns)
- handshakes: in_ready_o / out_valid_o / busy_o predicted every cycle (latency 2, one beat
  per cycle), idle gaps, input stalls, output back-pressure with the beat held stable
  -> run_random[full/idle/backpress/mixed] (bins idle_gap, in_stall, out_stall,
  out_ready_after_stall); full speed: no input stall at all -> run_random[full]
- counters and sticky flags compared with the model in every cycle -> every test; counters
  stick at 2^32-1 -> run_counter_saturation
- clear: legal (idle) clear, a beat on the clear's edge sees the cleared neuron -> run_random
  (bins clear, clear_with_beat, clear_with_beat_on_state; samples reuse the last sample's
  neurons, as a layer does); clear while beats are in flight (stage 1 only, output register
  only, both) ignored and flagged on err_clr_o, with state-revealing configurations and a
  probe of every touched neuron -> run_clear_while_busy (bins clear_ignored_<where>)
- bad index (>= N_NEURONS): answered with out_err_o, counted, err_idx_o, no state change
  -> run_bad_index (where the index width allows one; otherwise checks that the highest
  index is a normal neuron)
- asynchronous reset with beats in stage 1, in a stalled output register, after a bypass and
  while idle: outputs clear at once, in_ready_o low during reset and one cycle after, every
  neuron, counter and flag restarts -> run_reset_mid (bins reset_<where>)
- the checker catches a wrong model -> run_expect_fail (expect_fail=True)
- parameter corners: N_NEURONS 1 and non-powers of two, U_W 8 and 32, F 0 and U_W-2, IN_W
  below and above U_W + 2 -> PARAM_SETS, test_param_sets_cover_corners

Coverage bins are listed per test; a hole fails the test.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, replace

import cocotb
import numpy as np

from rramcim.golden.lif_array import (
    COUNTER_MAX,
    PRIME_VTH_CONV,
    PRIME_VTH_FC,
    LifArrayModel,
    LifBeat,
    LifConfig,
    LifMode,
    lif_step_sat,
    vth_fixed,
)
from tb.vip.leaf import TRAFFIC_VARIANTS, LeafTB, ScoreboardError, leaf_bench_test

#: Longest idle gap the driver inserts before a beat (cycles).
MAX_GAP = 4


# ------------------------------------------------------------------------------------------
# Bench components
# ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Beat:
    """One input beat of the plan; ``gap``: idle cycles before it (None: random, by the
    test's idle probability)."""

    idx: int
    cur: int
    cfg: LifConfig
    gap: int | None = None


@dataclass(frozen=True)
class Clear:
    """A ``clr_i`` pulse. ``busy=False``: the driver waits until nothing is in flight (a
    legal clear); ``busy=True``: it arms a pulse for the next cycle in which the pipeline
    holds beats as ``where`` says (``s1``: only stage 1, ``out``: only the output register,
    ``both``) and goes on presenting beats (an illegal clear)."""

    busy: bool = False
    where: str = "both"


Op = Beat | Clear


@dataclass
class Expected:
    """An accepted beat as the bench tracks it through the pipeline."""

    seq: int
    beat: LifBeat
    counters: tuple[int, int, int, bool]  # (upd, spike, sat, err_idx) once it is in OUT
    bypass: bool


class TB(LeafTB[Op]):
    """Driver, consumer, occupancy model and scoreboard of ``cim_lif_array`` (constructed as
    :class:`~tb.vip.leaf.LeafTB`: ``dut``, ``idle_prob``, ``bp_prob``, ``expect_fail``)."""

    CLEARED_OUTPUTS = (
        *LeafTB.CLEARED_OUTPUTS,
        "sat_count_o",
        "upd_count_o",
        "spike_count_o",
        "err_idx_o",
        "err_clr_o",
        "out_spike_o",
        "out_mem_o",
        "out_err_o",
        "out_idx_o",
    )
    ZERO_AT_START = ("out_ready_i", "clr_i")
    MAX_GAP = MAX_GAP
    IDLE_ONCE = True
    PARAM_NAMES = ("N_NEURONS", "U_W", "F", "IN_W")

    model: LifArrayModel

    def setup(self) -> None:
        self.model = LifArrayModel.from_hdl(self.params)
        m = self.model
        self.n = m.n_neurons
        self.base = m.config(vth=0)
        self.in_mask = (1 << m.in_w) - 1
        self.u_mask = (1 << m.u_w) - 1
        self.cfg_queue: deque[LifConfig] = deque(self.directed_cfgs())
        self.last_active: list[int] = []  # neurons of the last sample
        self.presented_cycles = 0

    # ----- bookkeeping ----------------------------------------------------------------------
    def clear_state(self) -> None:
        super().clear_state()
        self.s1: Expected | None = None  # beat in stage 1 (after the last edge)
        self.out: Expected | None = None  # beat in the output register
        self.out_new = False  # self.out was loaded at the last edge
        self.clr_now: Clear | None = None
        self.clr_armed: list[Clear] = []  # illegal clears waiting for their occupancy
        self.stalled_out = False
        self.exp_counters = (0, 0, 0, False)
        self.exp_err_clr = False

    # ----- stimulus ---------------------------------------------------------------------------
    def directed_cfgs(self) -> list[LifConfig]:
        """Configurations every plan starts with (then random ones): both modes, the
        extreme leak and slope codes, a negative threshold."""
        b = self.base
        vth = vth_fixed(PRIME_VTH_CONV, b.frac)
        return [
            b.replace(leak_q8=51, neg_q8=26, vth=vth),
            b.replace(mode=LifMode.INTEGRATOR, neg_q8=255),
            b.replace(leak_q8=0, neg_q8=255, vth=vth),
            b.replace(leak_q8=255, neg_q8=0, vth=vth),
            b.replace(mode=LifMode.INTEGRATOR, leak_q8=255, neg_q8=0),
            b.replace(leak_q8=255, neg_q8=26, vth=-1),
        ]

    def random_cfg(self) -> LifConfig:
        if self.cfg_queue:
            return self.cfg_queue.popleft()
        r, b = self.rng, self.base
        mode = LifMode.INTEGRATOR if r.random() < 0.25 else LifMode.LIF
        leak = r.choice((0, 255, 51, 51, r.randrange(256)))
        neg = r.choice((0, 255, 26, 26, r.randrange(256)))
        u = r.random()
        if u < 0.6:
            vth = vth_fixed(r.choice((PRIME_VTH_CONV, PRIME_VTH_FC)), b.frac)
        elif u < 0.8:
            vth = r.randint(b.u_min, b.u_max)
        else:
            vth = -r.randint(0, max(1, (1 << b.frac) // 4))
        vth = min(max(vth, b.u_min), b.u_max)
        return b.replace(mode=mode, leak_q8=leak, neg_q8=neg, vth=vth)

    def draw_cur(self, cfg: LifConfig) -> int:
        r = self.rng
        u = r.random()
        scale = max(abs(cfg.vth), (1 << cfg.frac) // 4, 8)
        if u < 0.55:  # around the threshold
            v = r.randint(-2 * scale, 3 * scale)
        elif u < 0.75:  # across the membrane range
            v = r.randint(cfg.u_min, cfg.u_max)
        elif u < 0.9:  # beyond it (saturation), where the input width allows
            v = r.choice((1, -1)) * r.randint(cfg.u_max // 2, 4 * cfg.u_max)
        else:
            v = r.choice((cfg.in_min, cfg.in_max))
        return min(max(v, cfg.in_min), cfg.in_max)

    def sample_ops(
        self, p_dup: float = 0.2, p_cfg_change: float = 0.05, directed: bool = False
    ) -> list[Op]:
        """One sample: a clear, then T timesteps over a random subset of neurons.

        ``directed``: the first timestep ends with the hazard patterns (neuron A last, then
        A again back to back, A after exactly one idle cycle, and A X A without gaps), so
        the bypass and the read right after a write happen whatever the random draws; its
        first two updates (fresh neurons) get exactly the threshold and one LSB more; it
        ends with integrator updates driven to both input extremes (saturation)."""
        r = self.rng
        ops: list[Op] = [Clear()]
        cfg = self.random_cfg()
        if self.last_active and not directed and r.random() < 0.7:
            active = self.last_active  # the same layer again: the clear must wipe it
        else:
            k = min(self.n, r.randint(2 if directed else 1, 12))
            active = r.sample(range(self.n), k)
        self.last_active = active
        for t in range(r.randint(2, 6)):
            order: list[tuple[int, int | None]] = [(i, None) for i in active]
            r.shuffle(order)
            if directed and t == 0:
                a = order[-1][0]
                order += [(a, 0), (a, 1)]
                if k >= 2:
                    order += [(order[0][0], 0), (a, 0)]
            elif r.random() < p_dup:  # the same neuron twice back to back
                i = r.randrange(len(order))
                order.insert(i, order[i])
            for j, (idx, gap) in enumerate(order):
                if directed and t == 0 and j < 2 and cfg.vth >= 0:
                    cur = min(cfg.vth + j, cfg.in_max)  # u4 = vth: no spike; vth + 1: spike
                else:
                    if (t or j) and r.random() < p_cfg_change:  # the sample's own cfg first
                        cfg = self.random_cfg()
                        self.cov.hit("cfg_change_mid_sample")
                    cur = self.draw_cur(cfg)
                ops.append(Beat(idx, cur, cfg, gap))
        if directed:
            # saturation at both ends, whatever the random draws: the integrator (slope
            # 255/256 keeps a negative membrane large) driven twice to each input extreme
            integ = self.base.replace(mode=LifMode.INTEGRATOR, neg_q8=255)
            a = active[0]
            for cur in (self.base.in_max,) * 2 + (self.base.in_min,) * 3:
                ops.append(Beat(a, cur, integ))
        return ops

    def plan_samples(self, min_beats: int) -> int:
        """Queue samples (the first one directed) until at least ``min_beats`` beats;
        returns the number queued."""
        n = 0
        while n < min_beats:
            ops = self.sample_ops(directed=n == 0)
            n += sum(isinstance(o, Beat) for o in ops)
            self.plan.extend(ops)
        return n

    # ----- pins -----------------------------------------------------------------------------
    def _drive_cfg(self, cfg: LifConfig) -> None:
        d = self.dut
        d.cfg_mode_i.value = cfg.mode.value
        d.cfg_leak_q8_i.value = cfg.leak_q8
        d.cfg_neg_q8_i.value = cfg.neg_q8
        d.cfg_vth_i.value = cfg.vth & self.u_mask

    def idle_pins(self) -> None:
        d, r = self.dut, self.rng_drv
        d.in_valid_i.value = 0
        d.in_idx_i.value = r.getrandbits(self.model.idx_w)
        d.in_cur_i.value = r.getrandbits(self.model.in_w)
        d.cfg_mode_i.value = r.getrandbits(1)
        d.cfg_leak_q8_i.value = r.getrandbits(8)
        d.cfg_neg_q8_i.value = r.getrandbits(8)
        d.cfg_vth_i.value = r.getrandbits(self.model.u_w)

    def present(self, item: Op) -> None:
        assert isinstance(item, Beat)
        d = self.dut
        d.in_idx_i.value = item.idx
        d.in_cur_i.value = item.cur & self.in_mask
        self._drive_cfg(item.cfg)
        d.in_valid_i.value = 1

    # ----- one clock cycle ------------------------------------------------------------------
    def drained(self) -> bool:
        return not self.plan and self.presenting is None and self.s1 is None and self.out is None

    def drive(self) -> None:
        """Back-pressure, the end of last cycle's clear pulse, an armed clear while busy, then
        the input (:meth:`~tb.vip.leaf.LeafTB.drive_input`)."""
        d = self.dut
        self.out_ready = self.backpressure(
            "out_ready_i", self.out_ready, self.rng_out, self.bp_prob
        )
        if self.clr_now is not None:  # the clear pulse of the last cycle ends
            d.clr_i.value = 0
            self.clr_now = None
        occ = self._occupancy()
        armed = next((c for c in self.clr_armed if c.where == occ), None)
        if armed is not None and not (occ == "s1" and self.presenting is not None):
            d.clr_i.value = 1
            self.clr_now = armed
            self.clr_armed.remove(armed)
            if occ == "s1":
                # no beat on this edge: the next access to the neuron leaving stage 1 now
                # reads the memory (a bypass would hide a lost write-back)
                self.idle_input()
                return
        self.drive_input()

    def _occupancy(self) -> str:
        """Which pipeline slots hold a beat now: idle, s1, out or both."""
        return ("idle", "s1", "out", "both")[(self.s1 is not None) + 2 * (self.out is not None)]

    def item_gap(self, item: Op) -> int | None:
        return item.gap if isinstance(item, Beat) else None

    def plan_control(self) -> bool:
        """Clears at the head of the plan: an illegal one is armed (pulsed by :meth:`drive`
        once its occupancy comes); a legal one waits until nothing is in flight, then pulses
        ``clr_i``, now and then with the next beat on the same edge (no gap before it)."""
        while self.plan and isinstance(self.plan[0], Clear):
            op = self.plan[0]
            if op.busy:
                self.clr_armed.append(self.plan.popleft())
                continue
            if self.s1 is not None or self.out is not None or self.clr_now is not None:
                return True  # let the pipeline drain first
            self.plan.popleft()
            self.dut.clr_i.value = 1
            self.clr_now = op
            nxt = self.plan[0] if self.plan else None
            if isinstance(nxt, Beat) and (
                self.rng_drv.random() < 0.5 or not self.cov.hits.get("clear_with_beat_on_state")
            ):
                self.cov.hit("clear_with_beat")
                self.gap_left = 0
                return False  # a beat on the same edge as the clear
            return True
        return False

    def sample(self) -> None:
        """ReadOnly phase: check the outputs, then apply the transfers of the coming edge."""
        in_ready = self.read("in_ready_o")
        out_valid = self.read("out_valid_o")
        busy = self.read("busy_o")
        exp_ready = int(
            self.ready_allowed and (self.s1 is None or self.out is None or self.out_ready)
        )
        if in_ready != exp_ready:
            self.fail(
                f"in_ready_o={in_ready}, expected {exp_ready} (s1={self.s1 is not None}, "
                f"out={self.out is not None}, out_ready_i={self.out_ready})"
            )
        if out_valid != (self.out is not None):
            self.fail(f"out_valid_o={out_valid}, expected {int(self.out is not None)}")
        if busy != int(self.s1 is not None or self.out is not None):
            self.fail(
                f"busy_o={busy}, pipeline holds s1={self.s1 is not None}, "
                f"out={self.out is not None}"
            )
        if self.out is not None:
            self._check_out_beat(self.out)  # first: a wrong model shows here, not in a counter
        self._check_status()

        # the clear of this cycle (before the beat of the same edge, as in the RTL)
        if self.clr_now is not None:
            p = self.presenting
            fresh = not busy and in_ready and p is not None and p.idx < self.n
            if fresh and (self.model.u[p.idx] or self.model.s[p.idx]):
                self.cov.hit("clear_with_beat_on_state")  # the beat must see U = 0
            self.model.clear(busy=bool(busy))
            if busy:
                self.exp_err_clr = True
                self.cov.hit(f"clear_ignored_{self.clr_now.where if self.clr_now.busy else '?'}")
            else:
                self.cov.hit("clear")
        # transfers at the coming edge
        out_fire = out_valid and self.out_ready
        if out_valid:
            if not self.out_ready:
                self.cov.hit("out_stall")
                self.stalled_out = True
            else:
                if self.stalled_out:
                    self.cov.hit("out_ready_after_stall")
                self.stalled_out = False
                self.done += 1
        new_s1: Expected | None = self.s1
        new_out = None if out_fire else self.out
        adv = self.out is None or self.out_ready
        self.out_new = False
        if self.s1 is not None and adv:
            new_out, new_s1, self.out_new = self.s1, None, True
        if self.presenting is not None:
            self.presented_cycles += 1
        accepted: Expected | None = self.input_transfer(bool(in_ready))
        if accepted is not None:
            new_s1 = accepted
        self.s1, self.out = new_s1, new_out

    def accept(self, item: Op) -> Expected:
        """A beat transfers at the coming edge: predict its output."""
        assert isinstance(item, Beat)
        op = item
        bypass = self.s1 is not None and not self.s1.beat.err and self.s1.beat.idx == op.idx
        if bypass:
            self.cov.hit("same_idx_b2b")
        elif self.out is not None and not self.out.beat.err and self.out.beat.idx == op.idx:
            self.cov.hit("same_idx_after_write")  # the memory already holds its result
        beat = self.model.update(op.idx, op.cur, op.cfg)
        m = self.model
        exp = Expected(self.seq, beat, (m.upd_count, m.spike_count, m.sat_count, m.err_idx), bypass)
        self._cover_beat(beat, op.cfg)
        return exp

    def _cover_beat(self, b: LifBeat, cfg: LifConfig) -> None:
        c = self.cov
        if b.err:
            c.hit("bad_idx")
            if b.idx == (1 << self.model.idx_w) - 1:
                c.hit("bad_idx_max")
            return
        if b.idx == self.n - 1:
            c.hit("idx_max")
        if cfg.mode is LifMode.INTEGRATOR:
            c.hit("integrator")
            if b.s_prev:
                c.hit("integrator_after_spike")  # no reset in integrator mode
        else:
            c.hit("spike" if b.spike else "no_spike")
            if b.s_prev:
                c.hit("reset_after_spike")
            if b.mem == cfg.vth:
                c.hit("at_vth")  # exactly at the threshold: no spike
        if b.sat > 0:
            c.hit("sat_pos")
        elif b.sat < 0:
            c.hit("sat_neg")
        if b.u3_neg:
            c.hit("neg_leaky")
        for name, v in (("leak", cfg.leak_q8), ("neg", cfg.neg_q8)):
            if v in (0, 255):
                c.hit(f"{name}={v}")
        if cfg.vth < 0:
            c.hit("vth<0")

    def _check_out_beat(self, e: Expected) -> None:
        d = self.dut
        got = (
            self.read("out_idx_o"),
            self.read("out_spike_o"),
            d.out_mem_o.value.to_signed(),
            self.read("out_err_o"),
        )
        b = e.beat
        want = (b.idx, int(b.spike), b.mem, int(b.err))
        if got != want:
            raise ScoreboardError(
                f"cycle {self.cycle}: beat {e.seq} (index, spike, mem, err) = {got}, model "
                f"{want}{' (bypass)' if e.bypass else ''} (per-test seed {cocotb.RANDOM_SEED})"
            )

    def _check_status(self) -> None:
        if self.out_new and self.out is not None:
            self.exp_counters = self.out.counters
        got = (
            self.read("upd_count_o"),
            self.read("spike_count_o"),
            self.read("sat_count_o"),
            bool(self.read("err_idx_o")),
        )
        if got != self.exp_counters:
            self.fail(
                f"status (upd_count, spike_count, sat_count, err_idx) = {got}, model "
                f"{self.exp_counters}"
            )
        if bool(self.read("err_clr_o")) != self.exp_err_clr:
            self.fail(f"err_clr_o={self.read('err_clr_o')}, expected {int(self.exp_err_clr)}")

    # ----- reset in the middle ----------------------------------------------------------------
    def _where(self) -> str | None:
        if self.s1 is None and self.out is None:
            return "idle"
        if self.s1 is not None and self.s1.bypass:
            return "bypass"
        if self.out is not None and self.stalled_out and self.s1 is not None:
            return "out_stall"
        if self.s1 is not None and self.out is None:
            return "s1"
        return None

    def reset_ready(self, where: str) -> bool:
        if self.accepted_since_reset < 15:
            return False  # some traffic (and counting) between resets
        return self._where() == where and self.rng_drv.random() < 0.5

    def reset_pins(self) -> None:
        super().reset_pins()
        self.dut.clr_i.value = 0


def _required_traffic(tb: TB) -> list[str]:
    """Bins every random run must reach."""
    bins = ["spike", "no_spike", "reset_after_spike", "integrator", "neg_leaky"]
    bins += ["sat_pos", "sat_neg", "same_idx_b2b", "clear"]
    if tb.n > 1 or tb.idle_prob:
        # one neuron without idle gaps: every beat follows its predecessor back to back
        bins.append("same_idx_after_write")
    bins += ["clear_with_beat", "clear_with_beat_on_state"]
    bins += ["leak=0", "leak=255", "neg=0", "neg=255", "vth<0"]
    bins += ["cfg_change_mid_sample", "at_vth"]
    return bins


# ------------------------------------------------------------------------------------------
# Tests
# ------------------------------------------------------------------------------------------


@cocotb.test()
@cocotb.parametrize(variant=list(TRAFFIC_VARIANTS))
async def run_random(dut, variant: str) -> None:
    """Random samples (>= 300 updates): LIF and integrator, random configurations, clears;
    variants with idle gaps and/or output back-pressure."""
    idle, bp = TRAFFIC_VARIANTS[variant]
    tb = TB(dut, idle_prob=idle, bp_prob=bp)
    await tb.start()
    n = tb.plan_samples(300)
    await tb.run()
    assert tb.done == n, f"{tb.done} beats checked, {n} planned"
    req = _required_traffic(tb)
    if idle:
        req.append("idle_gap")
    if bp:
        req += ["out_stall", "out_ready_after_stall", "in_stall"]
    else:
        # full speed: the array takes a beat in every cycle it is offered one
        assert tb.in_stalls == 0, f"{tb.in_stalls} input stalls without back-pressure"
    tb.log.info("%d beats in %d cycles (%d presented)", n, tb.cycle, tb.presented_cycles)
    tb.cov.check(req, tb.log)


@cocotb.test()
async def run_reset_mid(dut) -> None:
    """Asynchronous reset with beats in stage 1, in a stalled output register, in a bypass
    and while idle; every neuron, counter and flag restarts."""
    tb = TB(dut, idle_prob=0.2, bp_prob=0.4)
    await tb.start()
    tb.reset_plan = ["s1", "out_stall", "bypass", "idle", "out_stall", "s1"]
    plan = list(tb.reset_plan)
    for _ in range(len(plan) * 3):
        if not tb.reset_plan:
            break
        tb.plan_samples(40)
        await tb.run()
    assert not tb.reset_plan, f"resets not applied (state never seen): {tb.reset_plan}"
    tb.plan_samples(60)
    await tb.run()
    # independent of the model: upd_count_o restarted at the last reset
    upd, since = tb.read("upd_count_o"), tb.accepted_since_reset
    assert upd == since, f"upd_count_o={upd}, beats since the last reset {since}"
    assert upd < tb.seq, "upd_count_o did not restart at the reset"
    tb.cov.check([f"reset_{w}" for w in plan], tb.log)


@cocotb.test()
async def run_bad_index(dut) -> None:
    """Beats naming no neuron: answered with out_err_o, counted, err_idx_o, no state change."""
    tb = TB(dut, idle_prob=0.2, bp_prob=0.3)
    await tb.start()
    bad = list(tb.model.bad_indices)
    if not bad:
        tb.log.info("N_NEURONS=%d fills the index width: no bad index exists", tb.n)
        cfg = tb.random_cfg()
        tb.plan.extend(Beat(i, tb.draw_cur(cfg), cfg) for i in (tb.n - 1, 0, tb.n - 1))
        tb.plan_samples(60)
        await tb.run()
        assert tb.read("err_idx_o") == 0
        tb.cov.check(["idx_max"], tb.log)
        return
    tb.plan_samples(20)
    await tb.run()
    assert tb.read("err_idx_o") == 0
    # samples with bad beats mixed in (every bad value at least once, the largest included)
    ops: list[Op] = []
    while sum(isinstance(o, Beat) for o in ops) < 2 * (len(bad) + 10):
        ops += tb.sample_ops()
    cfg = tb.random_cfg()
    n_bad = min(len(bad), 40) + 10  # every bad value (at most 40 of them) plus random ones
    values = [bad[-1], *tb.rng.sample(bad, min(len(bad), 40))]
    values += [tb.rng.choice(bad) for _ in range(n_bad - len(values))]
    pos = sorted(tb.rng.sample(range(1, len(ops) + 1), n_bad), reverse=True)
    for p, v in zip(pos, values, strict=True):
        ops.insert(p, Beat(v, tb.draw_cur(cfg), cfg))
    tb.plan.extend(ops)
    await tb.run()
    assert tb.read("err_idx_o") == 1
    assert tb.model.err_idx
    tb.cov.check(["bad_idx", "bad_idx_max", "spike", "no_spike"], tb.log)


@cocotb.test()
async def run_clear_while_busy(dut) -> None:
    """clr_i while beats are in flight: ignored (state kept) and flagged on err_clr_o; a later
    clear while idle works."""
    tb = TB(dut, idle_prob=0.3, bp_prob=0.5)
    await tb.start()
    tb.plan_samples(20)
    await tb.run()
    assert tb.read("err_clr_o") == 0

    # clears pulsed while beats are in flight, in the middle of back-pressured traffic. The
    # samples of this phase use configurations under which every neuron's state shows in its
    # next output (integrator; LIF with leak 255 and a threshold that never fires), and end
    # with a probe of every neuron they touched, so a clear that wrongly took effect (even
    # one that only drops the write-back of the beat in flight) cannot go unnoticed.
    def revealing_sample() -> list[Op]:
        ops = tb.sample_ops(p_cfg_change=0.0)
        cfg = tb.random_cfg()
        if tb.rng.random() < 0.5:
            cfg = cfg.replace(mode=LifMode.INTEGRATOR, neg_q8=255)
        else:
            cfg = cfg.replace(mode=LifMode.LIF, leak_q8=255, neg_q8=255, vth=cfg.u_max)
        ops = [replace(o, cfg=cfg) if isinstance(o, Beat) else o for o in ops]
        probe = cfg.replace(mode=LifMode.INTEGRATOR, neg_q8=255)
        touched = dict.fromkeys(o.idx for o in ops if isinstance(o, Beat))
        return ops + [Beat(i, 0, probe) for i in touched]

    ops: list[Op] = []
    while sum(isinstance(o, Beat) for o in ops) < 20:
        ops += revealing_sample()
    beats = [i for i, o in enumerate(ops) if isinstance(o, Beat)]
    wheres = ["s1", "out", "both"] * 2
    for i, w in zip(sorted(tb.rng.sample(beats[4:], 6), reverse=True), wheres, strict=True):
        ops.insert(i, Clear(busy=True, where=w))
    tb.plan.extend(ops)
    await tb.run()
    for _ in range(10):  # every sample starts with an s1-only and ends with an out-only cycle
        if not tb.clr_armed:
            break
        tb.plan.extend(revealing_sample())
        await tb.run()
    assert not tb.clr_armed, "a clear while busy was never pulsed"
    assert tb.read("err_clr_o") == 1
    tb.plan_samples(30)  # legal clears again
    await tb.run()
    tb.cov.check(["clear_ignored_s1", "clear_ignored_out", "clear_ignored_both", "clear"], tb.log)


@cocotb.test()
async def run_counter_saturation(dut) -> None:
    """Counters deposited just below 2^32-1 must stick at 2^32-1."""
    tb = TB(dut, idle_prob=0.1)
    await tb.start()
    await tb.next_cycle()
    start = COUNTER_MAX - 5
    dut.upd_cnt_q.value = start  # deposits into the counter flops (the DUT is idle)
    dut.spk_cnt_q.value = start
    dut.sat_cnt_q.value = start
    m = tb.model
    m.upd_count = m.spike_count = m.sat_count = start
    tb.exp_counters = (start, start, start, False)
    # one neuron, modes alternating: every LIF beat spikes (threshold at the bottom of the
    # range), every beat after the first two saturates (the integrator keeps U at the top,
    # the LIF beat after it keeps it with leak 255)
    lif = tb.base.replace(vth=tb.base.u_min, leak_q8=255)
    integ = lif.replace(mode=LifMode.INTEGRATOR)
    tb.plan.extend(Beat(0, tb.base.in_max, (lif, integ)[i % 2]) for i in range(24))
    await tb.run()
    assert (m.upd_count, m.spike_count, m.sat_count) == (COUNTER_MAX,) * 3
    tb.cov.check(["integrator_after_spike"], tb.log)


class _WrongModel(LifArrayModel):
    """Deliberately wrong reference: LeakyReLU rounds towards minus infinity (floor)
    instead of half up."""

    def step(self, u, s_prev, cur, cfg):  # noqa: ANN001, ANN201 - same signature as the base
        u4, s, sat = lif_step_sat(u, s_prev, cur, cfg)
        neg = np.asarray(u4) < 0
        if neg.any():
            u3 = self._u3(u, s_prev, cur, cfg)
            u4 = np.where(neg, (u3 * cfg.neg_q8) >> 8, u4)
        return u4, s, sat

    @staticmethod
    def _u3(u, s_prev, cur, cfg):  # noqa: ANN001, ANN205
        u = np.asarray(u, dtype=np.int64)
        if cfg.mode is LifMode.LIF:
            u = (np.where(np.asarray(s_prev), 0, u) * cfg.leak_q8 + 128) >> 8
        return np.clip(u + np.asarray(cur, dtype=np.int64), cfg.u_min, cfg.u_max)


@cocotb.test(expect_fail=True)
async def run_expect_fail(dut) -> None:
    """The scoreboard, fed a wrong model, must report a mismatch (this test passes only if
    the bench fails with a ScoreboardError)."""
    tb = TB(dut, idle_prob=0.2, bp_prob=0.2, expect_fail=True)
    tb.model = _WrongModel.from_hdl(tb.params)
    await tb.start()
    tb.plan_samples(200)
    await tb.run()


# ------------------------------------------------------------------------------------------
# pytest entry
# ------------------------------------------------------------------------------------------

PARAM_SETS = {
    # small: 8 neurons (the index width is full: no bad index), 12-bit membrane, Q5.6
    "n8u12f6i16": {"N_NEURONS": 8, "U_W": 12, "F": 6, "IN_W": 16},
    # the RTL defaults
    "n256u16f10i24": {"N_NEURONS": 256, "U_W": 16, "F": 10, "IN_W": 24},
    # large: 1000 neurons (bad indices 1000..1023), 24-bit membrane, 40-bit inputs
    "n1000u24f16i40": {"N_NEURONS": 1000, "U_W": 24, "F": 16, "IN_W": 40},
    # corners: 3 neurons, narrowest words, no fraction bits, input as wide as the membrane
    "n3u8f0i8": {"N_NEURONS": 3, "U_W": 8, "F": 0, "IN_W": 8},
    # corners: one neuron (index 1 is bad), widest membrane, F = U_W - 2
    "n1u32f30i40": {"N_NEURONS": 1, "U_W": 32, "F": 30, "IN_W": 40},
}


def test_param_sets_cover_corners() -> None:
    """The parameter sets together reach the corners of every parameter's legal range."""
    sets = list(PARAM_SETS.values())
    assert 1 in {p["N_NEURONS"] for p in sets}
    assert any(LifArrayModel.from_hdl(p).bad_indices for p in sets)
    assert any(not LifArrayModel.from_hdl(p).bad_indices for p in sets)
    assert {8, 32} <= {p["U_W"] for p in sets}
    assert any(p["F"] == 0 for p in sets) and any(p["F"] == p["U_W"] - 2 for p in sets)
    assert any(p["IN_W"] > p["U_W"] + 2 for p in sets)  # the input clamp is present
    assert any(p["IN_W"] <= p["U_W"] + 2 for p in sets)  # ... and absent
    assert 40 in {p["IN_W"] for p in sets}
    # the directed saturation (two input extremes into the integrator) needs IN_W >= U_W
    assert all(p["IN_W"] >= p["U_W"] for p in sets)


test_cim_lif_array = leaf_bench_test("cim_lif_array", PARAM_SETS, __file__)

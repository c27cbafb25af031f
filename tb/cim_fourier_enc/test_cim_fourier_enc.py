"""cocotb bench of ``rtl/cim_fourier_enc.sv`` against ``rramcim.golden.fourier_enc``.

Structure: :class:`TB` is a :class:`tb.vip.leaf.LeafTB` (clock and reset start-up, one step per
clock cycle, the input driver, reset in the middle and the pytest entry live there). On the
falling edge it drives ``out_ready_i`` (random back-pressure) and the input (the next phase of
the plan after a random idle gap, held while stalled; garbage on the data pins while
``in_valid_i`` is low); in the ``ReadOnly`` phase it samples every handshake of the coming edge.
The scoreboard is :class:`~rramcim.golden.fourier_enc.FourierEncModel`, fed every accepted beat;
every output beat (sin, cos, tag, saturation flags) is compared bit-exact, ``sat_count_o`` in
every cycle. Beside it a slot model of the pipeline (ITERS + 1 stages and the output register,
one global enable) predicts ``in_ready_o``, ``out_valid_o`` and ``busy_o`` in every cycle, which
pins down the latency (ITERS + 1 edges) and the throughput (one beat per cycle) stated in the
RTL header.

Randomness: ``random.Random`` generators keyed by cocotb's per-test seed (logged at the start of
each test); ``SEED=<regression seed>`` (``COCOTB_RANDOM_SEED``) reproduces a run.

Testplan (feature -> tests that check it)

- sin/cos bit-exact, tag pass-through, output order -> every test (every beat)
- quadrant folding: all four quadrants, octant and quadrant boundaries (b-1, b, b+1) ->
  run_corners (bins quad0..quad3, boundary), run_random
- phase wrap: integer turns added to a phase change nothing; negative phases; both phase
  extremes -> run_corners (bins wrap, neg, phase_min, phase_max)
- +1.0 saturates to the largest code, counted in sat_count_o -> run_corners (bins sat_sin,
  sat_cos); counter sticks at 2^32-1 -> run_counter_saturation
- handshakes: in_ready_o / out_valid_o / busy_o predicted every cycle, idle gaps, input stalls,
  output back-pressure with the beat held stable (``StableWhileStalled``) ->
  run_random[full/idle/backpress/mixed] (bins idle_gap, in_stall, out_stall, back_to_back,
  out_ready_after_stall); full speed: no stall at all
- asynchronous reset with a full pipeline, with a stalled output and while idle -> run_reset_mid
  (bins reset_full, reset_stall, reset_idle)
- the checker catches a wrong model -> run_expect_fail (expect_fail=True)
- parameter corners: PHASE_F = PHASE_W (no integer part), OUT_W 8 and 24, ITERS 8 and 20,
  TAG_W 1 and 32, PHASE_W 32 -> PARAM_SETS, test_param_sets_cover_corners

Coverage bins are listed per test; a hole fails the test.
"""

from __future__ import annotations

from dataclasses import dataclass

import cocotb

from rramcim.golden.fourier_enc import (
    COUNTER_MAX,
    FourierBeat,
    FourierEncConfig,
    FourierEncModel,
)
from tb.vip.leaf import (
    TRAFFIC_VARIANTS,
    LeafTB,
    ScoreboardError,
    StableWhileStalled,
    leaf_bench_test,
)


@dataclass
class Pending:
    """An accepted beat travelling through the pipeline slots."""

    seq: int
    beat: FourierBeat
    sat_count: int  # sat_count_o once this beat is in the output register


class TB(LeafTB[int]):
    """Slot model, scoreboard and pins of ``cim_fourier_enc`` (plan items: phase codes).

    Constructed as :class:`~tb.vip.leaf.LeafTB` (``dut``, ``idle_prob``, ``bp_prob``,
    ``expect_fail``).
    """

    CLEARED_OUTPUTS = (*LeafTB.CLEARED_OUTPUTS, "sat_count_o", "out_sin_o", "out_cos_o")
    MAX_GAP = 3
    PARAM_NAMES = ("PHASE_W", "PHASE_F", "OUT_W", "ITERS", "TAG_W")

    def setup(self) -> None:
        self.cfg = FourierEncConfig.from_hdl(self.params)
        self.model = FourierEncModel(self.cfg)
        self.n_slots = self.cfg.iters + 1  # stage 0 .. ITERS

    def clear_state(self) -> None:
        super().clear_state()
        self.slots: list[Pending | None] = [None] * self.n_slots
        self.out: Pending | None = None
        self.exp_sat = 0
        self.out_hold = StableWhileStalled("output beat", self.fail)

    # ----- stimulus ---------------------------------------------------------------------------
    def wrap(self, p: int) -> int:
        """``p`` moved by whole turns into the phase range (the value it names is unchanged)."""
        c = self.cfg
        span = 1 << c.phase_w
        return (p - c.phase_min) % span + c.phase_min

    def corner_phases(self) -> list[int]:
        """Octant/quadrant boundaries with neighbours, exact quarter turns (saturation), the
        phase extremes, and the same angles shifted by whole turns (wrap) and negated."""
        c, f = self.cfg, self.cfg.phase_f
        out = [c.phase_min, c.phase_max, 0, 1, -1]
        for k in range(8):
            b = k << (f - 3)
            out += [b - 1, b, b + 1]
        if c.phase_w > f + 1:  # whole turns exist: the same angles one turn up and down
            out += [b + t * (1 << f) for b in out[:20] for t in (1, -1)]
        out += [-p for p in out[:20]]
        return [self.wrap(p) for p in out]

    def random_phase(self) -> int:
        r, c = self.rng, self.cfg
        u = r.random()
        if u < 0.6:
            return r.randint(c.phase_min, c.phase_max)
        if u < 0.8:  # near a boundary
            b = r.randrange(8) << (c.phase_f - 3)
            return self.wrap(b + r.randint(-3, 3) + r.randint(-4, 4) * (1 << c.phase_f))
        return r.choice((c.phase_min, c.phase_max, 0, r.randint(-4, 4)))

    # ----- pins -------------------------------------------------------------------------------
    def idle_pins(self) -> None:
        d, r = self.dut, self.rng_drv
        d.in_valid_i.value = 0
        d.in_phase_i.value = r.getrandbits(self.cfg.phase_w)
        d.in_tag_i.value = r.getrandbits(self.cfg.tag_w)

    def present(self, item: int) -> None:
        d = self.dut
        d.in_valid_i.value = 1
        d.in_phase_i.value = item & ((1 << self.cfg.phase_w) - 1)
        d.in_tag_i.value = self.seq % (1 << self.cfg.tag_w)

    # ----- one clock cycle --------------------------------------------------------------------
    def drained(self) -> bool:
        return (
            not self.plan
            and self.presenting is None
            and self.out is None
            and all(s is None for s in self.slots)
        )

    def budget(self) -> int:
        return super().budget() + 20 * self.n_slots

    def sample(self) -> None:
        out_valid = self.read("out_valid_o")
        in_ready = self.read("in_ready_o")
        adv = self.out is None or bool(self.out_ready)
        want_ready = self.ready_allowed and adv
        if bool(in_ready) != want_ready:
            self.fail(f"in_ready_o={in_ready}, slot model expects {int(want_ready)}")
        if bool(out_valid) != (self.out is not None):
            self.fail(f"out_valid_o={out_valid}, slot model expects {int(self.out is not None)}")
        busy = self.out is not None or any(s is not None for s in self.slots)
        if bool(self.read("busy_o")) != busy:
            self.fail(f"busy_o={self.read('busy_o')}, slot model expects {int(busy)}")
        if self.read("sat_count_o") != self.exp_sat:
            self.fail(f"sat_count_o={self.read('sat_count_o')}, model {self.exp_sat}")
        if self.out is not None:
            self._check_out(self.out)
        accepted: Pending | None = self.input_transfer(bool(in_ready))
        if self.out is not None:
            if self.out_ready:
                self.out = None
                self.done += 1
            else:
                self.cov.hit("out_stall")
        if adv:
            last = self.slots[-1]
            self.slots = [accepted, *self.slots[:-1]]
            if last is not None:
                self.out = last
                self.exp_sat = last.sat_count

    def accept(self, item: int) -> Pending:
        tag = self.seq % (1 << self.cfg.tag_w)
        beat = self.model.process(item, tag)
        self._cover(item, beat)
        return Pending(self.seq, beat, self.model.sat_count)

    def _cover(self, phase: int, b: FourierBeat) -> None:
        c, f = self.cfg, self.cfg.phase_f
        self.cov.hit(f"quad{b.quadrant}")
        low = phase & ((1 << (f - 3)) - 1)
        if low in (0, 1, (1 << (f - 3)) - 1):
            self.cov.hit("boundary")
        if phase < 0:
            self.cov.hit("neg")
        if not -(1 << f) < phase < (1 << f):
            self.cov.hit("wrap")
        if phase == c.phase_min:
            self.cov.hit("phase_min")
        if phase == c.phase_max:
            self.cov.hit("phase_max")
        if b.sat & 2:
            self.cov.hit("sat_sin")
        if b.sat & 1:
            self.cov.hit("sat_cos")

    def _check_out(self, e: Pending) -> None:
        d = self.dut
        got = (
            self.read("out_tag_o"),
            d.out_sin_o.value.to_signed(),
            d.out_cos_o.value.to_signed(),
            self.read("out_sat_o"),
        )
        b = e.beat
        want = (b.tag, b.sin, b.cos, b.sat)
        if got != want:
            raise ScoreboardError(
                f"cycle {self.cycle}: beat {e.seq} (tag, sin, cos, sat) = {got}, model {want} "
                f"(per-test seed {cocotb.RANDOM_SEED})"
            )
        if self.out_hold.observe(got, bool(self.out_ready)) and self.out_ready:
            self.cov.hit("out_ready_after_stall")

    # ----- reset in the middle ----------------------------------------------------------------
    def reset_ready(self, where: str) -> bool:
        if self.accepted_since_reset < 10:
            return False
        full = sum(s is not None for s in self.slots) >= self.n_slots // 2
        cond = {
            "full": full and self.out is not None and bool(self.out_ready),
            "stall": self.out is not None and self.out_hold.stalled,
            "idle": self.out is None and all(s is None for s in self.slots),
        }
        return cond[where]


# ------------------------------------------------------------------------------------------
# Tests
# ------------------------------------------------------------------------------------------


@cocotb.test()
@cocotb.parametrize(variant=list(TRAFFIC_VARIANTS))
async def run_random(dut, variant: str) -> None:
    """Random phases (>= 400 beats, a third near boundaries) with idle gaps and/or
    back-pressure."""
    idle, bp = TRAFFIC_VARIANTS[variant]
    tb = TB(dut, idle_prob=idle, bp_prob=bp)
    await tb.start()
    await tb.run_plan(tb.random_phase() for _ in range(400))
    req = ["quad0", "quad1", "quad2", "quad3", "neg", *tb.handshake_bins()]
    if bp:
        req.append("out_ready_after_stall")
    tb.cov.check(req, tb.log)


@cocotb.test()
async def run_corners(dut) -> None:
    """Directed corners: boundaries, quarter turns (saturation), extremes, wrap, negation."""
    tb = TB(dut, idle_prob=0.2, bp_prob=0.2)
    await tb.start()
    await tb.run_plan(tb.corner_phases())
    req = ["quad0", "quad1", "quad2", "quad3", "boundary", "neg", "phase_min", "phase_max"]
    req += ["sat_sin", "sat_cos"]
    if tb.cfg.phase_w > tb.cfg.phase_f + 1:
        req.append("wrap")
    assert tb.read("sat_count_o") == tb.model.sat_count > 0
    tb.cov.check(req, tb.log)


@cocotb.test()
async def run_reset_mid(dut) -> None:
    """Asynchronous reset with a full pipeline, a stalled output and while idle."""
    tb = TB(dut, idle_prob=0.1, bp_prob=0.3)
    await tb.start()
    await tb.run_reset_scenario(
        ["full", "stall"],
        lambda: tb.plan.extend(tb.random_phase() for _ in range(40)),
        tb.corner_phases(),
    )
    assert tb.read("sat_count_o") == tb.model.sat_count
    tb.cov.check(["reset_full", "reset_stall", "reset_idle"], tb.log)


@cocotb.test()
async def run_counter_saturation(dut) -> None:
    """sat_count_o deposited just below 2^32-1 sticks at 2^32-1."""
    tb = TB(dut)
    await tb.start()
    await tb.next_cycle()
    dut.sat_cnt_q.value = COUNTER_MAX - 2
    tb.model.sat_count = tb.exp_sat = COUNTER_MAX - 2
    q = 1 << (tb.cfg.phase_f - 2)
    tb.plan.extend([0, tb.wrap(q)] * 6)  # cos(0) and sin(1/4 turn) saturate
    await tb.run()
    assert tb.model.sat_count == COUNTER_MAX == tb.read("sat_count_o")


class _WrongModel(FourierEncModel):
    """Deliberately wrong reference: cos one LSB low for phases in quadrant 1."""

    def compute(self, phase: int) -> tuple[int, int, bool, bool]:
        s, c, ss, sc = super().compute(phase)
        f = self.cfg.phase_f
        if (phase >> (f - 2)) & 3 == 1:
            c -= 1
        return s, c, ss, sc


@cocotb.test(expect_fail=True)
async def run_expect_fail(dut) -> None:
    """The scoreboard, fed a wrong model, must report a mismatch."""
    tb = TB(dut, idle_prob=0.2, bp_prob=0.2, expect_fail=True)
    tb.model = _WrongModel(tb.cfg)
    await tb.start()
    tb.plan.extend(tb.random_phase() for _ in range(200))
    await tb.run()


# ------------------------------------------------------------------------------------------
# pytest entry
# ------------------------------------------------------------------------------------------

PARAM_SETS = {
    # the RTL defaults: 2 integer bits of turns, Q1.15 outputs, 16 iterations
    "p16f14o16i16": {"PHASE_W": 16, "PHASE_F": 14, "OUT_W": 16, "ITERS": 16, "TAG_W": 8},
    # narrowest: no integer part (PHASE_F = PHASE_W), 8-bit outputs, 8 iterations, 1-bit tag
    "p8f8o8i8": {"PHASE_W": 8, "PHASE_F": 8, "OUT_W": 8, "ITERS": 8, "TAG_W": 1},
    # widest: 32-bit phase with 8 integer bits, 24-bit outputs, 20 iterations, 32-bit tag
    "p32f24o24i20": {"PHASE_W": 32, "PHASE_F": 24, "OUT_W": 24, "ITERS": 20, "TAG_W": 32},
}


def test_param_sets_cover_corners() -> None:
    sets = [FourierEncConfig.from_hdl(p) for p in PARAM_SETS.values()]
    assert any(c.phase_f == c.phase_w for c in sets)
    assert any(c.phase_w > c.phase_f + 1 for c in sets)
    assert {8, 24} <= {c.out_w for c in sets}
    assert {8, 20} <= {c.iters for c in sets}
    assert {1, 32} <= {c.tag_w for c in sets}
    assert 32 in {c.phase_w for c in sets}


test_cim_fourier_enc = leaf_bench_test("cim_fourier_enc", PARAM_SETS, __file__)

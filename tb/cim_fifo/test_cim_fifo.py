"""cocotb bench of ``rtl/cim_fifo.sv`` against a queue model.

Structure: :class:`TB` is a :class:`tb.vip.leaf.LeafTB` (clock and reset start-up, one step per
clock cycle, the input driver, reset in the middle and the pytest entry live there). On the
falling edge it drives the sink (``out_ready_i`` with random back-pressure) and the source (the
next random beat of the plan after a random idle gap, held while stalled, garbage on
``in_data_i`` while ``in_valid_i`` is low); in the ``ReadOnly`` phase it reads every output, so
the handshakes of the coming edge are known identically on Icarus and Verilator. The reference is a
``collections.deque``: in every cycle it predicts ``in_ready_o`` (not full, and not in the
first cycle after reset), ``out_valid_o`` and ``out_data_o`` (the oldest beat: first word fall
through), ``count_o``, ``full_o``, ``empty_o`` and ``max_count_o``, which pins down the
latency (a beat pushed into an empty FIFO is at the output one edge later) and the
throughput (push and pop at the same edge) of the RTL header cycle by cycle.

Stimulus: phases of random traffic (a number of random beats, run until every one has left
the FIFO) with the source's idle probability and the sink's back-pressure probability of the
test variant, interleaved with "fill" phases (the sink stops until the FIFO is full and the
source keeps pushing against it, without idle gaps) and "drain" phases (the source stops until
the FIFO is empty), so full, empty and the wrap-around of both pointers happen whatever the
random draws.

Randomness: ``random.Random`` generators keyed by cocotb's per-test seed (logged at the start
of each test). ``SEED=<it>`` (``COCOTB_RANDOM_SEED``) reproduces a run.

Testplan (feature -> tests that check it)

- order and data integrity, first word fall through, one-edge latency -> every test (each
  output beat compared with the queue's head in every cycle it is valid)
- full throughput: push and pop at the same edge, count unchanged -> run_random (bin
  push_pop), run_random[full] (no input stall while not full: checked by the model; no
  input stall at all in its random phases)
- full: in_ready_o low, a beat held against it, push refused, a pop while full frees a slot
  for the next cycle only -> run_random (bins full, push_blocked, pop_while_full)
- empty: out_valid_o low, out_ready_i without a beat -> run_random (bins empty, pop_idle)
- pointer wrap-around -> run_random (bin wrap: more than DEPTH pushes and pops)
- idle source / back-pressured sink -> run_random[idle/backpress/mixed] (bins idle_gap,
  out_stall)
- max_count_o: high-water mark rises with the count, never falls -> every test (model)
- reset in the middle (full with a beat stalled against it, partly filled, empty, idle after
  the traffic ran out): outputs clear at once, in_ready_o low during reset and one cycle after
  (a beat presented in that cycle stalls), count and high-water mark restart -> run_reset_mid
  (bins reset_<where>, in_stall_after_reset)
- the checker catches a wrong model (last in, first out) -> run_expect_fail
- parameter corners: DATA_W 1 and 4096, DEPTH 2 and 4096 -> PARAM_SETS

Coverage bins are listed per test; a hole fails the test.
"""

from __future__ import annotations

from collections import deque

import cocotb

from tb.vip.leaf import LeafTB, ScoreboardError, leaf_bench_test

#: Longest idle gap of the source (cycles).
MAX_GAP = 3
#: Cycles the sink keeps stalling once a fill phase made the FIFO full.
FULL_HOLD = 3


class QueueModel:
    """The reference: a bounded first-in first-out queue."""

    def __init__(self, depth: int) -> None:
        self.depth = depth
        self.q: deque[int] = deque()

    def head(self) -> int:
        return self.q[0]

    def pop(self) -> int:
        return self.q.popleft()

    def push(self, v: int) -> None:
        self.q.append(v)

    def __len__(self) -> int:
        return len(self.q)

    def reset(self) -> None:
        self.q.clear()


class TB(LeafTB[int]):
    """Source, sink and cycle-by-cycle checker of ``cim_fifo`` (constructed as
    :class:`~tb.vip.leaf.LeafTB`: ``dut``, ``idle_prob``, ``bp_prob``, ``expect_fail``).

    :attr:`mode` steers the traffic: ``random`` (the test's idle and back-pressure
    probabilities), ``fill`` (the sink stops, the source pushes without gaps; ``filled`` once
    the FIFO was full for :data:`FULL_HOLD` more cycles) or ``drain`` (the source stops, the
    sink takes every beat; ``drained`` after one empty cycle).
    """

    CLEARED_OUTPUTS = ("in_ready_o", "out_valid_o", "count_o", "full_o", "max_count_o")
    MAX_GAP = MAX_GAP
    PARAM_NAMES = ("DATA_W", "DEPTH")
    RNG_SALTS = ("src", "drv", "snk")

    model: QueueModel

    def setup(self) -> None:
        self.data_w = self.params["DATA_W"]
        self.depth = self.params["DEPTH"]
        self.model = QueueModel(self.depth)
        self.mode = "random"

    def clear_state(self) -> None:
        super().clear_state()
        self.max_count = 0
        self.pops = 0  # since the last reset (pushes: accepted_since_reset)
        self.since_reset = 0  # cycles
        self.hold_left: int | None = None

    def check_cleared(self) -> None:
        super().check_cleared()
        if not self.read("empty_o"):
            self.fail("empty_o low in reset")

    def budget(self) -> int:
        return super().budget() + 4 * self.depth + 40

    # ----- stimulus and pins ------------------------------------------------------------------
    def random_beat(self) -> int:
        return self.rng.getrandbits(self.data_w)

    def random_beats(self, n: int) -> list[int]:
        return [self.random_beat() for _ in range(n)]

    def idle_pins(self) -> None:
        self.dut.in_valid_i.value = 0
        self.dut.in_data_i.value = self.rng_drv.getrandbits(self.data_w)

    def present(self, item: int) -> None:
        self.dut.in_data_i.value = item
        self.dut.in_valid_i.value = 1

    def gap_prob(self) -> float:
        return self.idle_prob if self.mode == "random" else 0.0

    def plan_control(self) -> bool:
        if self.mode == "drain":
            return True  # the source stops (a beat already presented stays)
        if self.mode == "fill" and not self.plan:
            self.plan.append(self.random_beat())  # the source keeps pushing
        return False

    def drive(self) -> None:
        prob = {"fill": 1.0, "drain": 0.0}.get(self.mode, self.bp_prob)
        self.out_ready = self.backpressure("out_ready_i", self.out_ready, self.rng_out, prob)
        self.drive_input()

    # ----- one clock cycle --------------------------------------------------------------------
    def drained(self) -> bool:
        if self.mode in ("filled", "drained"):
            return True
        idle = not self.plan and self.presenting is None and not len(self.model)
        return self.mode == "random" and idle

    def accept(self, item: int) -> None:
        self.model.push(item)

    def sample(self) -> None:
        m = self.model
        n = len(m)
        names = ("in_ready_o", "out_valid_o", "count_o", "full_o", "empty_o", "max_count_o")
        got = {k: self.read(k) for k in names}
        want = {
            "in_ready_o": int(self.ready_allowed and n < self.depth),
            "out_valid_o": int(n > 0),
            "count_o": n,
            "full_o": int(n == self.depth),
            "empty_o": int(n == 0),
            "max_count_o": self.max_count,
        }
        if n:
            data = self.read("out_data_o")
            if data != m.head():
                raise ScoreboardError(
                    f"cycle {self.cycle}: out_data_o = {data:#x}, model head {m.head():#x} "
                    f"(per-test seed {cocotb.RANDOM_SEED})"
                )
        if got != want:
            diff = {k: (got[k], want[k]) for k in got if got[k] != want[k]}
            self.fail(f"outputs (got, expected): {diff}")
        # coverage of the coming edge
        c = self.cov
        c.hit("full" if n == self.depth else ("empty" if n == 0 else "partial"))
        pop = n > 0 and bool(self.out_ready)
        if pop and self.presenting is not None and got["in_ready_o"]:
            c.hit("push_pop")
        if self.presenting is not None and n == self.depth:
            c.hit("push_blocked")
            if pop:
                c.hit("pop_while_full")
        if n == 0 and self.out_ready:
            c.hit("pop_idle")
        if n and not self.out_ready:
            c.hit("out_stall")
        # transfers: the pop first, then the push (accept)
        if pop:
            m.pop()
            self.pops += 1
            self.done += 1
        self.input_transfer(bool(got["in_ready_o"]))
        if self.accepted_since_reset > self.depth and self.pops > self.depth:
            c.hit("wrap")
        self.max_count = max(self.max_count, len(m))
        self.since_reset += 1
        self._next_mode(n)

    def _next_mode(self, n: int) -> None:
        """Fill: full, then :data:`FULL_HOLD` more cycles; drain: one empty cycle with
        ``out_ready_i`` high (bin pop_idle)."""
        if self.mode == "fill":
            if self.hold_left is None:
                if len(self.model) == self.depth:
                    self.hold_left = FULL_HOLD
            else:
                self.hold_left -= 1
                if not self.hold_left:
                    self.mode, self.hold_left = "filled", None
        elif self.mode == "drain" and n == 0:
            self.mode = "drained"

    # ----- phases -----------------------------------------------------------------------------
    async def random_phase(self, n: int) -> None:
        """``n`` random beats (and any left in the plan) until every one has left the FIFO."""
        self.mode = "random"
        await self.run_plan(self.random_beats(n))

    async def fill_drain(self) -> None:
        """Fill until full (and hold a beat against it a few cycles), then drain to empty."""
        self.mode = "fill"
        await self.run()
        self.mode = "drain"
        await self.run()

    # ----- reset in the middle ----------------------------------------------------------------
    def reset_ready(self, where: str) -> bool:
        if self.since_reset < 8:
            return False
        n = len(self.model)
        if n == self.depth:
            # a beat presented against the full FIFO (presenting is cleared on its transfer)
            return where == "full" and self.presenting is not None
        return where == ("empty" if n == 0 else "partial")

    def release_pins(self) -> None:
        """Release with a beat presented at once: it stalls (in_ready_o low in that cycle)."""
        super().release_pins()
        if not self.plan:
            self.plan.append(self.random_beat())
        self.gap_left = None
        self.presenting = self.plan.popleft()
        self.present(self.presenting)
        self.cov.hit("in_stall_after_reset")

    def refill(self) -> None:
        """Traffic that reaches the state of the next planned reset."""
        where = self.reset_plan[0] if self.reset_plan else "partial"
        self.mode = {"full": "fill", "empty": "drain"}.get(where, "random")
        if self.mode == "random":
            self.plan.extend(self.random_beats(30))


#: (idle_prob, bp_prob) of the run_random variants.
VARIANTS = {
    "full": (0.0, 0.0),
    "idle": (0.5, 0.1),
    "backpress": (0.1, 0.5),
    "mixed": (0.3, 0.3),
}


@cocotb.test()
@cocotb.parametrize(variant=list(VARIANTS))
async def run_random(dut, variant: str) -> None:
    """Random traffic interleaved with fill and drain phases."""
    idle, bp = VARIANTS[variant]
    tb = TB(dut, idle_prob=idle, bp_prob=bp)
    await tb.start()
    for _ in range(3):
        await tb.random_phase(150)
        await tb.fill_drain()
    await tb.random_phase(150)
    tb.log.info("%d beats through in %d cycles", tb.done, tb.cycle)
    req = ["full", "empty", "partial", "push_pop", "push_blocked", "pop_while_full"]
    req += ["pop_idle", "wrap", "out_stall"]
    if idle:
        req.append("idle_gap")
    tb.cov.check(req, tb.log)


@cocotb.test()
async def run_reset_mid(dut) -> None:
    """Asynchronous reset while full with a beat stalled against it, partly filled, empty,
    and idle once the traffic ran out."""
    tb = TB(dut, idle_prob=0.2, bp_prob=0.5)
    await tb.start()
    plan = ["full", "partial", "empty"]
    await tb.run_reset_scenario(plan, tb.refill, tb.random_beats(60))
    tb.cov.check([f"reset_{w}" for w in (*plan, "idle")] + ["in_stall_after_reset"], tb.log)


class _WrongModel(QueueModel):
    """Deliberately wrong reference: last in, first out."""

    def head(self) -> int:
        return self.q[-1]

    def pop(self) -> int:
        return self.q.pop()


@cocotb.test(expect_fail=True)
async def run_expect_fail(dut) -> None:
    """The scoreboard, fed a LIFO model, must report a mismatch (this test passes only if the
    bench fails with a ScoreboardError)."""
    tb = TB(dut, idle_prob=0.1, bp_prob=0.5, expect_fail=True)
    tb.model = _WrongModel(tb.depth)
    await tb.start()
    await tb.fill_drain()
    await tb.random_phase(150)


# ------------------------------------------------------------------------------------------
# pytest entry
# ------------------------------------------------------------------------------------------

PARAM_SETS = {
    "w1d2": {"DATA_W": 1, "DEPTH": 2},  # narrowest, shallowest
    "w32d8": {"DATA_W": 32, "DEPTH": 8},  # the RTL defaults
    "w25d16": {"DATA_W": 25, "DEPTH": 16},  # cim_spike_router's event FIFO (ADDR_W 8, PRIME)
    "w4096d4": {"DATA_W": 4096, "DEPTH": 4},  # widest
    "w3d4096": {"DATA_W": 3, "DEPTH": 4096},  # deepest
}


def test_param_sets_cover_corners() -> None:
    """The parameter sets reach both ends of every parameter's legal range."""
    sets = list(PARAM_SETS.values())
    assert {1, 4096} <= {p["DATA_W"] for p in sets}
    assert {2, 4096} <= {p["DEPTH"] for p in sets}
    assert all(p["DEPTH"] & (p["DEPTH"] - 1) == 0 for p in sets)


test_cim_fifo = leaf_bench_test("cim_fifo", PARAM_SETS, __file__)

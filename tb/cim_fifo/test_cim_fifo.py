"""cocotb bench of ``rtl/cim_fifo.sv`` against a queue model.

Structure: a small :class:`TB` owns the pins and runs one step per clock cycle. On the falling
edge it drives the source (a new random beat after a random idle gap, held while stalled,
garbage on ``in_data_i`` while ``in_valid_i`` is low) and the sink (``out_ready_i`` with
random back-pressure); in the ``ReadOnly`` phase it reads every output, so the handshakes of
the coming edge are known identically on Icarus and Verilator. The reference is a
``collections.deque``: in every cycle it predicts ``in_ready_o`` (not full, and not in the
first cycle after reset), ``out_valid_o`` and ``out_data_o`` (the oldest beat: first word fall
through), ``count_o``, ``full_o``, ``empty_o`` and ``max_count_o``, which pins down the
latency (a beat pushed into an empty FIFO is at the output one edge later) and the
throughput (push and pop at the same edge) of the RTL header cycle by cycle.

Stimulus: phases of random traffic with the source's idle probability and the sink's
back-pressure probability of the test variant, interleaved with "fill" phases (the sink
stops until the FIFO is full and the source keeps pushing against it) and "drain" phases
(the source stops until the FIFO is empty), so full, empty and the wrap-around of both
pointers happen whatever the random draws.

Randomness: ``random.Random`` generators keyed by cocotb's per-test seed (logged at the start
of each test). ``SEED=<it>`` (``COCOTB_RANDOM_SEED``) reproduces a run.

Testplan (feature -> tests that check it)

- order and data integrity, first word fall through, one-edge latency -> every test (each
  output beat compared with the queue's head in every cycle it is valid)
- full throughput: push and pop at the same edge, count unchanged -> run_random (bin
  push_pop), run_random[full] (no input stall while not full: checked by the model)
- full: in_ready_o low, a beat held against it, push refused, a pop while full frees a slot
  for the next cycle only -> run_random (bins full, push_blocked, pop_while_full)
- empty: out_valid_o low, out_ready_i without a beat -> run_random (bins empty, pop_idle)
- pointer wrap-around -> run_random (bin wrap: more than DEPTH pushes and pops)
- idle source / back-pressured sink -> run_random[idle/backpress/mixed] (bins idle_gap,
  out_stall)
- max_count_o: high-water mark rises with the count, never falls -> every test (model)
- reset in the middle (full with a beat stalled against it, partly filled, empty): outputs clear at
  once, in_ready_o low during reset and one cycle after, count and high-water mark restart
  -> run_reset_mid (bins reset_<where>)
- the checker catches a wrong model (last in, first out) -> run_expect_fail
- parameter corners: DATA_W 1 and 4096, DEPTH 2 and 4096 -> PARAM_SETS

Coverage bins are listed per test; a hole fails the test.
"""

from __future__ import annotations

import logging
import random
from collections import deque
from collections.abc import Callable
from pathlib import Path

import cocotb
import pytest
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, ReadOnly, Timer

from tb.vip.coverage import Coverage
from tb.vip.params import param
from tb.vip.runner import RTL, run_bench, simulators

CLK_PERIOD_NS = 10
#: Longest idle gap of the source (cycles).
MAX_GAP = 3


class ProtocolError(AssertionError):
    """The DUT broke the interface contract (handshake, status outputs)."""


class ScoreboardError(AssertionError):
    """An output beat differs from the model's prediction."""


class UnexpectedBenchError(RuntimeError):
    """A protocol error in ``run_expect_fail`` (must not count as the expected failure)."""


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

    def clear(self) -> None:
        self.q.clear()


class TB:
    """Pins, source, sink and cycle-by-cycle checker of ``cim_fifo``.

    Args:
        dut: the cocotb handle of the top level.
        idle_prob: probability of an idle gap (1 .. MAX_GAP cycles) before a beat.
        bp_prob: probability that ``out_ready_i`` is low in a cycle.
        expect_fail: protocol errors raise :class:`UnexpectedBenchError`, so that only a
            scoreboard mismatch counts as the expected failure.
    """

    def __init__(
        self, dut, *, idle_prob: float = 0.0, bp_prob: float = 0.0, expect_fail: bool = False
    ) -> None:
        self.dut = dut
        self.log = logging.getLogger("cocotb.tb")
        self.data_w = param("DATA_W")
        self.depth = param("DEPTH")
        seed = cocotb.RANDOM_SEED
        self.log.info(
            "per-test seed %d (SEED=<regression seed> reproduces), DATA_W=%d DEPTH=%d",
            seed,
            self.data_w,
            self.depth,
        )
        self.rng_src = random.Random(f"{seed}:src")
        self.rng_snk = random.Random(f"{seed}:snk")
        self.idle_prob = idle_prob
        self.bp_prob = bp_prob
        self.expect_fail = expect_fail
        self.model: QueueModel = QueueModel(self.depth)
        self.cov = Coverage()
        self.cycle = 0
        self.mode = "random"  # random | fill | drain
        self.reset_at: str | None = None
        self._reset_state()

    def _reset_state(self) -> None:
        self.model.clear()
        self.max_count = 0
        self.rdy_en = False
        self.presenting: int | None = None
        self.gap = 0
        self.out_ready = 0
        self.pushes = self.pops = 0
        self.since_reset = 0

    def fail(self, msg: str) -> None:
        full = f"cycle {self.cycle}: {msg} (per-test seed {cocotb.RANDOM_SEED})"
        raise (UnexpectedBenchError if self.expect_fail else ProtocolError)(full)

    def read(self, name: str) -> int:
        return int(getattr(self.dut, name).value)

    # ----- pins -----------------------------------------------------------------------------
    async def start(self) -> None:
        d = self.dut
        Clock(d.clk_i, CLK_PERIOD_NS, unit="ns", impl="gpi").start()
        d.rst_ni.value = 0
        d.in_valid_i.value = 0
        d.in_data_i.value = 0
        d.out_ready_i.value = 0
        for _ in range(3):
            await FallingEdge(d.clk_i)
        await ReadOnly()
        self._check_reset_values()
        await FallingEdge(d.clk_i)
        d.rst_ni.value = 1
        await ReadOnly()
        if self.read("in_ready_o"):
            self.fail("in_ready_o high in the first cycle after reset")
        self.rdy_en = True

    def _check_reset_values(self) -> None:
        names = ("in_ready_o", "out_valid_o", "count_o", "full_o", "max_count_o")
        bad = {n: self.read(n) for n in names if self.read(n)}
        if bad:
            self.fail(f"outputs not cleared by reset: {bad}")
        if not self.read("empty_o"):
            self.fail("empty_o low in reset")

    async def run(self, cycles: int, until: Callable[[], bool] | None = None) -> None:
        """Run ``cycles`` cycles, or fewer once ``until()`` holds."""
        fe = FallingEdge(self.dut.clk_i)
        for _ in range(cycles):
            if until is not None and until():
                return
            await fe
            self.cycle += 1
            if self.reset_at is not None and self._where() == self.reset_at:
                await self._reset_mid()
                continue
            self._drive()
            await ReadOnly()
            self._sample()

    async def fill_drain(self) -> None:
        """Fill until full (and hold a beat against it a few cycles), then drain to empty."""
        self.mode = "fill"
        await self.run(self.depth * (MAX_GAP + 2) + 20, lambda: self.mode == "filled")
        if self.mode != "filled":
            self.fail("FIFO never became full")
        self.mode = "drain"
        await self.run(self.depth + 20, lambda: self.mode == "drained")
        if self.mode != "drained":
            self.fail("FIFO never became empty")

    def _drive(self) -> None:
        d = self.dut
        # sink
        if self.mode == "fill" or self.mode.startswith("hold"):
            want = 0
        elif self.mode == "drain":
            want = 1
        else:
            want = int(self.rng_snk.random() >= self.bp_prob)
        d.out_ready_i.value = self.out_ready = want
        # source
        if self.presenting is not None:
            return  # held while stalled
        if self.mode == "drain":
            d.in_valid_i.value = 0
            return
        if self.gap:
            self.gap -= 1
            self.cov.hit("idle_gap")
            return
        if self.mode == "random" and self.rng_src.random() < self.idle_prob:
            self.gap = self.rng_src.randint(1, MAX_GAP) - 1
            d.in_valid_i.value = 0
            d.in_data_i.value = self.rng_src.getrandbits(self.data_w)
            self.cov.hit("idle_gap")
            return
        self.presenting = self.rng_src.getrandbits(self.data_w)
        d.in_data_i.value = self.presenting
        d.in_valid_i.value = 1

    def _sample(self) -> None:
        m = self.model
        n = len(m)
        got = {
            "in_ready_o": self.read("in_ready_o"),
            "out_valid_o": self.read("out_valid_o"),
            "count_o": self.read("count_o"),
            "full_o": self.read("full_o"),
            "empty_o": self.read("empty_o"),
            "max_count_o": self.read("max_count_o"),
        }
        want = {
            "in_ready_o": int(self.rdy_en and n < self.depth),
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
        pop = n > 0 and self.out_ready
        push = self.presenting is not None and got["in_ready_o"]
        if push and pop:
            c.hit("push_pop")
        if self.presenting is not None and n == self.depth:
            c.hit("push_blocked")
            if pop:
                c.hit("pop_while_full")
        if n == 0 and self.out_ready:
            c.hit("pop_idle")
        if n and not self.out_ready:
            c.hit("out_stall")
        # transfers
        if pop:
            m.pop()
            self.pops += 1
        if push:
            m.push(self.presenting)
            self.presenting = None
            self.pushes += 1
        if self.pushes > self.depth and self.pops > self.depth:
            c.hit("wrap")
        self.max_count = max(self.max_count, len(m))
        self.rdy_en = True
        self.since_reset += 1
        if self.mode == "fill" and len(m) == self.depth:
            self.mode = "hold3"
        elif self.mode.startswith("hold"):
            left = int(self.mode[4:]) - 1
            self.mode = f"hold{left}" if left else "filled"
        elif self.mode == "drain" and n == 0:
            self.mode = "drained"  # after one empty cycle with out_ready_i high (pop_idle)

    # ----- reset in the middle --------------------------------------------------------------
    def _where(self) -> str | None:
        if self.since_reset < 8:
            return None
        n = len(self.model)
        if n == self.depth:
            # a beat presented against the full FIFO (presenting is cleared on its transfer)
            return "full" if self.presenting is not None else None
        return "empty" if n == 0 else "partial"

    async def _reset_mid(self) -> None:
        d = self.dut
        self.log.info("cycle %d: reset (%s, %d beats)", self.cycle, self.reset_at, len(self.model))
        self.cov.hit(f"reset_{self.reset_at}")
        self.reset_at = None
        d.rst_ni.value = 0
        d.in_valid_i.value = 0
        await Timer(1, unit="ns")
        self._check_reset_values()
        self._reset_state()
        for _ in range(self.rng_src.randint(1, 3)):
            await FallingEdge(d.clk_i)
            self.cycle += 1
            await ReadOnly()
            self._check_reset_values()
        await FallingEdge(d.clk_i)
        self.cycle += 1
        d.rst_ni.value = 1
        self.presenting = self.rng_src.getrandbits(self.data_w)  # presented right away
        d.in_data_i.value = self.presenting
        d.in_valid_i.value = 1
        d.out_ready_i.value = self.out_ready = 0
        await ReadOnly()
        if self.read("in_ready_o"):
            self.fail("in_ready_o high in the first cycle after reset")
        self.cov.hit("in_stall_after_reset")
        self.rdy_en = True
        self.since_reset = 1


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
        tb.mode = "random"
        await tb.run(150)
        await tb.fill_drain()
    tb.mode = "random"
    await tb.run(150)
    tb.log.info("%d beats through in %d cycles", tb.pops, tb.cycle)
    req = ["full", "empty", "partial", "push_pop", "push_blocked", "pop_while_full"]
    req += ["pop_idle", "wrap", "out_stall"]
    if idle:
        req.append("idle_gap")
    tb.cov.check(req, tb.log)


@cocotb.test()
async def run_reset_mid(dut) -> None:
    """Asynchronous reset while full with a beat stalled against it, partly filled, empty."""
    tb = TB(dut, idle_prob=0.2, bp_prob=0.5)
    await tb.start()
    plan = ["full", "partial", "empty"]
    for where in plan:
        tb.reset_at = where
        for _ in range(20):
            tb.mode = {"full": "fill", "empty": "drain"}.get(where, "random")
            await tb.run(tb.depth * (MAX_GAP + 2) + 40, lambda: tb.reset_at is None)
            if tb.reset_at is None:
                break
        assert tb.reset_at is None, f"state {where} never reached"
    tb.mode = "random"
    await tb.run(100)
    tb.cov.check([f"reset_{w}" for w in plan] + ["in_stall_after_reset"], tb.log)


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
    await tb.run(200)


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


@pytest.mark.sim
@pytest.mark.parametrize("params", list(PARAM_SETS.values()), ids=list(PARAM_SETS))
@pytest.mark.parametrize("sim", simulators())
def test_cim_fifo(sim: str, params: dict[str, int], request: pytest.FixtureRequest) -> None:
    run_bench(
        sim=sim,
        nodeid=request.node.nodeid,
        toplevel="cim_fifo",
        module="test_cim_fifo",
        sources=[RTL / "cim_fifo.sv"],
        parameters=params,
        bench_dir=Path(__file__).parent,
    )

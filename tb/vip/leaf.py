"""Reusable skeleton of a single-stream leaf bench (one input stream, one output stream).

A leaf bench owns the pins of one small block, runs one step per clock cycle and compares
every output beat against a golden model. :class:`LeafTB` holds what such benches share:

* clock and reset start-up (:meth:`LeafTB.start`): outputs cleared during reset,
  ``in_ready_o`` low in the first cycle after the release;
* the per-cycle step (:meth:`LeafTB.run`): on the falling edge the bench drives every input
  for the next rising edge (:meth:`LeafTB.drive`), in the following ``ReadOnly`` phase it
  samples the outputs (:meth:`LeafTB.sample`), so the handshakes of the coming edge are known
  identically on Icarus and Verilator;
* the input driver of the common case (:meth:`LeafTB.drive_input`, :meth:`LeafTB.next_item`):
  the next item of the plan after an idle gap (random, or the item's own), held while
  stalled, garbage on the data pins while idle, control entries of the plan (a clear, an
  erase) acted on by the bench;
  ``out_ready_i``-style back-pressure (:meth:`LeafTB.backpressure`); the input transfer with
  its coverage (:meth:`LeafTB.input_transfer`);
* reset in the middle (:meth:`LeafTB.reset_mid`): assert ``rst_ni`` at a falling edge, check
  the asynchronous clear, re-queue the item being presented, reset the model and the bench
  state, hold 1 .. 3 cycles checking the clear, release at a falling edge and check
  ``in_ready_o`` low in the first cycle; :meth:`LeafTB.run_resets`,
  :meth:`LeafTB.reset_when_idle` and :meth:`LeafTB.run_reset_scenario` drive it from a test;
* :class:`StableWhileStalled`: a valid beat may not change while the consumer stalls it;
* :func:`leaf_bench_test`: the pytest entry over simulators x parameter sets.

The bench-specific parts are hooks: :meth:`LeafTB.setup`, :meth:`LeafTB.idle_pins`,
:meth:`LeafTB.present`, :meth:`LeafTB.accept`, :meth:`LeafTB.sample`, :meth:`LeafTB.drained`,
:meth:`LeafTB.clear_state`, :meth:`LeafTB.reset_ready` and, where a bench differs from the default,
:meth:`LeafTB.reset_pins` / :meth:`LeafTB.release_pins` / :meth:`LeafTB.budget` /
:meth:`LeafTB.on_drained` / :meth:`LeafTB.plan_control` / :meth:`LeafTB.item_gap` /
:meth:`LeafTB.gap_prob`. The cleared outputs are the class attribute
:attr:`LeafTB.CLEARED_OUTPUTS`.

Randomness: :meth:`LeafTB.make_rng` keys ``random.Random`` generators by cocotb's per-test seed
(logged at the start of each test); ``SEED=<regression seed>`` (``COCOTB_RANDOM_SEED``)
reproduces a run.
"""

from __future__ import annotations

import logging
import random
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar, Generic, Protocol, TypeVar

import cocotb
import pytest
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, ReadOnly, Timer

from tb.vip.coverage import Coverage
from tb.vip.params import param
from tb.vip.runner import RTL, run_bench, simulators

CLK_PERIOD_NS = 10

#: ``(idle_prob, bp_prob)`` of the usual traffic variants of a leaf bench's random test.
TRAFFIC_VARIANTS: dict[str, tuple[float, float]] = {
    "full": (0.0, 0.0),
    "idle": (0.5, 0.0),
    "backpress": (0.0, 0.5),
    "mixed": (0.3, 0.3),
}

ItemT = TypeVar("ItemT")


class ProtocolError(AssertionError):
    """The DUT broke the interface contract (handshake, timing, counter, status)."""


class ScoreboardError(AssertionError):
    """An output beat (or operation) differs from the model's prediction."""


class UnexpectedBenchError(RuntimeError):
    """A protocol error in ``run_expect_fail`` (must not count as the expected failure)."""


class ResettableModel(Protocol):
    """What the base needs of a golden model: it can be reset with the DUT."""

    def reset(self) -> None: ...


class StableWhileStalled:
    """Checks that a valid beat stays unchanged while its consumer stalls it.

    Args:
        what: the beat's name in failure messages (e.g. ``"output beat"``).
        fail: the bench's failure function (cycle and seed are added there).
    """

    def __init__(self, what: str, fail: Callable[[str], None]) -> None:
        self.what = what
        self._fail = fail
        self.held: object | None = None

    @property
    def stalled(self) -> bool:
        """Whether the beat was stalled in an earlier cycle and has not transferred yet."""
        return self.held is not None

    def observe(self, got: object, ready: bool) -> bool:
        """One cycle with the beat ``got`` valid; ``ready``: it transfers at the coming edge.

        Returns:
            Whether the beat had been stalled before this cycle.

        Raises:
            ProtocolError: (through ``fail``) the beat differs from the stalled one.
        """
        was = self.held
        if was is not None and got != was:
            self._fail(f"{self.what} changed while stalled: {was} -> {got}")
        self.held = None if ready else got
        return was is not None

    def observe_invalid(self) -> None:
        """One cycle with the valid low: a stalled beat may not be withdrawn."""
        if self.held is not None:
            self._fail(f"{self.what} withdrawn while stalled")


class LeafTB(Generic[ItemT]):
    """Base of a leaf bench: pins, per-cycle step, input driver, reset in the middle.

    Subclasses name their HDL parameters (:attr:`PARAM_NAMES`), build the configuration and
    :attr:`model` (a golden model with ``reset()``) in :meth:`setup` and implement the hooks
    named in the module docstring. The constructor reads the parameters, logs the seed, makes
    the generators :attr:`rng`, :attr:`rng_drv` and :attr:`rng_out` (salts
    :attr:`RNG_SALTS`), calls :meth:`setup` and then :meth:`clear_state`.

    Args:
        dut: cocotb handle of the top level.
        idle_prob: probability of an idle gap (1 .. :attr:`MAX_GAP` cycles) before an item.
        bp_prob: probability that ``out_ready_i`` is low in a cycle.
        expect_fail: protocol errors raise :class:`UnexpectedBenchError`.
    """

    #: Outputs an asserted reset must hold at zero (subclasses add theirs).
    CLEARED_OUTPUTS: ClassVar[tuple[str, ...]] = ("in_ready_o", "out_valid_o", "busy_o")
    #: Inputs driven to zero before the first reset (besides :meth:`idle_pins`).
    ZERO_AT_START: ClassVar[tuple[str, ...]] = ("out_ready_i",)
    #: Longest idle gap :meth:`drive_input` inserts before an item (cycles).
    MAX_GAP: ClassVar[int] = 3
    #: :meth:`drive_input` drives :meth:`idle_pins` only in the first idle cycle after an item
    #: (the data pins keep that garbage), not in every idle cycle.
    IDLE_ONCE: ClassVar[bool] = False
    #: HDL parameters read back with :func:`tb.vip.params.param` into :attr:`params`.
    PARAM_NAMES: ClassVar[tuple[str, ...]] = ()
    #: Salts of :attr:`rng` (stimulus), :attr:`rng_drv` (idle gaps, garbage, reset hold
    #: times) and :attr:`rng_out` (``out_ready_i`` back-pressure).
    RNG_SALTS: ClassVar[tuple[str, str, str]] = ("stim", "drv", "out")

    model: ResettableModel

    def __init__(
        self,
        dut: Any,
        *,
        idle_prob: float = 0.0,
        bp_prob: float = 0.0,
        expect_fail: bool = False,
    ) -> None:
        self.dut = dut
        self.log = logging.getLogger("cocotb.tb")
        self.params = {n: param(n) for n in self.PARAM_NAMES}
        self.seed: int = cocotb.RANDOM_SEED
        self.log.info(
            "per-test seed %d (SEED=<regression seed> reproduces), params %s",
            self.seed,
            self.params,
        )
        self.idle_prob, self.bp_prob, self.expect_fail = idle_prob, bp_prob, expect_fail
        self.cov = Coverage()
        self.cycle = 0
        self.seq = 0  # accepted items since the start of the test (tags, messages)
        self.plan: deque[ItemT] = deque()  # items still to present
        self.reset_plan: list[str] = []  # where the coming resets in the middle happen
        self.presenting: ItemT | None = None  # on the input pins, not yet accepted
        self.gap_left: int | None = None
        self.out_ready = 0
        self.ready_allowed = False  # in_ready_o may be high (reset released a cycle ago)
        self.last_accept = -10
        self.accepted_since_reset = 0
        self.done = 0  # output beats checked
        self.in_stalls = 0
        self.rng, self.rng_drv, self.rng_out = (self.make_rng(s) for s in self.RNG_SALTS)
        self.setup()
        self.clear_state()

    def make_rng(self, salt: str) -> random.Random:
        """A generator keyed by the per-test seed and ``salt``."""
        return random.Random(f"{self.seed}:{salt}")

    def fail(self, msg: str) -> None:
        """Raise a protocol error (an :class:`UnexpectedBenchError` under ``expect_fail``)."""
        full = f"cycle {self.cycle}: {msg} (per-test seed {cocotb.RANDOM_SEED})"
        raise (UnexpectedBenchError if self.expect_fail else ProtocolError)(full)

    def read(self, name: str) -> int:
        """Integer value of the DUT pin ``name``."""
        return int(getattr(self.dut, name).value)

    # ----- hooks ------------------------------------------------------------------------------
    def setup(self) -> None:
        """Build the configuration and :attr:`model` from :attr:`params`."""
        raise NotImplementedError

    def idle_pins(self) -> None:
        """Drive the input valid low and garbage on the input data pins."""
        raise NotImplementedError

    def present(self, item: ItemT) -> None:
        """Drive ``item`` on the input pins with the valid high."""
        raise NotImplementedError

    def accept(self, item: ItemT) -> Any:
        """``item`` transfers at the coming edge: feed the model (``self.seq`` is its index)."""
        raise NotImplementedError

    def drained(self) -> bool:
        """Nothing left to present and every expected beat checked."""
        raise NotImplementedError

    def clear_state(self) -> None:
        """Forget everything in flight (called at construction and by a reset)."""
        self.presenting = None
        self.gap_left = None
        self.valid_driven = True  # an item may be on the input pins (see IDLE_ONCE)
        self.out_ready = 0
        self.ready_allowed = False
        self.last_accept = -10
        self.accepted_since_reset = 0

    def reset_ready(self, where: str) -> bool:
        """Whether the reset planned for ``where`` is to be applied in this cycle."""
        raise NotImplementedError

    def reset_pins(self) -> None:
        """Inputs driven when the reset is asserted (default: :meth:`idle_pins`)."""
        self.idle_pins()

    def release_pins(self) -> None:
        """Inputs driven when the reset is released (default: ``out_ready_i`` low)."""
        self.dut.out_ready_i.value = self.out_ready = 0

    def budget(self) -> int:
        """Cycles :meth:`run` may take before the DUT counts as hung."""
        return len(self.plan) * (self.MAX_GAP + 2) * 8 + 200

    async def on_drained(self) -> None:
        """Called once :meth:`run` finds the bench drained (default: nothing)."""

    def plan_control(self) -> bool:
        """Called before :meth:`next_item` looks at the plan: act on control entries at its
        head (pop them: a clear, an erase) or top it up; True keeps the input idle in this
        cycle (default: nothing, False)."""
        return False

    def item_gap(self, item: ItemT) -> int | None:
        """Idle cycles before ``item``; None (the default): random, by :meth:`gap_prob`."""
        return None

    def gap_prob(self) -> float:
        """Probability of a random idle gap before the next item (default: ``idle_prob``)."""
        return self.idle_prob

    # ----- start-up ---------------------------------------------------------------------------
    async def start(self) -> None:
        """Start the clock, hold reset 3 cycles checking the clear, release it."""
        d = self.dut
        Clock(d.clk_i, CLK_PERIOD_NS, unit="ns", impl="gpi").start()
        d.rst_ni.value = 0
        for name in self.ZERO_AT_START:
            getattr(d, name).value = 0
        self.idle_pins()
        for _ in range(3):
            await FallingEdge(d.clk_i)
        await ReadOnly()
        self.check_cleared()
        await FallingEdge(d.clk_i)
        d.rst_ni.value = 1
        await self._check_first_cycle()

    def check_cleared(self) -> None:
        """Every output of :attr:`CLEARED_OUTPUTS` reads zero."""
        bad = {n: self.read(n) for n in self.CLEARED_OUTPUTS if self.read(n)}
        if bad:
            self.fail(f"outputs not cleared by reset: {bad}")

    async def _check_first_cycle(self) -> None:
        await ReadOnly()
        if self.read("in_ready_o"):
            self.fail("in_ready_o high in the first cycle after reset")
        self.ready_allowed = True

    # ----- one clock cycle --------------------------------------------------------------------
    async def next_cycle(self) -> None:
        """Wait for the next falling edge (the start of a bench cycle)."""
        await FallingEdge(self.dut.clk_i)
        self.cycle += 1

    async def idle_cycles(self, n: int) -> None:
        """Let ``n`` cycles pass without driving anything."""
        for _ in range(n):
            await self.next_cycle()

    async def run(self) -> None:
        """Step cycle by cycle until :meth:`drained`, applying planned resets on the way.

        Raises:
            ProtocolError: the budget (:meth:`budget`) ran out: the DUT hangs.
        """
        for _ in range(self.budget()):
            if self.drained():
                await self.on_drained()
                return
            await self.next_cycle()
            if self.reset_plan and self.reset_ready(self.reset_plan[0]):
                await self.reset_mid()
                continue
            self.drive()
            await ReadOnly()
            self.sample()
        self.fail(f"budget exhausted ({len(self.plan)} plan items left): DUT hangs")

    def drive(self) -> None:
        """Falling edge: back-pressure, then the input (:meth:`drive_input`)."""
        self.out_ready = self.backpressure(
            "out_ready_i", self.out_ready, self.rng_out, self.bp_prob
        )
        self.drive_input()

    def sample(self) -> None:
        """``ReadOnly`` phase: check the outputs, apply the transfers of the coming edge."""
        raise NotImplementedError

    def backpressure(self, pin: str, current: int, rng: random.Random, prob: float) -> int:
        """Drive the ready ``pin`` low with probability ``prob``; returns the new level
        (the pin is written only when it changes)."""
        want = int(rng.random() >= prob)
        if want != current:
            getattr(self.dut, pin).value = want
        return want

    def drive_input(self) -> None:
        """Hold a stalled item; else present :meth:`next_item`, or drive :meth:`idle_pins`
        when there is none in this cycle."""
        if self.presenting is not None:
            return  # held while stalled
        item = self.next_item()
        if item is None:
            self.idle_input()
            return
        self.presenting = item
        self.present(item)
        self.valid_driven = True

    def idle_input(self) -> None:
        """No item in this cycle: :meth:`idle_pins` (with :attr:`IDLE_ONCE` only in the first
        idle cycle after an item)."""
        if self.valid_driven or not self.IDLE_ONCE:
            self.idle_pins()
            self.valid_driven = False

    def next_item(self) -> ItemT | None:
        """The item to present in this cycle, taken from the plan; None while
        :meth:`plan_control` keeps the input idle, while the plan is empty and during the idle
        gap before an item. The gap is decided once per item: :meth:`item_gap` cycles, or
        (where that is None) 1 .. :attr:`MAX_GAP` cycles with probability :meth:`gap_prob`,
        else none (bin ``idle_gap`` for a gap)."""
        if self.plan_control() or not self.plan:
            return None
        if self.gap_left is None:
            gap = self.item_gap(self.plan[0])
            if gap is None:
                r = self.rng_drv
                gap = r.randint(1, self.MAX_GAP) if r.random() < self.gap_prob() else 0
            self.gap_left = gap
            if gap:
                self.cov.hit("idle_gap")
        if self.gap_left:
            self.gap_left -= 1
            return None
        self.gap_left = None
        return self.plan.popleft()

    def input_transfer(self, in_ready: bool) -> Any:
        """The presented item transfers if ``in_ready`` (bin ``back_to_back`` for accepts in
        consecutive cycles), else it stalls (bin ``in_stall``).

        Returns:
            What :meth:`accept` returned, or None when nothing transferred.
        """
        if self.presenting is None:
            return None
        if not in_ready:
            self.in_stalls += 1
            self.cov.hit("in_stall")
            return None
        item, self.presenting = self.presenting, None
        if self.cycle == self.last_accept + 1:
            self.cov.hit("back_to_back")
        self.last_accept = self.cycle
        out = self.accept(item)
        self.seq += 1
        self.accepted_since_reset += 1
        return out

    # ----- tests' building blocks -------------------------------------------------------------
    def handshake_bins(self) -> list[str]:
        """Coverage bins the traffic of this bench's ``idle_prob`` / ``bp_prob`` must hit."""
        bins = ["back_to_back"]
        if self.idle_prob:
            bins.append("idle_gap")
        if self.bp_prob:
            bins += ["in_stall", "out_stall"]
        return bins

    async def run_plan(self, items: Iterable[ItemT]) -> int:
        """Queue ``items``, run until drained and check that each gave one output beat;
        without back-pressure the input may never stall during the run.

        Returns:
            The number of items.
        """
        self.plan.extend(items)
        n, done0, stalls0, start = len(self.plan), self.done, self.in_stalls, self.cycle
        await self.run()
        assert self.done - done0 == n, f"{self.done - done0} beats checked, {n} planned"
        stalls = self.in_stalls - stalls0
        if not self.bp_prob:
            assert stalls == 0, f"{stalls} input stalls without back-pressure"
        self.log.info("%d beats in %d cycles", n, self.cycle - start)
        return n

    # ----- reset in the middle ----------------------------------------------------------------
    async def reset_mid(self) -> None:
        """Apply the first reset of :attr:`reset_plan` (bin ``reset_<where>``): assert
        ``rst_ni`` at a falling edge, check the asynchronous clear, re-queue the item being
        presented (it was not accepted), reset the model and the bench state, hold 1 .. 3
        cycles checking the clear, release at a falling edge and check ``in_ready_o`` low in
        the first cycle."""
        where = self.reset_plan.pop(0)
        d = self.dut
        self.log.info("cycle %d: reset (%s)", self.cycle, where)
        self.cov.hit(f"reset_{where}")
        d.rst_ni.value = 0
        self.reset_pins()
        await Timer(1, unit="ns")
        self.check_cleared()
        if self.presenting is not None:
            self.plan.appendleft(self.presenting)
        self.model.reset()
        self.clear_state()
        for _ in range(self.rng_drv.randint(1, 3)):
            await self.next_cycle()
            await ReadOnly()
            self.check_cleared()
        await self.next_cycle()
        d.rst_ni.value = 1
        self.release_pins()
        await self._check_first_cycle()

    async def run_resets(
        self, wheres: Sequence[str], refill: Callable[[], None], *, tries: int = 10
    ) -> None:
        """Apply the resets ``wheres`` in order: up to ``tries`` times ``refill()`` the plan
        and :meth:`run` until all of them happened."""
        self.reset_plan = list(wheres)
        for _ in range(tries):
            refill()
            await self.run()
            if not self.reset_plan:
                return
        raise AssertionError(f"resets never applied: {self.reset_plan}")

    async def reset_when_idle(self, where: str = "idle", idle: int = 2) -> None:
        """After ``idle`` quiet cycles, a reset in the middle with nothing in flight."""
        await self.idle_cycles(idle)
        self.reset_plan = [where]
        await self.reset_mid()

    async def run_reset_scenario(
        self, wheres: Sequence[str], refill: Callable[[], None], then: Iterable[ItemT]
    ) -> None:
        """The reset-in-the-middle test: each reset of ``wheres`` in turn (:meth:`run_resets`
        with ``refill``), one more ``refill()`` run to the end (the DUT drains), a reset while
        idle (bin ``reset_idle``), then ``then`` run to the end."""
        for where in wheres:
            await self.run_resets([where], refill)
        refill()
        await self.run()
        await self.reset_when_idle()
        self.plan.extend(then)
        await self.run()


# ------------------------------------------------------------------------------------------
# pytest entry
# ------------------------------------------------------------------------------------------


def leaf_bench_test(
    toplevel: str,
    param_sets: Mapping[str, Mapping[str, int]],
    bench_file: str,
    *,
    sources: Sequence[Path | str] | None = None,
) -> Callable[[str, dict[str, int], pytest.FixtureRequest], None]:
    """The pytest entry of a leaf bench: one node per simulator x parameter set.

    Assign the result to a ``test_<name>`` variable of the bench module.

    Args:
        toplevel: HDL top module (sources default to ``rtl/<toplevel>.sv``).
        param_sets: parameter-set id -> HDL parameters.
        bench_file: the bench module's ``__file__`` (its folder and module name).
        sources: HDL files, if not the default.
    """
    bench = Path(bench_file)
    srcs = list(sources) if sources is not None else [RTL / f"{toplevel}.sv"]

    @pytest.mark.sim
    @pytest.mark.parametrize("params", list(param_sets.values()), ids=list(param_sets))
    @pytest.mark.parametrize("sim", simulators())
    def entry(sim: str, params: dict[str, int], request: pytest.FixtureRequest) -> None:
        run_bench(
            sim=sim,
            nodeid=request.node.nodeid,
            toplevel=toplevel,
            module=bench.stem,
            sources=srcs,
            parameters=params,
            bench_dir=bench.parent,
        )

    entry.__name__ = entry.__qualname__ = f"test_{toplevel}"
    entry.__doc__ = f"cocotb bench of ``{toplevel}`` on every simulator x parameter set."
    return entry

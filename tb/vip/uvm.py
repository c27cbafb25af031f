"""Reusable pyuvm skeleton of the top-level benches (``cim_prime_top``, ``cim_ode_top``,
``cim_nfield_top``).

A top bench owns one BFM (the only code that touches pins: clock, reset, APB, the streams and
the macro adapters), runs one sequence item per host-level operation (a sample, a run, a batch
of coordinates) and compares each with a hardware model. The pieces that these benches share:

* :class:`TopBfm`: the BFM's common part: the clock start-up with ``rst_ni`` low before the
  first edge, the reset pulse (asserted and released at falling edges, then the top's reset
  synchroniser), APB register access by index (or by name, :meth:`TopBfm.reg_index`) with a
  ``pslverr`` check. Bench hooks: :meth:`TopBfm.start_models`, :meth:`TopBfm.idle_pins`,
  :meth:`TopBfm.after_start`, :meth:`TopBfm.on_reset_assert`, :meth:`TopBfm.on_reset_release`;
* :class:`ListSeq`: one item per entry of a list (entries are items, or are turned into
  items by a factory);
* :class:`BfmDriver`: takes an item, awaits the BFM coroutine named by
  :attr:`BfmDriver.BFM_METHOD`, writes the item to its analysis port, ``item_done``;
* :class:`ItemScoreboard`: errors collected per item (logged, the first one reported), fails
  in ``check_phase`` on any mismatch or when it saw no item although the test expected some;
  the bench gives :meth:`ItemScoreboard.mismatches` (and optionally :meth:`ItemScoreboard.passed`);
* :class:`BenchEnv`: sequencer, driver, scoreboard and (when the test asks) coverage, wired;
* :class:`BfmTest`: builds the BFM and the env, publishes the test's switches through
  ``ConfigDB`` (``BFM``, ``COVERAGE``, ``PERTURB``, ``EXPECT_ITEMS``), logs the seed, starts
  the BFM and runs the test's :meth:`BfmTest.scenario` (default: the sequence of
  :meth:`BfmTest.plan`) under an objection;
* :func:`top_bench_test`: the pytest entry over simulators x parameter sets.

What each bench checks, covers and runs stays in its own module.

Randomness: the BFMs key ``random.Random`` generators by cocotb's per-test seed (logged by
:class:`BfmTest`); ``SEED=<regression seed>`` (``COCOTB_RANDOM_SEED``) reproduces a run.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import cocotb
import pytest
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, FallingEdge, Timer
from pyuvm import (
    ConfigDB,
    UVMConfigItemNotFound,
    uvm_analysis_port,
    uvm_component,
    uvm_driver,
    uvm_env,
    uvm_sequence,
    uvm_sequence_item,
    uvm_sequencer,
    uvm_subscriber,
    uvm_test,
)

from tb.vip.runner import run_bench, simulators

#: Clock period of the top benches [ns].
CLK_NS = 10

_MISSING = object()


def config_get(component: uvm_component, key: str, default: Any = _MISSING) -> Any:
    """``ConfigDB`` value ``key`` seen from ``component``, or ``default`` when it is not set.

    Raises:
        UVMConfigItemNotFound: if it is not set and there is no default.
    """
    try:
        return ConfigDB().get(component, "", key)
    except UVMConfigItemNotFound:
        if default is _MISSING:
            raise
        return default


# ------------------------------------------------------------------------------------------
# BFM
# ------------------------------------------------------------------------------------------
class TopBfm:
    """Common part of a top's BFM: clock, reset, APB register access.

    The top has ``clk_i``, ``rst_ni`` (released through a synchroniser of
    :attr:`RESET_SYNC_CYC` cycles) and an APB slave driven by :class:`tb.vip.apb.ApbMaster`.

    Attributes:
        dut: the cocotb handle of the bench top.
        log: the BFM's logger.
        rng: the BFM's generator (keyed by the test seed).
        apb: the APB master (its own generator, keyed by ``seed + 1``).
    """

    #: Cycles after the release of ``rst_ni`` until the top's synchroniser lets it go.
    RESET_SYNC_CYC: ClassVar[int] = 3

    def __init__(
        self,
        dut: Any,
        seed: int,
        log_name: str,
        apb_idle_cycles: int | tuple[int, int] = (0, 2),
    ) -> None:
        """Args:
        dut: the cocotb handle of the bench top.
        seed: the test seed (keys :attr:`rng` and the APB master's idle gaps).
        log_name: the logger's name.
        apb_idle_cycles: idle cycles between APB transfers (a number, or a random range).
        """
        from tb.vip.apb import ApbMaster

        self.dut = dut
        self.log = logging.getLogger(log_name)
        self.rng = random.Random(seed)
        self.apb = ApbMaster(
            dut, dut.clk_i, rng=random.Random(seed + 1), idle_cycles=apb_idle_cycles
        )

    # -- hooks ---------------------------------------------------------------------------
    def start_models(self) -> None:
        """Start the macro models (adapters) once the clock runs."""

    def idle_pins(self) -> None:
        """Drive the bench's inputs to idle at start-up (APB aside)."""

    def after_start(self) -> None:
        """Start background monitors after the first reset."""

    def on_reset_assert(self) -> None:
        """Inputs (and bench state) to clear when ``rst_ni`` goes low (APB aside)."""

    def on_reset_release(self) -> None:
        """Bench state to update at the edge where ``rst_ni`` is released."""

    def reg_index(self, reg: str | int) -> int:
        """Register index of ``reg`` (here only indices; a bench may resolve names)."""
        if isinstance(reg, str):
            raise KeyError(f"register {reg!r}: this bench addresses registers by index")
        return reg

    # -- clock and reset -----------------------------------------------------------------
    async def start(self) -> None:
        """``rst_ni`` low before the first edge (no block sees X state), the clock, the
        models, idle inputs, a reset, then the background monitors."""
        d = self.dut
        d.rst_ni.value = 0
        await Timer(1, "ns")
        Clock(d.clk_i, CLK_NS, unit="ns", impl="gpi").start()
        self.start_models()
        self.idle_pins()
        self.apb.drive_idle()
        await self.reset()
        self.after_start()

    async def reset(self, cycles: int = 3) -> None:
        """Assert ``rst_ni`` at a falling edge for ``cycles`` cycles, release it at a falling
        edge and wait for the top's reset synchroniser."""
        d = self.dut
        await FallingEdge(d.clk_i)
        d.rst_ni.value = 0
        self.apb.drive_idle()
        self.on_reset_assert()
        await ClockCycles(d.clk_i, cycles)
        await FallingEdge(d.clk_i)
        self.on_reset_release()
        d.rst_ni.value = 1
        await ClockCycles(d.clk_i, self.RESET_SYNC_CYC)

    # -- registers -----------------------------------------------------------------------
    async def write(self, reg: str | int, value: int, expect_error: bool = False) -> None:
        """APB write of ``value`` to register ``reg``; fails unless ``pslverr`` is as expected."""
        err = await self.apb.write(4 * self.reg_index(reg), value)
        if err != expect_error:
            raise AssertionError(
                f"APB write of {value:#x} to register {reg}: pslverr = {int(err)}, "
                f"expected {int(expect_error)}"
            )

    async def read(self, reg: str | int, expect_error: bool = False) -> int:
        """APB read of register ``reg``; fails unless ``pslverr`` is as expected."""
        data, err = await self.apb.read(4 * self.reg_index(reg))
        if err != expect_error:
            raise AssertionError(f"APB read of register {reg}: pslverr = {int(err)}")
        return data


# ------------------------------------------------------------------------------------------
# pyuvm components
# ------------------------------------------------------------------------------------------
class ListSeq(uvm_sequence):
    """Starts one item per entry of a list, in order.

    Args:
        name: the sequence's name.
        entries: the items, or the entries that ``make`` turns into items.
        make: item factory (None: the entries are the items).
    """

    def __init__(
        self,
        name: str,
        entries: Sequence[Any],
        make: Callable[[Any], uvm_sequence_item] | None = None,
    ) -> None:
        super().__init__(name)
        self.entries = list(entries)
        self.make = make

    async def body(self) -> None:
        for entry in self.entries:
            item = self.make(entry) if self.make is not None else entry
            await self.start_item(item)
            await self.finish_item(item)


class BfmDriver(uvm_driver):
    """Runs every item through the BFM coroutine :attr:`BFM_METHOD` (``ConfigDB`` ``BFM``),
    then writes it to :attr:`ap` (scoreboard, coverage)."""

    #: Name of the BFM coroutine that executes one item (``async def m(item) -> None``).
    BFM_METHOD: ClassVar[str] = ""

    def build_phase(self) -> None:
        self.ap = uvm_analysis_port("ap", self)
        self.bfm = ConfigDB().get(self, "", "BFM")

    def before(self, item: uvm_sequence_item) -> None:
        """Hook: work on the item before the BFM runs it (e.g. the model's prediction)."""

    async def run_phase(self) -> None:
        run_item = getattr(self.bfm, self.BFM_METHOD)
        while True:
            item = await self.seq_item_port.get_next_item()
            self.before(item)
            await run_item(item)
            self.ap.write(item)
            self.seq_item_port.item_done()


class ItemScoreboard(uvm_subscriber):
    """Compares every item with the bench's model; fails in ``check_phase`` on a mismatch.

    ``ConfigDB``: ``BFM`` (:attr:`bfm`), ``PERTURB`` (:attr:`perturb`, default 0: a wrong
    model the bench injects for its expect-fail test), ``EXPECT_ITEMS`` (default True: a run
    without any item fails).
    """

    #: What an item is, in the messages ("sample", "run", ...).
    NOUN: ClassVar[str] = "item"

    def build_phase(self) -> None:
        self.bfm = ConfigDB().get(self, "", "BFM")
        self.perturb = config_get(self, "PERTURB", 0)
        self.expect_items = config_get(self, "EXPECT_ITEMS", True)
        self.errors: list[str] = []
        self.n = 0
        self.results: list[dict] = []

    def mismatches(self, item: Any) -> list[str]:
        """The item's differences from the model (empty: equal)."""
        raise NotImplementedError

    def where(self, item: Any) -> str:
        """The item and the seed, for the messages."""
        return f"{item} (seed {cocotb.RANDOM_SEED})"

    def passed(self, where: str, item: Any) -> None:
        """Hook: log an item that equals the model."""

    def write(self, item: Any) -> None:
        self.n += 1
        where = self.where(item)
        errs = self.mismatches(item)
        if errs:
            self.errors.append(f"{where}: " + "; ".join(errs))
            self.logger.error("%s: %s", where, errs[0])
        else:
            self.passed(where, item)

    def check_phase(self) -> None:
        if self.n == 0 and self.expect_items:
            raise AssertionError(f"the scoreboard saw no {self.NOUN}")
        if self.errors:
            raise AssertionError(
                f"{len(self.errors)} {self.NOUN}(s) differ; first: {self.errors[0]}"
            )


class BenchEnv(uvm_env):
    """Sequencer, :attr:`DRIVER`, :attr:`SCOREBOARD` and, when ``ConfigDB`` ``COVERAGE`` is
    true, :attr:`COVERAGE`; the driver's analysis port feeds the scoreboard and coverage."""

    DRIVER: ClassVar[type[BfmDriver]]
    SCOREBOARD: ClassVar[type[uvm_subscriber]]
    COVERAGE: ClassVar[type[uvm_subscriber] | None] = None

    def build_phase(self) -> None:
        self.seqr = uvm_sequencer("seqr", self)
        self.driver = self.DRIVER("driver", self)
        self.scoreboard = self.SCOREBOARD("scoreboard", self)
        with_cov = self.COVERAGE is not None and config_get(self, "COVERAGE", False)
        self.coverage = self.COVERAGE("coverage", self) if with_cov else None

    def connect_phase(self) -> None:
        self.driver.seq_item_port.connect(self.seqr.seq_item_export)
        self.driver.ap.connect(self.scoreboard.analysis_export)
        if self.coverage is not None:
            self.driver.ap.connect(self.coverage.analysis_export)


class BfmTest(uvm_test):
    """Builds the BFM (:meth:`make_bfm`) and :attr:`ENV`; runs :meth:`scenario` after the
    BFM's start-up, under an objection; :attr:`wall_s` is the scenario's wall time [s].

    Switches of a test (class attributes, published through ``ConfigDB``): :attr:`coverage`
    (``COVERAGE``), :attr:`perturb` (``PERTURB``), :attr:`expect_items` (``EXPECT_ITEMS``).
    """

    ENV: ClassVar[type[BenchEnv]]
    #: Build the coverage collector (it fails the test on holes).
    coverage: ClassVar[bool] = False
    #: A deliberately wrong model for the scoreboard (0: the true model).
    perturb: ClassVar[int] = 0
    #: The scoreboard must see at least one item.
    expect_items: ClassVar[bool] = True

    def make_bfm(self) -> TopBfm:
        """The bench's BFM on ``cocotb.top``."""
        raise NotImplementedError

    def build_phase(self) -> None:
        self.bfm = self.make_bfm()
        self.logger.info(
            "test seed %d (derived from the run's seed, which cocotb logs at start-up as "
            "'Seeding Python random module with ...'; SEED=<it> reproduces the run)",
            cocotb.RANDOM_SEED,
        )
        ConfigDB().set(None, "*", "BFM", self.bfm)
        ConfigDB().set(None, "*", "COVERAGE", self.coverage)
        ConfigDB().set(None, "*", "PERTURB", self.perturb)
        ConfigDB().set(None, "*", "EXPECT_ITEMS", self.expect_items)
        self.env = self.ENV("env", self)

    def plan(self) -> list[Any]:
        """The entries of the default scenario's sequence."""
        raise NotImplementedError

    def make_item(self, entry: Any) -> uvm_sequence_item:
        """The sequence item of a plan entry (default: the entry is the item)."""
        return entry

    async def run_plan(self, plan: Sequence[Any]) -> None:
        """Run ``plan``'s items through the env's sequencer."""
        await ListSeq("seq", plan, self.make_item).start(self.env.seqr)

    async def scenario(self) -> None:
        """The test's stimulus (default: the items of :meth:`plan`)."""
        await self.run_plan(self.plan())

    def note(self, line: str) -> None:
        """Hook: a progress line besides the log (default: none)."""

    async def run_phase(self) -> None:
        self.raise_objection()
        await self.bfm.start()
        name = type(self).__name__
        self.note(f"{name} started")
        t0 = time.perf_counter()
        await self.scenario()
        self.wall_s = time.perf_counter() - t0
        self.logger.info("%s: %.1f s", name, self.wall_s)
        self.note(f"{name} done in {self.wall_s:.1f} s")
        self.drop_objection()


# ------------------------------------------------------------------------------------------
# pytest entry
# ------------------------------------------------------------------------------------------
def top_bench_test(
    toplevel: str,
    param_sets: Mapping[str, Mapping[str, int]],
    bench_file: str,
    sources: Callable[[], Sequence[Path | str]],
    *,
    parameters: Callable[[Mapping[str, int]], Mapping[str, int]] | None = None,
    extra_env: Callable[[str], Mapping[str, str]] | None = None,
    doc: str | None = None,
) -> Callable[[str, str, pytest.FixtureRequest], None]:
    """The pytest entry of a top bench: one node per simulator x parameter set (``[sim-set]``).

    Assign the result to a ``test_<bench module>`` variable of the bench module. The bench
    runs with ``icarus_always_star`` (see :func:`tb.vip.runner.run_bench`).

    Args:
        toplevel: HDL top module (the bench wrapper ``tb_<block>``).
        param_sets: parameter-set id -> the set's parameters.
        bench_file: the bench module's ``__file__`` (its folder and module name).
        sources: the HDL files (called at run time).
        parameters: the HDL parameters of a set (default: the set itself).
        extra_env: further environment of the simulation for a set id (default: none).
        doc: the entry's docstring.
    """
    bench = Path(bench_file)

    @pytest.mark.sim
    @pytest.mark.parametrize("pset", list(param_sets))
    @pytest.mark.parametrize("sim", simulators())
    def entry(sim: str, pset: str, request: pytest.FixtureRequest) -> None:
        pars = param_sets[pset]
        run_bench(
            sim=sim,
            nodeid=request.node.nodeid,
            toplevel=toplevel,
            module=bench.stem,
            sources=sources(),
            parameters=dict(parameters(pars) if parameters is not None else pars),
            bench_dir=bench.parent,
            extra_env=dict(extra_env(pset)) if extra_env is not None else None,
            icarus_always_star=True,
        )

    entry.__name__ = entry.__qualname__ = f"test_{bench.stem.removeprefix('test_')}"
    entry.__doc__ = doc or f"cocotb bench of ``{toplevel}`` on every simulator x parameter set."
    return entry

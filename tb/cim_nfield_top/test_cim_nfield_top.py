"""pyuvm bench of ``cim_nfield_top``: the tiny CT field programmed and evaluated through the RTL.

The field is the shipped tiny CT checkpoint (:func:`rramcim.apps.nfield.train.load_ct_tiny`,
3 + 16 -> 16 -> 4 -> 16 -> 1). :func:`rramcim.apps.nfield.hw.map_field` maps it (the hardware
model); independently, fresh MLP macros (:func:`rramcim.apps.nfield.rtl.fresh_macros`) are
programmed *through the top* with the host plan :func:`rramcim.apps.nfield.rtl.program_plan`
over APB (raw RESET / VERIFY / SET, HAQ_TGT), the RTL's cim_haq_quant driving the macros'
program ports. The macros are :class:`rramcim.cosim.xbar.KeyedReadAdapter` objects with
``program=True`` (MLP) or read-only (encoder, the hardware model's own encoder macro); read keys
are :class:`rramcim.cosim.xbar.ResetEpochKeys` (reads numbered from 0 after each reset, epoch =
resets seen), which is golden item 11 with ``first_vector`` = coordinates since the reset.
The pyuvm skeleton (BFM clock/reset/APB part, sequence, driver, scoreboard base, env, test,
pytest entry) is :mod:`tb.vip.uvm`; this module holds the field-specific parts.

Programming happens once per simulation (module-level cache: the analogue state lives in the
Python macro objects and survives a reset); the other tests reuse it. Should the RTL programming
fail, the evaluation tests still run on copies of the hardware model's macros (the failure is
reported by the programming test).

Testplan (feature -> test):
    raw RESET/SET/VERIFY with column advance, PROG_VERIFY, HAQ FIFO,
      cim_haq_quant on the macros; conductances, verify codes, targets,
      HAQ_LAST / HAQ_ACC / HAQ_WEIGHTS / HAQ_TIMEOUTS / PROG_OPS            -> NfieldProgramTest
    coordinates of a 16 x 16 CT patch, random gaps and out back-pressure;
      outputs bit-exact with the hardware model; counters                 -> NfieldEvalTest
    ID, unmapped address, RO write, refused PROG_CMD while HAQ queued,
      CSR_ERRS / CSR_ERR_ADDR / CLEAR, cfg_err holds coordinates (none
      lost when it clears)                                                -> NfieldCsrTest
    reset in the middle of an evaluation, new epoch, reads from 0         -> NfieldResetTest
    the checker catches a wrong model (ENC_GAIN off by one LSB)           -> NfieldExpectFailTest
Coverage (named bins, checked by the last test, fails on holes): out back-pressure, coordinate
gap, every stage (encoder, layers 0..3), ACT clamp, SIN saturation, ADC saturation, raw VERIFY,
HAQ weight with a zero target, refused command, cfg_err wait, reset in an evaluation.

Environment: ``RRAMCIM_NFIELD_COORDS`` (coordinates of the evaluation test, default 256: a
16 x 16 patch). ``COCOTB_RANDOM_SEED`` reproduces a run (the seed is logged).
"""

from __future__ import annotations

import copy
import dataclasses
import logging
import os
import random
import time
from pathlib import Path

import cocotb
import numpy as np
import pyuvm
from cocotb.triggers import ClockCycles, Edge, FallingEdge, ReadOnly, RisingEdge
from pyuvm import ConfigDB, uvm_sequence_item, uvm_subscriber

from rramcim.apps.nfield.rtl import EVAL_COUNTERS
from rramcim.fixedpoint import from_unsigned
from tb.vip.params import param
from tb.vip.uvm import (
    CLK_NS,
    BenchEnv,
    BfmDriver,
    BfmTest,
    ItemScoreboard,
    TopBfm,
    top_bench_test,
)

HERE = Path(__file__).resolve().parent
MAX_CYCLES_PER_COORD = 20_000
POLL_LIMIT = 10_000

COUNTERS = EVAL_COUNTERS  # the datapath counters compared with the hardware model

#: Coverage bins (hits accumulate over the tests of one simulation).
BINS = (
    "out back-pressure",
    "coordinate gap",
    "stage encoder",
    "stage layer 0",
    "stage layer 1",
    "stage layer 2",
    "stage layer 3",
    "ACT clamp",
    "SIN saturation",
    "ADC saturation",
    "raw VERIFY",
    "HAQ zero target",
    "refused command",
    "cfg_err wait",
    "reset in an evaluation",
)
HITS: dict[str, int] = {}


def progress(line: str) -> None:
    """Append a line to ``RRAMCIM_NFIELD_PROGRESS`` (a live view of a long run; cocotb-test
    prints the simulation's log only at the end)."""
    path = os.environ.get("RRAMCIM_NFIELD_PROGRESS")
    if path:
        with open(path, "a") as f:
            f.write(f"{time.strftime('%H:%M:%S')} {line}\n")


def hit(name: str, n: int = 1) -> None:
    """Count a coverage bin."""
    if name not in BINS:
        raise KeyError(f"unknown coverage bin {name!r}")
    if n:
        HITS[name] = HITS.get(name, 0) + n


# ------------------------------------------------------------------------------------------
# Golden side, built once per simulation
# ------------------------------------------------------------------------------------------
class Context:
    """The hardware model of the tiny field, the RTL's macros and their read keys."""

    def __init__(self, log: logging.Logger) -> None:
        import torch

        from rramcim.apps.nfield import rtl
        from rramcim.apps.nfield.hw import map_field
        from rramcim.apps.nfield.train import load_ct_tiny
        from rramcim.cosim.xbar import ResetEpochKeys
        from rramcim.golden.nfield_top import NfieldHwConfig

        torch.set_num_threads(1)
        t0 = time.perf_counter()
        self.net, info = load_ct_tiny()
        seed = int(info["config"]["encoder_seed"])
        self.hw = map_field(self.net, NfieldHwConfig(encoder_seed=seed))
        self.macros = rtl.fresh_macros(self.hw)
        rtl.check_nominal_codes(self.macros, self.hw)
        self.regs = rtl.top_registers(self.hw)
        self.enc_keys = ResetEpochKeys()
        self.mlp_keys = [ResetEpochKeys() for _ in self.macros]
        self.programmed = False
        self.program_error = ""
        self.record = None
        self.prog_counters: dict[str, int] = {}
        self.prog_status = 0
        self.prog_wall_s = 0.0
        self.adapter_errors: list[str] = []
        log.info("hardware model of the tiny CT field mapped in %.2f s", time.perf_counter() - t0)

    def epoch(self) -> int:
        return self.enc_keys.epoch

    def fallback(self) -> None:
        """The RTL programming failed: give the adapters the hardware model's cell states."""
        for m, ref in zip(self.macros, self.hw.macros, strict=True):
            m.__dict__.update(copy.deepcopy(ref).__dict__)
        self.programmed = True


_CTX: Context | None = None


def context(log: logging.Logger) -> Context:
    global _CTX
    if _CTX is None:
        _CTX = Context(log)
    return _CTX


# ------------------------------------------------------------------------------------------
# Sequence item, BFM (the only code that touches pins)
# ------------------------------------------------------------------------------------------
class EvalItem(uvm_sequence_item):
    """A batch of coordinates (unsigned codes ``[V, N_IN]``) and what the RTL returned."""

    def __init__(self, name: str, codes: np.ndarray, p_gap: float = 0.3, p_stall: float = 0.3):
        super().__init__(name)
        self.codes = np.asarray(codes, dtype=np.int64)
        self.p_gap, self.p_stall = p_gap, p_stall
        self.first_vector = 0
        self.epoch = 0
        self.outs: list[tuple[int, int, int]] = []  # (data, idx, last)
        self.counters: dict[str, int] = {}
        self.gaps = 0
        self.stalls = 0
        self.status = 0
        self.cycles = 0
        self.error = ""
        self.prefetch = (0, 0)  # reads served from the batch / computed live

    def __str__(self) -> str:
        return f"{self.get_name()} ({len(self.codes)} coordinates, epoch {self.epoch})"


class NfieldBfm(TopBfm):
    """Pins of the top: clock, reset, APB, coordinate source, out sink, macro adapters."""

    def __init__(self, dut, seed: int) -> None:  # noqa: ANN001
        from rramcim.cosim.xbar import KeyedReadAdapter

        super().__init__(dut, seed, "cocotb.nfield.bfm", apb_idle_cycles=0)
        self.ctx = context(self.log)
        self.out_w = param("OUT_W")
        self.n_in = param("N_IN")
        self.coord_bits = param("COORD_BITS")
        t_conv = param("T_CONV_CYC")
        c = self.ctx
        self.enc = KeyedReadAdapter(
            dut.u_enc, dut.clk_i, dut.rst_ni, c.hw.enc_macro, c.enc_keys, t_conv, None, CLK_NS
        )
        self.mlp = [
            KeyedReadAdapter(
                getattr(dut, f"u_mlp{li}"),
                dut.clk_i,
                dut.rst_ni,
                m,
                c.mlp_keys[li],
                t_conv,
                None,
                CLK_NS,
                program=True,
            )
            for li, m in enumerate(c.macros)
        ]
        self.vec = 0  # coordinates taken since the last reset
        self.stages: set[int] = set()
        self._src_stop = False

    def start_models(self) -> None:
        for a in (self.enc, *self.mlp):
            a.start()

    def idle_pins(self) -> None:
        d = self.dut
        d.coord_valid_i.value = 0
        d.coord_data_i.value = 0
        d.out_ready_i.value = 0

    def after_start(self) -> None:
        cocotb.start_soon(self._watch_stage())

    async def _watch_stage(self) -> None:
        d = self.dut
        while True:
            await Edge(d.stage_o)
            v = d.stage_o.value
            if v.is_resolvable:
                self.stages.add(int(v))

    def on_reset_assert(self) -> None:
        self.vec = 0
        self.dut.coord_valid_i.value = 0

    def on_reset_release(self) -> None:
        # the new epoch starts here, not at the falling edge of rst_n: an adapter woken at that
        # same edge may still see rst_n = 1 and key a read that the reset then cuts
        for k in (self.ctx.enc_keys, *self.ctx.mlp_keys):
            k.new_epoch()

    def errors(self) -> list[str]:
        return [e for a in (self.enc, *self.mlp) for e in a.errors]

    # -- registers ---------------------------------------------------------------------------
    def reg_index(self, reg: str | int) -> int:
        """Registers by name (:data:`rramcim.apps.nfield.rtl.REG`) or index."""
        from rramcim.apps.nfield.rtl import REG

        return REG[reg] if isinstance(reg, str) else reg

    async def configure(self) -> None:
        for name, v in self.ctx.regs:
            await self.write(name, v)

    async def counters(self, names: tuple[str, ...] = COUNTERS) -> dict[str, int]:
        return {k: await self.read(k) for k in names}

    # -- programming -------------------------------------------------------------------------
    async def _do(self, op) -> int | None:  # noqa: ANN001 (PlanOp)
        from rramcim.apps.nfield.rtl import REG, ReadVerify, WaitHaq, Write

        if isinstance(op, Write):
            await self.write(op.reg, op.value)
            return None
        if isinstance(op, ReadVerify):
            for _ in range(POLL_LIMIT):
                # one idle cycle: the answer of a VERIFY lands 3 cycles after its PROG_CMD
                v, err = await self.apb.read(4 * REG["PROG_VERIFY"], idle=1)
                if err:
                    raise AssertionError("APB read of PROG_VERIFY: pslverr")
                if v >> 31:
                    return v & 0xFFFF
            raise AssertionError("PROG_VERIFY never valid after a VERIFY")
        if isinstance(op, WaitHaq):
            for _ in range(POLL_LIMIT):
                st = await self.read("STATUS")
                if st >> 16 <= op.max_level and not (op.idle and st & 2):
                    return None
            raise AssertionError(f"HAQ never reached {op} (STATUS {st:#x})")
        raise TypeError(f"unknown plan operation {op!r}")

    async def program(self) -> None:
        """Run the host programming plan through the top (once per simulation)."""
        from rramcim.apps.nfield import rtl

        c = self.ctx
        t0 = time.perf_counter()
        await self.configure()
        plan = rtl.program_plan(c.hw, c.net, param("HAQ_FIFO_DEPTH"))
        n = 0
        try:
            op = next(plan)
            while True:
                op = plan.send(await self._do(op))
                n += 1
                if n % 5000 == 0:
                    progress(f"programming: {n} bus operations, {time.perf_counter() - t0:.1f} s")
        except StopIteration as stop:
            c.record = stop.value
        for a in self.mlp:
            a.flush()
        c.prog_wall_s = time.perf_counter() - t0
        c.prog_counters = await self.counters(
            ("HAQ_LAST", "HAQ_ACC", "HAQ_WEIGHTS", "HAQ_TIMEOUTS", "PROG_OPS", "CSR_ERRS")
        )
        c.prog_status = await self.read("STATUS")
        c.adapter_errors = self.errors()

    async def ensure_programmed(self) -> None:
        """Program the macros through the RTL unless done; on failure use the model's state."""
        c = self.ctx
        if c.programmed:
            return
        try:
            await self.program()
            rtl_finish(c)
        except AssertionError as e:
            c.program_error = str(e)
        c.programmed = True
        if c.program_error:
            self.log.error("RTL programming failed: %s", c.program_error)
            for a in self.mlp:
                a.flush()
            c.fallback()
            await self.reset()
        if c.record is not None:  # the raw VERIFYs of the plan (HAQ's own verifies aside)
            hit("raw VERIFY", sum(v.size for v in c.record.neg_verify + c.record.ref_verify))
        hit("HAQ zero target", sum(p.zero_targets for p in c.hw.programs))

    # -- evaluation --------------------------------------------------------------------------
    async def _source(self, item: EvalItem) -> None:
        d = self.dut
        await FallingEdge(d.clk_i)
        i = 0
        while i < len(item.codes) and not self._src_stop:
            if self.rng.random() < item.p_gap:
                d.coord_valid_i.value = 0
                item.gaps += 1
                await FallingEdge(d.clk_i)
                continue
            word = 0
            for j, v in enumerate(item.codes[i]):
                word |= int(v) << (j * self.coord_bits)
            d.coord_valid_i.value = 1
            d.coord_data_i.value = word
            while True:  # hold the beat until it transfers
                await ReadOnly()
                if int(d.coord_ready_o.value):
                    await FallingEdge(d.clk_i)
                    break
                await RisingEdge(d.coord_ready_o)
                await FallingEdge(d.clk_i)
                if self._src_stop:
                    break
            i += 1
            self.vec += 1
        d.coord_valid_i.value = 0

    async def _sink(self, item: EvalItem, n_beats: int) -> None:
        d = self.dut
        limit = MAX_CYCLES_PER_COORD * max(1, len(item.codes))
        cycles = 0
        await FallingEdge(d.clk_i)
        while len(item.outs) < n_beats:
            rdy = int(self.rng.random() >= item.p_stall)
            d.out_ready_i.value = rdy
            await ReadOnly()
            if int(d.out_valid_o.value):
                if rdy:
                    item.outs.append(
                        (
                            from_unsigned(int(d.out_data_o.value), self.out_w),
                            int(d.out_idx_o.value),
                            int(d.out_last_o.value),
                        )
                    )
                else:
                    item.stalls += 1
                await FallingEdge(d.clk_i)
                cycles += 1
            else:
                t0 = cocotb.utils.get_sim_time("ns")
                await RisingEdge(d.out_valid_o)  # nothing to take: no per-cycle work
                await FallingEdge(d.clk_i)
                cycles += int((cocotb.utils.get_sim_time("ns") - t0) // CLK_NS) + 1
            if cycles > limit:
                item.error = f"only {len(item.outs)} of {n_beats} output beats"
                break
        d.out_ready_i.value = 0
        item.cycles = cycles

    async def run_eval(self, item: EvalItem) -> None:
        """Stream the item's coordinates and collect the outputs and the counters."""
        from rramcim.apps.nfield import rtl

        c = self.ctx
        await self.ensure_programmed()
        await self.configure()
        item.first_vector, item.epoch = self.vec, c.epoch()
        # the reads of this item computed ahead in batches (a read whose key, group or word
        # lines differ from the batch's is computed live, so this does not weaken the check)
        pre = rtl.PrefetchedReads(c.hw, item.codes, item.epoch, item.first_vector)
        for i, a in enumerate((self.enc, *self.mlp)):
            a.lookup = pre.lookup_for(i)
        before = await self.counters()
        n_out = c.hw.consts.layers[-1].n_out
        src = cocotb.start_soon(self._source(item))
        await self._sink(item, len(item.codes) * n_out)
        await src
        item.status = await self.read("STATUS")
        for a in (self.enc, *self.mlp):
            a.lookup = None
        item.prefetch = (pre.hits, pre.misses)
        after = await self.counters()
        item.counters = {k: after[k] - before[k] for k in after}


def rtl_finish(c: Context) -> None:
    """Check the RTL-programmed macros against the hardware model, then copy the full scale."""
    from rramcim.apps.nfield import rtl

    try:
        rtl.finish_macros(c.hw, c.macros)
    except ValueError as e:
        raise AssertionError(str(e)) from None


# ------------------------------------------------------------------------------------------
# pyuvm components
# ------------------------------------------------------------------------------------------
class NfieldDriver(BfmDriver):
    """Runs every batch of coordinates through :meth:`NfieldBfm.run_eval`."""

    BFM_METHOD = "run_eval"


def expected(c: Context, item: EvalItem, wrong: bool):  # noqa: ANN201 (NfieldResult)
    """The hardware model's result for the item (optionally a deliberately wrong model)."""
    from rramcim.golden.nfield_top import run_nfield

    k = c.hw.consts
    if wrong:
        k = dataclasses.replace(k, enc_gain=k.enc_gain + 1)
    return run_nfield(
        c.hw.enc_macro,
        c.hw.macros,
        k,
        item.codes,
        first_vector=item.first_vector,
        epoch=item.epoch,
        keep=True,
    )


def golden_counters(c: Context, r, n: int) -> dict[str, int]:  # noqa: ANN001
    """The RTL counters the golden result predicts for ``n`` coordinates."""
    cfg = c.hw.cfg
    reads_e = cfg.coord_bits * c.hw.enc_macro.cfg.n_groups
    reads_m = sum(
        lc.in_bits * m.cfg.n_groups for lc, m in zip(c.hw.consts.layers, c.hw.macros, strict=True)
    )
    return {
        "COORDS": n,
        "ENC_READS": n * reads_e,
        "MLP_READS": n * reads_m,
        "ADC_SAT": r.total("adc_sat_flags"),
        "PRE_CLAMP": r.total("pre_clamp"),
        "COMB_SAT": r.total("comb_sat") + r.total("offset_clamp"),
        "SIN_SAT": r.total("cordic_sat"),
        "ACT_CLAMP": r.total("act_clamp"),
        "OUT_SAT": r.total("out_sat"),
    }


class NfieldScoreboard(ItemScoreboard):
    """Compares every output code and the counters with the hardware model (``perturb``: the
    wrong model of :func:`expected`)."""

    def where(self, item: EvalItem) -> str:
        return f"{item} (seed {cocotb.RANDOM_SEED}, first_vector {item.first_vector})"

    def mismatches(self, item: EvalItem) -> list[str]:
        c = self.bfm.ctx
        r = expected(c, item, bool(self.perturb))
        n_out = r.out.shape[1]
        errs = []
        if item.error:
            errs.append(item.error)
        for b, (data, idx, last) in enumerate(item.outs):
            v, j = divmod(b, n_out)
            want = int(r.out[v, j])
            if data != want or idx != j or last != int(j == n_out - 1):
                y = r.stages[f"y{len(c.hw.consts.layers) - 1}"][v].tolist()
                errs.append(
                    f"coordinate {v} (code {item.codes[v].tolist()}) output {j}: RTL {data} "
                    f"(idx {idx}, last {last}) != model {want}; model last-layer y {y}, "
                    f"encoder acc {r.stages['enc_acc'][v].tolist()}"
                )
                break
        want_c = golden_counters(c, r, len(item.codes))
        bad = {k: (item.counters[k], v) for k, v in want_c.items() if item.counters[k] != v}
        if bad:
            errs.append(f"counters (RTL, model) {bad}")
        if item.status & 0xE8:  # csr error, HAQ timeout, ADC timeout, HAQ cfg error
            errs.append(f"STATUS error flags {item.status:#x}")
        if self.bfm.errors():
            errs.append(f"adapter errors {self.bfm.errors()[:3]}")
        return errs

    def passed(self, where: str, item: EvalItem) -> None:
        self.logger.info(
            "%s: %d outputs equal, %d cycles, %d gaps, %d stalls, reads batched / live "
            "%d / %d, counters %s",
            where,
            len(item.outs),
            item.cycles,
            item.gaps,
            item.stalls,
            *item.prefetch,
            item.counters,
        )


class NfieldCoverage(uvm_subscriber):
    """Feeds the module-level coverage bins from the evaluated items."""

    def build_phase(self) -> None:
        self.bfm = ConfigDB().get(self, "", "BFM")

    def write(self, item: EvalItem) -> None:
        hit("out back-pressure", item.stalls)
        hit("coordinate gap", item.gaps)
        for name, key in (
            ("ACT clamp", "ACT_CLAMP"),
            ("SIN saturation", "SIN_SAT"),
            ("ADC saturation", "ADC_SAT"),
        ):
            hit(name, item.counters.get(key, 0))
        for s in self.bfm.stages:
            if s == 1:
                hit("stage encoder")
            elif 2 <= s <= 5:
                hit(f"stage layer {s - 2}")


class NfieldEnv(BenchEnv):
    """Driver, scoreboard and coverage (every test feeds the bins)."""

    DRIVER = NfieldDriver
    SCOREBOARD = NfieldScoreboard
    COVERAGE = NfieldCoverage


def patch_codes(n: int, rng: random.Random) -> np.ndarray:
    """Codes of ``n`` coordinates: a square patch of the 128 x 128 CT pixel grid (row-major),
    extra rows when ``n`` is not a square."""
    from rramcim.apps.nfield.ct import pixel_coords
    from rramcim.golden.nfield_top import coord_codes

    side = max(1, int(np.ceil(np.sqrt(n))))
    r0, c0 = rng.randint(32, 96 - side), rng.randint(32, 96 - side)
    xy = pixel_coords(128).double().numpy().reshape(128, 128, 3)
    patch = xy[r0 : r0 + side, c0 : c0 + side].reshape(-1, 3)[:n]
    return coord_codes(patch, param("COORD_BITS"))


class NfieldBaseTest(BfmTest):
    """Builds the BFM and the environment; subclasses run their scenario."""

    ENV = NfieldEnv
    coverage = True

    def make_bfm(self) -> NfieldBfm:
        return NfieldBfm(cocotb.top, cocotb.RANDOM_SEED)

    def note(self, line: str) -> None:
        progress(line)


@pyuvm.test(timeout_time=20, timeout_unit="ms")
class NfieldProgramTest(NfieldBaseTest):
    """Programming through the top equals map_field's bit for bit; then a short evaluation."""

    async def scenario(self) -> None:
        b = self.bfm
        c = b.ctx
        await b.ensure_programmed()
        self.bfm.log.info("programming through the RTL: %.1f s", c.prog_wall_s)
        errs = []
        if c.program_error:
            errs.append(c.program_error)
        rec = c.record
        if rec is not None:
            for li, p in enumerate(c.hw.programs):
                for what, got, want in (
                    ("G- verify codes", rec.neg_verify[li], p.neg_verify),
                    ("reference verify codes", rec.ref_verify[li], p.ref_verify),
                    ("targets", rec.targets[li], p.targets),
                ):
                    if not np.array_equal(got, want):
                        i = tuple(np.argwhere(got != want)[0])
                        errs.append(f"layer {li} {what} differ first at {i}: {got[i]} != {want[i]}")
        pc = c.prog_counters
        if pc:
            last = c.hw.programs[-1]
            n_w = sum(p.targets.size for p in c.hw.programs)
            bits = int(last.bits[-1, -1])
            acc = int(last.acc[-1, -1]) & 0xFFFFFFFF
            if pc["HAQ_LAST"] != (1 << 31 | bits):
                errs.append(f"HAQ_LAST {pc['HAQ_LAST']:#x}, expected bits {bits:#x} + valid")
            if pc["HAQ_ACC"] != acc:
                errs.append(f"HAQ_ACC {pc['HAQ_ACC']:#x}, expected {acc:#x}")
            if pc["HAQ_WEIGHTS"] != n_w or pc["HAQ_TIMEOUTS"] or pc["CSR_ERRS"]:
                errs.append(f"HAQ counters {pc}, expected {n_w} weights, no timeout, no error")
            raw = sum(
                2 * m.cfg.rows * m.cfg.cols + m.cfg.rows * (lc.ref_col + 1) + 2 * m.cfg.rows
                for lc, m in zip(c.hw.consts.layers, c.hw.macros, strict=True)
            )
            if pc["PROG_OPS"] != raw:
                errs.append(f"PROG_OPS {pc['PROG_OPS']}, expected {raw}")
        if c.adapter_errors:
            errs.append(f"adapter errors {c.adapter_errors[:3]}")
        if errs:
            raise AssertionError("programming: " + "; ".join(errs))
        codes = patch_codes(8, b.rng)
        await self.run_plan([EvalItem("after-programming", codes)])


@pyuvm.test(timeout_time=20, timeout_unit="ms")
class NfieldEvalTest(NfieldBaseTest):
    """A 16 x 16 patch (256 coordinates) with random gaps and back-pressure, in two items,
    then the corners of the coordinate range."""

    async def scenario(self) -> None:
        n = int(os.environ.get("RRAMCIM_NFIELD_COORDS", 256))
        codes = patch_codes(n, self.bfm.rng)
        h = n // 2
        # the corners of the coordinate range: the largest code drives every encoder row on
        # every bit plane and saturates encoder ADC channels (the "ADC saturation" bin does not
        # depend on where the random patch falls)
        mx = (1 << param("COORD_BITS")) - 1
        corners = np.array([[mx, mx, mx], [0, 0, 0], [mx, 0, (mx + 1) // 2]], dtype=np.int64)
        items = [
            EvalItem("patch-a", codes[:h], p_gap=0.3, p_stall=0.4),
            EvalItem("patch-b", codes[h:], p_gap=0.0, p_stall=0.0),
            EvalItem("corners", corners[:, : param("N_IN")]),
        ]
        await self.run_plan(items)


@pyuvm.test(timeout_time=5, timeout_unit="ms")
class NfieldCsrTest(NfieldBaseTest):
    """Register map, illegal accesses, a refused command, cfg_err holding coordinates."""

    async def scenario(self) -> None:
        from rramcim.apps.nfield import rtl

        b = self.bfm
        c = b.ctx
        await b.ensure_programmed()
        assert await b.read("ID") == rtl.ID_VALUE, "ID register"
        e0 = await b.read("CSR_ERRS")
        await b.read(45, expect_error=True)  # unmapped
        await b.write("COORDS", 1, expect_error=True)  # read-only
        _, err = await b.apb.read(4 * rtl.REG["STATUS"] + 2)
        assert err, "an unaligned read must fail"
        # a refused command: PROG_CMD while HAQ work is queued (macro state saved / restored)
        saved = [copy.deepcopy(m.__dict__) for m in c.macros]
        await b.write("HAQ_CFG", dict(c.regs)["HAQ_CFG"])
        await b.write("PROG_ADDR", rtl.prog_addr_word(0, 0, 0, 0))
        await b.write("HAQ_TGT", rtl.tgt_word(100, param("TGT_W")))
        await b.write("PROG_CMD", rtl.prog_cmd_word(3, False), expect_error=True)
        hit("refused command")
        await b._do(rtl.WaitHaq(0, True))
        n_err = await b.read("CSR_ERRS") - e0
        assert n_err == 4, f"CSR_ERRS counted {n_err} errors, expected 4"
        bad_addrs = {4 * 45, 4 * rtl.REG["COORDS"], 4 * rtl.REG["STATUS"] + 2}
        bad_addrs.add(4 * rtl.REG["PROG_CMD"])
        err_addr = await b.read("CSR_ERR_ADDR")
        assert err_addr in bad_addrs, f"CSR_ERR_ADDR {err_addr:#x} is none of {bad_addrs}"
        b.log.info("CSR_ERR_ADDR after 4 errors: %#x", err_addr)
        assert await b.read("STATUS") & 1 << 3, "sticky CSR error flag"
        await b.write("CMD", rtl.CMD_CLEAR)
        assert not await b.read("STATUS") & 1 << 3, "CLEAR clears the CSR error flag"
        for m, s in zip(c.macros, saved, strict=True):
            m.__dict__.update(s)
        # cfg_err: coordinates wait at the port, none is lost
        await b.reset()
        await b.configure()
        assert not await b.read("STATUS") & 1 << 2, "the tiny field's configuration is consistent"
        good = dict(c.regs)["L_SHAPE1"]
        await b.write("L_SHAPE1", good + 1)  # n_in 17 != n_out of layer 0
        assert await b.read("STATUS") & 1 << 2, "cfg_err on an inconsistent L_SHAPE"
        item = EvalItem("cfg-err-held", patch_codes(4, b.rng), p_gap=0.0, p_stall=0.2)
        src = cocotb.start_soon(b._source(item))
        await ClockCycles(b.dut.clk_i, 300)
        assert await b.read("COORDS") == 0, "a coordinate was taken while cfg_err = 1"
        assert b.vec == 0, "the coordinate source got a transfer while cfg_err = 1"
        hit("cfg_err wait")
        await b.write("L_SHAPE1", good)
        # the held coordinates now run; check them through the scoreboard path
        item.first_vector, item.epoch = 0, c.epoch()
        before = dict.fromkeys(COUNTERS, 0)
        await b._sink(item, len(item.codes))
        await src
        after = await b.counters()
        item.counters = {k: after[k] - before[k] for k in after}
        item.status = await b.read("STATUS")
        self.env.driver.ap.write(item)


@pyuvm.test(timeout_time=5, timeout_unit="ms")
class NfieldResetTest(NfieldBaseTest):
    """A reset in the middle of an evaluation; the next coordinates are a new epoch."""

    async def scenario(self) -> None:
        b = self.bfm
        c = b.ctx
        await b.ensure_programmed()
        await b.configure()
        epoch0 = c.epoch()
        item = EvalItem("cut", patch_codes(16, b.rng))
        src = cocotb.start_soon(b._source(item))
        sink = cocotb.start_soon(b._sink(item, 16))
        await ClockCycles(b.dut.clk_i, b.rng.randint(2000, 8000))
        sink.cancel()
        src.cancel()
        await b.reset()
        b.dut.out_ready_i.value = 0
        hit("reset in an evaluation")
        assert c.epoch() == epoch0 + 1, "a reset starts a new epoch"
        st = await b.read("STATUS")
        assert st & 0xFF0B == 0, f"after reset: idle, no HAQ work, no error, stage 0: {st:#x}"
        assert await b.read("COORDS") == 0, "counters restart at reset"
        codes = patch_codes(6, b.rng)
        await self.run_plan([EvalItem("after-reset", codes)])
        reads_e = len(codes) * param("COORD_BITS") * c.hw.enc_macro.cfg.n_groups
        assert c.enc_keys.reads == reads_e, (
            f"encoder reads numbered {c.enc_keys.reads} after the reset, expected {reads_e}"
        )


@pyuvm.test(expect_fail=True, timeout_time=5, timeout_unit="ms")
class NfieldExpectFailTest(NfieldBaseTest):
    """The scoreboard with a wrong model (ENC_GAIN off by one LSB) must fail."""

    perturb = 1

    async def scenario(self) -> None:
        codes = patch_codes(16, self.bfm.rng)
        await self.run_plan([EvalItem("wrong-model", codes)])


@pyuvm.test()
class NfieldCoverageTest(NfieldBaseTest):
    """Last test: the coverage bins of the whole run (fails on holes)."""

    expect_items = False

    async def scenario(self) -> None:
        self.bfm.log.info("coverage: %s", dict(sorted(HITS.items())))
        holes = [n for n in BINS if n not in HITS]
        if holes:
            raise AssertionError(f"coverage holes: {holes}")


# ------------------------------------------------------------------------------------------
# pytest entry
# ------------------------------------------------------------------------------------------
#: Bench parameters besides the field's (the field's come from rramcim.apps.nfield.rtl).
PARAM_SETS = {"tiny": {"T_CONV_CYC": 4, "T_SETTLE_CYC": 1, "HAQ_FIFO_DEPTH": 64}}


def tiny_params(overrides: dict[str, int]) -> dict[str, int]:
    """HDL parameters of the tiny CT field, with all four layer slots (N_LAYERS = 4: slots the
    field does not use stay empty)."""
    import torch

    from rramcim.apps.nfield.hw import map_field
    from rramcim.apps.nfield.rtl import top_params
    from rramcim.apps.nfield.train import load_ct_tiny
    from rramcim.golden.nfield_top import NfieldHwConfig

    torch.set_num_threads(1)
    net, info = load_ct_tiny()
    hw = map_field(net, NfieldHwConfig(encoder_seed=int(info["config"]["encoder_seed"])))
    p = top_params(
        hw,
        n_layers=4,
        haq_fifo_depth=overrides["HAQ_FIFO_DEPTH"],
        t_settle_cyc=overrides["T_SETTLE_CYC"],
    )
    p["T_CONV_CYC"] = overrides["T_CONV_CYC"]
    return p


def sources() -> list[Path]:
    from tb.vip.runner import MODELS_HDL, RTL

    return [
        RTL / "cim_csr.sv",
        RTL / "cim_fifo.sv",
        RTL / "cim_xbar_ctrl.sv",
        RTL / "cim_adc_if.sv",
        RTL / "cim_fourier_enc.sv",
        RTL / "cim_haq_combine.sv",
        RTL / "cim_haq_quant.sv",
        RTL / "cim_nfield_top.sv",
        MODELS_HDL / "cim_xbar_macro.sv",
        HERE / "tb_cim_nfield_top.sv",
    ]


test_cim_nfield_top = top_bench_test(
    "tb_cim_nfield_top",
    PARAM_SETS,
    __file__,
    sources,
    parameters=tiny_params,
    doc="The neural-field top on one simulator: programming, evaluation, CSR, reset, fail.",
)

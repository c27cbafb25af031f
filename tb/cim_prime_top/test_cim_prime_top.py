"""pyuvm bench of ``cim_prime_top``: N-Digits samples of the trained PRIME network through the RTL.

The three layer macros are :class:`rramcim.cosim.xbar.KeyedReadAdapter` objects driving the
``cim_xbar_macro`` shells from the *same* :class:`~rramcim.analog.crossbar.CrossbarMacro`
objects that the hardware model (:class:`rramcim.apps.prime.hardware.PrimeHardware`) reads,
with the read-noise keys of :class:`rramcim.apps.prime.rtl.ReadKeys`. The host side configures
the top over APB (:mod:`tb.vip.apb`) with :func:`rramcim.apps.prime.rtl.top_registers`,
streams every sample's AER events frame by frame (random gaps; the top back-pressures while it
computes) and takes the result stream with random back-pressure. The scoreboard requires, for
every sample, the per-step output membranes, the stop step and the class to equal the hardware
model's, and the RTL's own counters (reads, LIF updates) to equal the work of the steps run.
The pyuvm skeleton (BFM clock/reset/APB part, sequence, driver, scoreboard base, env, test,
pytest entry) is :mod:`tb.vip.uvm`; this module holds the PRIME-specific parts.

Testplan (feature -> test):
    trained network, N-Digits test samples, every class, stop steps   -> PrimeSamplesTest
    early stop on and off (off: all T steps, class after T)           -> PrimeSamplesTest
    AER FIFO full (source stalled), out-stream back-pressure          -> PrimeSamplesTest
    input binarisation counted (router saturations)                   -> PrimeSamplesTest
    RTL counters: reads, LIF updates per step, steps, samples         -> PrimeSamplesTest
    register map: ID, reset values, illegal writes (pslverr, counted,
      sticky flag, captured address), START refused on a bad config,
      configuration frozen while busy, FLUSH counts dropped events     -> PrimeCsrTest
    reset in the middle of a sample, then a correct sample            -> PrimeResetTest
    the checker catches a wrong model                                 -> PrimeExpectFailTest
Coverage (fails on holes, PrimeSamplesTest): every class predicted, every stop step that the
hardware model produces on the test split, early stop on and off, AER FIFO full, out-stream
stall, router saturation. ``RRAMCIM_PRIME_COVERAGE=protocol`` requires only early stop on/off,
AER FIFO full and out-stream stall (the short runs of the extra parameter sets).

Parameter sets (``PARAM_SETS``, one pytest node per simulator and set): ``prime`` (the make-sim
instance: AER FIFO 64, tile FIFO 16, conversion 4 cycles) runs the full selection;
``small_fifo`` (FIFOs of 2) and ``slow_adc`` (conversion 7 cycles, settling 3) run 3 + 1
samples each with protocol coverage, plus the CSR, reset and expect-fail tests.

Environment: ``RRAMCIM_PRIME_SAMPLES`` (samples with early stop; default 20),
``RRAMCIM_PRIME_ES_OFF`` (extra samples with the early stop off; default 2), which run
``RRAMCIM_PRIME_OFF_STEPS`` steps (default 3: the class is then the argmax after 3 steps),
``RRAMCIM_PRIME_DATA`` (N-Digits root; default a folder in the build directory, generated if
missing), ``RRAMCIM_PRIME_OUT`` (write a JSON summary of the run there, for ``rramcim sim``),
``RRAMCIM_PRIME_CONTEXT`` (a pickled :class:`rramcim.apps.prime.rtl.PrimeRtlContext` that the
parent built once for all its shards, :func:`rramcim.apps.prime.sim.write_context`; loaded
instead of rebuilding the hardware model and running it on the test split).
"""

from __future__ import annotations

import json
import logging
import os
import random
import time
from pathlib import Path

import cocotb
import numpy as np
import pyuvm
from cocotb.triggers import ClockCycles, FallingEdge, ReadOnly, RisingEdge
from pyuvm import ConfigDB, uvm_sequence_item, uvm_subscriber

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
if os.environ.get("RRAMCIM_PRIME_TRACEBACK"):  # debugging a stuck run: dump the stacks
    import faulthandler

    faulthandler.dump_traceback_later(
        float(os.environ.get("RRAMCIM_PRIME_TRACEBACK_S", 60)),
        repeat=True,
        file=open(os.environ["RRAMCIM_PRIME_TRACEBACK"], "w"),  # noqa: SIM115
    )
MAX_CYCLES_PER_STEP = 200_000


# ------------------------------------------------------------------------------------------
# Golden side: the hardware model and the expected results (built once per simulation)
# ------------------------------------------------------------------------------------------
_CTX = None


def golden(log: logging.Logger):  # noqa: ANN201 (PrimeRtlContext)
    """The hardware model of the shipped checkpoint and its test-split results (built once)."""
    global _CTX
    if _CTX is None:
        import torch

        from rramcim.apps.prime.rtl import build_context

        torch.set_num_threads(1)
        pkl = os.environ.get("RRAMCIM_PRIME_CONTEXT")
        if pkl:  # built once by the parent for every shard (rramcim.apps.prime.sim)
            import pickle

            with open(pkl, "rb") as f:
                _CTX = pickle.load(f)  # written by this run's parent process
            log.info("hardware model and its test-split results loaded from %s", pkl)
        else:
            data = os.environ.get("RRAMCIM_PRIME_DATA") or str(Path.cwd() / "ndigits")
            _CTX = build_context(data, log=log.info)
    return _CTX


def select_samples(g, n: int, seed: int) -> list[int]:  # noqa: ANN001
    """``n`` test samples covering every predicted class and every stop step that occurs."""
    rng = random.Random(seed)
    stop, pred = g.result.stop_step, g.result.pred
    order = list(range(len(g.labels)))
    rng.shuffle(order)
    chosen: list[int] = []
    for want in sorted(set(stop.tolist())):
        chosen.append(next(i for i in order if stop[i] == want))
    for c in sorted(set(pred.tolist())):
        if c not in {int(pred[i]) for i in chosen}:
            chosen.append(next(i for i in order if pred[i] == c))
    for i in order:
        if len(chosen) >= n:
            break
        if i not in chosen:
            chosen.append(i)
    return chosen[:n]


def cheap_samples(g, n: int, seed: int) -> list[int]:  # noqa: ANN001
    """``n`` random test samples among those that stop after the fewest steps."""
    stop = g.result.stop_step
    pool = [i for i in range(len(stop)) if stop[i] <= max(2, int(stop.min()))]
    return random.Random(seed).sample(pool, n)


# ------------------------------------------------------------------------------------------
# Sequence item, BFM (the only code that touches pins)
# ------------------------------------------------------------------------------------------
class PrimeItem(uvm_sequence_item):
    """One sample: stimulus (sample id, early stop) and what the RTL returned."""

    def __init__(self, name: str, sid: int = 0, early_stop: bool = True) -> None:
        super().__init__(name)
        self.sid = sid
        self.early_stop = early_stop
        self.outs: list[list[int | None]] = []
        self.rtl_class = -1
        self.rtl_stop = -1
        self.result_reg = 0
        self.status = 0
        self.counters: dict[str, int] = {}
        self.out_stalls = 0
        self.cycles = 0
        self.error = ""

    def __str__(self) -> str:
        return f"sample {self.sid} (early stop {'on' if self.early_stop else 'off'})"


class PrimeBfm(TopBfm):
    """Pins of the top: clock, reset, APB, AER source, result sink, macro adapters."""

    def __init__(self, dut, seed: int) -> None:  # noqa: ANN001
        from rramcim.apps.prime.rtl import PrefetchedReads, ReadKeys
        from rramcim.cosim.xbar import KeyedReadAdapter

        super().__init__(dut, seed, "cocotb.prime.bfm", apb_idle_cycles=(0, 2))
        self.g = golden(self.log)
        self.u_w = param("U_W")
        self.keys = ReadKeys(self.g.layers)
        self.prefetch = PrefetchedReads(self.g)
        self.adapters = [
            KeyedReadAdapter(
                getattr(dut, f"u_macro{li}"),
                dut.clk_i,
                dut.rst_ni,
                self.g.hw.arrays[li].macros[0],
                key_fn=(lambda li=li: self.keys.key(li, int(self.dut.step_o.value))),
                t_conv_cyc=param("T_CONV_CYC"),
                clk_period_ns=CLK_NS,
                lookup=(lambda e, k, wl, grp, li=li: self.prefetch.lookup(li, e, k, wl, grp)),
            )
            for li in range(3)
        ]
        self.p_gap = 0.3  # AER source idle probability per beat
        self.p_stall = 0.3  # result sink not ready probability per cycle
        self._aer_stop = False
        self._aer_done = True
        self.configured_es: bool | None = None
        from rramcim.apps.prime.rtl import top_registers

        self.off_steps = int(os.environ.get("RRAMCIM_PRIME_OFF_STEPS", 3))
        self.regs = {
            True: top_registers(self.g.hw, self.g.steps, early_stop=True),
            False: top_registers(self.g.hw, self.off_steps, early_stop=False),
        }

    def start_models(self) -> None:
        for a in self.adapters:
            a.start()

    def idle_pins(self) -> None:
        d = self.dut
        d.aer_valid_i.value = 0
        d.aer_eof_i.value = 0
        d.aer_c_i.value = 0
        d.aer_y_i.value = 0
        d.aer_x_i.value = 0
        d.out_ready_i.value = 0

    def after_start(self) -> None:
        if os.environ.get("RRAMCIM_PRIME_PROGRESS"):
            cocotb.start_soon(self.progress(os.environ["RRAMCIM_PRIME_PROGRESS"]))

    async def progress(self, path: str, every_cycles: int = 2_000) -> None:
        """Append the top's phase, step and layer to ``path`` every ``every_cycles`` cycles
        (``RRAMCIM_PRIME_PROGRESS``: a live view of a long run, whose log cocotb-test prints
        only at the end)."""
        d = self.dut
        n = 0
        t0 = time.perf_counter()
        with open(path, "a") as f:
            while True:
                await ClockCycles(d.clk_i, every_cycles)
                n += every_cycles
                f.write(
                    f"{time.perf_counter() - t0:8.1f} s  cycle {n:9d}  busy {d.busy_o.value}  "
                    f"step {d.step_o.value}  layer {d.layer_o.value}  "
                    f"reads {sum(a.reads for a in self.adapters)}\n"
                )
                f.flush()

    def on_reset_assert(self) -> None:
        self.dut.aer_valid_i.value = 0

    async def reset(self, cycles: int = 3) -> None:
        await super().reset(cycles)
        self.configured_es = None

    # -- registers -----------------------------------------------------------------------
    async def configure(self, early_stop: bool) -> None:
        regs = self.regs[early_stop]
        for idx, v in sorted(regs.items()):
            await self.write(idx, v)
        self.configured_es = early_stop

    async def counters(self) -> dict[str, int]:
        from rramcim.apps.prime.rtl import REG

        names = (
            "READS",
            "LIF_UPDATES",
            "SPIKES",
            "AER_EVENTS",
            "AER_STALLS",
            "AER_DROPPED",
            "ROUTED",
            "ROUTE_SAT",
            "ROUTE_BAD",
            "STEPS",
            "SAMPLES",
            "BUSY_CYCLES",
            "CONVERSIONS",
            "ADC_SAT",
            "LIF_SAT",
            "VECTORS",
        )
        return {k: await self.read(REG[k]) for k in names}

    async def wait_idle(self, max_cycles: int = 100_000) -> int:
        from rramcim.apps.prime.rtl import REG

        for _ in range(max_cycles):
            st = await self.read(REG["STATUS"])
            if not st & 1:
                return st
        raise AssertionError("the top stays busy")

    async def flush(self) -> None:
        """Stop the AER source after its current beat and drop what the FIFO holds."""
        from rramcim.apps.prime.rtl import CMD_FLUSH, REG

        self._aer_stop = True
        for _ in range(100):
            await self.write(REG["CMD"], CMD_FLUSH)
            await self.wait_idle()
            if self._aer_done:
                break
        await self.write(REG["CMD"], CMD_FLUSH)
        await self.wait_idle()
        self._aer_stop = False

    # -- AER source ------------------------------------------------------------------------
    async def _aer_source(self, frames: list[np.ndarray]) -> None:
        d = self.dut
        self._aer_done = False
        try:
            beats = []
            for fr in frames:
                beats += [(0, int(c), int(y), int(x)) for c, y, x in fr]
                beats.append((1, 0, 0, 0))
            i = 0
            await FallingEdge(d.clk_i)
            while i < len(beats):
                if self._aer_stop:
                    break
                if self.rng.random() < self.p_gap:
                    d.aer_valid_i.value = 0
                    await FallingEdge(d.clk_i)
                    continue
                eof, c, y, x = beats[i]
                d.aer_valid_i.value = 1
                d.aer_eof_i.value = eof
                d.aer_c_i.value = c
                d.aer_y_i.value = y
                d.aer_x_i.value = x
                while True:  # hold the beat until it transfers
                    await ReadOnly()
                    if int(d.aer_ready_o.value):
                        await FallingEdge(d.clk_i)
                        break
                    await RisingEdge(d.aer_ready_o)
                    await FallingEdge(d.clk_i)
                i += 1
            d.aer_valid_i.value = 0
        finally:
            self._aer_done = True

    # -- one sample ----------------------------------------------------------------------
    async def run_sample(self, item: PrimeItem) -> None:
        from rramcim.apps.prime.rtl import CMD_START, REG, sample_aer_frames

        d, g = self.dut, self.g
        if self.configured_es != item.early_stop:
            await self.configure(item.early_stop)
        before = await self.counters()
        path, _ = g.items[item.sid]
        frames = sample_aer_frames(path, g.steps, g.split)
        self.keys.start_sample(item.sid)
        self.prefetch.start_sample(item.sid)
        item.outs = [[None] * 10 for _ in range(g.steps)]
        await self.write(REG["CMD"], CMD_START)
        src = cocotb.start_soon(self._aer_source(frames))
        limit = MAX_CYCLES_PER_STEP * g.steps
        cycles = 0
        await FallingEdge(d.clk_i)
        while True:
            rdy = int(self.rng.random() >= self.p_stall)
            d.out_ready_i.value = rdy
            await ReadOnly()
            if int(d.out_valid_o.value):
                if not rdy:
                    item.out_stalls += 1
                else:
                    kind = int(d.out_kind_o.value)
                    step = int(d.out_step_o.value)
                    idx = int(d.out_idx_o.value)
                    if kind == 0:
                        if not 1 <= step <= g.steps or idx >= 10:
                            item.error = f"membrane beat with step {step}, index {idx}"
                        else:
                            v = from_unsigned(int(d.out_data_o.value), self.u_w)
                            item.outs[step - 1][idx] = v
                    else:
                        item.rtl_class, item.rtl_stop = idx, step
                await FallingEdge(d.clk_i)
                cycles += 1
                if item.rtl_stop >= 0:
                    break
            else:
                # nothing to take: sleep until the top offers a beat (no per-cycle work)
                await RisingEdge(d.out_valid_o)
                await FallingEdge(d.clk_i)
                cycles += 1
            if cycles > limit:
                item.error = "no decision"
                break
        d.out_ready_i.value = 0
        item.cycles = cycles
        await self.flush()
        await src
        item.result_reg = await self.read(REG["RESULT"])
        item.status = await self.read(REG["STATUS"])
        after = await self.counters()
        item.counters = {k: after[k] - before[k] for k in after}


# ------------------------------------------------------------------------------------------
# pyuvm components
# ------------------------------------------------------------------------------------------
class PrimeDriver(BfmDriver):
    """Runs every sample through :meth:`PrimeBfm.run_sample`."""

    BFM_METHOD = "run_sample"


class PrimeScoreboard(ItemScoreboard):
    """Compares every sample with the hardware model (a wrong model can be injected)."""

    NOUN = "sample"

    def mismatches(self, item: PrimeItem) -> list[str]:
        g = self.bfm.g
        cls, stop, mem = g.expected(item.sid, item.early_stop, self.bfm.off_steps)
        mem = mem + self.perturb
        errs = []
        if item.error:
            errs.append(item.error)
        if item.rtl_stop != stop:
            errs.append(f"stop step RTL {item.rtl_stop} != model {stop}")
        if item.rtl_class != cls:
            errs.append(f"class RTL {item.rtl_class} != model {cls}")
        n_steps = min(len(item.outs), max(stop, item.rtl_stop, 0))
        for t in range(n_steps):
            for j in range(10):
                want = int(mem[t, j]) if t < mem.shape[0] else None
                got = item.outs[t][j]
                if got != want:
                    errs.append(f"membrane step {t + 1} class {j}: RTL {got} != model {want}")
                    break
            if len(errs) > 2:
                break
        res = item.result_reg
        if res != (1 << 16 | stop << 8 | cls):
            errs.append(f"RESULT register {res:#x}, expected stop {stop} class {cls}")
        if item.status & 0x3DC:  # err_start, err_csr, err_route, err_lif, err_es, err_adc
            errs.append(f"STATUS error flags {item.status:#x}")
        c = item.counters
        for name, key in (("READS", "reads"), ("LIF_UPDATES", "lif_updates")):
            if c[name] != stop * g.counts_per_step[key]:
                errs.append(f"{name} counter {c[name]} != {stop} steps x {g.counts_per_step[key]}")
        if c["STEPS"] != stop or c["SAMPLES"] != 1:
            errs.append(f"STEPS/SAMPLES counters {c['STEPS']}/{c['SAMPLES']}")
        if c["ROUTE_BAD"]:
            errs.append(f"{c['ROUTE_BAD']} events outside their frames")
        self.results.append(
            {
                "sample": item.sid,
                "label": int(g.labels[item.sid]),
                "early_stop": item.early_stop,
                "rtl_class": item.rtl_class,
                "rtl_stop": item.rtl_stop,
                "model_class": cls,
                "model_stop": stop,
                "match": not errs,
                "cycles": item.cycles,
                "counters": c,
            }
        )
        return errs

    def passed(self, where: str, item: PrimeItem) -> None:
        # equal to the model: the RTL's class and stop step are the model's
        c = item.counters
        self.logger.info(
            "%s: class %d (label %d), stop step %d, %d cycles, %d AER stalls, %d dropped",
            item,
            item.rtl_class,
            int(self.bfm.g.labels[item.sid]),
            item.rtl_stop,
            item.cycles,
            c["AER_STALLS"],
            c["AER_DROPPED"],
        )


class PrimeCoverage(uvm_subscriber):
    """Coverage of classes, stop steps, early stop on/off, FIFO full and back-pressure."""

    def build_phase(self) -> None:
        self.bfm = ConfigDB().get(self, "", "BFM")
        self.hits: dict[str, int] = {}
        self.required = not os.environ.get("RRAMCIM_PRIME_SHARD") and not os.environ.get(
            "RRAMCIM_PRIME_OUT"
        )
        mode = os.environ.get("RRAMCIM_PRIME_COVERAGE", "full")
        if mode not in ("full", "protocol"):
            raise ValueError(f"RRAMCIM_PRIME_COVERAGE = {mode!r}: expected 'full' or 'protocol'")
        self.full = mode == "full"

    def write(self, item: PrimeItem) -> None:
        def hit(name: str) -> None:
            self.hits[name] = self.hits.get(name, 0) + 1

        hit(f"class {item.rtl_class}")
        hit(f"stop step {item.rtl_stop}" if item.early_stop else "early stop off")
        hit("early stop on" if item.early_stop else "early stop off")
        if item.status & (1 << 5) or item.counters.get("AER_STALLS", 0):
            hit("AER FIFO full")
        if item.out_stalls:
            hit("out-stream stall")
        if item.counters.get("ROUTE_SAT", 0):
            hit("router saturation")

    def check_phase(self) -> None:
        g = self.bfm.g
        stops = set(g.result.stop_step.tolist())
        need = ["early stop on", "early stop off", "AER FIFO full", "out-stream stall"]
        if self.full:
            need += [f"class {c}" for c in range(10)]
            need += [f"stop step {s}" for s in sorted(stops)]
            need.append("router saturation")
        never = sorted(set(range(1, g.steps + 1)) - stops)
        self.logger.info("coverage: %s", dict(sorted(self.hits.items())))
        if never:
            self.logger.info("stop steps that no test sample reaches (not coverable): %s", never)
        holes = [n for n in need if n not in self.hits]
        if holes and self.required:
            raise AssertionError(f"coverage holes: {holes}")
        if holes:
            self.logger.info("coverage holes (not required in this run): %s", holes)


class PrimeEnv(BenchEnv):
    """Driver, scoreboard and (for :class:`PrimeSamplesTest`) coverage."""

    DRIVER = PrimeDriver
    SCOREBOARD = PrimeScoreboard
    COVERAGE = PrimeCoverage


def _env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


class PrimeBaseTest(BfmTest):
    """Starts the BFM; subclasses give the samples (``plan``: ``(sample id, early stop)``)."""

    ENV = PrimeEnv

    def make_bfm(self) -> PrimeBfm:
        return PrimeBfm(cocotb.top, cocotb.RANDOM_SEED)

    def make_item(self, entry: tuple[int, bool]) -> PrimeItem:
        sid, es = entry
        return PrimeItem(f"s{sid}", sid, es)


@pyuvm.test()
class PrimeSamplesTest(PrimeBaseTest):
    """The selected test samples with early stop, then some with the early stop off."""

    coverage = True

    def plan(self) -> list[tuple[int, bool]]:
        g = self.bfm.g
        n = _env_int("RRAMCIM_PRIME_SAMPLES", 20)
        n_off = _env_int("RRAMCIM_PRIME_ES_OFF", 2)
        sel = select_samples(
            g, n + n_off, _env_int("RRAMCIM_PRIME_SELECT_SEED", cocotb.RANDOM_SEED)
        )
        plan = [(s, True) for s in sel[:n]] + [(s, False) for s in sel[n:]]
        shard = os.environ.get("RRAMCIM_PRIME_SHARD")  # "i/k": every k-th sample from i
        if shard:
            i, k = (int(v) for v in shard.split("/"))
            plan = plan[i::k]
        return plan

    def report_phase(self) -> None:
        out = os.environ.get("RRAMCIM_PRIME_OUT")
        if not out:
            return
        sb = self.env.scoreboard
        g = self.bfm.g
        res = sb.results
        es = [r for r in res if r["early_stop"]]
        summary = {
            "samples": len(res),
            "samples_early_stop": len(es),
            "matches": sum(r["match"] for r in res),
            "rtl_accuracy_early_stop": float(np.mean([r["rtl_class"] == r["label"] for r in es]))
            if es
            else None,
            "rtl_mean_steps": float(np.mean([r["rtl_stop"] for r in es])) if es else None,
            "steps": g.steps,
            "model_accuracy_same_samples": float(
                np.mean([r["model_class"] == r["label"] for r in es])
            )
            if es
            else None,
            "wall_s": getattr(self, "wall_s", None),
            "cycles": int(sum(r["cycles"] for r in res)),
            "counters": {
                k: int(sum(r["counters"][k] for r in es)) for k in (es[0]["counters"] if es else {})
            },
            "results": res,
            "simulator": cocotb.SIM_NAME,
            "seed": cocotb.RANDOM_SEED,
        }
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        Path(out).write_text(json.dumps(summary, indent=2))


@pyuvm.test()
class PrimeCsrTest(PrimeBaseTest):
    """Register map, illegal writes, refused START, frozen configuration, FLUSH."""

    expect_items = False

    async def scenario(self) -> None:
        from rramcim.apps.prime.rtl import CMD_CLEAR, CMD_FLUSH, CMD_START, ID_VALUE, REG

        b = self.bfm
        assert await b.read(REG["ID"]) == ID_VALUE, "ID register"
        st = await b.read(REG["STATUS"])
        assert st & 0b111 == 0b100, f"after reset: idle, no result, config inconsistent: {st:#x}"
        # START with the reset configuration is refused
        await b.write(REG["CMD"], CMD_START)
        st = await b.read(REG["STATUS"])
        assert st & (1 << 3) and not st & 1, f"START refused: STATUS {st:#x}"
        # illegal writes: T = 0, too many layers, a kernel of 0, a read-only counter
        bad = [
            (REG["ES_CFG"], 0),
            (REG["NEURON"], 7 << 16),
            (REG["LAYER0"] + 1, 0),
            (REG["READS"], 1),
        ]
        for idx, v in bad:
            await b.write(idx, v, expect_error=True)
        _, slverr = await b.apb.read(4 * REG["STATUS"] + 2)
        assert slverr, "an unaligned read must fail"
        assert await b.read(REG["CSR_ERRORS"]) == len(bad) + 1
        assert await b.read(REG["CSR_ERR_ADDR"]) == 4 * REG["ES_CFG"]
        assert await b.read(REG["STATUS"]) & (1 << 4), "sticky CSR error flag"
        await b.write(REG["CMD"], CMD_CLEAR)
        st = await b.read(REG["STATUS"])
        assert not st & (1 << 4) and not st & (1 << 3), f"CLEAR: STATUS {st:#x}"
        # the PRIME configuration is consistent; a layer mismatch makes it inconsistent
        await b.configure(True)
        assert not await b.read(REG["STATUS"]) & (1 << 2), "PRIME configuration consistent"
        l1 = REG["LAYER0"] + 8
        good = b.regs[True][l1]
        await b.write(l1, good + 1)  # 13 input channels: legal alone, inconsistent
        assert await b.read(REG["STATUS"]) & (1 << 2), "channel mismatch flagged"
        await b.write(REG["CMD"], CMD_START)
        assert await b.read(REG["STATUS"]) & (1 << 3), "START refused on a mismatch"
        await b.write(l1, good)
        await b.write(REG["CMD"], CMD_CLEAR)
        # configuration frozen while busy
        b.keys.start_sample(0)
        await b.write(REG["CMD"], CMD_START)
        await b.write(REG["ES_THETA"], 70000, expect_error=True)
        await b.write(REG["CMD"], CMD_START)  # a second START while busy is refused
        assert await b.read(REG["STATUS"]) & (1 << 3), "START while busy flagged"
        b._aer_stop = True
        await b.reset()  # abort the sample
        b._aer_stop = False
        # FLUSH drops what the AER FIFO holds and counts the events (not the end markers)
        await b.configure(True)
        dropped0 = await b.read(REG["AER_DROPPED"])
        n_ev = min(5, param("AER_FIFO_DEPTH") - 1)  # the events and the end marker fit
        src = cocotb.start_soon(b._aer_source([np.array([[1, 2, 2]] * n_ev, dtype=np.int64)]))
        await src  # all beats taken by the FIFO (the top is idle)
        await b.write(REG["CMD"], CMD_FLUSH)
        await b.wait_idle()
        dropped = await b.read(REG["AER_DROPPED"]) - dropped0
        assert dropped == n_ev, f"FLUSH dropped {dropped} events, expected {n_ev}"
        assert not await b.read(REG["STATUS"]) & 1, "idle after FLUSH"


@pyuvm.test()
class PrimeResetTest(PrimeBaseTest):
    """A reset in the middle of a sample, then samples that must match."""

    def plan(self) -> list[tuple[int, bool]]:
        return [(i, True) for i in cheap_samples(self.bfm.g, 2, cocotb.RANDOM_SEED + 7)]

    async def scenario(self) -> None:
        from rramcim.apps.prime.rtl import CMD_START, REG, sample_aer_frames

        b = self.bfm
        await b.configure(True)
        sid = self.plan()[0][0]
        b.keys.start_sample(sid)
        await b.write(REG["CMD"], CMD_START)
        frames = sample_aer_frames(b.g.items[sid][0], b.g.steps, b.g.split)
        src = cocotb.start_soon(b._aer_source(frames))
        await ClockCycles(b.dut.clk_i, b.rng.randint(1000, 30_000))
        b._aer_stop = True  # the source ends after its beat in flight (taken after reset)
        await b.reset()
        await src
        b._aer_stop = False
        st = await b.read(REG["STATUS"])
        assert st & 0b11 == 0, f"after reset: idle, no result: {st:#x}"
        await b.configure(True)
        await b.flush()  # a beat held across the reset may have entered the FIFO
        await self.run_plan(self.plan())


@pyuvm.test(expect_fail=True)
class PrimeExpectFailTest(PrimeBaseTest):
    """The scoreboard with a wrong model (membranes off by one LSB) must fail."""

    perturb = 1

    def plan(self) -> list[tuple[int, bool]]:
        return [(cheap_samples(self.bfm.g, 1, cocotb.RANDOM_SEED)[0], True)]


# ------------------------------------------------------------------------------------------
# pytest entry
# ------------------------------------------------------------------------------------------
PARAM_SETS = {
    # the PRIME instance of make sim: 20 + 2 samples, full coverage
    "prime": {"T_CONV_CYC": 4, "T_SETTLE_CYC": 1, "AER_FIFO_DEPTH": 64, "RT_FIFO_DEPTH": 16},
    # minimum FIFOs: the AER source and the router's tile FIFO back-pressure all the time
    "small_fifo": {"T_CONV_CYC": 4, "T_SETTLE_CYC": 1, "AER_FIFO_DEPTH": 2, "RT_FIFO_DEPTH": 2},
    # a slower converter (longer conversion and settling): other read timing, same results
    "slow_adc": {"T_CONV_CYC": 7, "T_SETTLE_CYC": 3, "AER_FIFO_DEPTH": 8, "RT_FIFO_DEPTH": 4},
}
#: Bench settings per parameter set (environment of the simulation). The extra sets run a few
#: samples each (the full selection runs on "prime") and require the protocol bins only.
_SHORT_RUN = {
    "RRAMCIM_PRIME_SAMPLES": "3",
    "RRAMCIM_PRIME_ES_OFF": "1",
    "RRAMCIM_PRIME_COVERAGE": "protocol",
}
SET_ENV: dict[str, dict[str, str]] = {"prime": {}, "small_fifo": _SHORT_RUN, "slow_adc": _SHORT_RUN}


def sources() -> list[Path]:
    from tb.vip.runner import MODELS_HDL, RTL

    return [
        RTL / "cim_csr.sv",
        RTL / "cim_fifo.sv",
        RTL / "cim_spike_router.sv",
        RTL / "cim_xbar_ctrl.sv",
        RTL / "cim_adc_if.sv",
        RTL / "cim_lif_array.sv",
        RTL / "cim_early_stop.sv",
        RTL / "cim_prime_top.sv",
        MODELS_HDL / "cim_xbar_macro.sv",
        HERE / "tb_cim_prime_top.sv",
    ]


def bench_params(overrides: dict[str, int]) -> dict[str, int]:
    from rramcim.apps.prime.rtl import PRIME_TOP_PARAMS

    p = {k: v for k, v in PRIME_TOP_PARAMS.items() if k != "N_LAYERS"}
    p.update(overrides)
    return p


def _set_env(pset: str) -> dict[str, str]:
    from tb.vip.runner import SIM_BUILD

    # the N-Digits root is shared by the nodes (generated once, under a lock)
    return {"RRAMCIM_PRIME_DATA": str(SIM_BUILD / "ndigits"), **SET_ENV[pset]}


test_cim_prime_top = top_bench_test(
    "tb_cim_prime_top",
    PARAM_SETS,
    __file__,
    sources,
    parameters=bench_params,
    extra_env=_set_env,
    doc="The PRIME top on one simulator and parameter set: samples, CSR, reset, expect-fail.",
)

"""cocotb adapter: the Python crossbar model behind the ``cim_xbar_macro`` HDL shell.

:class:`XbarMacroAdapter` watches the shell's input ports and drives its outputs from a
:class:`~rramcim.analog.crossbar.CrossbarMacro` object, the same object the golden pipeline
(:mod:`rramcim.golden.xbar_path`) evaluates, so the co-simulation and the hardware model
share conductances and keyed noise.

Timing (one Python wake-up per clock, at the falling edge, where the RTL's registered
outputs are stable):

* a conversion is requested by ``adc_start_i = 1`` at rising edge *n* (the sampling edge);
  the adapter computes the read on the falling edge before it, using ``wl_i``, ``rd_en_i`` and
  ``mux_sel_i`` as the RTL drives them into that edge;
* ``adc_done_o`` is high for exactly the rising edge *n + T_CONV_CYC*, with the codes on
  ``adc_code_o`` from then until the next conversion completes;
* reads are numbered 0, 1, ... after each reset; the *epoch* counts completed resets
  (0 after the first one). Both key the read noise (``docs/read_path.md``);
* program port: ``prog_ready_o`` is held high; a VERIFY is answered by ``verify_valid_o``
  one cycle later.

Protocol violations (a start during a conversion, unknown values on the sampled inputs, a
program operation on a cell outside the array) are recorded in :attr:`errors`; a bench
asserts that the list is empty.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from rramcim.analog.crossbar import CrossbarMacro, PulseOp
from rramcim.fixedpoint import pack


def _sample(handle) -> int | None:  # noqa: ANN001
    """The unsigned value of a signal, or None when any bit is not 0/1.

    Works on the bit string: ``LogicArray.is_resolvable`` builds one object per bit, which on
    a 512-bit word line costs more than the rest of a read's bookkeeping together.
    """
    bits = str(handle.value)
    if bits.strip("01"):
        return None
    return int(bits, 2)


@dataclass
class ReadRecord:
    """One read as the macro saw it."""

    epoch: int
    index: int
    group: int
    rd_en: bool
    rows_on: int
    codes: list[int]
    sim_time_ns: float = 0.0


@dataclass
class AdapterLog:
    """What the adapter observed (for scoreboards and coverage)."""

    reads: list[ReadRecord] = field(default_factory=list)
    pulses: list[tuple[int, int, int, int]] = field(default_factory=list)
    verifies: list[tuple[int, int, int, int]] = field(default_factory=list)


def _bits_to_plane(value: int, n: int) -> torch.Tensor:
    """Integer word-line bus -> float32 0/1 row vector (bit r = row r)."""
    raw = value.to_bytes((n + 7) // 8, "little")
    bits = np.unpackbits(np.frombuffer(raw, dtype=np.uint8), bitorder="little")[:n]
    return torch.from_numpy(bits.astype(np.float32)).reshape(1, n)


class XbarMacroAdapter:
    """Drives a ``cim_xbar_macro`` shell instance from a :class:`CrossbarMacro`.

    Args:
        shell: cocotb handle of the shell instance (e.g. ``dut.u_macro``).
        clk: clock handle.
        rst_n: active-low reset handle (the periphery's reset).
        macro: the analogue model (already programmed).
        t_conv_cyc: conversion time in clock cycles (>= 1).
    """

    def __init__(self, shell, clk, rst_n, macro: CrossbarMacro, t_conv_cyc: int = 4) -> None:  # noqa: ANN001
        if t_conv_cyc < 1:
            raise ValueError(f"t_conv_cyc = {t_conv_cyc} must be >= 1")
        self.shell, self.clk, self.rst_n = shell, clk, rst_n
        self.macro = macro
        self.t_conv_cyc = int(t_conv_cyc)
        self.epoch = -1
        self.read_index = 0
        self.errors: list[str] = []
        self.log = AdapterLog()
        self._pending: tuple[int, int] | None = None  # (cycles left, packed codes)
        self._done_high = False
        self._verify_pending: int | None = None
        self._verify_high = False
        self._in_reset = True
        self._task = None
        cfg = macro.cfg
        self._adc_w = cfg.adc_bits

    def start(self) -> None:
        """Start the adapter coroutine (call once, after the clock is running)."""
        import cocotb

        self.shell.adc_done_o.value = 0
        self.shell.adc_code_o.value = 0
        self.shell.prog_ready_o.value = 1
        self.shell.verify_valid_o.value = 0
        self.shell.verify_code_o.value = 0
        self._task = cocotb.start_soon(self._run())

    def stop(self) -> None:
        """Stop the adapter coroutine."""
        if self._task is not None:
            self._task.cancel()
            self._task = None

    async def _run(self) -> None:
        from cocotb.simtime import get_sim_time
        from cocotb.triggers import FallingEdge

        sh = self.shell
        while True:
            await FallingEdge(self.clk)
            rst_v = self.rst_n.value
            if not rst_v.is_resolvable or int(rst_v) == 0:
                if not self._in_reset:
                    self._in_reset = True
                self._pending = None
                self._verify_pending = None
                if self._done_high:
                    sh.adc_done_o.value = 0
                    self._done_high = False
                if self._verify_high:
                    sh.verify_valid_o.value = 0
                    self._verify_high = False
                continue
            if self._in_reset:
                self._in_reset = False
                self.epoch += 1
                self.read_index = 0
            # end of one-cycle pulses
            if self._done_high:
                sh.adc_done_o.value = 0
                self._done_high = False
            if self._verify_high:
                sh.verify_valid_o.value = 0
                self._verify_high = False
            # conversion in flight
            if self._pending is not None:
                left, packed = self._pending
                left -= 1
                if left == 0:
                    sh.adc_code_o.value = packed
                    sh.adc_done_o.value = 1
                    self._done_high = True
                    self._pending = None
                else:
                    self._pending = (left, packed)
            if self._verify_pending is not None:
                sh.verify_code_o.value = self._verify_pending
                sh.verify_valid_o.value = 1
                self._verify_high = True
                self._verify_pending = None
            # new conversion sampled at the coming rising edge
            st = sh.adc_start_i.value
            if not st.is_resolvable:
                self.errors.append(f"adc_start_i is {st} at {get_sim_time('ns')} ns")
            elif int(st):
                if self._pending is not None:
                    self.errors.append(
                        f"adc_start_i during a conversion at {get_sim_time('ns')} ns"
                    )
                self._convert(get_sim_time("ns"))
            pv = sh.prog_valid_i.value
            if pv.is_resolvable and int(pv):
                self._program()

    def _convert(self, now_ns: float) -> None:
        sh, m = self.shell, self.macro
        wl, en, mux = _sample(sh.wl_i), _sample(sh.rd_en_i), _sample(sh.mux_sel_i)
        for name, v in (("wl_i", wl), ("rd_en_i", en), ("mux_sel_i", mux)):
            if v is None:
                shown = getattr(sh, name).value
                self.errors.append(f"{name} = {shown} at sampling time {now_ns} ns")
                return
        group = mux
        if group >= m.cfg.n_groups:
            self.errors.append(f"mux_sel_i = {group} >= {m.cfg.n_groups} groups at {now_ns} ns")
            return
        plane = _bits_to_plane(wl, m.cfg.rows) if en else torch.zeros(1, m.cfg.rows)
        res = m.read(plane, group, self.read_index, epoch=self.epoch, check_binary=False)
        codes = res.codes.reshape(-1).tolist()
        self.log.reads.append(
            ReadRecord(
                self.epoch, self.read_index, group, bool(en), int(plane.sum()), codes, now_ns
            )
        )
        self.read_index += 1
        self._pending = (self.t_conv_cyc, pack(codes, self._adc_w))

    def _program(self) -> None:
        sh, m = self.shell, self.macro
        vals = [sh.prog_op_i.value, sh.prog_row_i.value, sh.prog_col_i.value, sh.prog_neg_i.value]
        if not all(v.is_resolvable for v in vals):
            self.errors.append(f"program port has unknown values {vals}")
            return
        op, row, col, neg = (int(v) for v in vals)
        if row >= m.cfg.rows or col >= m.cfg.cols:
            self.errors.append(f"program operation on cell ({row}, {col}) outside the array")
            return
        if PulseOp(op) is PulseOp.VERIFY:
            code = m.verify(row, col, neg)
            self.log.verifies.append((row, col, neg, code))
            self._verify_pending = code
        else:
            m.pulse(op, row, col, neg)
            self.log.pulses.append((op, row, col, neg))


class KeyedReadAdapter:
    """Event-driven read-only adapter whose read-noise keys come from the bench.

    For tops that run many reads on several macros: the coroutine sleeps until
    ``adc_start_i`` rises (no Python work on idle cycles) and then follows the same timing as
    :class:`XbarMacroAdapter`: the read is computed on the falling edge before the sampling
    edge, ``adc_done_o`` is high for the rising edge ``T_CONV_CYC`` later, the codes stay on
    ``adc_code_o`` until the next conversion completes. The read's ``(epoch, read number)``
    is asked from ``key_fn`` at that falling edge, so a bench can number reads semantically
    (e.g. by timestep and sample, :class:`rramcim.apps.prime.rtl.ReadKeys`) instead of by
    reset epochs. Without ``program`` the program port is not used (``prog_ready_o`` = 0, so
    a program request would hang visibly); a reset cancels a conversion in flight.

    With ``program=True`` the adapter also serves the program/verify port, event-driven:
    ``prog_ready_o`` = 1; a second coroutine sleeps on the rising edge of ``prog_valid_i``
    and, while an operation is active, wakes at every falling edge: each cycle with
    ``prog_valid_i`` = 1 (sampled at the falling edge before the rising edge that completes
    the handshake) performs ``macro.pulse(op, row, col, neg)``, or for VERIFY
    ``macro.verify(row, col, neg)`` with ``verify_valid_o`` high for the rising edge one cycle
    later and the code on ``verify_code_o`` (the timing of :class:`XbarMacroAdapter`).
    SET / RESET pulses are deferred and applied in batches (:meth:`flush`, same draws as one
    ``pulse`` per cell): before a verify or a read, and on :meth:`flush` / :meth:`stop` (call
    :meth:`flush` before looking at the macro's cells from outside).
    Operations are recorded in :attr:`log` (pulses, verifies); a reset drops a pending verify
    answer. A macro with fewer ADC channels than the shell's ``N_ADC`` packs its own channels;
    the upper channels read 0.

    Args:
        shell: cocotb handle of the shell instance.
        clk: clock handle.
        rst_n: active-low reset handle.
        macro: the analogue model (already programmed).
        key_fn: called once per read, returns ``(epoch, read number)``.
        t_conv_cyc: conversion time in clock cycles (>= 1).
        lookup: optional ``lookup(epoch, k, wl, group) -> codes | None``: precomputed codes of
            this exact read (same key, word-line bits and group), e.g.
            :class:`rramcim.apps.prime.rtl.PrefetchedReads`; ``None`` computes it live.
        clk_period_ns: the clock period; when given, the conversion time is waited as one
            timer (fewer Python wake-ups per read) instead of edge by edge. A reset pulse
            that begins during the conversion still cancels it (a watcher counts the falling
            edges of ``rst_n``); a start during the conversion is not seen by the adapter
            (cim_adc_if checks that itself).
        program: also serve the program/verify port (see above).
    """

    def __init__(  # noqa: PLR0913
        self,
        shell,  # noqa: ANN001
        clk,  # noqa: ANN001
        rst_n,  # noqa: ANN001
        macro: CrossbarMacro,
        key_fn,  # noqa: ANN001
        t_conv_cyc: int = 4,
        lookup=None,  # noqa: ANN001
        clk_period_ns: float | None = None,
        program: bool = False,
    ) -> None:
        if t_conv_cyc < 1:
            raise ValueError(f"t_conv_cyc = {t_conv_cyc} must be >= 1")
        self.shell, self.clk, self.rst_n = shell, clk, rst_n
        self.macro, self.key_fn, self.lookup = macro, key_fn, lookup
        self.program = bool(program)
        self.log = AdapterLog()
        self._prog = None
        self._deferred: list[tuple[int, int]] = []
        self._deferred_key: tuple[int, int] | None = None
        self.t_conv_cyc = int(t_conv_cyc)
        self.clk_period_ns = clk_period_ns
        self.errors: list[str] = []
        self.reads = 0
        self.keys: list[tuple[int, int]] = []
        self.record_keys = False
        self._task = None
        self._watch = None
        self._resets = 0  # falling edges of rst_n seen so far

    def start(self) -> None:
        """Start the adapter coroutine (call once, after the clock is running)."""
        import cocotb

        sh = self.shell
        sh.adc_done_o.value = 0
        sh.adc_code_o.value = 0
        sh.prog_ready_o.value = int(self.program)
        sh.verify_valid_o.value = 0
        sh.verify_code_o.value = 0
        self._task = cocotb.start_soon(self._run())
        self._watch = cocotb.start_soon(self._count_resets())
        if self.program:
            self._prog = cocotb.start_soon(self._run_program())

    def stop(self) -> None:
        """Stop the adapter coroutines."""
        for task in (self._task, self._watch, self._prog):
            if task is not None:
                task.cancel()
        self._task = self._watch = self._prog = None
        self.flush()

    def flush(self) -> None:
        """Apply the pulses deferred so far (see :meth:`_pulse`); call before inspecting the
        macro's cells from outside the adapter (reads and verifies flush by themselves)."""
        if not self._deferred:
            return
        (op, neg), cells = self._deferred_key, self._deferred
        self._deferred, self._deferred_key = [], None
        rows = torch.tensor([r for r, _ in cells], dtype=torch.int64)
        cols = torch.tensor([c for _, c in cells], dtype=torch.int64)
        self.macro.pulse_cells(op, neg, rows, cols)

    def _pulse(self, op: int, row: int, col: int, neg: int) -> None:
        """One SET / RESET pulse, deferred: consecutive pulses of one kind and side are applied
        by one ``pulse_cells`` call (the same draws and counters as one ``pulse`` per cell in
        order), before the next verify, read, other kind of pulse or :meth:`flush`."""
        if PulseOp(op) is PulseOp.FORM:
            self.flush()
            self.macro.pulse(op, row, col, neg)
            return
        key = (op, neg)
        if self._deferred and key != self._deferred_key:
            self.flush()
        self._deferred_key = key
        self._deferred.append((row, col))
        if len(self._deferred) >= 4096:
            self.flush()

    async def _run_program(self) -> None:
        from cocotb.triggers import FallingEdge, RisingEdge

        sh, m = self.shell, self.macro
        pending: int | None = None  # verify code to present at the next falling edge
        high = False  # verify_valid_o is high
        active = False  # prog_valid_i was high at the last falling edge
        while True:
            if pending is None and not high and not active:
                await RisingEdge(sh.prog_valid_i)  # idle: no Python work per cycle
            await FallingEdge(self.clk)
            active = False
            if high:
                sh.verify_valid_o.value = 0
                high = False
            if self._in_reset():
                pending = None
                continue
            if pending is not None:
                sh.verify_code_o.value = pending
                sh.verify_valid_o.value = 1
                high, pending = True, None
            pv = sh.prog_valid_i.value
            if not (pv.is_resolvable and int(pv)):
                continue
            active = True  # valid may stay high for the next operation: no rising edge then
            vals = [sh.prog_op_i.value, sh.prog_row_i.value, sh.prog_col_i.value]
            vals.append(sh.prog_neg_i.value)
            if not all(v.is_resolvable for v in vals):
                self.errors.append(f"program port has unknown values {vals}")
                continue
            op, row, col, neg = (int(v) for v in vals)
            if row >= m.cfg.rows or col >= m.cfg.cols:
                self.errors.append(f"program operation on cell ({row}, {col}) outside the array")
                continue
            if PulseOp(op) is PulseOp.VERIFY:
                self.flush()
                code = m.verify(row, col, neg)
                self.log.verifies.append((row, col, neg, code))
                pending = code
            else:
                self._pulse(op, row, col, neg)
                self.log.pulses.append((op, row, col, neg))

    async def _count_resets(self) -> None:
        from cocotb.triggers import FallingEdge

        while True:
            await FallingEdge(self.rst_n)
            self._resets += 1

    def _in_reset(self) -> bool:
        v = self.rst_n.value
        return not v.is_resolvable or int(v) == 0

    async def _run(self) -> None:
        from cocotb.simtime import get_sim_time
        from cocotb.triggers import FallingEdge, RisingEdge, Timer

        sh, m = self.shell, self.macro
        per = self.clk_period_ns
        at_fall = False  # True: the loop resumes at a falling edge (after a conversion)
        while True:
            if not at_fall:
                await RisingEdge(sh.adc_start_i)
                await FallingEdge(self.clk)
            at_fall = False
            st = sh.adc_start_i.value
            if self._in_reset() or not st.is_resolvable or not int(st):
                continue  # a glitch, or reset: nothing is sampled
            now = get_sim_time("ns")
            wl, en, mux = _sample(sh.wl_i), _sample(sh.rd_en_i), _sample(sh.mux_sel_i)
            bad = [n for n, v in (("wl_i", wl), ("rd_en_i", en), ("mux_sel_i", mux)) if v is None]
            if bad:
                self.errors.append(f"{', '.join(bad)} unknown at sampling time {now} ns")
                continue
            group = mux
            if group >= m.cfg.n_groups:
                self.errors.append(f"mux_sel_i = {group} >= {m.cfg.n_groups} groups at {now} ns")
                continue
            self.flush()
            epoch, k = self.key_fn()
            if self.record_keys:
                self.keys.append((epoch, k))
            cached = self.lookup(epoch, k, wl, group) if self.lookup and en else None
            if cached is None:
                plane = _bits_to_plane(wl, m.cfg.rows) if en else torch.zeros(1, m.cfg.rows)
                cached = m.read(plane, group, k, epoch=epoch, check_binary=False).codes
                cached = cached.reshape(-1).tolist()
            packed = pack(cached, m.cfg.adc_bits)
            self.reads += 1
            cut = False
            if per is not None:
                resets = self._resets
                await Timer(self.t_conv_cyc * per, "ns")  # lands on the falling edge
                cut = self._in_reset() or self._resets != resets
            else:
                for _ in range(self.t_conv_cyc):
                    await FallingEdge(self.clk)
                    if self._in_reset():
                        cut = True
                        break
                    st = sh.adc_start_i.value
                    if st.is_resolvable and int(st):
                        self.errors.append(
                            f"adc_start_i during a conversion at {get_sim_time('ns')} ns"
                        )
            if cut:
                continue
            sh.adc_code_o.value = packed
            sh.adc_done_o.value = 1
            if per is not None:
                await Timer(per, "ns")
            else:
                await FallingEdge(self.clk)
            sh.adc_done_o.value = 0
            at_fall = True


class ResetEpochKeys:
    """Read-noise keys of a macro that numbers its reads from 0 after each reset.

    ``epoch`` counts resets (0 after the first one, -1 before); call :meth:`new_epoch` at each
    reset (the bench's reset routine, i.e. at the falling edge of ``rst_n``). Calling the
    object returns ``(epoch, read number)`` and advances the read number: the ``key_fn`` of
    :class:`KeyedReadAdapter` for tops whose reads of coordinate ``v`` start at ``v * R``
    (golden ``first_read = first_vector * reads_per_vector``).
    """

    def __init__(self) -> None:
        self.epoch = -1
        self.reads = 0

    def new_epoch(self) -> None:
        """A reset: next epoch, reads numbered from 0 again."""
        self.epoch += 1
        self.reads = 0

    def __call__(self) -> tuple[int, int]:
        k = self.reads
        self.reads += 1
        return self.epoch, k

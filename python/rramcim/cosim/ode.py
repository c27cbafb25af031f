"""cocotb adapter: the Python solver board behind the ``cim_ode_macro`` HDL shell.

:class:`OdeMacroAdapter` decodes the DAC SPI bus the RTL drives, keeps the DAC chips'
registers in a :class:`~rramcim.analog.dac.DacBank`, integrates an
:class:`~rramcim.analog.ode.OdeSolver` for one tick at every LDAC pulse (with the switch
pattern the RTL holds at that moment) and answers ADC conversions with the solver's state.
The hardware model (:mod:`rramcim.golden.ode_top`) drives the *same* two objects from the
sequencer's golden trace, so the co-simulation and the model integrate the same ticks with
the same codes and the same keyed noise.

Timing (one Python wake-up per clock cycle, at the falling edge, where the RTL's registered
outputs are stable; cycle numbers count these wake-ups from :meth:`OdeMacroAdapter.start`):

* SPI: the pins are decoded by :class:`rramcim.golden.dac_spi.SpiDecoder` (the mode given);
  every complete frame is written into the DAC bank when its chip-select window ends; an LDAC
  pulse loads the DAC outputs when it ends and then runs one solver tick;
* ADC: ``adc_start_i`` seen high at falling edge *f* samples the state (all ticks integrated
  so far) and ``adc_done_o`` is high from falling edge *f + T_CONV_CYC* for one cycle, with
  the codes on ``adc_code_o`` (held until the next conversion completes);
* reset (``rst_n`` low): a conversion in flight is cancelled and the decoder drops a frame or
  pulse in progress (reported as cut); the DAC registers and the analogue state are kept
  (the board is not reset by the digital reset; the sequencer's RESET phase clears the
  integrators).

Every frame, LDAC tick (switches and codes) and conversion is logged in :attr:`log`; rule
violations (a cut or malformed frame, an unknown switch pattern, a start during a conversion,
X/Z on a pin) are appended to :attr:`errors` and raised, which fails the running test.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from rramcim.analog.dac import DacBank
from rramcim.analog.ode import OdeSolver, phase_from_switches
from rramcim.fixedpoint import pack
from rramcim.golden.dac_spi import LdacPulse, PinSample, SpiDecoder, SpiFrame


@dataclass
class OdeTickRecord:
    """One LDAC tick as the board saw it.

    Attributes:
        cycle: adapter cycle at which the LDAC pulse ended.
        sw: switch pattern ``{S4, S3, S2, S1}`` at that moment.
        codes: DAC output codes of every channel (``ch = chip * n_addr + addr``).
    """

    cycle: int
    sw: int
    codes: list[int]


@dataclass
class OdeMacroLog:
    """What the adapter observed (for scoreboards and coverage)."""

    frames: list[SpiFrame] = field(default_factory=list)
    ticks: list[OdeTickRecord] = field(default_factory=list)
    samples: list[list[int]] = field(default_factory=list)
    sample_ticks: list[int] = field(default_factory=list)

    def clear(self) -> None:
        """Forget everything logged."""
        self.frames.clear()
        self.ticks.clear()
        self.samples.clear()
        self.sample_ticks.clear()


class OdeMacroAdapter:
    """Drives the outputs of a ``cim_ode_macro`` shell from a DAC bank and a solver.

    Args:
        shell: cocotb handle of the shell instance.
        clk: clock handle.
        rst_n: active-low reset handle (the periphery's reset).
        bank: DAC register model (its ``spi`` configuration gives chips, channels, widths
            and the SPI mode).
        solver: the solver model (one run at a time: call :meth:`begin_run` per run).
        channel_map: for each solver channel (``solver.cfg.channel_layout()`` order), the DAC
            channel ``ch = chip * n_addr + addr`` that drives it.
        n_adc: ADC channels of the shell (``N_ADC`` >= ``solver.cfg.n_state``).
        adc_bits: ADC code width of the shell (``ADC_BITS``, equal to the solver's).
        t_conv_cyc: conversion time in clock cycles, >= 1.
        on_event: optional callback with every decoded frame and LDAC pulse (a bench's
            scoreboard), called after the board has taken it.
        clk_period_ns: the clock period; when given, the adapter sleeps through idle
            stretches (chip select and LDAC high, no conversion running) until chip select
            or LDAC falls, a conversion starts or the reset is asserted, and counts the
            skipped cycles from the simulation time. The pins cannot change unseen in those
            stretches (every change starts with one of those edges), so the decoded frames
            are the same; only the bus-idle rules (SCLK at CPOL, no MOSI activity) are not
            checked while asleep (the DAC driver's own bench checks them).
    """

    def __init__(  # noqa: PLR0913
        self,
        shell,  # noqa: ANN001
        clk,  # noqa: ANN001
        rst_n,  # noqa: ANN001
        bank: DacBank,
        solver: OdeSolver,
        channel_map: Sequence[int],
        *,
        n_adc: int,
        adc_bits: int,
        t_conv_cyc: int = 4,
        on_event: Callable[[SpiFrame | LdacPulse], None] | None = None,
        clk_period_ns: float | None = None,
    ) -> None:
        cfg = solver.cfg
        if len(channel_map) != cfg.n_channels:
            raise ValueError(
                f"channel_map has {len(channel_map)} entries, the solver {cfg.n_channels} channels"
            )
        bad = [c for c in channel_map if not 0 <= int(c) < bank.n_channels]
        if bad:
            raise ValueError(f"channel_map: DAC channels {bad} outside 0 .. {bank.n_channels - 1}")
        if n_adc < cfg.n_state:
            raise ValueError(f"n_adc = {n_adc} < the solver's {cfg.n_state} states")
        if adc_bits != cfg.adc_bits:
            raise ValueError(f"adc_bits = {adc_bits}, the solver converts {cfg.adc_bits} bits")
        if t_conv_cyc < 1:
            raise ValueError(f"t_conv_cyc = {t_conv_cyc} must be >= 1")
        self.shell, self.clk, self.rst_n = shell, clk, rst_n
        self.bank, self.solver = bank, solver
        self.channel_map = np.asarray([int(c) for c in channel_map], dtype=np.int64)
        self.n_adc, self.adc_bits, self.t_conv_cyc = n_adc, adc_bits, int(t_conv_cyc)
        self.on_event = on_event
        self.clk_period_ns = clk_period_ns
        spi = bank.spi
        self.decoder = SpiDecoder(spi.n_chips, spi.cpol, spi.cpha, frame_w=spi.frame_w)
        self.log = OdeMacroLog()
        self.errors: list[str] = []
        self.cycle = -1
        self._task = None

    # -- control -----------------------------------------------------------------------
    def begin_run(self, run_id: int) -> None:
        """Start a new solver run (keyed noise of ``run_id``) and clear the log."""
        self.solver.start([int(run_id)])
        self.log.clear()

    def start(self) -> None:
        """Start the adapter coroutine (call once, after the clock is running)."""
        import cocotb

        sh = self.shell
        sh.adc_done_o.value = 0
        sh.adc_code_o.value = 0
        self._task = cocotb.start_soon(self._run())

    def stop(self) -> None:
        """Stop the adapter coroutine."""
        if self._task is not None:
            self._task.cancel()
            self._task = None

    def _fail(self, msg: str) -> None:
        self.errors.append(msg)
        raise AssertionError(f"cim_ode_macro: {msg}")

    # -- events ------------------------------------------------------------------------
    def _take(self, ev: SpiFrame | LdacPulse) -> None:
        if isinstance(ev, SpiFrame):
            if not ev.complete:
                self._fail(
                    f"frame in cycles {ev.start_cycle}..{ev.end_cycle} has {ev.n_bits} bits"
                    f"{' (cut by a reset)' if ev.aborted else ''}, the chips take "
                    f"{self.bank.spi.frame_w}"
                )
            try:
                self.bank.frame(ev.words, ev.n_bits)
            except ValueError as e:
                self._fail(f"frame in cycles {ev.start_cycle}..{ev.end_cycle}: {e}")
            self.log.frames.append(ev)
        elif not ev.aborted:
            sw_v = str(self.shell.sw_i.value)
            if sw_v.strip("01"):
                self._fail(f"sw_i = {sw_v} (X/Z) at the LDAC pulse ending in cycle {ev.end_cycle}")
            sw = int(sw_v, 2)
            try:
                phase_from_switches(sw)
            except ValueError as e:
                self._fail(f"LDAC pulse ending in cycle {ev.end_cycle}: {e}")
            codes = self.bank.load()
            self.solver.step(sw, codes[self.channel_map][None, :])
            self.log.ticks.append(OdeTickRecord(ev.end_cycle, sw, codes.tolist()))
        if self.on_event is not None:
            self.on_event(ev)

    def _pins(self) -> PinSample:
        sh = self.shell
        vals = []
        for name in ("cs_n_i", "sclk_i", "mosi_i", "ldac_n_i"):
            bits = str(getattr(sh, name).value)
            if bits.strip("01"):
                self._fail(f"{name} = {bits} (X/Z) in cycle {self.cycle}")
            vals.append(int(bits, 2))
        return PinSample(*vals)

    def _idle(self, pins: PinSample) -> bool:
        return pins.cs_n == 1 and pins.ldac_n == 1 and str(self.shell.adc_start_i.value) == "0"

    async def _run(self) -> None:
        from cocotb.simtime import get_sim_time
        from cocotb.triggers import FallingEdge, First, RisingEdge

        sh = self.shell
        fe = FallingEdge(self.clk)
        pending: tuple[int, int] | None = None  # (due cycle, packed codes)
        done_high = False
        in_reset = False
        per = self.clk_period_ns
        last_ns = None
        skip = False
        while True:
            if skip:  # asleep until the bus or the ADC wakes up (see clk_period_ns)
                await First(
                    FallingEdge(sh.cs_n_i),
                    FallingEdge(sh.ldac_n_i),
                    RisingEdge(sh.adc_start_i),
                    FallingEdge(self.rst_n),
                )
            await fe
            now = get_sim_time("ns")
            if per is not None and last_ns is not None:
                self.cycle += max(1, round((now - last_ns) / per))
            else:
                self.cycle += 1
            last_ns = now
            skip = False
            cyc = self.cycle
            if done_high:
                sh.adc_done_o.value = 0
                done_high = False
            rst = str(self.rst_n.value)
            if rst != "1":
                if not in_reset:
                    in_reset = True
                    pending = None
                    for ev in self.decoder.abort(cyc, get_sim_time("ns")):
                        if isinstance(ev, SpiFrame):
                            continue  # a frame cut by the reset never reaches a chip
                        if self.on_event is not None:
                            self.on_event(ev)
                continue
            in_reset = False
            pins = self._pins()
            for ev in self.decoder.step(pins, cyc, now):
                self._take(ev)
            if pending is not None and cyc == pending[0]:
                sh.adc_code_o.value = pending[1]
                sh.adc_done_o.value = 1
                done_high = True
                pending = None
            st = str(sh.adc_start_i.value)
            if st == "1":
                if pending is not None:
                    self._fail(f"adc_start_i during a conversion in cycle {cyc}")
                codes = self.solver.sample()[0].tolist()
                codes += [0] * (self.n_adc - len(codes))
                self.log.samples.append(codes[: self.solver.cfg.n_state])
                self.log.sample_ticks.append(len(self.log.ticks))
                pending = (cyc + self.t_conv_cyc, pack(codes, self.adc_bits))
            elif st.strip("01"):
                self._fail(f"adc_start_i = {st} (X/Z) in cycle {cyc}")
            skip = per is not None and pending is None and not done_high and self._idle(pins)

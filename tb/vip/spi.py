"""SPI verification IP for the cocotb benches: a passive monitor of a multi-MOSI SPI bus
(shared SCLK and chip select, one MOSI line per slave, optional shared LDAC), as driven by
``rtl/cim_dac_spi.sv`` to a row of DAC chips.

Component (it only reads pins):

* :class:`SpiMonitor` - samples CS, SCLK, every MOSI line and LDAC once per clock cycle of
  the master, takes MOSI on the slave's sampling edge of the configured mode (CPOL/CPHA),
  checks the bus rules, counts the bits of every CS-low window and reports each window as a
  :class:`~rramcim.golden.dac_spi.SpiFrame` (per-line words, bit count, SCLK edge cycles,
  start/end cycles and times) and each LDAC pulse as a
  :class:`~rramcim.golden.dac_spi.LdacPulse`. The decoding and the checks are the golden
  :class:`~rramcim.golden.dac_spi.SpiDecoder`, so a Python-only test can run the same code
  on a golden pin timeline.

Why synchronous sampling: the master's pins are flip-flop outputs of one clock. Sampling
them once per cycle, half a cycle after they change, sees every SCLK edge (the half period is
at least one cycle), measures lead, lag, half period, gaps and LDAC width exactly in cycles,
and tells apart what an edge-triggered sampler cannot: whether MOSI changed *on* a
sampling edge (both are updated by the same clock edge, so their value-change callbacks come
in no defined order). A master on another clock would need a sampling clock at least twice
as fast as its fastest pin.

Checks (a :class:`~rramcim.golden.dac_spi.SpiProtocolError`, an ``AssertionError``, names
the rule and the cycle): SCLK at CPOL whenever CS is high; no SCLK edge in the cycle CS
falls or rises; MOSI unchanged across a sampling edge; optionally MOSI equal to an idle word
while CS is high; LDAC not low while CS is low (unless allowed); no X/Z on a pin
(:class:`SpiMonitorError`). Frame length is *reported*, not enforced: ``frame.complete`` is
False when the bit count differs from ``frame_w``, so the user decides (a bench that resets
the master mid-frame expects one cut frame, see :meth:`SpiMonitor.abort`).

Timing convention (shared by every rramcim bench, see ``tb/vip/apb.py``): inputs change at
falling edges; the monitor samples in the ``ReadOnly`` phase after each falling edge. Cycle
numbers are the caller's (passed to :meth:`SpiMonitor.observe`) or the monitor's own count
of samples (when it runs on its own with :meth:`SpiMonitor.start`). Times are in ns.

Use it either from the bench's per-cycle loop (:meth:`SpiMonitor.sample` then
:meth:`SpiMonitor.observe` in the ``ReadOnly`` phase after each falling edge) or in the
background with :meth:`SpiMonitor.start`, which hands every frame and pulse to ``callback``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import cocotb
from cocotb.handle import SimHandleBase
from cocotb.simtime import get_sim_time
from cocotb.task import Task
from cocotb.triggers import FallingEdge, ReadOnly

from rramcim.golden.dac_spi import (
    LdacPulse,
    PinSample,
    SpiDecoder,
    SpiFrame,
    SpiMode,
    SpiProtocolError,
)

__all__ = [
    "LdacPulse",
    "PinSample",
    "SpiFrame",
    "SpiMode",
    "SpiMonitor",
    "SpiMonitorError",
    "SpiProtocolError",
    "SpiSignalNames",
]


class SpiMonitorError(SpiProtocolError):
    """A pin the monitor must read holds X or Z."""


@dataclass(frozen=True)
class SpiSignalNames:
    """Names of the bus pins on the DUT handle. ``mosi`` is one vector (bit k: slave k);
    ``ldac_n`` may be None for a bus without LDAC."""

    cs_n: str = "cs_n_o"
    sclk: str = "sclk_o"
    mosi: str = "mosi_o"
    ldac_n: str | None = "ldac_n_o"

    @classmethod
    def with_prefix(cls, prefix: str) -> SpiSignalNames:
        """``<prefix>cs_n_o`` ... ``<prefix>ldac_n_o`` (e.g. ``dac_`` on a top)."""
        d = cls()
        return cls(prefix + d.cs_n, prefix + d.sclk, prefix + d.mosi, prefix + (d.ldac_n or ""))


class SpiMonitor:
    """Passive monitor of a multi-MOSI SPI bus with optional LDAC.

    Args:
        dut: handle holding the bus pins (the master or a top).
        clk: the master's clock (sampling clock, see the module docstring).
        mode: the SPI mode (or give ``cpol`` and ``cpha``).
        cpol: SCLK idle level, 0 or 1 (with ``cpha``, instead of ``mode``).
        cpha: 0: slave samples on the leading edge, 1: on the trailing edge.
        frame_w: expected bits per CS-low window (sets ``frame.complete``); None: any.
        idle_mosi: MOSI word required while CS is high (e.g. 0), or None (not checked).
        ldac_in_frame_ok: allow LDAC low while CS is low.
        names: pin names (default :class:`SpiSignalNames`).
        callback: called with every frame and pulse (background mode and :meth:`observe`).
        log: logger for one debug line per frame (default ``cocotb.spi``).

    Attributes:
        n_mosi: MOSI lines (the width of the ``mosi`` pin).
        frames: complete frames seen, in order (kept only with ``keep=True`` on
            :meth:`start`; the per-cycle user collects :meth:`observe`'s results itself).
        n_frames: CS-low windows reported (complete or not).
        n_incomplete: windows whose bit count differs from ``frame_w`` or that were cut.
        n_ldac: LDAC pulses reported.
    """

    def __init__(
        self,
        dut: SimHandleBase,
        clk: SimHandleBase,
        *,
        mode: SpiMode | None = None,
        cpol: int | None = None,
        cpha: int | None = None,
        frame_w: int | None = None,
        idle_mosi: int | None = None,
        ldac_in_frame_ok: bool = False,
        names: SpiSignalNames | None = None,
        callback: Callable[[SpiFrame | LdacPulse], None] | None = None,
        log: logging.Logger | None = None,
    ) -> None:
        if mode is not None:
            if cpol is not None or cpha is not None:
                raise ValueError("give either mode or cpol/cpha, not both")
            cpol, cpha = mode.cpol, mode.cpha
        if cpol is None or cpha is None:
            raise ValueError("the SPI mode is required (mode=, or cpol= and cpha=)")
        n = names or SpiSignalNames()
        self.clk = clk
        self._cs_n = getattr(dut, n.cs_n)
        self._sclk = getattr(dut, n.sclk)
        self._mosi = getattr(dut, n.mosi)
        self._ldac_n = getattr(dut, n.ldac_n) if n.ldac_n else None
        self.n_mosi = len(self._mosi)
        self.decoder = SpiDecoder(
            self.n_mosi,
            cpol,
            cpha,
            frame_w=frame_w,
            idle_mosi=idle_mosi,
            ldac_in_frame_ok=ldac_in_frame_ok,
        )
        self.callback = callback
        self.log = log or logging.getLogger("cocotb.spi")
        self.frames: list[SpiFrame] = []
        self.pulses: list[LdacPulse] = []
        self._keep = False
        self.n_frames = 0
        self.n_incomplete = 0
        self.n_ldac = 0
        self._cycle = -1
        self._task: Task[None] | None = None

    @property
    def mode(self) -> SpiMode:
        """The SPI mode being decoded."""
        return SpiMode(2 * self.decoder.cpol + self.decoder.cpha)

    def sample(self) -> PinSample:
        """The bus now (call in the ``ReadOnly`` phase after a falling edge).

        Raises:
            SpiMonitorError: a pin holds X or Z.
        """
        try:
            return PinSample(
                int(self._cs_n.value),
                int(self._sclk.value),
                int(self._mosi.value),
                int(self._ldac_n.value) if self._ldac_n is not None else 1,
            )
        except ValueError as e:
            raise SpiMonitorError(f"X/Z on an SPI pin at {get_sim_time('ns'):.1f} ns: {e}") from e

    def observe(self, s: PinSample, cycle: int | None = None) -> list[SpiFrame | LdacPulse]:
        """Take one cycle's sample; return the frames and LDAC pulses that ended in it.

        Args:
            s: the sample (:meth:`sample`).
            cycle: the caller's cycle number (default: one more than the previous one).

        Raises:
            SpiProtocolError: a bus rule is broken (see the module docstring).
        """
        self._cycle = self._cycle + 1 if cycle is None else cycle
        return self._report(self.decoder.step(s, self._cycle, get_sim_time("ns")))

    def abort(self, cycle: int | None = None) -> list[SpiFrame | LdacPulse]:
        """The master is being reset (call when the reset is asserted): report the frame and
        the LDAC pulse in progress as cut (``aborted``) and start afresh."""
        c = self._cycle + 1 if cycle is None else cycle
        return self._report(self.decoder.abort(c, get_sim_time("ns")))

    def reset(self) -> None:
        """Forget the frame and pulse in progress without reporting them."""
        self.decoder.reset()

    def _report(self, events: list[SpiFrame | LdacPulse]) -> list[SpiFrame | LdacPulse]:
        for ev in events:
            if isinstance(ev, SpiFrame):
                self.n_frames += 1
                if not ev.complete:
                    self.n_incomplete += 1
                if self._keep:
                    self.frames.append(ev)
                self.log.debug(
                    "frame cycles %d..%d, %d bits%s: %s",
                    ev.start_cycle,
                    ev.end_cycle,
                    ev.n_bits,
                    " (cut)" if ev.aborted else "",
                    " ".join(f"{w:#x}" for w in ev.words),
                )
            else:
                self.n_ldac += 1
                if self._keep:
                    self.pulses.append(ev)
            if self.callback is not None:
                self.callback(ev)
        return events

    def start(self, *, keep: bool = False) -> None:
        """Sample every cycle in the background (after each falling edge of ``clk``),
        feeding ``callback``; with ``keep`` also collect :attr:`frames` and :attr:`pulses`."""
        self._keep = keep
        if self._task is None:
            self._task = cocotb.start_soon(self._run())

    def stop(self) -> None:
        """Stop the background loop."""
        if self._task is not None:
            self._task.cancel()
            self._task = None

    async def _run(self) -> None:
        fe = FallingEdge(self.clk)
        while True:
            await fe
            await ReadOnly()
            self.observe(self.sample())

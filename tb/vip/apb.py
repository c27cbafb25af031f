"""APB3 (AMBA 3 APB) verification IP for the cocotb benches: master BFM, passive monitor and a
register-level front end driven by a :class:`~rramcim.golden.csr.RegMap`.

Components (the only place that touches APB pins):

* :class:`ApbMaster` - drives ``psel``, ``penable``, ``pwrite``, ``paddr``, ``pwdata`` and
  completes transfers on ``pready``; ``await write(addr, data)`` -> ``pslverr``,
  ``await read(addr)`` -> ``(prdata, pslverr)``. Optional idle cycles before each transfer
  (fixed or random from an explicit generator), don't-care values on the bus while idle,
  a wait-state limit, and a clear :class:`ApbProtocolError` when the slave drives X/Z on a
  signal the master must sample.
* :class:`ApbMonitor` - passive: samples the bus once per cycle, checks the master's side of
  the protocol (setup before access, stable address/control/data, ``penable`` only with
  ``psel``) and reports each completed transfer as an :class:`ApbTransfer`.
* :class:`ApbRegs` - register/field access by name through an :class:`ApbMaster`.

Timing convention (shared by every rramcim bench): inputs of the DUT change only at falling
edges of the clock; a value read in the ``ReadOnly`` phase right after a falling edge is the
value the DUT samples at the next rising edge. The master drives at falling edges and samples
``pready``/``pslverr``/``prdata`` in that ``ReadOnly`` phase; a transfer returns at the rising
edge that completes it. A setup phase can follow that edge directly (back-to-back transfers,
``psel`` stays high) if the next call is made before the next falling edge, i.e. straight
after the previous ``await``; otherwise the bus goes idle at that falling edge.

Signal names: :class:`ApbSignalNames`; the default is the lowRISC-style slave port of
``rtl/cim_csr.sv`` (``psel_i`` ... ``pslverr_o``), optionally with a prefix (``apb_psel_i``).

Reset: the master does not watch the reset. Call :meth:`ApbMaster.drive_idle` while the reset
is asserted (the bus must be idle then) and do not assert the reset while a transfer is in
flight: APB3 returns to IDLE on reset, and a transfer cut by a reset has no defined outcome.

Units: addresses are byte addresses, data are unsigned integers of the bus width (32 bits in
rramcim), times are in ns, wait states and idle gaps in clock cycles.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from dataclasses import dataclass

import cocotb
from cocotb.handle import SimHandleBase
from cocotb.simtime import get_sim_time
from cocotb.task import Task
from cocotb.triggers import FallingEdge, Lock, ReadOnly, RisingEdge

from rramcim.golden.csr import Register, RegMap, SlotKind

__all__ = [
    "ApbError",
    "ApbMaster",
    "ApbMonitor",
    "ApbProtocolError",
    "ApbRegs",
    "ApbSample",
    "ApbSignalNames",
    "ApbSlaveError",
    "ApbTransfer",
]


class ApbError(AssertionError):
    """Base of the APB VIP's errors (an ``AssertionError``, so a bench counts it as a
    failure)."""


class ApbProtocolError(ApbError):
    """A bus rule was broken: X/Z where a value must be known, a missing setup phase, a
    signal changing during a transfer, or more wait states than allowed."""


class ApbSlaveError(ApbError):
    """:class:`ApbRegs`: a transfer expected to succeed was answered with ``pslverr``."""


@dataclass(frozen=True)
class ApbSignalNames:
    """Names of the APB pins on the DUT handle (inputs and outputs of the slave)."""

    psel: str = "psel_i"
    penable: str = "penable_i"
    pwrite: str = "pwrite_i"
    paddr: str = "paddr_i"
    pwdata: str = "pwdata_i"
    prdata: str = "prdata_o"
    pready: str = "pready_o"
    pslverr: str = "pslverr_o"

    @classmethod
    def lowrisc(cls, prefix: str = "") -> ApbSignalNames:
        """``<prefix>psel_i`` ... ``<prefix>pslverr_o`` (slave-side names with suffixes)."""
        return cls(**{k: prefix + v for k, v in cls().__dict__.items()})


@dataclass(frozen=True)
class ApbTransfer:
    """One completed APB transfer.

    Attributes:
        write: a write (True) or a read.
        addr: byte address.
        data: the write data, or the read data (``prdata``; 0 if the slave drove X/Z on it in
            a transfer answered with ``pslverr``, where the data are undefined).
        slverr: ``pslverr`` in the completing cycle.
        wait_states: access-phase cycles with ``pready`` = 0 (0 for a zero-wait slave).
        t_start_ns: time of the falling edge that started the setup phase, ns.
        t_end_ns: time of the rising edge that completed the transfer, ns (the monitor,
            which samples before that edge, reports the falling edge before it).
    """

    write: bool
    addr: int
    data: int
    slverr: bool
    wait_states: int
    t_start_ns: float
    t_end_ns: float


@dataclass(frozen=True)
class ApbSample:
    """The bus in one cycle, as seen just before the rising edge (see the timing convention).

    Slave outputs that the protocol leaves undefined in this cycle are None when they are
    X/Z (``pready``/``pslverr`` outside access phases, ``prdata`` outside completing reads
    without error); ``paddr``/``pwrite``/``pwdata`` likewise while ``psel`` = 0 (``pwdata``
    also during reads).
    """

    psel: int
    penable: int
    pwrite: int | None
    paddr: int | None
    pwdata: int | None
    prdata: int | None
    pready: int | None
    pslverr: int | None

    @property
    def access(self) -> bool:
        """Access phase of a transfer (``psel`` and ``penable``)."""
        return bool(self.psel and self.penable)

    @property
    def completes(self) -> bool:
        """A transfer completes at the coming edge."""
        return self.access and bool(self.pready)


def _now_ns() -> float:
    return float(get_sim_time("ns"))


def _value(handle: SimHandleBase, name: str, what: str, required: bool) -> int | None:
    """Unsigned value of a pin; None for X/Z unless ``required`` (then a clear error)."""
    v = handle.value
    if v.is_resolvable:
        return int(v)
    if required:
        raise ApbProtocolError(f"{name} is {v!s} (X/Z) {what}, at {_now_ns():.1f} ns")
    return None


class _Pins:
    """Handles of the eight APB pins of one DUT."""

    def __init__(self, dut: SimHandleBase, names: ApbSignalNames) -> None:
        self.names = names
        for k, n in names.__dict__.items():
            try:
                setattr(self, k, getattr(dut, n))
            except AttributeError:
                raise AttributeError(f"APB pin {k}: the DUT has no signal {n!r}") from None
        self.addr_w: int = len(self.paddr)
        self.data_w: int = len(self.pwdata)
        if len(self.prdata) != self.data_w:
            raise ValueError(
                f"{names.prdata} is {len(self.prdata)} bits, {names.pwdata} {self.data_w}"
            )

    def sample(self) -> ApbSample:
        """Read every pin (call in a ``ReadOnly`` phase)."""
        n = self.names
        psel = _value(self.psel, n.psel, "(psel must always be known)", True)
        penable = _value(self.penable, n.penable, "(penable must always be known)", True)
        assert psel is not None and penable is not None
        sel = bool(psel)
        pwrite = _value(self.pwrite, n.pwrite, "while psel = 1", sel)
        paddr = _value(self.paddr, n.paddr, "while psel = 1", sel)
        pwdata = _value(self.pwdata, n.pwdata, "in a write transfer", sel and bool(pwrite))
        acc = sel and bool(penable)
        pready = _value(self.pready, n.pready, "in an access phase", acc)
        done = acc and bool(pready)
        pslverr = _value(self.pslverr, n.pslverr, "in the completing cycle", done)
        rd_ok = done and not pwrite and not pslverr
        prdata = _value(self.prdata, n.prdata, "in a read answered without pslverr", rd_ok)
        return ApbSample(psel, penable, pwrite, paddr, pwdata, prdata, pready, pslverr)


class ApbMaster:
    """APB3 master BFM.

    Args:
        dut: handle holding the APB pins (the slave or a top).
        clk: the bus clock.
        names: pin names (default: :meth:`ApbSignalNames.lowrisc` with ``prefix``).
        prefix: prefix of the default pin names.
        idle_cycles: idle cycles before each transfer: a fixed count, or ``(lo, hi)`` for a
            uniform random count in ``lo .. hi`` (needs ``rng``). 0: back to back when the
            caller issues transfers without waiting in between.
        rng: the generator for random idle counts and don't-care values (explicit and keyed
            by the bench; the global generator is never used). Without it the idle bus
            holds zeros.
        idle_garbage: with ``rng``, drive random values on ``pwrite``/``paddr``/``pwdata``
            while idle and on ``pwdata`` during reads (the slave must ignore them).
        max_wait_states: more access-phase cycles with ``pready`` = 0 than this is an
            :class:`ApbProtocolError` (a hung slave).
        log: logger for one debug line per transfer (default ``cocotb.apb``).

    Attributes:
        listeners: callables given every completed :class:`ApbTransfer`.
        count: transfers completed.
    """

    def __init__(
        self,
        dut: SimHandleBase,
        clk: SimHandleBase,
        *,
        names: ApbSignalNames | None = None,
        prefix: str = "",
        idle_cycles: int | tuple[int, int] = 0,
        rng: random.Random | None = None,
        idle_garbage: bool = True,
        max_wait_states: int = 16,
        log: logging.Logger | None = None,
    ) -> None:
        self._pins = _Pins(dut, names or ApbSignalNames.lowrisc(prefix))
        self.clk = clk
        self.rng = rng
        self.idle_cycles = idle_cycles
        self._check_idle(idle_cycles)
        self.idle_garbage = idle_garbage
        self.max_wait_states = max_wait_states
        self.log = log or logging.getLogger("cocotb.apb")
        self.listeners: list[Callable[[ApbTransfer], None]] = []
        self.count = 0
        self._lock = Lock()
        self._seq = 0  # transfers started; the idle parker acts only if it has not moved
        self.drive_idle()

    @property
    def addr_w(self) -> int:
        """Width of ``paddr`` in bits."""
        return self._pins.addr_w

    @property
    def data_w(self) -> int:
        """Width of ``pwdata``/``prdata`` in bits."""
        return self._pins.data_w

    def _check_idle(self, idle: int | tuple[int, int]) -> None:
        if isinstance(idle, tuple):
            lo, hi = idle
            if not 0 <= lo <= hi:
                raise ValueError(f"idle_cycles range {idle} is not 0 <= lo <= hi")
            if self.rng is None and lo != hi:
                raise ValueError("random idle_cycles need an explicit rng")
        elif idle < 0:
            raise ValueError(f"idle_cycles must be >= 0, got {idle}")

    def _draw_idle(self, idle: int | tuple[int, int] | None) -> int:
        idle = self.idle_cycles if idle is None else idle
        self._check_idle(idle)
        if isinstance(idle, tuple):
            lo, hi = idle
            return lo if lo == hi else self.rng.randint(lo, hi)  # type: ignore[union-attr]
        return idle

    def drive_idle(self) -> None:
        """Drive the IDLE state now (``psel`` = ``penable`` = 0, don't-care elsewhere)."""
        p = self._pins
        p.psel.value = 0
        p.penable.value = 0
        if self.rng is not None and self.idle_garbage:
            p.pwrite.value = self.rng.getrandbits(1)
            p.paddr.value = self.rng.getrandbits(self.addr_w)
            p.pwdata.value = self.rng.getrandbits(self.data_w)
        else:
            p.pwrite.value = 0
            p.paddr.value = 0
            p.pwdata.value = 0

    async def write(
        self, addr: int, data: int, *, idle: int | tuple[int, int] | None = None
    ) -> bool:
        """Write ``data`` to byte address ``addr``; returns ``pslverr``.

        Args:
            addr: byte address (``addr_w`` bits).
            data: unsigned write data (``data_w`` bits).
            idle: idle cycles before this transfer (default: the master's ``idle_cycles``).
        """
        return (await self.transfer(True, addr, data, idle=idle)).slverr

    async def read(
        self, addr: int, *, idle: int | tuple[int, int] | None = None
    ) -> tuple[int, bool]:
        """Read byte address ``addr``; returns ``(prdata, pslverr)``."""
        t = await self.transfer(False, addr, idle=idle)
        return t.data, t.slverr

    async def transfer(
        self, write: bool, addr: int, data: int = 0, *, idle: int | tuple[int, int] | None = None
    ) -> ApbTransfer:
        """One transfer; returns at the rising edge that completes it.

        Raises:
            ValueError: ``addr`` or ``data`` does not fit the bus.
            ApbProtocolError: X/Z on ``pready`` (access phase), on ``pslverr`` (completing
                cycle) or on ``prdata`` (completing read without ``pslverr``); more than
                ``max_wait_states`` wait states. The bus is left in the access phase (raised in
                the ``ReadOnly`` phase of that cycle); a bench that goes on calls
                :meth:`drive_idle` after the next falling edge.
        """
        if not 0 <= addr < 1 << self.addr_w:
            raise ValueError(f"APB address {addr:#x} does not fit {self.addr_w} bits")
        if not 0 <= data < 1 << self.data_w:
            raise ValueError(f"APB data {data:#x} does not fit {self.data_w} bits")
        async with self._lock:
            self._seq += 1
            n_idle = self._draw_idle(idle)
            p = self._pins
            fe = FallingEdge(self.clk)
            for _ in range(n_idle):
                await fe
                self.drive_idle()
            await fe
            t0 = _now_ns()
            # setup phase
            p.psel.value = 1
            p.penable.value = 0
            p.pwrite.value = int(write)
            p.paddr.value = addr
            if write:
                p.pwdata.value = data
            elif self.rng is not None and self.idle_garbage:
                p.pwdata.value = self.rng.getrandbits(self.data_w)
            await fe
            # access phase, held until pready
            p.penable.value = 1
            waits = 0
            while True:
                await ReadOnly()
                s = p.sample()
                if s.pready:
                    break
                waits += 1
                if waits > self.max_wait_states:
                    raise ApbProtocolError(
                        f"{'write' if write else 'read'} of {addr:#x}: pready low for more "
                        f"than {self.max_wait_states} cycles, at {_now_ns():.1f} ns"
                    )
                await fe
            slverr = bool(s.pslverr)
            rdata = 0 if write else (s.prdata if s.prdata is not None else 0)
            await RisingEdge(self.clk)
            tr = ApbTransfer(write, addr, data if write else rdata, slverr, waits, t0, _now_ns())
            self.count += 1
            cocotb.start_soon(self._park(self._seq))
        self.log.debug("%s", tr)
        for f in self.listeners:
            f(tr)
        return tr

    async def _park(self, seq: int) -> None:
        """At the falling edge after a transfer: go idle unless another transfer started."""
        await FallingEdge(self.clk)
        if self._seq == seq:
            self.drive_idle()


class ApbMonitor:
    """Passive APB3 monitor and master-side protocol checker.

    Use it either from the bench's own per-cycle loop (call :meth:`observe` with
    :meth:`sample` in the ``ReadOnly`` phase after each falling edge), or let it run on its
    own with :meth:`start`, giving each completed transfer to ``callback``.

    Checks (an :class:`ApbProtocolError` names the rule and the time): ``psel``/``penable``
    known; ``penable`` only with ``psel``; every access phase preceded by a setup phase;
    ``pwrite``, ``paddr`` and (writes) ``pwdata`` unchanged from the setup phase to the
    completing cycle; after a setup phase or a wait state the next cycle is an access phase
    (``psel`` and ``penable`` high); and the slave-side X/Z rules of :class:`ApbMaster`.

    Args:
        dut: handle holding the APB pins.
        clk: the bus clock.
        names: pin names (default: :meth:`ApbSignalNames.lowrisc` with ``prefix``).
        prefix: prefix of the default pin names.
        callback: called with every completed transfer (when running on its own).
    """

    def __init__(
        self,
        dut: SimHandleBase,
        clk: SimHandleBase,
        *,
        names: ApbSignalNames | None = None,
        prefix: str = "",
        callback: Callable[[ApbTransfer], None] | None = None,
    ) -> None:
        self._pins = _Pins(dut, names or ApbSignalNames.lowrisc(prefix))
        self.clk = clk
        self.callback = callback
        self._task: Task[None] | None = None
        self.reset()

    def reset(self) -> None:
        """Forget the transfer in progress (call when the bus is reset)."""
        self._prev: ApbSample | None = None
        self._t_start_ns = 0.0
        self._waits = 0

    def sample(self) -> ApbSample:
        """The bus now (call in the ``ReadOnly`` phase after a falling edge)."""
        return self._pins.sample()

    def observe(self, s: ApbSample) -> ApbTransfer | None:
        """Check one cycle's sample against the previous one; return the transfer that
        completes at the coming edge, if any."""
        prev, self._prev = self._prev, s
        now = _now_ns()
        if s.penable and not s.psel:
            raise ApbProtocolError(f"penable high without psel at {now:.1f} ns")
        in_xfer = prev is not None and prev.psel and not prev.completes
        if in_xfer and not s.psel:
            raise ApbProtocolError(f"psel dropped before the transfer completed at {now:.1f} ns")
        if not s.psel:
            return None
        if not s.penable:  # setup phase
            if in_xfer:
                raise ApbProtocolError(
                    f"penable low in the cycle after a setup phase or a wait state (the "
                    f"access phase must follow until pready) at {now:.1f} ns"
                )
            self._t_start_ns = now
            self._waits = 0
            return None
        # access phase
        if not in_xfer or prev is None:
            raise ApbProtocolError(f"access phase without a setup phase at {now:.1f} ns")
        changed = [
            k
            for k in ("pwrite", "paddr") + (("pwdata",) if s.pwrite else ())
            if getattr(s, k) != getattr(prev, k)
        ]
        if changed:
            raise ApbProtocolError(
                f"{', '.join(changed)} changed during a transfer at {now:.1f} ns"
            )
        if not s.pready:
            self._waits += 1
            return None
        assert s.pwrite is not None and s.paddr is not None
        data = s.pwdata if s.pwrite else s.prdata
        return ApbTransfer(
            bool(s.pwrite),
            s.paddr,
            data if data is not None else 0,
            bool(s.pslverr),
            self._waits,
            self._t_start_ns,
            now,
        )

    def start(self) -> None:
        """Run :meth:`observe` every cycle in the background, feeding ``callback``."""
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
            tr = self.observe(self.sample())
            if tr is not None and self.callback is not None:
                self.callback(tr)


class ApbRegs:
    """Register and field access by name, through an :class:`ApbMaster`.

    Args:
        master: the bus master.
        regmap: the slave's register map.
        base_addr: byte address of slot 0 on this bus.

    Methods raise :class:`ApbSlaveError` when a transfer expected to succeed gets
    ``pslverr`` (pass ``expect_error=True`` to test refusals: then the absence of
    ``pslverr`` raises).
    """

    def __init__(self, master: ApbMaster, regmap: RegMap, *, base_addr: int = 0) -> None:
        self.master = master
        self.regmap = regmap
        self.base_addr = base_addr

    def addr(self, reg: str | Register) -> int:
        """Bus byte address of a register."""
        r = self.regmap[reg] if isinstance(reg, str) else reg
        return self.base_addr + r.addr

    @staticmethod
    def _check(what: str, slverr: bool, expect_error: bool) -> None:
        if slverr != expect_error:
            raise ApbSlaveError(f"{what}: pslverr = {int(slverr)}, expected {int(expect_error)}")

    async def read(self, reg: str, *, expect_error: bool = False) -> int:
        """Read register ``reg``; returns its word."""
        data, err = await self.master.read(self.addr(reg))
        self._check(f"read of {reg}", err, expect_error)
        return data

    async def write(self, reg: str, word: int, *, expect_error: bool = False) -> None:
        """Write the whole word of register ``reg``."""
        err = await self.master.write(self.addr(reg), word)
        self._check(f"write of {word:#x} to {reg}", err, expect_error)

    async def read_field(self, path: str) -> int:
        """Read ``"REG.field"``."""
        r, f = self.regmap.field(path)
        return f.get(await self.read(r.name))

    async def write_fields(self, reg: str, *, expect_error: bool = False, **values: int) -> None:
        """Set the named fields of ``reg``: read-modify-write for an RW register (other
        fields keep their values); a plain write of just these fields for an EXT register
        (W1C/W1S bits not named are written 0, so they do nothing)."""
        r = self.regmap[reg]
        if r.kind is SlotKind.RW:
            word = await self.read(reg)
        elif r.kind is SlotKind.EXT:
            word = 0
        else:
            raise ValueError(f"register {reg} is read-only")
        for k, v in values.items():
            word = r.field(k).put(word, v)
        await self.write(reg, word, expect_error=expect_error)

"""Bit-exact reference of ``rtl/cim_csr.sv`` (APB3 register block) and register-map helpers.

Register block (normative; the RTL header states the same):

* ``n_regs`` 32-bit slots at byte addresses ``4*i``. Slot kinds: **RW** (stored here, reset
  to its reset value), **RO** (read returns the top's value on ``reg_rd_i``; a write is an
  error), **EXT** (read returns the top's value; a write is accepted but only shown to the top
  as a ``wr_pulse_o`` with the data: command and write-1-to-clear bits).
* An access is an error (``pslverr``) if the address is unaligned or ``>= 4*n_regs`` (reads
  and writes), if it writes an RO slot, or if it writes an RW/EXT slot and the top vetoes the
  value (``wr_err_i``; ``legal=False`` here). An error write changes nothing.
* Every error access increments ``err_count`` (saturating at ``2**32 - 1``, cleared only by
  reset), sets the sticky ``err`` and, if ``err`` was clear, captures the byte address in
  ``err_addr``. ``err_clr`` clears ``err`` and ``err_addr``; an error in the same cycle as a
  clear wins (it is captured).
* A read of a valid address returns the slot's value and raises its read pulse; an accepted
  write raises the slot's write pulse.

:class:`CsrModel` is the cycle-free model of that block (one call per APB transfer);
:class:`RegMap` describes a top's register map (fields, access kinds, reset values, legal
ranges) and derives the ``cim_csr`` parameters, the top's write-legality rule and a Markdown
table from it.

Pure Python; no cocotb import.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

#: Largest value of the 32-bit error counter; it sticks there instead of wrapping.
COUNTER_MAX = 2**32 - 1
#: Register width in bits.
DATA_W = 32
DATA_MASK = (1 << DATA_W) - 1
#: Legal ranges (inclusive) of the RTL parameters.
N_REGS_RANGE = (1, 256)
ADDR_W_MAX = 32


def _check_int(name: str, v: object, lo: int, hi: int) -> None:
    if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
        raise ValueError(f"{name} must be an integer in {lo}..{hi}, got {v!r}")


def min_addr_w(n_regs: int) -> int:
    """Smallest legal ``ADDR_W`` for ``n_regs`` slots: ``$clog2(n_regs) + 2`` bits."""
    return (n_regs - 1).bit_length() + 2


class SlotKind(enum.Enum):
    """What a register slot of ``cim_csr`` is (see the module docstring)."""

    RW = "rw"
    RO = "ro"
    EXT = "ext"


@dataclass(frozen=True)
class CsrConfig:
    """Parameters of one ``cim_csr`` instance (names follow the RTL in lower case).

    Attributes:
        n_regs: register slots, 1 .. 256 (``N_REGS``).
        addr_w: byte-address width in bits, ``min_addr_w(n_regs)`` .. 32 (``ADDR_W``).
        rw_mask: bit i = 1: slot i is RW (``RW_MASK``), ``n_regs`` bits.
        ext_wr_mask: bit i = 1: slot i is EXT (``EXT_WR_MASK``); disjoint from ``rw_mask``.
        reset_val: reset value of each slot (``n_regs`` 32-bit words; 0 for RO/EXT slots), or
            empty for all zeros (``RESET_VAL`` packs word i at bits ``32*i .. 32*i+31``).
    """

    n_regs: int = 16
    addr_w: int = 12
    rw_mask: int = 0x0FFF
    ext_wr_mask: int = 0x8000
    reset_val: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        _check_int("n_regs", self.n_regs, *N_REGS_RANGE)
        _check_int("addr_w", self.addr_w, min_addr_w(self.n_regs), ADDR_W_MAX)
        full = (1 << self.n_regs) - 1
        _check_int("rw_mask", self.rw_mask, 0, full)
        _check_int("ext_wr_mask", self.ext_wr_mask, 0, full)
        if self.rw_mask & self.ext_wr_mask:
            raise ValueError(
                f"ext_wr_mask {self.ext_wr_mask:#x} overlaps rw_mask {self.rw_mask:#x} "
                f"(bits {self.rw_mask & self.ext_wr_mask:#x})"
            )
        if not self.reset_val:
            object.__setattr__(self, "reset_val", (0,) * self.n_regs)
        rv = tuple(self.reset_val)
        object.__setattr__(self, "reset_val", rv)
        if len(rv) != self.n_regs:
            raise ValueError(f"reset_val has {len(rv)} words, n_regs is {self.n_regs}")
        for i, v in enumerate(rv):
            _check_int(f"reset_val[{i}]", v, 0, DATA_MASK)
            if v and self.kind(i) is not SlotKind.RW:
                raise ValueError(
                    f"reset_val[{i}] = {v:#x} but slot {i} is {self.kind(i).value} "
                    "(only RW slots have a reset value)"
                )

    @classmethod
    def from_hdl(cls, params: Mapping[str, int]) -> CsrConfig:
        """Build from HDL parameter names (``N_REGS``, ``ADDR_W``, ``RW_MASK``,
        ``EXT_WR_MASK``, ``RESET_VAL`` packed as in the RTL); missing ones take the RTL
        defaults."""
        names = {"N_REGS", "ADDR_W", "RW_MASK", "EXT_WR_MASK", "RESET_VAL"}
        unknown = set(params) - names
        if unknown:
            raise ValueError(f"unknown cim_csr parameter(s): {', '.join(sorted(unknown))}")
        d = cls()
        n = int(params.get("N_REGS", d.n_regs))
        full = (1 << n) - 1
        packed = int(params.get("RESET_VAL", 0))
        return cls(
            n_regs=n,
            addr_w=int(params.get("ADDR_W", d.addr_w)),
            # an HDL default is truncated to the parameter's N_REGS bits, as in the RTL
            rw_mask=int(params.get("RW_MASK", d.rw_mask)) & full,
            ext_wr_mask=int(params.get("EXT_WR_MASK", d.ext_wr_mask)) & full,
            reset_val=tuple((packed >> (DATA_W * i)) & DATA_MASK for i in range(n)),
        )

    def hdl_params(self) -> dict[str, int]:
        """The RTL parameters of this configuration (``RESET_VAL`` packed)."""
        packed = 0
        for i, v in enumerate(self.reset_val):
            packed |= v << (DATA_W * i)
        return {
            "N_REGS": self.n_regs,
            "ADDR_W": self.addr_w,
            "RW_MASK": self.rw_mask,
            "EXT_WR_MASK": self.ext_wr_mask,
            "RESET_VAL": packed,
        }

    @property
    def idx_w(self) -> int:
        """Width of ``wr_idx_o`` in bits."""
        return max(1, (self.n_regs - 1).bit_length())

    def kind(self, i: int) -> SlotKind:
        """Kind of slot ``i``."""
        _check_int("slot", i, 0, self.n_regs - 1)
        if (self.rw_mask >> i) & 1:
            return SlotKind.RW
        if (self.ext_wr_mask >> i) & 1:
            return SlotKind.EXT
        return SlotKind.RO

    def decode(self, addr: int) -> int | None:
        """Slot of byte address ``addr``, or None for an address error (unaligned or
        ``>= 4*n_regs``).

        Raises:
            ValueError: if ``addr`` does not fit ``addr_w`` bits.
        """
        _check_int("addr", addr, 0, (1 << self.addr_w) - 1)
        if addr & 3 or addr >> 2 >= self.n_regs:
            return None
        return addr >> 2


@dataclass(frozen=True)
class CsrAccess:
    """Outcome of one APB transfer (one access cycle) as the model predicts it.

    Attributes:
        write: the transfer was a write.
        addr: byte address.
        idx: slot of a valid address, else None (then ``slverr``).
        data: read data (``prdata``; 0 on error) or the write data.
        slverr: ``pslverr`` of the transfer.
        wr_req: ``wr_req_o`` in the access cycle (a write to a valid address).
        wr_pulse: the write was accepted (``wr_pulse_o[idx]``).
        rd_pulse: an error-free read (``rd_pulse_o[idx]``).
        err_captured: this error set ``err_addr``.
    """

    write: bool
    addr: int
    idx: int | None
    data: int
    slverr: bool
    wr_req: bool
    wr_pulse: bool
    rd_pulse: bool
    err_captured: bool


class CsrModel:
    """State and behaviour of ``cim_csr``, one call per transfer.

    Attributes:
        cfg: the instance parameters.
        regs: stored value of each slot (0 for RO/EXT slots), as on ``reg_q_o``.
        ro: what the top drives on ``reg_rd_i`` for each slot (set by the user of the model;
            read for RO and EXT slots only).
        err: sticky error flag (``err_o``).
        err_addr: byte address of the first error since reset / the last clear.
        err_count: error transfers since reset, saturating at ``COUNTER_MAX``.
    """

    def __init__(self, cfg: CsrConfig | None = None) -> None:
        self.cfg = cfg or CsrConfig()
        self.ro: list[int] = [0] * self.cfg.n_regs
        self.reset()

    @classmethod
    def from_hdl(cls, params: Mapping[str, int]) -> CsrModel:
        """Build from HDL parameter names (see :meth:`CsrConfig.from_hdl`)."""
        return cls(CsrConfig.from_hdl(params))

    # ----- state -------------------------------------------------------------------------
    def reset(self) -> None:
        """``rst_ni``: RW slots to their reset values, error status to zero (``ro`` is the
        top's and is kept)."""
        self.regs: list[int] = [
            v if self.cfg.kind(i) is SlotKind.RW else 0 for i, v in enumerate(self.cfg.reset_val)
        ]
        self.err = False
        self.err_addr = 0
        self.err_count = 0

    def clear_err(self) -> None:
        """``err_clr_i`` in a cycle without an error transfer."""
        self.err = False
        self.err_addr = 0

    def reg_q(self) -> int:
        """``reg_q_o`` packed (word i at bits ``32*i .. 32*i+31``)."""
        out = 0
        for i, v in enumerate(self.regs):
            out |= v << (DATA_W * i)
        return out

    def value(self, i: int) -> int:
        """What a read of slot ``i`` returns now."""
        k = self.cfg.kind(i)
        return self.regs[i] if k is SlotKind.RW else self.ro[i] & DATA_MASK

    # ----- transfers -----------------------------------------------------------------------
    def access(
        self, write: bool, addr: int, data: int = 0, legal: bool = True, err_clr: bool = False
    ) -> CsrAccess:
        """One transfer, with the ``err_clr_i`` of its access cycle.

        Args:
            write: write (True) or read.
            addr: byte address, ``addr_w`` bits.
            data: write data, 32 bits (ignored for reads).
            legal: the top's verdict on the write (``not wr_err_i``); ignored for reads and
                for slots that refuse writes anyway.
            err_clr: ``err_clr_i`` was high in the same cycle (applied before the transfer's
                own error, which therefore wins).

        Returns:
            The predicted outcome; the state is updated as at the edge that ends the cycle.
        """
        _check_int("data", data, 0, DATA_MASK)
        idx = self.cfg.decode(addr)
        if err_clr:
            self.clear_err()
        rd_data = 0
        wr_pulse = rd_pulse = False
        if idx is None:
            slverr = True
        elif write:
            slverr = self.cfg.kind(idx) is SlotKind.RO or not self._legal(idx, data, legal)
            if not slverr:
                wr_pulse = True
                if self.cfg.kind(idx) is SlotKind.RW:
                    self.regs[idx] = data
        else:
            slverr = False
            rd_pulse = True
            rd_data = self.value(idx)
        captured = False
        if slverr:
            captured = not self.err
            if captured:
                self.err_addr = addr
            self.err = True
            self.err_count = min(self.err_count + 1, COUNTER_MAX)
        return CsrAccess(
            write=write,
            addr=addr,
            idx=idx,
            data=data if write else rd_data,
            slverr=slverr,
            wr_req=write and idx is not None,
            wr_pulse=wr_pulse,
            rd_pulse=rd_pulse,
            err_captured=captured,
        )

    def _legal(self, idx: int, data: int, legal: bool) -> bool:
        """The top's verdict (a hook a bench may override to prove its checker fails)."""
        del idx, data
        return legal

    def read(self, addr: int) -> tuple[int, bool]:
        """A read transfer: ``(prdata, pslverr)``."""
        a = self.access(False, addr)
        return a.data, a.slverr

    def write(self, addr: int, data: int, legal: bool = True) -> bool:
        """A write transfer; returns ``pslverr``."""
        return self.access(True, addr, data, legal).slverr


# ------------------------------------------------------------------------------------------
# Register maps
# ------------------------------------------------------------------------------------------


class FieldAccess(enum.Enum):
    """Software access of a register field.

    ``RW``: stored in ``cim_csr`` (the register is an RW slot). The others are implemented by
    the top (the register is an RO or EXT slot): ``RO`` read-only status; ``RC`` read-only,
    cleared by a read (``rd_pulse_o``); ``W1C`` status, a 1 written clears the bit
    (``wr_pulse_o`` with ``wr_data_o``); ``W1S`` command, a 1 written starts an action (reads
    return what the top drives, usually 0 or a busy flag).
    """

    RW = "rw"
    RO = "ro"
    RC = "rc"
    W1C = "w1c"
    W1S = "w1s"

    @property
    def stored(self) -> bool:
        """The field lives in an RW slot of ``cim_csr``."""
        return self is FieldAccess.RW

    @property
    def writable(self) -> bool:
        """Software may write the field."""
        return self in (FieldAccess.RW, FieldAccess.W1C, FieldAccess.W1S)


@dataclass(frozen=True)
class RegField:
    """One field of a 32-bit register.

    Attributes:
        name: field name (an identifier, unique within its register).
        lsb: lowest bit, 0 .. 31.
        width: bits, 1 .. 32 - lsb.
        access: software access kind.
        reset: reset value (unsigned, ``width`` bits); only RW fields may have a non-zero one
            (the others are the top's to reset).
        desc: one-line description, with the unit of the value.
        legal: inclusive range ``(lo, hi)`` of values the top accepts for a writable field
            (a write outside it is refused with ``pslverr``), or None for every value.
    """

    name: str
    lsb: int
    width: int = 1
    access: FieldAccess = FieldAccess.RW
    reset: int = 0
    desc: str = ""
    legal: tuple[int, int] | None = None

    def __post_init__(self) -> None:
        if not self.name.isidentifier():
            raise ValueError(f"field name {self.name!r} is not an identifier")
        _check_int(f"{self.name}.lsb", self.lsb, 0, DATA_W - 1)
        _check_int(f"{self.name}.width", self.width, 1, DATA_W - self.lsb)
        if not isinstance(self.access, FieldAccess):
            raise ValueError(f"{self.name}.access must be a FieldAccess, got {self.access!r}")
        _check_int(f"{self.name}.reset", self.reset, 0, self.max)
        if self.reset and not self.access.stored:
            raise ValueError(
                f"{self.name}: only RW fields have a reset value here ({self.access.value} "
                "fields are reset by the top)"
            )
        if self.legal is not None:
            lo, hi = self.legal
            _check_int(f"{self.name}.legal[0]", lo, 0, self.max)
            _check_int(f"{self.name}.legal[1]", hi, lo, self.max)
            if not self.access.writable:
                raise ValueError(f"{self.name}: a legal range on a read-only field")
            if self.access.stored and not lo <= self.reset <= hi:
                raise ValueError(f"{self.name}: reset {self.reset} outside legal {self.legal}")

    @property
    def max(self) -> int:
        """Largest value of the field."""
        return (1 << self.width) - 1

    @property
    def mask(self) -> int:
        """The field's bits in the register word."""
        return self.max << self.lsb

    @property
    def bits(self) -> str:
        """Bit range as written in data sheets: ``[msb:lsb]`` or ``[bit]``."""
        msb = self.lsb + self.width - 1
        return f"[{msb}:{self.lsb}]" if self.width > 1 else f"[{self.lsb}]"

    def get(self, word: int) -> int:
        """The field's value in register ``word``."""
        return (word >> self.lsb) & self.max

    def put(self, word: int, value: int) -> int:
        """``word`` with the field set to ``value``."""
        _check_int(self.name, value, 0, self.max)
        return (word & ~self.mask & DATA_MASK) | (value << self.lsb)


@dataclass(frozen=True)
class Register:
    """One 32-bit register of a map.

    Attributes:
        name: register name (an identifier, unique in the map).
        index: slot, 0 .. 255; byte address ``4*index``.
        fields: its fields (non-overlapping). Unnamed bits of an RW register are stored like
            the others; in RO/EXT registers the top drives them 0 and ignores writes to them.
        desc: one-line description.
    """

    name: str
    index: int
    fields: tuple[RegField, ...] = ()
    desc: str = ""

    def __post_init__(self) -> None:
        if not self.name.isidentifier():
            raise ValueError(f"register name {self.name!r} is not an identifier")
        _check_int(f"{self.name}.index", self.index, 0, N_REGS_RANGE[1] - 1)
        object.__setattr__(self, "fields", tuple(self.fields))
        if not self.fields:
            raise ValueError(f"register {self.name} has no fields")
        used = 0
        names: set[str] = set()
        for f in self.fields:
            if f.name in names:
                raise ValueError(f"register {self.name}: field {f.name} defined twice")
            names.add(f.name)
            if used & f.mask:
                raise ValueError(f"register {self.name}: field {f.name} overlaps another field")
            used |= f.mask
        stored = {f.access.stored for f in self.fields}
        if len(stored) > 1:
            raise ValueError(
                f"register {self.name} mixes RW fields (stored in cim_csr) with "
                "RO/RC/W1C/W1S fields (implemented by the top); split it"
            )

    @property
    def addr(self) -> int:
        """Byte address."""
        return 4 * self.index

    @property
    def kind(self) -> SlotKind:
        """The ``cim_csr`` slot kind this register needs."""
        if self.fields[0].access.stored:
            return SlotKind.RW
        if any(f.access.writable for f in self.fields):
            return SlotKind.EXT
        return SlotKind.RO

    @property
    def reset(self) -> int:
        """Reset word (RW fields' reset values)."""
        word = 0
        for f in self.fields:
            word = f.put(word, f.reset)
        return word

    def field(self, name: str) -> RegField:
        """Field ``name``.

        Raises:
            KeyError: naming the register and its fields.
        """
        for f in self.fields:
            if f.name == name:
                return f
        have = ", ".join(f.name for f in self.fields)
        raise KeyError(f"register {self.name} has no field {name!r} (fields: {have})")

    def pack(self, **values: int) -> int:
        """A word with the named fields set (others 0)."""
        word = 0
        for k, v in values.items():
            word = self.field(k).put(word, v)
        return word

    def unpack(self, word: int) -> dict[str, int]:
        """Field values of ``word``."""
        return {f.name: f.get(word) for f in self.fields}

    def legal(self, word: int) -> bool:
        """Whether the top accepts writing ``word``: the register takes writes (RW or EXT)
        and every field with a legal range holds a value in it. Bits outside the writable
        fields of an EXT register are ignored (a read-modify-write may carry status bits)."""
        if self.kind is SlotKind.RO:
            return False
        return all(f.legal is None or f.legal[0] <= f.get(word) <= f.legal[1] for f in self.fields)


@dataclass(frozen=True)
class RegMap:
    """The register map of one ``cim_csr`` instance.

    Attributes:
        name: the block or top the map belongs to.
        registers: its registers, any order (any sequence is accepted and kept as a tuple
            sorted by index). Unused slots become RO slots; the top drives 0 on their
            ``reg_rd_i`` words.
        n_regs: number of slots (``N_REGS``); default: highest index + 1.
    """

    name: str
    registers: tuple[Register, ...]
    n_regs: int | None = None
    _by_name: dict[str, Register] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        regs = tuple(sorted(self.registers, key=lambda r: r.index))
        object.__setattr__(self, "registers", regs)
        if not regs:
            raise ValueError(f"register map {self.name} is empty")
        n = self.n_regs if self.n_regs is not None else regs[-1].index + 1
        _check_int(f"{self.name}.n_regs", n, max(N_REGS_RANGE[0], regs[-1].index + 1), 256)
        object.__setattr__(self, "n_regs", n)
        by_name: dict[str, Register] = {}
        seen: set[int] = set()
        for r in regs:
            if r.name in by_name:
                raise ValueError(f"register map {self.name}: register {r.name} defined twice")
            if r.index in seen:
                raise ValueError(f"register map {self.name}: slot {r.index} used twice")
            by_name[r.name] = r
            seen.add(r.index)
        object.__setattr__(self, "_by_name", by_name)

    def __getitem__(self, name: str) -> Register:
        try:
            return self._by_name[name]
        except KeyError:
            have = ", ".join(self._by_name)
            raise KeyError(f"register map {self.name} has no register {name!r} ({have})") from None

    def __iter__(self) -> Iterator[Register]:
        return iter(self.registers)

    def at(self, index: int) -> Register | None:
        """The register in slot ``index``, or None for an unused slot."""
        return next((r for r in self.registers if r.index == index), None)

    def field(self, path: str) -> tuple[Register, RegField]:
        """``"REG.FIELD"`` -> (register, field)."""
        reg, _, fld = path.partition(".")
        r = self[reg]
        return r, r.field(fld)

    def config(self, addr_w: int | None = None) -> CsrConfig:
        """The ``cim_csr`` parameters of this map (``addr_w`` default: the smallest legal)."""
        rw = ext = 0
        reset = [0] * self.n_regs
        for r in self.registers:
            if r.kind is SlotKind.RW:
                rw |= 1 << r.index
                reset[r.index] = r.reset
            elif r.kind is SlotKind.EXT:
                ext |= 1 << r.index
        return CsrConfig(
            n_regs=self.n_regs,
            addr_w=addr_w if addr_w is not None else min_addr_w(self.n_regs),
            rw_mask=rw,
            ext_wr_mask=ext,
            reset_val=tuple(reset),
        )

    def legal(self, index: int, word: int) -> bool:
        """The top's write rule: ``not wr_err_i`` for a write of ``word`` to slot ``index``
        (unused slots are RO and refuse every write)."""
        r = self.at(index)
        return r is not None and r.legal(word)

    def sv_params(self, addr_w: int | None = None) -> str:
        """The ``cim_csr`` parameter overrides as SystemVerilog text (for a top's RTL)."""
        c = self.config(addr_w)
        p = c.hdl_params()
        n = c.n_regs
        rv_digits = (n * DATA_W + 3) // 4
        return ",\n".join(
            [
                f".N_REGS      ({n})",
                f".ADDR_W      ({c.addr_w})",
                f".RW_MASK     ({n}'h{p['RW_MASK']:x})",
                f".EXT_WR_MASK ({n}'h{p['EXT_WR_MASK']:x})",
                f".RESET_VAL   ({n * DATA_W}'h{p['RESET_VAL']:0{rv_digits}x})",
            ]
        )

    def to_markdown(self) -> str:
        """The register map as a Markdown table: one row per field (unused bits are not
        listed), registers in address order."""
        head = "| offset | register | kind | field | bits | access | reset | legal | description |"
        rows = [head, "|---|---|---|---|---|---|---|---|---|"]
        for r in self.registers:
            for j, f in enumerate(sorted(r.fields, key=lambda f: f.lsb)):
                first = j == 0
                legal = f"{f.legal[0]}..{f.legal[1]}" if f.legal else ""
                desc = f.desc
                if first and r.desc:
                    desc = f"{r.desc}: {desc}" if desc else r.desc
                cells = [
                    f"0x{r.addr:03x}" if first else "",
                    f"`{r.name}`" if first else "",
                    r.kind.value.upper() if first else "",
                    f"`{f.name}`",
                    f.bits,
                    f.access.value.upper(),
                    f"0x{f.reset:x}" if f.access.stored else "top",
                    legal,
                    desc.replace("|", "\\|"),
                ]
                rows.append("| " + " | ".join(cells) + " |")
        return "\n".join(rows) + "\n"

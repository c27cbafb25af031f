"""Bit-exact reference of ``rtl/cim_spike_router.sv``: AER events to crossbar row tiles.

The block is the event-driven input side of a spiking layer (PRIME, PAPERS.md §1.3). It
counts the events of one timestep into a frame of small unsigned counts and emits the
crossbar row vectors of a convolution over that frame as row tiles (a fully connected layer
is the case ``K = H = W``, ``PAD = 0``).

Contract (normative; the RTL header states the same):

* Frame buffer: two banks of ``max_ch_rows`` words of ``max_w`` elements of ``el_w`` bits.
  With frame dimensions ``C x H x W`` element ``(c, y, x)`` is element ``x`` of word
  ``c*H + y``. A cleared (or reset) bank reads as zero. Reading with dimensions ``C x H x W``
  gives zero for ``x >= W``.
* Events: ``(c, y, x)`` maps to ``(c, y >> s, x >> s)`` (``s`` = pooling shift 0..3, i.e.
  ``2^s x 2^s`` sum pooling by counting). Outside the frame (``c >= C``, ``y >> s >= H`` or
  ``x >> s >= W``) the event is discarded and counted as *bad*. Otherwise the element is
  incremented if it is below ``2**bits - 1``; else it stays and the event is counted as
  *saturated*. Every event counts in ``ev_count``; end-of-frame markers count in
  ``frame_count``. Counters are 32 bits and stick at :data:`COUNTER_MAX`.
* Emit: ``OH = H + 2*PAD - K + 1``, ``OW = W + 2*PAD - K + 1``, ``KV = C*K*K``. For each
  output position in row-major order the vector
  ``v[(c*K + ky)*K + kx] = frame[c, oy + ky - PAD, ox + kx - PAD]`` (0 outside the frame) is
  the column of ``torch.nn.functional.unfold(frame, K, padding=PAD)`` for that position. It
  leaves as ``ceil(KV / TR)`` tiles of ``n_rows`` elements: tile ``t`` holds
  ``v[t*TR : (t+1)*TR]`` at positions ``0..``, the rest is zero.

Timing helpers (:meth:`ReadConfig.tile_chunks`, :func:`tile_valid_edges`) give the RTL's
cycle counts without back-pressure: one kernel-row segment (one bank word) per cycle, one
extra cycle for every tile boundary inside a segment.

:func:`apply_events`, :func:`window_vectors` and :func:`emit_tiles` are the frame-level
functions (numpy, vectorised); :class:`SpikeRouterModel` is the stateful model of the whole
block (physical banks, counters, sticky flags) that the cocotb bench drives beat by beat.

Pure Python + numpy; no cocotb import.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

#: Largest value of the 32-bit status counters; they stick there instead of wrapping.
COUNTER_MAX = 2**32 - 1

#: Legal ranges (inclusive) of the RTL parameters.
N_ROWS_RANGE = (2, 4096)
EL_W_RANGE = (1, 8)
MAX_W_RANGE = (2, 256)
MAX_CH_ROWS_RANGE = (2, 65536)
MAX_K_RANGE = (1, 16)
FIFO_DEPTH_RANGE = (2, 4096)
ADDR_W_RANGE = (2, 16)

#: Largest pooling shift (``cfg_wr_shift_i`` is 2 bits).
MAX_SHIFT = 3


def _check_int(name: str, value: object, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ValueError(f"{name} must be an integer in [{lo}, {hi}], got {value!r}")
    v = int(value)
    if not lo <= v <= hi:
        raise ValueError(f"{name} = {v} is outside [{lo}, {hi}]")
    return v


def _clog2(n: int) -> int:
    """``$clog2(n)`` of Verilog: bits to index ``n`` items (0 for n <= 1)."""
    return max(0, (n - 1).bit_length())


# ------------------------------------------------------------------------------------------
# Parameters and configurations
# ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RouterParams:
    """HDL parameters of one ``cim_spike_router`` instance.

    Attributes:
        n_rows: word lines per tile = elements per tile beat (``N_ROWS``), 2 .. 4096.
        el_w: element width in bits (``EL_W``), 1 .. 8.
        max_w: largest frame width and height in elements (``MAX_W``), 2 .. 256.
        max_ch_rows: words per bank, the largest ``C*H`` (``MAX_CH_ROWS``), 2 .. 65536.
        max_k: largest kernel size (``MAX_K``), 1 .. 16.
        fifo_depth: event FIFO depth in beats (``FIFO_DEPTH``), power of two, 2 .. 4096.
        addr_w: width of the address fields and frame dimensions in bits (``ADDR_W``),
            2 .. 16.
    """

    n_rows: int = 64
    el_w: int = 3
    max_w: int = 16
    max_ch_rows: int = 64
    max_k: int = 5
    fifo_depth: int = 8
    addr_w: int = 8

    def __post_init__(self) -> None:
        _check_int("n_rows", self.n_rows, *N_ROWS_RANGE)
        _check_int("el_w", self.el_w, *EL_W_RANGE)
        _check_int("max_w", self.max_w, *MAX_W_RANGE)
        _check_int("max_ch_rows", self.max_ch_rows, *MAX_CH_ROWS_RANGE)
        _check_int("max_k", self.max_k, *MAX_K_RANGE)
        _check_int("fifo_depth", self.fifo_depth, *FIFO_DEPTH_RANGE)
        if self.fifo_depth & (self.fifo_depth - 1):
            raise ValueError(f"fifo_depth = {self.fifo_depth} is not a power of two")
        _check_int("addr_w", self.addr_w, *ADDR_W_RANGE)

    _HDL_NAMES = {
        "N_ROWS": "n_rows",
        "EL_W": "el_w",
        "MAX_W": "max_w",
        "MAX_CH_ROWS": "max_ch_rows",
        "MAX_K": "max_k",
        "FIFO_DEPTH": "fifo_depth",
        "ADDR_W": "addr_w",
    }

    @classmethod
    def from_hdl(cls, params: dict[str, int]) -> RouterParams:
        """Build from HDL parameter names (missing ones take the RTL defaults)."""
        unknown = set(params) - set(cls._HDL_NAMES)
        if unknown:
            raise ValueError(f"unknown cim_spike_router parameter(s): {', '.join(sorted(unknown))}")
        return cls(**{cls._HDL_NAMES[k]: int(v) for k, v in params.items()})

    def hdl(self) -> dict[str, int]:
        """The HDL parameter dictionary (``N_ROWS`` ...)."""
        return {k: getattr(self, v) for k, v in self._HDL_NAMES.items()}

    @property
    def bits_w(self) -> int:
        """Width of ``cfg_wr_bits_i``: ``clog2(EL_W + 1)``."""
        return _clog2(self.el_w + 1)

    @property
    def k_w(self) -> int:
        """Width of ``cfg_rd_k_i`` and ``cfg_rd_pad_i``: ``clog2(MAX_K + 1)``."""
        return _clog2(self.max_k + 1)

    @property
    def tile_w(self) -> int:
        """Width of ``cfg_rd_tile_i``: ``clog2(N_ROWS + 1)``."""
        return _clog2(self.n_rows + 1)

    @property
    def addr_max(self) -> int:
        """Largest value of an address field or frame dimension (``2**addr_w - 1``)."""
        return (1 << self.addr_w) - 1


#: PRIME's instance (PAPERS.md §1.3): 512-row macro, 3-bit counts, 34 x 34 input frames
#: (conv0), 384 words per bank (fc: 64 channels x 6 rows), kernels up to 6 (fc as K = 6).
PRIME_ROUTER = RouterParams(
    n_rows=512, el_w=3, max_w=34, max_ch_rows=384, max_k=6, fifo_depth=16, addr_w=8
)


def _fits(name: str, value: int, bits: int) -> str | None:
    return None if 0 <= value < (1 << bits) else f"{name} = {value} does not fit {bits} bits"


def _check_ports(who: str, fields: tuple[tuple[str, int, int], ...]) -> None:
    """Raise ``ValueError`` naming every ``(name, value, port bits)`` whose value does not fit."""
    bad = [b for b in (_fits(*f) for f in fields) if b]
    if bad:
        raise ValueError(f"{who}: " + "; ".join(bad))


def _frame_errors(c: int, h: int, w: int, p: RouterParams) -> list[str]:
    """The frame-shape reasons shared by both sides' configuration errors."""
    errs = []
    if 0 in (c, h, w):
        errs.append("a frame dimension is 0")
    if h > p.max_w or w > p.max_w:
        errs.append(f"H or W above MAX_W = {p.max_w}")
    if c * h > p.max_ch_rows:
        errs.append(f"C*H = {c * h} above MAX_CH_ROWS = {p.max_ch_rows}")
    return errs


@dataclass(frozen=True)
class WriteConfig:
    """Write-side configuration (``cfg_wr_*``), sampled with every event as it is applied.

    Attributes:
        c: channels ``C`` (``cfg_wr_c_i``), 1 .. 2**addr_w - 1.
        h: height ``H`` after pooling, elements (``cfg_wr_h_i``), 1 .. max_w.
        w: width ``W`` after pooling, elements (``cfg_wr_w_i``), 1 .. max_w.
        shift: pooling shift ``s`` (``cfg_wr_shift_i``), 0 .. 3: address ``>> s``.
        bits: count width (``cfg_wr_bits_i``), 1 .. el_w: counts saturate at
            ``2**bits - 1``.
        bank: frame buffer bank (``cfg_wr_bank_i``), 0 or 1.

    Any non-negative values are accepted on construction (the bench drives illegal ones on
    purpose); :meth:`errors` lists what the RTL flags on ``err_cfg_wr_o``.
    """

    c: int
    h: int
    w: int
    shift: int = 0
    bits: int = 3
    bank: int = 0

    def __post_init__(self) -> None:
        for name in ("c", "h", "w", "bits"):
            _check_int(name, getattr(self, name), 0, (1 << 16) - 1)
        _check_int("shift", self.shift, 0, MAX_SHIFT)
        _check_int("bank", self.bank, 0, 1)

    @property
    def max_count(self) -> int:
        """Saturation value of an element, ``2**bits - 1``."""
        return (1 << self.bits) - 1

    def errors(self, p: RouterParams) -> list[str]:
        """Reasons the RTL raises ``err_cfg_wr_o`` (empty: legal).

        Raises:
            ValueError: a field does not fit its port (the RTL cannot even see the value).
        """
        _check_ports(
            "WriteConfig",
            (
                ("c", self.c, p.addr_w),
                ("h", self.h, p.addr_w),
                ("w", self.w, p.addr_w),
                ("bits", self.bits, p.bits_w),
            ),
        )
        errs = _frame_errors(self.c, self.h, self.w, p)
        if not 1 <= self.bits <= p.el_w:
            errs.append(f"bits = {self.bits} outside 1..EL_W = {p.el_w}")
        return errs

    def check(self, p: RouterParams) -> WriteConfig:
        """Return self if legal for ``p``.

        Raises:
            ValueError: the configuration is illegal (lists every reason).
        """
        errs = self.errors(p)
        if errs:
            raise ValueError("illegal write configuration: " + "; ".join(errs))
        return self


@dataclass(frozen=True)
class ReadConfig:
    """Emit configuration (``cfg_rd_*``), sampled with ``emit_start_i``.

    Attributes:
        c: channels ``C``, 1 .. 2**addr_w - 1, ``C*H <= max_ch_rows``.
        h: frame height ``H``, elements, 1 .. max_w.
        w: frame width ``W``, elements, 1 .. max_w.
        k: kernel size ``K`` (``cfg_rd_k_i``), 1 .. max_k.
        pad: zero padding ``PAD`` on every side (``cfg_rd_pad_i``), 0 .. max_k - 1.
        tile: tile height ``TR``, elements per tile (``cfg_rd_tile_i``), 1 .. n_rows.
        bank: bank to read (``cfg_rd_bank_i``), 0 or 1.

    Legal also requires ``1 <= OH, OW <= 2**addr_w``. Any non-negative values are accepted
    on construction; :meth:`errors` lists what the RTL flags on ``err_cfg_rd_o``.
    """

    c: int
    h: int
    w: int
    k: int
    pad: int = 0
    tile: int = 64
    bank: int = 0

    def __post_init__(self) -> None:
        for name in ("c", "h", "w", "k", "pad", "tile"):
            _check_int(name, getattr(self, name), 0, (1 << 16) - 1)
        _check_int("bank", self.bank, 0, 1)

    # ---- derived sizes ------------------------------------------------------------------
    @property
    def oh(self) -> int:
        """Output rows ``H + 2*PAD - K + 1`` (may be < 1 for an illegal configuration)."""
        return self.h + 2 * self.pad - self.k + 1

    @property
    def ow(self) -> int:
        """Output columns ``W + 2*PAD - K + 1``."""
        return self.w + 2 * self.pad - self.k + 1

    @property
    def kv(self) -> int:
        """Vector length ``C*K*K`` (crossbar rows used)."""
        return self.c * self.k * self.k

    @property
    def n_vectors(self) -> int:
        """Output positions ``OH*OW``."""
        return self.oh * self.ow

    @property
    def n_tiles(self) -> int:
        """Tiles per vector, ``ceil(KV / TR)``."""
        return -(-self.kv // self.tile)

    def tile_chunks(self) -> list[int]:
        """Emit cycles of each tile of one vector (no back-pressure): the kernel-row segments
        (``K`` elements of one ``(c, ky)``, one bank word) it intersects."""
        out = []
        for t in range(self.n_tiles):
            lo, hi = t * self.tile, min(self.kv, (t + 1) * self.tile)
            out.append((hi - 1) // self.k - lo // self.k + 1)
        return out

    @property
    def chunks_per_vector(self) -> int:
        """Emit cycles per vector: ``C*K`` plus one per tile boundary inside a segment."""
        return sum(self.tile_chunks())

    @property
    def straddles(self) -> bool:
        """A tile boundary falls inside a kernel-row segment."""
        return self.chunks_per_vector > self.c * self.k

    # ---- legality -----------------------------------------------------------------------
    def errors(self, p: RouterParams) -> list[str]:
        """Reasons the RTL raises ``err_cfg_rd_o`` (empty: legal).

        Raises:
            ValueError: a field does not fit its port.
        """
        _check_ports(
            "ReadConfig",
            (
                ("c", self.c, p.addr_w),
                ("h", self.h, p.addr_w),
                ("w", self.w, p.addr_w),
                ("k", self.k, p.k_w),
                ("pad", self.pad, p.k_w),
                ("tile", self.tile, p.tile_w),
            ),
        )
        errs = _frame_errors(self.c, self.h, self.w, p)
        if not 1 <= self.k <= p.max_k:
            errs.append(f"K = {self.k} outside 1..MAX_K = {p.max_k}")
        if self.pad > p.max_k - 1:
            errs.append(f"PAD = {self.pad} above MAX_K - 1 = {p.max_k - 1}")
        lim = 1 << p.addr_w
        if not (1 <= self.oh <= lim and 1 <= self.ow <= lim):
            errs.append(f"output size {self.oh} x {self.ow} outside 1..{lim}")
        if not 1 <= self.tile <= p.n_rows:
            errs.append(f"TR = {self.tile} outside 1..N_ROWS = {p.n_rows}")
        return errs

    def check(self, p: RouterParams) -> ReadConfig:
        """Return self if legal for ``p``.

        Raises:
            ValueError: the configuration is illegal (lists every reason).
        """
        errs = self.errors(p)
        if errs:
            raise ValueError("illegal read configuration: " + "; ".join(errs))
        return self


# ------------------------------------------------------------------------------------------
# Frame-level functions
# ------------------------------------------------------------------------------------------


def _events_array(events: Iterable[tuple[int, int, int]] | npt.ArrayLike) -> np.ndarray:
    ev = np.asarray(list(events) if not isinstance(events, np.ndarray) else events)
    if ev.size == 0:
        return np.zeros((0, 3), dtype=np.int64)
    if ev.ndim != 2 or ev.shape[1] != 3:
        raise ValueError(f"events must be (c, y, x) triples, got shape {ev.shape}")
    if not np.issubdtype(ev.dtype, np.integer) or ev.min() < 0:
        raise ValueError("events must be non-negative integers")
    return ev.astype(np.int64)


def apply_events(
    frame: npt.ArrayLike,
    events: Iterable[tuple[int, int, int]] | npt.ArrayLike,
    cfg: WriteConfig,
) -> tuple[np.ndarray, dict[str, int]]:
    """Count a timestep's events into a frame (the write side, any event order).

    Args:
        frame: current counts ``[C, H, W]`` (``cfg.c, cfg.h, cfg.w``), non-negative integers
            (a cleared bank: zeros).
        events: ``(c, y, x)`` addresses before pooling (``[N, 3]`` array or iterable).
        cfg: write configuration (its dimensions must match ``frame``).

    Returns:
        ``(frame_new, counters)``: the new counts (int64) and ``{"events": N, "bad": ...,
        "sat": ...}`` (events outside the frame; events that found their element at or above
        ``2**bits - 1``). The result does not depend on the event order.
    """
    f = np.array(frame, dtype=np.int64)
    if f.shape != (cfg.c, cfg.h, cfg.w):
        raise ValueError(f"frame shape {f.shape} != configuration {(cfg.c, cfg.h, cfg.w)}")
    ev = _events_array(events)
    c, y, x = ev[:, 0], ev[:, 1] >> cfg.shift, ev[:, 2] >> cfg.shift
    good = (c < cfg.c) & (y < cfg.h) & (x < cfg.w)
    lin = (c[good] * cfg.h + y[good]) * cfg.w + x[good]
    n = np.bincount(lin, minlength=f.size).reshape(f.shape)
    inc = np.clip(cfg.max_count - f, 0, None)
    inc = np.minimum(inc, n)
    f += inc
    counters = {"events": len(ev), "bad": int((~good).sum()), "sat": int((n - inc).sum())}
    return f, counters


def window_vectors(frame: npt.ArrayLike, k: int, pad: int) -> np.ndarray:
    """Convolution input vectors of a frame: ``[OH*OW, C*k*k]``, row-major positions.

    ``v[p, (c*k + ky)*k + kx] = frame[c, oy + ky - pad, ox + kx - pad]`` (0 outside), the
    columns of ``torch.nn.functional.unfold(frame[None], k, padding=pad)`` transposed.
    """
    f = np.asarray(frame)
    if f.ndim != 3:
        raise ValueError(f"frame must be [C, H, W], got shape {f.shape}")
    if k < 1 or pad < 0:
        raise ValueError(f"k = {k} must be >= 1 and pad = {pad} >= 0")
    c, h, w = f.shape
    oh, ow = h + 2 * pad - k + 1, w + 2 * pad - k + 1
    if oh < 1 or ow < 1:
        raise ValueError(f"kernel {k} with padding {pad} does not fit a {h} x {w} frame")
    fp = np.pad(f, ((0, 0), (pad, pad), (pad, pad)))
    win = np.lib.stride_tricks.sliding_window_view(fp, (k, k), axis=(1, 2))  # [C,OH,OW,k,k]
    return win.transpose(1, 2, 0, 3, 4).reshape(oh * ow, c * k * k)


def split_tiles(vectors: npt.ArrayLike, tile: int, n_rows: int) -> np.ndarray:
    """Cut vectors ``[P, KV]`` into row tiles ``[P, ceil(KV/tile), n_rows]`` (zero-filled).

    Tile ``t`` holds elements ``t*tile .. (t+1)*tile - 1`` at positions ``0 .. tile-1``.
    """
    v = np.asarray(vectors)
    if not 1 <= tile <= n_rows:
        raise ValueError(f"tile = {tile} outside 1..n_rows = {n_rows}")
    p, kv = v.shape
    nt = -(-kv // tile)
    padded = np.zeros((p, nt * tile), dtype=v.dtype)
    padded[:, :kv] = v
    out = np.zeros((p, nt, n_rows), dtype=v.dtype)
    out[:, :, :tile] = padded.reshape(p, nt, tile)
    return out


class Tile(NamedTuple):
    """One tile beat of the emit stream.

    Attributes:
        oy, ox: output position of the vector (``vec_oy_o``, ``vec_ox_o``).
        index: tile number within the vector (not a port).
        data: ``n_rows`` element values (``vec_data_o``, element r at ``[r*EL_W +: EL_W]``).
        last: last tile of the vector (``vec_last_o``).
        end: last tile of the frame (``vec_end_o``).
    """

    oy: int
    ox: int
    index: int
    data: np.ndarray
    last: bool
    end: bool


def emit_tiles(
    frame: npt.ArrayLike, cfg: ReadConfig, n_rows: int, *, vectors: np.ndarray | None = None
) -> list[Tile]:
    """The emit stream of one frame, in order.

    Args:
        frame: ``[C, H, W]`` counts (``cfg.c, cfg.h, cfg.w``).
        cfg: emit configuration (``k``, ``pad``, ``tile`` are used).
        n_rows: elements per tile beat (``N_ROWS``).
        vectors: precomputed ``window_vectors(frame, cfg.k, cfg.pad)`` (optional).
    """
    f = np.asarray(frame)
    if f.shape != (cfg.c, cfg.h, cfg.w):
        raise ValueError(f"frame shape {f.shape} != configuration {(cfg.c, cfg.h, cfg.w)}")
    v = window_vectors(f, cfg.k, cfg.pad) if vectors is None else vectors
    tiles = split_tiles(v, cfg.tile, n_rows)
    out = []
    nt = tiles.shape[1]
    last_p = tiles.shape[0] - 1
    for p in range(tiles.shape[0]):
        oy, ox = divmod(p, cfg.ow)
        for t in range(nt):
            last = t == nt - 1
            out.append(Tile(oy, ox, t, tiles[p, t], last, last and p == last_p))
    return out


def tile_valid_edges(cfg: ReadConfig) -> list[int]:
    """Without back-pressure: for every tile of the frame in order, the edge (counted from the
    edge that takes ``emit_start_i``, = 0) after which it is valid: ``1 + chunks placed up to
    and including its last chunk``. The last tile transfers one edge later, where
    ``emit_busy_o`` falls."""
    per_tile = np.asarray(cfg.tile_chunks(), dtype=np.int64)
    chunks = np.tile(per_tile, cfg.n_vectors)
    return (1 + np.cumsum(chunks)).tolist()


# ------------------------------------------------------------------------------------------
# Tile bit packing (the vec_data_o format)
# ------------------------------------------------------------------------------------------


def pack_elements(data: npt.ArrayLike, el_w: int) -> int:
    """Elements (each ``0 .. 2**el_w - 1``) to the integer value of a packed bus: element
    ``r`` at bits ``[r*el_w +: el_w]``."""
    a = np.asarray(data, dtype=np.int64)
    if a.size and (a.min() < 0 or a.max() >= 1 << el_w):
        raise ValueError(f"element values must fit {el_w} bits")
    bits = ((a[:, None] >> np.arange(el_w)) & 1).astype(np.uint8).ravel()
    return int.from_bytes(np.packbits(bits, bitorder="little").tobytes(), "little")


def unpack_elements(value: int, n: int, el_w: int) -> np.ndarray:
    """Inverse of :func:`pack_elements`: ``n`` elements of ``el_w`` bits (int64)."""
    nbits = n * el_w
    raw = np.frombuffer(int(value).to_bytes((nbits + 7) // 8 or 1, "little"), dtype=np.uint8)
    bits = np.unpackbits(raw, bitorder="little")[:nbits].reshape(n, el_w).astype(np.int64)
    return (bits << np.arange(el_w)).sum(axis=1)


# ------------------------------------------------------------------------------------------
# Stateful model of the RTL block
# ------------------------------------------------------------------------------------------


class Outcome(NamedTuple):
    """What applying one beat did (for coverage; not ports).

    Attributes:
        kind: ``"eof"``, ``"bad"``, ``"sat"`` or ``"inc"``.
        word: ``(bank, word index)`` written (``None`` for eof / bad).
        old: the element's value before the event (0 for eof / bad).
    """

    kind: str
    word: tuple[int, int] | None = None
    old: int = 0


@dataclass
class SpikeRouterModel:
    """Reference of one ``cim_spike_router`` instance (functional, beat by beat).

    Feed it every beat in the order the RTL applies it (:meth:`apply`), the legal clears
    (:meth:`clear`), every start (:meth:`start`) and every transferred last tile
    (:meth:`count_vector`). Counters and flags equal the RTL status outputs after the
    corresponding edge.

    Attributes:
        params: the instance's HDL parameters.
        banks: ``[2, max_ch_rows, max_w]`` element values (a cleared word is all zero).
        ev_count, bad_count, sat_count, frame_count, vec_count: the status counters (stick at
            :data:`COUNTER_MAX`).
        err_addr, err_clr, err_start: the sticky error flags.
    """

    params: RouterParams = field(default_factory=RouterParams)
    banks: np.ndarray = field(init=False, repr=False)
    ev_count: int = 0
    bad_count: int = 0
    sat_count: int = 0
    frame_count: int = 0
    vec_count: int = 0
    err_addr: bool = False
    err_clr: bool = False
    err_start: bool = False

    def __post_init__(self) -> None:
        p = self.params
        self.banks = np.zeros((2, p.max_ch_rows, p.max_w), dtype=np.int64)

    @classmethod
    def from_hdl(cls, params: dict[str, int]) -> SpikeRouterModel:
        """Build from HDL parameter names."""
        return cls(RouterParams.from_hdl(params))

    def reset(self) -> None:
        """``rst_ni``: banks cleared (valid bits), counters and sticky flags zero."""
        self.banks[:] = 0
        self.ev_count = self.bad_count = self.sat_count = 0
        self.frame_count = self.vec_count = 0
        self.err_addr = self.err_clr = self.err_start = False

    def clear(self, bank: int, legal: bool = True) -> None:
        """``clr_i``: clear ``bank``; an illegal clear only sets ``err_clr``."""
        if legal:
            self.banks[bank] = 0
        else:
            self.err_clr = True

    @staticmethod
    def _inc(v: int) -> int:
        return min(v + 1, COUNTER_MAX)

    def apply(self, beat: tuple[int, int, int] | None, cfg: WriteConfig) -> Outcome:
        """Apply one FIFO beat: an event ``(c, y, x)`` or an end-of-frame marker (``None``),
        with the write configuration sampled at its pop.

        Raises:
            ValueError: ``cfg`` is illegal (the RTL never pops under an illegal one).
        """
        if beat is None:
            self.frame_count = self._inc(self.frame_count)
            return Outcome("eof")
        cfg.check(self.params)
        self.ev_count = self._inc(self.ev_count)
        c, y, x = (int(v) for v in beat)
        ys, xs = y >> cfg.shift, x >> cfg.shift
        if c >= cfg.c or ys >= cfg.h or xs >= cfg.w:
            self.bad_count = self._inc(self.bad_count)
            self.err_addr = True
            return Outcome("bad")
        word = c * cfg.h + ys
        old = int(self.banks[cfg.bank, word, xs])
        if old >= cfg.max_count:
            self.sat_count = self._inc(self.sat_count)
            return Outcome("sat", (cfg.bank, word), old)
        self.banks[cfg.bank, word, xs] = old + 1
        return Outcome("inc", (cfg.bank, word), old)

    def read_frame(self, cfg: ReadConfig) -> np.ndarray:
        """The frame ``[C, H, W]`` an emit with ``cfg`` reads from its bank."""
        cfg.check(self.params)
        words = self.banks[cfg.bank, : cfg.c * cfg.h, : cfg.w]
        return words.reshape(cfg.c, cfg.h, cfg.w).copy()

    def vectors(self, frame: np.ndarray, cfg: ReadConfig) -> np.ndarray:
        """The convolution vectors of a frame (a hook a bench may override to prove its
        checker fails)."""
        return window_vectors(frame, cfg.k, cfg.pad)

    def start(self, cfg: ReadConfig, busy: bool = False) -> list[Tile] | None:
        """``emit_start_i``: the tiles the emit will produce, or ``None`` if the start is
        refused (``busy``, or ``cfg`` illegal), which sets ``err_start``."""
        if busy or cfg.errors(self.params):
            self.err_start = True
            return None
        frame = self.read_frame(cfg)
        return emit_tiles(frame, cfg, self.params.n_rows, vectors=self.vectors(frame, cfg))

    def count_vector(self) -> None:
        """A last tile transferred: ``vec_count`` + 1."""
        self.vec_count = self._inc(self.vec_count)

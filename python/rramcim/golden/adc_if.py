"""Bit-exact reference of ``rtl/cim_adc_if.sv`` (ADC interface of the crossbar read path).

What is modelled, bit for bit:

* the response of one conversion request: codes, per-channel saturation flags, timeout flag
  (:meth:`AdcIfModel.respond`);
* the status outputs: saturating 32-bit counters of conversions and saturated channel samples,
  sticky timeout and bad-group errors;
* the cycle timing of the handshake (:func:`start_offset_cycles`,
  :func:`response_latency_cycles`), so a bench can check every pulse on its exact cycle.

Conventions shared with the RTL (see ``docs/read_path.md``): ADC codes are ``adc_bits``-wide
two's-complement integers; channel ``a`` of a packed code word sits at bits
``[a*adc_bits, (a+1)*adc_bits)``; a code equal to ``-2**(adc_bits-1)`` or
``2**(adc_bits-1) - 1`` is saturated.

Pure Python + numpy; no cocotb import.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

#: Largest value of the 32-bit status counters; they stick there instead of wrapping.
COUNTER_MAX = 2**32 - 1


def code_limits(adc_bits: int) -> tuple[int, int]:
    """Most negative and most positive code of an ``adc_bits``-bit two's-complement ADC.

    Args:
        adc_bits: ADC resolution in bits, 2 .. 16.

    Returns:
        ``(-2**(adc_bits-1), 2**(adc_bits-1) - 1)``.

    Raises:
        ValueError: if ``adc_bits`` is out of range.
    """
    _check_range("adc_bits", adc_bits, 2, 16)
    half = 1 << (adc_bits - 1)
    return -half, half - 1


def saturation_flags(codes: npt.ArrayLike, adc_bits: int) -> np.ndarray:
    """Saturation flag of every code: ``True`` where the code is the most negative or most
    positive ``adc_bits``-bit two's-complement value.

    Args:
        codes: signed integer codes, any shape (e.g. ``(n_adc,)`` for one conversion or
            ``(n_conversions, n_adc)`` for a batch).
        adc_bits: ADC resolution in bits, 2 .. 16.

    Returns:
        Boolean array with the shape of ``codes``.

    Raises:
        ValueError: if ``adc_bits`` is out of range, or a code is not an integer or does not
            fit in ``adc_bits`` bits.
    """
    lo, hi = code_limits(adc_bits)
    arr = _as_codes(codes, lo, hi)
    return (arr == lo) | (arr == hi)


def pack_codes(codes: npt.ArrayLike, adc_bits: int) -> int:
    """Pack signed codes into the RTL bus word (channel ``a`` at ``[a*adc_bits +: adc_bits]``).

    Args:
        codes: one conversion, shape ``(n_adc,)``, signed integers.
        adc_bits: ADC resolution in bits, 2 .. 16.

    Returns:
        Non-negative integer of ``n_adc * adc_bits`` bits.

    Raises:
        ValueError: on an out-of-range code or ``adc_bits``, or if ``codes`` is not 1-D.
    """
    lo, hi = code_limits(adc_bits)
    arr = _as_codes(codes, lo, hi)
    if arr.ndim != 1:
        raise ValueError(f"codes: expected one conversion (1-D), got shape {arr.shape}")
    mask = (1 << adc_bits) - 1
    word = 0
    for a, c in enumerate(arr.tolist()):
        word |= (c & mask) << (a * adc_bits)
    return word


def unpack_codes(word: int, n_adc: int, adc_bits: int) -> np.ndarray:
    """Inverse of :func:`pack_codes`: split a bus word into ``n_adc`` signed codes.

    Args:
        word: non-negative integer of at most ``n_adc * adc_bits`` bits.
        n_adc: ADC channels, 1 .. 256.
        adc_bits: ADC resolution in bits, 2 .. 16.

    Returns:
        ``int64`` array of shape ``(n_adc,)``.

    Raises:
        ValueError: if ``word`` is negative or wider than ``n_adc * adc_bits`` bits.
    """
    _check_range("n_adc", n_adc, 1, 256)
    code_limits(adc_bits)
    if word < 0 or word >> (n_adc * adc_bits):
        raise ValueError(f"word: {word:#x} does not fit in {n_adc * adc_bits} unsigned bits")
    mask = (1 << adc_bits) - 1
    half = 1 << (adc_bits - 1)
    out = np.empty(n_adc, dtype=np.int64)
    for a in range(n_adc):
        u = (word >> (a * adc_bits)) & mask
        out[a] = u - (1 << adc_bits) if u >= half else u
    return out


def pack_flags(flags: npt.ArrayLike) -> int:
    """Pack booleans into an integer, element ``a`` at bit ``a`` (the ``rsp_sat_o`` layout)."""
    word = 0
    for a, f in enumerate(np.asarray(flags, dtype=bool).ravel().tolist()):
        word |= int(f) << a
    return word


@dataclass(frozen=True)
class AdcIfConfig:
    """HDL parameters of one ``cim_adc_if`` instance (validated like the RTL's ``$fatal`` check).

    Attributes:
        n_adc: ADC channels, 1 .. 256.
        adc_bits: ADC resolution in bits, 2 .. 16.
        n_groups: column-mux groups, 1 .. 4096.
        t_settle_cyc: clock cycles between the mux change and the start cycle, 0 .. 255.
        t_timeout_cyc: clock cycles waited for ``adc_done_i`` after the start cycle,
            1 .. 65535.
    """

    n_adc: int = 32
    adc_bits: int = 8
    n_groups: int = 8
    t_settle_cyc: int = 2
    t_timeout_cyc: int = 1024

    def __post_init__(self) -> None:
        _check_range("n_adc", self.n_adc, 1, 256)
        _check_range("adc_bits", self.adc_bits, 2, 16)
        _check_range("n_groups", self.n_groups, 1, 4096)
        _check_range("t_settle_cyc", self.t_settle_cyc, 0, 255)
        _check_range("t_timeout_cyc", self.t_timeout_cyc, 1, 65535)

    @property
    def mux_w(self) -> int:
        """Width of ``req_group_i`` / ``mux_sel_o`` in bits."""
        return max(1, (self.n_groups - 1).bit_length())

    @property
    def code_w(self) -> int:
        """Width of ``adc_code_i`` / ``rsp_code_o`` in bits."""
        return self.n_adc * self.adc_bits

    @property
    def bad_groups(self) -> range:
        """Select values that name no group (empty when ``n_groups`` is a power of two > 1)."""
        return range(self.n_groups, 1 << self.mux_w)

    def group_ok(self, group: int) -> bool:
        """Whether ``group`` names an existing column-mux group."""
        return 0 <= group < self.n_groups

    @classmethod
    def from_hdl(cls, params: dict[str, int]) -> AdcIfConfig:
        """Build from HDL parameter names (``N_ADC``, ``ADC_BITS``, ...); missing ones default."""
        names = {
            "N_ADC": "n_adc",
            "ADC_BITS": "adc_bits",
            "N_GROUPS": "n_groups",
            "T_SETTLE_CYC": "t_settle_cyc",
            "T_TIMEOUT_CYC": "t_timeout_cyc",
        }
        unknown = set(params) - set(names)
        if unknown:
            raise ValueError(f"unknown cim_adc_if parameter(s): {', '.join(sorted(unknown))}")
        return cls(**{names[k]: int(v) for k, v in params.items()})


def start_offset_cycles(cfg: AdcIfConfig) -> int:
    """Cycles from the edge that accepts a request to the edge that samples ``adc_start_o``.

    ``adc_start_o`` is high in the cycle that ends at this edge.
    """
    return cfg.t_settle_cyc + 1


def response_latency_cycles(cfg: AdcIfConfig, group: int, t_conv_cyc: int | None) -> int:
    """Cycles from the edge that accepts a request to the first edge that samples
    ``rsp_valid_o`` high.

    Args:
        cfg: instance parameters.
        group: requested group (a bad group is answered without a conversion).
        t_conv_cyc: edges from the edge that samples ``adc_start_o`` to the edge that samples
            ``adc_done_i`` (>= 1), or ``None`` if the macro never answers.

    Returns:
        ``1`` for a bad group; ``t_settle_cyc + t_conv_cyc + 2`` for a conversion;
        ``t_settle_cyc + t_timeout_cyc + 2`` for a timeout (``t_conv_cyc`` missing or above
        ``t_timeout_cyc``).
    """
    if not cfg.group_ok(group):
        return 1
    if t_conv_cyc is not None and t_conv_cyc < 1:
        raise ValueError(f"t_conv_cyc: {t_conv_cyc} < 1 (a done cannot come with its start)")
    if t_conv_cyc is None or t_conv_cyc > cfg.t_timeout_cyc:
        return cfg.t_settle_cyc + cfg.t_timeout_cyc + 2
    return cfg.t_settle_cyc + t_conv_cyc + 2


@dataclass(frozen=True)
class AdcIfResponse:
    """One response beat of ``cim_adc_if``.

    Attributes:
        codes: signed code of each channel (0 on a timeout or a bad group).
        sat: saturation flag of each channel.
        timeout: ``rsp_timeout_o``.
        code_word: ``rsp_code_o`` as an unsigned integer.
        sat_word: ``rsp_sat_o`` as an unsigned integer.
    """

    codes: tuple[int, ...]
    sat: tuple[bool, ...]
    timeout: bool
    code_word: int
    sat_word: int


@dataclass
class AdcIfModel:
    """Reference of the response path and status outputs of one ``cim_adc_if``.

    Feed it every request in acceptance order with :meth:`respond`; after each call the
    attributes equal the RTL status outputs as seen when that response's ``rsp_valid_o``
    rises. :meth:`reset` mirrors ``rst_ni``.

    Attributes:
        cfg: instance parameters.
        sat_count: ``sat_count_o``, saturated channel samples since reset (saturates at
            :data:`COUNTER_MAX`).
        conv_count: ``conv_count_o``, conversions started since reset, timed-out ones
            included (saturates at :data:`COUNTER_MAX`).
        err_timeout: ``err_timeout_o``, sticky.
        err_group: ``err_group_o``, sticky.
    """

    cfg: AdcIfConfig
    sat_count: int = 0
    conv_count: int = 0
    err_timeout: bool = False
    err_group: bool = False
    _zero: AdcIfResponse = field(init=False, repr=False)

    def __post_init__(self) -> None:
        n = self.cfg.n_adc
        self._zero = AdcIfResponse((0,) * n, (False,) * n, False, 0, 0)

    def reset(self) -> None:
        """Clear counters and sticky errors (``rst_ni`` low)."""
        self.sat_count = 0
        self.conv_count = 0
        self.err_timeout = False
        self.err_group = False

    def flags(self, codes: np.ndarray) -> np.ndarray:
        """Saturation flags of one conversion (a hook a bench may override to test itself)."""
        return saturation_flags(codes, self.cfg.adc_bits)

    def respond(self, group: int, codes: npt.ArrayLike | None) -> AdcIfResponse:
        """Process one accepted request and return its response.

        Args:
            group: requested column-mux group (``req_group_i``).
            codes: the ``n_adc`` signed codes the macro returned with ``adc_done_i``, or
                ``None`` if the conversion timed out. Ignored for a bad group.

        Returns:
            The response beat.

        Raises:
            ValueError: if ``group`` does not fit in the select width, or ``codes`` has the
                wrong length or an out-of-range code.
        """
        if not 0 <= group < (1 << self.cfg.mux_w):
            raise ValueError(f"group: {group} does not fit in {self.cfg.mux_w} select bits")
        if not self.cfg.group_ok(group):
            self.err_group = True
            return AdcIfResponse(self._zero.codes, self._zero.sat, False, 0, 0)
        self.conv_count = min(self.conv_count + 1, COUNTER_MAX)
        if codes is None:
            self.err_timeout = True
            return AdcIfResponse(self._zero.codes, self._zero.sat, True, 0, 0)
        lo, hi = code_limits(self.cfg.adc_bits)
        arr = _as_codes(codes, lo, hi)
        if arr.shape != (self.cfg.n_adc,):
            raise ValueError(f"codes: expected shape ({self.cfg.n_adc},), got {arr.shape}")
        sat = np.asarray(self.flags(arr), dtype=bool)
        self.sat_count = min(self.sat_count + int(sat.sum()), COUNTER_MAX)
        return AdcIfResponse(
            codes=tuple(int(c) for c in arr.tolist()),
            sat=tuple(bool(s) for s in sat.tolist()),
            timeout=False,
            code_word=pack_codes(arr, self.cfg.adc_bits),
            sat_word=pack_flags(sat),
        )

    def count_batch(self, codes: npt.ArrayLike) -> np.ndarray:
        """Update the counters for a batch of completed conversions at once.

        Equivalent to calling :meth:`respond` for each row (valid groups, no timeouts) but
        vectorised, for the batched hardware model.

        Args:
            codes: signed codes, shape ``(n_conversions, n_adc)``.

        Returns:
            Saturation flags, shape ``(n_conversions, n_adc)``.
        """
        lo, hi = code_limits(self.cfg.adc_bits)
        arr = _as_codes(codes, lo, hi)
        if arr.ndim != 2 or arr.shape[1] != self.cfg.n_adc:
            raise ValueError(f"codes: expected shape (n, {self.cfg.n_adc}), got {arr.shape}")
        sat = np.asarray(self.flags(arr), dtype=bool)
        self.conv_count = min(self.conv_count + arr.shape[0], COUNTER_MAX)
        self.sat_count = min(self.sat_count + int(sat.sum()), COUNTER_MAX)
        return sat


def _check_range(name: str, value: int, lo: int, hi: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ValueError(f"{name}: expected an integer, got {value!r}")
    if not lo <= value <= hi:
        raise ValueError(f"{name}: {value} out of {lo}..{hi}")


def _as_codes(codes: npt.ArrayLike | Sequence[int], lo: int, hi: int) -> np.ndarray:
    arr = np.asarray(codes)
    if arr.dtype == bool or not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"codes: expected integers, got dtype {arr.dtype}")
    arr = arr.astype(np.int64, copy=False)
    if arr.size and (arr.min() < lo or arr.max() > hi):
        bad = arr[(arr < lo) | (arr > hi)].ravel()[0]
        raise ValueError(f"codes: {int(bad)} out of the ADC range {lo}..{hi}")
    return arr

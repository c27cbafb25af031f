"""Bit-exact reference of ``rtl/cim_lif_array.sv``: fixed-point LIF neurons (PRIME cell).

Float reference (PRIME classification cell, PAPERS.md §1.3), per timestep and neuron::

    U <- U * (1 - s_prev)        # hard reset if it spiked last step
    U <- U * leak                # leak = 1 - decay = 0.2
    U <- U + I                   # synaptic input of this step
    U <- LeakyReLU_0.1(U)        # negative membrane scaled by 0.1
    s <- (U > Vth)               # Vth = 0.2 (conv), 0.5 (fc)

    output integrator (last layer): U <- LeakyReLU_0.1(U + I); no leak, no reset, s = 0

Fixed-point contract (normative; the RTL header states the same):

* ``U`` is a ``u_w``-bit two's-complement integer with ``frac`` fractional bits (LSB =
  ``2**-frac``); ``I`` is an ``in_w``-bit signed integer already in membrane LSBs.
* ``mul_q8(x, m) = floor((x*m + 128) / 256)`` (round half up, arithmetic), ``m`` an unsigned
  8-bit Q0.8 value: ``leak_q8`` (default 51 ~ 0.2), ``neg_q8`` (default 26 ~ 0.1).
* LIF step: ``u1 = 0 if s_prev else U``; ``u2 = mul_q8(u1, leak_q8)``;
  ``u3 = sat_U(u2 + sat_to_range(I))`` (a clamp is one saturation event);
  ``u4 = mul_q8(u3, neg_q8) if u3 < 0 else u3``; ``s = u4 > vth`` (``vth`` a signed
  ``u_w``-bit value); store ``U = u4``, ``s_prev = s``.
* Integrator mode: ``u3 = sat_U(U + I)``; ``u4`` as above; ``s = 0``; store; output ``U``.
* Clear (new sample): every ``U = 0`` and ``s_prev = 0``.

``sat_to_range(I) = clamp(I, -2**(u_w+1), 2**(u_w+1) - 1)`` only narrows the adder: since
``|u2| <= 2**(u_w-1)`` it never changes ``sat_U(u2 + I)``, and whenever it clamps,
``u2 + sat_to_range(I)`` is already outside the membrane range, so a saturation event is
exactly "the exact ``u2 + I`` lies outside the membrane range" (``tests/test_golden_lif_array.py``
checks this model against a literal scalar transcription of the contract, with and without
the clamp). ``mul_q8`` never grows a value (``|mul_q8(x, m)| <= |x|`` for ``m <= 255``), so
``u2`` and ``u4`` need no saturation.

Everything is vectorised numpy over any leading batch shape (``[batch, neurons]`` arrays in
the PRIME hardware model, every timestep), computed in place in int32 when ``u_w <= 24``
(:func:`work_dtype`; about 13 ns per neuron on one core) and int64 otherwise.
:class:`LifArrayModel` is the stateful model of the whole RTL block (state memory, counters,
error flags) that the cocotb bench uses beat by beat.

Pure Python + numpy; no cocotb import.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace

import numpy as np
import numpy.typing as npt

#: Largest value of the 32-bit status counters; they stick there instead of wrapping.
COUNTER_MAX = 2**32 - 1

#: Legal ranges (inclusive) of the RTL parameters.
N_NEURONS_RANGE = (1, 65536)
U_W_RANGE = (8, 32)
IN_W_RANGE = (8, 40)

#: PRIME classification cell constants (PAPERS.md §1.3: decay 0.8, LeakyReLU 0.1,
#: Vth 0.2 conv / 0.5 fully connected).
PRIME_LEAK = 0.2
PRIME_NEG_SLOPE = 0.1
PRIME_VTH_CONV = 0.2
PRIME_VTH_FC = 0.5


class LifMode(enum.Enum):
    """Update rule; the value is the RTL's ``cfg_mode_i``."""

    LIF = 0  #: leaky integrate-and-fire with hard reset and threshold
    INTEGRATOR = 1  #: output cell: no leak, no reset, never spikes


def _check_int(name: str, value: object, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ValueError(f"{name} must be an integer in [{lo}, {hi}], got {value!r}")
    v = int(value)
    if not lo <= v <= hi:
        raise ValueError(f"{name} = {v} is outside [{lo}, {hi}]")
    return v


def q8(x: float) -> int:
    """Unsigned Q0.8 code of a factor in [0, 255/256]: ``floor(x*256 + 0.5)``.

    Args:
        x: factor, dimensionless (e.g. ``0.2`` -> 51, ``0.1`` -> 26).

    Raises:
        ValueError: ``x`` is not finite or its code is outside 0..255.
    """
    if not np.isfinite(x):
        raise ValueError(f"q8: factor {x!r} is not finite")
    code = int(np.floor(float(x) * 256.0 + 0.5))
    if not 0 <= code <= 255:
        raise ValueError(f"q8: factor {x!r} gives code {code}, outside the Q0.8 range 0..255")
    return code


def to_fixed(x: npt.ArrayLike, frac: int, bits: int | None = None) -> np.ndarray:
    """Float values to integers with ``frac`` fractional bits: ``floor(x * 2**frac + 0.5)``.

    Args:
        x: values in membrane units (any shape).
        frac: fractional bits, 0 .. 38.
        bits: if given, saturate to the ``bits``-wide two's-complement range (e.g. ``in_w``
            for synaptic inputs); otherwise the result must fit int64.

    Returns:
        int64 array of the shape of ``x``.

    Raises:
        ValueError: ``frac`` out of range or a value that is NaN or infinite.
    """
    frac = _check_int("frac", frac, 0, 38)
    a = np.asarray(x, dtype=np.float64)
    if not np.isfinite(a).all():
        bad = a[~np.isfinite(a)].ravel()[0]
        raise ValueError(f"to_fixed: value {bad!r} is not finite")
    scaled = np.floor(a * float(1 << frac) + 0.5)
    if bits is not None:
        bits = _check_int("bits", bits, 2, 62)
        lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
        scaled = np.clip(scaled, lo, hi)
    elif scaled.size and np.abs(scaled).max() >= 2.0**62:
        raise ValueError("to_fixed: value too large for int64 (pass bits= to saturate)")
    return scaled.astype(np.int64)


def vth_fixed(vth: float, frac: int, u_w: int | None = None) -> int:
    """Threshold in membrane LSBs (``cfg_vth_i``): ``floor(vth * 2**frac + 0.5)``.

    Args:
        vth: threshold in membrane units (PRIME: 0.2 conv, 0.5 fc).
        frac: fractional bits of the membrane word.
        u_w: if given, the value must fit a ``u_w``-bit signed word.

    Raises:
        ValueError: not finite, or does not fit ``u_w`` bits.
    """
    v = int(to_fixed(vth, frac))
    if u_w is not None:
        u_w = _check_int("u_w", u_w, *U_W_RANGE)
        lo, hi = -(1 << (u_w - 1)), (1 << (u_w - 1)) - 1
        if not lo <= v <= hi:
            raise ValueError(f"vth_fixed: {vth} -> {v} LSB does not fit {u_w} signed bits")
    return v


def mul_q8(x: npt.ArrayLike, m: npt.ArrayLike) -> np.ndarray:
    """``floor((x*m + 128) / 256)``: multiply by an unsigned Q0.8 factor, round half up.

    Args:
        x: signed integers (any shape), at most 54 bits.
        m: factor code(s) 0 .. 255, broadcastable to ``x``.

    Returns:
        int64 array (broadcast shape). ``|result| <= |x|``.
    """
    return (np.asarray(x, dtype=np.int64) * np.asarray(m, dtype=np.int64) + 128) >> 8


@dataclass(frozen=True)
class LifConfig:
    """Word widths (HDL parameters) and run-time configuration (``cfg_*`` inputs).

    Attributes:
        u_w: membrane word width in bits (``U_W``), 8 .. 32.
        frac: fractional bits of the membrane word (``F``), 0 .. u_w-2; LSB = 2**-frac
            membrane units. Only the float conversions use it.
        in_w: synaptic input width in bits (``IN_W``), 8 .. 40; input in membrane LSBs.
        leak_q8: leak factor (``cfg_leak_q8_i``), unsigned Q0.8 code 0 .. 255 (51 ~ 0.2).
        neg_q8: LeakyReLU negative slope (``cfg_neg_q8_i``), Q0.8 code 0 .. 255 (26 ~ 0.1).
        vth: threshold (``cfg_vth_i``), membrane LSBs, signed ``u_w``-bit (205 ~ 0.2 at
            frac 10).
        mode: :class:`LifMode` (``cfg_mode_i``).
    """

    u_w: int = 16
    frac: int = 10
    in_w: int = 24
    leak_q8: int = 51
    neg_q8: int = 26
    vth: int = 205
    mode: LifMode = LifMode.LIF

    def __post_init__(self) -> None:
        _check_int("u_w", self.u_w, *U_W_RANGE)
        _check_int("frac", self.frac, 0, self.u_w - 2)
        _check_int("in_w", self.in_w, *IN_W_RANGE)
        _check_int("leak_q8", self.leak_q8, 0, 255)
        _check_int("neg_q8", self.neg_q8, 0, 255)
        _check_int("vth", self.vth, self.u_min, self.u_max)
        if not isinstance(self.mode, LifMode):
            raise ValueError(f"mode must be a LifMode, got {self.mode!r}")

    # ---- ranges ---------------------------------------------------------------------------
    @property
    def u_min(self) -> int:
        """Most negative membrane value, LSBs."""
        return -(1 << (self.u_w - 1))

    @property
    def u_max(self) -> int:
        """Most positive membrane value, LSBs."""
        return (1 << (self.u_w - 1)) - 1

    @property
    def in_min(self) -> int:
        """Most negative synaptic input, LSBs."""
        return -(1 << (self.in_w - 1))

    @property
    def in_max(self) -> int:
        """Most positive synaptic input, LSBs."""
        return (1 << (self.in_w - 1)) - 1

    @property
    def lsb(self) -> float:
        """Membrane LSB in membrane units (``2**-frac``)."""
        return 2.0**-self.frac

    @property
    def leak(self) -> float:
        """Leak factor actually applied (``leak_q8 / 256``)."""
        return self.leak_q8 / 256.0

    @property
    def neg_slope(self) -> float:
        """LeakyReLU slope actually applied (``neg_q8 / 256``)."""
        return self.neg_q8 / 256.0

    def replace(self, **changes: object) -> LifConfig:
        """Copy with some fields changed (validated again)."""
        return replace(self, **changes)

    @classmethod
    def from_float(
        cls,
        *,
        vth: float = PRIME_VTH_CONV,
        leak: float = PRIME_LEAK,
        neg_slope: float = PRIME_NEG_SLOPE,
        mode: LifMode = LifMode.LIF,
        u_w: int = 16,
        frac: int = 10,
        in_w: int = 24,
    ) -> LifConfig:
        """Configuration from float constants (PRIME defaults: conv threshold 0.2).

        ``leak``/``neg_slope`` round to Q0.8 (:func:`q8`), ``vth`` to LSBs
        (:func:`vth_fixed`).
        """
        return cls(
            u_w=u_w,
            frac=frac,
            in_w=in_w,
            leak_q8=q8(leak),
            neg_q8=q8(neg_slope),
            vth=vth_fixed(vth, frac, u_w),
            mode=mode,
        )


def _as_int(name: str, x: npt.ArrayLike, lo: int, hi: int, check: bool) -> np.ndarray:
    a = np.asarray(x)
    if check:
        if a.dtype == bool or not np.issubdtype(a.dtype, np.integer):
            raise ValueError(f"{name}: expected integers (LSBs), got dtype {a.dtype}")
        if a.size:
            amin, amax = int(a.min()), int(a.max())
            if amin < lo or amax > hi:
                bad = amin if amin < lo else amax
                raise ValueError(f"{name}: value {bad} outside [{lo}, {hi}]")
    return a


def _as_spikes(x: npt.ArrayLike, check: bool) -> np.ndarray:
    a = np.asarray(x)
    if a.dtype == bool:
        return a
    if check:
        if not np.issubdtype(a.dtype, np.integer):
            raise ValueError(f"s_prev: expected bool or 0/1 integers, got dtype {a.dtype}")
        if a.size and (a.min() < 0 or a.max() > 1):
            raise ValueError("s_prev: integer spikes must be 0 or 1")
    return a != 0


def work_dtype(cfg: LifConfig) -> type[np.signedinteger]:
    """Integer dtype of the arrays the step functions return: int32 when ``u_w <= 24``
    (every intermediate, ``u*255 + 128`` and ``u2 + sat_to_range(I)``, fits 31 bits), else
    int64."""
    return np.int32 if cfg.u_w <= 24 else np.int64


def _core(
    u: np.ndarray, s_prev: np.ndarray | None, cur: np.ndarray, cfg: LifConfig
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The contract's u1 .. u4 (``s_prev`` None: integrator). Returns u4 and the masks of
    top / bottom saturation. Works in place on fresh arrays of :func:`work_dtype`."""
    dt = work_dtype(cfg)
    if cfg.in_w > cfg.u_w + 2:  # sat_to_range(I): narrows the adder, changes no result
        cur = np.clip(cur, -(1 << (cfg.u_w + 1)), (1 << (cfg.u_w + 1)) - 1)
    cur = cur.astype(dt, copy=False)
    u = u.astype(dt, copy=False)
    if s_prev is None:
        u2 = u.copy()
    else:
        u2 = np.where(s_prev, dt(0), u)  # u1: hard reset
        u2 *= cfg.leak_q8  # u2 = mul_q8(u1, leak_q8)
        u2 += 128
        u2 >>= 8
    if u2.shape == np.broadcast_shapes(u2.shape, cur.shape):
        u2 += cur
        tot = u2
    else:
        tot = u2 + cur
    hi = tot > cfg.u_max
    lo = tot < cfg.u_min
    np.clip(tot, cfg.u_min, cfg.u_max, out=tot)  # u3 = sat_U(u2 + I)
    neg = tot * cfg.neg_q8
    neg += 128
    neg >>= 8
    u4 = np.where(tot < 0, neg, tot)  # LeakyReLU
    return u4, hi, lo


def lif_step_sat(
    u: npt.ArrayLike,
    s_prev: npt.ArrayLike,
    cur: npt.ArrayLike,
    cfg: LifConfig,
    *,
    check: bool = True,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One timestep of every neuron, with the per-neuron saturation direction.

    Like :func:`lif_step`, but returns ``sat`` (int8, broadcast shape): +1 where ``u2 + I``
    clamped at the top of the range, -1 at the bottom, 0 otherwise.
    """
    u = _as_int("u", u, cfg.u_min, cfg.u_max, check)
    cur = _as_int("cur", cur, cfg.in_min, cfg.in_max, check)
    if cfg.mode is LifMode.LIF:
        u4, hi, lo = _core(u, _as_spikes(s_prev, check), cur, cfg)
        s = u4 > cfg.vth
    else:
        u4, hi, lo = _core(u, None, cur, cfg)
        s = np.zeros(u4.shape, dtype=bool)
    sat = hi.view(np.int8) - lo.view(np.int8)
    return u4, s, sat


def lif_step(
    u: npt.ArrayLike,
    s_prev: npt.ArrayLike,
    cur: npt.ArrayLike,
    cfg: LifConfig,
    *,
    check: bool = True,
) -> tuple[np.ndarray, np.ndarray, int]:
    """One timestep of every neuron (``cfg.mode`` selects LIF or integrator).

    Args:
        u: membrane values, LSBs, signed ``u_w``-bit integers, any shape (e.g.
            ``[batch, neurons]``).
        s_prev: spikes of the previous step (bool or 0/1), broadcastable with ``u``;
            ignored in integrator mode.
        cur: synaptic inputs of this step, LSBs, signed ``in_w``-bit integers, broadcastable.
        cfg: widths and run-time configuration.
        check: validate dtypes and ranges (a few min/max passes; switch off in a hot loop
            whose inputs are known good).

    Returns:
        ``(u_new, s, n_sat)``: new membrane values (:func:`work_dtype`: int32 for
        ``u_w <= 24``, else int64), spikes (bool; all False in
        integrator mode), and the number of neurons whose ``u2 + I`` saturated (the RTL's
        ``sat_count_o`` increment).

    Raises:
        ValueError: a non-integer array or a value out of range (``check``).
    """
    u4, s, sat = lif_step_sat(u, s_prev, cur, cfg, check=check)
    return u4, s, int(np.count_nonzero(sat))


def integrator_step(
    u: npt.ArrayLike, cur: npt.ArrayLike, cfg: LifConfig, *, check: bool = True
) -> tuple[np.ndarray, int]:
    """One step of the output integrator: ``U = LeakyReLU(sat_U(U + I))`` (``cfg.mode``
    is ignored; no leak, no reset, no spikes).

    Returns:
        ``(u_new, n_sat)`` as in :func:`lif_step`.
    """
    u = _as_int("u", u, cfg.u_min, cfg.u_max, check)
    cur = _as_int("cur", cur, cfg.in_min, cfg.in_max, check)
    u4, hi, lo = _core(u, None, cur, cfg)
    return u4, int(np.count_nonzero(hi) + np.count_nonzero(lo))


def lif_step_float(
    u: npt.ArrayLike,
    s_prev: npt.ArrayLike,
    cur: npt.ArrayLike,
    *,
    leak: float = PRIME_LEAK,
    neg_slope: float = PRIME_NEG_SLOPE,
    vth: float = PRIME_VTH_CONV,
) -> tuple[np.ndarray, np.ndarray]:
    """Float reference of the PRIME LIF cell (membrane units, float64).

    Returns:
        ``(u_new, s)`` with ``s = u_new > vth`` (bool).
    """
    u = np.asarray(u, dtype=np.float64) * (1.0 - np.asarray(s_prev, dtype=np.float64))
    u = u * leak + np.asarray(cur, dtype=np.float64)
    u = np.where(u < 0.0, u * neg_slope, u)
    return u, u > vth


def integrator_step_float(
    u: npt.ArrayLike, cur: npt.ArrayLike, *, neg_slope: float = PRIME_NEG_SLOPE
) -> np.ndarray:
    """Float reference of PRIME's output cell: ``LeakyReLU(U + I)``."""
    u = np.asarray(u, dtype=np.float64) + np.asarray(cur, dtype=np.float64)
    return np.where(u < 0.0, u * neg_slope, u)


# ------------------------------------------------------------------------------------------
# Stateful model of the RTL block
# ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LifBeat:
    """One output beat of ``cim_lif_array``.

    Attributes:
        idx: ``out_idx_o``.
        spike: ``out_spike_o``.
        mem: ``out_mem_o`` as a signed integer (LSBs).
        err: ``out_err_o`` (index >= N_NEURONS).
        sat: saturation direction of this update (+1, -1, 0; not a port, for coverage).
        s_prev: the neuron's ``s_prev`` before the update (not a port, for coverage).
        u3_neg: ``u3 < 0`` (the LeakyReLU negative branch; not a port, for coverage).
    """

    idx: int
    spike: bool
    mem: int
    err: bool
    sat: int = 0
    s_prev: bool = False
    u3_neg: bool = False


@dataclass
class LifArrayModel:
    """Reference of one ``cim_lif_array`` instance, beat by beat.

    Feed it every accepted input beat in order with :meth:`update`; after each call the
    counters equal the RTL status outputs as seen when that beat's output becomes valid.
    :meth:`clear` mirrors ``clr_i``, :meth:`reset` mirrors ``rst_ni``.

    Attributes:
        n_neurons: ``N_NEURONS``, 1 .. 65536.
        u_w, frac, in_w: ``U_W``, ``F``, ``IN_W`` (see :class:`LifConfig`).
        u: membrane value of every neuron (int64, LSBs).
        s: ``s_prev`` of every neuron.
        sat_count, upd_count, spike_count: ``sat_count_o``, ``upd_count_o``,
            ``spike_count_o`` (stick at :data:`COUNTER_MAX`).
        err_idx, err_clr: the sticky error flags.
    """

    n_neurons: int = 256
    u_w: int = 16
    frac: int = 10
    in_w: int = 24
    u: np.ndarray = field(init=False, repr=False)
    s: np.ndarray = field(init=False, repr=False)
    sat_count: int = 0
    upd_count: int = 0
    spike_count: int = 0
    err_idx: bool = False
    err_clr: bool = False

    def __post_init__(self) -> None:
        _check_int("n_neurons", self.n_neurons, *N_NEURONS_RANGE)
        LifConfig(u_w=self.u_w, frac=self.frac, in_w=self.in_w, vth=0)  # validates widths
        self.u = np.zeros(self.n_neurons, dtype=np.int64)
        self.s = np.zeros(self.n_neurons, dtype=bool)

    @property
    def idx_w(self) -> int:
        """Width of ``in_idx_i`` / ``out_idx_o`` in bits."""
        return max(1, (self.n_neurons - 1).bit_length())

    @property
    def bad_indices(self) -> range:
        """Index values that name no neuron (empty when ``n_neurons`` is a power of two > 1)."""
        return range(self.n_neurons, 1 << self.idx_w)

    @classmethod
    def from_hdl(cls, params: dict[str, int]) -> LifArrayModel:
        """Build from HDL parameter names (``N_NEURONS``, ``U_W``, ``F``, ``IN_W``)."""
        names = {"N_NEURONS": "n_neurons", "U_W": "u_w", "F": "frac", "IN_W": "in_w"}
        unknown = set(params) - set(names)
        if unknown:
            raise ValueError(f"unknown cim_lif_array parameter(s): {', '.join(sorted(unknown))}")
        return cls(**{names[k]: int(v) for k, v in params.items()})

    def config(self, **runtime: object) -> LifConfig:
        """A :class:`LifConfig` with this instance's widths and the given run-time fields."""
        return LifConfig(u_w=self.u_w, frac=self.frac, in_w=self.in_w, **runtime)

    def reset(self) -> None:
        """``rst_ni``: every neuron cleared, counters and sticky errors to zero."""
        self.u[:] = 0
        self.s[:] = False
        self.sat_count = self.upd_count = self.spike_count = 0
        self.err_idx = self.err_clr = False

    def clear(self, busy: bool = False) -> None:
        """``clr_i``: clear every neuron; while ``busy`` it is ignored and flags ``err_clr``."""
        if busy:
            self.err_clr = True
            return
        self.u[:] = 0
        self.s[:] = False

    def step(
        self, u: np.ndarray, s_prev: np.ndarray, cur: np.ndarray, cfg: LifConfig
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The neuron update (a hook a bench may override to prove its checker fails)."""
        return lif_step_sat(u, s_prev, cur, cfg)

    def update(self, idx: int, cur: int, cfg: LifConfig) -> LifBeat:
        """Process one input beat and return its output beat.

        Args:
            idx: ``in_idx_i`` (0 .. 2**idx_w - 1; indices >= n_neurons are bad).
            cur: ``in_cur_i`` as a signed integer (LSBs).
            cfg: the configuration sampled with the beat (widths must match this instance).

        Raises:
            ValueError: index wider than the port, or widths different from the instance's.
        """
        if (cfg.u_w, cfg.frac, cfg.in_w) != (self.u_w, self.frac, self.in_w):
            raise ValueError("cfg widths differ from the instance's U_W/F/IN_W")
        if not 0 <= idx < (1 << self.idx_w):
            raise ValueError(f"idx: {idx} does not fit in {self.idx_w} index bits")
        self.upd_count = min(self.upd_count + 1, COUNTER_MAX)
        if idx >= self.n_neurons:
            self.err_idx = True
            return LifBeat(idx, False, 0, True)
        s_prev = bool(self.s[idx])
        u_old = int(self.u[idx])
        u4, s, sat = self.step(
            np.array([u_old], dtype=np.int64), np.array([s_prev]), np.array([cur]), cfg
        )
        mem, spike, sat_dir = int(u4[0]), bool(s[0]), int(sat[0])
        self.u[idx] = mem
        self.s[idx] = spike
        self.sat_count = min(self.sat_count + int(sat_dir != 0), COUNTER_MAX)
        self.spike_count = min(self.spike_count + int(spike), COUNTER_MAX)
        u3_neg = self._u3_negative(u_old, s_prev, cur, cfg)
        return LifBeat(idx, spike, mem, False, sat_dir, s_prev, u3_neg)

    @staticmethod
    def _u3_negative(u_old: int, s_prev: bool, cur: int, cfg: LifConfig) -> bool:
        """Whether ``u3 < 0`` (the LeakyReLU branch; not visible in ``u4`` when it rounds to 0)."""
        if cfg.mode is LifMode.LIF:
            u1 = 0 if s_prev else u_old
            u2 = (u1 * cfg.leak_q8 + 128) >> 8
        else:
            u2 = u_old
        return min(max(u2 + cur, cfg.u_min), cfg.u_max) < 0

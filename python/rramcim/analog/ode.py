"""Closed-loop analogue neural-ODE solver macro (``cim_ode_macro``): crossbar MLP, analogue
activations and integrators whose outputs feed back to the crossbar inputs.

The macro is driven tick by tick: every tick the sequencer writes one 12-bit code per DAC
channel and sets the switch pins; the DAC voltages are held (zero-order hold) for the whole
tick. The integrator outputs (the state ``x``, volts, one per state channel) are read by an ADC
at sample times. The same object serves the batched hardware model (a batch of runs) and the
cocotb adapter (one run at a time); the results of a run do not depend on the batch it is in.

Per-tick DAC vector (:meth:`OdeSolverConfig.channel_layout`)::

    init[n_state], input[n_input], coef_a, coef_b, embed[n_embed], noise[n_state]

Switch pins ``sw[3:0] = {S4, S3, S2, S1}`` (:func:`phase_from_switches`): ``0001`` RESET
(integrator capacitors shorted, x -> 0), ``0010`` LOAD (the integrators track the ``init``
channels, x -> v_init), ``0100`` INTEGRATE (loop closed), ``1000`` or ``0000`` HOLD (x frozen).

Dynamics in INTEGRATE (x [B, n_state] in V)::

    tau_int dx/dt = a x + b y(x, u, e) + g_n n            (clipped at the rails +-v_rail)
    a = coef_a_gain * v(coef_a),  b = coef_b_gain * v(coef_b),  n = v(noise),  u = v(input),
    e = embed_gain * v(embed)

``y`` is the crossbar MLP. Every analogue node voltage ``v`` stands for the value
``v / v_unit`` of the software MLP whose float weights the macro was programmed with:

* layer k, weights ``W_k`` [out, in] and bias ``b_k``: one crossbar with ``in + 1`` rows (the
  bias row is driven by the reference ``v_unit``) and ``out`` differential columns. Weights
  are mapped as in :mod:`rramcim.analog.crossbar`: ``G+ = g_min + (g_max - g_min) max(w, 0) /
  w_max``, ``G- = g_min + (g_max - g_min) max(-w, 0) / w_max`` (``w_max`` = largest |w| of
  the layer, bias included), each programmed to the nearest of the device's levels with its
  programming noise, device-to-device variation and stuck-at faults (:class:`DeviceModel`),
  then drifted to ``t_since_program_s``;
* row drivers attenuate the signals to the read range, ``V_r = v * v_row_fs / v_rail`` (a
  rail-to-rail signal gives ``v_row_fs``); a cell conducts ``I = G v_nl sinh(V_r / v_nl)``
  (the device's read non-linearity; with ``row_linearized`` drivers a replica cell in the
  driver's feedback pre-distorts ``V_r`` so that ``f`` is linear again, see
  :class:`OdeSolverConfig`); the column currents ``I_c = sum_r (G+ - G-) f(V_r)``
  are converted by transimpedance stages of gain ``1 / (g_per_w alpha v_unit)``, which gives
  the pre-activation ``p = W z + b`` for linear cells (``alpha = v_row_fs / v_rail``);
* read noise: every cell's conductance carries a per-read noise of sigma
  ``read_noise_scale * read_noise_S`` held for one tick (piecewise constant within a tick, a
  new draw every tick: RRAM read noise is 1/f-dominated and does not average out within a
  tick, [I]); the column sum of the independent cells is one Gaussian per column with sigma
  ``sigma_G sqrt(2 sum_r f(V_r)^2)``, drawn from :mod:`rramcim.rng` with key
  ``(seed, "ode_read", layer)`` and counter ``((run_id * 2^32 + tick) * row_pad(out) + column)``
  -- a pure function of (seed, run, tick, layer, column), independent of the batch and of the
  step size;
* hidden layers: ``v_out = v_unit * act(p + e)`` (tanh or ReLU), clipped at the rails; the
  embedding ``e`` is injected at the summing node of every hidden layer; the output layer is
  linear, ``y = v_unit * p``, clipped at the rails. Every clipped element of every stage
  evaluation is counted (:attr:`OdeStats.stage_rail_clips`).

Numerical scheme. Within a tick every DAC voltage and the read-noise draws are constant, so
the vector field is a smooth function of ``x`` alone between ticks (the rail clips are the only
kinks). It is integrated with the classical fourth-order Runge-Kutta method, ``substeps`` fixed
steps of ``h = t_tick / substeps`` per tick; the state is clipped to the rails after every step
(counted in :attr:`OdeStats.state_rail_clips`); row inputs of intermediate stages are clipped
at the rails too (a driver cannot exceed its supply). The global error of RK4 falls as h^4:
``tests/test_analog_ode.py`` checks an exponential decay against the analytic solution (and
RK4's amplification factor to 1e-12) and shows by step halving that the scheme's own error is
negligible: on a 2-state tanh loop over 30 tau, substeps 2 vs 4 differ by at most 4.6e-8 V
while two programming-noise seeds of the rram_180nm preset differ by 3.9e-2 V.

Bit-exactness. A run's result is bit-identical alone (B = 1) or at any position in a batch:

* the matrix-vector products are exact: row voltages are rounded to an integer grid
  ``v_q = f_max / 2^n`` (n chosen per layer so that every partial sum stays below 2^52; about
  30 bits for the shipped presets, i.e. 1e-9 of full scale) and conductance differences are
  integers of the device grid ``g_step_S``, so any summation order (any BLAS kernel) gives the
  same exact integer;
* everything else is element-wise float64 with correctly rounded operations (+ - * / sqrt,
  round, clip); ``tanh`` (:func:`det_tanh`) and ``sinh`` (:func:`det_sinh`) are built from
  those operations only -- a range-reduced Taylor polynomial of ``expm1`` and an odd Taylor
  polynomial -- because library transcendental functions may take a vectorised or a scalar
  path depending on the array length, which changes the last bit.
"""

from __future__ import annotations

import dataclasses
import enum
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from rramcim import rng
from rramcim.analog.device import DeviceConfig, DeviceModel, load_device

DEFAULT_DEVICE = "rram_180nm"
"""Device preset of the solver macro when none is given (the diffusion paper's 180 nm node)."""

MAX_WIDTH = 256
"""Largest layer width (inputs + bias row, or outputs) of one solver crossbar."""
MAX_PARALLEL = 64
"""Largest number of parallel cell pairs per weight (:attr:`OdeSolverConfig.n_parallel`)."""
MAX_RUN_ID = (1 << 23) - 1
"""Largest run id (the read-noise counter packs run id, tick and column into 63 bits)."""
MAX_TICK = (1 << 32) - 1
"""Largest tick index of a run. With :data:`MAX_RUN_ID` and :data:`MAX_WIDTH` the read-noise
counter ``((run_id << 32) + tick) * 256 + column`` stays below 2^63."""


class Phase(enum.Enum):
    """Phase of the solver; the value is the canonical switch pattern ``{S4, S3, S2, S1}``."""

    RESET = 0b0001
    LOAD = 0b0010
    INTEGRATE = 0b0100
    HOLD = 0b1000


_SW_PHASE = {
    0b0001: Phase.RESET,
    0b0010: Phase.LOAD,
    0b0100: Phase.INTEGRATE,
    0b1000: Phase.HOLD,
    0b0000: Phase.HOLD,
}


def phase_from_switches(sw: int) -> Phase:
    """Phase of the switch pins ``sw[3:0] = {S4, S3, S2, S1}``.

    ``0001`` RESET, ``0010`` LOAD, ``0100`` INTEGRATE, ``1000`` or ``0000`` HOLD.

    Raises:
        ValueError: any other value (two switches closed at once, or not a 4-bit value); the
            message names the value.
    """
    if isinstance(sw, bool) or int(sw) != sw:
        raise ValueError(f"phase_from_switches: switch value {sw!r} is not an integer")
    sw = int(sw)
    if sw not in _SW_PHASE:
        raise ValueError(
            f"phase_from_switches: switch value {sw} (0b{sw & 0xFFFF:04b}) is not a phase: "
            "legal are 0b0001 RESET, 0b0010 LOAD, 0b0100 INTEGRATE, 0b1000/0b0000 HOLD"
        )
    return _SW_PHASE[sw]


def _chk_int(name: str, v: object, lo: int, hi: int) -> None:
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or not lo <= v <= hi:
        raise ValueError(f"OdeSolverConfig.{name} = {v!r} is outside [{lo}, {hi}] (integer)")


def _chk_float(name: str, v: float, lo: float, hi: float, lo_open: bool = False) -> None:
    ok = isinstance(v, (int, float, np.floating)) and math.isfinite(v)
    ok = ok and (v > lo if lo_open else v >= lo) and v <= hi
    if not ok:
        br = "(" if lo_open else "["
        raise ValueError(f"OdeSolverConfig.{name} = {v!r} is outside {br}{lo}, {hi}]")


@dataclass(frozen=True)
class OdeSolverConfig:
    """Geometry, timing, converters and analogue ranges of the closed-loop solver macro.

    Attributes:
        n_state: state channels (integrators), [1, 16].
        n_input: drive channels fed to the first layer after the state, [0, 64].
        n_embed: 0, or the common width of all hidden layers: an embedding vector added to
            every hidden layer's pre-activation (diffusion time / class embeddings), [0, 256].
        tau_int_s: integrator time constant R C, (0, 10] s.
        t_tick_s: DAC update period (one tick), (0, 10] s.
        substeps: RK4 steps per tick, [1, 10000].
        dac_bits: DAC resolution, [4, 16] bits; codes are unsigned, 0 .. 2^bits - 1.
        v_dac_fs_V: DAC full scale: code c gives ``(c - 2^(bits-1)) / 2^(bits-1) * v_dac_fs_V``,
            (0, 10] V.
        adc_bits: ADC resolution, [4, 16] bits; signed codes, -2^(bits-1) .. 2^(bits-1) - 1.
        v_adc_fs_V: ADC full scale: the voltage of code 2^(bits-1), (0, 10] V.
        v_rail_V: supply rails of the integrators, activation and output stages, +-v_rail_V,
            (0, 15] V.
        v_unit_V: voltage of one unit of the software MLP's signals (bias reference, tanh
            output amplitude), (0, v_rail_V] V.
        v_row_fs_V: crossbar row voltage of a rail-to-rail signal (the row drivers attenuate by
            v_row_fs_V / v_rail_V), (0, 1] V.
        coef_a_gain_per_V: a = coef_a_gain_per_V * v(coef_a), [-1000, 1000] 1/V.
        coef_b_gain_per_V: b = coef_b_gain_per_V * v(coef_b), [-1000, 1000] 1/V.
        embed_gain_per_V: embedding injected at the hidden summing nodes per volt of the
            embed channels, [-1000, 1000] 1/V (in units of the pre-activation).
        noise_gain: the noise channels enter the integrator as ``noise_gain * v(noise)``,
            [-1000, 1000] (V/V).
        read_noise_scale: multiplies the device's per-read conductance noise
            ``read_noise_S``, [0, 100]; 0 switches read noise off.
        t_since_program_s: time since programming at which the macro runs (conductance
            drift of the device model), [0, 1e9] s.
        n_parallel: cell pairs per weight, [1, 64]. The ``n_parallel`` pairs of a weight sit on
            the same row input and column output (rows repeated), so their conductances add;
            the transimpedance gain is ``1 / n_parallel`` of a single pair's. Their level
            targets are split so that the *sum* lands on the nearest of ``n_parallel *
            (n_levels - 1) + 1`` steps (cell ``i`` of a sum of ``L`` level steps takes
            ``floor((L + i) / n_parallel)``), and every cell has its own programming and
            read noise: the level step, the programming error and the read noise of a weight
            all shrink (the noises by ``sqrt(n_parallel)``) for ``n_parallel`` times the cells
            and the array read current.
        row_linearized: row drivers linearised by a replica cell in their feedback ([I]
            circuit choice of this project): the driver's op-amp forces the replica's current
            ``G_ref v_ref sinh(V_r / v_ref)`` to ``G_ref`` times the attenuated signal ``s``,
            so it drives ``V_r = v_ref asinh(s / v_ref)`` and every array cell of the row
            conducts ``G v_nl sinh(V_r / v_nl)`` -- exactly ``G s`` when the replica matches
            the array. False: the rows carry ``V_r = s`` and the cells' read non-linearity
            bends every row input.
        row_replica_nl_rel: the replica's non-linearity voltage over the array cells',
            ``v_ref / v_nl``, [0.5, 2] (1: matched; used only with ``row_linearized``).
    """

    n_state: int
    n_input: int = 0
    n_embed: int = 0
    tau_int_s: float = 1e-4
    t_tick_s: float = 1e-5
    substeps: int = 2
    dac_bits: int = 12
    v_dac_fs_V: float = 2.0
    adc_bits: int = 12
    v_adc_fs_V: float = 2.5
    v_rail_V: float = 2.5
    v_unit_V: float = 1.0
    v_row_fs_V: float = 0.1
    coef_a_gain_per_V: float = 1.0
    coef_b_gain_per_V: float = 1.0
    embed_gain_per_V: float = 1.0
    noise_gain: float = 1.0
    read_noise_scale: float = 1.0
    t_since_program_s: float = 0.0
    n_parallel: int = 1
    row_linearized: bool = False
    row_replica_nl_rel: float = 1.0

    def __post_init__(self) -> None:
        _chk_int("n_state", self.n_state, 1, 16)
        _chk_int("n_input", self.n_input, 0, 64)
        _chk_int("n_embed", self.n_embed, 0, MAX_WIDTH)
        _chk_float("tau_int_s", self.tau_int_s, 0.0, 10.0, lo_open=True)
        _chk_float("t_tick_s", self.t_tick_s, 0.0, 10.0, lo_open=True)
        _chk_int("substeps", self.substeps, 1, 10000)
        _chk_int("dac_bits", self.dac_bits, 4, 16)
        _chk_float("v_dac_fs_V", self.v_dac_fs_V, 0.0, 10.0, lo_open=True)
        _chk_int("adc_bits", self.adc_bits, 4, 16)
        _chk_float("v_adc_fs_V", self.v_adc_fs_V, 0.0, 10.0, lo_open=True)
        _chk_float("v_rail_V", self.v_rail_V, 0.0, 15.0, lo_open=True)
        _chk_float("v_unit_V", self.v_unit_V, 0.0, self.v_rail_V, lo_open=True)
        _chk_float("v_row_fs_V", self.v_row_fs_V, 0.0, 1.0, lo_open=True)
        for name in ("coef_a_gain_per_V", "coef_b_gain_per_V", "embed_gain_per_V", "noise_gain"):
            _chk_float(name, getattr(self, name), -1000.0, 1000.0)
        _chk_float("read_noise_scale", self.read_noise_scale, 0.0, 100.0)
        _chk_float("t_since_program_s", self.t_since_program_s, 0.0, 1e9)
        _chk_int("n_parallel", self.n_parallel, 1, MAX_PARALLEL)
        if not isinstance(self.row_linearized, bool):
            raise ValueError(
                f"OdeSolverConfig.row_linearized = {self.row_linearized!r} must be a bool"
            )
        _chk_float("row_replica_nl_rel", self.row_replica_nl_rel, 0.5, 2.0)

    # -- channels and converters ------------------------------------------------------------
    @property
    def n_channels(self) -> int:
        """DAC channels per tick: ``2 n_state + n_input + 2 + n_embed``."""
        return 2 * self.n_state + self.n_input + 2 + self.n_embed

    def channel_layout(self) -> dict[str, slice]:
        """Index slices of the per-tick DAC vector, in order: ``init``, ``input``, ``coef_a``,
        ``coef_b``, ``embed``, ``noise`` (empty slices for absent groups)."""
        out: dict[str, slice] = {}
        i = 0
        for name, n in (
            ("init", self.n_state),
            ("input", self.n_input),
            ("coef_a", 1),
            ("coef_b", 1),
            ("embed", self.n_embed),
            ("noise", self.n_state),
        ):
            out[name] = slice(i, i + n)
            i += n
        return out

    @property
    def dac_lsb_V(self) -> float:
        """Voltage of one DAC code step."""
        return self.v_dac_fs_V / (1 << (self.dac_bits - 1))

    @property
    def adc_lsb_V(self) -> float:
        """Voltage of one ADC code step."""
        return self.v_adc_fs_V / (1 << (self.adc_bits - 1))

    @property
    def adc_code_range(self) -> tuple[int, int]:
        """Lowest and highest signed ADC code, ``-2^(bits-1)`` and ``2^(bits-1) - 1``."""
        return -(1 << (self.adc_bits - 1)), (1 << (self.adc_bits - 1)) - 1

    @property
    def dac_code_max(self) -> int:
        """Largest DAC code, 2^dac_bits - 1."""
        return (1 << self.dac_bits) - 1

    def dac_volts(self, codes: np.ndarray) -> np.ndarray:
        """DAC output voltages of unsigned codes (no range check), float64."""
        c = np.asarray(codes, dtype=np.float64)
        return (c - float(1 << (self.dac_bits - 1))) * self.dac_lsb_V

    def dac_codes(self, v_V: np.ndarray) -> tuple[np.ndarray, int]:
        """Nearest DAC codes of voltages (round half up), clipped to the code range.

        Returns:
            ``(codes int64, number of clipped values)``.
        """
        v = np.asarray(v_V, dtype=np.float64)
        if not np.all(np.isfinite(v)):
            raise ValueError("OdeSolverConfig.dac_codes: non-finite voltage")
        c = np.floor(v / self.dac_lsb_V + 0.5) + float(1 << (self.dac_bits - 1))
        clipped = np.clip(c, 0.0, float(self.dac_code_max))
        return clipped.astype(np.int64), int(np.count_nonzero(clipped != c))

    def replace(self, **changes: object) -> OdeSolverConfig:
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)


@dataclass
class OdeStats:
    """Counters of what the solver did (all summed over the batch).

    Attributes:
        ticks: ticks stepped (per batch, not per run).
        integrate_ticks: ticks in INTEGRATE.
        rk4_steps: RK4 steps taken (per batch).
        state_rail_clips: state elements clipped at the rails after an RK4 step or a LOAD.
        stage_rail_clips: activation / output-stage elements clipped at the rails, summed
            over every evaluation of the vector field (four per RK4 step).
        adc_samples: state elements converted by the ADC.
        adc_clips: conversions clipped at the ADC code range.
        clipped_programming: programmed conductances clipped at the window edges.
    """

    ticks: int = 0
    integrate_ticks: int = 0
    rk4_steps: int = 0
    state_rail_clips: int = 0
    stage_rail_clips: int = 0
    adc_samples: int = 0
    adc_clips: int = 0
    clipped_programming: int = 0

    def reset(self) -> None:
        """Zero every counter except ``clipped_programming`` (a property of the array)."""
        for f in dataclasses.fields(self):
            if f.name != "clipped_programming":
                setattr(self, f.name, 0)


# ------------------------------------------------------------------ deterministic functions
_INV_LN2 = 1.4426950408889634
_LN2_HI = 6.93147180369123816490e-01  # ln 2 with its last 32 bits zero: k * _LN2_HI is exact
_LN2_LO = 1.90821492927058770002e-10
_EXPM1_C = tuple(1.0 / math.factorial(n) for n in range(1, 14))  # r^1 .. r^13 of e^r - 1


def _expm1(x: np.ndarray) -> np.ndarray:
    """``exp(x) - 1`` from correctly rounded operations only (bit-identical for any array size).

    ``x = k ln2 + r`` with ``|r| <= ln2 / 2``; ``e^r - 1`` by its Taylor polynomial to ``r^13``
    (truncation below 1e-17); ``2^k`` built from its bit pattern. Arguments are clipped to
    ``[-700, 700]``. Relative error about 2e-16 (checked against numpy in the tests).
    """
    x = np.clip(np.asarray(x, dtype=np.float64), -700.0, 700.0)
    k = np.round(x * _INV_LN2)
    r = x - k * _LN2_HI
    r -= k * _LN2_LO
    p = r * _EXPM1_C[-1]
    for c in _EXPM1_C[-2:0:-1]:
        p += c
        p *= r
    p += _EXPM1_C[0]
    p *= r
    scale = ((k.astype(np.int64) + 1023) << 52).view(np.float64)
    return np.where(k == 0.0, p, scale * (1.0 + p) - 1.0)


_SINH_C = tuple(1.0 / math.factorial(n) for n in range(3, 18, 2))  # a^3 .. a^17 of sinh(a)


def det_tanh(x: np.ndarray) -> np.ndarray:
    """tanh from :func:`_expm1` (bit-identical whatever the array size or layout)."""
    x = np.asarray(x, dtype=np.float64)
    em = _expm1(-2.0 * np.abs(x))
    return np.copysign(-em / (2.0 + em), x)


def det_sinh(x: np.ndarray) -> np.ndarray:
    """sinh from correctly rounded operations only (bit-identical whatever the array size).

    ``|x| <= 1``: the odd Taylor polynomial to ``x^17`` (relative truncation below 3e-15);
    otherwise ``(expm1(x) - expm1(-x)) / 2`` (:func:`_expm1`).
    """
    x = np.asarray(x, dtype=np.float64)
    a2 = x * x
    p = a2 * _SINH_C[-1]
    for c in _SINH_C[-2::-1]:
        p += c
        p *= a2
    p += 1.0
    p *= x
    big = np.abs(x) > 1.0
    if np.any(big):  # the choice is made per element, so the result stays element-wise
        p = np.where(big, 0.5 * (_expm1(x) - _expm1(-x)), p)
    return p


ASINH_NEWTON_STEPS = 8
"""Newton steps of :func:`det_asinh` (its start lies at most ln 4 above the root; 6 steps
already reach numpy's value to 3e-16 relative over |x| in [1e-300, 1e300])."""


def det_asinh(x: np.ndarray) -> np.ndarray:
    """asinh from :func:`det_sinh` and :func:`_expm1` (bit-identical whatever the array size).

    Newton's method on ``sinh(y) = |x|``, a fixed number of steps, then the sign of ``x``.
    The start lies above the root: ``|x|`` for ``|x| < 1`` (asinh(a) <= a), otherwise
    ``(k + 3) ln 2`` with ``2^k <= |x| < 2^(k+1)`` (from the float's exponent; it is
    > ln(4 |x|) >= asinh(|x|), at most ln 4 above the root). sinh is convex on y >= 0, so
    from above the iterates fall monotonically to the root (a step that would not lower ``y``
    is not taken). Relative error about 3e-16 (checked against numpy in the tests).
    """
    x = np.asarray(x, dtype=np.float64)
    a = np.abs(x)
    _, e = np.frexp(a)  # a = m 2^e, 0.5 <= m < 1: k = e - 1
    y = np.where(a < 1.0, a, (e + 2).astype(np.float64) * (_LN2_HI + _LN2_LO))
    for _ in range(ASINH_NEWTON_STEPS):
        cosh = 1.0 + 0.5 * (_expm1(y) + _expm1(-y))
        y_new = y - (det_sinh(y) - a) / cosh
        y = np.minimum(y, np.maximum(y_new, 0.0))
    return np.copysign(y, x)


# ------------------------------------------------------------------------------ the solver
@dataclass(frozen=True)
class _Layer:
    """One programmed crossbar layer (internal)."""

    d_units: np.ndarray  # [rows = in + 1, out] (G+ - G-) / g_step, exact integers (float64)
    w_max: float
    g_per_w_S: float
    v_q_V: float  # row-voltage grid of the exact product
    v_qs_V: float  # row-voltage grid of the noise sum of squares
    pre_per_unit: float  # pre-activation per (integer row unit x integer conductance unit)
    sig_per_unit: float  # pre-activation noise sigma per sqrt(integer sum of squares)
    key: int
    pad: int
    hidden: bool


class OdeSolver:
    """The closed-loop solver macro: programmed crossbar MLP, integrators, DAC/ADC interface.

    Args:
        cfg: the macro configuration.
        layers_W: float weights ``[out, in]`` of every layer, input to output: the first takes
            ``n_state + n_input`` inputs (state first), the last gives ``n_state`` outputs;
            with ``n_embed > 0`` every hidden layer is ``n_embed`` wide.
        layers_b: biases ``[out]`` of every layer.
        activation: hidden activation, ``"tanh"`` or ``"relu"`` (or an enum whose value is).
        seed: keys the programming noise, faults, d2d variation, drift and read noise.
        device_cfg: technology (default: the :data:`DEFAULT_DEVICE` preset).

    Attributes:
        stats: counters (:class:`OdeStats`); they accumulate over batches (``stats.reset()``).
        tick: ticks stepped since :meth:`start` (the read-noise tick index).

    Raises:
        ValueError: shapes that do not fit the configuration, non-finite weights (naming the
            layer and element), an unknown activation.
    """

    def __init__(
        self,
        cfg: OdeSolverConfig,
        layers_W: Sequence[torch.Tensor],
        layers_b: Sequence[torch.Tensor],
        activation: str = "tanh",
        seed: int = 0,
        device_cfg: DeviceConfig | None = None,
    ) -> None:
        self.cfg = cfg
        self.device = device_cfg or load_device(DEFAULT_DEVICE)
        self.seed = int(seed)
        act = getattr(activation, "value", activation)
        if act not in ("tanh", "relu"):
            raise ValueError(f"OdeSolver: activation = {activation!r} must be 'tanh' or 'relu'")
        self.activation = str(act)
        self.stats = OdeStats()
        Ws = [torch.as_tensor(w).detach().to(torch.float64) for w in layers_W]
        bs = [torch.as_tensor(b).detach().to(torch.float64) for b in layers_b]
        self._check_shapes(Ws, bs)
        self._layers = [
            self._program(k, W, b, k < len(Ws) - 1)
            for k, (W, b) in enumerate(zip(Ws, bs, strict=True))
        ]
        self._layout = cfg.channel_layout()
        self._run_ids = np.zeros(0, dtype=np.int64)
        self._x = np.zeros((0, cfg.n_state))
        self._codes: np.ndarray | None = None
        self.tick = 0

    # -- construction -----------------------------------------------------------------------
    def _check_shapes(self, Ws: list[torch.Tensor], bs: list[torch.Tensor]) -> None:
        c = self.cfg
        if len(Ws) < 1 or len(Ws) != len(bs):
            raise ValueError(f"OdeSolver: {len(Ws)} weight matrices and {len(bs)} bias vectors")
        if c.n_embed and len(Ws) < 2:
            raise ValueError("OdeSolver: n_embed > 0 needs at least one hidden layer")
        n_in = c.n_state + c.n_input
        for k, (W, b) in enumerate(zip(Ws, bs, strict=True)):
            if W.ndim != 2 or W.shape[1] != n_in:
                raise ValueError(
                    f"OdeSolver: layers_W[{k}] has shape {tuple(W.shape)}, expected [out, {n_in}]"
                )
            out = W.shape[0]
            if b.shape != (out,):
                raise ValueError(
                    f"OdeSolver: layers_b[{k}] has shape {tuple(b.shape)}, expected ({out},)"
                )
            last = k == len(Ws) - 1
            if last and out != c.n_state:
                raise ValueError(
                    f"OdeSolver: the last layer has {out} outputs, n_state = {c.n_state}"
                )
            if not last and c.n_embed and out != c.n_embed:
                raise ValueError(
                    f"OdeSolver: hidden layer {k} is {out} wide, n_embed = {c.n_embed}"
                )
            if n_in + 1 > MAX_WIDTH or out > MAX_WIDTH:
                raise ValueError(
                    f"OdeSolver: layer {k} ({n_in} inputs + bias, {out} outputs) exceeds "
                    f"{MAX_WIDTH} rows/columns"
                )
            for name, t in ((f"layers_W[{k}]", W), (f"layers_b[{k}]", b)):
                bad = ~torch.isfinite(t)
                if bool(bad.any()):
                    i = int(torch.nonzero(bad.flatten())[0])
                    raise ValueError(
                        f"OdeSolver: {name} element {i} = {float(t.flatten()[i])!r} is not finite"
                    )
            n_in = out

    def _program(self, k: int, W: torch.Tensor, b: torch.Tensor, hidden: bool) -> _Layer:
        """Map one layer onto a differential crossbar and program it (keyed by seed, layer)."""
        c, d = self.cfg, self.device
        M = torch.cat([W, b[:, None]], dim=1).T.contiguous()  # [rows = in + 1, out]
        w_max = float(M.abs().max())
        if w_max == 0.0:
            w_max = 1.0
        span = d.g_max_S - d.g_min_S
        tgt = torch.stack(
            [
                d.g_min_S + span * torch.clamp(M, min=0) / w_max,
                d.g_min_S + span * torch.clamp(-M, min=0) / w_max,
            ]
        )
        dev = DeviceModel(d, rng.make_key(self.seed, "ode_solver"), macro_id=k)
        n_par = c.n_parallel
        if n_par > 1:
            tgt = dev.split_levels(tgt, n_par).movedim(0, 1)  # [2, n_par, rows, out]
        cells = torch.arange(tgt.numel(), dtype=torch.int64).reshape(tgt.shape)
        g, n_clip = dev.program(cells, tgt)
        if c.t_since_program_s > 0:
            g = dev.drift(cells, g, c.t_since_program_s)
        self.stats.clipped_programming += n_clip
        if n_par > 1:
            g = g.sum(dim=1)
        units = torch.round((g[0] - g[1]) / d.g_step_S).numpy().astype(np.float64)
        rows = units.shape[0]
        alpha = c.v_row_fs_V / c.v_rail_V
        f_max = d.v_nl_V * math.sinh(c.v_row_fs_V / d.v_nl_V) * (1.0 + 1e-12)
        d_max = max(1.0, float(np.abs(units).max()))
        bits = min(40, int(math.floor(52.0 - math.log2(rows * d_max))))
        if bits < 16:
            raise ValueError(
                f"OdeSolver: layer {k} is too large for the exact product ({rows} rows, "
                f"conductance difference {d_max:g} grid units)"
            )
        v_q = f_max / float(1 << bits)
        v_qs = f_max / float(1 << 20)
        g_per_w = n_par * span / w_max
        to_pre = 1.0 / (g_per_w * alpha * c.v_unit_V)
        sig_G = c.read_noise_scale * d.read_noise_S * math.sqrt(n_par)
        return _Layer(
            d_units=units,
            w_max=w_max,
            g_per_w_S=g_per_w,
            v_q_V=v_q,
            v_qs_V=v_qs,
            pre_per_unit=v_q * d.g_step_S * to_pre,
            sig_per_unit=sig_G * math.sqrt(2.0) * v_qs * to_pre,
            key=rng.make_key(self.seed, "ode_read", k),
            pad=rng.row_pad(units.shape[1]),
            hidden=hidden,
        )

    # -- inspection ----------------------------------------------------------------------------
    @property
    def n_layers(self) -> int:
        """Number of crossbar layers."""
        return len(self._layers)

    def programmed_weights(self) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Effective weights ``[out, in]`` and biases of the programmed layers (programming
        noise, levels, faults and drift included; the read non-linearity not)."""
        Ws, bs = [], []
        for L in self._layers:
            m = L.d_units * self.device.g_step_S / L.g_per_w_S
            Ws.append(m[:-1].T.copy())
            bs.append(m[-1].copy())
        return Ws, bs

    @property
    def batch(self) -> int:
        """Runs in the current batch."""
        return int(self._run_ids.size)

    @property
    def run_ids(self) -> np.ndarray:
        """Run ids of the current batch (copy)."""
        return self._run_ids.copy()

    @property
    def state_V(self) -> np.ndarray:
        """Integrator outputs ``[B, n_state]``, V (copy)."""
        return self._x.copy()

    # -- runs ------------------------------------------------------------------------------------
    def start(self, run_ids: Sequence[int]) -> None:
        """Begin a new batch of runs: state 0 V, tick 0, the DAC at mid-scale (0 V).

        Args:
            run_ids: one id per run, each in [0, :data:`MAX_RUN_ID`]; it keys the run's read
                noise (the same id gives the same noise in any batch).
        """
        ids = np.asarray(list(run_ids), dtype=np.int64).reshape(-1)
        if ids.size == 0:
            raise ValueError("OdeSolver.start: no run ids")
        if np.any(ids < 0) or np.any(ids > MAX_RUN_ID):
            raise ValueError(f"OdeSolver.start: run ids must lie in [0, {MAX_RUN_ID}]")
        self._run_ids = ids
        self._x = np.zeros((ids.size, self.cfg.n_state))
        mid = 1 << (self.cfg.dac_bits - 1)
        self._codes = np.full((ids.size, self.cfg.n_channels), mid, dtype=np.int64)
        self.tick = 0

    def _check_codes(self, codes: np.ndarray | torch.Tensor) -> np.ndarray:
        c = self.cfg
        a = codes.numpy() if isinstance(codes, torch.Tensor) else np.asarray(codes)
        if a.ndim == 1 and self.batch == 1:
            a = a[None]  # one run (the co-simulation): a plain channel vector
        if a.shape != (self.batch, c.n_channels):
            raise ValueError(
                f"OdeSolver.step: codes have shape {a.shape}, expected ({self.batch}, "
                f"{c.n_channels})"
            )
        if a.dtype.kind not in "iu" and (not np.all(np.isfinite(a)) or np.any(a != np.round(a))):
            raise ValueError("OdeSolver.step: codes must be integers")
        a = a.astype(np.int64)
        bad = (a < 0) | (a > c.dac_code_max)
        if np.any(bad):
            r, ch = (int(v) for v in np.argwhere(bad)[0])
            raise ValueError(
                f"OdeSolver.step: code {int(a[r, ch])} of run {r}, channel {ch} is outside "
                f"[0, {c.dac_code_max}]"
            )
        return a

    def step(self, sw: int | Phase, codes: np.ndarray | torch.Tensor | None = None) -> None:
        """Advance one tick with the switch pattern ``sw`` and the DAC codes of this tick.

        Args:
            sw: switch pins ``{S4, S3, S2, S1}`` or a :class:`Phase`.
            codes: unsigned DAC codes ``[B, n_channels]`` written at the start of the tick
                (``[n_channels]`` when B = 1; None: the DAC keeps the previous codes, e.g. on
                a HOLD tick, or mid-scale = 0 V before the first write).
        """
        if self.batch == 0:
            raise RuntimeError("OdeSolver.step: call start() first")
        if self.tick > MAX_TICK:
            raise RuntimeError(f"OdeSolver.step: more than {MAX_TICK + 1} ticks in one run")
        phase = sw if isinstance(sw, Phase) else phase_from_switches(sw)
        if codes is not None:
            self._codes = self._check_codes(codes)
        v = self.cfg.dac_volts(self._codes)
        lay = self._layout
        rail = self.cfg.v_rail_V
        if phase is Phase.RESET:
            self._x = np.zeros_like(self._x)
        elif phase is Phase.LOAD:
            x = v[:, lay["init"]]
            xc = np.clip(x, -rail, rail)
            self.stats.state_rail_clips += int(np.count_nonzero(xc != x))
            self._x = xc
        elif phase is Phase.INTEGRATE:
            self._integrate(v)
            self.stats.integrate_ticks += 1
        self.tick += 1
        self.stats.ticks += 1

    # -- the vector field ------------------------------------------------------------------------
    def _tick_inputs(self, v: np.ndarray) -> dict:
        """Everything held constant during one tick: drive, coefficients, embedding, noise."""
        c, lay = self.cfg, self._layout
        rail = c.v_rail_V
        z = []
        for L in self._layers:
            if L.sig_per_unit > 0:
                n_out = L.d_units.shape[1]
                ctr = ((self._run_ids[:, None] << 32) + self.tick) * L.pad + np.arange(n_out)
                z.append(rng.normal(L.key, torch.from_numpy(ctr)).numpy())
            else:
                z.append(None)
        return {
            "u": np.clip(v[:, lay["input"]], -rail, rail),
            "a": c.coef_a_gain_per_V * v[:, lay["coef_a"]],
            "b": c.coef_b_gain_per_V * v[:, lay["coef_b"]],
            "e": c.embed_gain_per_V * v[:, lay["embed"]] if c.n_embed else None,
            "n": c.noise_gain * v[:, lay["noise"]],
            "z": z,
        }

    def _mlp(self, x: np.ndarray, ti: dict) -> np.ndarray:
        """Crossbar MLP output y [B, n_state] (V) at state x (V)."""
        c = self.cfg
        rail = c.v_rail_V
        alpha = c.v_row_fs_V / rail
        h = np.clip(x, -rail, rail)
        if c.n_input:
            h = np.concatenate([h, ti["u"]], axis=1)
        B = h.shape[0]
        clips = 0
        for L, z in zip(self._layers, ti["z"], strict=True):
            vin = np.concatenate([h, np.full((B, 1), c.v_unit_V)], axis=1) * alpha
            f = self._row_current(vin)
            q = np.round(f / L.v_q_V)
            pre = (q @ L.d_units) * L.pre_per_unit
            if z is not None:
                qs = np.round(f / L.v_qs_V)
                pre = pre + np.sqrt(np.sum(qs * qs, axis=1, keepdims=True)) * L.sig_per_unit * z
            if L.hidden:
                if ti["e"] is not None:
                    pre = pre + ti["e"]
                act = det_tanh(pre) if self.activation == "tanh" else np.maximum(pre, 0.0)
                out = c.v_unit_V * act
            else:
                out = c.v_unit_V * pre
            h = np.clip(out, -rail, rail)
            clips += int(np.count_nonzero(h != out))
        self.stats.stage_rail_clips += clips
        return h

    def _row_current(self, s_V: np.ndarray) -> np.ndarray:
        """Current per siemens of a cell, ``v_nl sinh(V_r / v_nl)`` (V), for the attenuated
        row signals ``s_V``: ``V_r = s`` or, with linearised drivers, the replica's
        ``v_ref asinh(s / v_ref)`` (matched: exactly ``s``)."""
        c, d = self.cfg, self.device
        if not c.row_linearized:
            return d.v_nl_V * det_sinh(s_V / d.v_nl_V)
        if c.row_replica_nl_rel == 1.0:
            return s_V
        v_ref = d.v_nl_V * c.row_replica_nl_rel
        return d.v_nl_V * det_sinh(v_ref * det_asinh(s_V / v_ref) / d.v_nl_V)

    def _rate(self, x: np.ndarray, ti: dict) -> np.ndarray:
        """dx/dt (V/s) at state x within the current tick."""
        y = self._mlp(x, ti)
        return (ti["a"] * x + ti["b"] * y + ti["n"]) * (1.0 / self.cfg.tau_int_s)

    def _integrate(self, v: np.ndarray) -> None:
        """RK4 over one tick (``substeps`` steps), state clipped at the rails after each."""
        c = self.cfg
        ti = self._tick_inputs(v)
        hstep = c.t_tick_s / c.substeps
        rail = c.v_rail_V
        x = self._x
        for _ in range(c.substeps):
            k1 = self._rate(x, ti)
            k2 = self._rate(x + (0.5 * hstep) * k1, ti)
            k3 = self._rate(x + (0.5 * hstep) * k2, ti)
            k4 = self._rate(x + hstep * k3, ti)
            xn = x + (hstep / 6.0) * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
            x = np.clip(xn, -rail, rail)
            self.stats.state_rail_clips += int(np.count_nonzero(x != xn))
            self.stats.rk4_steps += 1
        self._x = x

    def derivative(
        self, codes: np.ndarray | torch.Tensor, x_V: np.ndarray | None = None
    ) -> np.ndarray:
        """dx/dt (V/s) of the loop at ``x_V`` (default: the current state) with the DAC codes
        ``codes``, including this tick's read noise; changes nothing but the stage-clip count.
        """
        if self.batch == 0:
            raise RuntimeError("OdeSolver.derivative: call start() first")
        v = self.cfg.dac_volts(self._check_codes(codes))
        x = self._x if x_V is None else np.asarray(x_V, dtype=np.float64)
        if x.shape != self._x.shape:
            raise ValueError(
                f"OdeSolver.derivative: x_V has shape {x.shape}, expected {self._x.shape}"
            )
        return self._rate(x, self._tick_inputs(v))

    # -- read-out -----------------------------------------------------------------------------
    def sample(self) -> np.ndarray:
        """ADC codes of the current state ``[B, n_state]`` (signed, round half up, clipped;
        clipped conversions are counted)."""
        c = self.cfg
        t = np.floor(self._x / c.adc_lsb_V + 0.5)
        lo, hi = c.adc_code_range
        codes = np.clip(t, lo, hi)
        self.stats.adc_clips += int(np.count_nonzero(codes != t))
        self.stats.adc_samples += int(codes.size)
        return codes.astype(np.int64)

    def adc_volts(self, codes: np.ndarray) -> np.ndarray:
        """Voltage of ADC codes (code times LSB), float64."""
        return np.asarray(codes, dtype=np.float64) * self.cfg.adc_lsb_V


__all__ = [
    "DEFAULT_DEVICE",
    "OdeSolver",
    "OdeSolverConfig",
    "OdeStats",
    "Phase",
    "det_asinh",
    "det_sinh",
    "det_tanh",
    "phase_from_switches",
]

"""Speed and energy projection of one ODE solve: the analogue closed loop vs a digital solver.

"One solve" integrates the vector field of a small MLP (a neural-ODE twin, a diffusion score
net) over a horizon, once, for one trajectory.

Analogue side (the closed-loop solver macro of :mod:`rramcim.analog.ode`):

* time = set-up ticks (RESET, LOAD) x tick + horizon x seconds per model time unit (the time
  scaling of the mapping) + the read-out of the final state (``n_state`` conversions of one
  shared ADC in series); the intermediate ADC samples overlap with the integration;
* energy = (crossbar read power + op-amp stage power) x time + DAC conversions + ADC
  conversions, where

  - crossbar read power: every programmed cell conducts for the whole solve,
    ``sum_cells G V_row^2``. Each weight of a layer with ``in`` inputs and ``out`` outputs is a
    differential pair and the bias is one more row, ``(in + 1) out`` pairs per layer, and as
    in the solver's mapping ``G+ + G- = 2 g_min + (g_max - g_min) |w| / w_max``; with the mean
    ``|w| / w_max`` of the layers (``MlpSpec.weight_fill``) the sum is
    ``pairs (2 g_min + (g_max - g_min) fill)``; :func:`conductance_sum_S` computes it from
    actual weights. ``V_row`` is a stated rms row voltage (the read non-linearity is ignored);
  - op-amp stages, each drawing a constant power while the loop runs: one integrator per state,
    ``tias_per_column`` transimpedance stages per logical (differential) column of every layer,
    one activation stage per hidden neuron and one loop stage per state (the coefficient
    multiply and sum ``a x + b y + n`` in front of the integrator);
  - DAC: every tick the sequencer writes every DAC channel (:meth:`OdeSolverConfig.n_channels
    <rramcim.analog.ode.OdeSolverConfig.n_channels>` by default), set-up ticks included;
  - ADC: ``n_state`` conversions per sample point.

Digital side (a GPU running a fixed-step solver, :class:`~rramcim.cost.model.DigitalBaseline`):

* MACs = steps x vector-field evaluations per step (Euler 1, RK4 4) x MACs per evaluation;
  element-wise FLOPs (bias adds, activations, embedding adds, the workload's extra ops per
  evaluation, the solver's state update per step) each charged ``power / throughput``;
* time = max(compute time at peak throughput, steps x dependent kernels per step x the
  minimum time of one dependent kernel): a step of a tiny MLP is latency bound, not compute
  bound. Kernels per step: one per layer (bias, activation and embedding add fused), one for
  the embedding if any, per evaluation, plus one state-update kernel per RK stage;
* energy = MAC and FLOP energy at the baseline's per-op energy, plus an optional static power
  over the whole time (0 by default, which favours the baseline like the rest of
  :mod:`rramcim.cost`).

:func:`twin_projection` and :func:`diffusion_projection` build the four workloads of the
project with defaults taken from :mod:`rramcim.apps.twin` and :mod:`rramcim.apps.diffusion`;
:func:`render_table` puts the projections next to the papers' figures (PAPERS.md §2.1, §4.1,
§4.6) with every assumption and its source. Tags as in PAPERS.md §0.1: ``[C]`` authors' code,
``[A]`` arXiv abstract, ``[P]`` journal abstract, ``[T]`` third party, ``[I]`` assumption of
this project, ``[M]`` measured by this project on its shipped checkpoints.

Example:
    >>> from rramcim.cost.ode import diffusion_projection, render_table, twin_projection
    >>> projs = [twin_projection("hp"), diffusion_projection("ring")]
    >>> print(render_table(projs, fmt="markdown"))  # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import enum
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np

from rramcim.cost.model import (
    DigitalBaseline,
    _constants_table,
    _freeze_sources,
    _is_int,
    _validate_numeric,
)
from rramcim.cost.presets import (
    A100_FP32,
    ACT_POWER_W,
    ADC_POWER_W,
    ADC_RATE_HZ,
    AMP_POWER_W,
    RRAM_40NM_NF,
)

__all__ = [
    "DEFAULT_T_KERNEL_S",
    "PAPER_FIGURES",
    "RRAM_180NM_LOOP",
    "AnalogConstants",
    "AnalogCost",
    "AnalogSolve",
    "Assumption",
    "DigitalCost",
    "DigitalSolve",
    "Integrator",
    "MlpSpec",
    "OdeProjection",
    "PaperFigure",
    "analog_cost",
    "conductance_sum_S",
    "diffusion_projection",
    "digital_cost",
    "project",
    "render_table",
    "twin_projection",
]


# --------------------------------------------------------------------------- helpers


def _unit(unit: str, doc: str) -> dict[str, str]:
    return {"unit": unit, "doc": doc}


def _int_field(owner: str, name: str, value: object, lo: int) -> int:
    """``value`` as int after checking it is an integer >= ``lo`` (ValueError names it)."""
    if not _is_int(value) or int(value) < lo:  # type: ignore[call-overload]
        raise ValueError(f"{owner}.{name} must be an integer >= {lo}, got {value!r}")
    return int(value)  # type: ignore[call-overload]


def _real_field(
    owner: str, name: str, value: object, *, lo: float = 0.0, lo_open: bool = False
) -> float:
    """``value`` as float after checking it is finite and >= ``lo`` (> ``lo`` if open)."""
    if isinstance(value, bool | str | bytes) or not hasattr(value, "__float__"):
        raise ValueError(f"{owner}.{name} must be a real number, got {value!r}")
    v = float(value)  # type: ignore[arg-type]
    if not math.isfinite(v) or (v <= lo if lo_open else v < lo):
        rel = ">" if lo_open else ">="
        raise ValueError(f"{owner}.{name} must be finite and {rel} {lo:g}, got {value!r}")
    return v


def _fmt_s(t: float) -> str:
    """Time with an SI prefix (s, ms, us, ns)."""
    for scale, unit in ((1.0, "s"), (1e-3, "ms"), (1e-6, "us"), (1e-9, "ns")):
        if abs(t) >= scale:
            return f"{t / scale:.4g} {unit}"
    return f"{t / 1e-12:.4g} ps"


def _fmt_J(e: float) -> str:
    """Energy with an SI prefix (J .. fJ)."""
    for scale, unit in ((1.0, "J"), (1e-3, "mJ"), (1e-6, "uJ"), (1e-9, "nJ"), (1e-12, "pJ")):
        if abs(e) >= scale:
            return f"{e / scale:.4g} {unit}"
    return f"{e / 1e-15:.4g} fJ"


def _fmt_x(r: float) -> str:
    return "inf" if math.isinf(r) else f"{r:.3g}x"


# ------------------------------------------------------------------------ workload spec


class Integrator(enum.Enum):
    """Fixed-step digital integrator of the baseline solver."""

    EULER = "euler"
    RK4 = "rk4"

    @property
    def evals_per_step(self) -> int:
        """Vector-field evaluations per step (Euler 1, RK4 4)."""
        return 1 if self is Integrator.EULER else 4

    @property
    def update_flops_per_state(self) -> int:
        """FLOPs per state component per step for the state update.

        Euler ``x + h f``: 2. RK4: three stage states ``x + (h/2) k`` / ``x + h k`` (2 each)
        and ``x + (h/6)(k1 + 2 k2 + 2 k3 + k4)`` (3 adds, 2 doublings, 1 scale, 1 add): 13
        [I, counted].
        """
        return 2 if self is Integrator.EULER else 13

    @property
    def update_kernels(self) -> int:
        """State-update kernels per step: one per stage state / final combination."""
        return 1 if self is Integrator.EULER else 4


@dataclass(frozen=True)
class MlpSpec:
    """The vector-field MLP of a workload, as the solver macro and the GPU see it.

    Attributes:
        name: short identifier.
        widths: layer widths ``(in, hidden..., out)``, each >= 1; ``in = n_state + n_input``
            (state first, then drive inputs fed to the first layer), ``out = n_state``.
        n_state: state components (integrators), >= 1.
        n_input: drive inputs of the first layer (solver ``n_input``; 0 when the drive
            multiplies the MLP output, the control-affine form), >= 0.
        n_embed: 0, or the width of an embedding added to every hidden layer's
            pre-activation (then every hidden layer is ``n_embed`` wide), >= 0.
        activation: hidden activation, ``"tanh"`` or ``"relu"`` (informational: both cost
            one activation stage / one FLOP).
        weight_fill: mean ``|w| / w_max`` over the cells of all layers (biases included,
            ``w_max`` per layer), [0, 1]; sets the mean conductance of the differential pairs.
        extra_flops_per_eval: element-wise FLOPs per evaluation beyond bias adds,
            activations and embedding adds (output scaling, drive multiply, embedding
            evaluation, drift combination), >= 0.
        n_parallel: cell pairs per weight (the solver's
            :attr:`~rramcim.analog.ode.OdeSolverConfig.n_parallel`: parallel pairs on the same
            row and column), >= 1; multiplies the cells and the conductance sum.
    """

    name: str
    widths: tuple[int, ...]
    n_state: int
    n_input: int = 0
    n_embed: int = 0
    activation: str = "tanh"
    weight_fill: float = 0.25
    extra_flops_per_eval: float = 0.0
    n_parallel: int = 1

    def __post_init__(self) -> None:
        own = "MlpSpec"
        if not isinstance(self.widths, Sequence) or len(self.widths) < 2:
            raise ValueError(f"{own}.widths must be a sequence of >= 2 widths, got {self.widths!r}")
        widths = tuple(_int_field(own, f"widths[{i}]", w, 1) for i, w in enumerate(self.widths))
        object.__setattr__(self, "widths", widths)
        n_state = _int_field(own, "n_state", self.n_state, 1)
        n_input = _int_field(own, "n_input", self.n_input, 0)
        n_embed = _int_field(own, "n_embed", self.n_embed, 0)
        object.__setattr__(self, "n_state", n_state)
        object.__setattr__(self, "n_input", n_input)
        object.__setattr__(self, "n_embed", n_embed)
        object.__setattr__(self, "n_parallel", _int_field(own, "n_parallel", self.n_parallel, 1))
        if widths[0] != n_state + n_input:
            raise ValueError(
                f"{own}.widths[0] = {widths[0]} must equal n_state + n_input = {n_state + n_input}"
            )
        if widths[-1] != n_state:
            raise ValueError(f"{own}.widths[-1] = {widths[-1]} must equal n_state = {n_state}")
        if n_embed:
            if len(widths) < 3:
                raise ValueError(f"{own}.n_embed = {n_embed} needs at least one hidden layer")
            bad = [w for w in widths[1:-1] if w != n_embed]
            if bad:
                raise ValueError(
                    f"{own}.n_embed = {n_embed} must equal every hidden width, got {widths[1:-1]}"
                )
        if self.activation not in ("tanh", "relu"):
            raise ValueError(f"{own}.activation must be 'tanh' or 'relu', got {self.activation!r}")
        fill = _real_field(own, "weight_fill", self.weight_fill)
        if fill > 1.0:
            raise ValueError(f"{own}.weight_fill must be in [0, 1], got {self.weight_fill!r}")
        object.__setattr__(self, "weight_fill", fill)
        object.__setattr__(
            self,
            "extra_flops_per_eval",
            _real_field(own, "extra_flops_per_eval", self.extra_flops_per_eval),
        )

    @property
    def layers(self) -> tuple[tuple[int, int], ...]:
        """``(in, out)`` of every layer."""
        return tuple(zip(self.widths[:-1], self.widths[1:], strict=True))

    @property
    def n_layers(self) -> int:
        """Number of weight layers (crossbars)."""
        return len(self.widths) - 1

    @property
    def macs_per_eval(self) -> int:
        """MACs of one evaluation, ``sum in x out`` (biases are counted as FLOPs)."""
        return sum(i * o for i, o in self.layers)

    @property
    def n_hidden(self) -> int:
        """Hidden neurons (activation stages)."""
        return sum(self.widths[1:-1])

    @property
    def n_columns(self) -> int:
        """Logical (differential) crossbar columns of all layers, ``sum out``."""
        return sum(self.widths[1:])

    @property
    def n_pairs(self) -> int:
        """Differential pairs of all layers, ``n_parallel sum (in + 1) out`` (bias row
        included)."""
        return self.n_parallel * sum((i + 1) * o for i, o in self.layers)

    @property
    def n_cells(self) -> int:
        """Programmed cells, two per pair."""
        return 2 * self.n_pairs

    @property
    def elementwise_flops_per_eval(self) -> float:
        """Bias adds + activations + embedding adds + ``extra_flops_per_eval``."""
        embed_adds = self.n_embed * (len(self.widths) - 2)
        return float(self.n_columns + self.n_hidden + embed_adds) + self.extra_flops_per_eval

    @property
    def kernels_per_eval(self) -> int:
        """Dependent GPU kernels per evaluation: one per layer, one for the embedding."""
        return self.n_layers + (1 if self.n_embed else 0)

    @property
    def solver_dac_channels(self) -> int:
        """DAC channels of the solver macro, ``2 n_state + n_input + 2 + n_embed``."""
        return 2 * self.n_state + self.n_input + 2 + self.n_embed


def conductance_sum_S(
    layers_W: Sequence[object], layers_b: Sequence[object], g_min_S: float, g_max_S: float
) -> float:
    """Sum of the conductances of all cells of the solver's mapping of float layers.

    Per layer, ``M = [W | b]`` with ``w_max = max |M|`` (1 if zero); every element is a pair
    ``G+ + G- = 2 g_min + (g_max - g_min) |m| / w_max`` (programming noise ignored).

    Args:
        layers_W: weights ``[out, in]`` of every layer (array-likes).
        layers_b: biases ``[out]`` of every layer.
        g_min_S: lowest programmed conductance, S.
        g_max_S: highest programmed conductance, S (>= g_min_S).

    Returns:
        The sum over cells, S.

    Raises:
        ValueError: mismatched lists or shapes, non-finite weights, bad conductances.
    """
    g_min = _real_field("conductance_sum_S", "g_min_S", g_min_S)
    g_max = _real_field("conductance_sum_S", "g_max_S", g_max_S)
    if g_max < g_min:
        raise ValueError(f"conductance_sum_S.g_max_S = {g_max_S!r} must be >= g_min_S")
    if len(layers_W) != len(layers_b) or not layers_W:
        raise ValueError(
            f"conductance_sum_S.layers_W/layers_b: {len(layers_W)} weight matrices and "
            f"{len(layers_b)} bias vectors"
        )
    total = 0.0
    for k, (w, b) in enumerate(zip(layers_W, layers_b, strict=True)):
        W = np.asarray(w, dtype=np.float64)
        B = np.asarray(b, dtype=np.float64)
        if W.ndim != 2 or B.shape != (W.shape[0],):
            raise ValueError(
                f"conductance_sum_S.layers_W[{k}]: shapes {W.shape} / {B.shape} are not "
                "[out, in] / [out]"
            )
        M = np.abs(np.concatenate([W, B[:, None]], axis=1))
        if not np.all(np.isfinite(M)):
            raise ValueError(f"conductance_sum_S.layers_W[{k}]: non-finite weight")
        w_max = float(M.max()) or 1.0
        total += M.size * 2.0 * g_min + (g_max - g_min) * float(M.sum()) / w_max
    return total


# ------------------------------------------------------------------------- constants


@dataclass(frozen=True)
class AnalogConstants:
    """Device, op-amp and converter constants of the closed-loop solver.

    Every numeric field is finite and >= 0 (``ValueError`` names the field); ``sources``
    maps field names to a citation with a provenance tag.

    Attributes:
        name: short identifier.
        g_min_S: lowest programmed conductance (the idle cell of a pair), S.
        g_max_S: highest programmed conductance, S (>= g_min_S).
        v_row_rms_V: rms crossbar row voltage while the loop runs, V.
        p_integrator_W: power of one integrator op-amp, W.
        p_tia_W: power of one transimpedance (column) stage, W.
        tias_per_column: TIA stages per logical differential column, >= 1.
        p_activation_W: power of one activation stage (per hidden neuron), W.
        p_summing_W: power of one loop stage per state (coefficient multiply and sum in
            front of the integrator), W.
        dac_J: energy per DAC conversion (one channel, one tick), J.
        adc_J: energy per ADC conversion, J.
        t_adc_conv_s: duration of one ADC conversion, s.
        sources: field name -> citation (read-only).
    """

    name: str
    g_min_S: float = field(metadata=_unit("S", "idle cell of a pair"))
    g_max_S: float = field(metadata=_unit("S", "highest programmed conductance"))
    v_row_rms_V: float = field(metadata=_unit("V", "rms row voltage"))
    p_integrator_W: float = field(metadata=_unit("W", "per integrator"))
    p_tia_W: float = field(metadata=_unit("W", "per TIA stage"))
    tias_per_column: float = field(metadata=_unit("1", "TIA stages per logical column"))
    p_activation_W: float = field(metadata=_unit("W", "per hidden neuron"))
    p_summing_W: float = field(metadata=_unit("W", "per state (loop stage)"))
    dac_J: float = field(metadata=_unit("J", "per DAC conversion"))
    adc_J: float = field(metadata=_unit("J", "per ADC conversion"))
    t_adc_conv_s: float = field(metadata=_unit("s", "per ADC conversion"))
    sources: Mapping[str, str] = field(default_factory=dict, compare=False, hash=False)

    def __post_init__(self) -> None:
        _validate_numeric(self)
        if self.g_max_S < self.g_min_S:
            raise ValueError(
                f"AnalogConstants.g_max_S = {self.g_max_S!r} must be >= g_min_S = {self.g_min_S!r}"
            )
        if self.tias_per_column < 1.0:
            raise ValueError(
                f"AnalogConstants.tias_per_column must be >= 1, got {self.tias_per_column!r}"
            )
        _freeze_sources(self, self.sources)

    def replace(self, **changes: object) -> AnalogConstants:
        """A validated copy with some fields changed."""
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]

    def table(self) -> str:
        """Plain-text table: field, value, unit, source."""
        return _constants_table(self, self.sources)


_NF = "Memristive_Neural_Field NVS/run_nerf_hpo.py"

RRAM_180NM_LOOP = AnalogConstants(
    name="rram_180nm_loop",
    g_min_S=1.0e-6,
    g_max_S=5.0e-5,
    v_row_rms_V=0.04,
    p_integrator_W=AMP_POWER_W,
    p_tia_W=AMP_POWER_W,
    tias_per_column=1.0,
    p_activation_W=ACT_POWER_W,
    p_summing_W=AMP_POWER_W,
    dac_J=RRAM_40NM_NF.dac_J,
    adc_J=ADC_POWER_W / ADC_RATE_HZ,
    t_adc_conv_s=1.0 / ADC_RATE_HZ,
    sources={
        "g_min_S": "[I] models/params/rram_180nm.json g_min_S (the solver's default device)",
        "g_max_S": "[I] models/params/rram_180nm.json g_max_S (the solver's default device)",
        "v_row_rms_V": (
            "[I] one signal unit on every row: v_unit * v_row_fs / v_rail = 1 V * 0.1 V / 2.5 V "
            "(OdeSolverConfig defaults); exact for the bias row, an upper bound for tanh "
            "outputs, states at 0.7 of the rails give 0.07 V; read non-linearity ignored"
        ),
        "p_integrator_W": (
            f"[C] 73.75 uW, the amplifier power of the neural-field energy model ({_NF}, "
            "PAPERS.md §3.7); [I] reused for every op-amp stage of the loop (integrator "
            "op-amp power is NF, PAPERS.md §2.5, §4.5)"
        ),
        "p_tia_W": f"[C] 73.75 uW amplifier power ({_NF}, PAPERS.md §3.7); [I] as a TIA",
        "tias_per_column": (
            "[I] 1: one TIA per differential column, as the solver model converts the column "
            "current sum_r (G+ - G-) f(V_r) (rramcim.analog.ode); the neural-field code "
            "charges 2 amplifiers per output (PAPERS.md §3.7): set 2 for that convention"
        ),
        "p_activation_W": (
            f"[C] 0.81 uW activation-circuit power ({_NF}, PAPERS.md §3.7); [I] on "
            "continuously in the closed loop"
        ),
        "p_summing_W": (
            f"[C] 73.75 uW amplifier power ({_NF}, PAPERS.md §3.7); [I] one loop stage per "
            "state forms a x + b y + n in front of the integrator"
        ),
        "dac_J": (
            f"[C] 227 fJ per conversion, the neural-field chip's DAC ({_NF}, PAPERS.md §3.7); "
            "[I] reused for an integrated solver DAC (the demonstrators' board-level "
            "MAX5742 DACs, PAPERS.md §4.5, are not modelled)"
        ),
        "adc_J": f"[C] 3.1 mW / 1.2 GS/s ~ 2.58 pJ per conversion ({_NF}, PAPERS.md §5)",
        "t_adc_conv_s": f"[C] 1 / 1.2 GS/s ~ 0.83 ns ({_NF}, PAPERS.md §5); [I] one shared ADC",
    },
)
"""Default loop constants: 180 nm solver device window, §3.7 op-amp/activation/converter figures."""

DEFAULT_T_KERNEL_S = 2e-6
"""Minimum time of one dependent GPU kernel, s ([I], see :class:`DigitalSolve`)."""

_T_KERNEL_SOURCE = (
    "[I] 2 us per dependent kernel: the low end of the few-us launch-to-completion latency "
    "of a tiny CUDA kernel (third-party reports give 5-20 us per launch without CUDA Graphs "
    "[T]); a step of a 2->14->14->2 MLP cannot finish faster; favours the baseline"
)


# ------------------------------------------------------------------------ solve specs


@dataclass(frozen=True)
class AnalogSolve:
    """Time scaling and converter activity of one analogue solve.

    Attributes:
        horizon_units: integration horizon, model time units, > 0.
        t_unit_s: physical seconds per model time unit (the mapping's time scaling), > 0.
        n_ticks: DAC ticks while integrating, >= 1 (tick = horizon x t_unit / n_ticks).
        setup_ticks: ticks before integration (RESET, LOAD), >= 0.
        adc_samples: sample points read by the ADC (``n_state`` conversions each), >= 0;
            the last one is on the critical path.
        dac_channels: DAC channels written per tick, >= 0; ``None`` = the solver macro's
            channel count (:attr:`MlpSpec.solver_dac_channels`).
    """

    horizon_units: float
    t_unit_s: float
    n_ticks: int
    setup_ticks: int = 2
    adc_samples: int = 1
    dac_channels: int | None = None

    def __post_init__(self) -> None:
        own = "AnalogSolve"
        h = _real_field(own, "horizon_units", self.horizon_units, lo_open=True)
        object.__setattr__(self, "horizon_units", h)
        object.__setattr__(
            self, "t_unit_s", _real_field(own, "t_unit_s", self.t_unit_s, lo_open=True)
        )
        object.__setattr__(self, "n_ticks", _int_field(own, "n_ticks", self.n_ticks, 1))
        object.__setattr__(self, "setup_ticks", _int_field(own, "setup_ticks", self.setup_ticks, 0))
        object.__setattr__(self, "adc_samples", _int_field(own, "adc_samples", self.adc_samples, 0))
        if self.dac_channels is not None:
            object.__setattr__(
                self, "dac_channels", _int_field(own, "dac_channels", self.dac_channels, 0)
            )

    @property
    def t_integrate_s(self) -> float:
        """Integration time, ``horizon_units * t_unit_s``, s."""
        return self.horizon_units * self.t_unit_s

    @property
    def t_tick_s(self) -> float:
        """DAC tick, s."""
        return self.t_integrate_s / self.n_ticks


@dataclass(frozen=True)
class DigitalSolve:
    """The digital baseline solver of one solve.

    Attributes:
        n_steps: fixed steps, >= 1.
        method: :class:`Integrator` (or its value ``"euler"`` / ``"rk4"``).
        t_kernel_s: minimum time of one dependent GPU kernel, >= 0 s (0 = compute bound).
        count_elementwise: charge element-wise FLOPs (bias, activation, embedding, update).
        p_static_W: static power charged over the whole digital time, >= 0 W.
    """

    n_steps: int
    method: Integrator | str = Integrator.RK4
    t_kernel_s: float = DEFAULT_T_KERNEL_S
    count_elementwise: bool = True
    p_static_W: float = 0.0

    def __post_init__(self) -> None:
        own = "DigitalSolve"
        object.__setattr__(self, "n_steps", _int_field(own, "n_steps", self.n_steps, 1))
        try:
            method = Integrator(getattr(self.method, "value", self.method))
        except ValueError:
            raise ValueError(
                f"{own}.method must be 'euler' or 'rk4', got {self.method!r}"
            ) from None
        object.__setattr__(self, "method", method)
        object.__setattr__(self, "t_kernel_s", _real_field(own, "t_kernel_s", self.t_kernel_s))
        object.__setattr__(self, "p_static_W", _real_field(own, "p_static_W", self.p_static_W))
        if not isinstance(self.count_elementwise, bool):
            raise ValueError(
                f"{own}.count_elementwise must be a bool, got {self.count_elementwise!r}"
            )

    @property
    def integrator(self) -> Integrator:
        """``method`` as an :class:`Integrator`."""
        return Integrator(getattr(self.method, "value", self.method))


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class AnalogCost:
    """Time and energy of one analogue solve, with the counts behind them.

    Attributes:
        t_setup_s: set-up ticks, s.
        t_integrate_s: integration, s.
        t_readout_s: final ADC read-out (``n_state`` conversions in series), s.
        crossbar_J: cell read energy, ``sum G V_row^2 x time``, J.
        integrator_J: integrator op-amps, J.
        tia_J: column TIAs, J.
        activation_J: activation stages, J.
        summing_J: loop stages (per state), J.
        dac_J: DAC conversions, J.
        adc_J: ADC conversions, J.
        n_cells: programmed cells.
        g_sum_S: sum of their conductances, S.
        crossbar_power_W: ``g_sum_S * v_row_rms^2``, W.
        n_integrators: integrator stages.
        n_tias: TIA stages.
        n_activations: activation stages.
        n_summing: loop stages.
        dac_conversions: DAC conversions.
        adc_conversions: ADC conversions.
    """

    t_setup_s: float
    t_integrate_s: float
    t_readout_s: float
    crossbar_J: float
    integrator_J: float
    tia_J: float
    activation_J: float
    summing_J: float
    dac_J: float
    adc_J: float
    n_cells: int
    g_sum_S: float
    crossbar_power_W: float
    n_integrators: int
    n_tias: float
    n_activations: int
    n_summing: int
    dac_conversions: float
    adc_conversions: float

    def time_components(self) -> dict[str, float]:
        """``{component: seconds}``."""
        return {
            "setup": self.t_setup_s,
            "integrate": self.t_integrate_s,
            "readout": self.t_readout_s,
        }

    def energy_components(self) -> dict[str, float]:
        """``{component: joules}``."""
        return {
            "crossbar": self.crossbar_J,
            "integrator": self.integrator_J,
            "tia": self.tia_J,
            "activation": self.activation_J,
            "summing": self.summing_J,
            "dac": self.dac_J,
            "adc": self.adc_J,
        }

    @property
    def total_s(self) -> float:
        """Total time, s."""
        return math.fsum(self.time_components().values())

    @property
    def total_J(self) -> float:
        """Total energy, J."""
        return math.fsum(self.energy_components().values())

    @property
    def power_W(self) -> float:
        """Average power, W."""
        return self.total_J / self.total_s


@dataclass(frozen=True)
class DigitalCost:
    """Time and energy of one digital solve.

    Attributes:
        macs: multiply-accumulates.
        elementwise_flops: element-wise FLOPs charged (0 if not counted).
        kernels: dependent GPU kernels.
        t_compute_s: MACs and FLOPs at peak throughput, s.
        t_floor_s: ``kernels * t_kernel_s``, s.
        mac_J: MAC energy, J.
        elementwise_J: element-wise FLOP energy, J.
        static_J: static power over the total time, J.
    """

    macs: float
    elementwise_flops: float
    kernels: float
    t_compute_s: float
    t_floor_s: float
    mac_J: float
    elementwise_J: float
    static_J: float

    @property
    def total_s(self) -> float:
        """``max(t_compute_s, t_floor_s)``, s."""
        return max(self.t_compute_s, self.t_floor_s)

    @property
    def latency_bound(self) -> bool:
        """True when the kernel floor, not the compute, sets the time."""
        return self.t_floor_s > self.t_compute_s

    def time_components(self) -> dict[str, float]:
        """``{component: seconds}`` (the total is their maximum, not their sum)."""
        return {"compute": self.t_compute_s, "kernel floor": self.t_floor_s}

    def energy_components(self) -> dict[str, float]:
        """``{component: joules}``."""
        return {"mac": self.mac_J, "elementwise": self.elementwise_J, "static": self.static_J}

    @property
    def total_J(self) -> float:
        """Total energy, J."""
        return math.fsum(self.energy_components().values())


@dataclass(frozen=True)
class Assumption:
    """One stated assumption of a projection: name, value (text) and source."""

    name: str
    value: str
    source: str


@dataclass(frozen=True)
class PaperFigure:
    """A speed/energy figure published for a workload.

    Attributes:
        workload: workload label (``twin-hp``, ``twin-l96``, ``diffusion-ring``,
            ``diffusion-hku``).
        version: ``"arXiv"`` or ``"journal"``.
        speed_ratio: published speed-up (digital time / analogue time).
        energy_ratio: published energy ratio (digital / analogue); for a figure published
            as a reduction ``r`` %, ``1 / (1 - r / 100)``.
        energy_reduction_pct: the published reduction in %, or None when the paper gives a
            ratio.
        provenance: tag and place in PAPERS.md.
    """

    workload: str
    version: str
    speed_ratio: float
    energy_ratio: float
    energy_reduction_pct: float | None
    provenance: str

    @property
    def energy_text(self) -> str:
        """The energy figure as published (ratio, or reduction with its ratio)."""
        if self.energy_reduction_pct is not None:
            return f"{self.energy_reduction_pct:g} % less (= {self.energy_ratio:.3g}x)"
        return f"{self.energy_ratio:g}x"


def _reduction(workload: str, version: str, speed: float, pct: float, prov: str) -> PaperFigure:
    return PaperFigure(workload, version, speed, 1.0 / (1.0 - pct / 100.0), pct, prov)


PAPER_FIGURES: Mapping[str, tuple[PaperFigure, ...]] = MappingProxyType(
    {
        "twin-hp": (
            PaperFigure(
                "twin-hp", "arXiv", 4.2, 41.4, None, "[A] arXiv 2406.08343 v1, PAPERS.md §2.1"
            ),
            PaperFigure(
                "twin-hp",
                "journal",
                166.5,
                499.0,
                None,
                "[P] Science Advances 2025 (adr7571), PAPERS.md §2.1",
            ),
        ),
        "twin-l96": (
            PaperFigure(
                "twin-l96",
                "arXiv",
                12.6,
                189.7,
                None,
                "[A] arXiv 2406.08343 v1 (simulation), PAPERS.md §2.1",
            ),
            PaperFigure(
                "twin-l96",
                "journal",
                369.3,
                673.9,
                None,
                "[P] Science Advances 2025 (adr7571), PAPERS.md §2.1",
            ),
        ),
        "diffusion-ring": (
            PaperFigure(
                "diffusion-ring",
                "arXiv",
                64.8,
                5.2,
                None,
                "[A] arXiv 2404.05648 v1, PAPERS.md §4.1/§4.6 (80.8 % reduction [T])",
            ),
            _reduction(
                "diffusion-ring",
                "journal",
                69.0,
                31.5,
                "[P] Nature Communications 2026, PAPERS.md §4.1/§4.6",
            ),
        ),
        "diffusion-hku": (
            PaperFigure(
                "diffusion-hku",
                "arXiv",
                156.5,
                4.1,
                None,
                "[A] arXiv 2404.05648 v1, PAPERS.md §4.1/§4.6 (75.6 % reduction [T])",
            ),
            _reduction(
                "diffusion-hku",
                "journal",
                116.5,
                52.0,
                "[P] Nature Communications 2026, PAPERS.md §4.1/§4.6",
            ),
        ),
    }
)
"""Published speed/energy figures per workload, arXiv then journal, with provenance."""


# ------------------------------------------------------------------------------ model


def analog_cost(mlp: MlpSpec, solve: AnalogSolve, constants: AnalogConstants) -> AnalogCost:
    """Time and energy of one analogue solve (module docstring for the rules).

    Args:
        mlp: the vector-field MLP.
        solve: time scaling and converter activity.
        constants: device, op-amp and converter constants.
    """
    c = constants
    t_setup = solve.setup_ticks * solve.t_tick_s
    t_int = solve.t_integrate_s
    t_read = mlp.n_state * c.t_adc_conv_s if solve.adc_samples > 0 else 0.0
    t_total = t_setup + t_int + t_read
    g_sum = mlp.n_pairs * (2.0 * c.g_min_S + (c.g_max_S - c.g_min_S) * mlp.weight_fill)
    p_xbar = g_sum * c.v_row_rms_V**2
    n_tias = mlp.n_columns * c.tias_per_column
    channels = mlp.solver_dac_channels if solve.dac_channels is None else solve.dac_channels
    dac_conv = float(channels * (solve.n_ticks + solve.setup_ticks))
    adc_conv = float(mlp.n_state * solve.adc_samples)
    return AnalogCost(
        t_setup_s=t_setup,
        t_integrate_s=t_int,
        t_readout_s=t_read,
        crossbar_J=p_xbar * t_total,
        integrator_J=mlp.n_state * c.p_integrator_W * t_total,
        tia_J=n_tias * c.p_tia_W * t_total,
        activation_J=mlp.n_hidden * c.p_activation_W * t_total,
        summing_J=mlp.n_state * c.p_summing_W * t_total,
        dac_J=dac_conv * c.dac_J,
        adc_J=adc_conv * c.adc_J,
        n_cells=mlp.n_cells,
        g_sum_S=g_sum,
        crossbar_power_W=p_xbar,
        n_integrators=mlp.n_state,
        n_tias=n_tias,
        n_activations=mlp.n_hidden,
        n_summing=mlp.n_state,
        dac_conversions=dac_conv,
        adc_conversions=adc_conv,
    )


def digital_cost(mlp: MlpSpec, solve: DigitalSolve, baseline: DigitalBaseline) -> DigitalCost:
    """Time and energy of one digital solve (module docstring for the rules).

    Args:
        mlp: the vector-field MLP.
        solve: steps, integrator, kernel floor, what is counted.
        baseline: the digital processor (per-MAC energy and time).
    """
    if not isinstance(baseline, DigitalBaseline):
        raise ValueError(f"digital_cost.baseline must be a DigitalBaseline, got {baseline!r}")
    m = solve.integrator
    evals = solve.n_steps * m.evals_per_step
    macs = float(evals * mlp.macs_per_eval)
    flops = 0.0
    if solve.count_elementwise:
        per_step = m.update_flops_per_state * mlp.n_state
        flops = evals * mlp.elementwise_flops_per_eval + solve.n_steps * per_step
    kernels = float(evals * mlp.kernels_per_eval + solve.n_steps * m.update_kernels)
    j_per_flop = baseline.power_W / baseline.throughput_flops
    t_compute = macs * baseline.time_per_mac_s + flops / baseline.throughput_flops
    t_floor = kernels * solve.t_kernel_s
    return DigitalCost(
        macs=macs,
        elementwise_flops=flops,
        kernels=kernels,
        t_compute_s=t_compute,
        t_floor_s=t_floor,
        mac_J=macs * baseline.energy_per_mac_J,
        elementwise_J=flops * j_per_flop,
        static_J=solve.p_static_W * max(t_compute, t_floor),
    )


@dataclass(frozen=True)
class OdeProjection:
    """One solve projected on the analogue loop and on the digital baseline.

    Attributes:
        name: workload label.
        mlp: the vector-field MLP.
        analog_solve: analogue time scaling and converter activity.
        digital_solve: the digital solver.
        constants: analogue constants.
        baseline: digital processor.
        analog: analogue cost.
        digital: digital cost.
        assumptions: every assumption with its source.
        paper: the published figures for this workload (may be empty).
    """

    name: str
    mlp: MlpSpec
    analog_solve: AnalogSolve
    digital_solve: DigitalSolve
    constants: AnalogConstants
    baseline: DigitalBaseline
    analog: AnalogCost
    digital: DigitalCost
    assumptions: tuple[Assumption, ...]
    paper: tuple[PaperFigure, ...] = ()

    @property
    def speed_ratio(self) -> float:
        """Digital time / analogue time (> 1 favours the analogue loop)."""
        return self.digital.total_s / self.analog.total_s

    @property
    def energy_ratio(self) -> float:
        """Digital energy / analogue energy (> 1 favours the analogue loop)."""
        a = self.analog.total_J
        return self.digital.total_J / a if a > 0 else math.inf

    def table(self, fmt: str = "text") -> str:
        """This projection rendered by :func:`render_table`."""
        return render_table([self], fmt=fmt)


def project(
    mlp: MlpSpec,
    analog_solve: AnalogSolve,
    digital_solve: DigitalSolve,
    *,
    constants: AnalogConstants = RRAM_180NM_LOOP,
    baseline: DigitalBaseline = A100_FP32,
    name: str | None = None,
    sources: Mapping[str, str] | None = None,
    paper: Sequence[PaperFigure] = (),
) -> OdeProjection:
    """Project one solve on both sides and collect the assumptions.

    Args:
        mlp: the vector-field MLP.
        analog_solve: analogue time scaling and converter activity.
        digital_solve: the digital solver.
        constants: analogue constants (default :data:`RRAM_180NM_LOOP`).
        baseline: digital processor (default the A100 preset of :mod:`rramcim.cost`).
        name: workload label (default ``mlp.name``).
        sources: sources of the solve parameters, by name (``horizon_units``, ``t_unit_s``,
            ``n_ticks``, ``setup_ticks``, ``adc_samples``, ``dac_channels``, ``n_steps``,
            ``method``, ``weight_fill``, ``extra_flops_per_eval``); missing ones read
            "[I] caller's value".
        paper: published figures to show next to the projection.

    Raises:
        ValueError: a wrong type of spec, naming the argument.
    """
    for arg, val, typ in (
        ("mlp", mlp, MlpSpec),
        ("analog_solve", analog_solve, AnalogSolve),
        ("digital_solve", digital_solve, DigitalSolve),
        ("constants", constants, AnalogConstants),
        ("baseline", baseline, DigitalBaseline),
    ):
        if not isinstance(val, typ):
            raise ValueError(f"project.{arg} must be a {typ.__name__}, got {val!r}")
    src = dict(sources or {})

    def s(key: str) -> str:
        return src.get(key, "[I] caller's value")

    a = analog_cost(mlp, analog_solve, constants)
    d = digital_cost(mlp, digital_solve, baseline)
    sol = analog_solve
    dsol = digital_solve
    channels = mlp.solver_dac_channels if sol.dac_channels is None else sol.dac_channels
    rows: list[Assumption] = [
        Assumption(
            "MLP",
            f"{'->'.join(map(str, mlp.widths))} {mlp.activation}"
            + (f", embedding {mlp.n_embed} at every hidden layer" if mlp.n_embed else ""),
            s("mlp"),
        ),
        Assumption("weight_fill", f"{mlp.weight_fill:.3g} (mean |w|/w_max)", s("weight_fill")),
        Assumption(
            "crossbar cells",
            f"{mlp.n_cells} = 2 x "
            + (f"{mlp.n_parallel} x " if mlp.n_parallel > 1 else "")
            + "sum (in + 1) out (differential pairs, bias row)",
            "[I] the solver's mapping (rramcim.analog.ode): "
            + (
                "one pair per weight and bias"
                if mlp.n_parallel == 1
                else f"{mlp.n_parallel} parallel pairs per weight and bias (n_parallel)"
            ),
        ),
        Assumption("horizon_units", f"{sol.horizon_units:g} model time units", s("horizon_units")),
        Assumption(
            "t_unit_s", f"{_fmt_s(sol.t_unit_s)} per model time unit (time scaling)", s("t_unit_s")
        ),
        Assumption(
            "n_ticks", f"{sol.n_ticks} integrate ticks of {_fmt_s(sol.t_tick_s)}", s("n_ticks")
        ),
        Assumption("setup_ticks", f"{sol.setup_ticks} (RESET, LOAD)", s("setup_ticks")),
        Assumption(
            "adc_samples",
            f"{sol.adc_samples} sample points x {mlp.n_state} states",
            s("adc_samples"),
        ),
        Assumption(
            "dac_channels",
            f"{channels} written every tick",
            s("dac_channels")
            if sol.dac_channels is not None
            else "[I] the solver macro writes every channel every tick: 2 n_state + n_input "
            "+ 2 + n_embed (OdeSolverConfig.n_channels)",
        ),
        Assumption(
            "analogue power",
            "crossbar, op-amp and activation stages draw constant power over set-up, "
            "integration and read-out",
            "[I] no power gating; no static power of the digital sequencer or of idle DAC/ADC",
        ),
    ]
    for f in dataclasses.fields(AnalogConstants):
        if "unit" in f.metadata:
            v = getattr(constants, f.name)
            unit = f.metadata["unit"]
            rows.append(
                Assumption(
                    f.name,
                    f"{v:.4g}" if unit == "1" else f"{v:.4g} {unit}",
                    constants.sources.get(f.name, "(no source given)"),
                )
            )
    rows += [
        Assumption("baseline", baseline.name, baseline.source or "(no source given)"),
        Assumption(
            "baseline energy",
            f"{baseline.energy_per_mac_J * 1e12:.4g} pJ/MAC, "
            f"{baseline.power_W / baseline.throughput_flops * 1e12:.4g} pJ/FLOP",
            "power / throughput per FLOP, flops_per_mac per MAC (rramcim.cost.DigitalBaseline)",
        ),
        Assumption(
            "n_steps",
            f"{dsol.n_steps} {dsol.integrator.value} steps "
            f"({dsol.integrator.evals_per_step} evaluation(s) per step)",
            s("n_steps"),
        ),
        Assumption("method", dsol.integrator.value, s("method")),
        Assumption(
            "t_kernel_s", f"{_fmt_s(dsol.t_kernel_s)} per dependent kernel", s("t_kernel_s")
        ),
        Assumption(
            "kernels per step",
            f"{dsol.integrator.evals_per_step} x {mlp.kernels_per_eval} (layers"
            + (" + embedding" if mlp.n_embed else "")
            + f") + {dsol.integrator.update_kernels} update",
            "[I] one kernel per layer with bias/activation/embedding add fused; digital time "
            "= max(compute at peak, kernels x t_kernel)",
        ),
        Assumption(
            "elementwise FLOPs",
            (
                f"{mlp.elementwise_flops_per_eval:g} per evaluation "
                f"(bias, activation, embedding, {mlp.extra_flops_per_eval:g} extra) + "
                f"{dsol.integrator.update_flops_per_state} per state per step"
            )
            if dsol.count_elementwise
            else "not counted",
            s("extra_flops_per_eval") + "; [I] 1 FLOP each (sin/cos and tanh too)",
        ),
        Assumption(
            "p_static_W",
            f"{dsol.p_static_W:g} W",
            s("p_static_W") if "p_static_W" in src else "[I] 0: only op energy (favours GPU)",
        ),
    ]
    return OdeProjection(
        name=mlp.name if name is None else str(name),
        mlp=mlp,
        analog_solve=analog_solve,
        digital_solve=digital_solve,
        constants=constants,
        baseline=baseline,
        analog=a,
        digital=d,
        assumptions=tuple(rows),
        paper=tuple(paper),
    )


# -------------------------------------------------------------------------- workloads


TWIN_HP_HORIZON = 8.0
"""HP twin horizon: ``horizon_factor`` 4 x ``t_train_s`` 2 (HPTwinConfig defaults)."""
TWIN_L96_LAMBDA1 = 0.9391782154266168
"""Largest Lyapunov exponent of the Lorenz96 (N = 6, F = 8) system [M] (assets/twin_l96.npz)."""
TWIN_L96_HORIZON = 15.0 / TWIN_L96_LAMBDA1
"""Lorenz96 twin horizon: 15 Lyapunov times (``evaluate_l96`` horizon_lyap), ~15.97 units."""
TWIN_DT = 0.01
"""Data grid step and RK4 step of the twins (HPTwinConfig.dt_s, L96TwinConfig.dt)."""
TWIN_T_UNIT_S = 1e-3
"""Physical seconds per model time unit of the twin mapping (apps.twin.analog.T_UNIT_S)."""
DIFF_N_TICKS = 240
"""DAC ticks of the diffusion paper's MCU, tau from 1 to -0.2 (PAPERS.md §4.5)."""
DIFF_HORIZON = 1.2
"""Reverse-time span of those 240 ticks (0.005 per tick)."""
DIFF_T_UNIT_S = 2e-3
"""[I] seconds per diffusion time unit: a 10 us tick (as the twins) per 0.005 of tau."""

# Mean |w| / w_max of the shipped checkpoints' layers [M].
_FILL = {
    "hp": 0.1497,
    "l96": 0.2193,
    "ring": 0.2382,
    "hku": 0.2502,
}
_FILL_SRC = {
    "hp": "[M] assets/twin_hp.npz (1->32->32->1 affine), layer means 0.40/0.13/0.38",
    "l96": "[M] assets/twin_l96.npz, layer means 0.14/0.22/0.33",
    "ring": "[M] assets/diffusion_ring.npz score net, layer means 0.27/0.23/0.25",
    "hku": "[M] assets/diffusion_hku.npz score net, layer means 0.42/0.22/0.25",
}


def _common_overrides(
    constants: AnalogConstants, baseline: DigitalBaseline
) -> tuple[AnalogConstants, DigitalBaseline]:
    if not isinstance(constants, AnalogConstants):
        raise ValueError(f"constants must be an AnalogConstants, got {constants!r}")
    if not isinstance(baseline, DigitalBaseline):
        raise ValueError(f"baseline must be a DigitalBaseline, got {baseline!r}")
    return constants, baseline


def twin_projection(
    kind: str,
    *,
    input_mode: str = "affine",
    horizon_units: float | None = None,
    t_unit_s: float = TWIN_T_UNIT_S,
    dt_model: float = TWIN_DT,
    ticks_per_step: int = 1,
    n_steps: int | None = None,
    method: str = "rk4",
    setup_ticks: int = 2,
    weight_fill: float | None = None,
    n_parallel: int = 1,
    t_kernel_s: float = DEFAULT_T_KERNEL_S,
    p_static_W: float = 0.0,
    count_elementwise: bool = True,
    constants: AnalogConstants = RRAM_180NM_LOOP,
    baseline: DigitalBaseline = A100_FP32,
) -> OdeProjection:
    """One solve of a neural-ODE twin (:mod:`rramcim.apps.twin`).

    Analogue: ``horizon / dt_model`` data steps of ``ticks_per_step`` ticks, one model time
    unit = ``t_unit_s``; the ADC samples the state every data step (and at t = 0).
    Digital: the twin's own RK4 at the data grid step (``n_steps = horizon / dt_model``).

    Args:
        kind: ``"hp"`` (HP memristor, MLP 1->32->32->1 tanh with the drive multiplying the
            output, or 2->32->32->1 with ``input_mode="concat"``) or ``"l96"`` (Lorenz96
            N = 6, 6->64->64->6 tanh).
        input_mode: HP only: ``"affine"`` or ``"concat"``.
        horizon_units: horizon in model time units (default: HP 8 = 4 x the 2-unit training
            window; Lorenz96 15 Lyapunov times = 15.97 units).
        t_unit_s: seconds per model time unit (default 1 ms).
        dt_model: data grid step, model units (default 0.01).
        ticks_per_step: DAC ticks per data step (default 1).
        n_steps: digital steps (default ``round(horizon / dt_model)``).
        method: digital integrator, ``"rk4"`` (default) or ``"euler"``.
        setup_ticks: RESET/LOAD ticks (default 2).
        weight_fill: mean ``|w| / w_max`` (default: measured on the shipped checkpoint).
        n_parallel: cell pairs per weight (default 1; :class:`MlpSpec`).
        t_kernel_s: minimum time of one dependent GPU kernel.
        p_static_W: static GPU power over the digital time.
        count_elementwise: charge element-wise FLOPs digitally.
        constants: analogue constants.
        baseline: digital processor.

    Raises:
        ValueError: an unknown ``kind`` / ``input_mode`` or an out-of-range value, naming it.
    """
    constants, baseline = _common_overrides(constants, baseline)
    if kind not in ("hp", "l96"):
        raise ValueError(f"twin_projection.kind must be 'hp' or 'l96', got {kind!r}")
    if kind == "hp" and input_mode not in ("affine", "concat"):
        raise ValueError(
            f"twin_projection.input_mode must be 'affine' or 'concat', got {input_mode!r}"
        )
    dt = _real_field("twin_projection", "dt_model", dt_model, lo_open=True)
    tps = _int_field("twin_projection", "ticks_per_step", ticks_per_step, 1)
    default_h = TWIN_HP_HORIZON if kind == "hp" else TWIN_L96_HORIZON
    h = default_h if horizon_units is None else horizon_units
    h = _real_field("twin_projection", "horizon_units", h, lo_open=True)
    n_grid = max(1, round(h / dt))
    fill = _FILL[kind] if weight_fill is None else weight_fill
    if kind == "hp":
        affine = input_mode == "affine"
        mlp = MlpSpec(
            name="twin-hp",
            widths=(1, 32, 32, 1) if affine else (2, 32, 32, 1),
            n_state=1,
            n_input=0 if affine else 1,
            activation="tanh",
            weight_fill=fill,
            extra_flops_per_eval=2.0 if affine else 1.0,
            n_parallel=n_parallel,
        )
        mlp_src = "HPTwinConfig: hidden (32, 32) tanh, input_mode " + (
            "'affine' (drive multiplies the MLP output)" if affine else "'concat'"
        )
        extra_src = (
            "[I] drive x rate_scale on the output (2 per state)"
            if affine
            else "[I] rate_scale on the output (1 per state)"
        )
        h_src = "HPTwinConfig: horizon_factor 4 x t_train_s 2"
    else:
        mlp = MlpSpec(
            name="twin-l96",
            widths=(6, 64, 64, 6),
            n_state=6,
            activation="tanh",
            weight_fill=fill,
            extra_flops_per_eval=6.0,
            n_parallel=n_parallel,
        )
        mlp_src = "L96TwinConfig: N = 6, hidden (64, 64) tanh"
        extra_src = "[I] rate_scale on the output (1 per state)"
        h_src = (
            "evaluate_l96: horizon_lyap 15 / lambda1 0.9392 [M] (assets/twin_l96.npz) = 15.97 units"
        )
    if horizon_units is not None:
        h_src = "[I] caller's value"
    analog = AnalogSolve(
        horizon_units=h,
        t_unit_s=t_unit_s,
        n_ticks=n_grid * tps,
        setup_ticks=setup_ticks,
        adc_samples=n_grid + 1,
    )
    steps = n_grid if n_steps is None else n_steps
    digital = DigitalSolve(
        n_steps=steps,
        method=method,
        t_kernel_s=t_kernel_s,
        count_elementwise=count_elementwise,
        p_static_W=p_static_W,
    )
    sources = {
        "mlp": mlp_src,
        "weight_fill": _FILL_SRC[kind] if weight_fill is None else "[I] caller's value",
        "horizon_units": h_src,
        "t_unit_s": (
            "[I] apps.twin.analog.T_UNIT_S: 1 ms per model time unit"
            if t_unit_s == TWIN_T_UNIT_S
            else "[I] caller's value"
        ),
        "n_ticks": f"horizon / dt {dt:g} x {tps} tick(s) per data step (apps.twin.analog)",
        "setup_ticks": "one RESET and one LOAD tick (apps.twin.analog run plan)",
        "adc_samples": "state sampled every data step and at t = 0 (apps.twin.analog)",
        "n_steps": (
            f"the twin's own RK4 at the data grid step dt = {dt:g} (TwinConfig dt)"
            if n_steps is None
            else "[I] caller's value"
        ),
        "method": (
            "the twins integrate with RK4 (TwinConfig: 'RK4 step of the twin')"
            if method == "rk4"
            else "[I] caller's value"
        ),
        "t_kernel_s": _T_KERNEL_SOURCE
        if t_kernel_s == DEFAULT_T_KERNEL_S
        else "[I] caller's value",
        "extra_flops_per_eval": extra_src,
    }
    return project(
        mlp,
        analog,
        digital,
        constants=constants,
        baseline=baseline,
        sources=sources,
        paper=PAPER_FIGURES[mlp.name],
    )


def diffusion_projection(
    kind: str,
    *,
    n_steps: int | None = None,
    method: str = "euler",
    n_ticks: int = DIFF_N_TICKS,
    horizon_units: float = DIFF_HORIZON,
    t_unit_s: float = DIFF_T_UNIT_S,
    setup_ticks: int = 2,
    weight_fill: float | None = None,
    t_kernel_s: float = DEFAULT_T_KERNEL_S,
    p_static_W: float = 0.0,
    count_elementwise: bool = True,
    constants: AnalogConstants = RRAM_180NM_LOOP,
    baseline: DigitalBaseline = A100_FP32,
) -> OdeProjection:
    """One sample of the score-based diffusion model (:mod:`rramcim.apps.diffusion`).

    Analogue: the paper's MCU schedule of ``n_ticks`` (240) ticks over ``horizon_units``
    (1.2) of reverse time, each tick ``horizon * t_unit_s / n_ticks`` (default 10 us); one ADC
    read-out of the final 2-D sample. Digital: Euler PF-ODE over [1, eps] with the software
    baseline's steps (10 000 ring, 5 000 letters), one evaluation per step (guidance
    weight 0: no second evaluation; the class embedding is constant per sample).

    Args:
        kind: ``"ring"`` (unconditional) or ``"hku"`` (conditional latent letters).
        n_steps: digital steps (default 10 000 ring / 5 000 hku).
        method: digital integrator (default ``"euler"``).
        n_ticks: analogue integrate ticks (default 240).
        horizon_units: reverse-time span of the analogue run (default 1.2).
        t_unit_s: seconds per unit of diffusion time (default 2 ms).
        setup_ticks: RESET/LOAD ticks (default 2).
        weight_fill: mean ``|w| / w_max`` (default: measured on the shipped checkpoint).
        t_kernel_s: minimum time of one dependent GPU kernel.
        p_static_W: static GPU power over the digital time.
        count_elementwise: charge element-wise FLOPs digitally.
        constants: analogue constants.
        baseline: digital processor.

    Raises:
        ValueError: an unknown ``kind`` or an out-of-range value, naming it.
    """
    constants, baseline = _common_overrides(constants, baseline)
    if kind not in ("ring", "hku"):
        raise ValueError(f"diffusion_projection.kind must be 'ring' or 'hku', got {kind!r}")
    fill = _FILL[kind] if weight_fill is None else weight_fill
    # Per evaluation: 7 frequency products 2 pi W t and 14 sin/cos of the time embedding,
    # amp x 2 outputs, drift combination fx x + g2 s (3 per state).
    mlp = MlpSpec(
        name=f"diffusion-{kind}",
        widths=(2, 14, 14, 2),
        n_state=2,
        n_embed=14,
        activation="relu",
        weight_fill=fill,
        extra_flops_per_eval=7.0 + 14.0 + 2.0 + 6.0,
    )
    analog = AnalogSolve(
        horizon_units=horizon_units,
        t_unit_s=t_unit_s,
        n_ticks=n_ticks,
        setup_ticks=setup_ticks,
        adc_samples=1,
    )
    default_steps = 10_000 if kind == "ring" else 5_000
    digital = DigitalSolve(
        n_steps=default_steps if n_steps is None else n_steps,
        method=method,
        t_kernel_s=t_kernel_s,
        count_elementwise=count_elementwise,
        p_static_W=p_static_W,
    )
    sources = {
        "mlp": "[C] score MLP 2->14->14->2 ReLU, embedding at both hidden layers (PAPERS.md §4.3)",
        "weight_fill": _FILL_SRC[kind] if weight_fill is None else "[I] caller's value",
        "horizon_units": (
            "[C] MCU: tau from 1 to -0.2, 0.005 per tick (PAPERS.md §4.5)"
            if horizon_units == DIFF_HORIZON
            else "[I] caller's value"
        ),
        "t_unit_s": (
            "[I] 10 us tick per 0.005 of tau (the twins' tick); the MCU's 5 ms tick "
            "(PAPERS.md §4.5) is a demonstrator's, and the mapping of its time to the "
            "solver's is NF"
            if t_unit_s == DIFF_T_UNIT_S
            else "[I] caller's value"
        ),
        "n_ticks": (
            "[C] 240 DAC updates of the MCU (PAPERS.md §4.5)"
            if n_ticks == DIFF_N_TICKS
            else "[I] caller's value"
        ),
        "setup_ticks": "[I] one RESET and one LOAD tick (the MCU waits 100 us, PAPERS.md §4.5)",
        "adc_samples": "[I] one read-out of the final sample",
        "n_steps": (
            "[C] software baseline Euler steps: 10 000 ring / 5 000 letters (PAPERS.md §4.2)"
            if n_steps is None
            else "[I] caller's value"
        ),
        "method": (
            "[C] reverse-time Euler PF-ODE (PAPERS.md §4.2)"
            if method == "euler"
            else "[I] caller's value"
        ),
        "t_kernel_s": _T_KERNEL_SOURCE
        if t_kernel_s == DEFAULT_T_KERNEL_S
        else "[I] caller's value",
        "extra_flops_per_eval": (
            "[I] 7 products 2 pi W t + 14 sin/cos (time embedding), amp on 2 outputs, "
            "fx x + g2 s (3 per state); class embedding constant per sample"
        ),
    }
    return project(
        mlp,
        analog,
        digital,
        constants=constants,
        baseline=baseline,
        sources=sources,
        paper=PAPER_FIGURES[mlp.name],
    )


# --------------------------------------------------------------------------- rendering


def _grid(header: Sequence[str], rows: Sequence[Sequence[str]], fmt: str) -> list[str]:
    if fmt == "markdown":
        esc = [[c.replace("|", "\\|") for c in r] for r in rows]
        out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
        out += ["| " + " | ".join(r) + " |" for r in esc]
        return out
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    line = "  ".join(f"{h:<{w}}" for h, w in zip(header, widths, strict=True))
    out = [line, "-" * len(line)]
    out += ["  ".join(f"{c:<{w}}" for c, w in zip(r, widths, strict=True)) for r in rows]
    return out


def render_table(projections: Sequence[OdeProjection], fmt: str = "text") -> str:
    """Projections next to the papers' figures, with breakdowns and every assumption.

    Sections: a summary (time, energy, ratios, published figures with provenance), the
    time and energy breakdown of each projection, and the assumptions (deduplicated;
    ``applies to`` names the projections that share a row).

    Args:
        projections: one or more :class:`OdeProjection`.
        fmt: ``"text"`` or ``"markdown"``.

    Raises:
        ValueError: an unknown ``fmt`` or an empty / wrong list.
    """
    if fmt not in ("text", "markdown"):
        raise ValueError(f"render_table.fmt must be 'text' or 'markdown', got {fmt!r}")
    projs = list(projections)
    if not projs or not all(isinstance(p, OdeProjection) for p in projs):
        raise ValueError("render_table.projections must be a non-empty list of OdeProjection")
    md = fmt == "markdown"

    def title(t: str) -> list[str]:
        return ["", f"### {t}", ""] if md else ["", t, "=" * len(t)]

    out: list[str] = title("Analogue closed-loop solver vs digital solver: one solve")
    head = [
        "workload",
        "analogue time",
        "digital time",
        "speed",
        "analogue energy",
        "digital energy",
        "energy",
        "paper speed",
        "paper energy",
        "paper source",
    ]
    rows: list[list[str]] = []
    for p in projs:
        base = [
            p.name,
            _fmt_s(p.analog.total_s),
            _fmt_s(p.digital.total_s) + (" (latency bound)" if p.digital.latency_bound else ""),
            _fmt_x(p.speed_ratio),
            _fmt_J(p.analog.total_J),
            _fmt_J(p.digital.total_J),
            _fmt_x(p.energy_ratio),
        ]
        figs = p.paper or (None,)
        for i, f in enumerate(figs):
            lead = base if i == 0 else [""] * len(base)
            if f is None:
                rows.append([*lead, "-", "-", "-"])
            else:
                rows.append(
                    [*lead, f"{f.speed_ratio:g}x", f.energy_text, f"{f.version}: {f.provenance}"]
                )
    out += _grid(head, rows, fmt)
    out.append("")
    out.append(
        "speed = digital time / analogue time; energy = digital energy / analogue energy "
        "(> 1 favours the analogue loop)."
    )
    for p in projs:
        out += title(f"Breakdown: {p.name}")
        a, d = p.analog, p.digital
        brows = [["analogue time", k, _fmt_s(v)] for k, v in a.time_components().items()]
        brows += [["analogue energy", k, _fmt_J(v)] for k, v in a.energy_components().items()]
        brows += [
            ["analogue counts", "cells / G sum", f"{a.n_cells} / {a.g_sum_S * 1e6:.4g} uS"],
            ["analogue counts", "crossbar power", f"{a.crossbar_power_W * 1e6:.4g} uW"],
            [
                "analogue counts",
                "stages int/TIA/act/loop",
                f"{a.n_integrators}/{a.n_tias:g}/{a.n_activations}/{a.n_summing}",
            ],
            ["analogue counts", "average power", f"{a.power_W * 1e3:.4g} mW"],
            [
                "analogue counts",
                "DAC / ADC conversions",
                f"{a.dac_conversions:g} / {a.adc_conversions:g}",
            ],
        ]
        brows += [["digital time", k, _fmt_s(v)] for k, v in d.time_components().items()]
        brows += [["digital energy", k, _fmt_J(v)] for k, v in d.energy_components().items()]
        brows += [
            ["digital counts", "MACs", f"{d.macs:.4g}"],
            ["digital counts", "element-wise FLOPs", f"{d.elementwise_flops:.4g}"],
            ["digital counts", "dependent kernels", f"{d.kernels:.4g}"],
        ]
        out += _grid(["side", "component", "value"], brows, fmt)
    out += title("Assumptions")
    seen: dict[tuple[str, str, str], list[str]] = {}
    for p in projs:
        for asm in p.assumptions:
            key = (asm.name, asm.value, asm.source)
            seen.setdefault(key, [])
            if p.name not in seen[key]:
                seen[key].append(p.name)
    arows = [
        [n, v, "all" if len(w) == len(projs) > 1 else ", ".join(w), s]
        for (n, v, s), w in seen.items()
    ]
    out += _grid(["assumption", "value", "applies to", "source"], arows, fmt)
    out.append("")
    out.append(
        "Tags: [C] authors' code, [A] arXiv abstract, [P] journal abstract, [T] third party, "
        "[I] assumption of this project, [M] measured on this project's shipped checkpoints "
        "(PAPERS.md §0.1)."
    )
    return "\n".join(out).lstrip("\n")

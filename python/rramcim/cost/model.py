"""Energy and latency model of an analogue RRAM compute-in-memory accelerator.

The model turns *operation counts* (:class:`OpCounts`, produced by a hardware model
run or by :func:`mvm_counts` for a dense matrix-vector product) into energy with a
table of *per-operation constants* (:class:`OpEnergies`) and into latency with a
table of *timings* (:class:`ReadTiming`). It compares the result with a *digital
baseline* (:class:`DigitalBaseline`) that charges a fixed energy and time per
multiply-accumulate (MAC).

Charging rule (one constant per kind of event; see :meth:`CostModel.energy`):

============== =============================== ===========================
component      count (field of OpCounts)        constant (field of OpEnergies)
============== =============================== ===========================
cell           ``cell_reads``                  ``cell_read_J``
driver         ``cell_reads``                  ``driver_J``
vcmac          ``cell_reads``                  ``vcmac_J * vcmac_fraction``
decoder        ``row_activations``             ``decoder_J``
dac            ``dac_conversions``             ``dac_J``
adc            ``adc_conversions``             ``adc_J``
mux            ``mux_switches``                ``mux_J``
amplifier      ``column_reads``                ``amplifier_J``
reading        ``column_reads``                ``reading_J``
activation     ``activations``                 ``activation_J``
digital_add    ``digital_adds``                ``digital_add_J``
============== =============================== ===========================

The rule follows the per-layer formulas in the neural-field paper's code
(``Memristive_Neural_Field NVS/run_nerf_hpo.py``), which
:meth:`CostModel.layer_energy_paper` reproduces verbatim. The one place where the
count-based model deliberately differs is the amplifier and reading terms: the
paper's code charges them once per (output, bit) of a layer, independent of the
number of samples ``res``; here they are charged per sensed column per array read,
i.e. ``res`` times. For ``res == 1`` both agree exactly. Workloads (spiking nets,
ODE solvers, neural fields) build their own :class:`OpCounts` and reuse the model.

All quantities are SI: joules (``_J``), seconds (``_s``), watts (``_W``),
siemens (``_S``), volts (``_V``), hertz (``_Hz``). Counts are floats so that they
can be scaled by activity factors or averaged over samples.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

__all__ = [
    "CostModel",
    "DigitalBaseline",
    "EnergyBreakdown",
    "Gain",
    "OpCounts",
    "OpEnergies",
    "PaperLayerCost",
    "ReadTiming",
    "cell_read_energy_J",
    "conversion_energy_J",
    "mvm_counts",
]


# --------------------------------------------------------------------------- helpers


def _check_nonneg(owner: str, name: str, value: object) -> float:
    """Return ``value`` as float after checking it is a finite number >= 0.

    Raises:
        ValueError: naming ``owner.name`` and the offending value.
    """
    if isinstance(value, bool | str | bytes) or not hasattr(value, "__float__"):
        raise ValueError(f"{owner}.{name} must be a real number, got {value!r}")
    try:
        v = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{owner}.{name} must be a real number, got {value!r}") from exc
    if not math.isfinite(v):
        raise ValueError(f"{owner}.{name} must be finite, got {value!r}")
    if v < 0.0:
        raise ValueError(f"{owner}.{name} must be >= 0, got {value!r}")
    return v


def _is_int(value: object) -> bool:
    """True for integers (Python or NumPy), False for bools and everything else."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _check_positive(owner: str, name: str, value: object) -> float:
    """Like :func:`_check_nonneg` but also rejects zero."""
    v = _check_nonneg(owner, name, value)
    if v == 0.0:
        raise ValueError(f"{owner}.{name} must be > 0, got {value!r}")
    return v


def _numeric_fields(cls: type) -> tuple[str, ...]:
    """Names of the fields of dataclass ``cls`` that carry a ``unit`` metadata entry."""
    return tuple(f.name for f in dataclasses.fields(cls) if "unit" in f.metadata)


def _validate_numeric(obj: object, positive: frozenset[str] = frozenset()) -> None:
    """Check every unit-bearing field of frozen dataclass ``obj``; store it as float."""
    owner = type(obj).__name__
    for name in _numeric_fields(type(obj)):
        check = _check_positive if name in positive else _check_nonneg
        object.__setattr__(obj, name, check(owner, name, getattr(obj, name)))


def _freeze_sources(obj: object, sources: Mapping[str, str]) -> None:
    """Validate a field -> citation mapping and store it read-only on ``obj``."""
    owner = type(obj).__name__
    known = set(_numeric_fields(type(obj)))
    for key, text in sources.items():
        if key not in known:
            raise ValueError(f"{owner}.sources names unknown field {key!r}")
        if not isinstance(text, str):
            raise ValueError(f"{owner}.sources[{key!r}] must be a str, got {text!r}")
    object.__setattr__(obj, "sources", MappingProxyType(dict(sources)))


def _constants_table(obj: object, sources: Mapping[str, str]) -> str:
    """Plain-text table (field, value, unit, source) of a constants dataclass."""
    rows = [
        (
            f.name,
            f"{getattr(obj, f.name):.6g}",
            f.metadata["unit"],
            sources.get(f.name, "(no source given)"),
        )
        for f in dataclasses.fields(type(obj))
        if "unit" in f.metadata
    ]
    w0 = max(len("field"), *(len(r[0]) for r in rows))
    w1 = max(len("value"), *(len(r[1]) for r in rows))
    w2 = max(len("unit"), *(len(r[2]) for r in rows))
    lines = [f"{'field':<{w0}}  {'value':>{w1}}  {'unit':<{w2}}  source"]
    lines.append("-" * len(lines[0]))
    lines += [f"{a:<{w0}}  {b:>{w1}}  {c:<{w2}}  {d}" for a, b, c, d in rows]
    return "\n".join(lines)


def _unit(unit: str, doc: str) -> dict[str, str]:
    return {"unit": unit, "doc": doc}


def cell_read_energy_J(v_read_V: float, g_S: float, t_read_s: float) -> float:
    """Ohmic energy dissipated in one cell during one read pulse, ``V**2 * G * t``.

    Args:
        v_read_V: read voltage across the cell, V.
        g_S: cell conductance, S.
        t_read_s: read pulse width, s.

    Returns:
        Energy per cell read, J. Assumes a linear (ohmic) cell and a rectangular
        pulse; the read non-linearity of the device model is ignored.
    """
    return v_read_V * v_read_V * g_S * t_read_s


def conversion_energy_J(power_W: float, rate_Hz: float) -> float:
    """Energy per conversion of a converter that draws ``power_W`` at ``rate_Hz``.

    Args:
        power_W: average power while converting, W.
        rate_Hz: conversions per second, Hz (must be > 0).

    Returns:
        ``power_W / rate_Hz``, J per conversion (assumes the converter is fully
        utilised; idle power is not modelled).
    """
    if not rate_Hz > 0:
        raise ValueError(f"rate_Hz must be > 0, got {rate_Hz!r}")
    return power_W / rate_Hz


# ------------------------------------------------------------------ constant tables


@dataclass(frozen=True)
class OpEnergies:
    """Per-operation energy constants of an analogue crossbar and its periphery.

    Every numeric field is a finite, non-negative float (checked on construction,
    ``ValueError`` names the field and value). ``sources`` maps field names to a
    citation string; by project convention it starts with a tag: ``[C]`` authors'
    public code, ``[S]`` sister paper, ``[I]`` assumption of this project.
    :meth:`table` prints values, units and sources.

    Attributes:
        name: short identifier of the constant set.
        cell_read_J: J per cell-read event (one cell conducting during one read
            pulse), ``V_read**2 * G_cell * t_read``.
        driver_J: J per cell-read event charged for the word/bit-line driver. The
            paper's code charges the driver per (input, output, sample, bit), i.e.
            per cell read, not per driven row; kept so for comparability.
        vcmac_J: J of the voltage-to-current MAC stage (raw value of the paper's
            code), charged per cell-read event times ``vcmac_fraction``.
        vcmac_fraction: dimensionless factor applied to ``vcmac_J`` per cell read;
            the paper's code divides by 2 without stating why.
        decoder_J: J per row activation (word-line selection by the row decoder).
        dac_J: J per DAC conversion (one input value driven onto one row).
        adc_J: J per ADC conversion.
        mux_J: J per column-multiplexer switch event.
        amplifier_J: J per sensed column per array read (sense/transimpedance
            amplifier of one output during one bit plane).
        reading_J: J per sensed column per array read (read-out circuit).
        activation_J: J per evaluation of an analogue activation function circuit.
        digital_add_J: J per digital shift-add accumulation (partial-sum combine,
            differential subtraction).
        sources: field name -> citation string (read-only mapping).
    """

    name: str
    cell_read_J: float = field(metadata=_unit("J", "per cell read"))
    driver_J: float = field(metadata=_unit("J", "per cell read"))
    vcmac_J: float = field(metadata=_unit("J", "per cell read, times vcmac_fraction"))
    vcmac_fraction: float = field(metadata=_unit("1", "factor on vcmac_J"))
    decoder_J: float = field(metadata=_unit("J", "per row activation"))
    dac_J: float = field(metadata=_unit("J", "per DAC conversion"))
    adc_J: float = field(metadata=_unit("J", "per ADC conversion"))
    mux_J: float = field(metadata=_unit("J", "per MUX switch"))
    amplifier_J: float = field(metadata=_unit("J", "per column read"))
    reading_J: float = field(metadata=_unit("J", "per column read"))
    activation_J: float = field(metadata=_unit("J", "per activation"))
    digital_add_J: float = field(metadata=_unit("J", "per digital add"))
    sources: Mapping[str, str] = field(default_factory=dict, compare=False, hash=False)

    def __post_init__(self) -> None:
        _validate_numeric(self)
        _freeze_sources(self, self.sources)

    def replace(self, **changes: object) -> OpEnergies:
        """Return a validated copy with some fields changed (``dataclasses.replace``)."""
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]

    def table(self) -> str:
        """Plain-text table of the constants: field, value, unit, source."""
        return _constants_table(self, self.sources)


@dataclass(frozen=True)
class ReadTiming:
    """Timing constants of the analogue array and its periphery.

    Attributes:
        name: short identifier of the timing set.
        t_read_s: duration of one array read (one input bit plane applied to the
            crossbar), s. Must be > 0.
        t_adc_conv_s: duration of one ADC conversion, s.
        t_activation_s: delay of one activation-function circuit, s.
        sources: field name -> citation string (read-only mapping).
    """

    name: str
    t_read_s: float = field(metadata=_unit("s", "per array read"))
    t_adc_conv_s: float = field(metadata=_unit("s", "per ADC conversion"))
    t_activation_s: float = field(metadata=_unit("s", "per activation"))
    sources: Mapping[str, str] = field(default_factory=dict, compare=False, hash=False)

    def __post_init__(self) -> None:
        _validate_numeric(self, positive=frozenset({"t_read_s"}))
        _freeze_sources(self, self.sources)

    def table(self) -> str:
        """Plain-text table of the timings: field, value, unit, source."""
        return _constants_table(self, self.sources)


@dataclass(frozen=True)
class DigitalBaseline:
    """A digital processor charged at a fixed energy and time per MAC.

    Energy per MAC is ``power_W / throughput_flops * flops_per_mac`` and time per
    MAC is ``flops_per_mac / throughput_flops``: the processor is assumed to run
    at its peak throughput and draw ``power_W`` throughout [I] (no memory traffic,
    no idle time, no utilisation loss, which favours the baseline).

    ``flops_per_mac`` is the FLOP-counting convention. A fused multiply-add is
    conventionally 2 FLOP (the default here). The neural-field paper's code
    charges ``P / throughput`` per MAC, i.e. it counts **1 FLOP per MAC**; the
    ``A100_FP32`` preset follows that choice so numbers match the paper
    (15.4 pJ/MAC for the A100); use ``flops_per_mac=2`` for the stricter
    convention (twice the energy and time per MAC).

    Attributes:
        name: processor name.
        throughput_flops: peak throughput, FLOP/s. Must be > 0.
        power_W: power draw, W.
        flops_per_mac: FLOP counted per MAC, 1 or 2.
        source: citation string for the numbers.
    """

    name: str
    throughput_flops: float = field(metadata=_unit("FLOP/s", "peak throughput"))
    power_W: float = field(metadata=_unit("W", "power draw"))
    flops_per_mac: int = 2
    source: str = ""

    def __post_init__(self) -> None:
        _validate_numeric(self, positive=frozenset({"throughput_flops"}))
        if isinstance(self.flops_per_mac, bool) or self.flops_per_mac not in (1, 2):
            raise ValueError(
                f"DigitalBaseline.flops_per_mac must be 1 or 2, got {self.flops_per_mac!r}"
            )
        object.__setattr__(self, "flops_per_mac", int(self.flops_per_mac))

    @property
    def energy_per_mac_J(self) -> float:
        """Energy per MAC, J."""
        return self.power_W / self.throughput_flops * self.flops_per_mac

    @property
    def time_per_mac_s(self) -> float:
        """Time per MAC at peak throughput, s."""
        return self.flops_per_mac / self.throughput_flops

    @property
    def macs_per_s(self) -> float:
        """Peak MAC rate, MAC/s."""
        return self.throughput_flops / self.flops_per_mac


# --------------------------------------------------------------------------- counts


_COUNT_FIELDS: tuple[str, ...] = (
    "cell_reads",
    "row_activations",
    "column_reads",
    "reads",
    "adc_conversions",
    "dac_conversions",
    "mux_switches",
    "digital_adds",
    "activations",
    "macs_equivalent",
)


@dataclass(frozen=True)
class OpCounts:
    """Operation counts of one hardware-model run (or of a workload).

    All fields are finite, non-negative floats (default 0). Counts add with ``+``
    (also with ``sum()``), and scale with ``k * counts`` / ``counts * k`` or
    :meth:`scaled` (``k`` finite, >= 0), e.g. to go from one sample to a batch or
    to apply an activity factor.

    Attributes:
        cell_reads: cell-read events, sum over array reads of (driven rows x
            conducting cells per row).
        row_activations: word-line selections by the row decoder.
        column_reads: sensed-column events, sum over array reads of the columns
            whose amplifier / read-out circuit is active.
        reads: array read operations (one input bit plane applied once); sets the
            latency.
        adc_conversions: ADC conversions.
        dac_conversions: DAC conversions (one input value driven onto one row).
        mux_switches: column-multiplexer switch events.
        digital_adds: digital shift-add accumulations.
        activations: analogue activation-function evaluations.
        macs_equivalent: MACs the digital baseline would perform for the same work.
    """

    cell_reads: float = 0.0
    row_activations: float = 0.0
    column_reads: float = 0.0
    reads: float = 0.0
    adc_conversions: float = 0.0
    dac_conversions: float = 0.0
    mux_switches: float = 0.0
    digital_adds: float = 0.0
    activations: float = 0.0
    macs_equivalent: float = 0.0

    def __post_init__(self) -> None:
        for name in _COUNT_FIELDS:
            object.__setattr__(self, name, _check_nonneg("OpCounts", name, getattr(self, name)))

    def as_dict(self) -> dict[str, float]:
        """Counts as an ordered ``{field: value}`` dict."""
        return {name: getattr(self, name) for name in _COUNT_FIELDS}

    def __add__(self, other: object) -> OpCounts:
        if not isinstance(other, OpCounts):
            return NotImplemented
        return OpCounts(**{n: getattr(self, n) + getattr(other, n) for n in _COUNT_FIELDS})

    def __radd__(self, other: object) -> OpCounts:
        # Lets ``sum(list_of_counts)`` start from the integer 0.
        if isinstance(other, int | float) and not isinstance(other, bool) and other == 0:
            return self
        return NotImplemented

    def scaled(self, k: float) -> OpCounts:
        """Every count multiplied by ``k`` (finite, >= 0)."""
        k = _check_nonneg("OpCounts", "scale factor", k)
        return OpCounts(**{n: getattr(self, n) * k for n in _COUNT_FIELDS})

    def __mul__(self, k: object) -> OpCounts:
        if isinstance(k, bool) or not isinstance(k, numbers.Real):
            return NotImplemented
        return self.scaled(k)

    __rmul__ = __mul__


def mvm_counts(
    rows: int,
    cols: int,
    n_vectors: int,
    in_bits: int,
    adc_per_output: int = 2,
    *,
    adc_per_bit_plane: bool = False,
    cells_per_weight: int = 1,
) -> OpCounts:
    """Operation counts of a dense matrix-vector product on one crossbar.

    Computes ``y = W x`` for ``n_vectors`` input vectors, ``W`` of shape
    ``(cols, rows)`` mapped onto ``rows`` word lines and ``cols`` logical weight
    columns (outputs); inputs are applied as ``in_bits`` bit planes (bit-serial).

    Assumptions (worst case for the analogue side, as in the paper's code):

    * every bit plane drives every row and every cell conducts:
      ``cell_reads = rows * cols * cells_per_weight * n_vectors * in_bits``. The
      paper charges one cell per weight [C]; pass ``cells_per_weight=2`` for a
      physical G+/G- differential pair.
    * the decoder selects each row once per vector and the row stays selected over
      all bit planes, and one DAC conversion drives one input value per vector
      [C: the paper charges decoder and DAC per (input, sample)]:
      ``row_activations = dac_conversions = rows * n_vectors``.
    * each output column is multiplexed to and sensed by its amplifier once per
      bit plane: ``mux_switches = column_reads = cols * n_vectors * in_bits``.
    * ADC: by default (``adc_per_bit_plane=False``, the paper's convention [C])
      the bit planes are accumulated in the analogue domain and each output is
      converted ``adc_per_output`` times per vector (2 = differential, "one weight
      uses two ADCs"). With ``adc_per_bit_plane=True`` each bit plane is converted
      separately and combined by digital shift-add.
    * ``digital_adds`` = (conversions per output per vector - 1) per output per
      vector: the adds that combine the partial results (differential subtraction
      and, if bit-serial ADC, the shift-add over planes).
    * ``reads = n_vectors * in_bits``; ``macs_equivalent = rows * cols * n_vectors``.
    * no activation functions (``activations = 0``); add them separately.

    Args:
        rows: input features / driven word lines, >= 1.
        cols: output features / logical weight columns, >= 1.
        n_vectors: number of input vectors (samples), >= 0.
        in_bits: input bit planes per vector, >= 1.
        adc_per_output: ADC conversions per output per conversion point, >= 1.
        adc_per_bit_plane: convert every bit plane instead of once per vector.
        cells_per_weight: physical cells read per weight, >= 1.

    Returns:
        The counts for the whole product.

    Raises:
        ValueError: if an argument is not an integer in range.
    """
    args = {
        "rows": (rows, 1),
        "cols": (cols, 1),
        "n_vectors": (n_vectors, 0),
        "in_bits": (in_bits, 1),
        "adc_per_output": (adc_per_output, 1),
        "cells_per_weight": (cells_per_weight, 1),
    }
    for name, (value, lo) in args.items():
        if not _is_int(value) or value < lo:
            raise ValueError(f"mvm_counts: {name} must be an integer >= {lo}, got {value!r}")
    # Python ints from here on: no fixed-width (NumPy) overflow.
    rows, cols, n_vectors, in_bits = int(rows), int(cols), int(n_vectors), int(in_bits)
    adc_per_output, cells_per_weight = int(adc_per_output), int(cells_per_weight)
    reads = n_vectors * in_bits
    conv_per_output = adc_per_output * (in_bits if adc_per_bit_plane else 1)
    return OpCounts(
        cell_reads=float(rows * cols * cells_per_weight * reads),
        row_activations=float(rows * n_vectors),
        column_reads=float(cols * reads),
        reads=float(reads),
        adc_conversions=float(cols * n_vectors * conv_per_output),
        dac_conversions=float(rows * n_vectors),
        mux_switches=float(cols * reads),
        digital_adds=float(cols * n_vectors * (conv_per_output - 1)),
        activations=0.0,
        macs_equivalent=float(rows * cols * n_vectors),
    )


# --------------------------------------------------------------------------- results


_ENERGY_FIELDS: tuple[str, ...] = (
    "cell_J",
    "driver_J",
    "vcmac_J",
    "decoder_J",
    "dac_J",
    "adc_J",
    "mux_J",
    "amplifier_J",
    "reading_J",
    "activation_J",
    "digital_add_J",
)


@dataclass(frozen=True)
class EnergyBreakdown:
    """Energy per component, J (see the module docstring for the charging rule).

    Breakdowns add with ``+`` (and ``sum()``), e.g. to total several layers.
    """

    cell_J: float = 0.0
    driver_J: float = 0.0
    vcmac_J: float = 0.0
    decoder_J: float = 0.0
    dac_J: float = 0.0
    adc_J: float = 0.0
    mux_J: float = 0.0
    amplifier_J: float = 0.0
    reading_J: float = 0.0
    activation_J: float = 0.0
    digital_add_J: float = 0.0

    def __post_init__(self) -> None:
        for name in _ENERGY_FIELDS:
            object.__setattr__(
                self, name, _check_nonneg("EnergyBreakdown", name, getattr(self, name))
            )

    @property
    def total_J(self) -> float:
        """Sum of all components, J."""
        return math.fsum(getattr(self, n) for n in _ENERGY_FIELDS)

    def components(self) -> dict[str, float]:
        """``{component: energy_J}`` with the ``_J`` suffix dropped from the names."""
        return {n.removesuffix("_J"): getattr(self, n) for n in _ENERGY_FIELDS}

    def __iter__(self) -> Iterator[tuple[str, float]]:
        return iter(self.components().items())

    def __add__(self, other: object) -> EnergyBreakdown:
        if not isinstance(other, EnergyBreakdown):
            return NotImplemented
        return EnergyBreakdown(**{n: getattr(self, n) + getattr(other, n) for n in _ENERGY_FIELDS})

    def __radd__(self, other: object) -> EnergyBreakdown:
        if isinstance(other, int | float) and not isinstance(other, bool) and other == 0:
            return self
        return NotImplemented

    def table(self) -> str:
        """Plain-text table: component, energy (J), share of the total (%)."""
        total = self.total_J
        comps = self.components()
        w = max(len("component"), len("total"), *(len(k) for k in comps))
        head = f"{'component':<{w}}  {'energy [J]':>12}  {'share [%]':>9}"
        lines = [head, "-" * len(head)]
        for k, v in comps.items():
            share = 100.0 * v / total if total > 0 else 0.0
            lines.append(f"{k:<{w}}  {v:>12.4e}  {share:>9.2f}")
        lines.append("-" * len(head))
        lines.append(f"{'total':<{w}}  {total:>12.4e}  {100.0 if total > 0 else 0.0:>9.2f}")
        return "\n".join(lines)


@dataclass(frozen=True)
class Gain:
    """Analogue vs digital comparison; ratios > 1 favour the analogue side.

    Attributes:
        energy_ratio: ``baseline_energy_J / analog_energy_J`` (inf if the analogue
            energy is zero).
        speed_ratio: ``baseline_latency_s / analog_latency_s`` (inf if the
            analogue latency is zero).
        analog_energy_J: analogue energy, J.
        baseline_energy_J: digital baseline energy, J.
        analog_latency_s: analogue latency, s.
        baseline_latency_s: digital baseline latency, s.
    """

    energy_ratio: float
    speed_ratio: float
    analog_energy_J: float
    baseline_energy_J: float
    analog_latency_s: float
    baseline_latency_s: float


@dataclass(frozen=True)
class PaperLayerCost:
    """One layer costed with the paper-code formulas (:meth:`CostModel.layer_energy_paper`).

    Attributes:
        hardware: analogue energy per component, J. The paper's single ``E_vcmac``
            term is split into ``vcmac_J`` (``in*res*E_vcmac/2*out*bits``),
            ``amplifier_J`` (``E_amp*out*bits``) and ``reading_J``
            (``E_read*out*bits``); ``activation_J`` and ``digital_add_J`` are 0.
        gpu_J: digital baseline energy ``in*out*res*E_mac``, J.
        latency_s: analogue latency ``res * t_read * bits``, s.
    """

    hardware: EnergyBreakdown
    gpu_J: float
    latency_s: float

    @property
    def vcmac_paper_J(self) -> float:
        """The paper's ``E_vcmac`` term as its code groups it (vcmac+amplifier+reading), J."""
        h = self.hardware
        return h.vcmac_J + h.amplifier_J + h.reading_J

    @property
    def energy_ratio(self) -> float:
        """``gpu_J / hardware.total_J``."""
        total = self.hardware.total_J
        return self.gpu_J / total if total > 0 else math.inf


# ---------------------------------------------------------------------------- model


@dataclass(frozen=True)
class CostModel:
    """Energy/latency of analogue work and of the same work on a digital baseline.

    Args:
        ops: per-operation energies.
        baseline: digital processor to compare against.
        timing: array timings; ``None`` selects the ``RRAM_40NM_NF_TIMING`` preset
            (``rramcim.cost.presets``).
    """

    ops: OpEnergies
    baseline: DigitalBaseline
    timing: ReadTiming | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.ops, OpEnergies):
            raise ValueError(f"CostModel.ops must be an OpEnergies, got {self.ops!r}")
        if not isinstance(self.baseline, DigitalBaseline):
            raise ValueError(f"CostModel.baseline must be a DigitalBaseline, got {self.baseline!r}")
        if self.timing is None:
            from rramcim.cost.presets import RRAM_40NM_NF_TIMING

            object.__setattr__(self, "timing", RRAM_40NM_NF_TIMING)
        elif not isinstance(self.timing, ReadTiming):
            raise ValueError(f"CostModel.timing must be a ReadTiming, got {self.timing!r}")

    @property
    def _timing(self) -> ReadTiming:
        assert self.timing is not None  # set in __post_init__
        return self.timing

    # ------------------------------------------------------------------ analogue

    def energy(self, counts: OpCounts) -> EnergyBreakdown:
        """Analogue energy of ``counts``, per component (J).

        Each count is multiplied by one constant (module docstring table). Nothing
        else is charged: no static/leakage power, no weight programming, no data
        movement outside the array periphery [I].
        """
        o = self.ops
        return EnergyBreakdown(
            cell_J=counts.cell_reads * o.cell_read_J,
            driver_J=counts.cell_reads * o.driver_J,
            vcmac_J=counts.cell_reads * o.vcmac_J * o.vcmac_fraction,
            decoder_J=counts.row_activations * o.decoder_J,
            dac_J=counts.dac_conversions * o.dac_J,
            adc_J=counts.adc_conversions * o.adc_J,
            mux_J=counts.mux_switches * o.mux_J,
            amplifier_J=counts.column_reads * o.amplifier_J,
            reading_J=counts.column_reads * o.reading_J,
            activation_J=counts.activations * o.activation_J,
            digital_add_J=counts.digital_adds * o.digital_add_J,
        )

    def latency(
        self,
        n_reads: float,
        *,
        serial_adc_conversions: float = 0.0,
        serial_activations: float = 0.0,
    ) -> float:
        """Analogue latency, s.

        ``n_reads * t_read_s + serial_adc_conversions * t_adc_conv_s +
        serial_activations * t_activation_s``. The paper's code uses only the first
        term (``res * 10 ns * bits``): ADCs and activation circuits are assumed to
        work in parallel per column / pipelined behind the reads [C]. Pass the
        conversions or activations that lie on the critical path to add them.

        Args:
            n_reads: array reads in sequence (e.g. ``OpCounts.reads``).
            serial_adc_conversions: ADC conversions on the critical path.
            serial_activations: activation evaluations on the critical path.
        """
        n = _check_nonneg("latency", "n_reads", n_reads)
        a = _check_nonneg("latency", "serial_adc_conversions", serial_adc_conversions)
        f = _check_nonneg("latency", "serial_activations", serial_activations)
        t = self._timing
        return n * t.t_read_s + a * t.t_adc_conv_s + f * t.t_activation_s

    def latency_counts(self, counts: OpCounts) -> float:
        """Analogue latency of ``counts`` under the paper's convention, ``reads * t_read_s``."""
        return self.latency(counts.reads)

    # ------------------------------------------------------------------- digital

    def baseline_energy(self, macs: float) -> float:
        """Energy of ``macs`` MACs on the digital baseline, J."""
        return _check_nonneg("baseline_energy", "macs", macs) * self.baseline.energy_per_mac_J

    def baseline_latency(self, macs: float) -> float:
        """Time of ``macs`` MACs on the digital baseline at peak throughput, s."""
        return _check_nonneg("baseline_latency", "macs", macs) * self.baseline.time_per_mac_s

    def gain(self, counts: OpCounts, *, latency_s: float | None = None) -> Gain:
        """Compare ``counts`` on the analogue array with ``counts.macs_equivalent`` MACs.

        Args:
            counts: analogue operation counts; ``macs_equivalent`` must be > 0.
            latency_s: analogue latency to use instead of :meth:`latency_counts`.

        Returns:
            Energy and speed ratios (baseline / analogue) and the four raw numbers.

        Raises:
            ValueError: if ``counts.macs_equivalent`` is 0 (nothing to compare).
        """
        if counts.macs_equivalent <= 0:
            raise ValueError("gain: counts.macs_equivalent must be > 0")
        e_a = self.energy(counts).total_J
        t_a = (
            self.latency_counts(counts)
            if latency_s is None
            else _check_nonneg("gain", "latency_s", latency_s)
        )
        e_b = self.baseline_energy(counts.macs_equivalent)
        t_b = self.baseline_latency(counts.macs_equivalent)
        return Gain(
            energy_ratio=e_b / e_a if e_a > 0 else math.inf,
            speed_ratio=t_b / t_a if t_a > 0 else math.inf,
            analog_energy_J=e_a,
            baseline_energy_J=e_b,
            analog_latency_s=t_a,
            baseline_latency_s=t_b,
        )

    # --------------------------------------------------------------- paper check

    def layer_energy_paper(self, in_f: int, out_f: int, res: int, bits: int) -> PaperLayerCost:
        """Cost one dense layer exactly as the paper's code does (run_nerf_hpo.py).

        With ``res`` input vectors (samples) and ``bits`` input bit planes::

            E_DAC   = in*res*E_dac
            E_VMM   = e_cell*in*out*res*bits
            E_ADC   = out*res*E_adc*2
            E_MUX   = E_mux*out*res*bits
            E_dec   = E_decoder*in*res
            E_drv   = E_driver*in*out*res*bits
            E_vcmac = (in*res*E_vcmac/2 + E_amp + E_read)*out*bits
            E_GPU   = in*out*res*(P/throughput)
            latency = res*t_read*bits

        The factors 2 (ADC) and 1/2 (vcmac) are the code's literals, not
        ``mvm_counts``'s ``adc_per_output`` or ``ops.vcmac_fraction``. Note that the
        amplifier and reading terms do not scale with ``res``. ``E_GPU`` uses the
        baseline's :attr:`DigitalBaseline.energy_per_mac_J` (``P/throughput`` when
        ``flops_per_mac == 1``, as in the paper).

        Args:
            in_f: input features, >= 1.
            out_f: output features, >= 1.
            res: input vectors (samples), >= 0.
            bits: input bit planes, >= 1.
        """
        for name, value, lo in (("in_f", in_f, 1), ("out_f", out_f, 1), ("res", res, 0)):
            if not _is_int(value) or value < lo:
                raise ValueError(
                    f"layer_energy_paper: {name} must be an integer >= {lo}, got {value!r}"
                )
        if not _is_int(bits) or bits < 1:
            raise ValueError(f"layer_energy_paper: bits must be an integer >= 1, got {bits!r}")
        o = self.ops
        hw = EnergyBreakdown(
            cell_J=o.cell_read_J * in_f * out_f * res * bits,
            driver_J=o.driver_J * in_f * out_f * res * bits,
            vcmac_J=in_f * res * o.vcmac_J / 2 * out_f * bits,
            decoder_J=o.decoder_J * in_f * res,
            dac_J=in_f * res * o.dac_J,
            adc_J=out_f * res * o.adc_J * 2,
            mux_J=o.mux_J * out_f * res * bits,
            amplifier_J=o.amplifier_J * out_f * bits,
            reading_J=o.reading_J * out_f * bits,
        )
        gpu = in_f * out_f * res * self.baseline.energy_per_mac_J
        lat = res * self._timing.t_read_s * bits
        return PaperLayerCost(hardware=hw, gpu_J=gpu, latency_s=lat)

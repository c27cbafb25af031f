"""Cost model of analogue RRAM compute-in-memory: energy, latency, digital baseline.

See :mod:`rramcim.cost.model` for the charging rule and :mod:`rramcim.cost.presets`
for the cited constants; :mod:`rramcim.cost.ode` projects the closed-loop analogue solver
against a digital solver.

Example:
    >>> from rramcim.cost import default_cost_model, mvm_counts
    >>> model = default_cost_model()
    >>> counts = mvm_counts(rows=256, cols=256, n_vectors=1000, in_bits=8)
    >>> print(model.energy(counts).table())  # doctest: +SKIP
    >>> model.gain(counts).energy_ratio  # doctest: +SKIP
"""

from __future__ import annotations

from rramcim.cost.model import (
    CostModel,
    DigitalBaseline,
    EnergyBreakdown,
    Gain,
    OpCounts,
    OpEnergies,
    PaperLayerCost,
    ReadTiming,
    cell_read_energy_J,
    conversion_energy_J,
    mvm_counts,
)
from rramcim.cost.ode import (
    RRAM_180NM_LOOP,
    AnalogConstants,
    AnalogSolve,
    DigitalSolve,
    MlpSpec,
    OdeProjection,
    diffusion_projection,
    project,
    render_table,
    twin_projection,
)
from rramcim.cost.presets import (
    A100_FP32,
    A100_FP32_FMA,
    PRESETS,
    RRAM_40NM_NF,
    RRAM_40NM_NF_TIMING,
    default_cost_model,
)

__all__ = [
    "A100_FP32",
    "A100_FP32_FMA",
    "PRESETS",
    "RRAM_40NM_NF",
    "RRAM_40NM_NF_TIMING",
    "RRAM_180NM_LOOP",
    "AnalogConstants",
    "AnalogSolve",
    "CostModel",
    "DigitalBaseline",
    "DigitalSolve",
    "EnergyBreakdown",
    "Gain",
    "MlpSpec",
    "OdeProjection",
    "OpCounts",
    "OpEnergies",
    "PaperLayerCost",
    "ReadTiming",
    "cell_read_energy_J",
    "conversion_energy_J",
    "default_cost_model",
    "diffusion_projection",
    "mvm_counts",
    "project",
    "render_table",
    "twin_projection",
]

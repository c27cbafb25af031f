"""Budget, energy, latency and parallelism of a neural field on the RRAM macro (PAPERS.md §3.7).

A neural field is a stack of crossbar matrices (the Gaussian encoder's ``B`` and the MLP's
weight matrices, low-rank factors separately). :func:`project_field` costs every matrix with
the paper code's own formulas (:meth:`rramcim.cost.CostModel.layer_energy_paper`, constants of
:data:`rramcim.cost.presets.RRAM_40NM_NF` against :data:`rramcim.cost.presets.A100_FP32`) for
``res`` evaluated coordinates and ``bits`` input bit planes, and reports the cells used
against the 256 K-cell macro.

Assumptions (all [I] of this project unless marked):

* cells: every MLP weight takes ``cells_per_weight`` binary cells (HAQ, §3.4; the paper's
  budget rule "256K weights / 16 bits", [C] CT/3dHPO.py), every encoder entry one analogue
  cell (``B`` is the formed conductance minus the mean, §3.2) plus one shared reference column
  per encoder input; biases ride on one extra row per matrix (one cell set per output);
* energy: the paper's per-layer formula as its code writes it (the amplifier and reading
  terms do not scale with ``res``, see :class:`rramcim.cost.PaperLayerCost`), summed over the
  matrices; activations, sin/cos and the HAQ combination in digital are not charged (as in
  the paper's code);
* latency: ``res * t_read * bits`` per matrix (the paper's rule), and the matrices of one
  network run one after another (no pipelining across layers): the sum;
* parallelism: the GPU's time for the same MACs at peak throughput divided by that latency.
  How the paper defines its "parallelism" figure is NF. Under this rule one macro is far
  *slower* than the A100 (a read does ``in x out`` MACs per 10 ns bit plane, the GPU 195 000
  MACs per 10 ns), so the published 6.2-38.8x must count something else (several macros in
  parallel, or MACs per cycle rather than per second); the table says so beside the figures.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rramcim.cost.model import CostModel

MACRO_CELLS = 512 * 512
"""Cells of the paper's 40 nm 256 Kb macro (PAPERS.md §3.1)."""

PAPER_FIGURES = (
    ("energy efficiency vs GPU, best", "47.2x", "[T] Nature version"),
    ("energy efficiency vs GPU, range", "23.5-32.3x", "[T] (task split NF)"),
    ("parallelism vs GPU, best", "38.8x", "[T]"),
    ("parallelism vs GPU, range", "6.2-38.8x", "[T] (task split NF)"),
)
"""Published figures (PAPERS.md §3.1, §3.8); none is attributed to a task in what we read."""


@dataclass(frozen=True)
class FieldMatrix:
    """One crossbar matrix of a neural field: ``name``, ``in_f`` rows, ``out_f`` columns;
    ``encoder`` marks the Gaussian encoder's ``B`` (one analogue cell per entry)."""

    name: str
    in_f: int
    out_f: int
    encoder: bool = False

    def __post_init__(self) -> None:
        for f in ("in_f", "out_f"):
            v = getattr(self, f)
            if not (isinstance(v, int) and v >= 1):
                raise ValueError(f"FieldMatrix.{f}: {v!r} must be an integer >= 1 ({self.name})")


@dataclass(frozen=True)
class FieldProjection:
    """Result of :func:`project_field` (energies in J, times in s)."""

    matrices: tuple[FieldMatrix, ...]
    res: int
    bits: int
    cells_per_weight: int
    weights: int
    cells: int
    hardware_J: float
    gpu_J: float
    latency_s: float
    gpu_latency_s: float
    per_matrix: tuple[tuple[str, float, float, float], ...]  # name, hw J, gpu J, latency s

    @property
    def cell_fraction(self) -> float:
        """Cells used / :data:`MACRO_CELLS`."""
        return self.cells / MACRO_CELLS

    @property
    def energy_ratio(self) -> float:
        """GPU energy / analogue energy."""
        return self.gpu_J / self.hardware_J

    @property
    def parallelism(self) -> float:
        """GPU time / analogue latency."""
        return self.gpu_latency_s / self.latency_s

    def table(self) -> str:
        """Plain-text table: every matrix, the totals and the published figures."""
        rows = [f"{'matrix':<14}{'in x out':>12}{'analogue':>12}{'A100':>12}{'latency':>12}"]
        for m, (name, hw, gpu, lat) in zip(self.matrices, self.per_matrix, strict=True):
            rows.append(
                f"{name:<14}{f'{m.in_f} x {m.out_f}':>12}{hw:>12.3e}{gpu:>12.3e}{lat:>12.3e}"
            )
        rows.append(
            f"{'total':<14}{'':>12}{self.hardware_J:>12.3e}{self.gpu_J:>12.3e}{self.latency_s:>12.3e}"
        )
        rows.append(
            f"weights {self.weights}, cells {self.cells} ({100 * self.cell_fraction:.1f} % of "
            f"the 256 K macro at {self.cells_per_weight} cells per weight); {self.res} "
            f"coordinates x {self.bits} bit planes"
        )
        rows.append(
            f"energy gain {self.energy_ratio:.3g}x, speed (GPU time / latency) "
            f"{self.parallelism:.3g}x "
            "(this model) | published: "
            + "; ".join(f"{what} {val} {src}" for what, val, src in PAPER_FIGURES)
        )
        return "\n".join(rows)


def project_field(
    matrices: Sequence[FieldMatrix],
    *,
    res: int,
    bits: int = 8,
    cells_per_weight: int = 12,
    model: CostModel | None = None,
) -> FieldProjection:
    """Cost a neural field's matrices for ``res`` coordinates (see the module docstring).

    Args:
        matrices: the crossbar matrices in evaluation order.
        res: coordinates evaluated (pixels, or rays x samples), >= 1.
        bits: input bit planes per read, [1, 16].
        cells_per_weight: HAQ cells per MLP weight, [1, 32].
        model: cost model (default: the paper's setting, ``default_cost_model()``).
    """
    from rramcim.cost.presets import default_cost_model

    if not matrices:
        raise ValueError("project_field: no matrices")
    for name, v, lo, hi in (
        ("res", res, 1, 1 << 40),
        ("bits", bits, 1, 16),
        ("cells_per_weight", cells_per_weight, 1, 32),
    ):
        if not (isinstance(v, int) and lo <= v <= hi):
            raise ValueError(f"project_field: {name} {v!r} is outside [{lo}, {hi}]")
    cm = model or default_cost_model()
    per, hw, gpu, lat, macs, weights, cells = [], 0.0, 0.0, 0.0, 0, 0, 0
    for m in matrices:
        c = cm.layer_energy_paper(m.in_f, m.out_f, res, bits)
        per.append((m.name, c.hardware.total_J, c.gpu_J, c.latency_s))
        hw, gpu, lat = hw + c.hardware.total_J, gpu + c.gpu_J, lat + c.latency_s
        macs += m.in_f * m.out_f * res
        if m.encoder:
            cells += m.in_f * m.out_f + m.in_f
        else:
            weights += m.in_f * m.out_f
            cells += (m.in_f + 1) * m.out_f * cells_per_weight
    return FieldProjection(
        matrices=tuple(matrices),
        res=res,
        bits=bits,
        cells_per_weight=cells_per_weight,
        weights=weights,
        cells=cells,
        hardware_J=hw,
        gpu_J=gpu,
        latency_s=lat,
        gpu_latency_s=cm.baseline_latency(macs),
        per_matrix=tuple(per),
    )

"""Unit tests of :mod:`rramcim.cost.nfield`."""

from __future__ import annotations

import pytest

from rramcim.cost import default_cost_model
from rramcim.cost.nfield import MACRO_CELLS, FieldMatrix, project_field

CT = [
    FieldMatrix("B", 3, 64, encoder=True),
    FieldMatrix("l1", 131, 100),
    FieldMatrix("l2a", 100, 10),
    FieldMatrix("l2b", 10, 100),
    FieldMatrix("out", 100, 1),
]


def test_sums_match_the_per_layer_formula() -> None:
    cm = default_cost_model()
    p = project_field(CT, res=1000, bits=8, cells_per_weight=12)
    parts = [cm.layer_energy_paper(m.in_f, m.out_f, 1000, 8) for m in CT]
    assert p.hardware_J == pytest.approx(sum(c.hardware.total_J for c in parts), rel=1e-12)
    assert p.gpu_J == pytest.approx(sum(c.gpu_J for c in parts), rel=1e-12)
    assert p.latency_s == pytest.approx(sum(c.latency_s for c in parts), rel=1e-12)
    macs = sum(m.in_f * m.out_f for m in CT) * 1000
    assert p.gpu_latency_s == pytest.approx(cm.baseline_latency(macs), rel=1e-12)
    assert p.energy_ratio == pytest.approx(p.gpu_J / p.hardware_J)


def test_cells_and_weights() -> None:
    p = project_field(CT, res=1, cells_per_weight=12)
    assert p.weights == 131 * 100 + 100 * 10 + 10 * 100 + 100  # 15 200, PAPERS.md §3.3
    enc = 3 * 64 + 3
    mlp = (132 * 100 + 101 * 10 + 11 * 100 + 101 * 1) * 12
    assert p.cells == enc + mlp
    assert p.cell_fraction == pytest.approx(p.cells / MACRO_CELLS)
    assert "published" in p.table() and "47.2x" in p.table()


def test_energy_gain_grows_with_res_then_saturates() -> None:
    """The amplifier/reading terms do not scale with res, so the gain rises with res."""
    g = [project_field(CT, res=r).energy_ratio for r in (1, 100, 10_000, 1_000_000)]
    assert g == sorted(g)
    assert g[-1] / g[-2] < 1.01


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"res": 0}, "res"),
        ({"res": 1, "bits": 0}, "bits"),
        ({"res": 1, "cells_per_weight": 40}, "cells_per_weight"),
    ],
)
def test_bad_arguments(kw: dict, field: str) -> None:
    with pytest.raises(ValueError, match=field):
        project_field(CT, **kw)


def test_bad_matrix() -> None:
    with pytest.raises(ValueError, match="FieldMatrix.in_f"):
        FieldMatrix("x", 0, 3)
    with pytest.raises(ValueError, match="no matrices"):
        project_field([], res=1)

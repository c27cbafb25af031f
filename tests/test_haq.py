"""Unit tests of rramcim.analog.haq (HAQ multi-cell mapping, float reference); no simulator.

- :func:`haq_map` against :func:`_paper_loop`, a direct scalar transcription of PAPERS.md §3.4
  (loop over weights and cells, Python floats), with the same keyed noise: identical
  decisions, effective weights within 1e-12 (both final-sum variants).
- Noise is keyed per (weight index, cell): a sub-tensor maps to the same cells.
- Redundancy: with noise std 0.15, HAQ with 12 cells has a far smaller error than PTQ with 12
  cells (measured on 20 000 N(0, 1) weights, key 0: HAQ 1.27 %, PTQ 45.6 % RMS relative
  error; asserted: HAQ < 3 % and PTQ > 10 x HAQ); the error table is printed.
- Zero weights stay exactly zero; an all-zero tensor maps to zeros.
- Noiseless HAQ converges like a radix-1.5 code; PTQ without noise is within half a level.
- Bad configurations raise ValueError naming the field and the value.
"""

from __future__ import annotations

import math

import pytest
import torch

from rramcim import rng
from rramcim.analog.haq import (
    FinalSum,
    HaqConfig,
    cell_noise,
    error_vs_cells,
    format_error_table,
    haq_map,
    haq_map_cfg,
    ptq_map,
    rms_rel_error,
)


@pytest.fixture
def weights() -> torch.Tensor:
    """Gaussian weights with a few exact zeros and both extremes."""
    w = rng.normal(rng.make_key(7, "test-weights"), torch.arange(3000)).reshape(30, 100)
    w[0, :5] = 0.0
    w[1, 0] = w.abs().max() * 1.0
    w[1, 1] = -w.abs().max()
    return w


def _paper_loop(
    w: list[float], n: int, ratio: float, std: float, key: int, paper_final: bool
) -> tuple[list[list[int]], list[float]]:
    """PAPERS.md §3.4 transcribed literally, one weight and one cell at a time."""
    m = max(abs(x) for x in w)
    bits_all, out = [], []
    for i, wi in enumerate(w):
        wt = wi / m
        r = [0.0] * n
        bits = [0] * n
        approx = 0.0
        for x in range(n):
            approx = 0.0
            for k in range(x):
                approx += (r[k] - 0.5) / ratio**k
            if wi == 0:
                continue
            r[x] = 0.0 if approx > wt else 1.0
            if r[x] == 1.0:
                bits[x] = 1
                z = float(rng.normal(rng.make_key(key, "haq", x), torch.tensor([i]))[0])
                r[x] += std * z
        if not paper_final:
            approx = 0.0
            for k in range(n):
                approx += (r[k] - 0.5) / ratio**k
        bits_all.append(bits)
        out.append(0.0 if wi == 0 else approx * m)
    return bits_all, out


@pytest.mark.parametrize("final", [FinalSum.ALL, FinalSum.PAPER])
@pytest.mark.parametrize(("n", "ratio", "std"), [(12, 1.5, 0.15), (8, 1.4, 0.15), (5, 2.0, 0.0)])
def test_matches_paper_loop(
    weights: torch.Tensor, final: FinalSum, n: int, ratio: float, std: float
) -> None:
    w = weights.reshape(-1)[:400]
    res = haq_map(w, n, ratio, std, key=3, final_sum=final)
    bits, wq = _paper_loop(w.tolist(), n, ratio, std, 3, final is FinalSum.PAPER)
    assert res.bits.to(torch.int64).tolist() == bits
    assert torch.allclose(res.w_q, torch.tensor(wq, dtype=torch.float64), rtol=0, atol=1e-12)
    # cells: 0 where unset, 1 + std z where set
    assert torch.all(res.cells[~res.bits] == 0)
    assert res.cells.shape == (400, n) and res.w_q.shape == (400,)


def test_noise_keyed_per_weight_and_cell(weights: torch.Tensor) -> None:
    full = haq_map(weights, 10, key=11)
    flat = weights.reshape(-1)
    # the same weights in another shape: same cells
    again = haq_map(flat, 10, key=11)
    assert torch.equal(full.cells.reshape(-1, 10), again.cells)
    # the noise of cell k of weight i is cell_noise(key, k, i)
    i = torch.arange(flat.numel())
    for k in (0, 4, 9):
        z = cell_noise(11, k, i)
        set_k = again.bits[:, k]
        assert torch.allclose(again.cells[set_k, k], 1.0 + 0.15 * z[set_k], atol=0, rtol=0)
    # another key: other noise
    other = haq_map(flat, 10, key=12)
    assert not torch.equal(other.cells, again.cells)


def test_zero_weights_stay_zero(weights: torch.Tensor) -> None:
    res = haq_map(weights, 12, key=1)
    zero = weights == 0
    assert zero.sum() == 5
    assert torch.all(res.w_q[zero] == 0)
    assert not res.bits[zero].any()
    assert torch.all(res.w_q[~zero] != 0)
    allz = haq_map(torch.zeros(4, 3), 6)
    assert allz.scale == 0.0 and torch.all(allz.w_q == 0) and not allz.bits.any()


def test_redundancy_haq_beats_ptq_with_noise() -> None:
    w = rng.normal(rng.make_key(0, "haq-bench-weights"), torch.arange(20000))
    rows = error_vs_cells(w, range(2, 17, 2), ratio=1.5, noise_std=0.15, key=0)
    print("\nHAQ vs PTQ, noise std 0.15 on set cells, 20000 N(0,1) weights:")
    print(format_error_table(rows))
    by_n = {r.n_cells: r for r in rows}
    r12 = by_n[12]
    assert r12.haq < 0.03, r12
    assert r12.ptq > 10 * r12.haq, r12
    # HAQ keeps improving with cells; PTQ is stuck at the noise of its top cells
    haq = [r.haq for r in rows]
    assert all(b < a for a, b in zip(haq, haq[1:], strict=False))
    assert by_n[16].ptq > 0.8 * by_n[8].ptq


def test_noiseless_convergence() -> None:
    w = torch.linspace(-1.0, 1.0, 2001, dtype=torch.float64)
    for n in (6, 10, 14):
        res = haq_map(w, n, 1.5, 0.0)
        # residual after n ideal cells: at most half of the last cell's significance
        # (1.5**-(n-1) * 0.5) times the redundancy factor 1/(1 - 2/3) ... bounded by 1.5**-(n-1)
        assert float((res.w_q - w).abs().max()) <= 1.5 ** -(n - 1) + 1e-12
        p = ptq_map(w, n, 0.0)
        assert float((p.w_q - w).abs().max()) <= 1.0 / ((1 << n) - 1) + 1e-12


def test_paper_final_excludes_last_cell(weights: torch.Tensor) -> None:
    a = haq_map(weights, 9, key=5)
    b = haq_map(weights, 9, key=5, final_sum=FinalSum.PAPER)
    assert torch.equal(a.bits, b.bits)
    last = (a.cells[..., -1] - 0.5) / 1.5**8 * a.scale
    nz = weights != 0
    assert torch.allclose(a.w_q[nz] - b.w_q[nz], last[nz], atol=1e-12, rtol=0)


def test_rms_rel_error() -> None:
    w = torch.tensor([1.0, -1.0, 2.0, -2.0], dtype=torch.float64)
    assert rms_rel_error(w, w.clone()) == 0.0
    assert math.isclose(rms_rel_error(w, w * 1.1), 0.1, rel_tol=1e-12)
    assert rms_rel_error(torch.zeros(3), torch.zeros(3)) == 0.0


@pytest.mark.parametrize(
    ("kwargs", "field", "value"),
    [
        ({"n_cells": 0}, "n_cells", "0"),
        ({"n_cells": 33}, "n_cells", "33"),
        ({"n_cells": 2.5}, "n_cells", "2.5"),
        ({"ratio": 1.0}, "ratio", "1.0"),
        ({"ratio": 2.5}, "ratio", "2.5"),
        ({"ratio": float("nan")}, "ratio", "nan"),
        ({"noise_std": -0.1}, "noise_std", "-0.1"),
        ({"noise_std": 1.5}, "noise_std", "1.5"),
        ({"final_sum": "all"}, "final_sum", "'all'"),
    ],
)
def test_bad_config(kwargs: dict, field: str, value: str) -> None:
    with pytest.raises(ValueError, match=rf"HaqConfig\.{field} = {value}"):
        HaqConfig(**kwargs)


def test_bad_weights_and_args() -> None:
    with pytest.raises(ValueError, match="non-finite"):
        haq_map(torch.tensor([1.0, float("inf")]), 4)
    with pytest.raises(ValueError, match="n_cells"):
        haq_map(torch.ones(3), 40)
    with pytest.raises(ValueError, match="noise_std"):
        ptq_map(torch.ones(3), 4, noise_std=2.0)
    cfg = HaqConfig(n_cells=4, noise_std=0.0)
    assert torch.equal(haq_map_cfg(torch.ones(2), cfg).w_q, haq_map(torch.ones(2), 4, 1.5, 0).w_q)

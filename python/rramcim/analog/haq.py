"""Hardware-aware quantization (HAQ): redundant-radix multi-cell weight mapping (float reference).

HAQ (PAPERS.md §3.4, paper 3's ``CT/backend/haq.py``) maps every weight onto ``n`` binary
RRAM cells by successive approximation in a *redundant* radix (``ratio`` ~ 1.5 < 2). Each
decision uses the cells already programmed *as they actually came out* (with programming
noise), so later cells correct the errors of earlier ones without iterative write-verify::

    w~ = W / max|W|                                   normalise to [-1, 1]
    for x in 0 .. n-1:
        approx = sum_{k<x} (r_k - 0.5) / ratio**k     r_k: the programmed value of cell k
        set_x  = not (approx > w~)                    r_x = 0 (unset) or 1 + N(0, std) (set)
    W_q = max|W| * sum_{k<n} (r_k - 0.5) / ratio**k   (FinalSum.ALL, the default)

Each cell is a signed digit ``r_k - 0.5`` (+-0.5 when ideal) of significance ``ratio**-k``.
Weights that are exactly 0 program no cell and stay exactly 0.

Final sum. The paper's code returns the ``approx`` of its last loop iteration, which sums the
cells ``k < n-1`` only: the last cell is programmed but not counted. That looks like an
off-by-one; :attr:`FinalSum.ALL` (default) counts all ``n`` cells, :attr:`FinalSum.PAPER`
reproduces the paper's value (the cell decisions are the same in both).

Baseline (:func:`ptq_map`): uniform post-training quantisation with the same ``n`` cells,
``q = round((w~ + 1) / 2 * (2**n - 1))`` written in binary (cell ``k`` weighs ``2**k``), with
the same programming-noise model on set cells (``noise_std = 0`` gives plain PTQ).

Randomness. The programming noise of cell ``k`` of the weight with row-major flat index ``i``
is ``z = rng.normal(make_key(key, "haq", k), i)`` (:func:`cell_noise`; ``"ptq"`` for the
baseline): a pure function of (key, purpose, weight index, cell index), independent of the
batch shape, of how the weights are split, and of ``n_cells``.

Error metric (:func:`rms_rel_error`): ``rms(W_q - W) / rms(W)`` (dimensionless).

Fixed point (implemented by ``rtl/cim_haq_quant.sv``, bit-exact model
:mod:`rramcim.golden.haq_quant`). The RTL works on a target code ``t`` (``TGT_W``-bit signed,
``w~ = t / 2**(TGT_W-1)``) and on verify codes ``v`` of the cells (unsigned ``VERIFY_BITS``);
two run-time codes give the verify-ADC reading of an unset cell (``code_reset``) and of a
nominal set cell (``code_unit``), ``D = code_unit - code_reset``, so a cell's programmed value
is ``r = (v - code_reset) / D`` and its digit ``r - 0.5 = e / (2 D)`` with the integer
``e = 2 (v - code_reset) - D``. The radix weights are integers ``c_k ~ 2**RADIX_F / ratio**k``
(``ratio = RATIO_Q8 / 256``; recurrence with round-half-up, :func:`rramcim.golden.haq_quant.
radix_table`). The accumulator ``acc = sum_k e_k c_k`` holds ``approx * 2 D 2**RADIX_F``
exactly, and the decision ``approx > w~`` becomes the exact integer compare
``acc > T`` with ``T = (t * D) << (RADIX_F - TGT_W + 2)``: no rounding anywhere except in
the constants ``c_k``.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import numpy.typing as npt
import torch

from rramcim import rng

#: Legal ranges (inclusive) of the float model's configuration.
N_CELLS_RANGE = (1, 32)
RATIO_RANGE = (1.0, 2.0)  # lower end open: ratio must exceed 1
NOISE_STD_RANGE = (0.0, 1.0)


class FinalSum(enum.Enum):
    """Which cells the effective weight sums."""

    ALL = "all"  #: all n cells (default; the correct sum)
    PAPER = "paper"  #: cells 0 .. n-2, as the paper's code returns it (last cell left out)


@dataclass(frozen=True)
class HaqConfig:
    """HAQ mapping parameters (PAPERS.md §3.4; paper 3 uses n = 12, ratio 1.5, std 0.15).

    Attributes:
        n_cells: binary cells per weight, 1 .. 32 (the RTL supports 2 .. 16).
        ratio: radix of the cell significances ``ratio**-k``, dimensionless, in (1, 2];
            below 2 the representation is redundant (later cells can correct earlier ones),
            2 is plain binary signed-digit.
        noise_std: programming noise of a set cell, standard deviation as a fraction of the
            nominal set value (a set cell is ``1 + N(0, noise_std)``), 0 .. 1.
        final_sum: :class:`FinalSum` (``ALL`` default, ``PAPER`` reproduces the paper's code).
    """

    n_cells: int = 12
    ratio: float = 1.5
    noise_std: float = 0.15
    final_sum: FinalSum = FinalSum.ALL

    def __post_init__(self) -> None:
        n = self.n_cells
        lo, hi = N_CELLS_RANGE
        if isinstance(n, bool) or not isinstance(n, int | np.integer) or not lo <= n <= hi:
            raise ValueError(f"HaqConfig.n_cells = {n!r} is not an integer in [{lo}, {hi}]")
        r = self.ratio
        if not isinstance(r, int | float) or not math.isfinite(r) or not 1.0 < r <= 2.0:
            raise ValueError(f"HaqConfig.ratio = {r!r} is outside (1, 2]")
        s = self.noise_std
        lo_s, hi_s = NOISE_STD_RANGE
        if not isinstance(s, int | float) or not math.isfinite(s) or not lo_s <= s <= hi_s:
            raise ValueError(f"HaqConfig.noise_std = {s!r} is outside [{lo_s}, {hi_s}]")
        if not isinstance(self.final_sum, FinalSum):
            raise ValueError(f"HaqConfig.final_sum = {self.final_sum!r} is not a FinalSum")


class HaqMapping(NamedTuple):
    """Result of :func:`haq_map` / :func:`ptq_map`.

    Attributes:
        cells: programmed cell values, float64 ``[*weights.shape, n_cells]``: 0 for an unset
            cell, ``1 + noise`` for a set one (nominal set value 1).
        bits: which cells were set, bool, same shape as ``cells``.
        w_q: effective quantized weights, float64, shape of the weights, in weight units.
        scale: ``max|W|`` (0 for an all-zero tensor).
    """

    cells: torch.Tensor
    bits: torch.Tensor
    w_q: torch.Tensor
    scale: float


def _as_weights(weights: npt.ArrayLike | torch.Tensor) -> torch.Tensor:
    w = torch.as_tensor(weights).detach().to(torch.float64)
    if not torch.isfinite(w).all():
        bad = w[~torch.isfinite(w)].reshape(-1)[0].item()
        raise ValueError(f"weights contain a non-finite value ({bad!r})")
    return w


def _normalise(w: torch.Tensor) -> tuple[torch.Tensor, float]:
    flat = w.reshape(-1)
    scale = float(flat.abs().max()) if flat.numel() else 0.0
    wt = flat / scale if scale > 0 else torch.zeros_like(flat)
    return wt, scale


def cell_noise(key: int, cell: int, index: torch.Tensor, purpose: str = "haq") -> torch.Tensor:
    """Standard-normal programming noise of cell ``cell`` of the weights ``index``.

    Args:
        key: the mapping's seed (any int).
        cell: cell number k, 0 .. n_cells-1.
        index: int64 tensor of row-major flat weight indices.
        purpose: ``"haq"`` or ``"ptq"`` (keys the two mappings apart).

    Returns:
        float64 tensor of the shape of ``index``.
    """
    return rng.normal(rng.make_key(int(key), purpose, int(cell)), index.to(torch.int64))


def haq_map(
    weights: npt.ArrayLike | torch.Tensor,
    n_cells: int = 12,
    ratio: float = 1.5,
    noise_std: float = 0.15,
    *,
    key: int = 0,
    final_sum: FinalSum = FinalSum.ALL,
) -> HaqMapping:
    """Map weights onto ``n_cells`` binary cells by HAQ (see the module docstring).

    Args:
        weights: any shape, finite, weight units.
        n_cells, ratio, noise_std, final_sum: as in :class:`HaqConfig` (validated there).
        key: seed of the programming noise.

    Returns:
        :class:`HaqMapping`.

    Raises:
        ValueError: a configuration field out of range, or a non-finite weight.
    """
    cfg = HaqConfig(n_cells=n_cells, ratio=ratio, noise_std=noise_std, final_sum=final_sum)
    return haq_map_cfg(weights, cfg, key=key)


def haq_map_cfg(
    weights: npt.ArrayLike | torch.Tensor, cfg: HaqConfig, *, key: int = 0
) -> HaqMapping:
    """:func:`haq_map` with a :class:`HaqConfig`."""
    w = _as_weights(weights)
    wt, scale = _normalise(w)
    n = cfg.n_cells
    idx = torch.arange(wt.numel(), dtype=torch.int64)
    zero = wt == 0
    approx = torch.zeros_like(wt)
    cells = torch.zeros(wt.numel(), n, dtype=torch.float64)
    bits = torch.zeros(wt.numel(), n, dtype=torch.bool)
    final = torch.zeros_like(wt)
    for x in range(n):
        if x == n - 1:
            final = approx.clone()  # the paper's value: cells 0 .. n-2
        bit = ~(approx > wt) & ~zero
        r = torch.zeros_like(wt)
        if bit.any():
            z = cell_noise(key, x, idx[bit]) if cfg.noise_std > 0 else 0.0
            r[bit] = 1.0 + cfg.noise_std * z
        cells[:, x] = r
        bits[:, x] = bit
        approx = approx + (r - 0.5) / cfg.ratio**x
    if cfg.final_sum is FinalSum.ALL:
        final = approx
    w_q = torch.where(zero, torch.zeros_like(final), final) * scale
    shape = tuple(w.shape)
    return HaqMapping(cells.reshape(*shape, n), bits.reshape(*shape, n), w_q.reshape(shape), scale)


def ptq_map(
    weights: npt.ArrayLike | torch.Tensor,
    n_cells: int,
    noise_std: float = 0.0,
    *,
    key: int = 0,
) -> HaqMapping:
    """Uniform post-training quantisation onto ``n_cells`` binary cells (the baseline).

    ``q = floor((w~ + 1) / 2 * (2**n - 1) + 0.5)``; cell ``k`` holds bit ``k`` of ``q``
    (significance ``2**k``), set cells get ``1 + N(0, noise_std)`` (keyed ``"ptq"``);
    ``W_q = max|W| * (2 * sum_k r_k 2**k / (2**n - 1) - 1)``.

    Args:
        weights: any shape, finite, weight units.
        n_cells: 1 .. 32 cells (bits).
        noise_std: programming noise of a set cell (fraction of nominal), 0 .. 1.
        key: seed of the programming noise.

    Raises:
        ValueError: a configuration field out of range, or a non-finite weight.
    """
    cfg = HaqConfig(n_cells=n_cells, ratio=2.0, noise_std=noise_std)
    w = _as_weights(weights)
    wt, scale = _normalise(w)
    n = cfg.n_cells
    levels = float((1 << n) - 1)
    q = torch.floor((wt + 1.0) / 2.0 * levels + 0.5).to(torch.int64)
    idx = torch.arange(wt.numel(), dtype=torch.int64)
    cells = torch.zeros(wt.numel(), n, dtype=torch.float64)
    bits = torch.zeros(wt.numel(), n, dtype=torch.bool)
    q_eff = torch.zeros_like(wt)
    for k in range(n):
        bit = ((q >> k) & 1).bool()
        r = torch.zeros_like(wt)
        if bit.any():
            z = cell_noise(key, k, idx[bit], "ptq") if cfg.noise_std > 0 else 0.0
            r[bit] = 1.0 + cfg.noise_std * z
        cells[:, k] = r
        bits[:, k] = bit
        q_eff = q_eff + r * float(1 << k)
    w_q = (2.0 * q_eff / levels - 1.0) * scale
    shape = tuple(w.shape)
    return HaqMapping(cells.reshape(*shape, n), bits.reshape(*shape, n), w_q.reshape(shape), scale)


def rms_rel_error(weights: npt.ArrayLike | torch.Tensor, w_q: torch.Tensor) -> float:
    """``rms(w_q - W) / rms(W)``, dimensionless (0 for an all-zero W quantized exactly)."""
    w = _as_weights(weights)
    err = float(torch.sqrt(torch.mean((w_q.to(torch.float64) - w) ** 2)))
    ref = float(torch.sqrt(torch.mean(w**2)))
    if ref == 0.0:
        return 0.0 if err == 0.0 else math.inf
    return err / ref


class ErrorRow(NamedTuple):
    """One row of :func:`error_vs_cells`: RMS relative errors at ``n_cells`` cells/weight."""

    n_cells: int
    haq: float
    ptq: float


def error_vs_cells(
    weights: npt.ArrayLike | torch.Tensor,
    cells: range | list[int] = range(2, 17, 2),
    *,
    ratio: float = 1.5,
    noise_std: float = 0.15,
    key: int = 0,
) -> list[ErrorRow]:
    """Quantization error of HAQ and of PTQ (same noise model) against cells per weight.

    Args:
        weights: the weights to map (any shape).
        cells: the cell counts to evaluate.
        ratio: HAQ radix.
        noise_std: programming noise of set cells, for both mappings.
        key: noise seed (both mappings).

    Returns:
        One :class:`ErrorRow` per cell count (:func:`rms_rel_error` of each mapping).
    """
    rows = []
    for n in cells:
        h = haq_map(weights, n, ratio, noise_std, key=key)
        p = ptq_map(weights, n, noise_std, key=key)
        rows.append(ErrorRow(n, rms_rel_error(weights, h.w_q), rms_rel_error(weights, p.w_q)))
    return rows


def format_error_table(rows: list[ErrorRow]) -> str:
    """Plain-text table of :func:`error_vs_cells` rows (RMS relative error, %)."""
    lines = ["cells/weight   HAQ rms err %   PTQ rms err %   PTQ/HAQ"]
    for r in rows:
        ratio = r.ptq / r.haq if r.haq > 0 else math.inf
        lines.append(
            f"{r.n_cells:>12d}   {100 * r.haq:>13.3f}   {100 * r.ptq:>13.3f}   {ratio:>7.1f}"
        )
    return "\n".join(lines)

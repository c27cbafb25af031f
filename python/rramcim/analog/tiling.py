"""Tiling of matrices larger than one macro over several macros; partial sums add in digital.

A ``K x M`` weight matrix is cut into row tiles of ``cfg.rows`` rows and column blocks of at
most ``cfg.cols`` columns. Blocks are packed into macro columns in order (row tile fastest),
each block occupying a whole number of ADC groups, and a new macro is opened when one is full.
This is the layout ``cim_xbar_ctrl`` expects for one column block: row tile ``t`` in column
groups ``t*G .. t*G+G-1`` of the same macro. All blocks share one ``w_max``, so every partial
sum has the same scale and they add as integers.

Read numbering (keys of the read noise): on macro ``m`` with ``R_m`` reads per vector,
vector ``v``'s reads are ``v * R_m + r``, where ``r`` runs over the macro's blocks in placement
order, then bit planes, then groups.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from rramcim.analog.crossbar import CrossbarConfig, CrossbarMacro, ProgramReport
from rramcim.analog.device import DeviceConfig
from rramcim.fixedpoint import check_range
from rramcim.golden.xbar_ctrl import plane_weights


@dataclass(frozen=True)
class Placement:
    """Where one block of the weight matrix lives.

    Attributes:
        row_tile: index of the row tile (rows ``row_tile*rows ..``).
        col_block: index of the column block.
        k0, k1: weight rows of the block.
        m0, m1: weight columns of the block.
        macro: macro index.
        group0: first ADC group of the block in that macro.
        groups: ADC groups the block occupies.
    """

    row_tile: int
    col_block: int
    k0: int
    k1: int
    m0: int
    m1: int
    macro: int
    group0: int
    groups: int


def plan_tiles(k: int, m: int, cfg: CrossbarConfig) -> list[Placement]:
    """Place a ``k x m`` matrix on macros of geometry ``cfg`` (see module docstring)."""
    if k < 1 or m < 1:
        raise ValueError(f"plan_tiles: matrix shape ({k}, {m}) must be positive")
    out: list[Placement] = []
    macro, group = 0, 0
    n_rt = -(-k // cfg.rows)
    n_cb = -(-m // cfg.cols)
    for cb in range(n_cb):
        m0, m1 = cb * cfg.cols, min(m, (cb + 1) * cfg.cols)
        need = -(-(m1 - m0) // cfg.n_adc)
        for rt in range(n_rt):
            if group + need > cfg.n_groups:
                macro, group = macro + 1, 0
            out.append(
                Placement(
                    rt, cb, rt * cfg.rows, min(k, (rt + 1) * cfg.rows), m0, m1, macro, group, need
                )
            )
            group += need
    return out


class TiledCrossbar:
    """A weight matrix mapped onto as many macros as it needs.

    Two ways to fill the macros:

    * ``TiledCrossbar(w, cfg, ...)`` programs the weights ``w`` (write-verify to the device's
      levels, differential mapping with one shared ``w_max``);
    * :meth:`formed` electroforms the macros and takes the *random* conductances left by the
      forming as the weights (PRIME, Gaussian encoders); :meth:`prune` then resets pairs.

    Args:
        w: weights ``[K, M]`` (finite).
        cfg: macro geometry and read-out (every macro the same).
        device: technology.
        seed: base seed.
        w_max: weight magnitude mapped to the full conductance window (default max |w|).
        macro_id_base: macro ``i`` gets ``macro_id = macro_id_base + i``.
    """

    def __init__(
        self,
        w: torch.Tensor | None,
        cfg: CrossbarConfig,
        device: DeviceConfig | None = None,
        seed: int = 0,
        w_max: float | None = None,
        macro_id_base: int = 0,
        shape: tuple[int, int] | None = None,
    ) -> None:
        if w is not None:
            w = torch.as_tensor(w, dtype=torch.float64)
            if w.ndim != 2:
                raise ValueError(f"TiledCrossbar: w must be 2-D, got shape {tuple(w.shape)}")
            if not bool(torch.isfinite(w).all()):
                i = int(torch.nonzero(~torch.isfinite(w).flatten())[0])
                raise ValueError(
                    f"TiledCrossbar: w[{i // w.shape[1]}, {i % w.shape[1]}] is not finite"
                )
            shape = (int(w.shape[0]), int(w.shape[1]))
        if shape is None:
            raise ValueError("TiledCrossbar: give the weights or the shape")
        self.k, self.m = shape
        self.cfg = cfg
        self.plan = plan_tiles(self.k, self.m, cfg)
        n_macros = 1 + max(p.macro for p in self.plan)
        self.macros = [
            CrossbarMacro(cfg, device, seed=seed, macro_id=macro_id_base + i)
            for i in range(n_macros)
        ]
        self.reports: list[ProgramReport] = []
        self.w_max = 1.0
        if w is None:
            return
        self.w_max = float(w.abs().max()) if w_max is None else float(w_max)
        if not self.w_max > 0:
            self.w_max = 1.0
        for i, mac in enumerate(self.macros):
            full = torch.zeros(cfg.rows, cfg.cols, dtype=torch.float64)
            for p in self.plan:
                if p.macro == i:
                    c0 = p.group0 * cfg.n_adc
                    full[: p.k1 - p.k0, c0 : c0 + p.m1 - p.m0] = w[p.k0 : p.k1, p.m0 : p.m1]
            self.reports.append(mac.program_weights(full, w_max=self.w_max))
        self.report = self.reports[0]

    @classmethod
    def formed(
        cls,
        k: int,
        m: int,
        cfg: CrossbarConfig,
        device: DeviceConfig | None = None,
        seed: int = 0,
        macro_id_base: int = 0,
    ) -> TiledCrossbar:
        """Macros for a ``k x m`` matrix, electroformed: the weights are random conductances."""
        t = cls(None, cfg, device, seed, macro_id_base=macro_id_base, shape=(k, m))
        for mac in t.macros:
            mac.form_random()
        return t

    def conductance_matrix_S(self) -> torch.Tensor:
        """The matrix ``G+ - G-`` ``[K, M]`` the blocks hold now (S, at the current read time)."""
        out = torch.zeros(self.k, self.m, dtype=torch.float64)
        for p in self.plan:
            gp, gn = self.macros[p.macro].conductances()
            c0 = p.group0 * self.cfg.n_adc
            out[p.k0 : p.k1, p.m0 : p.m1] = (gp - gn)[: p.k1 - p.k0, c0 : c0 + p.m1 - p.m0]
        return out

    def prune(self, keep: torch.Tensor) -> int:
        """RESET both cells of every pair whose ``keep`` entry is False; returns how many.

        Args:
            keep: bool ``[K, M]``, True where the weight stays.
        """
        keep = torch.as_tensor(keep, dtype=torch.bool)
        if tuple(keep.shape) != (self.k, self.m):
            raise ValueError(f"prune: mask shape {tuple(keep.shape)} != ({self.k}, {self.m})")
        n = 0
        for p in self.plan:
            c0 = p.group0 * self.cfg.n_adc
            blk = ~keep[p.k0 : p.k1, p.m0 : p.m1]
            rows, cols = torch.nonzero(blk, as_tuple=True)
            n += self.macros[p.macro].reset_pairs(rows, cols + c0)
        return n

    @property
    def cells_used(self) -> int:
        """Cells holding weights (two per weight)."""
        return 2 * self.k * self.m

    def reads_per_vector(self, in_bits: int) -> list[int]:
        """Reads per input vector on each macro."""
        r = [0] * len(self.macros)
        for p in self.plan:
            r[p.macro] += in_bits * p.groups
        return r

    def mvm(
        self,
        x: np.ndarray,
        in_bits: int,
        signed: bool,
        epoch: int = 0,
        vector_ids: torch.Tensor | None = None,
    ) -> np.ndarray:
        """Hardware-model product of integer inputs ``[V, K]``: int64 ``[V, M]`` in ADC-code units.

        Each output is ``sum over blocks, planes of s_b 2^b code``: the digital accumulation of
        the partial sums of all row tiles. ``vector_ids`` (int64 ``[V]``, default ``0..V-1``)
        number the vectors for the read-noise keys, so a vector gets the same noise in any
        batch.
        """
        x = np.asarray(x, dtype=np.int64)
        if x.ndim != 2 or x.shape[1] != self.k:
            raise ValueError(f"mvm: x must have shape [V, {self.k}], got {x.shape}")
        check_range("x", x.reshape(-1), in_bits, signed)
        V, A = x.shape[0], self.cfg.n_adc
        rpv = self.reads_per_vector(in_bits)
        base = [0] * len(self.macros)
        pw = plane_weights(in_bits, signed).tolist()
        u = torch.from_numpy(x)
        if signed:
            u = u & ((1 << in_bits) - 1)  # two's-complement bit planes
        if in_bits == 1:
            u = u.to(torch.float32)  # the one plane, converted once for every block
        else:
            u = u.to(torch.int16 if in_bits <= 15 else torch.int32)  # less work than int64
        if vector_ids is None:
            vector_ids = torch.arange(V, dtype=torch.int64)
        vk = torch.as_tensor(vector_ids, dtype=torch.int64).reshape(V, 1)
        out = torch.zeros(V, self.m, dtype=torch.int64)
        for p in self.plan:
            mac = self.macros[p.macro]
            ut = u[:, p.k0 : p.k1]  # rows beyond the block are not driven
            groups = torch.arange(p.group0, p.group0 + p.groups, dtype=torch.int64)
            gk = torch.arange(p.groups, dtype=torch.int64).reshape(1, -1)
            dst = out[:, p.m0 : p.m1]  # the digital accumulation of the block's partial sums
            for b in range(in_bits):
                plane = ut if in_bits == 1 else ((ut >> b) & 1).to(torch.float32)
                k = vk * rpv[p.macro] + base[p.macro] + b * p.groups + gk
                codes = mac.read(plane, groups, k, epoch=epoch, check_binary=False).codes
                dst.add_(codes.reshape(V, p.groups * A)[:, : p.m1 - p.m0], alpha=pw[b])
            base[p.macro] += in_bits * p.groups
        return out.numpy()

    def codes_per_weight_unit(self) -> float:
        """Mean ADC codes per (input 1) x (weight 1): divides :meth:`mvm` into weight units."""
        mac = self.macros[0]
        return mac.codes_per_weight(self.report.g_per_w_S)

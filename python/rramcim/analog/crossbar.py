"""Crossbar macro model: differential RRAM pairs, binary row drive, column ADCs, program/verify.

The macro (:class:`CrossbarMacro`) is ``rows`` word lines x ``cols`` differential columns; each
weight is a pair of cells (G+ on the positive bit line, G- on the negative one), so the 40 nm
macro of the papers, 512 x 512 cells, is ``rows=512, cols=256``. ``n_adc`` ADCs are shared
through a column multiplexer: group ``g`` connects columns ``g*n_adc .. g*n_adc+n_adc-1``.

Weight -> conductance mapping (:meth:`CrossbarMacro.program_weights`): with ``w_max`` the
largest |w|, ``G+ = g_min + (g_max - g_min) max(w, 0) / w_max`` and
``G- = g_min + (g_max - g_min) max(-w, 0) / w_max``, each rounded to the nearest of the
device's ``n_levels`` levels and programmed with the device's noise, d2d variation and faults.

One *read* drives a binary row vector ``x`` (V_read on rows with x=1), lets the differential
column currents settle and converts one column group:

    I_c = k_nl V_read sum_r x_r (G+_rc - G-_rc)  +  k_nl V_read sigma_read sqrt(2 n_on) z_{k,a}
    code = clamp(floor(I_c gain_a / LSB + offset_a + 1/2), -2^(b-1), 2^(b-1) - 1)

where ``k_nl = sinh(V/v_nl)/(V/v_nl)`` is the read non-linearity, ``n_on = sum_r x_r``,
``LSB = adc_full_scale_A / 2^(b-1)`` and ``gain_a``/``offset_a`` are the static errors of ADC
channel ``a``. Per-cell read noise of independent, identically distributed cells is added at
the output as one Gaussian with the summed variance: the *same distribution* as drawing a
number per cell per read (a sum of ``2 n_on`` independent N(0, s^2) is N(0, 2 n_on s^2));
``tests/test_crossbar.py`` checks this against the per-cell simulation. Read noise of read
``k`` on channel ``a`` is keyed by ``(seed, "read", macro_id, epoch)`` and counter
``k * row_pad(n_adc) + a`` (see ``docs/read_path.md``).

Exactness: states live on a ``g_step_S`` grid, so ``sum_r x_r (G+ - G-) / g_step`` is an
integer. When every column's sum of |G+ - G-| / g_step is below 2^24 the matrix product is
done in float32, where all partial sums are exactly representable integers, so the result is
exact and independent of the BLAS summation order (batched golden == one-read co-simulation);
otherwise float64 is used (exact below 2^53). Everything after the integer column sum is
computed in float64 with the same element-wise operations for any batch size.

Optional first-order IR drop (``r_wire_ohm > 0``): each bit line has a lumped series
resistance R in front of the sense amplifier, so a line conducting G_line = sum_r x_r G_r
carries ``k_nl V G_line / (1 + R G_line)``; positive and negative lines are treated
separately (two matrix products instead of one).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from enum import Enum

import torch

from rramcim import rng
from rramcim.analog.device import DeviceConfig, DeviceModel, load_device


class PulseOp(Enum):
    """Operations of the program/verify port (values are the RTL encoding of ``prog_op``)."""

    SET = 0
    RESET = 1
    FORM = 2
    VERIFY = 3


def _chk_int(name: str, v: int, lo: int, hi: int) -> None:
    if int(v) != v or not lo <= v <= hi:
        raise ValueError(f"CrossbarConfig.{name} = {v!r} is outside [{lo}, {hi}]")


def _chk_float(name: str, v: float, lo: float, hi: float, lo_open: bool = False) -> None:
    if not math.isfinite(v) or not ((v > lo) if lo_open else (v >= lo)) or v > hi:
        raise ValueError(
            f"CrossbarConfig.{name} = {v!r} is outside {'(' if lo_open else '['}{lo}, {hi}]"
        )


@dataclass(frozen=True)
class CrossbarConfig:
    """Geometry and read-out of one macro. Units in names; ranges checked on construction.

    Attributes:
        rows: word lines, [2, 4096].
        cols: differential (weight) columns, [1, 4096], a multiple of ``n_adc``.
        n_adc: column ADCs shared through the column mux, [1, cols].
        adc_bits: ADC resolution, [2, 16] bits; codes are two's complement.
        adc_full_scale_A: differential current mapped to code 2^(adc_bits-1), (0, 1] A.
        adc_offset_sigma_lsb: sigma of each channel's static offset, [0, 64] LSB.
        adc_gain_sigma: sigma of each channel's static relative gain error, [0, 0.5].
        verify_bits: resolution of the verify read (cell conductance), [2, 16] bits.
        r_wire_ohm: lumped bit-line series resistance for the first-order IR drop,
            [0, 1e6] ohm; 0 disables it.
    """

    rows: int = 512
    cols: int = 256
    n_adc: int = 32
    adc_bits: int = 8
    adc_full_scale_A: float = 20e-6
    adc_offset_sigma_lsb: float = 0.0
    adc_gain_sigma: float = 0.0
    verify_bits: int = 8
    r_wire_ohm: float = 0.0

    def __post_init__(self) -> None:
        _chk_int("rows", self.rows, 2, 4096)
        _chk_int("cols", self.cols, 1, 4096)
        _chk_int("n_adc", self.n_adc, 1, self.cols)
        if self.cols % self.n_adc:
            raise ValueError(
                f"CrossbarConfig.cols = {self.cols} is not a multiple of n_adc = {self.n_adc}"
            )
        _chk_int("adc_bits", self.adc_bits, 2, 16)
        _chk_float("adc_full_scale_A", self.adc_full_scale_A, 0.0, 1.0, lo_open=True)
        _chk_float("adc_offset_sigma_lsb", self.adc_offset_sigma_lsb, 0.0, 64.0)
        _chk_float("adc_gain_sigma", self.adc_gain_sigma, 0.0, 0.5)
        _chk_int("verify_bits", self.verify_bits, 2, 16)
        _chk_float("r_wire_ohm", self.r_wire_ohm, 0.0, 1e6)

    @property
    def n_groups(self) -> int:
        """Column-mux groups."""
        return self.cols // self.n_adc

    @property
    def cells(self) -> int:
        """Cells in the array (two per weight)."""
        return 2 * self.rows * self.cols

    @property
    def adc_lsb_A(self) -> float:
        """Current of one ADC step."""
        return self.adc_full_scale_A / (1 << (self.adc_bits - 1))

    @property
    def code_range(self) -> tuple[int, int]:
        """Lowest and highest ADC code."""
        return -(1 << (self.adc_bits - 1)), (1 << (self.adc_bits - 1)) - 1

    def replace(self, **changes: object) -> CrossbarConfig:
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)


@dataclass
class ReadStats:
    """Counters of what a macro did (for the cost model and reports)."""

    reads: int = 0
    conversions: int = 0
    saturations: int = 0
    row_activations: int = 0
    cell_reads: int = 0
    pulses: int = 0
    verifies: int = 0
    clipped_programming: int = 0

    def reset(self) -> None:
        """Zero every counter."""
        for f in dataclasses.fields(self):
            setattr(self, f.name, 0)

    def op_counts(self, macs_equivalent: int = 0):  # noqa: ANN201 - avoids a cost import at module load
        """These counts as :class:`rramcim.cost.OpCounts` for the cost model.

        Every converted column is one column read, one ADC conversion and one digital
        shift-add; every read is one column-mux switch; rows are driven by binary word-line
        drivers, so there are no DAC conversions.
        """
        from rramcim.cost import OpCounts

        return OpCounts(
            cell_reads=self.cell_reads,
            row_activations=self.row_activations,
            column_reads=self.conversions,
            reads=self.reads,
            adc_conversions=self.conversions,
            dac_conversions=0,
            mux_switches=self.reads,
            digital_adds=self.conversions,
            macs_equivalent=macs_equivalent,
        )


@dataclass(frozen=True)
class ProgramReport:
    """Outcome of :meth:`CrossbarMacro.program_weights`.

    Attributes:
        w_max: weight magnitude mapped to g_max - g_min.
        g_per_w_S: conductance difference per unit weight, S.
        n_clipped: programmed values clipped at the conductance window.
        n_stuck: stuck cells among those programmed.
        n_nonfinite: always 0 (non-finite weights are rejected).
    """

    w_max: float
    g_per_w_S: float
    n_clipped: int
    n_stuck: int
    n_nonfinite: int = 0


@dataclass
class ReadResult:
    """ADC codes of a batch of reads.

    Attributes:
        codes: int64 tensor ``[B, n_groups_read, n_adc]``.
        saturated: bool tensor, same shape: the analogue value was outside the code range
            and was clipped (counted in the macro's stats).
    """

    codes: torch.Tensor
    saturated: torch.Tensor = field(repr=False)


class CrossbarMacro:
    """One RRAM crossbar macro: state, noisy reads, ADC conversion and program/verify.

    The golden pipeline and the cocotb adapter use the *same* instance, so both see the same
    conductances and the same keyed noise.

    Args:
        cfg: geometry and read-out.
        device: technology (defaults to the ``rram_40nm`` preset).
        seed: base seed of every keyed draw.
        macro_id: identifies this macro among several sharing a seed.
    """

    def __init__(
        self,
        cfg: CrossbarConfig | None = None,
        device: DeviceConfig | None = None,
        seed: int = 0,
        macro_id: int = 0,
    ) -> None:
        self.cfg = cfg or CrossbarConfig()
        self.device = device or load_device("rram_40nm")
        self.seed = int(seed)
        self.macro_id = int(macro_id)
        self.dev = DeviceModel(self.device, self.seed, self.macro_id)
        self.stats = ReadStats()
        g0 = self.device.to_grid(torch.tensor(self.device.g_min_S, dtype=torch.float64))
        shape = (self.cfg.rows, self.cfg.cols)
        self._g_prog = torch.full((2, *shape), float(g0), dtype=torch.float64)
        self._t_s = 0.0
        self._cache: dict[str, torch.Tensor] = {}
        self._pulse_count: dict[tuple[int, int, int], int] = {}
        self._verify_count: dict[tuple[int, int, int], int] = {}
        a = torch.arange(self.cfg.n_adc, dtype=torch.int64)
        self.adc_gain = 1.0 + self.cfg.adc_gain_sigma * rng.normal(self._key("adc_gain"), a)
        self.adc_offset_lsb = self.cfg.adc_offset_sigma_lsb * rng.normal(self._key("adc_offset"), a)

    # -- keys and indices ----------------------------------------------------------------
    def _key(self, purpose: str, *idx: int) -> int:
        return rng.make_key(self.seed, purpose, self.macro_id, *idx)

    def cell_index(
        self, neg: int | torch.Tensor, row: int | torch.Tensor, col: int | torch.Tensor
    ) -> torch.Tensor:
        """Flat index of a cell: ``(neg * rows + row) * cols + col`` (keys of static draws)."""
        neg = torch.as_tensor(neg, dtype=torch.int64)
        row = torch.as_tensor(row, dtype=torch.int64)
        col = torch.as_tensor(col, dtype=torch.int64)
        return (neg * self.cfg.rows + row) * self.cfg.cols + col

    def _all_cells(self) -> torch.Tensor:
        return torch.arange(self.cfg.cells, dtype=torch.int64).reshape(
            2, self.cfg.rows, self.cfg.cols
        )

    # -- state -----------------------------------------------------------------------------
    def _invalidate(self) -> None:
        self._cache.clear()

    @property
    def t_s(self) -> float:
        """Time since programming at which reads happen (drift), s."""
        return self._t_s

    def set_time(self, t_s: float) -> None:
        """Set the read time since programming (applies drift to subsequent reads)."""
        if not math.isfinite(t_s) or t_s < 0:
            raise ValueError(f"set_time: t_s = {t_s!r} must be finite and >= 0")
        self._t_s = float(t_s)
        self._invalidate()

    def conductances(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Effective (G+, G-) at the current read time, on the state grid, S, ``[rows, cols]``."""
        if "g" not in self._cache:
            g = self.dev.drift(self._all_cells(), self._g_prog, self._t_s)
            self._cache["g"] = g
        g = self._cache["g"]
        return g[0], g[1]

    def programmed_conductances(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(G+, G-) as programmed (before drift), S."""
        return self._g_prog[0].clone(), self._g_prog[1].clone()

    def set_conductances(self, g_pos_S: torch.Tensor, g_neg_S: torch.Tensor) -> None:
        """Load conductances directly (e.g. from a measured array). Rounded to the state grid.

        Raises:
            ValueError: wrong shape, non-finite or negative values (the message names the
                argument and the first bad element).
        """
        shape = (self.cfg.rows, self.cfg.cols)
        for name, g in (("g_pos_S", g_pos_S), ("g_neg_S", g_neg_S)):
            if tuple(g.shape) != shape:
                raise ValueError(
                    f"set_conductances: {name} has shape {tuple(g.shape)}, expected {shape}"
                )
            bad = (~torch.isfinite(g)) | (g < 0)
            if bool(bad.any()):
                i = int(torch.nonzero(bad.flatten())[0])
                raise ValueError(
                    f"set_conductances: {name}[{i // shape[1]}, {i % shape[1]}] = "
                    f"{float(g.flatten()[i])!r} is not a finite conductance >= 0"
                )
        g = torch.stack([g_pos_S, g_neg_S]).to(torch.float64)
        self._g_prog = self.device.to_grid(g)
        self._invalidate()

    def program_weights(self, w: torch.Tensor, w_max: float | None = None) -> ProgramReport:
        """Map a ``[rows, cols]`` weight matrix onto differential pairs and program it.

        Args:
            w: weights; rows beyond ``w.shape[0]`` / columns beyond ``w.shape[1]`` are left at
                g_min (zero weight) when ``w`` is smaller than the macro.
            w_max: magnitude mapped to the full window (default: max |w|, or 1 if w is all 0).

        Raises:
            ValueError: non-finite weights (naming the first one), a matrix larger than the
                macro, or ``w_max <= 0``.
        """
        w = torch.as_tensor(w, dtype=torch.float64)
        if w.ndim != 2 or w.shape[0] > self.cfg.rows or w.shape[1] > self.cfg.cols:
            raise ValueError(
                f"program_weights: w has shape {tuple(w.shape)}; the macro is "
                f"{self.cfg.rows} x {self.cfg.cols}"
            )
        bad = ~torch.isfinite(w)
        if bool(bad.any()):
            i = int(torch.nonzero(bad.flatten())[0])
            raise ValueError(
                f"program_weights: w[{i // w.shape[1]}, {i % w.shape[1]}] = "
                f"{float(w.flatten()[i])!r} is not finite ({int(bad.sum())} non-finite)"
            )
        if w_max is None:
            w_max = float(w.abs().max()) if w.numel() and float(w.abs().max()) > 0 else 1.0
        if not math.isfinite(w_max) or w_max <= 0:
            raise ValueError(f"program_weights: w_max = {w_max!r} must be > 0")
        full = torch.zeros(self.cfg.rows, self.cfg.cols, dtype=torch.float64)
        full[: w.shape[0], : w.shape[1]] = w
        d = self.device
        span = d.g_max_S - d.g_min_S
        tgt = torch.stack(
            [
                d.g_min_S + span * torch.clamp(full, min=0) / w_max,
                d.g_min_S + span * torch.clamp(-full, min=0) / w_max,
            ]
        )
        n_clip_w = int((full.abs() > w_max).sum())
        cells = self._all_cells()
        g, n_clip = self.dev.program(cells, tgt)
        self._g_prog = g
        self._invalidate()
        n_stuck = int((self.dev.stuck(cells) != 0).sum())
        self.stats.clipped_programming += n_clip + n_clip_w
        return ProgramReport(
            w_max=float(w_max), g_per_w_S=span / w_max, n_clipped=n_clip + n_clip_w, n_stuck=n_stuck
        )

    def reset_pairs(self, rows: torch.Tensor, cols: torch.Tensor) -> int:
        """RESET both cells of the given pairs to g_min (with programming noise): pruning.

        Args:
            rows, cols: int64 indices of the pairs (same length).

        Returns:
            Number of pairs reset.
        """
        rows = torch.as_tensor(rows, dtype=torch.int64).reshape(-1)
        cols = torch.as_tensor(cols, dtype=torch.int64).reshape(-1)
        if rows.numel() == 0:
            return 0
        if bool(
            (rows < 0).any()
            | (rows >= self.cfg.rows).any()
            | (cols < 0).any()
            | (cols >= self.cfg.cols).any()
        ):
            raise ValueError("reset_pairs: a pair lies outside the array")
        tgt = torch.full((rows.numel(),), self.device.g_min_S, dtype=torch.float64)
        for neg in (0, 1):
            cells = self.cell_index(neg, rows, cols)
            g, n_clip = self.dev.program(cells, tgt, attempt=1)
            self._g_prog[neg, rows, cols] = g
            self.stats.clipped_programming += n_clip
        self._invalidate()
        return int(rows.numel())

    def form_random(self) -> torch.Tensor:
        """Electroform every cell: the array then holds *random* conductances (PRIME, encoder).

        Returns:
            Formed mask ``[2, rows, cols]`` (bool), index 0 = G+ cells, 1 = G- cells.
        """
        g, formed, _ = self.dev.form(self._all_cells())
        self._g_prog = g
        self._invalidate()
        return formed

    def set_adc_full_scale(self, full_scale_A: float) -> None:
        """Change the ADC full scale (e.g. after calibrating it on representative inputs)."""
        self.cfg = self.cfg.replace(adc_full_scale_A=float(full_scale_A))

    def calibrate_adc(self, planes: torch.Tensor, k_sigma: float = 3.0) -> float:
        """Set the full scale to ``k_sigma`` standard deviations of the ideal column currents
        of representative binary row vectors; returns the new full scale (A)."""
        fs = k_sigma * float(self.ideal_currents_A(planes).std())
        if not fs > 0:
            raise ValueError(
                f"calibrate_adc: column currents have no spread (std = {fs / k_sigma})"
            )
        self.set_adc_full_scale(fs)
        return fs

    # -- integer weights -------------------------------------------------------------------
    def weight_units(self) -> torch.Tensor:
        """``(G+ - G-) / g_step`` as exact integers in float32 (or float64 when too large)."""
        if "wu" not in self._cache:
            gp, gn = self.conductances()
            wu = self.device.to_units(gp) - self.device.to_units(gn)
            bound = int(wu.abs().sum(dim=0).max()) if wu.numel() else 0
            self._cache["wu"] = wu.to(torch.float32 if bound < (1 << 24) else torch.float64)
        return self._cache["wu"]

    def _line_units(self) -> torch.Tensor:
        if "lu" not in self._cache:
            gp, gn = self.conductances()
            lu = torch.cat([self.device.to_units(gp), self.device.to_units(gn)], dim=1)
            bound = int(lu.abs().sum(dim=0).max())
            self._cache["lu"] = lu.to(torch.float32 if bound < (1 << 24) else torch.float64)
        return self._cache["lu"]

    def code_per_unit(self) -> torch.Tensor:
        """ADC codes per (input 1) x (weight unit) for each channel: the ideal linear gain."""
        d = self.device
        return (d.read_gain * d.v_read_V * d.g_step_S / self.cfg.adc_lsb_A) * self.adc_gain

    def codes_per_weight(self, g_per_w_S: float) -> float:
        """Mean ADC codes per (input 1) x (weight 1) for a mapping of ``g_per_w_S`` S per unit
        weight: divides a read-path accumulation into weight units."""
        return float(self.code_per_unit().mean()) * g_per_w_S / self.device.g_step_S

    # -- reads -------------------------------------------------------------------------------
    def ideal_currents_A(self, x: torch.Tensor) -> torch.Tensor:
        """Noise-free differential column currents ``[B, cols]`` (float64, A) of binary rows."""
        xb = self._as_plane(x)
        if xb.shape[1] < self.cfg.rows:
            xb = torch.nn.functional.pad(xb, (0, self.cfg.rows - xb.shape[1]))
        d = self.device
        if self.cfg.r_wire_ohm > 0:
            lines = (xb.to(self._line_units().dtype) @ self._line_units()).to(torch.float64)
            gl = lines * d.g_step_S
            i_line = d.read_gain * d.v_read_V * gl / (1.0 + self.cfg.r_wire_ohm * gl)
            return i_line[:, : self.cfg.cols] - i_line[:, self.cfg.cols :]
        acc = (xb.to(self.weight_units().dtype) @ self.weight_units()).to(torch.float64)
        return acc * (d.read_gain * d.v_read_V * d.g_step_S)

    def _as_plane(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.as_tensor(x)
        if x.ndim == 1:
            x = x.unsqueeze(0)
        if x.ndim != 2 or not 1 <= x.shape[1] <= self.cfg.rows:
            raise ValueError(
                f"read: row vectors must have shape [B, n <= {self.cfg.rows}] (rows n.. are not "
                f"driven), got {tuple(x.shape)}"
            )
        if x.dtype not in (torch.float32, torch.float64):
            x = x.to(torch.float32)
        return x

    def read(
        self,
        x: torch.Tensor,
        groups: torch.Tensor | int,
        read_index: torch.Tensor | int,
        epoch: int = 0,
        check_binary: bool = True,
    ) -> ReadResult:
        """Drive binary row vectors and convert column groups: one read per (vector, group).

        Args:
            x: row drive ``[B, n]``, ``n <= rows``, values in {0, 1} (float32 is fastest);
                rows ``n ..`` are not driven.
            groups: column-mux groups to convert, int or int64 ``[G]``.
            read_index: read number of each (vector, group), broadcastable to ``[B, G]``;
                keys the read noise together with ``epoch``.
            epoch: reset epoch of the periphery (see ``docs/read_path.md``).
            check_binary: verify that ``x`` is binary (a non-binary drive raises ValueError).

        Returns:
            :class:`ReadResult` with codes ``[B, G, n_adc]``.
        """
        cfg, d = self.cfg, self.device
        xb = self._as_plane(x)
        if check_binary and bool(((xb != 0) & (xb != 1)).any()):
            raise ValueError(
                "read: row drive must be binary (0/1); apply multi-bit inputs bit-serially"
            )
        g = torch.as_tensor(groups, dtype=torch.int64).reshape(-1)
        if bool(((g < 0) | (g >= cfg.n_groups)).any()):
            raise ValueError(f"read: group(s) {g.tolist()} outside [0, {cfg.n_groups - 1}]")
        B, G, A = xb.shape[0], g.numel(), cfg.n_adc
        k = torch.broadcast_to(torch.as_tensor(read_index, dtype=torch.int64), (B, G))
        contiguous = G == 1 or bool((g[1:] - g[:-1] == 1).all())
        c0 = int(g[0]) * A
        if cfg.r_wire_ohm > 0:
            cur = self.ideal_currents_A(xb)
            cur = (
                cur[:, c0 : c0 + G * A]
                if contiguous
                else cur.reshape(B, cfg.n_groups, A)[:, g].reshape(B, G * A)
            )
            t = cur.reshape(B, G, A).mul_(self.adc_gain / cfg.adc_lsb_A)
        else:
            wu = self.weight_units()[: xb.shape[1]]
            n = wu.shape[0]
            if contiguous:
                w = wu[:, c0 : c0 + G * A]
            else:
                w = wu.reshape(n, cfg.n_groups, A)[:, g].reshape(n, G * A)
            # exact integer column sums; the product with the float64 gain is taken in float64
            t = torch.mul((xb.to(wu.dtype) @ w).reshape(B, G, A), self.code_per_unit())
        n_on = xb.sum(dim=1).to(torch.float64)  # exact: counts < 2^24
        if d.read_noise_S > 0:
            sig = torch.sqrt(2.0 * n_on).reshape(B, 1, 1) * (
                (d.read_gain * d.v_read_V * d.read_noise_S / cfg.adc_lsb_A) * self.adc_gain
            )
            z = rng.normal_rows(self._key("read", int(epoch)), k.reshape(-1), A).reshape(B, G, A)
            t.add_(torch.mul(z, sig))
        t.add_(self.adc_offset_lsb + 0.5).floor_()
        lo, hi = cfg.code_range
        clipped = t.clamp(lo, hi)
        sat = clipped != t
        codes = clipped.to(torch.int64)
        n_sat = int(torch.count_nonzero(sat))
        n_on_total = int(n_on.sum())
        self.stats.reads += B * G
        self.stats.conversions += B * G * A
        self.stats.saturations += n_sat
        self.stats.row_activations += n_on_total * G
        self.stats.cell_reads += n_on_total * G * 2 * cfg.cols
        return ReadResult(codes=codes, saturated=sat)

    # -- program / verify port --------------------------------------------------------------
    def pulse(self, op: PulseOp | int, row: int, col: int, neg: int) -> float:
        """Apply one SET / RESET / FORM pulse to a cell; returns its new conductance (S).

        SET programs the cell towards g_max, RESET towards g_min (each with the device's
        programming noise, d2d variation and faults; the n-th pulse on a cell draws the n-th
        noise sample); FORM runs the forming sweep on that cell.
        """
        op = PulseOp(op)
        if op is PulseOp.VERIFY:
            raise ValueError("pulse: VERIFY is a read; use verify()")
        self._check_cell(row, col, neg)
        if op is PulseOp.FORM:
            kk = (int(neg), int(row), int(col))
            self._pulse_count[kk] = self._pulse_count.get(kk, 0) + 1
            g, _, _ = self.dev.form(self.cell_index(neg, row, col).reshape(1))
            self._g_prog[int(neg), int(row), int(col)] = g[0]
            self._invalidate()
            self.stats.pulses += 1
            return float(g[0])
        g = self.pulse_cells(op, neg, torch.tensor([row]), torch.tensor([col]))
        return float(g[0])

    def pulse_cells(
        self, op: PulseOp | int, neg: int, rows: torch.Tensor, cols: torch.Tensor
    ) -> torch.Tensor:
        """:meth:`pulse` (SET or RESET) on many cells of one side at once: the same draws,
        pulse counters and statistics as one call per cell in the given order (a cell listed
        twice gets two pulses). Returns the new conductances (S), one per listed cell."""
        op = PulseOp(op)
        if op not in (PulseOp.SET, PulseOp.RESET):
            raise ValueError(f"pulse_cells: {op.name} is not SET or RESET")
        rows = torch.as_tensor(rows, dtype=torch.int64).reshape(-1)
        cols = torch.as_tensor(cols, dtype=torch.int64).reshape(-1)
        out = torch.empty(rows.numel(), dtype=torch.float64)
        if rows.numel() == 0:
            return out
        for r, c in zip(rows.tolist(), cols.tolist(), strict=True):
            self._check_cell(r, c, neg)
        attempt = torch.empty(rows.numel(), dtype=torch.int64)
        for i, (r, c) in enumerate(zip(rows.tolist(), cols.tolist(), strict=True)):
            kk = (int(neg), r, c)
            n = self._pulse_count.get(kk, 0)
            self._pulse_count[kk] = n + 1
            attempt[i] = n + 1
        d = self.device
        tgt = d.g_max_S if op is PulseOp.SET else d.g_min_S
        for a in torch.unique(attempt).tolist():  # one programming call per attempt number
            sel = attempt == a
            cells = self.cell_index(neg, rows[sel], cols[sel])
            g, n_clip = self.dev.program(
                cells, torch.full((cells.numel(),), tgt, dtype=torch.float64), attempt=int(a)
            )
            self.stats.clipped_programming += n_clip
            out[sel] = g
        for i, (r, c) in enumerate(zip(rows.tolist(), cols.tolist(), strict=True)):
            self._g_prog[int(neg), r, c] = out[i]  # in order: the last pulse of a cell wins
        self._invalidate()
        self.stats.pulses += rows.numel()
        return out

    def verify_lsb_S(self) -> float:
        """Conductance step of the verify read (full scale 1.5 g_max)."""
        return 1.5 * self.device.g_max_S / ((1 << self.cfg.verify_bits) - 1)

    def verify(self, row: int, col: int, neg: int) -> int:
        """Verify read of one cell: unsigned code of its conductance (with read noise)."""
        self._check_cell(row, col, neg)
        return int(self.verify_cells(neg, torch.tensor([row]), torch.tensor([col]))[0])

    def verify_cells(self, neg: int, rows: torch.Tensor, cols: torch.Tensor) -> torch.Tensor:
        """:meth:`verify` of many cells of one side at once: the same read noise (the n-th
        verify of a cell draws ``normal(key("verify", cell), n)``), counters and statistics
        as one call per cell in the given order. Returns int64 codes, one per listed cell."""
        rows = torch.as_tensor(rows, dtype=torch.int64).reshape(-1)
        cols = torch.as_tensor(cols, dtype=torch.int64).reshape(-1)
        if rows.numel() == 0:
            return torch.zeros(0, dtype=torch.int64)
        n = torch.empty(rows.numel(), dtype=torch.int64)
        for i, (r, c) in enumerate(zip(rows.tolist(), cols.tolist(), strict=True)):
            self._check_cell(r, c, neg)
            kk = (int(neg), r, c)
            n[i] = self._verify_count.get(kk, 0)
            self._verify_count[kk] = int(n[i]) + 1
        gp, gn = self.conductances()
        g = (gn if neg else gp)[rows, cols].to(torch.float64)
        cells = self.cell_index(neg, rows, cols).reshape(-1).tolist()
        keys = torch.tensor([self._key("verify", c) for c in cells], dtype=torch.int64)
        z = rng.normal_keyed(keys, n)
        val = (g + self.device.read_noise_S * z) / self.verify_lsb_S()
        self.stats.verifies += rows.numel()
        hi = (1 << self.cfg.verify_bits) - 1
        return torch.clamp(torch.floor(val + 0.5), 0, hi).to(torch.int64)

    def _check_cell(self, row: int, col: int, neg: int) -> None:
        if not (0 <= row < self.cfg.rows and 0 <= col < self.cfg.cols and neg in (0, 1)):
            raise ValueError(
                f"cell (row={row}, col={col}, neg={neg}) is outside the "
                f"{self.cfg.rows} x {self.cfg.cols} x 2 array"
            )

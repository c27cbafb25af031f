"""RRAM device model: conductance window and levels, programming and read noise, drift,
stuck-at faults, device-to-device variation and electroforming stochasticity.

Conductances are in siemens (``_S``), voltages in volts, times in seconds. Programmed states
are kept on a grid of ``g_step_S`` (10 nS in the 40 nm preset): far below any noise in the
model, and it makes column sums of binary-driven reads exact integers (see
:mod:`rramcim.analog.crossbar`).

Every random draw is keyed (:mod:`rramcim.rng`) by ``(seed, purpose, macro_id, ...)`` and the
cell's flat index, so the same cell gets the same draw whatever the order of calls.

The parameter source is ``models/params/<name>.json``, shared with the Verilog-A cell
(``models/veriloga/rram_cell.va``); :func:`load_device` reads it and every field carries its
citation there.
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from rramcim import rng

PARAMS_DIR = Path(__file__).resolve().parents[3] / "models" / "params"
"""Folder of the device parameter files (repository checkout)."""


def cell_current_A(g_S, v_V, v_nl_V):  # noqa: ANN001, ANN201 - numpy/torch/float alike
    """Read current of a programmed cell: ``I = G * v_nl * sinh(V / v_nl)``.

    ``G`` is the small-signal conductance of the state; the sinh term is the read
    non-linearity of the switching layer (``I ~ G V`` for ``|V| << v_nl``).

    Args:
        g_S: conductance(s), S.
        v_V: read voltage(s), V.
        v_nl_V: non-linearity voltage, V (> 0).

    Returns:
        Current(s), A, broadcast over the inputs (numpy arrays for array inputs).
    """
    if isinstance(g_S, torch.Tensor) or isinstance(v_V, torch.Tensor):
        return g_S * v_nl_V * torch.sinh(torch.as_tensor(v_V, dtype=torch.float64) / v_nl_V)
    return (
        np.asarray(g_S, dtype=np.float64) * v_nl_V * np.sinh(np.asarray(v_V, np.float64) / v_nl_V)
    )


def _check(name: str, value: float, lo: float, hi: float, *, lo_open: bool = False) -> None:
    ok = math.isfinite(value) and (value > lo if lo_open else value >= lo) and value <= hi
    if not ok:
        br = "(" if lo_open else "["
        raise ValueError(f"DeviceConfig.{name} = {value!r} is outside {br}{lo}, {hi}]")


@dataclass(frozen=True)
class DeviceConfig:
    """Parameters of one RRAM cell technology. Units are in the names; ranges are checked.

    Attributes:
        name: preset name.
        g_min_S: lowest programmable (HRS) conductance, (0, g_max_S).
        g_max_S: highest programmable (LRS) conductance, (g_min_S, 1e-2].
        n_levels: programmable levels from g_min_S to g_max_S inclusive, [2, 4096].
        g_step_S: state grid of the model, (0, g_min_S]; must divide the levels finely.
        prog_noise_rel: relative sigma of the programmed conductance, [0, 1].
        prog_noise_abs_S: absolute sigma of the programmed conductance, [0, g_max_S].
        read_noise_S: per-cell, per-read additive conductance noise sigma, [0, g_max_S].
        drift_nu_mean: mean power-law drift exponent nu in G(t) = G(t0) (t / t0)^-nu, [0, 1].
        drift_nu_std: device-to-device sigma of nu, [0, 1].
        drift_t0_s: reference time at which G equals its programmed value, (0, 1e9].
        p_stuck_lrs: fraction of cells stuck at g_max_S, [0, 1].
        p_stuck_hrs: fraction of cells stuck at g_min_S, [0, 1 - p_stuck_lrs].
        d2d_sigma_rel: device-to-device sigma of each cell's conductance scale, [0, 0.5].
        g_pristine_S: median conductance of unformed (pristine) cells, (0, g_min_S].
        g_pristine_sigma_rel: lognormal sigma of the pristine conductance, [0, 3].
        v_bd_mean_V: mean breakdown (forming) voltage, (0, 20].
        v_bd_std_V: sigma of the breakdown voltage, [0, 5].
        v_sweep_start_V: first voltage of the forming sweep, (0, 20].
        v_sweep_step_V: step of the forming sweep, (0, 5].
        v_form_max_V: last voltage of the forming sweep, [v_sweep_start_V, 20].
        g_formed_mean_S: mean conductance of a formed cell, (0, g_max_S].
        g_formed_std_S: sigma of the conductance of a formed cell, [0, g_max_S].
        v_read_V: read voltage, (0, 2].
        t_read_s: read pulse width, (0, 1e-3].
        v_nl_V: read I-V non-linearity voltage, (0, 100].
        sources: citation of each field (from the parameter file).
    """

    name: str
    g_min_S: float
    g_max_S: float
    n_levels: int
    g_step_S: float
    prog_noise_rel: float
    prog_noise_abs_S: float
    read_noise_S: float
    drift_nu_mean: float
    drift_nu_std: float
    drift_t0_s: float
    p_stuck_lrs: float
    p_stuck_hrs: float
    d2d_sigma_rel: float
    g_pristine_S: float
    g_pristine_sigma_rel: float
    v_bd_mean_V: float
    v_bd_std_V: float
    v_sweep_start_V: float
    v_sweep_step_V: float
    v_form_max_V: float
    g_formed_mean_S: float
    g_formed_std_S: float
    v_read_V: float
    t_read_s: float
    v_nl_V: float
    sources: dict[str, str] = field(default_factory=dict, compare=False, hash=False)

    def __post_init__(self) -> None:
        _check("g_max_S", self.g_max_S, 0.0, 1e-2, lo_open=True)
        _check("g_min_S", self.g_min_S, 0.0, self.g_max_S, lo_open=True)
        if not self.g_min_S < self.g_max_S:
            raise ValueError(
                f"DeviceConfig.g_min_S = {self.g_min_S} must be < g_max_S = {self.g_max_S}"
            )
        if not 2 <= int(self.n_levels) <= 4096 or int(self.n_levels) != self.n_levels:
            raise ValueError(f"DeviceConfig.n_levels = {self.n_levels!r} is outside [2, 4096]")
        _check("g_step_S", self.g_step_S, 0.0, self.g_min_S, lo_open=True)
        _check("prog_noise_rel", self.prog_noise_rel, 0.0, 1.0)
        _check("prog_noise_abs_S", self.prog_noise_abs_S, 0.0, self.g_max_S)
        _check("read_noise_S", self.read_noise_S, 0.0, self.g_max_S)
        _check("drift_nu_mean", self.drift_nu_mean, 0.0, 1.0)
        _check("drift_nu_std", self.drift_nu_std, 0.0, 1.0)
        _check("drift_t0_s", self.drift_t0_s, 0.0, 1e9, lo_open=True)
        _check("p_stuck_lrs", self.p_stuck_lrs, 0.0, 1.0)
        _check("p_stuck_hrs", self.p_stuck_hrs, 0.0, 1.0 - self.p_stuck_lrs)
        _check("d2d_sigma_rel", self.d2d_sigma_rel, 0.0, 0.5)
        _check("g_pristine_S", self.g_pristine_S, 0.0, self.g_min_S, lo_open=True)
        _check("g_pristine_sigma_rel", self.g_pristine_sigma_rel, 0.0, 3.0)
        _check("v_bd_mean_V", self.v_bd_mean_V, 0.0, 20.0, lo_open=True)
        _check("v_bd_std_V", self.v_bd_std_V, 0.0, 5.0)
        _check("v_sweep_start_V", self.v_sweep_start_V, 0.0, 20.0, lo_open=True)
        _check("v_sweep_step_V", self.v_sweep_step_V, 0.0, 5.0, lo_open=True)
        _check("v_form_max_V", self.v_form_max_V, self.v_sweep_start_V, 20.0)
        _check("g_formed_mean_S", self.g_formed_mean_S, 0.0, self.g_max_S, lo_open=True)
        _check("g_formed_std_S", self.g_formed_std_S, 0.0, self.g_max_S)
        _check("v_read_V", self.v_read_V, 0.0, 2.0, lo_open=True)
        _check("t_read_s", self.t_read_s, 0.0, 1e-3, lo_open=True)
        _check("v_nl_V", self.v_nl_V, 0.0, 100.0, lo_open=True)

    # -- derived quantities -------------------------------------------------------------
    @property
    def levels_S(self) -> torch.Tensor:
        """The ``n_levels`` programmable conductances, on the state grid (float64, S)."""
        lv = torch.linspace(self.g_min_S, self.g_max_S, int(self.n_levels), dtype=torch.float64)
        return self.to_grid(lv)

    @property
    def read_gain(self) -> float:
        """``I / (G V_read)`` at the read voltage: the I-V non-linearity factor (>= 1)."""
        x = self.v_read_V / self.v_nl_V
        return math.sinh(x) / x

    def to_grid(self, g_S: torch.Tensor) -> torch.Tensor:
        """Round conductances to the model's state grid (``g_step_S``)."""
        return torch.round(g_S / self.g_step_S) * self.g_step_S

    def to_units(self, g_S: torch.Tensor) -> torch.Tensor:
        """Conductances as integer multiples of ``g_step_S`` (int64)."""
        return torch.round(g_S / self.g_step_S).to(torch.int64)

    def replace(self, **changes: object) -> DeviceConfig:
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

    def ideal(self) -> DeviceConfig:
        """The same level window with every non-ideality switched off: no programming or
        read noise, no drift, no stuck cells, no device-to-device spread and a linear read
        (``v_nl_V`` at its 100 V limit). What a datapath itself can do on these levels."""
        return self.replace(
            prog_noise_rel=0.0,
            prog_noise_abs_S=0.0,
            read_noise_S=0.0,
            drift_nu_mean=0.0,
            drift_nu_std=0.0,
            p_stuck_lrs=0.0,
            p_stuck_hrs=0.0,
            d2d_sigma_rel=0.0,
            v_nl_V=100.0,
        )

    @property
    def formed_fraction(self) -> float:
        """Expected fraction of cells formed by the sweep: P(V_bd <= last sweep voltage)."""
        v_last = self.v_sweep_start_V + self.v_sweep_step_V * math.floor(
            (self.v_form_max_V - self.v_sweep_start_V) / self.v_sweep_step_V + 1e-9
        )
        if self.v_bd_std_V == 0:
            return 1.0 if self.v_bd_mean_V <= v_last else 0.0
        return 0.5 * (1 + math.erf((v_last - self.v_bd_mean_V) / (self.v_bd_std_V * math.sqrt(2))))


_FIELDS = [f.name for f in dataclasses.fields(DeviceConfig) if f.name not in ("name", "sources")]


def load_device(name_or_path: str | Path = "rram_40nm", **overrides: object) -> DeviceConfig:
    """Load a device preset from ``models/params/<name>.json`` (or a path to such a file).

    Args:
        name_or_path: preset name or JSON path.
        **overrides: field values replacing the file's.

    Raises:
        FileNotFoundError: if the file does not exist.
        ValueError: naming the file and field when a field is missing, unknown or out of range.
    """
    path = Path(name_or_path)
    if path.suffix != ".json":
        path = PARAMS_DIR / f"{name_or_path}.json"
    if not path.exists():
        raise FileNotFoundError(f"device parameter file not found: {path}")
    data = json.loads(path.read_text())
    params = data.get("params")
    if not isinstance(params, dict):
        raise ValueError(f"{path}: missing object field 'params'")
    unknown = sorted(set(params) - set(_FIELDS))
    if unknown:
        raise ValueError(f"{path}: unknown parameter(s) {unknown}")
    values: dict[str, object] = {}
    for f in _FIELDS:
        if f not in params:
            raise ValueError(f"{path}: missing parameter '{f}'")
        entry = params[f]
        if not isinstance(entry, dict) or "value" not in entry or "source" not in entry:
            raise ValueError(f"{path}: parameter '{f}' needs 'value' and 'source'")
        values[f] = entry["value"]
    values.update(overrides)
    sources = {f: params[f]["source"] for f in _FIELDS}
    try:
        return DeviceConfig(name=data.get("name", path.stem), sources=sources, **values)  # type: ignore[arg-type]
    except ValueError as e:
        raise ValueError(f"{path}: {e}") from e


def as_device(device: str | Path | DeviceConfig) -> DeviceConfig:
    """A device config as given, or the preset of that name or path (:func:`load_device`)."""
    return device if isinstance(device, DeviceConfig) else load_device(device)


class DeviceModel:
    """Stochastic behaviour of an array of cells of one technology.

    All methods take flat cell indices (int64 tensors) so a macro, a tile or a single cell use
    the same keyed draws. ``macro_id`` separates arrays sharing a seed.

    Args:
        config: the technology.
        seed: base seed of every keyed draw.
        macro_id: identifies the array.
    """

    def __init__(self, config: DeviceConfig, seed: int, macro_id: int = 0) -> None:
        self.cfg = config
        self.seed = int(seed)
        self.macro_id = int(macro_id)

    def key(self, purpose: str, *indices: int) -> int:
        """Key of a draw: ``(seed, purpose, macro_id, *indices)``."""
        return rng.make_key(self.seed, purpose, self.macro_id, *indices)

    # -- static per-cell properties --------------------------------------------------
    def d2d_scale(self, cells: torch.Tensor) -> torch.Tensor:
        """Device-to-device conductance scale factor of each cell (mean 1, sigma d2d_sigma_rel)."""
        z = rng.normal(self.key("d2d"), cells)
        return 1.0 + self.cfg.d2d_sigma_rel * z

    def stuck(self, cells: torch.Tensor) -> torch.Tensor:
        """Fault state per cell: 0 healthy, 1 stuck at LRS (g_max), 2 stuck at HRS (g_min)."""
        u = rng.uniform(self.key("fault"), cells)
        out = torch.zeros_like(cells, dtype=torch.int8)
        out[u < self.cfg.p_stuck_lrs] = 1
        out[(u >= self.cfg.p_stuck_lrs) & (u < self.cfg.p_stuck_lrs + self.cfg.p_stuck_hrs)] = 2
        return out

    def drift_nu(self, cells: torch.Tensor) -> torch.Tensor:
        """Drift exponent of each cell (clipped at 0)."""
        z = rng.normal(self.key("drift"), cells)
        return torch.clamp(self.cfg.drift_nu_mean + self.cfg.drift_nu_std * z, min=0.0)

    # -- operations ---------------------------------------------------------------------
    def quantize_levels(self, g_target_S: torch.Tensor) -> torch.Tensor:
        """Nearest programmable level to each target conductance (targets clipped to the window)."""
        c = self.cfg
        g = torch.clamp(g_target_S.to(torch.float64), c.g_min_S, c.g_max_S)
        step = (c.g_max_S - c.g_min_S) / (int(c.n_levels) - 1)
        lv = torch.round((g - c.g_min_S) / step) * step + c.g_min_S
        return c.to_grid(lv)

    def split_levels(self, g_target_S: torch.Tensor, n_cells: int) -> torch.Tensor:
        """Level targets of ``n_cells`` parallel cells that together stand for one target.

        The summed excess over ``g_min_S`` is the nearest of ``n_cells * (n_levels - 1) + 1``
        steps of the level grid (targets clipped to the window); cell ``i`` takes level index
        ``floor((L + i) / n_cells)`` of the summed index ``L``, so the cells differ by at most
        one level and their indices add up to ``L``. ``n_cells = 1`` is
        :meth:`quantize_levels`.

        Args:
            g_target_S: target conductances (S), any shape.
            n_cells: cells per target, >= 1.

        Returns:
            Level conductances ``[n_cells, *g_target_S.shape]`` (S).
        """
        if int(n_cells) != n_cells or n_cells < 1:
            raise ValueError(f"split_levels: n_cells = {n_cells!r} must be an integer >= 1")
        c = self.cfg
        step = (c.g_max_S - c.g_min_S) / (int(c.n_levels) - 1)
        g = torch.clamp(g_target_S.to(torch.float64), c.g_min_S, c.g_max_S)
        tot = torch.round((g - c.g_min_S) / step * n_cells)
        i = torch.arange(int(n_cells), dtype=torch.float64).reshape((-1,) + (1,) * g.dim())
        return c.to_grid(c.g_min_S + torch.floor((tot + i) / n_cells) * step)

    def program(
        self, cells: torch.Tensor, g_target_S: torch.Tensor, attempt: int = 0
    ) -> tuple[torch.Tensor, int]:
        """Program cells to the nearest level (one converged write-verify), with programming noise.

        ``G = scale_d2d * level * (1 + prog_noise_rel z1) + prog_noise_abs_S z2``, clipped to
        [g_step_S, 1.5 g_max_S], then stuck-at faults override the result.

        Args:
            cells: flat cell indices (int64), any shape.
            g_target_S: target conductances, same shape.
            attempt: programming attempt number (a re-program draws new noise).

        Returns:
            (conductances on the state grid, number of values clipped at the window edges).
        """
        c = self.cfg
        lv = self.quantize_levels(g_target_S)
        z1 = rng.normal(self.key("prog_rel", attempt), cells)
        z2 = rng.normal(self.key("prog_abs", attempt), cells)
        g = self.d2d_scale(cells) * lv * (1.0 + c.prog_noise_rel * z1) + c.prog_noise_abs_S * z2
        lo, hi = c.g_step_S, 1.5 * c.g_max_S
        n_clip = int(((g < lo) | (g > hi)).sum())
        g = torch.clamp(g, lo, hi)
        return self.apply_faults(cells, c.to_grid(g)), n_clip

    def apply_faults(self, cells: torch.Tensor, g_S: torch.Tensor) -> torch.Tensor:
        """Override stuck cells: stuck-at-LRS cells read g_max_S, stuck-at-HRS cells g_min_S."""
        s = self.stuck(cells)
        g = g_S.clone()
        g[s == 1] = self.cfg.to_grid(torch.tensor(self.cfg.g_max_S, dtype=torch.float64))
        g[s == 2] = self.cfg.to_grid(torch.tensor(self.cfg.g_min_S, dtype=torch.float64))
        return g

    def breakdown_voltage_V(self, cells: torch.Tensor) -> torch.Tensor:
        """Breakdown (forming) voltage of each cell: normal(v_bd_mean_V, v_bd_std_V)."""
        return self.cfg.v_bd_mean_V + self.cfg.v_bd_std_V * rng.normal(self.key("v_bd"), cells)

    def form(self, cells: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Electroform cells with a staircase voltage sweep; the result is *random* conductances.

        The sweep applies v_sweep_start_V, +v_sweep_step_V, ... up to v_form_max_V; a cell
        forms at the first step at or above its breakdown voltage. A formed cell takes
        ``normal(g_formed_mean_S, g_formed_std_S)`` (clipped to [g_min_S, 1.5 g_max_S]);
        an unformed one keeps its pristine, lognormal conductance around g_pristine_S.
        Stuck-at faults override the result.

        Returns:
            (conductance on the state grid, formed mask (bool), forming voltage (V, NaN if
            unformed)).
        """
        c = self.cfg
        v_bd = self.breakdown_voltage_V(cells)
        n_steps = math.floor((c.v_form_max_V - c.v_sweep_start_V) / c.v_sweep_step_V + 1e-9)
        k = torch.ceil(torch.clamp((v_bd - c.v_sweep_start_V) / c.v_sweep_step_V, min=0.0) - 1e-9)
        formed = k <= n_steps
        v_form = torch.where(formed, c.v_sweep_start_V + k * c.v_sweep_step_V, torch.nan)
        z = rng.normal(self.key("formed_g"), cells)
        g_formed = torch.clamp(c.g_formed_mean_S + c.g_formed_std_S * z, c.g_min_S, 1.5 * c.g_max_S)
        zp = rng.normal(self.key("pristine_g"), cells)
        g_pristine = c.g_pristine_S * torch.exp(c.g_pristine_sigma_rel * zp)
        g = torch.where(formed, g_formed, g_pristine)
        g = torch.clamp(c.to_grid(g), min=c.g_step_S)
        return self.apply_faults(cells, g), formed, v_form

    def drift(self, cells: torch.Tensor, g_S: torch.Tensor, t_s: float) -> torch.Tensor:
        """Conductance after time ``t_s`` since programming: ``G (t / t0)^-nu`` for t > t0.

        For ``t_s <= drift_t0_s`` the programmed value is returned. Stuck cells do not drift.
        """
        c = self.cfg
        if t_s <= c.drift_t0_s:
            return g_S.clone()
        nu = self.drift_nu(cells)
        g = c.to_grid(g_S * torch.pow(torch.tensor(t_s / c.drift_t0_s, dtype=torch.float64), -nu))
        g = torch.clamp(g, min=c.g_step_S)
        return self.apply_faults(cells, g)

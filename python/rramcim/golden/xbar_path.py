"""Golden model of the crossbar read path: cim_xbar_ctrl + cim_adc_if + the analogue macro.

Batched and bit-exact with the RTL co-simulation: it drives the *same*
:class:`~rramcim.analog.crossbar.CrossbarMacro` object with the same bit planes, in the read
order of ``docs/read_path.md``, with the same read numbers (which key the read noise), and
accumulates the ADC codes with :func:`rramcim.golden.xbar_ctrl.accumulate`, the integer model
of the controller.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from rramcim.analog.crossbar import CrossbarMacro
from rramcim.fixedpoint import check_range
from rramcim.golden.adc_if import saturation_flags
from rramcim.golden.xbar_ctrl import accumulate


@dataclass(frozen=True)
class ReadPathConfig:
    """Run-time configuration of the controller (the RTL's ``cfg_*`` inputs).

    Attributes:
        tiles: row tiles per vector, >= 1.
        groups: column groups (of n_adc outputs) per tile, >= 1.
        in_bits: input bit planes, 1..16.
        signed: inputs are two's complement (the top plane has negative weight).
    """

    tiles: int = 1
    groups: int = 1
    in_bits: int = 1
    signed: bool = False

    def __post_init__(self) -> None:
        for name, lo, hi in (("tiles", 1, 4096), ("groups", 1, 4096), ("in_bits", 1, 16)):
            v = getattr(self, name)
            if int(v) != v or not lo <= v <= hi:
                raise ValueError(f"ReadPathConfig.{name} = {v!r} is outside [{lo}, {hi}]")

    @property
    def reads_per_vector(self) -> int:
        """Reads (conversions of one group) per input vector: tiles * in_bits * groups."""
        return self.tiles * self.in_bits * self.groups

    def check_macro(self, macro: CrossbarMacro) -> None:
        """Raise ValueError if this configuration does not fit the macro."""
        if self.tiles * self.groups > macro.cfg.n_groups:
            raise ValueError(
                f"ReadPathConfig: tiles * groups = {self.tiles * self.groups} exceeds the "
                f"macro's {macro.cfg.n_groups} column groups"
            )


@dataclass
class ReadPathResult:
    """Outputs of :func:`run_read_path`.

    Attributes:
        acc: int64 ``[V, groups * n_adc]``, the controller's output words.
        codes: int64 ``[V, tiles, in_bits, groups, n_adc]``, every ADC code.
        clipped: bool, same shape as codes: the analogue value was outside the ADC range.
        sat_flags: bool, same shape: the code is an extreme code (what cim_adc_if flags).
        reads: reads performed.
    """

    acc: np.ndarray
    codes: np.ndarray
    clipped: np.ndarray
    sat_flags: np.ndarray
    reads: int


def bit_plane_tensor(x: np.ndarray, in_bits: int, signed: bool) -> torch.Tensor:
    """Binary planes ``[in_bits, ...]`` (float32 0/1) of integer inputs (two's complement).

    ``signed`` only documents the encoding: the planes of a two's-complement number are its
    low ``in_bits`` bits either way (the sign plane's weight is applied when accumulating).
    """
    u = torch.from_numpy(np.asarray(x, dtype=np.int64)).to(torch.int32) & ((1 << in_bits) - 1)
    return torch.stack([((u >> b) & 1).to(torch.float32) for b in range(in_bits)])


def run_read_path(
    macro: CrossbarMacro,
    x: np.ndarray,
    cfg: ReadPathConfig,
    epoch: int = 0,
    first_read: int = 0,
) -> ReadPathResult:
    """Evaluate input vectors through the read path.

    Args:
        macro: the analogue macro (programmed).
        x: integer inputs ``[V, tiles * rows]``; element ``t * rows + r`` drives row r in tile t.
        cfg: controller configuration.
        epoch: reset epoch (keys the read noise).
        first_read: read number of the first read of vector 0 since the last reset.

    Returns:
        :class:`ReadPathResult`.

    Raises:
        ValueError: wrong shape, or an input outside the ``in_bits`` range (naming it).
    """
    cfg.check_macro(macro)
    rows, A = macro.cfg.rows, macro.cfg.n_adc
    x = np.asarray(x, dtype=np.int64)
    if x.ndim != 2 or x.shape[1] != cfg.tiles * rows:
        raise ValueError(f"run_read_path: x must have shape [V, {cfg.tiles * rows}], got {x.shape}")
    check_range("x", x.reshape(-1), cfg.in_bits, cfg.signed)
    V, T, B, G = x.shape[0], cfg.tiles, cfg.in_bits, cfg.groups
    R = cfg.reads_per_vector
    planes = bit_plane_tensor(x.reshape(V, T, rows), B, cfg.signed)  # [B, V, T, rows]
    codes = np.zeros((V, T, B, G, A), dtype=np.int64)
    clipped = np.zeros((V, T, B, G, A), dtype=bool)
    v_base = first_read + torch.arange(V, dtype=torch.int64).reshape(V, 1) * R
    for t in range(T):
        groups = torch.arange(t * G, (t + 1) * G, dtype=torch.int64)
        for b in range(B):
            k = v_base + (t * B + b) * G + torch.arange(G, dtype=torch.int64).reshape(1, G)
            res = macro.read(planes[b, :, t, :], groups, k, epoch=epoch, check_binary=False)
            codes[:, t, b] = res.codes.numpy()
            clipped[:, t, b] = res.saturated.numpy()
    acc = accumulate(codes, T, G, B, cfg.signed)
    sat = np.asarray(saturation_flags(codes, macro.cfg.adc_bits), dtype=bool)
    return ReadPathResult(acc=acc, codes=codes, clipped=clipped, sat_flags=sat, reads=V * R)

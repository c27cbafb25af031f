"""Golden model of the crossbar read path: cim_xbar_ctrl + cim_adc_if + the analogue macro.

Batched and bit-exact with the RTL co-simulation: it drives the *same*
:class:`~rramcim.analog.crossbar.CrossbarMacro` object with the same bit planes, in the read
order of ``docs/read_path.md``, with the same read numbers (which key the read noise), and
shift-adds the ADC codes with the plane weights of :mod:`rramcim.golden.xbar_ctrl`, the
integer model of the controller. With ``keep_codes=True`` every code is kept and the
accumulation is done by :func:`rramcim.golden.xbar_ctrl.accumulate` itself; the default fast
path accumulates plane by plane in torch int64 (a test checks the two agree).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from rramcim.analog.crossbar import CrossbarMacro
from rramcim.fixedpoint import check_range
from rramcim.golden.adc_if import saturation_flags
from rramcim.golden.xbar_ctrl import accumulate, plane_weights


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
        reads: reads performed.
        conversions: ADC channel conversions (reads * n_adc).
        n_clipped: conversions whose analogue value was outside the ADC range.
        n_sat_flags: codes equal to an extreme code (what cim_adc_if counts).
        codes: with ``keep_codes``: int64 ``[V, tiles, in_bits, groups, n_adc]``, every code.
        clipped: with ``keep_codes``: bool, same shape as codes.
        sat_flags: with ``keep_codes``: bool, same shape as codes.
    """

    acc: np.ndarray
    reads: int
    conversions: int
    n_clipped: int
    n_sat_flags: int
    codes: np.ndarray | None = None
    clipped: np.ndarray | None = None
    sat_flags: np.ndarray | None = None


def run_read_path(
    macro: CrossbarMacro,
    x: np.ndarray,
    cfg: ReadPathConfig,
    epoch: int = 0,
    first_read: int = 0,
    keep_codes: bool = False,
) -> ReadPathResult:
    """Evaluate input vectors through the read path.

    Args:
        macro: the analogue macro (programmed).
        x: integer inputs ``[V, tiles * rows]``; element ``t * rows + r`` drives row r in tile t.
        cfg: controller configuration.
        epoch: reset epoch (keys the read noise).
        first_read: read number of the first read of vector 0 since the last reset.
        keep_codes: also return every ADC code (and accumulate with
            :func:`rramcim.golden.xbar_ctrl.accumulate`).

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
    # the two's-complement bits of each input; up to 15 bits fit int16 (half the work of int32)
    u = torch.from_numpy(x.reshape(V, T, rows)).to(torch.int32) & ((1 << B) - 1)
    u = u.to(torch.int16) if B <= 15 else u
    pw = plane_weights(B, cfg.signed).tolist()
    lo, hi = macro.cfg.code_range
    codes = np.zeros((V, T, B, G, A), dtype=np.int64) if keep_codes else None
    clipped = np.zeros((V, T, B, G, A), dtype=bool) if keep_codes else None
    acc = torch.zeros(V, G, A, dtype=torch.int64)
    n_clip = n_sat = 0
    v_base = first_read + torch.arange(V, dtype=torch.int64).reshape(V, 1) * R
    for t in range(T):
        groups = torch.arange(t * G, (t + 1) * G, dtype=torch.int64)
        for b in range(B):
            plane = ((u[:, t, :] >> b) & 1).to(torch.float32)
            k = v_base + (t * B + b) * G + torch.arange(G, dtype=torch.int64).reshape(1, G)
            res = macro.read(plane, groups, k, epoch=epoch, check_binary=False)
            n_clip += int(torch.count_nonzero(res.saturated))
            n_sat += int(torch.count_nonzero(res.codes <= lo)) + int(
                torch.count_nonzero(res.codes >= hi)
            )
            if keep_codes:
                codes[:, t, b] = res.codes.numpy()
                clipped[:, t, b] = res.saturated.numpy()
            else:
                acc.add_(res.codes, alpha=pw[b])  # the controller's shift-add, s_b * 2^b
    if keep_codes:
        acc_np = accumulate(codes, T, G, B, cfg.signed)
        sat = np.asarray(saturation_flags(codes, macro.cfg.adc_bits), dtype=bool)
        return ReadPathResult(
            acc=acc_np,
            reads=V * R,
            conversions=V * R * A,
            n_clipped=n_clip,
            n_sat_flags=int(sat.sum()),
            codes=codes,
            clipped=clipped,
            sat_flags=sat,
        )
    return ReadPathResult(
        acc=acc.reshape(V, G * A).numpy(),
        reads=V * R,
        conversions=V * R * A,
        n_clipped=n_clip,
        n_sat_flags=n_sat,
    )

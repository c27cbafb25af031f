"""Placement of the PRIME layers on formed (random) RRAM macros.

A layer's weight matrix in crossbar orientation is ``[fan_in, out]``: rows are the flattened
receptive field (``in_ch * k * k`` for a convolution, ``in_features`` for a linear layer),
columns the output channels. Blocks are placed by :func:`rramcim.analog.tiling.plan_tiles`
on macros that are *electroformed* (:meth:`CrossbarMacro.form_random`), so the weights are the
random differential conductances ``G+ - G-`` the forming left behind. Training only learns
which pairs to keep; pruned pairs are RESET to high resistance on the chip.

Macro ids are ``100 * layer + i``, so every layer's cells (and read noise) are keyed apart.
"""

from __future__ import annotations

from rramcim.analog.crossbar import CrossbarConfig
from rramcim.analog.device import DeviceConfig
from rramcim.analog.tiling import TiledCrossbar


def form_layer(
    layer: int, fan_in: int, out: int, cfg: CrossbarConfig, device: DeviceConfig, seed: int
) -> TiledCrossbar:
    """Form the macros of one layer (macro ids ``100 * layer + i``)."""
    return TiledCrossbar.formed(fan_in, out, cfg, device, seed=seed, macro_id_base=100 * layer)

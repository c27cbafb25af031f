"""Torch layers for hardware-aware training: LIF neurons with surrogate gradients, supermasks."""

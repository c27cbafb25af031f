"""Torch layers for hardware-aware training: LIF neurons with surrogate gradients, supermasks
(:mod:`rramcim.nn.lif`, :mod:`rramcim.nn.supermask`), and the neural-field layers (Gaussian
encoder from RRAM conductances, SIREN, :mod:`rramcim.nn.field`)."""

"""Bit-exact reference models of the RTL blocks (pure Python/numpy, no cocotb import).

One module per block, named after it (``cim_xbar_ctrl`` -> :mod:`rramcim.golden.xbar_ctrl`).
"""

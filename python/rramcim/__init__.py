"""rramcim: verified analogue RRAM compute-in-memory accelerators.

Device and crossbar models (:mod:`rramcim.analog`), the integer arithmetic shared with the RTL
(:mod:`rramcim.fixedpoint`), bit-exact golden models (:mod:`rramcim.golden`), cocotb adapters
(:mod:`rramcim.cosim`) and the cost model (:mod:`rramcim.cost`).
"""

from __future__ import annotations

__version__ = "0.1.0"

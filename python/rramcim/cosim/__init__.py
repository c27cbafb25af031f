"""cocotb adapters that attach the analogue models to the HDL shells."""

"""Reusable verification IP for the rramcim benches: the pytest-side runner and cocotb helpers."""

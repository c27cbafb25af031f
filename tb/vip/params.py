"""Read the HDL parameters of the running bench (passed as ``PARAM_<NAME>`` by the runner)."""

from __future__ import annotations

import os


def param(name: str, default: int | None = None) -> int:
    """Integer HDL parameter ``name`` of the current simulation.

    Raises:
        KeyError: if it was not passed and has no default.
    """
    v = os.environ.get(f"PARAM_{name}")
    if v is None:
        if default is None:
            raise KeyError(f"bench parameter PARAM_{name} is not set")
        return default
    return int(v)

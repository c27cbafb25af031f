"""Test order of the whole regression (``tests`` and ``tb``): the long benches start first.

``make test`` runs pytest-xdist with ``--dist worksteal`` on two workers: the collection is
split in two halves, and a worker that runs out of tests takes half of the other's queue. A
worker never gives up the test it is running, so a long test that starts late sets the end of
the run while the other worker idles (the PRIME top bench on Icarus, 650-820 s in the fresh
clones of 2026-11-29/30, was collected 1182nd of 1216 and ended every run alone). Longest
first is the usual cure: the simulator benches go to the front, the top benches before the
block benches and Icarus before Verilator (Icarus is the slower simulator on every top bench),
the PRIME top (the longest by far) first of all. Within each group, and for the unit tests
after them, the collection order is kept, so module-scoped fixtures still run once per module
on each worker. The order changes only when tests run, never what they check.
"""

from __future__ import annotations

import pytest

# bench folders by measured run time, longest first (Icarus, cocotb results files of the
# fresh-clone runs: cim_prime_top 650-820 s for its ``prime`` set, the other top benches
# 20-90 s per node); every other bench follows in collection order
_FIRST_BENCHES = ("tb/cim_prime_top/", "tb/cim_nfield_top/", "tb/cim_ode_top/")


def _rank(item: pytest.Item) -> tuple[int, int, int]:
    """Sort key: (group, bench rank, simulator rank); smaller runs earlier."""
    if item.get_closest_marker("sim") is None:
        return (2, 0, 0)
    path = item.nodeid.split("::", 1)[0]
    bench = next(
        (k for k, prefix in enumerate(_FIRST_BENCHES) if path.startswith(prefix)),
        len(_FIRST_BENCHES),
    )
    callspec = getattr(item, "callspec", None)
    sim = callspec.params.get("sim") if callspec is not None else None
    return (0 if bench < len(_FIRST_BENCHES) else 1, bench, 0 if sim == "icarus" else 1)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Put the long simulator benches first (stable sort: ties keep the collection order)."""
    items[:] = sorted(items, key=_rank)

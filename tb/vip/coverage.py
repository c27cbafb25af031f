"""Functional coverage for the cocotb benches: named hit counters that fail on holes."""

from __future__ import annotations

import logging


class Coverage:
    """Named hit counters; :meth:`check` fails the test on any required bin left at zero."""

    def __init__(self) -> None:
        self.hits: dict[str, int] = {}

    def hit(self, name: str) -> None:
        self.hits[name] = self.hits.get(name, 0) + 1

    def check(self, required: list[str], log: logging.Logger) -> None:
        log.info("coverage: %s", ", ".join(f"{k}={v}" for k, v in sorted(self.hits.items())))
        holes = [b for b in required if not self.hits.get(b)]
        assert not holes, f"coverage holes: {holes}"

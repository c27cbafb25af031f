"""Torch's intra-op thread count, set for a block of work and restored after it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch


@contextmanager
def torch_threads(n: int | None = 1) -> Iterator[None]:
    """Run the ``with`` block with ``n`` torch intra-op threads, then restore the caller's.

    The trainings and evaluations of the package run on one thread by default: ``make test``
    and ``make sim`` run two processes on two cores (with more threads each they oversubscribe
    the cores), and one thread keeps the float reductions in one order, so the results
    reproduce bit for bit on one machine.

    Args:
        n: threads inside the block (>= 1); ``None`` leaves the count as it is.

    Raises:
        ValueError: if ``n`` is below 1.
    """
    if n is not None and n < 1:
        raise ValueError(f"torch_threads: n must be >= 1 or None, got {n}")
    prev = torch.get_num_threads()
    if n is not None:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(prev)

"""Tests of rramcim.threads."""

from __future__ import annotations

import pytest
import torch

from rramcim.threads import torch_threads


def test_sets_and_restores_the_thread_count() -> None:
    prev = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        with torch_threads():
            assert torch.get_num_threads() == 1
        assert torch.get_num_threads() == 2
        with torch_threads(3):
            assert torch.get_num_threads() == 3
        assert torch.get_num_threads() == 2
        with torch_threads(None):
            assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(prev)


def test_restores_after_an_exception() -> None:
    prev = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        with pytest.raises(RuntimeError, match="inside"), torch_threads(1):
            raise RuntimeError("inside")
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(prev)


@pytest.mark.parametrize("n", [0, -1])
def test_rejects_fewer_than_one_thread(n: int) -> None:
    prev = torch.get_num_threads()
    with pytest.raises(ValueError, match=f"got {n}"), torch_threads(n):
        pass
    assert torch.get_num_threads() == prev

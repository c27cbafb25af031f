"""Tests of tb.vip.runner's argument checks (no simulator is started)."""

from __future__ import annotations

import pytest

from tb.vip.runner import run_shared, waves_on


def test_waves_on(monkeypatch: pytest.MonkeyPatch) -> None:
    for value, on in (("", False), ("0", False), ("1", True), ("yes", True)):
        monkeypatch.setenv("WAVES", value)
        assert waves_on() is on
    monkeypatch.delenv("WAVES")
    assert waves_on() is False


def test_run_shared_refuses_inconsistent_shards(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WAVES", raising=False)
    bench = {"sim": "icarus", "toplevel": "t", "module": "m", "sources": []}
    with pytest.raises(
        ValueError, match=r"shard 1 overrides the shared build \(\['parameters'\]\)"
    ):
        run_shared(bench, [{}, {"parameters": {"N": 1}}], nodeid="n")
    with pytest.raises(ValueError, match="shard 0 has no nodeid of its own"):
        run_shared(bench, [{}, {}], nodeid="n", share=False)
    with pytest.raises(ValueError, match="1 result files for 2 shards"):
        run_shared(bench, [{}, {}], nodeid="n", results=["a.json"])
    # with WAVES on every shard builds its own, so each needs its own folder
    monkeypatch.setenv("WAVES", "1")
    with pytest.raises(ValueError, match="shard 0 has no nodeid of its own"):
        run_shared(bench, [{}, {}], nodeid="n")

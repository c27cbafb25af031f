"""Tests of rramcim.report.text."""

from __future__ import annotations

import pytest

from rramcim.report.text import text_table


def test_header_rule_and_alignment() -> None:
    t = text_table([("metric", "sw", "hw"), ("NRMSE", "0.20 %", "1.6 %")], "Twin")
    assert t.splitlines() == [
        "Twin",
        "+--------+--------+-------+",
        "| metric |     sw |    hw |",
        "+--------+--------+-------+",
        "| NRMSE  | 0.20 % | 1.6 % |",
        "+--------+--------+-------+",
    ]


def test_without_header() -> None:
    t = text_table([("a", "1"), ("bbb", "22")], "T", header=False)
    assert t.splitlines() == ["T", "+-----+----+", "| a   |  1 |", "| bbb | 22 |", "+-----+----+"]


@pytest.mark.parametrize(("rows", "match"), [([], "no rows"), ([("a", "b"), ("c",)], "lengths")])
def test_bad_rows_are_errors(rows: list, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        text_table(rows, "T")

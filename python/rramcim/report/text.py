"""Plain-text tables for the command line and the logs."""

from __future__ import annotations

from collections.abc import Sequence


def text_table(rows: Sequence[Sequence[str]], title: str, header: bool = True) -> str:
    """A boxed text table under ``title``: first column left-aligned, the others right-aligned.

    Args:
        rows: the cells, one sequence of strings per row, all rows the same length.
        title: the line printed above the table.
        header: draw a rule under the first row (the column heads).

    Raises:
        ValueError: if there are no rows or the rows differ in length.
    """
    if not rows:
        raise ValueError(f"text_table {title!r}: no rows")
    n = len(rows[0])
    if any(len(r) != n for r in rows):
        raise ValueError(f"text_table {title!r}: rows of different lengths")
    w = [max(len(r[i]) for r in rows) for i in range(n)]
    line = "+" + "+".join("-" * (x + 2) for x in w) + "+"
    out = [title, line]
    for k, r in enumerate(rows):
        cells = [c.ljust(w[i]) if i == 0 else c.rjust(w[i]) for i, c in enumerate(r)]
        out.append("| " + " | ".join(cells) + " |")
        if header and k == 0:
            out.append(line)
    out.append(line)
    return "\n".join(out)

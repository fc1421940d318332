"""Text laid out for a terminal: aligned tables and `label: value` lines.

Widths are display columns, not characters: a Chinese character takes two columns on a terminal, so
"更换光模块" is as wide as ten Latin letters and the columns after it still line up.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

CELL_WIDTH = 48
"""The widest a table cell gets; longer text is cut with an ellipsis (the full text is in --json)."""

NARROWEST = 10
"""The last column, narrowed to fit a terminal, keeps at least this many display columns."""

UNCUT = 20
"""Cells up to this wide (ids, times, states) are not cut to fit a terminal."""

LABEL_WIDTH = 24
"""Labels longer than this do not push every value of the record to the right."""

GAP = "  "


def display_width(text: str) -> int:
    return sum(_char_width(c) for c in text)


def _char_width(c: str) -> int:
    if unicodedata.combining(c):
        return 0
    return 2 if unicodedata.east_asian_width(c) in ("W", "F") else 1


def clip(text: str, width: int = CELL_WIDTH) -> str:
    """The text on one line, cut to `width` display columns with an ellipsis when longer."""
    flat = " ".join(text.split())
    if display_width(flat) <= width:
        return flat
    kept, used = [], 1  # the ellipsis takes one column
    for c in flat:
        used += _char_width(c)
        if used > width:
            break
        kept.append(c)
    return "".join(kept) + "…"


def pad(text: str, width: int) -> str:
    return text + " " * max(0, width - display_width(text))


def table(
    headers: Sequence[str], rows: Sequence[Sequence[str]], *, indent: str = "", width: int | None = None
) -> list[str]:
    """Rows under their headers, each column as wide as its widest cell (cells are clipped first);
    within `width` columns if given, by narrowing the widest columns, so a terminal does not wrap."""
    cells = [[clip(cell) for cell in row] for row in [headers, *rows]]
    widths = [max(display_width(row[i]) for row in cells) for i in range(len(headers))]
    if width is not None:
        widths = _fitted(widths, width - len(indent) - len(GAP) * (len(widths) - 1))
        cells = [[clip(cell, w) for cell, w in zip(row, widths, strict=True)] for row in cells]
    return [_row(row, widths, indent) for row in cells]


def _fitted(widths: Sequence[int], room: int) -> list[int]:
    """The widths narrowed until they fit in `room`: the last column first (down to NARROWEST), then
    the widest. Ids, times and states (up to UNCUT columns) are never cut: a table too wide for the
    terminal with them whole wraps rather than showing an id nobody can copy."""
    last = len(widths) - 1
    floors = [NARROWEST if i == last else min(w, UNCUT) for i, w in enumerate(widths)]
    fitted = list(widths)
    while sum(fitted) > room:
        narrowable = [i for i, w in enumerate(fitted) if w > floors[i]]
        if not narrowable:
            break
        fitted[last if last in narrowable else max(narrowable, key=fitted.__getitem__)] -= 1
    return fitted


def _row(cells: Sequence[str], widths: Sequence[int], indent: str) -> str:
    padded = [pad(cell, width) for cell, width in zip(cells, widths, strict=True)]
    return (indent + GAP.join(padded)).rstrip()


def labelled(pairs: Sequence[tuple[str, str]], *, indent: str = "") -> list[str]:
    """`label: value` lines with the values aligned; a value's further lines stay under its first."""
    width = min(LABEL_WIDTH, max((len(label) for label, _ in pairs), default=0) + 1)
    lines = []
    for label, value in pairs:
        head = f"{indent}{label + ':':<{width}} "
        first, *more = value.splitlines() or [""]
        lines.append((head + first).rstrip())
        lines += [(" " * len(head) + line).rstrip() for line in more]
    return lines

"""What every report's exports share (pure: no I/O): a report is a list of sections, each a name, a
header and rows; the CSV writes them as blocks, and a page shows them as tables.

The CSV is one block of rows per section, each with its own header row whose first column is
``section``, blocks apart by an empty row. A page is one self-contained document: inline style, no
script, nothing fetched from anywhere; every text from the report is escaped here.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from html import escape

Cell = str | int | float
Row = list[Cell]


@dataclass(frozen=True)
class Section:
    """One part of a report: a CSV block, a spreadsheet's sheet, a page's table."""

    name: str
    header: list[str]
    rows: list[Row]


def sections_csv(sections: Iterable[Section]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for index, section in enumerate(sections):
        if index:
            writer.writerow([])
        writer.writerow(["section", *section.header])
        writer.writerows([section.name, *row] for row in section.rows)
    return out.getvalue()


# --- the page ---

STYLE = """
body{font-family:system-ui,"Noto Sans CJK SC","PingFang SC",sans-serif;margin:2rem;color:#1d2330;
max-width:72rem}
h1{font-size:1.5rem;margin-bottom:.2rem}h2{font-size:1.15rem;margin-top:2rem}
.sub{color:#5b6475}.draft{background:#fff4d6;border:1px solid #e0b54a;padding:.5rem .8rem;border-radius:4px}
.headline{display:flex;gap:1rem;flex-wrap:wrap;margin:1rem 0}
.card{border:1px solid #d6dbe4;border-radius:6px;padding:.6rem 1rem;min-width:8rem}
.card b{display:block;font-size:1.6rem}
table{border-collapse:collapse;margin:.5rem 0}th,td{border-bottom:1px solid #e3e7ee;padding:.3rem .7rem;
text-align:left}td.n{text-align:right;font-variant-numeric:tabular-nums}th{background:#f4f6f9}
.empty{color:#8a93a3;font-style:italic}
"""

# What a browser may load for such a page: its inline style, nothing else.
CONTENT_SECURITY_POLICY = "default-src 'none'; style-src 'unsafe-inline'"


class Markup:
    """A piece made here (an SVG chart, a bar), inserted as it is."""

    def __init__(self, html: str) -> None:
        self.html = html


def is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def cell(value: Cell) -> str:
    numeric = isinstance(value, int | float) or (isinstance(value, str) and is_number(value))
    return f'<td class="n">{escape(str(value))}</td>' if numeric else f"<td>{escape(str(value))}</td>"


def table(header: Sequence[str], rows: Iterable[Sequence[Cell | Markup]], *, empty: str = "None.") -> str:
    body = "".join(
        "<tr>" + "".join(c.html if isinstance(c, Markup) else cell(c) for c in row) + "</tr>" for row in rows
    )
    if not body:
        return f'<p class="empty">{escape(empty)}</p>'
    head = "".join(f'<th scope="col">{escape(h)}</th>' for h in header)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def headline(cards: Iterable[tuple[str, str]]) -> str:
    """The figures a reader looks at first, as cards: (name, value)."""
    return '<div class="headline">' + "".join(
        f'<div class="card"><b>{escape(value)}</b>{escape(name)}</div>' for name, value in cards
    ) + "</div>"  # fmt: skip


def page(title: str, body: Iterable[str], *, style: str = "") -> str:
    """The document around ``body`` (pieces made with this module's escaping); ``title`` is text."""
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)}</title>",
        f"<style>{STYLE}{style}</style></head><body>",
        *body,
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"

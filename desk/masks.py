"""The masks of customer data, one set for answers (services/customer_data.py), logs and spans.

A field is masked to recognise the customer on the phone, not to call them: ``138****6138``,
``张*``, ``z***@example.com``. :func:`mask_numbers_in` masks every telephone-like number in a text:
the safety net of log lines (desk/log_format.py) and span attributes (desk/span_scrub.py), and what a
reader not answered the phone in clear sees of typed free text.
"""

from __future__ import annotations

import re

# Seven digits or more, as people type numbers (spaces, hyphens, a leading +); not inside an id
# (TK-2026…, WO_12345678) and not a date (2026-12-02, 2026-12-02 12).
NUMBER_LIKE = re.compile(r"(?<![A-Za-z0-9_-])\+?\d(?:[ -]?\d){6,}(?![A-Za-z0-9_-])")
_DATE_LIKE = re.compile(r"\d{4}-\d{1,2}-\d{1,2}(?: \d{1,2})?")
_KEEP_HEAD, _KEEP_TAIL = 3, 4


def mask_number(number: str) -> str:
    """``13812346138`` → ``138****6138``: the first three and last four digits kept, separators as typed.

    Short numbers (under eight digits) keep only their last two: three and four of seven would be all
    but one digit."""
    digits = sum(c.isdigit() for c in number)
    head, tail = (_KEEP_HEAD, _KEEP_TAIL) if digits >= 8 else (0, 2)
    out, seen = [], 0
    for c in number:
        if c.isdigit():
            seen += 1
            out.append(c if seen <= head or seen > digits - tail else "*")
        else:
            out.append(c)
    return "".join(out)


def mask_numbers_in(text: str) -> str:
    """``call 13812346138 back`` → ``call 138****6138 back``; ids and dates are left as they are."""
    return NUMBER_LIKE.sub(_mask_unless_date, text)


def _mask_unless_date(match: re.Match[str]) -> str:
    found = match.group(0)
    return found if _DATE_LIKE.fullmatch(found) else mask_number(found)


def mask_name(name: str) -> str:
    """``张三丰`` → ``张*``: the family name (a Chinese name's first character, a Western name's last
    word) and one star, however long the rest."""
    words = name.split()
    if not words:
        return ""
    if len(words) > 1:
        return f"* {words[-1]}"
    return f"{words[0][0]}*"


def mask_email(email: str) -> str:
    """``zhang.san@example.com`` → ``z***@example.com``; the domain says which organisation, not who."""
    local, at, domain = email.strip().partition("@")
    if not at:
        return "***"
    return f"{local[:1]}***@{domain}"

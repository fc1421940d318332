"""Which team a ticket goes to: an active team that takes its category and has not returned it.

Routing rules by region and customer tier, and the desk's fallback queue, come with the dispatch
issue; until then the category decides, and the first team in id order wins for stable answers.
"""

from __future__ import annotations

from collections.abc import Iterable


def choose_team(candidates: Iterable[str], *, exclude: Iterable[str]) -> str | None:
    excluded = set(exclude)
    return next((team for team in sorted(candidates) if team not in excluded), None)

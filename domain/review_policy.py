"""Which dispatches wait for a senior agent's review (审核) before the team sees them (seed 002 二.6, 三.2).

A junior agent's dispatch is always reviewed; senior agents and managers are the reviewers, so theirs
go straight to the team. Automatic routing is exempt unless the routing rule that chose the team asks
for review. VIP tickets (大用户) always pass a senior agent, however they were dispatched.
"""

from __future__ import annotations

from collections.abc import Collection

REVIEWERS = frozenset({"senior_agent", "manager", "admin"})
VIP = "VIP"


def manual_dispatch_needs_review(roles: Collection[str]) -> bool:
    return REVIEWERS.isdisjoint(roles)


def automatic_dispatch_needs_review(*, customer_tier: str, rule_requires_review: bool) -> bool:
    return customer_tier == VIP or rule_requires_review

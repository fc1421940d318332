"""Which team a ticket goes to (自动派单): routing rules first, then the teams' own coverage, else the desk.

1. Rules are data (``dispatch.routing_rules``): category x region x customer tier -> team, "" matching
   anything. The most specific matching rule wins (category outweighs region, region outweighs tier);
   a rule whose team is inactive, or has returned this ticket, yields to the next one. A rule with no
   team keeps matching tickets at the desk (a fallback queue for manual dispatch).
2. Without a rule, an active team that takes the category (and the region, if it lists regions; one
   that names the region is preferred over one that covers every region).
3. Otherwise nobody: the ticket waits OPEN at the desk.
Ties go to the lowest id, so the same data always gives the same answer.
"""

from __future__ import annotations

from collections.abc import Iterable

from services.dispatch.contract import RouteTicketInput, RouteTicketResult, RoutingRuleRecord
from services.dispatch.repository import TeamRow


def route(
    request: RouteTicketInput, *, rules: Iterable[RoutingRuleRecord], teams: Iterable[TeamRow]
) -> RouteTicketResult:
    available = {t.team_id: t for t in teams if t.active and t.team_id not in request.exclude_team_ids}
    for rule in sorted(_matching(rules, request), key=lambda r: (-_specificity(r), r.rule_id)):
        if not rule.team_id:
            return RouteTicketResult(team_id=None, rule_id=rule.rule_id)
        if rule.team_id in available:
            return RouteTicketResult(rule.team_id, rule.rule_id, rule.require_review)
    return RouteTicketResult(team_id=_covering_team(available.values(), request))


def _matching(rules: Iterable[RoutingRuleRecord], request: RouteTicketInput) -> list[RoutingRuleRecord]:
    return [
        r
        for r in rules
        if r.category in ("", request.category)
        and r.region in ("", request.region)
        and r.customer_tier in ("", request.customer_tier)
    ]


def _specificity(rule: RoutingRuleRecord) -> int:
    return (4 if rule.category else 0) + (2 if rule.region else 0) + (1 if rule.customer_tier else 0)


def _covering_team(teams: Iterable[TeamRow], request: RouteTicketInput) -> str | None:
    covering = [
        t
        for t in teams
        if request.category in t.categories and (not t.regions or request.region in t.regions)
    ]
    best = sorted(covering, key=lambda t: (not t.regions, t.team_id))
    return best[0].team_id if best else None

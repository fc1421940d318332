"""The routing table (services/dispatch/routing.py): rules first, most specific wins, then coverage."""

from __future__ import annotations

import pytest

from services.dispatch.contract import RouteTicketInput, RoutingRuleRecord
from services.dispatch.repository import TeamRow
from services.dispatch.routing import route


def team(
    team_id: str, categories: list[str], regions: list[str] | None = None, active: bool = True
) -> TeamRow:
    return TeamRow(team_id, team_id, categories, regions or [], "24X7", "Asia/Shanghai", [], active)


TEAMS = [
    team("network", ["network"]),
    team("network-south", ["network"], ["south"]),
    team("software", ["software"]),
    team("retired", ["fax"], active=False),
]
RULES = [
    RoutingRuleRecord("east", category="network", region="east", team_id="software"),
    RoutingRuleRecord("east-vip", category="network", region="east", customer_tier="VIP", team_id="network"),
    RoutingRuleRecord("any-vip", customer_tier="VIP", team_id="software", require_review=True),
    RoutingRuleRecord("held", category="billing", team_id=""),
    RoutingRuleRecord("to-retired", category="fax", team_id="retired"),
]


@pytest.mark.parametrize(
    ("category", "region", "tier", "exclude", "team_id", "rule_id", "review"),
    [
        ("network", "", "STANDARD", [], "network", "", False),  # coverage: the all-regions team
        ("network", "south", "STANDARD", [], "network-south", "", False),  # the team naming the region
        ("network", "east", "STANDARD", [], "software", "east", False),  # a rule beats coverage
        ("network", "east", "VIP", [], "network", "east-vip", False),  # the most specific rule wins
        ("software", "north", "VIP", [], "software", "any-vip", True),  # a tier-only rule, with review
        ("network", "east", "STANDARD", ["software"], "network", "", False),  # rule's team returned it
        ("billing", "", "STANDARD", [], None, "held", False),  # a rule keeping tickets at the desk
        ("fax", "", "STANDARD", [], None, "", False),  # the rule's team is inactive, nobody covers fax
        ("plumbing", "", "STANDARD", [], None, "", False),  # nobody: waits at the desk
        ("network", "south", "STANDARD", ["network-south"], "network", "", False),
    ],
)
def test_routing_table(
    category: str,
    region: str,
    tier: str,
    *,
    exclude: list[str],
    team_id: str | None,
    rule_id: str,
    review: bool,
) -> None:
    request = RouteTicketInput("T-1", category, exclude, region, tier)
    result = route(request, rules=RULES, teams=TEAMS)
    assert (result.team_id, result.rule_id, result.require_review) == (team_id, rule_id, review)

"""Every RPC of the contract has an access rule, and a server refuses to start with one missing."""

from __future__ import annotations

import importlib
from typing import Any

import pytest

from desk.auth import MANAGERS, ROLES
from desk.errors import ConfigurationError
from desk.grpc_edge import ServiceBinding, check_access
from helpdesk.v1 import (
    dispatch_pb2,
    escalation_pb2,
    intake_pb2,
    knowledge_pb2,
    quality_pb2,
    stats_pb2,
    survey_pb2,
)
from services.survey import hotline

PROTOS: dict[str, Any] = {
    "intake": intake_pb2,
    "dispatch": dispatch_pb2,
    "survey": survey_pb2,
    "quality": quality_pb2,
    "stats": stats_pb2,
    "knowledge": knowledge_pb2,
}


@pytest.mark.parametrize("service", sorted(PROTOS))
def test_every_rpc_of_the_proto_has_an_access_rule_of_known_roles(service: str) -> None:
    access = importlib.import_module(f"services.{service}.server").ACCESS
    descriptor = PROTOS[service].DESCRIPTOR.services_by_name[f"{service.capitalize()}Service"]
    assert set(access) == set(descriptor.methods_by_name)  # none missing, none left over
    for method, roles in access.items():
        assert roles and roles <= set(ROLES), method


def test_every_rpc_of_the_manager_hotline_has_a_rule_and_managers_alone_decide() -> None:
    descriptor = escalation_pb2.DESCRIPTOR.services_by_name["EscalationService"]
    assert set(hotline.ACCESS) == set(descriptor.methods_by_name)
    for method in ("ListEscalations", "ResolveEscalation", "GetCompensationRule", "SetCompensationRule"):
        assert hotline.ACCESS[method] == MANAGERS
    assert {"agent", "senior_agent", "surveyor"} <= hotline.ACCESS["OpenEscalation"]


def test_a_method_without_a_rule_stops_the_server_from_starting() -> None:
    descriptor = stats_pb2.DESCRIPTOR.services_by_name["StatsService"]
    binding = ServiceBinding(descriptor.full_name, lambda server: None, tuple(descriptor.methods_by_name))
    access = {name: frozenset({"statistician"}) for name in descriptor.methods_by_name if name != "GetKpis"}
    with pytest.raises(ConfigurationError, match=r"helpdesk\.v1\.StatsService/GetKpis"):
        check_access([binding], access)
    check_access([binding], {**access, "GetKpis": frozenset({"statistician"})})


def test_knowledge_managers_write_agents_read_and_senior_agents_propose() -> None:
    access = importlib.import_module("services.knowledge.server").ACCESS
    for write in ("CreateEntry", "ReviseEntry", "RetireEntry"):
        assert access[write] == {"knowledge_manager"}, write
    for read in ("GetEntry", "SearchEntries"):
        assert {"agent", "senior_agent", "knowledge_manager"} <= access[read], read
    assert "senior_agent" in access["ProposeEntry"]
    assert "agent" not in access["ProposeEntry"]

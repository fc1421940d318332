"""The map of database roles (desk/database_roles.py) and the URL each desk process is given."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest

from deploy.postgres import process_database_urls, role_urls
from desk.config import SERVICES
from desk.database_roles import DESK_ROLES, SERVICE_SCHEMAS, role_name, script
from desk.db import MIGRATION_OWNERS


def test_every_schema_but_the_desks_own_is_one_services() -> None:
    """A service schema added without a role would be reachable by no process but the admin."""
    owned = [schema for schemas in SERVICE_SCHEMAS.values() for schema in schemas]
    assert sorted(owned) == sorted(set(MIGRATION_OWNERS) - {"desk"})
    assert set(SERVICE_SCHEMAS) == set(SERVICES)


def test_every_worker_process_shares_the_workers_role() -> None:
    assert [role_name(name) for name in ("worker", "worker-2", "worker-7")] == ["helpdesk_worker"] * 3
    assert role_name("intake") == "helpdesk_intake"
    assert role_name("http") == "helpdesk_http"  # the gateway: the token table only
    with pytest.raises(ValueError, match="temporal"):
        role_name("temporal")


def test_the_script_is_one_transaction_granting_only_reads_outside_a_roles_schemas() -> None:
    text = script()
    assert text.startswith("BEGIN;\n") and text.endswith("COMMIT;\n")
    granted_tables = [line for line in text.splitlines() if line.startswith("GRANT SELECT ON ")]
    readers = [role for role in DESK_ROLES if role != "helpdesk_worker"]  # the worker reads as its members
    assert granted_tables == [f"GRANT SELECT ON desk.tokens TO {role};" for role in readers]
    grants = [line for line in text.splitlines() if "GRANT" in line and "REVOKE" not in line]
    powers = ("CREATE", "TEMPORARY", "GRANT ALL")
    assert not [line for line in grants if any(power in line for power in powers)]


def test_each_process_gets_its_roles_url_with_its_password_quoted() -> None:
    urls = role_urls("postgresql://postgres:admin@127.0.0.1:15432/helpdesk", {"helpdesk_intake": "a/b@c"})
    parts = urlsplit(urls["helpdesk_intake"])
    assert (parts.username, parts.password, parts.hostname, parts.port) == (
        "helpdesk_intake",
        "a%2Fb%40c",
        "127.0.0.1",
        15432,
    )
    assert parts.path == "/helpdesk"


def test_a_configured_database_url_is_every_processs(tmp_path: Path) -> None:
    configured = "postgresql://desk:theirs@db.example/helpdesk"
    urls = process_database_urls(configured, "unused", tmp_path, ["intake", "worker", "worker-2"])
    assert urls == dict.fromkeys(["intake", "worker", "worker-2"], configured)
    assert not (tmp_path / "secrets").exists()  # no password made for a server the desk does not run

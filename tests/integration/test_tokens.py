"""Tokens expire (issue 16, item 5): refused from their expiry on, revoked at an operator's word, listed
without their secret; in production mode no service starts while development tokens work."""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import asyncpg
import grpc
import httpx
import pytest

from desk import db
from desk.auth import Principal, TokenAuthenticator, ensure_dev_tokens, issue_token
from desk.errors import ConfigurationError, Unauthenticated
from desk.token_records import refuse_development_tokens
from helpdesk.v1 import intake_pb2, intake_pb2_grpc
from tests.integration.desk_client import auth
from tests.stack import RunningDesk, helpdesk

AN_AGENT = Principal("token-test-agent", frozenset({"agent"}))


@pytest.fixture
async def pool(desk: RunningDesk) -> AsyncIterator[asyncpg.Pool]:
    pool = await db.create_pool(desk.endpoints["postgres"], max_size=2)
    try:
        yield pool
    finally:
        await pool.close()


def cli_env(desk: RunningDesk, **settings: str) -> dict[str, str]:
    return {**os.environ, "HELPDESK_DATA_DIR": str(desk.data_dir), **settings}


async def list_tickets(desk: RunningDesk, token: str) -> grpc.StatusCode:
    intake = intake_pb2_grpc.IntakeServiceStub(desk.channel("intake"))
    try:
        await intake.ListTickets(intake_pb2.ListTicketsRequest(page_size=1), metadata=auth(token))
    except grpc.aio.AioRpcError as error:
        return error.code()
    return grpc.StatusCode.OK


async def test_an_expired_token_is_refused_and_a_fresh_one_accepted(
    desk: RunningDesk, pool: asyncpg.Pool
) -> None:
    expired = await issue_token(pool, AN_AGENT, lifetime=-timedelta(minutes=1))
    fresh = await issue_token(pool, AN_AGENT, lifetime=timedelta(hours=1))
    intake = intake_pb2_grpc.IntakeServiceStub(desk.channel("intake"))
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await intake.ListTickets(intake_pb2.ListTicketsRequest(page_size=1), metadata=auth(expired))
    assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert "expired" in (caught.value.details() or "")
    assert await list_tickets(desk, fresh) == grpc.StatusCode.OK


async def test_the_http_gateway_refuses_an_expired_token_with_401(
    desk: RunningDesk, pool: asyncpg.Pool
) -> None:
    expired = await issue_token(pool, AN_AGENT, lifetime=-timedelta(minutes=1))
    async with httpx.AsyncClient(base_url=desk.endpoints["http"]["intake"], timeout=60) as http:
        answer = await http.get("/v1/tickets/TK1", headers={"Authorization": f"Bearer {expired}"})
    assert answer.status_code == 401
    assert answer.json()["error"]["status"] == "UNAUTHENTICATED"
    assert "expired" in answer.json()["error"]["message"]


async def test_a_cached_token_is_refused_from_its_expiry_not_a_cache_period_later(pool: asyncpg.Pool) -> None:
    token = await issue_token(pool, AN_AGENT, lifetime=timedelta(seconds=1.5))
    authenticator = TokenAuthenticator(pool, cache_seconds=300)
    assert await authenticator.authenticate(f"Bearer {token}") == AN_AGENT
    await asyncio.sleep(1.6)
    with pytest.raises(Unauthenticated, match="expired"):
        await authenticator.authenticate(f"Bearer {token}")


async def issued(desk: RunningDesk, *argv: str) -> dict[str, str]:
    status, output = await helpdesk("token", "issue", "--json", *argv, env=cli_env(desk))
    assert status == 0, output
    answer: dict[str, str] = json.loads(output)
    return answer


async def test_an_issued_token_works_until_revoked_by_principal_or_by_id(desk: RunningDesk) -> None:
    principal = f"integrator-{uuid.uuid4().hex[:6]}"
    used = await issued(desk, "--principal", principal, "--role", "agent", "--hours", "1")
    assert await list_tickets(desk, used["token"]) == grpc.StatusCode.OK
    by_principal = await issued(desk, "--principal", principal, "--role", "agent")
    by_id = await issued(desk, "--principal", f"{principal}-b", "--role", "agent")

    status, output = await helpdesk("token", "revoke", principal, env=cli_env(desk))
    assert status == 0 and by_principal["token_id"] in output and used["token_id"] in output, output
    status, output = await helpdesk("token", "revoke", by_id["token_id"][:8], env=cli_env(desk))
    assert status == 0 and by_id["token_id"] in output, output

    # Never used, so in no service's cache: refused at once (a cached one within 30 s).
    assert await list_tickets(desk, by_principal["token"]) == grpc.StatusCode.UNAUTHENTICATED
    assert await list_tickets(desk, by_id["token"]) == grpc.StatusCode.UNAUTHENTICATED
    status, output = await helpdesk("token", "revoke", principal, env=cli_env(desk))
    assert status == 1, output  # nothing left in force to revoke


async def test_the_list_names_tokens_without_their_secret(desk: RunningDesk) -> None:
    principal = f"lister-{uuid.uuid4().hex[:6]}"
    made = await issued(desk, "--principal", principal, "--role", "ops_engineer", "--team", "network")
    for extra in ((), ("--json",), ("--all",)):
        status, output = await helpdesk("token", "list", *extra, env=cli_env(desk))
        assert status == 0, output
        assert made["token_id"] in output and principal in output
        assert made["token"] not in output
        assert not any(token in output for token in desk.endpoints["tokens"].values())
    listed = json.loads((await helpdesk("token", "list", "--json", env=cli_env(desk)))[1])
    mine = next(record for record in listed if record["token_id"] == made["token_id"])
    assert (mine["roles"], mine["team_id"], mine["state"]) == (["ops_engineer"], "network", "active")
    assert not {"token", "token_sha256"} & set(mine)


@pytest.mark.parametrize(
    ("argv", "field"),
    [
        (("--principal", "x", "--role", "ops_engineer"), "team"),
        (("--principal", "x", "--role", "ops_engineer", "--team", "nowhere"), "team"),
        (("--principal", "x", "--role", "agent", "--hours", "0"), "hours"),
        (("--principal", "x\x1b[31m", "--role", "agent"), "principal"),
    ],
)
async def test_a_bad_issue_names_the_field_and_issues_nothing(
    desk: RunningDesk, pool: asyncpg.Pool, argv: tuple[str, ...], field: str
) -> None:
    before = await pool.fetchval("SELECT count(*) FROM desk.tokens")
    status, output = await helpdesk("token", "issue", *argv, env=cli_env(desk))
    assert status == 1 and f"{field}:" in output, output
    assert await pool.fetchval("SELECT count(*) FROM desk.tokens") == before


async def test_production_mode_refuses_development_tokens_in_force(scratch: asyncpg.Pool) -> None:
    await refuse_development_tokens(scratch)  # none at all
    await issue_token(
        scratch,
        Principal("dev-agent", frozenset({"agent"})),
        lifetime=-timedelta(seconds=1),
        development=True,
    )
    await issue_token(scratch, AN_AGENT, lifetime=timedelta(hours=1))  # an operator's token is no bar
    await refuse_development_tokens(scratch)  # an expired development token is not in force
    await issue_token(
        scratch, Principal("dev-agent", frozenset({"agent"})), lifetime=timedelta(hours=1), development=True
    )
    with pytest.raises(ConfigurationError, match="1 development tokens"):
        await refuse_development_tokens(scratch)


async def test_a_service_in_production_mode_does_not_start_beside_development_tokens(
    desk: RunningDesk,
) -> None:
    env = cli_env(
        desk,
        HELPDESK_MODE="production",
        TEMPORAL_ADDRESS=desk.endpoints["temporal"],
        NATS_URL=desk.endpoints["nats"],
        DATABASE_URL=desk.endpoints["postgres"],
        HELPDESK_PAYLOAD_KEY=(desk.data_dir / "payload.key").read_text().strip(),
        HELPDESK_SURVEY_PORT="0",
    )
    status, output = await helpdesk("serve", "survey", env=env, within=60)
    assert status == 1, output
    assert "HELPDESK_MODE=production" in output and "development tokens" in output


async def test_up_in_production_mode_revokes_the_development_tokens_and_issues_none(
    scratch: asyncpg.Pool,
) -> None:
    await scratch.execute("INSERT INTO dispatch.teams (team_id, name) VALUES ('network', 'network')")
    issued = await ensure_dev_tokens(scratch, lifetime=timedelta(hours=12))
    assert "agent" in issued and "ops_engineer:network" in issued
    assert await ensure_dev_tokens(scratch, lifetime=timedelta(hours=12), production=True) == {}
    await refuse_development_tokens(scratch)

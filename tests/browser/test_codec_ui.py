"""The embedded Temporal UI in headless chromium, on the real desk: a ticket's workflow page shows its
input in the clear to a browser signed in on the gateway's /codec/session with an SRE's token, and
ciphertext to any other: before signing in, and after an integrator's or an agent's sign-in is refused.

The UI is set up as docs/security.md tells an SRE to, once per browser: its *Codec Server* dialog
pointed at the gateway's /codec, with *Include cross-origin credentials* (the `temporal server
start-dev` that embeds the UI has no setting for it).
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import quote

import pytest
from playwright.async_api import BrowserContext, Page, Response, async_playwright, expect
from temporalio.client import Client

from desk.config import CODEC_PATH
from helpdesk.v1 import common_pb2, intake_pb2_grpc
from services.http.codec_session import COOKIE_NAME
from tests.browser.report_page_check import CHROMIUM
from tests.integration.desk_client import auth, report
from tests.stack import RunningDesk
from workflows.contract import ticket_workflow_id

NAMESPACE = "default"
WAIT_MS = 60_000
"""How long the UI may take to show a page on a loaded machine: a bound on waiting, not a measure."""


async def _ticket_page(desk: RunningDesk, marker: str, phone: str) -> str:
    """A new ticket whose workflow input carries ``marker`` and ``phone``: its page in the UI."""
    intake = intake_pb2_grpc.IntakeServiceStub(desk.channel("intake"))
    request = report(
        summary=f"No dial tone {marker}", reporter=common_pb2.Reporter(name="Zhao Lei", phone=phone)
    )
    ticket = (await intake.CreateTicket(request, metadata=auth(desk.token("agent")))).ticket
    workflow_id = ticket_workflow_id(ticket.ticket_id)
    temporal = await Client.connect(desk.endpoints["temporal"], namespace=NAMESPACE)
    run_id = (await temporal.get_workflow_handle(workflow_id).describe()).run_id
    ui = desk.endpoints["temporal_ui"]
    return f"{ui}/namespaces/{NAMESPACE}/workflows/{quote(workflow_id, safe='')}/{run_id}/history"


async def _point_the_ui_at_the_gateway(page: Page, desk: RunningDesk) -> None:
    """The dialog's steps, as docs/security.md lists them."""
    await page.goto(f"{desk.endpoints['temporal_ui']}/namespaces/{NAMESPACE}/workflows")
    await page.locator('[data-testid^="data-encoder-status"]:visible').first.click(timeout=WAIT_MS)
    await page.get_by_test_id("use-local-endpoint-input").click()
    await page.locator("#data-encoder-endpoint-input").fill(desk.endpoints["http"]["intake"] + CODEC_PATH)
    await page.locator("label").filter(has_text="Include cross-origin credentials").click()
    await page.locator('#data-encoder-settings [data-testid="confirm-modal-button"]').click()


@asynccontextmanager
async def _ui_browser(desk: RunningDesk) -> AsyncIterator[tuple[BrowserContext, Page]]:
    """A fresh chromium whose Temporal UI sends credentials to the gateway's codec endpoint."""
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=_chromium())
        try:
            context = await browser.new_context()
            page = await context.new_page()
            await _point_the_ui_at_the_gateway(page, desk)
            yield context, page
        finally:
            await browser.close()


async def _workflow_page(page: Page, url: str) -> Response:
    """Open the ticket's page; the UI's answer from the codec endpoint once it has shown the input."""
    async with page.expect_response(lambda r: f"{CODEC_PATH}/decode" in r.url, timeout=WAIT_MS) as decoded:
        await page.goto(url)
    return await decoded.value


async def _sign_in(page: Page, desk: RunningDesk, role: str) -> int:
    await page.goto(desk.endpoints["http"]["intake"] + f"{CODEC_PATH}/session")
    await page.locator('input[name="token"]').fill(desk.token(role))
    async with page.expect_response(lambda r: r.request.method == "POST") as posted:
        await page.get_by_role("button", name="Sign in").click()
    return (await posted.value).status


async def _session_cookies(context: BrowserContext) -> list[str]:
    return [c.get("value", "") for c in await context.cookies() if c.get("name") == COOKIE_NAME]


async def _assert_ciphertext(page: Page, url: str, *secrets: str) -> None:
    answer = await _workflow_page(page, url)
    assert answer.status == 401
    await expect(page.get_by_test_id("data-encoder-status-error")).to_be_visible(timeout=WAIT_MS)
    shown = await page.content()
    for secret in secrets:
        assert secret not in shown


def _chromium() -> str:
    if not shutil.which(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium (as root)")
    return CHROMIUM


async def test_a_signed_in_sre_reads_the_ticket_in_the_ui_and_no_one_before(desk: RunningDesk) -> None:
    marker, phone = f"codec-probe-{uuid.uuid4().hex[:10]}", "13912345017"
    url = await _ticket_page(desk, marker, phone)
    async with _ui_browser(desk) as (context, page):
        await _assert_ciphertext(page, url, marker, phone)

        assert await _sign_in(page, desk, "sre") == 303
        await expect(page.locator("#signed-in")).to_contain_text("dev-sre")
        [session] = await _session_cookies(context)
        assert desk.token("sre") not in session

        answer = await _workflow_page(page, url)
        assert answer.status == 200
        await expect(page.locator("body")).to_contain_text(marker, timeout=WAIT_MS)
        await expect(page.locator("body")).to_contain_text(phone, timeout=WAIT_MS)

        await page.goto(desk.endpoints["http"]["intake"] + f"{CODEC_PATH}/session")
        await page.get_by_role("button", name="Sign out").click()
        await expect(page.locator('input[name="token"]')).to_be_visible()
        assert await _session_cookies(context) == []
        await _assert_ciphertext(page, url, marker, phone)


@pytest.mark.parametrize("role", ["integrator", "agent"])
async def test_another_roles_sign_in_is_refused_and_the_ui_stays_ciphertext(
    desk: RunningDesk, role: str
) -> None:
    marker, phone = f"codec-probe-{uuid.uuid4().hex[:10]}", "13912345018"
    url = await _ticket_page(desk, marker, phone)
    async with _ui_browser(desk) as (context, page):
        assert await _sign_in(page, desk, role) == 403
        await expect(page.get_by_role("alert")).to_contain_text("Refused (403)")
        assert await _session_cookies(context) == []
        await _assert_ciphertext(page, url, marker, phone)

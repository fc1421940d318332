"""``/codec/session``: the gateway's page where an SRE signs a browser in to the codec endpoint, so the
embedded Temporal UI, which has no sign-in to pass a token from, shows payloads decoded.

- ``GET /codec/session``: who is signed in and until when, or the form; and the one setting the
  Temporal UI needs (its *Codec Server* dialog: this endpoint, *Include cross-origin credentials*).
- ``POST /codec/session`` (form field ``token``): the token is checked as the codec endpoint checks
  it (valid, and one of :data:`desk.auth.PAYLOAD_READERS`); then the session cookie
  (services/http/codec_session.py) and a 303 back to the page. Refused: 401 or 403, no cookie.
- ``POST /codec/session/sign-out``: the cookie cleared.

Both POSTs must come from this very page: a browser names the page's origin in ``Origin`` and another
site's page cannot forge it, so a form on another site cannot sign a browser in to someone else's
session, nor out (the cookie being SameSite=Strict, it would not be sent there anyway). A client that
sends no ``Origin`` is no browser, and needs no cookie: it sends its token in ``Authorization``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from html import escape
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from desk.auth import PAYLOAD_READERS, Principal
from desk.config import CODEC_PATH
from desk.report_format import page
from services.http.bodies import read_within
from services.http.codec_session import (
    CodecSessions,
    clear_session_cookie,
    refused,
    set_session_cookie,
)
from services.http.errors import HttpError

log = logging.getLogger(__name__)

SIGN_IN_PATH = "/session"
"""Under desk.config.CODEC_PATH, so the cookie's path (the codec endpoint's) covers the page too."""
MAX_FORM_BYTES = 4096
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'"
)
"""No script at all; the forms post to the gateway only; no other page may frame this one."""
_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Cache-Control": "no-store",
    # Not no-referrer: under it a browser posts the form with ``Origin: null``, which the check refuses.
    "Referrer-Policy": "same-origin",
}
_STYLE = """
form{margin:1rem 0}input[type=password]{width:28rem;max-width:100%;font:inherit;padding:.3rem}
button{font:inherit;padding:.3rem .9rem}.refused{color:#a3261b}ol li{margin:.2rem 0}code{background:#f4f6f9}
"""


class SignInPage:
    """The page's three routes; without sessions (no key ring or no token database) each is 503."""

    def __init__(self, sessions: CodecSessions | None, *, missing: str = "") -> None:
        self._sessions = sessions
        self._missing = missing

    def routes(self) -> Sequence[BaseRoute]:
        return [
            Route(SIGN_IN_PATH, self.show, methods=["GET"]),
            Route(SIGN_IN_PATH, self.sign_in, methods=["POST"]),
            Route(f"{SIGN_IN_PATH}/sign-out", self.sign_out, methods=["POST"]),
        ]

    async def show(self, request: Request) -> Response:
        try:
            signed_in = await self._configured().signed_in(request)
        except HttpError as error:
            return _page(request, error=error)
        except Exception as error:
            return _page(request, error=refused(error))
        return _page(request, signed_in=signed_in)

    async def sign_in(self, request: Request) -> Response:
        try:
            _same_origin(request)
            sessions = self._configured()
            token = _form_token(await read_within(request, MAX_FORM_BYTES))
            try:
                started = await sessions.start(token, PAYLOAD_READERS)
            except Exception as error:
                raise refused(error) from None
        except HttpError as error:
            return _page(request, error=error)
        log.info("codec session started for %s (%d s)", started.principal.principal_id, started.max_age)
        answer = RedirectResponse(_page_path(), status_code=303, headers=_HEADERS)
        set_session_cookie(answer, started, secure=_https(request))
        return answer

    async def sign_out(self, request: Request) -> Response:
        try:
            _same_origin(request)
        except HttpError as error:
            return _page(request, error=error)
        answer = RedirectResponse(_page_path(), status_code=303, headers=_HEADERS)
        clear_session_cookie(answer, secure=_https(request))
        return answer

    def _configured(self) -> CodecSessions:
        if self._sessions is None:
            raise HttpError(503, "UNAVAILABLE", f"the codec endpoint is not configured: {self._missing}")
        return self._sessions


def _same_origin(request: Request) -> None:
    origin = request.headers.get("origin")
    if origin != _origin(request):
        raise HttpError(
            403,
            "PERMISSION_DENIED",
            f"sign-in and sign-out are taken from this page only (Origin {origin or 'missing'},"
            f" expected {_origin(request)})",
        )


def _form_token(raw: bytes) -> str:
    try:
        fields = parse_qs(raw.decode(), max_num_fields=4)
    except (UnicodeDecodeError, ValueError):
        fields = {}
    token = (fields.get("token") or [""])[0].strip()
    if not token:
        raise HttpError(
            400, "INVALID_ARGUMENT", "token: paste a desk token (helpdesk token issue --role sre)"
        )
    return token


def _origin(request: Request) -> str:
    return f"{request.url.scheme}://{request.url.netloc}"


def _https(request: Request) -> bool:
    return request.url.scheme == "https"


def _page_path() -> str:
    return f"{CODEC_PATH}{SIGN_IN_PATH}"


def _page(
    request: Request, *, signed_in: tuple[Principal, int] | None = None, error: HttpError | None = None
) -> HTMLResponse:
    body = ["<h1>Temporal UI: decoded payloads</h1>"]
    if error is not None:
        body.append(
            f'<p class="refused" role="alert">Refused ({error.http_status}): {escape(str(error))}</p>'
        )
    if signed_in is not None:
        principal, ends_at = signed_in
        until = datetime.fromtimestamp(ends_at, UTC).strftime("%Y-%m-%d %H:%M UTC")
        body += [
            f'<p id="signed-in">This browser reads decoded payloads as'
            f" <b>{escape(principal.principal_id)}</b> until {until}, while that token is valid.</p>",
            f'<form method="post" action="{_page_path()}/sign-out"><button>Sign out</button></form>',
        ]
    else:
        body += [
            "<p>Paste your desk token (roles sre, manager or admin). The browser keeps a session,"
            " never the token, and sends it to this gateway's codec endpoint only.</p>",
            f'<form method="post" action="{_page_path()}"><label>Token<br>'
            '<input type="password" name="token" autocomplete="off" required></label> '
            "<button>Sign in</button></form>",
        ]
    body.append(_ui_steps(f"{_origin(request)}{CODEC_PATH}"))
    status = error.http_status if error is not None else 200
    return HTMLResponse(page("Codec session", body, style=_STYLE), status_code=status, headers=_HEADERS)


def _ui_steps(endpoint: str) -> str:
    """What the Temporal UI needs, once per browser (it keeps it in its local storage)."""
    return (
        "<h2>In the Temporal UI</h2><ol>"
        "<li>Open it at the same host name as this page (127.0.0.1 with 127.0.0.1, or localhost with"
        " localhost): the browser sends the session only to the same site.</li>"
        "<li>Click the <i>Codec Server</i> icon in its top bar.</li>"
        "<li>Choose <i>Use my browser setting and ignore Cluster-level setting</i>.</li>"
        f"<li>Endpoint: <code>{escape(endpoint)}</code></li>"
        "<li>Turn on <i>Include cross-origin credentials</i>; leave <i>Pass the user access token</i> off."
        " Apply.</li></ol>"
    )

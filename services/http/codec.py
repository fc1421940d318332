"""Temporal's codec-server protocol, so a Temporal UI or CLI shows the desk's encrypted payloads in the
clear to those allowed to read them (docs/security.md, "Reading payloads: the codec endpoint").

``POST /codec/decode`` and ``POST /codec/encode`` take and answer ``temporal.api.common.v1.Payloads``
in protobuf's JSON mapping: ``{"payloads": [{"metadata": {"encoding": "<base64>"}, "data": "<base64>"}]}``.
Decoding uses the desk's payload key ring (:mod:`desk.payload_codec`); a payload it cannot open (not
encrypted, another key, altered) comes back as it was sent, as the protocol expects, so nothing about
it leaks beyond what the caller already had. Encoding encrypts under the ring's current key, for what
a UI sends to workflows.

Only :data:`desk.auth.PAYLOAD_READERS` (SREs, managers; admins) may call either, with a desk token in
``Authorization: Bearer`` or the session cookie a browser gets by signing in on ``/codec/session``
(services/http/codec_session.py, codec_sign_in.py): a missing or unknown token is 401, another role
403. Browsers may call from the allowed origins only (CORS, the preflight included, with credentials:
the cookie), the Temporal UI's by default. Bodies are bounded (413).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence

from cryptography.exceptions import InvalidTag
from google.protobuf import json_format, message
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from temporalio.api.common.v1 import Payload, Payloads
from temporalio.converter import PayloadCodec

from desk.auth import PAYLOAD_READERS, Principal
from services.http.bodies import read_within
from services.http.codec_session import CodecSessions, refused
from services.http.codec_sign_in import SignInPage
from services.http.errors import HttpError

log = logging.getLogger(__name__)

MAX_CODEC_BODY_BYTES = 4 * 1024 * 1024
"""A history event's payloads: Temporal refuses a payload over 2 MB, base64 makes it a third larger."""
REQUEST_HEADERS = ("Authorization", "Content-Type", "X-Namespace")
"""What the Temporal UI sends (X-Namespace always; Authorization when it passes a token; the session
cookie, which needs no header, when told to include credentials)."""
PREFLIGHT_CACHE_SECONDS = 600

Convert = Callable[[Sequence[Payload]], Awaitable[list[Payload]]]


class CodecEndpoint:
    """The two routes; without a key ring or a way to check tokens every call is 503, saying which."""

    def __init__(
        self, codec: PayloadCodec | None, callers: CodecSessions | None, *, missing: str = ""
    ) -> None:
        self._codec = codec
        self._callers = callers
        self._missing = missing

    async def decode(self, request: Request) -> Response:
        return await self._answer(request, "decode", self._decode_each)

    async def encode(self, request: Request) -> Response:
        return await self._answer(request, "encode", self._encode_all)

    async def _answer(self, request: Request, operation: str, convert: Convert) -> Response:
        try:
            principal = await self._authorize(request)
            payloads = _parse(await read_within(request, MAX_CODEC_BODY_BYTES))
        except HttpError as refused:
            return refused.response()
        converted = await convert(payloads.payloads)
        log.info(
            "codec %s of %d payloads for %s (namespace %s)",
            operation, len(converted), principal.principal_id, request.headers.get("x-namespace", "-"),
        )  # fmt: skip
        body = json_format.MessageToDict(Payloads(payloads=converted))
        return JSONResponse({"payloads": body.get("payloads", [])})

    async def _authorize(self, request: Request) -> Principal:
        if self._codec is None or self._callers is None:
            raise HttpError(503, "UNAVAILABLE", f"the codec endpoint is not configured: {self._missing}")
        try:
            principal = await self._callers.caller(request)
            principal.require_any(PAYLOAD_READERS)
        except Exception as error:
            raise refused(error) from None
        return principal

    async def _decode_each(self, payloads: Sequence[Payload]) -> list[Payload]:
        """Each payload opened on its own, so one that does not open leaves the others decoded."""
        assert self._codec is not None
        decoded = []
        for payload in payloads:
            try:
                [opened] = await self._codec.decode([payload])
            except (ValueError, InvalidTag, message.DecodeError):  # not ours to open: as it came
                opened = payload
            decoded.append(opened)
        return decoded

    async def _encode_all(self, payloads: Sequence[Payload]) -> list[Payload]:
        assert self._codec is not None
        return await self._codec.encode(payloads)


def codec_app(endpoint: CodecEndpoint, sign_in: SignInPage, *, allowed_origins: Sequence[str]) -> Starlette:
    """The routes as an app of their own, mounted at desk.config.CODEC_PATH: CORS for the protocol's two
    alone, credentials included (the session cookie; the origins are always named, never ``*``, as
    desk.config checks). The sign-in page is the gateway's own: no other origin may call it."""
    protocol = Starlette(
        routes=[
            Route("/decode", endpoint.decode, methods=["POST"]),
            Route("/encode", endpoint.encode, methods=["POST"]),
        ],
        middleware=[
            Middleware(
                CORSMiddleware,
                allow_origins=list(allowed_origins),
                allow_methods=["POST"],
                allow_headers=list(REQUEST_HEADERS),
                allow_credentials=True,
                max_age=PREFLIGHT_CACHE_SECONDS,
            )
        ],
    )
    return Starlette(routes=[*sign_in.routes(), Mount("", app=protocol)])


def _parse(raw: bytes) -> Payloads:
    try:
        return json_format.Parse(raw or b"{}", Payloads(), ignore_unknown_fields=True)
    except (json_format.ParseError, UnicodeDecodeError) as error:
        raise HttpError(
            400, "INVALID_ARGUMENT", f"the body is not Payloads in protobuf's JSON mapping: {error}"
        ) from None

"""Temporal's codec-server protocol, so a Temporal UI or CLI shows the desk's encrypted payloads in the
clear to those allowed to read them (docs/security.md, "Reading payloads: the codec endpoint").

``POST /codec/decode`` and ``POST /codec/encode`` take and answer ``temporal.api.common.v1.Payloads``
in protobuf's JSON mapping: ``{"payloads": [{"metadata": {"encoding": "<base64>"}, "data": "<base64>"}]}``.
Decoding uses the desk's payload key ring (:mod:`desk.payload_codec`); a payload it cannot open (not
encrypted, another key, altered) comes back as it was sent, as the protocol expects, so nothing about
it leaks beyond what the caller already had. Encoding encrypts under the ring's current key, for what
a UI sends to workflows.

Only :data:`desk.auth.PAYLOAD_READERS` (SREs, managers; admins) may call either: a missing or unknown token
is 401, another role 403. Browsers may call from the allowed origins only (CORS, the preflight
included), the Temporal UI's by default. Bodies are bounded (413).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol

from cryptography.exceptions import InvalidTag
from google.protobuf import json_format, message
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from temporalio.api.common.v1 import Payload, Payloads
from temporalio.converter import PayloadCodec

from desk.auth import PAYLOAD_READERS, Principal
from desk.errors import PermissionDenied, Unauthenticated
from desk.loops import connection_lost, describe
from services.http.bodies import read_within
from services.http.errors import HttpError, unauthenticated

log = logging.getLogger(__name__)

MAX_CODEC_BODY_BYTES = 4 * 1024 * 1024
"""A history event's payloads: Temporal refuses a payload over 2 MB, base64 makes it a third larger."""
REQUEST_HEADERS = ("Authorization", "Content-Type", "X-Namespace")
"""What the Temporal UI sends (X-Namespace always; Authorization when it passes a token)."""
PREFLIGHT_CACHE_SECONDS = 600

Convert = Callable[[Sequence[Payload]], Awaitable[list[Payload]]]


class Authenticator(Protocol):
    """A bearer token to its principal (desk.auth.TokenAuthenticator)."""

    async def authenticate(self, authorization: str | None) -> Principal: ...


class CodecEndpoint:
    """The two routes; without a key ring or a way to check tokens every call is 503, saying which."""

    def __init__(
        self, codec: PayloadCodec | None, authenticator: Authenticator | None, *, missing: str = ""
    ) -> None:
        self._codec = codec
        self._authenticator = authenticator
        self._missing = missing

    async def decode(self, request: Request) -> Response:
        return await self._answer(request, "decode", self._decode_each)

    async def encode(self, request: Request) -> Response:
        return await self._answer(request, "encode", self._encode_all)

    async def _answer(self, request: Request, operation: str, convert: Convert) -> Response:
        try:
            principal = await self._authorize(request.headers.get("authorization"))
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

    async def _authorize(self, authorization: str | None) -> Principal:
        if self._codec is None or self._authenticator is None:
            raise HttpError(503, "UNAVAILABLE", f"the codec endpoint is not configured: {self._missing}")
        try:
            principal = await self._authenticator.authenticate(authorization)
            principal.require_any(PAYLOAD_READERS)
        except Unauthenticated as error:
            raise unauthenticated(str(error)) from None
        except PermissionDenied as error:
            raise HttpError(403, "PERMISSION_DENIED", str(error)) from None
        except Exception as error:
            if not connection_lost(error):
                raise
            log.warning("codec call refused: tokens cannot be checked now (%s)", describe(error))
            raise HttpError(
                503, "UNAVAILABLE", "the desk cannot check tokens now", headers={"Retry-After": "1"}
            ) from None
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


def codec_app(endpoint: CodecEndpoint, *, allowed_origins: Sequence[str]) -> Starlette:
    """The routes as an app of their own, mounted at desk.config.CODEC_PATH: CORS for them alone."""
    return Starlette(
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
                max_age=PREFLIGHT_CACHE_SECONDS,
            )
        ],
    )


def _parse(raw: bytes) -> Payloads:
    try:
        return json_format.Parse(raw or b"{}", Payloads(), ignore_unknown_fields=True)
    except (json_format.ParseError, UnicodeDecodeError) as error:
        raise HttpError(
            400, "INVALID_ARGUMENT", f"the body is not Payloads in protobuf's JSON mapping: {error}"
        ) from None

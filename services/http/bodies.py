"""Reading a request's body within a limit: judged by Content-Length before reading, and counted as a
chunked body arrives, so an oversized body is a 413 before it is held in memory whole."""

from __future__ import annotations

from starlette.requests import Request

from services.http.errors import too_large


async def read_within(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large(limit)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)

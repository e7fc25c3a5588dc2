"""Request limits, applied before any route runs (a plain ASGI middleware).

- Bodies above ``max_body_bytes`` are refused with 413, whether announced by
  ``Content-Length`` or streamed.
- JSON bodies nested deeper than ``max_depth`` are refused with 400 before the
  JSON parser sees them (hostile JSON-LD often nests to exhaust recursion).
- Requests without credentials are rate limited per client (token bucket,
  ``rate_per_minute``) with 429 and ``Retry-After``; authenticated calls,
  health checks and OpenAPI docs are not.
"""

from __future__ import annotations

import json
import math
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, MutableMapping
from itertools import accumulate
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

UNLIMITED_PATHS = ("/healthz", "/docs", "/openapi.json", "/redoc")


_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*(?:"|\\?\Z)', re.DOTALL)
"""A JSON string from its opening quote: runs of plain bytes and escaped bytes up to the
closing quote, or to the end of the text if it is never closed (so every match
succeeds and the scan stays linear)."""
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


def json_depth(body: bytes) -> int:
    """The deepest nesting of ``[`` / ``{`` in a JSON text (strings skipped).

    The same answer as a byte-by-byte scan that skips strings (a backslash
    escapes the next byte; an unterminated string runs to the end), but the
    strings are cut out by a regular expression and only the brackets are walked
    in Python.
    """
    brackets = _JSON_STRING.sub(b"", body).translate(None, _NOT_BRACKETS)
    steps = (1 if byte in (0x5B, 0x7B) else -1 for byte in brackets)
    return max(0, max(accumulate(steps), default=0))


class RateLimiter:
    """Token buckets per client key, bounded in memory (least recently seen evicted)."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = per_minute / 60.0
        self.capacity = float(per_minute)
        self.clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, key: str) -> float:
        """Take one token; returns 0 if allowed, else the seconds until one is free."""
        now = self.clock()
        with self._lock:
            tokens, last = self._buckets.pop(key, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - last) * self.rate)
            if tokens >= 1:
                self._buckets[key] = (tokens - 1, now)
                wait = 0.0
            else:
                self._buckets[key] = (tokens, now)
                wait = (1 - tokens) / self.rate
            while len(self._buckets) > 100_000:
                self._buckets.popitem(last=False)
        return wait


def _problem(status: int, code: str, detail: str, headers: list[tuple[bytes, bytes]]) -> Message:
    return {
        "status": status,
        "body": json.dumps(
            {
                "type": code,
                "title": code.replace("-", " ").capitalize(),
                "status": status,
                "detail": detail,
            }
        ).encode(),
        "headers": [(b"content-type", b"application/problem+json"), *headers],
    }


async def _send_problem(send: Send, problem: Message) -> None:
    body = problem["body"]
    headers = [*problem["headers"], (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": problem["status"], "headers": headers})
    await send({"type": "http.response.body", "body": body})


class LimitsMiddleware:
    """Body size, JSON depth and rate limits in front of ``app``."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body_bytes: int,
        rate_per_minute: int,
        max_depth: int = 64,
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.max_depth = max_depth
        self.limiter = RateLimiter(rate_per_minute)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.lower(): v for k, v in scope.get("headers", [])}
        path = scope.get("path", "")
        if b"authorization" not in headers and not path.startswith(UNLIMITED_PATHS):
            client = scope.get("client") or ("-", 0)
            wait = self.limiter.take(str(client[0]))
            if wait > 0:
                retry = str(math.ceil(wait)).encode()
                await _send_problem(
                    send,
                    _problem(
                        429,
                        "rate-limited",
                        "too many requests from this client; retry later",
                        [(b"retry-after", retry)],
                    ),
                )
                return
        length = headers.get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_body_bytes:
            await _send_problem(send, self._too_large())
            return
        if scope.get("method") in ("POST", "PUT", "PATCH"):
            body = bytearray()
            more = True
            while more:
                message = await receive()
                body += message.get("body", b"")
                more = message.get("more_body", False)
                if len(body) > self.max_body_bytes:
                    await _send_problem(send, self._too_large())
                    return
            content_type = headers.get(b"content-type", b"")
            if b"json" in content_type and json_depth(bytes(body)) > self.max_depth:
                await _send_problem(
                    send,
                    _problem(
                        400,
                        "too-deeply-nested",
                        f"JSON nested deeper than {self.max_depth} levels is refused",
                        [],
                    ),
                )
                return
            replayed = False

            async def replay() -> Message:
                nonlocal replayed
                if replayed:
                    return {"type": "http.disconnect"}
                replayed = True
                return {"type": "http.request", "body": bytes(body), "more_body": False}

            await self.app(scope, replay, send)
            return
        await self.app(scope, receive, send)

    def _too_large(self) -> Message:
        return _problem(
            413,
            "payload-too-large",
            f"request bodies are limited to {self.max_body_bytes} bytes",
            [],
        )

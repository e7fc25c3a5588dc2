"""Request limits, applied before any route runs (a plain ASGI middleware).

- Bodies above ``max_body_bytes`` are refused with 413, whether announced by
  ``Content-Length`` or streamed.
- JSON bodies nested deeper than ``max_depth`` are refused with 400 before the
  JSON parser sees them (hostile JSON-LD often nests to exhaust recursion). A
  body is JSON to this guard whenever the app would parse it as JSON: no
  ``Content-Type``, or a media type ``application/json`` or ``application/*+json``,
  matched case-insensitively and with any parameters (``; charset=utf-8``).
- Requests are rate limited per client (token bucket, ``rate_per_minute``) with
  429 and ``Retry-After``, unless they carry a token that authenticates
  (``authenticate``; a verified token is remembered for :data:`TOKEN_CACHE_SECONDS`,
  so a client's calls cost one token lookup every few seconds). A header that does
  not authenticate (``Bearer junk``) is limited like no header. Health checks and
  OpenAPI docs are never limited.
- Text no store can hold is refused before any route runs: a NUL character in the
  path or query (400), and a NUL or a lone surrogate (``"\\ud800"``, valid JSON
  but not Unicode text) anywhere in a JSON body (422 naming each JSON pointer, as
  :func:`schemas.issuable.check_text` finds them). Only a body with such an escape is
  parsed here, so clean requests pay a byte search.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, MutableMapping
from itertools import accumulate
from typing import Any

from starlette.concurrency import run_in_threadpool

from schemas.errors import SchemaValidationError
from schemas.issuable import check_text

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

UNLIMITED_PATHS = ("/healthz", "/docs", "/openapi.json", "/redoc")
TOKEN_CACHE_SECONDS = 5.0
"""How long a token that authenticated lifts the rate limit without being looked up again."""
_TOKEN_CACHE_SIZE = 10_000


def is_json_media_type(content_type: bytes | None) -> bool:
    """Whether a ``Content-Type`` header makes the app parse a body as JSON.

    As FastAPI decides: no header at all, or type ``application`` with subtype
    ``json`` or ``*+json`` (case-insensitive, parameters ignored).
    """
    if content_type is None:
        return True
    media = content_type.split(b";", 1)[0].strip().lower()
    maintype, _, subtype = media.partition(b"/")
    return maintype == b"application" and (subtype == b"json" or subtype.endswith(b"+json"))


class VerifiedTokens:
    """Authorization headers that authenticated recently (by SHA-256), in memory.

    ``authenticate(header)`` answers whether a header authenticates (a token lookup);
    a True answer is kept for ``ttl`` seconds. False answers are not kept (a client
    could send a new junk token each time); such calls stay rate limited, so their
    lookups are bounded by the rate limit.
    """

    def __init__(
        self,
        authenticate: Callable[[str], bool],
        ttl: float = TOKEN_CACHE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.authenticate = authenticate
        self.ttl = ttl
        self.clock = clock
        self._verified: OrderedDict[bytes, float] = OrderedDict()
        self._lock = threading.Lock()

    def known(self, header: bytes) -> bool:
        """Whether ``header`` authenticated less than ``ttl`` seconds ago (no lookup)."""
        key = hashlib.sha256(header).digest()
        with self._lock:
            until = self._verified.get(key)
            if until is None:
                return False
            if until <= self.clock():
                del self._verified[key]
                return False
        return True

    def verify(self, header: bytes) -> bool:
        """Whether ``header`` authenticates now (a lookup); remembered if it does."""
        if not self.authenticate(header.decode("latin-1")):  # as ASGI servers decode headers
            return False
        key = hashlib.sha256(header).digest()
        with self._lock:
            self._verified[key] = self.clock() + self.ttl
            self._verified.move_to_end(key)
            while len(self._verified) > _TOKEN_CACHE_SIZE:
                self._verified.popitem(last=False)
        return True


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


_TEXT_ESCAPE = re.compile(rb"\\u(?:0000|[dD][89a-fA-F][0-9a-fA-F]{2})")
"""A JSON escape of NUL or of a surrogate (a pair is fine; a lone one is not text)."""


def text_problems(body: bytes) -> list[dict[str, str]]:
    """The NULs and lone surrogates in a JSON body, as ``{pointer, reason}``; [] if none
    (or if the body is not JSON at all: the app then answers that)."""
    if _TEXT_ESCAPE.search(body) is None:  # ~5 µs on a 7.6 KB credential
        return []
    try:
        document = json.loads(body)
        check_text(document)
    except ValueError:  # not JSON (UnicodeDecodeError and JSONDecodeError included)
        return []
    except SchemaValidationError as exc:
        return [{"pointer": e.pointer, "reason": e.reason} for e in exc.errors]
    return []


def _problem(
    status: int,
    code: str,
    detail: str,
    headers: list[tuple[bytes, bytes]],
    **extra: Any,
) -> Message:
    return {
        "status": status,
        "body": json.dumps(
            {
                "type": code,
                "title": code.replace("-", " ").capitalize(),
                "status": status,
                "detail": detail,
                **extra,
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
        authenticate: Callable[[str], bool] | None = None,
    ) -> None:
        """``authenticate(authorization header)`` says whether a caller's token is valid
        (None: no header lifts the rate limit)."""
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.max_depth = max_depth
        self.limiter = RateLimiter(rate_per_minute)
        self.tokens = None if authenticate is None else VerifiedTokens(authenticate)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.lower(): v for k, v in scope.get("headers", [])}
        path = scope.get("path", "")
        if "\x00" in path or b"%00" in scope.get("query_string", b""):
            await _send_problem(
                send,
                _problem(
                    400,
                    "invalid-character",
                    "a NUL character (%00) is refused in a URL's path and query",
                    [],
                ),
            )
            return
        if not path.startswith(UNLIMITED_PATHS) and not await self._authenticated(
            headers.get(b"authorization")
        ):
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
            content_type = headers.get(b"content-type")
            if is_json_media_type(content_type) and json_depth(bytes(body)) > self.max_depth:
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
            problems = text_problems(bytes(body)) if is_json_media_type(content_type) else []
            if problems:
                await _send_problem(
                    send,
                    _problem(
                        422,
                        "invalid-request",
                        "the request holds text that cannot be stored or signed",
                        [],
                        errors=problems,
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

    async def _authenticated(self, authorization: bytes | None) -> bool:
        """Whether the caller's token authenticates (a lookup off the event loop)."""
        if authorization is None or self.tokens is None:
            return False
        if self.tokens.known(authorization):
            return True
        return await run_in_threadpool(self.tokens.verify, authorization)

    def _too_large(self) -> Message:
        return _problem(
            413,
            "payload-too-large",
            f"request bodies are limited to {self.max_body_bytes} bytes",
            [],
        )

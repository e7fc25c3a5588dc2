"""did:web (W3C CCG "did:web Method Specification") and DID resolution by method.

* :func:`did_web_from_url` / :func:`did_web_document_url` convert between a
  web location and its DID (spec §2.4 "Create" and "Read (Resolve)"):
  ``did:web:example.com%3A3000:user:alice`` ⇔
  ``https://example.com:3000/user/alice/did.json``.
* :func:`build_did_document` publishes every version of a keystore key.
* :class:`DidWebResolver` resolves did:web through an *injected* ``fetch``
  function, with a TTL cache; nothing here opens a network connection (the
  application decides which hosts may be fetched, DESIGN "Security stance").
* :class:`DidResolver` dispatches did:key (computed) and did:web; its
  ``resolve_verification_method`` is a ``MethodResolver`` for
  :func:`credentials.dataintegrity.verify`.

Key rotation in the DID document
--------------------------------
Every key version is listed as a Multikey ``verificationMethod``
``<did>#key-<n>``, and **every** version, current or retired, stays in
``assertionMethod``: rotation is not compromise, and labels signed with a
retired key must keep verifying (Controlled Identifiers 1.0 §"Verification
Method Rotation": proofs made with rotated-out methods "are not impacted by
rotation"). Only the current version is listed under ``authentication``
(nothing should log in with a retired key). Retired versions carry neither
``expires`` nor ``revoked``: CID defines both as "do not verify any proofs at
or after" that time, which a standard verifier would apply to old labels too.
The window a version was active in (``created`` … ``not_after``) lives in the
keystore (:meth:`credentials.keystore.KeyVersion.valid_at`) and in the
transparency log; the verifier checks the proof's ``created`` against it. A
compromised key is the other case: drop it from ``assertionMethod`` (then no
proof by it verifies) and re-issue what it signed.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import quote, unquote, urlsplit

from credentials.dataintegrity import ResolvedVerificationMethod, verification_method_from_document
from credentials.didkey import resolve_did_key
from credentials.errors import DIDResolutionError
from credentials.keystore import KeyVersion
from credentials.multikey import MULTIKEY_CONTEXT

__all__ = [
    "DID_CONTEXT",
    "DidResolver",
    "DidWebResolver",
    "build_did_document",
    "did_web_document_url",
    "did_web_from_url",
]

DID_CONTEXT: Final = "https://www.w3.org/ns/did/v1"
DID_WEB_PREFIX: Final = "did:web:"
MAX_DOCUMENT_BYTES: Final = 256 * 1024
_LOCAL_HOSTS: Final = frozenset({"localhost", "127.0.0.1"})
_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_SEGMENT = re.compile(r"(?:[A-Za-z0-9._-]|%[0-9A-Fa-f]{2})+")
_PORT = re.compile(r"[1-9][0-9]{0,4}")


@dataclass(frozen=True, slots=True)
class _WebLocation:
    host: str
    port: int | None
    path: tuple[str, ...]  # segments as they appear in the DID (percent-encoded)


def _check_host(host: str, source: str) -> None:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    if address is not None:
        if host != "127.0.0.1":
            raise DIDResolutionError(f"did:web does not allow IP addresses: {source!r}")
        return
    labels = host.split(".")
    if len(host) > 253 or not all(_LABEL.fullmatch(label) for label in labels):
        raise DIDResolutionError(
            f"not a lowercase ASCII domain name (use punycode for IDNs): {host!r} in {source!r}"
        )


def _parse_did_web(did: str) -> _WebLocation:
    if not isinstance(did, str) or not did.startswith(DID_WEB_PREFIX):
        raise DIDResolutionError(f"not a did:web: {did!r}")
    if any(c in did for c in "/?#"):
        raise DIDResolutionError(f"not a bare did:web (path, query or fragment): {did!r}")
    host_port, *path = did[len(DID_WEB_PREFIX) :].split(":")
    host, sep, port_text = re.sub("%3a", "%3A", host_port).partition("%3A")
    _check_host(host, did)
    port = None
    if sep:
        if _PORT.fullmatch(port_text) is None or int(port_text) > 65535:
            raise DIDResolutionError(f"invalid port {port_text!r} in {did!r}")
        port = int(port_text)
    for segment in path:
        if _SEGMENT.fullmatch(segment) is None or unquote(segment) in {".", ".."}:
            raise DIDResolutionError(f"invalid path segment {segment!r} in {did!r}")
    return _WebLocation(host, port, tuple(path))


def did_web_from_url(url: str) -> str:
    """The did:web for a web location (did:web §"Create").

    ``https://host[:port][/path…]`` → ``did:web:host[%3Aport][:path…]``. The
    document URL itself (``…/.well-known/did.json``, ``…/path/did.json``) is
    accepted too, as the inverse of :func:`did_web_document_url`. ``http`` is
    accepted only for ``localhost`` and ``127.0.0.1`` (development). Raises
    DIDResolutionError for anything else: other schemes, user info, query,
    fragment, IP addresses, non-ASCII hosts, empty or dot path segments.
    """
    parts = urlsplit(url)
    hostname = parts.hostname or ""
    if parts.scheme == "http":
        if hostname not in _LOCAL_HOSTS:
            raise DIDResolutionError(f"http is allowed only for localhost/127.0.0.1: {url!r}")
    elif parts.scheme != "https":
        raise DIDResolutionError(f"did:web needs an https URL: {url!r}")
    if parts.username is not None or parts.password is not None:
        raise DIDResolutionError(f"URL must not carry user info: {url!r}")
    if parts.query or parts.fragment or "?" in url or "#" in url:
        raise DIDResolutionError(f"URL must not carry a query or fragment: {url!r}")
    _check_host(hostname, url)
    try:
        port = parts.port
    except ValueError as exc:
        raise DIDResolutionError(f"invalid port in {url!r}") from exc
    path = parts.path
    if path == "/.well-known/did.json":
        path = ""
    elif path == "/did.json":
        raise DIDResolutionError(f"no did:web has its document at {url!r}")
    else:
        path = path.removesuffix("/did.json").removesuffix("/")
    msid = hostname if port is None else f"{hostname}%3A{port}"
    segments = path.split("/")[1:] if path else []
    for segment in segments:
        decoded = unquote(segment)
        if decoded in {"", ".", ".."}:
            raise DIDResolutionError(f"empty or dot path segment in {url!r}")
        msid += ":" + quote(decoded, safe="").replace("~", "%7E")
    return DID_WEB_PREFIX + msid


def did_web_document_url(did: str, *, allow_insecure_localhost: bool = False) -> str:
    """Where the DID document of ``did`` lives (did:web §"Read (Resolve)").

    ``did:web:host`` → ``https://host/.well-known/did.json``;
    ``did:web:host%3Aport:a:b`` → ``https://host:port/a/b/did.json``. With
    ``allow_insecure_localhost`` the scheme is ``http`` for ``localhost`` and
    ``127.0.0.1`` (development only). Raises DIDResolutionError for a
    malformed did:web.
    """
    location = _parse_did_web(did)
    scheme = "https"
    if allow_insecure_localhost and location.host in _LOCAL_HOSTS:
        scheme = "http"
    authority = location.host if location.port is None else f"{location.host}:{location.port}"
    path = "/".join(location.path) if location.path else ".well-known"
    return f"{scheme}://{authority}/{path}/did.json"


def build_did_document(did: str, key_versions: Sequence[KeyVersion]) -> dict[str, Any]:
    """DID document publishing every version of one keystore key.

    Each version is a Multikey verification method ``<did>#key-<n>``; all are
    in ``assertionMethod``, only the current one in ``authentication`` (see the
    module docstring for why retired keys stay). Preconditions: ``did`` is a
    did:web; ``key_versions`` are the versions of one key with exactly one
    current version, the newest. Raises DIDResolutionError for a malformed DID
    and ValueError when the preconditions on ``key_versions`` fail.
    """
    _parse_did_web(did)
    ordered = sorted(key_versions, key=lambda v: v.version)
    if not ordered:
        raise ValueError("a DID document needs at least one key version")
    if len({v.name for v in ordered}) != 1:
        raise ValueError("key versions of several keys given")
    if len({v.version for v in ordered}) != len(ordered):
        raise ValueError("duplicate key versions given")
    current = [v for v in ordered if v.is_current]
    if current != [ordered[-1]]:
        raise ValueError("exactly one key version, the newest, must be current")
    method_ids = [v.verification_method_id(did) for v in ordered]
    return {
        "@context": [DID_CONTEXT, MULTIKEY_CONTEXT],
        "id": did,
        "verificationMethod": [
            {
                "id": method_id,
                "type": "Multikey",
                "controller": did,
                "publicKeyMultibase": version.public_key_multibase,
            }
            for method_id, version in zip(method_ids, ordered, strict=True)
        ],
        "authentication": [method_ids[-1]],
        "assertionMethod": list(reversed(method_ids)),
    }


def _split_did_url(verification_method: str) -> str:
    did, sep, fragment = verification_method.partition("#")
    if not did.startswith("did:") or not sep or not fragment or "?" in did or "/" in did:
        raise DIDResolutionError(
            f"verification method must be a DID URL with a fragment: {verification_method!r}"
        )
    return did


class DidWebResolver:
    """did:web resolution through ``fetch(url) -> bytes``, cached for ``ttl_seconds``.

    ``fetch`` is supplied by the application and decides what may be fetched
    (allow-list, timeouts, size limits); any exception it raises becomes a
    DIDResolutionError. ``clock`` returns seconds (e.g. ``time.monotonic``).
    Only successful resolutions are cached.
    """

    def __init__(
        self,
        fetch: Callable[[str], bytes],
        ttl_seconds: float,
        clock: Callable[[], float],
        *,
        allow_insecure_localhost: bool = False,
        max_document_bytes: int = MAX_DOCUMENT_BYTES,
    ) -> None:
        if ttl_seconds < 0:
            raise ValueError("ttl_seconds must not be negative")
        self._fetch = fetch
        self._ttl = ttl_seconds
        self._clock = clock
        self._allow_insecure_localhost = allow_insecure_localhost
        self._max_bytes = max_document_bytes
        self._cache: dict[str, tuple[float, dict[str, Any]]] = {}

    def resolve(self, did: str) -> dict[str, Any]:
        """The DID document of ``did``; its ``id`` is checked to equal ``did``.

        Raises DIDResolutionError if the DID is malformed, the fetch fails, or
        the response is not a JSON object whose ``id`` is ``did``. Callers must
        not mutate the returned document (it is shared with the cache).
        """
        url = did_web_document_url(did, allow_insecure_localhost=self._allow_insecure_localhost)
        now = self._clock()
        cached = self._cache.get(did)
        if cached is not None and now < cached[0]:
            return cached[1]
        try:
            body = self._fetch(url)
        except Exception as exc:
            raise DIDResolutionError(f"could not fetch {url} for {did}: {exc}") from exc
        if len(body) > self._max_bytes:
            raise DIDResolutionError(f"DID document at {url} exceeds {self._max_bytes} bytes")
        try:
            document = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise DIDResolutionError(f"DID document at {url} is not JSON: {exc}") from exc
        if not isinstance(document, dict):
            raise DIDResolutionError(f"DID document at {url} is not a JSON object")
        if document.get("id") != did:
            raise DIDResolutionError(
                f"DID document at {url} has id {document.get('id')!r}, expected {did!r}"
            )
        self._cache[did] = (now + self._ttl, document)
        return document

    def invalidate(self, did: str | None = None) -> None:
        """Drop ``did`` (or everything) from the cache."""
        if did is None:
            self._cache.clear()
        else:
            self._cache.pop(did, None)

    def resolve_verification_method(self, verification_method: str) -> ResolvedVerificationMethod:
        """Key and relationships of a did:web verification method (a ``MethodResolver``).

        Raises DIDResolutionError when the DID cannot be resolved,
        VerificationMethodError when the document does not hold a usable method
        (:func:`credentials.dataintegrity.verification_method_from_document`).
        """
        did = _split_did_url(verification_method)
        return verification_method_from_document(self.resolve(did), verification_method)


class DidResolver:
    """Resolves did:key (computed locally) and did:web (through ``web``).

    Any other method raises DIDResolutionError, as does did:web when no
    :class:`DidWebResolver` was configured.
    """

    def __init__(self, web: DidWebResolver | None = None) -> None:
        self._web = web

    def resolve(self, did: str) -> dict[str, Any]:
        """The DID document of ``did``; raises DIDResolutionError."""
        if not isinstance(did, str) or not did.startswith("did:"):
            raise DIDResolutionError(f"not a DID: {did!r}")
        method = did.split(":", 2)[1]
        if method == "key":
            return resolve_did_key(did)
        if method == "web":
            if self._web is None:
                raise DIDResolutionError(f"did:web resolution is not configured: {did!r}")
            return self._web.resolve(did)
        raise DIDResolutionError(f"unsupported DID method {method!r} in {did!r}")

    def resolve_verification_method(self, verification_method: str) -> ResolvedVerificationMethod:
        """Key and relationships of a verification method DID URL.

        Pass the bound method as ``resolve_method`` to
        :func:`credentials.dataintegrity.verify`. Raises DIDResolutionError when
        the DID cannot be resolved, VerificationMethodError when its document
        does not hold a usable Ed25519 method with that id.
        """
        did = _split_did_url(verification_method)
        return verification_method_from_document(self.resolve(did), verification_method)

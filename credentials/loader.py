"""Offline JSON-LD document loader for pyld.

Contexts are bundled in ``credentials/contexts/`` (see ``SOURCES.md`` there) or
added by other packages with :func:`register_context`. Nothing is ever fetched:
any other URL raises :class:`~credentials.errors.ContextError` naming it
(DESIGN.md "Security stance").
"""

from __future__ import annotations

import copy
import json
import threading
from importlib import resources
from typing import Any, Final

from credentials.errors import ContextError

__all__ = [
    "BUNDLED_CONTEXTS",
    "document_loader",
    "is_known_context",
    "register_context",
]

BUNDLED_CONTEXTS: Final[dict[str, str]] = {
    "https://www.w3.org/ns/credentials/v2": "credentials-v2.jsonld",
    "https://www.w3.org/2018/credentials/v1": "credentials-v1.jsonld",
    "https://www.w3.org/ns/credentials/examples/v2": "credentials-examples-v2.jsonld",
    "https://www.w3.org/ns/credentials/undefined-terms/v2": "credentials-undefined-terms-v2.jsonld",
    "https://www.w3.org/ns/credentials/status/v1": "credentials-status-v1.jsonld",
    "https://w3id.org/security/data-integrity/v1": "data-integrity-v1.jsonld",
    "https://w3id.org/security/data-integrity/v2": "data-integrity-v2.jsonld",
    "https://w3id.org/security/multikey/v1": "multikey-v1.jsonld",
    "https://www.w3.org/ns/did/v1": "did-v1.jsonld",
    "https://test.uncefact.org/vocabulary/untp/core/working/": "untp-core-working.jsonld",
    "https://test.uncefact.org/vocabulary/untp/dcc/working/": "untp-dcc-working.jsonld",
    "https://test.uncefact.org/vocabulary/untp/dpp/working/": "untp-dpp-working.jsonld",
    "https://test.uncefact.org/vocabulary/untp/dia/working/": "untp-dia-working.jsonld",
}
"""URL → file name in ``credentials/contexts/``."""

_lock = threading.Lock()
_registered: dict[str, dict[str, Any]] = {}
_parsed: dict[str, dict[str, Any]] = {}
_label_contexts_loaded = False


def _ensure_label_contexts() -> None:
    """Register the project's own label vocabulary (``schemas``) on first use."""
    global _label_contexts_loaded
    if _label_contexts_loaded:
        return
    from schemas.vocabulary import context_documents  # credentials may import schemas

    for url, document in context_documents().items():
        register_context(url, document)
    _label_contexts_loaded = True


def register_context(url: str, document: dict[str, Any]) -> None:
    """Make ``document`` (a JSON-LD context document) loadable at ``url``.

    Idempotent for an equal document. Raises :class:`ContextError` if ``url`` is
    bundled or already registered with a different document (processed contexts
    are cached by URL, so a URL's meaning must never change in a process), or if
    ``document`` is not an object with an ``@context``.
    """
    if not isinstance(document, dict) or "@context" not in document:
        raise ContextError(url, f"refused context for {url!r}: not an object with @context")
    with _lock:
        if url in BUNDLED_CONTEXTS:
            raise ContextError(url, f"refused context for {url!r}: URL is bundled")
        existing = _registered.get(url)
        if existing is not None:
            if existing != document:
                raise ContextError(url, f"refused context for {url!r}: already registered")
            return
        _registered[url] = copy.deepcopy(document)


def is_known_context(url: str) -> bool:
    """True if ``url`` is bundled or registered (and so loadable without network)."""
    _ensure_label_contexts()
    return url in BUNDLED_CONTEXTS or url in _registered


def _document(url: str) -> dict[str, Any]:
    cached = _parsed.get(url)
    if cached is not None:
        return cached
    _ensure_label_contexts()
    with _lock:
        registered = _registered.get(url)
        if registered is not None:
            doc = registered
        else:
            name = BUNDLED_CONTEXTS.get(url)
            if name is None:
                raise ContextError(url)
            text = resources.files("credentials").joinpath("contexts", name).read_text("utf-8")
            doc = json.loads(text)
        _parsed[url] = doc
        return doc


def document_loader(url: str, options: dict[str, Any] | None = None) -> dict[str, Any]:
    """pyld ``documentLoader``: the RemoteDocument dict for a known context URL.

    Returns a fresh copy of the pre-parsed document (pyld may rewrite relative
    context URLs in place) tagged ``static`` so pyld's resolved-context cache
    keeps it across operations. Raises :class:`ContextError` naming any other URL.
    Never touches the network.
    """
    del options  # headers etc. are irrelevant offline
    doc = _document(url)
    return {
        "contextUrl": None,
        "documentUrl": url,
        "document": copy.deepcopy(doc),
        "contentType": "application/ld+json",
        "tag": "static",
    }

"""Verifying away from the deployment: a cache of trust list, status lists, DID documents
and checkpoints, filled online from one configured server and read alone offline.

Nothing here opens a connection: online, a ``fetch`` callable supplied by the
caller (restricted to the configured server) does; offline there is none and
only the cache answers. A URL found in a credential is used only as a key: it
is fetched only if it lies on the configured server.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from credentials.errors import DIDResolutionError, StatusListError
from verifier.errors import VerifierError

Fetch = Callable[[str], bytes]


class CacheMiss(VerifierError):
    """Offline and not in the cache (or online and not on the configured server)."""


class VerificationCache:
    """Documents kept under ``directory``, keyed by the SHA-256 of their URL."""

    def __init__(self, directory: Path, fetch: Fetch | None, server: str | None) -> None:
        self.directory = directory
        self.fetch = fetch
        self.server = None if server is None else server.rstrip("/")

    def _path(self, kind: str, url: str) -> Path:
        return self.directory / kind / (hashlib.sha256(url.encode()).hexdigest() + ".json")

    def _write(self, path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temp = tempfile.mkstemp(dir=path.parent)
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temp, path)

    def get(self, kind: str, url: str) -> bytes:
        """The document at ``url``: fetched (and cached) online, else from the cache."""
        path = self._path(kind, url)
        if self.fetch is not None and self.server is not None and url.startswith(self.server + "/"):
            data = self.fetch(url)
            self._write(path, data)
            return data
        if path.exists():
            return path.read_bytes()
        where = "offline and not cached" if self.fetch is None else "not on the configured server"
        raise CacheMiss(f"{url}: {where}")

    def put(self, kind: str, url: str, data: bytes) -> None:
        self._write(self._path(kind, url), data)

    # -- adapters for the verification context ----------------------------------------

    def did_document(self, url: str) -> bytes:
        try:
            return self.get("did", url)
        except CacheMiss as exc:
            raise DIDResolutionError(str(exc)) from exc

    def status_list(self, url: str) -> dict[str, Any]:
        try:
            document: dict[str, Any] = json.loads(self.get("status", url))
        except CacheMiss as exc:
            raise StatusListError(StatusListError.STATUS_RETRIEVAL_ERROR, str(exc)) from exc
        return document

    def trust_list(self) -> dict[str, Any]:
        """The trust list: from the server online (and cached), else the cached one."""
        url = f"{self.server}/trust-list.json" if self.server else "trust-list"
        path = self.directory / "trust-list.json"
        if self.fetch is not None and self.server is not None:
            data = self.fetch(url)
            self._write(path, data)
        elif path.exists():
            data = path.read_bytes()
        else:
            raise CacheMiss("no trust list: run once online (with --server) to cache one")
        document: dict[str, Any] = json.loads(data)
        return document

    def authority(self, given: str | None) -> str:
        """The pinned trust-list authority: given now (and remembered), or remembered."""
        path = self.directory / "authority"
        if given is not None:
            self._write(path, given.encode())
            return given
        if path.exists():
            return path.read_text().strip()
        raise CacheMiss("no trust-list authority pinned: pass --authority did:key:...")

    def consistency(self, origin: str, old: int, new: int) -> list[bytes]:
        """A consistency proof from the server's log (online only)."""
        import base64

        if self.fetch is None or self.server is None:
            raise CacheMiss("offline: no consistency proof can be obtained")
        data = json.loads(self.fetch(f"{self.server}/log/proof/consistency?old={old}&new={new}"))
        return [base64.b64decode(h) for h in data["consistency_proof"]]

    def stamp(self, now: datetime) -> None:
        self._write(self.directory / "last-online", now.isoformat().encode())

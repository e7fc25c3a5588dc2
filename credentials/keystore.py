"""Encrypted-at-rest keystore for Ed25519 signing keys, with rotation.

One JSON file per key version, ``<name>.<version>.json`` (mode 0600, written to
a temporary file in the same directory and moved into place), holding::

    {"format": "carbonlabel-keystore/1", "name": "issuer", "version": 2,
     "created": "...", "notAfter": null, "publicKeyMultibase": "z6Mk...",
     "kdf": {"name": "argon2id", "salt": "...", "memoryCost": 65536,
             "iterations": 3, "lanes": 4},
     "cipher": "aes-256-gcm", "nonce": "...", "ciphertext": "..."}

The 32-byte Ed25519 seed is sealed with AES-256-GCM under a key derived from the
passphrase with Argon2id (RFC 9106 §4, second recommended option), or scrypt
(RFC 7914) when the OpenSSL build lacks Argon2id. Every other field is the
associated data, so a file edited, or renamed to another name or version,
fails to open. The plaintext seed is never written to disk.

Rotation (:meth:`Keystore.rotate`) adds version *n + 1* as the current key and
retires version *n* by setting its ``notAfter`` to the rotation time. A retired
version keeps its public key and stays listed: credentials it signed while
active (``created <= t < notAfter``) still verify; see
:meth:`KeyVersion.valid_at` and :meth:`Keystore.check_valid_at`.

Time is always passed in (``now``); nothing here reads the clock. The keystore
is meant for one writer process; concurrent rotations are not coordinated.
"""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
import tempfile
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from cryptography.exceptions import InvalidTag, UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from credentials import multikey
from credentials.errors import KeyFormatError, KeystoreError

__all__ = [
    "FORMAT",
    "Argon2idParams",
    "KeyVersion",
    "Keystore",
    "ScryptParams",
    "check_name",
    "default_kdf",
]

FORMAT: Final = "carbonlabel-keystore/1"
CIPHER: Final = "aes-256-gcm"
_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
_FILE = re.compile(r"(?P<name>[a-z0-9][a-z0-9._-]{0,63})\.(?P<version>[1-9][0-9]{0,8})\.json")
_FRAGMENT = re.compile(r"(?:.*#)?key-(?P<version>[1-9][0-9]{0,8})")
_SALT_BYTES: Final = 16
_NONCE_BYTES: Final = 12


@dataclass(frozen=True, slots=True)
class Argon2idParams:
    """Argon2id cost (RFC 9106): memory in KiB, passes, lanes."""

    memory_cost: int = 65536
    iterations: int = 3
    lanes: int = 4


@dataclass(frozen=True, slots=True)
class ScryptParams:
    """scrypt cost (RFC 7914): N (power of two), r, p."""

    n: int = 2**17
    r: int = 8
    p: int = 1


Kdf = Argon2idParams | ScryptParams


def _argon2id_available() -> bool:
    try:
        from cryptography.hazmat.primitives.kdf.argon2 import Argon2id

        Argon2id(salt=bytes(16), length=32, iterations=1, lanes=1, memory_cost=8)
    except (ImportError, UnsupportedAlgorithm):
        return False
    return True


def default_kdf() -> Kdf:
    """Argon2id with RFC 9106's 64 MiB / t=3 / p=4 if available, else scrypt N=2^17."""
    return Argon2idParams() if _argon2id_available() else ScryptParams()


def _derive(passphrase: bytes, kdf: dict[str, Any]) -> bytes:
    """The 32-byte AES key for the ``kdf`` block of a key file."""
    salt = _b64decode(kdf["salt"])
    if kdf["name"] == "argon2id":
        from cryptography.hazmat.primitives.kdf.argon2 import Argon2id

        argon = Argon2id(
            salt=salt,
            length=32,
            iterations=int(kdf["iterations"]),
            lanes=int(kdf["lanes"]),
            memory_cost=int(kdf["memoryCost"]),
        )
        return argon.derive(passphrase)
    if kdf["name"] == "scrypt":
        return Scrypt(
            salt=salt, length=32, n=int(kdf["n"]), r=int(kdf["r"]), p=int(kdf["p"])
        ).derive(passphrase)
    raise KeystoreError(f"unsupported key derivation function {kdf['name']!r}")


def _kdf_block(kdf: Kdf) -> dict[str, Any]:
    salt = _b64encode(secrets.token_bytes(_SALT_BYTES))
    if isinstance(kdf, Argon2idParams):
        return {
            "name": "argon2id",
            "salt": salt,
            "memoryCost": kdf.memory_cost,
            "iterations": kdf.iterations,
            "lanes": kdf.lanes,
        }
    return {"name": "scrypt", "salt": salt, "n": kdf.n, "r": kdf.r, "p": kdf.p}


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _timestamp(value: datetime) -> str:
    if value.tzinfo is None:
        raise KeystoreError("timestamps must be timezone-aware datetimes")
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def check_name(name: str) -> None:
    """Raise KeystoreError unless ``name`` matches ``[a-z0-9][a-z0-9._-]{0,63}``."""
    if not isinstance(name, str) or _NAME.fullmatch(name) is None:
        if not isinstance(name, str) or not name:
            reason = "it is empty"
        elif len(name) > 64:
            reason = "it is longer than 64 characters"
        elif not re.match(r"[a-z0-9]", name):
            reason = "it must start with a lowercase letter or digit"
        else:
            reason = "only lowercase letters, digits, '.', '_' and '-' are allowed"
        raise KeystoreError(f"invalid key name {name!r}: {reason}")


@dataclass(frozen=True, slots=True)
class KeyVersion:
    """Public metadata of one key version; never holds private material.

    ``created`` is when the version became current, ``not_after`` when it was
    retired by a rotation (``None`` for the current version).
    """

    name: str
    version: int
    created: datetime
    not_after: datetime | None
    public_key_multibase: str

    @property
    def fragment(self) -> str:
        """Verification method fragment, ``#key-<version>``."""
        return f"#key-{self.version}"

    @property
    def is_current(self) -> bool:
        return self.not_after is None

    def verification_method_id(self, controller: str) -> str:
        """``<controller DID>#key-<version>``."""
        return f"{controller}{self.fragment}"

    def public_key(self) -> Ed25519PublicKey:
        return multikey.decode_public_key_multibase(self.public_key_multibase)

    def valid_at(self, when: datetime) -> bool:
        """Whether the version was the active signing key at ``when``.

        True iff ``created <= when`` and (still current or ``when < not_after``).
        """
        if when < self.created:
            return False
        return self.not_after is None or when < self.not_after


@dataclass(frozen=True, slots=True)
class _Record:
    meta: KeyVersion
    document: dict[str, Any]


class Keystore:
    """Keys in ``directory``, each sealed under ``passphrase``.

    ``kdf`` sets the cost for files written from now on (existing files keep
    the parameters they name); it defaults to :func:`default_kdf`.
    """

    def __init__(self, directory: Path, passphrase: str, *, kdf: Kdf | None = None) -> None:
        if not passphrase:
            raise KeystoreError("the keystore passphrase must not be empty")
        self._directory = Path(directory)
        self._passphrase = passphrase.encode("utf-8")
        self._kdf = kdf if kdf is not None else default_kdf()
        self._derived: dict[str, bytes] = {}
        self._derive_lock = threading.Lock()  # one Argon2id derivation at a time (64 MiB each)

    @property
    def directory(self) -> Path:
        return self._directory

    # --- reading ---------------------------------------------------------------------------

    def names(self) -> list[str]:
        """Every key name in the keystore, sorted."""
        return sorted({name for name, _ in self._files()})

    def versions(self, name: str) -> list[KeyVersion]:
        """All versions of ``name``, oldest first; raises KeystoreError if unknown.

        Each file is authenticated (decrypted) before its metadata is trusted.
        """
        check_name(name)
        found = sorted(version for n, version in self._files() if n == name)
        if not found:
            raise KeystoreError(f"no key named {name!r} in {self._directory}")
        return [self._open(name, version)[0].meta for version in found]

    def current(self, name: str) -> KeyVersion:
        """The version of ``name`` used for signing now (the newest)."""
        return self.versions(name)[-1]

    def version(self, name: str, version: int) -> KeyVersion:
        """Metadata of one version; raises KeystoreError if it does not exist."""
        check_name(name)
        return self._open(name, version)[0].meta

    def private_key(self, name: str, version: int | None = None) -> Ed25519PrivateKey:
        """The decrypted private key of ``version`` (default: the current one).

        Raises KeystoreError "wrong passphrase or corrupted key file <path>" when
        the AEAD check fails.
        """
        check_name(name)
        if version is None:
            version = self.current(name).version
        _, seed = self._open(name, version)
        return Ed25519PrivateKey.from_private_bytes(seed)

    def public_key_for(self, name: str, verification_method: str | int) -> Ed25519PublicKey:
        """Public key of a version given as an int, ``key-2``, ``#key-2`` or ``did:…#key-2``."""
        return self._resolve(name, verification_method).public_key()

    def check_valid_at(
        self, name: str, verification_method: str | int, when: datetime
    ) -> KeyVersion:
        """Raise KeystoreError unless the version was the active key at ``when``.

        ``when`` is the time the credential says it was signed (proof ``created``
        or ``validFrom``). Returns the version's metadata.
        """
        meta = self._resolve(name, verification_method)
        if not meta.valid_at(when):
            end = "now" if meta.not_after is None else _timestamp(meta.not_after)
            raise KeystoreError(
                f"key {name!r} version {meta.version} was not active at {_timestamp(when)} "
                f"(active from {_timestamp(meta.created)} until {end})"
            )
        return meta

    # --- writing ---------------------------------------------------------------------------

    def create(self, name: str, *, now: datetime) -> KeyVersion:
        """Generate version 1 of a new key ``name``; refuses an existing name."""
        check_name(name)
        if any(n == name for n, _ in self._files()):
            raise KeystoreError(f"a key named {name!r} already exists in {self._directory}")
        self._directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        return self._write_new(name, 1, now)

    def rotate(self, name: str, *, now: datetime) -> KeyVersion:
        """Make a fresh version current and retire the previous one at ``now``.

        The previous version keeps its public key with ``not_after = now``.
        Raises KeystoreError if ``name`` is unknown or ``now`` is not after the
        current version's ``created``.
        """
        _timestamp(now)  # refuses a naive datetime
        previous = self.current(name)
        if now <= previous.created:
            raise KeystoreError(
                f"rotation time {_timestamp(now)} is not after the current version's "
                f"creation time {_timestamp(previous.created)}"
            )
        record, seed = self._open(name, previous.version)
        new = self._write_new(name, previous.version + 1, now)
        retired = record.document | {"notAfter": _timestamp(now)}
        self._seal_and_replace(retired, seed, record.document["kdf"])
        return new

    # --- internals -------------------------------------------------------------------------

    def _files(self) -> list[tuple[str, int]]:
        if not self._directory.is_dir():
            return []
        found = []
        for entry in self._directory.iterdir():
            match = _FILE.fullmatch(entry.name)
            if match is not None:
                found.append((match["name"], int(match["version"])))
        return found

    def _path(self, name: str, version: int) -> Path:
        return self._directory / f"{name}.{version}.json"

    def _resolve(self, name: str, verification_method: str | int) -> KeyVersion:
        check_name(name)
        if isinstance(verification_method, int) and not isinstance(verification_method, bool):
            return self._open(name, verification_method)[0].meta
        match = _FRAGMENT.fullmatch(str(verification_method))
        if match is None:
            raise KeystoreError(
                f"cannot tell a key version from verification method {verification_method!r}"
            )
        return self._open(name, int(match["version"]))[0].meta

    def _key(self, kdf: dict[str, Any]) -> bytes:
        cache_key = json.dumps(kdf, sort_keys=True)
        key = self._derived.get(cache_key)
        if key is None:
            with self._derive_lock:
                key = self._derived.get(cache_key)
                if key is None:
                    key = _derive(self._passphrase, kdf)
                    self._derived[cache_key] = key
        return key

    @staticmethod
    def _associated_data(document: dict[str, Any]) -> bytes:
        bound = {k: v for k, v in document.items() if k not in {"nonce", "ciphertext"}}
        return json.dumps(bound, sort_keys=True, separators=(",", ":")).encode("utf-8")

    def _open(self, name: str, version: int) -> tuple[_Record, bytes]:
        path = self._path(name, version)
        try:
            document = json.loads(path.read_bytes())
        except FileNotFoundError as exc:
            raise KeystoreError(
                f"no version {version} of key {name!r} in {self._directory}"
            ) from exc
        except (OSError, ValueError) as exc:
            raise KeystoreError(f"cannot read key file {path}: {exc}") from exc
        try:
            if document["format"] != FORMAT or document["cipher"] != CIPHER:
                raise KeystoreError(f"unsupported key file format in {path}")
            nonce = _b64decode(document["nonce"])
            ciphertext = _b64decode(document["ciphertext"])
            key = self._key(document["kdf"])
            seed = AESGCM(key).decrypt(nonce, ciphertext, self._associated_data(document))
        except InvalidTag as exc:
            raise KeystoreError(f"wrong passphrase or corrupted key file {path}") from exc
        except (KeyError, TypeError, ValueError) as exc:
            raise KeystoreError(f"malformed key file {path}: {exc!r}") from exc
        # Authenticated from here on: the AD covers every field but nonce/ciphertext.
        if document["name"] != name or document["version"] != version:
            raise KeystoreError(
                f"key file {path} holds {document['name']!r} version {document['version']}: "
                "file was renamed or swapped"
            )
        private_key = Ed25519PrivateKey.from_private_bytes(seed)
        try:
            expected = multikey.decode_public_key_multibase(document["publicKeyMultibase"])
        except KeyFormatError as exc:
            raise KeystoreError(f"bad public key in key file {path}") from exc
        if expected.public_bytes_raw() != private_key.public_key().public_bytes_raw():
            raise KeystoreError(f"public key does not match the private key in {path}")
        not_after = document["notAfter"]
        meta = KeyVersion(
            name=name,
            version=version,
            created=datetime.fromisoformat(document["created"]),
            not_after=None if not_after is None else datetime.fromisoformat(not_after),
            public_key_multibase=document["publicKeyMultibase"],
        )
        return _Record(meta, document), seed

    def _write_new(self, name: str, version: int, now: datetime) -> KeyVersion:
        private_key = Ed25519PrivateKey.generate()
        seed = private_key.private_bytes_raw()
        public_multibase = multikey.encode_public_key_multibase(private_key.public_key())
        document: dict[str, Any] = {
            "format": FORMAT,
            "name": name,
            "version": version,
            "created": _timestamp(now),
            "notAfter": None,
            "publicKeyMultibase": public_multibase,
        }
        kdf = _kdf_block(self._kdf)
        self._seal_and_place(document, seed, kdf, replace=False)
        return KeyVersion(name, version, now.astimezone(UTC), None, public_multibase)

    def _seal_and_replace(self, document: dict[str, Any], seed: bytes, kdf: dict[str, Any]) -> None:
        self._seal_and_place(document, seed, kdf, replace=True)

    def _seal_and_place(
        self, document: dict[str, Any], seed: bytes, kdf: dict[str, Any], *, replace: bool
    ) -> None:
        sealed = {
            k: v for k, v in document.items() if k not in {"kdf", "cipher", "nonce", "ciphertext"}
        }
        sealed["kdf"] = kdf
        sealed["cipher"] = CIPHER
        nonce = secrets.token_bytes(_NONCE_BYTES)
        ciphertext = AESGCM(self._key(kdf)).encrypt(nonce, seed, self._associated_data(sealed))
        sealed["nonce"] = _b64encode(nonce)
        sealed["ciphertext"] = _b64encode(ciphertext)
        target = self._path(sealed["name"], sealed["version"])
        payload = json.dumps(sealed, indent=2, sort_keys=True).encode("utf-8") + b"\n"
        fd, temp_name = tempfile.mkstemp(prefix=".tmp-", suffix=".json", dir=self._directory)
        try:
            with os.fdopen(fd, "wb") as handle:
                os.fchmod(handle.fileno(), 0o600)
                handle.write(payload)
                handle.flush()
                os.fsync(handle.fileno())
            if replace:
                os.replace(temp_name, target)
            else:
                try:
                    os.link(temp_name, target)  # atomic and never clobbers
                except FileExistsError as exc:
                    raise KeystoreError(f"key file {target} already exists") from exc
                os.unlink(temp_name)
        except BaseException:
            if os.path.exists(temp_name):
                os.unlink(temp_name)
            raise
        self._fsync_directory()

    def _fsync_directory(self) -> None:
        try:
            fd = os.open(self._directory, os.O_RDONLY)
        except OSError:
            return
        try:
            os.fsync(fd)
        except OSError:
            pass
        finally:
            os.close(fd)

"""Wiring shared by the CLI and the web app: store, keystore and log signer.

The log's signing key lives in the encrypted keystore under the name ``log``;
its note key name is the log origin (C2SP tlog-checkpoint requires the key
name to match the origin line).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property

from sqlalchemy import Engine

from app.settings import Settings
from credentials.keystore import Keystore
from ledger.checkpoint import Checkpoint, sign_checkpoint
from ledger.errors import StoreError
from ledger.note import NoteSigner, NoteVerifier
from ledger.store.engine import make_engine
from ledger.store.log import LogStore

LOG_KEY = "log"


class ConfigurationError(Exception):
    """A setting needed for this command is missing or unusable."""


def utcnow() -> datetime:
    return datetime.now(UTC)


def passphrase(settings: Settings) -> str:
    """The keystore passphrase: from the environment or the passphrase file."""
    if settings.keystore_passphrase:
        return settings.keystore_passphrase
    if settings.keystore_passphrase_file is not None:
        try:
            value = settings.keystore_passphrase_file.read_text().strip()
        except OSError as exc:
            raise ConfigurationError(
                f"CARBONLABEL_KEYSTORE_PASSPHRASE_FILE: cannot read "
                f"{settings.keystore_passphrase_file}: {exc.strerror}"
            ) from exc
        if value:
            return value
    raise ConfigurationError(
        "CARBONLABEL_KEYSTORE_PASSPHRASE is not set: the private keys are encrypted at rest "
        "and need it (or CARBONLABEL_KEYSTORE_PASSPHRASE_FILE)"
    )


@dataclass
class Runtime:
    """The objects one deployment is made of, created lazily from settings."""

    settings: Settings

    @cached_property
    def engine(self) -> Engine:
        if self.settings.database_url is None:
            self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        return make_engine(self.settings.resolved_database_url)

    @cached_property
    def store(self) -> LogStore:
        return LogStore(self.engine)

    @cached_property
    def keystore(self) -> Keystore:
        self.settings.keys_dir.mkdir(parents=True, exist_ok=True)
        return Keystore(self.settings.keys_dir, passphrase(self.settings))

    @cached_property
    def log_signer(self) -> NoteSigner:
        if LOG_KEY not in self.keystore.names():
            raise StoreError("the log key does not exist (run `carbonlabel log init`)")
        raw = self.keystore.private_key(LOG_KEY).private_bytes_raw()
        return NoteSigner.from_private_bytes(self.settings.log_origin, raw)

    @cached_property
    def log_verifier(self) -> NoteVerifier:
        return self.log_signer.verifier()

    def sign_checkpoint(self, checkpoint: Checkpoint) -> str:
        return sign_checkpoint(checkpoint, self.log_signer)

    def init_log(self, now: datetime) -> tuple[bool, bool]:
        """Create the log key and the store if absent; never overwrite either.

        Returns (key created, store created).
        """
        key_created = False
        if LOG_KEY not in self.keystore.names():
            self.keystore.create(LOG_KEY, now=now)
            key_created = True
        store_created = self.store.initialise(self.settings.log_origin, self.sign_checkpoint, now)
        return key_created, store_created

    def close(self) -> None:
        if "engine" in self.__dict__:
            self.engine.dispose()

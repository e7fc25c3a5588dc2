"""Wiring shared by the CLI and the web app: store, keystore and log signer.

The log's signing key lives in the encrypted keystore under the name ``log``;
its note key name is the log origin (C2SP tlog-checkpoint requires the key
name to match the origin line).
"""

from __future__ import annotations

import contextlib
import gc
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from app.settings import Settings
from credentials.didweb import build_did_document, did_web_from_url
from credentials.keystore import Keystore
from issuer.directory import Directory
from issuer.service import IssuerService
from issuer.store import migrate as issuer_migrate
from ledger.checkpoint import Checkpoint, sign_checkpoint
from ledger.errors import StoreError
from ledger.note import NoteSigner, NoteVerifier
from ledger.sequencer import Sequencer
from ledger.store.engine import make_engine
from ledger.store.latest import FILE_NAME as LATEST_CHECKPOINT_FILE
from ledger.store.latest import CheckpointKeeper, LatestCheckpointFile
from ledger.store.log import LogStore
from verifier.store import migrate as verifier_migrate

LOG_KEY = "log"
AUTHORITY_KEY = "authority"
"""The deployment's own key (its did:web at /.well-known/did.json; signs trust lists)."""


class ConfigurationError(Exception):
    """A setting needed for this command is missing or unusable."""


def utcnow() -> datetime:
    return datetime.now(UTC)


def freeze_loaded_objects() -> None:
    """Take every object alive now out of the garbage collector's full passes (``gc.freeze``).

    For a long run that allocates a lot, such as ``carbonlabel issue batch``, once
    it has loaded what it keeps for its whole life: schemas and validators, JSON-LD
    contexts, keys, compiled shapes. Each full collection would otherwise walk those
    ~100,000 objects again; in batch issuance that was ~70 µs of CPU per label
    (bench/RESULTS-issuance.md). Frozen objects are still freed when nothing refers
    to them, but a reference cycle among them never is: call it once, not per batch.
    """
    gc.collect()
    gc.freeze()


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
        # The keeper (and the log key it verifies with) only when a checkpoint is signed:
        # reading the store needs neither.
        return LogStore(self.engine, on_checkpoint=lambda note: self.checkpoint_keeper(note))

    @cached_property
    def latest_checkpoint_file(self) -> LatestCheckpointFile:
        """The newest checkpoint this deployment signed, kept outside the database
        (``<data dir>/checkpoint.latest``): what the audit detects a rollback with."""
        return LatestCheckpointFile(
            self.settings.data_dir / LATEST_CHECKPOINT_FILE, self.log_verifier
        )

    @cached_property
    def checkpoint_keeper(self) -> CheckpointKeeper:
        """After each commit, keeps the new checkpoint in :attr:`latest_checkpoint_file`
        if it extends the kept one (from a background thread; see ledger/store/latest.py)."""
        return CheckpointKeeper(
            self.latest_checkpoint_file, lambda old, new: self.store.consistency_proof(old, new)
        )

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

    @cached_property
    def sequencer(self) -> Sequencer:
        return Sequencer(
            self.store,
            self.sign_checkpoint,
            clock=utcnow,
            batch_size=self.settings.batch_size,
            batch_delay=self.settings.batch_delay_ms / 1000,
        )

    @cached_property
    def directory(self) -> Directory:
        return Directory(self.engine, self.keystore, self.settings.public_url)

    @cached_property
    def issuer(self) -> IssuerService:
        return IssuerService(
            engine=self.engine,
            store=self.store,
            sequencer=self.sequencer,
            directory=self.directory,
            keystore=self.keystore,
            public_url=self.settings.public_url,
            clock=utcnow,
            cryptosuite=self.settings.cryptosuite,
        )

    @property
    def deployment_did(self) -> str:
        return did_web_from_url(self.settings.public_url)

    def did_document(self, slug: str | None) -> dict[str, Any]:
        """The DID document of the deployment (slug None) or of one issuer."""
        if slug is None:
            return build_did_document(self.deployment_did, self.keystore.versions(AUTHORITY_KEY))
        org = self.directory.org(slug)
        return build_did_document(org.did, self.keystore.versions(org.key_name))

    def init_log(self, now: datetime) -> tuple[bool, bool]:
        """Create the log key and the store if absent; never overwrite either.

        Returns (key created, store created).
        """
        key_created = False
        if LOG_KEY not in self.keystore.names():
            self.keystore.create(LOG_KEY, now=now)
            key_created = True
        if AUTHORITY_KEY not in self.keystore.names():
            self.keystore.create(AUTHORITY_KEY, now=now)
        store_created = self.store.initialise(self.settings.log_origin, self.sign_checkpoint, now)
        issuer_migrate.upgrade(self.engine)
        verifier_migrate.upgrade(self.engine)
        return key_created, store_created

    def scan_salt(self) -> bytes:
        """The salt of scan client hashes: configured, or random and kept in the data dir."""
        if self.settings.scan_salt:
            return self.settings.scan_salt.encode()
        path = self.settings.data_dir / "scan-salt"
        if not path.exists():
            self.settings.data_dir.mkdir(parents=True, exist_ok=True)
            path.write_bytes(secrets.token_bytes(32))
            path.chmod(0o600)
        return path.read_bytes()

    def close(self) -> None:
        """Stop the sequencer, return the label numbers not handed out, close the store.

        A store that cannot be reached any more keeps the numbers reserved; they are
        then listed as skipped by a process that did not return them
        (issuer/allocate.py).
        """
        if "sequencer" in self.__dict__:
            self.sequencer.close()
        if "issuer" in self.__dict__:
            with contextlib.suppress(SQLAlchemyError):
                self.issuer.allocator.close()
        if "checkpoint_keeper" in self.__dict__:
            self.checkpoint_keeper.close()
        if "engine" in self.__dict__:
            self.engine.dispose()

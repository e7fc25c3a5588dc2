"""Shared fixtures: a fresh database per test, on SQLite and (when configured) PostgreSQL.

``CARBONLABEL_TEST_POSTGRES_URL`` (set by ``.ci/run``) turns on the PostgreSQL
half of every store test; each test then gets its own schema, dropped after.
If the variable is set but the server is unreachable the session fails.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime
from urllib.parse import quote

import pytest
from sqlalchemy import create_engine, text

from ledger.checkpoint import Checkpoint, sign_checkpoint
from ledger.note import NoteSigner
from ledger.store.engine import make_engine
from ledger.store.log import LogStore

POSTGRES_URL = os.environ.get("CARBONLABEL_TEST_POSTGRES_URL", "")
ORIGIN = "test.carbonlabel.local/log"
NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def _pg_driver_url(url: str) -> str:
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


def pytest_sessionstart(session: pytest.Session) -> None:
    if not POSTGRES_URL:
        return
    try:
        engine = create_engine(_pg_driver_url(POSTGRES_URL))
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        engine.dispose()
    except Exception as exc:  # a configured but unreachable server fails the run
        raise pytest.UsageError(
            f"CARBONLABEL_TEST_POSTGRES_URL is set but PostgreSQL is unreachable: {exc}"
        ) from exc


@pytest.fixture(
    params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
)
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A URL of an empty database of its own: a SQLite file, or a PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'log.db'}"
        return
    if not POSTGRES_URL:
        pytest.skip("PostgreSQL half: CARBONLABEL_TEST_POSTGRES_URL is not set")
    schema = f"t_{secrets.token_hex(6)}"
    admin = create_engine(_pg_driver_url(POSTGRES_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in POSTGRES_URL else "?"
    yield f"{POSTGRES_URL}{separator}options={quote(f'-csearch_path={schema}')}"
    with admin.connect() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture
def signer() -> NoteSigner:
    return NoteSigner.generate(ORIGIN)


@pytest.fixture
def store(database_url: str, signer: NoteSigner) -> Iterator[LogStore]:
    """An initialised, empty log."""
    engine = make_engine(database_url)
    log = LogStore(engine)
    log.initialise(ORIGIN, lambda cp: sign_checkpoint(cp, signer), NOW)
    yield log
    engine.dispose()


def signing(signer: NoteSigner):  # type: ignore[no-untyped-def]
    """The SignCheckpoint callable for ``signer``."""

    def sign(checkpoint: Checkpoint) -> str:
        return sign_checkpoint(checkpoint, signer)

    return sign


@pytest.fixture
def deployment(
    database_url: str, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[object]:
    """Environment of a deployment (data dir, database, passphrase), initialised via the CLI."""
    from app.cli import main
    from app.settings import load_settings

    data_dir = tmp_path_factory.mktemp("var")
    monkeypatch.setenv("CARBONLABEL_DATA_DIR", str(data_dir))
    monkeypatch.setenv("CARBONLABEL_DATABASE_URL", database_url)
    monkeypatch.setenv("CARBONLABEL_KEYSTORE_PASSPHRASE", "correct horse battery staple")
    monkeypatch.setenv("CARBONLABEL_LOG_ORIGIN", ORIGIN)
    monkeypatch.setenv("CARBONLABEL_BATCH_SIZE", "64")
    assert main(["log", "init"]) == 0
    yield load_settings()

"""Deployment settings, read from ``CARBONLABEL_*`` environment variables.

Nothing here runs at import: :func:`load_settings` builds a :class:`Settings`
when the CLI or ``create_app`` asks for one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every knob of a deployment; each field maps to ``CARBONLABEL_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="CARBONLABEL_", extra="ignore")

    data_dir: Path = Field(
        default=Path("./var"), description="Holds the SQLite file and the encrypted keys."
    )
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default: SQLite file in the data dir."
    )
    log_origin: str = Field(
        default="carbonlabel.local/log",
        description="C2SP checkpoint origin line and the log key's name.",
    )
    keystore_passphrase: str | None = Field(
        default=None, description="Passphrase that encrypts the private keys at rest."
    )
    keystore_passphrase_file: Path | None = Field(
        default=None, description="File holding the passphrase (for secrets mounted as files)."
    )
    batch_size: int = Field(default=256, ge=1, le=65536, description="Entries per integration.")
    batch_delay_ms: int = Field(
        default=10, ge=0, le=60_000, description="Longest wait to fill a batch (milliseconds)."
    )
    public_url: str = Field(
        default="http://127.0.0.1:8000", description="Where this deployment is reached."
    )
    cryptosuite: Literal["eddsa-rdfc-2022", "eddsa-jcs-2022"] = Field(
        default="eddsa-rdfc-2022", description="Data Integrity cryptosuite for new credentials."
    )
    trust_list: Path | None = Field(
        default=None,
        description="Signed trust-list file to verify against; default: this deployment's own.",
    )
    trust_authority: str | None = Field(
        default=None, description="did:key pinned as the trust list's signer (with trust_list)."
    )
    scan_salt: str | None = Field(
        default=None,
        description="Salt of the client hashes kept with scans (share it across app processes); "
        "default: a random salt kept in the data dir.",
    )
    max_body_bytes: int = Field(
        default=1_000_000, ge=1024, description="Largest request body accepted (413 above)."
    )
    rate_limit_per_minute: int = Field(
        default=600, ge=1, description="Public requests per client per minute (429 above)."
    )
    host: str = Field(default="127.0.0.1", description="Address `carbonlabel serve` binds.")
    port: int = Field(default=8000, ge=1, le=65535, description="Port `carbonlabel serve` binds.")

    @property
    def resolved_database_url(self) -> str:
        """The database URL in force: the configured one, or SQLite in the data dir."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'carbonlabel.db').resolve()}"

    @property
    def keys_dir(self) -> Path:
        """Where the encrypted keystore lives."""
        return self.data_dir / "keys"


def load_settings(**overrides: object) -> Settings:
    """Read settings from the environment, with explicit overrides taking precedence."""
    return Settings(**overrides)  # type: ignore[arg-type]

"""Scans and alerts (SQLAlchemy Core). No raw IP address is ever stored: a scan
keeps a salted hash of the client, a coarse region and the time."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Integer, MetaData, String, Table, Text

from ledger.store.types import UTCDateTime

metadata = MetaData()

scans = Table(
    "verifier_scans",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("label_number", String(40), nullable=False, index=True),
    Column("serial", String(64), nullable=True, index=True),
    Column("gtin", String(14), nullable=True),
    Column("region", String(16), nullable=True),
    Column("client_hash", String(64), nullable=False),
    Column("verdict", String(16), nullable=False),
    Column("at", UTCDateTime(), nullable=False, index=True),
)

alerts = Table(
    "verifier_alerts",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("code", String(32), nullable=False, index=True),
    Column("label_number", String(40), nullable=False, index=True),
    Column("serial", String(64), nullable=True),
    Column("region", String(16), nullable=True),
    Column("detail", Text, nullable=False),
    Column("at", UTCDateTime(), nullable=False, index=True),
)

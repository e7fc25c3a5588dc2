"""Issue 10 defect 8: a serialised label scanned again and again, on SQLite and PostgreSQL.

SQLite hands back naive datetimes from ``DateTime(timezone=True)`` columns; the copy
rules compared them with the aware time of the new scan and the second or third scan
of any serial answered 500. Every time stamp column is now
:class:`ledger.store.types.UTCDateTime`.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import insert, select

from ledger.store.engine import make_engine
from tests.test_verifier_http import REQUEST, api  # noqa: F401 (the fixture)
from verifier.store.tables import scans


def test_a_serial_scanned_five_times_through_its_digital_link(
    api: tuple[TestClient, dict[str, Any]],  # noqa: F811
) -> None:
    client, ctx = api
    request = copy.deepcopy(REQUEST)
    request["product"]["granularity"] = "item"
    request["product"]["serialRange"] = {"firstSerial": "SN0001", "lastSerial": "SN0999"}
    issued = client.post("/labels", json=request, headers=ctx["headers"])
    assert issued.status_code == 201, issued.text
    link = issued.json()["digitalLink"]
    assert "/21/" in link
    path = "/01/" + link.split("/01/")[1]
    service = client.app.state.verifying.service  # type: ignore[attr-defined]
    for scan in range(5):
        page = client.get(path, params={"lang": "en"}, headers={"X-Carbonlabel-Region": "CN-GD"})
        assert page.status_code == 200, (scan, page.text[:500])
        assert "Genuine carbon label" in page.text
        service.flush()  # the next scan reads this one back from the store


def test_stored_times_read_back_aware_and_utc(database_url: str) -> None:
    from verifier.store.tables import metadata

    engine = make_engine(database_url)
    metadata.create_all(engine)
    written = datetime(2026, 12, 6, 12, 30, 15, tzinfo=UTC)
    with engine.begin() as conn:
        conn.execute(
            insert(scans).values(
                label_number="GDCL-1",
                serial="S1",
                gtin=None,
                region=None,
                client_hash="x" * 64,
                verdict="genuine",
                at=written,
            )
        )
    with engine.connect() as conn:
        at = conn.execute(select(scans.c.at)).scalar_one()
    engine.dispose()
    assert at == written and at.utcoffset() is not None and at.utcoffset().total_seconds() == 0

"""Copy-detection rules: each fires on its pattern and stays quiet otherwise."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from verifier.misuse import LabelFacts, MisuseRules, Scan, distance_km, evaluate

T0 = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
FACTS = LabelFacts(
    label_number="GDCL-2026-AC-000001",
    granularity="item",
    gtins=frozenset({"06901234567892"}),
    market_regions=frozenset({"CN-GD", "HK", "MO"}),
    issued_serials=frozenset({"ABCDEFGHJKLMN"}),
)
RULES = MisuseRules(max_scans_per_serial=5)


def scan(region: str | None = "CN-GD", minutes: float = 0, **changes: object) -> Scan:
    values: dict[str, object] = {
        "label_number": FACTS.label_number,
        "serial": "ABCDEFGHJKLMN",
        "gtin": "06901234567892",
        "region": region,
        "at": T0 + timedelta(minutes=minutes),
    }
    values.update(changes)
    return Scan(**values)  # type: ignore[arg-type]


def codes(new: Scan, earlier: list[Scan] | None = None, facts: LabelFacts = FACTS) -> set[str]:
    return {f.code for f in evaluate(new, earlier or [], facts, RULES)}


def test_an_ordinary_scan_raises_nothing() -> None:
    assert codes(scan()) == set()
    assert codes(scan("HK", 600), [scan()]) == set()  # 10 hours later, 130 km away


def test_too_many_scans() -> None:
    earlier = [scan(minutes=i * 60) for i in range(5)]
    assert "too-many-scans" in codes(scan(minutes=400), earlier)
    old = [scan(minutes=-60 * 24 * 40) for _ in range(5)]  # outside the window
    assert "too-many-scans" not in codes(scan(), old)


def test_impossible_travel() -> None:
    assert distance_km("CN-GD", "CN-BJ") == pytest.approx(1890, rel=0.05)
    found = evaluate(scan("CN-BJ", 30), [scan("CN-GD")], FACTS, RULES)
    assert [f.code for f in found] == ["outside-market", "impossible-travel"]
    assert "1887 km" in found[1].detail or "km" in found[1].detail
    assert "impossible-travel" not in codes(scan("CN-BJ", 60 * 6), [scan("CN-GD")])
    assert "impossible-travel" not in codes(scan("HK", 10), [scan("CN-GD")])  # too close


def test_outside_market_and_subregions() -> None:
    assert "outside-market" in codes(scan("US"))
    facts = LabelFacts(**{**FACTS.__dict__, "market_regions": frozenset({"CN"})})
    assert "outside-market" not in codes(scan("CN-BJ"), facts=facts)


def test_ghost_serial() -> None:
    assert "ghost-serial" in codes(scan(serial="ZZZZZZZZZZZZZ"))
    ranged = LabelFacts(
        **{**FACTS.__dict__, "issued_serials": None, "serial_range": ("SN00001000", "SN00001999")}
    )
    assert "ghost-serial" not in codes(scan(serial="SN00001500"), facts=ranged)
    assert "ghost-serial" in codes(scan(serial="SN00002500"), facts=ranged)
    model = LabelFacts(**{**FACTS.__dict__, "issued_serials": None, "granularity": "model"})
    assert "ghost-serial" in codes(scan(serial="ANYTHING"), facts=model)
    assert "ghost-serial" not in codes(scan(serial=None), facts=model)


def test_gtin_not_covered() -> None:
    assert "gtin-not-covered" in codes(scan(gtin="06901234567908"))


def test_rules_can_be_switched_off() -> None:
    quiet = MisuseRules(check_market=False, check_ghost_serials=False, check_gtin_coverage=False)
    found = evaluate(scan("US", serial="ZZZZZZZZZZZZZ", gtin="06901234567908"), [], FACTS, quiet)
    assert found == []

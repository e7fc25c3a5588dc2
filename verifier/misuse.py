"""Catching copies: rules over the scan history of a label or serial.

Pure functions over plain values: a new :class:`Scan`, the earlier scans of
the same label/serial, and what the label declares. Each rule that fires
yields a :class:`Finding` (a warning on the scan page and an alert for the
authority). Thresholds live in :class:`MisuseRules`, configurable per
deployment.

- ``too-many-scans``: one serial scanned more often than plausible.
- ``impossible-travel``: two scans of one serial from regions too far apart
  for the time between them.
- ``outside-market``: a serial scanned outside the label's declared markets.
- ``ghost-serial``: a serial that was never issued for this label.
- ``gtin-not-covered``: a model-level label scanned on a GTIN it doesn't cover.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

__all__ = ["REGIONS", "Finding", "LabelFacts", "MisuseRules", "Scan", "evaluate"]

REGIONS: dict[str, tuple[float, float]] = {
    # coarse region → (latitude, longitude) of a representative point
    "CN-GD": (23.13, 113.26),
    "HK": (22.32, 114.17),
    "MO": (22.20, 113.54),
    "CN-GX": (22.82, 108.32),
    "CN-FJ": (26.07, 119.30),
    "CN-HN": (28.23, 112.94),
    "CN-JX": (28.68, 115.86),
    "CN-HI": (20.04, 110.34),
    "CN-SH": (31.23, 121.47),
    "CN-ZJ": (30.27, 120.15),
    "CN-JS": (32.06, 118.80),
    "CN-BJ": (39.90, 116.40),
    "CN-TJ": (39.13, 117.20),
    "CN-SC": (30.57, 104.07),
    "CN-CQ": (29.56, 106.55),
    "CN-HB": (30.59, 114.31),
    "CN-SD": (36.67, 117.00),
    "CN-XJ": (43.83, 87.62),
    "CN-HL": (45.80, 126.53),
    "TW": (25.03, 121.57),
    "SG": (1.35, 103.82),
    "JP": (35.68, 139.69),
    "KR": (37.57, 126.98),
    "VN": (21.03, 105.85),
    "TH": (13.75, 100.50),
    "MY": (3.14, 101.69),
    "IN": (28.61, 77.21),
    "AE": (25.20, 55.27),
    "DE": (52.52, 13.40),
    "FR": (48.86, 2.35),
    "GB": (51.51, -0.13),
    "NL": (52.37, 4.90),
    "PT": (38.72, -9.14),
    "US": (38.90, -77.04),
    "BR": (-15.79, -47.88),
    "AU": (-35.28, 149.13),
}


@dataclass(frozen=True)
class MisuseRules:
    """Thresholds of the copy-detection rules (each rule can be switched off)."""

    max_scans_per_serial: int = 50
    scan_window: timedelta = timedelta(days=30)
    max_travel_kmh: float = 900.0
    min_travel_km: float = 150.0
    check_market: bool = True
    check_ghost_serials: bool = True
    check_gtin_coverage: bool = True


@dataclass(frozen=True)
class Scan:
    """One scan: what was scanned, where (coarse region) and when."""

    label_number: str
    serial: str | None
    gtin: str | None
    region: str | None
    at: datetime


@dataclass(frozen=True)
class LabelFacts:
    """What the label declares that the rules compare scans with."""

    label_number: str
    granularity: str
    gtins: frozenset[str]
    market_regions: frozenset[str]
    issued_serials: frozenset[str] | None = None
    """Item serials issued for this label; None when the label has none to check."""
    serial_range: tuple[str, str] | None = None


@dataclass(frozen=True)
class Finding:
    """A rule that fired: a stable ``code`` and a sentence for the authority."""

    code: str
    detail: str


def distance_km(a: str, b: str) -> float | None:
    """Great-circle distance between two known regions (None if either is unknown)."""
    if a not in REGIONS or b not in REGIONS:
        return None
    (lat1, lon1), (lat2, lon2) = REGIONS[a], REGIONS[b]
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(h))


def _in_market(region: str, markets: frozenset[str]) -> bool:
    return any(region == m or region.startswith(m + "-") for m in markets)


def _in_range(serial: str, bounds: tuple[str, str]) -> bool:
    first, last = bounds
    if len(serial) != len(first) or len(first) != len(last):
        return False
    return first <= serial <= last


def evaluate(
    scan: Scan, earlier: Sequence[Scan], facts: LabelFacts, rules: MisuseRules
) -> list[Finding]:
    """The findings for ``scan`` given ``earlier`` scans of the same serial (oldest first)."""
    findings: list[Finding] = []
    if rules.check_gtin_coverage and scan.gtin is not None and scan.gtin not in facts.gtins:
        findings.append(
            Finding(
                "gtin-not-covered",
                f"label {facts.label_number} does not cover GTIN {scan.gtin}",
            )
        )
    if scan.serial is not None and rules.check_ghost_serials:
        issued = facts.issued_serials
        known = (issued is not None and scan.serial in issued) or (
            facts.serial_range is not None and _in_range(scan.serial, facts.serial_range)
        )
        if not known:  # a label without item serials issued none at all
            findings.append(
                Finding(
                    "ghost-serial",
                    f"serial {scan.serial} was never issued for label {facts.label_number}",
                )
            )
    markets = facts.market_regions
    if (
        scan.region is not None
        and rules.check_market
        and markets
        and not _in_market(scan.region, markets)
    ):
        findings.append(
            Finding(
                "outside-market",
                f"scanned in {scan.region}, outside the declared markets "
                f"{', '.join(sorted(markets))}",
            )
        )
    if scan.serial is None:
        return findings
    recent = [s for s in earlier if scan.at - s.at <= rules.scan_window]
    if len(recent) + 1 > rules.max_scans_per_serial:
        findings.append(
            Finding(
                "too-many-scans",
                f"serial {scan.serial} scanned {len(recent) + 1} times within "
                f"{rules.scan_window.days} days (limit {rules.max_scans_per_serial})",
            )
        )
    previous = next((s for s in reversed(earlier) if s.region is not None), None)
    if previous is not None and scan.region is not None and previous.region is not None:
        km = distance_km(previous.region, scan.region)
        hours = max((scan.at - previous.at).total_seconds() / 3600, 1 / 60)
        if km is not None and km >= rules.min_travel_km and km / hours > rules.max_travel_kmh:
            findings.append(
                Finding(
                    "impossible-travel",
                    f"serial {scan.serial} scanned in {previous.region} and {scan.region} "
                    f"({km:.0f} km) within {hours * 60:.0f} minutes",
                )
            )
    return findings

"""The scan page and its languages: negotiation, the message table, every verdict
in every language, escaping of hostile values and the size budget."""

from __future__ import annotations

import html
import json
import re
import string
from html.parser import HTMLParser
from importlib import resources
from typing import Any

import pytest

from schemas.vocabulary import BOUNDARIES, GRANULARITIES, LIFE_CYCLE_STAGES
from verifier.i18n import (
    LANGUAGES,
    MESSAGES,
    format_decimal,
    match_language,
    negotiate_language,
    t,
)
from verifier.result import CHECK_NAMES, Check, Outcome, Verdict
from verifier.scanpage import VERDICT_COLOURS, ScanView, render_not_found, render_scan_page

MISUSE_CODES = ("too-many-scans", "impossible-travel", "outside-market", "ghost-serial",
                "gtin-not-covered")  # fmt: skip
LABEL_NUMBER = "GDCL-2025-AC-000123"
HOSTILE = '<script>alert("x")</script></details>\'"&amp;'


def _example(name: str) -> dict[str, Any]:
    text = resources.files("schemas").joinpath("examples", name).read_text("utf-8")
    document: dict[str, Any] = json.loads(text)
    return document


def example_summary() -> dict[str, Any]:
    """The scan-page summary of the room air-conditioner example label."""
    credential = _example("label-credential.room-ac.json")
    subject = credential["credentialSubject"]
    product, footprint = subject["labelledProduct"], subject["carbonFootprint"]
    maker = subject["issuedToParty"]
    return {
        "label_number": subject["labelNumber"],
        "credential_id": credential["id"],
        "product_name": product["name"],
        "model": product["model"],
        "gtin": product["gtin"],
        "product_category": product["productCategory"],
        "granularity": product["granularity"],
        "batch_number": None,
        "footprint_value": footprint["pcfExcludingBiogenicUptake"],
        "footprint_metric": "pcfExcludingBiogenicUptake",
        "declared_unit_amount": footprint["declaredUnitAmount"],
        "declared_unit": footprint["declaredUnitOfMeasurement"],
        "boundary": footprint["boundary"],
        "stages": footprint["lifeCycleStageEmissions"],
        "valid_from": credential["validFrom"],
        "valid_until": credential["validUntil"],
        "issuer_id": credential["issuer"]["id"],
        "issuer_name": credential["issuer"]["name"],
        "certification_body_name": "广东某认证有限公司 (example CAB)",
        "manufacturer_name": maker["name"],
        "manufacturer_uscc": maker["registeredId"],
        "market_regions": subject["marketRegions"],
        "distributor_usccs": [d["registeredId"] for d in subject["authorisedDistributors"]],
    }


def example_grade() -> dict[str, Any]:
    subject = _example("grade-credential.room-ac.json")["credentialSubject"]
    return {
        "grade": subject["grade"],
        "rule_name": "房间空调器碳足迹分级规则 1.0.0 (illustrative)",
        "ratio": subject["ratio"],
        "benchmark_value": subject["benchmark"]["value"],
    }


_FAILED_CHECK = {
    Verdict.REVOKED: ("status", "REVOKED", "the issuer has revoked this credential"),
    Verdict.SUSPENDED: ("status", "SUSPENDED", "the issuer has suspended this credential"),
    Verdict.EXPIRED: ("validity", "EXPIRED", "the credential expired at 2027-09-30T23:59:59Z"),
    Verdict.INVALID: ("proof", "SIGNATURE_MISMATCH", "the signature does not verify"),
}


def example_checks(verdict: Verdict) -> tuple[Check, ...]:
    failed = _FAILED_CHECK.get(verdict)
    checks = []
    for name in CHECK_NAMES:
        if failed is not None and name == failed[0]:
            checks.append(Check(name, Outcome.FAILED, failed[2], failed[1]))
        elif name in ("grade", "binding"):
            checks.append(Check(name, Outcome.SKIPPED, "not a grade credential"))
        else:
            checks.append(Check(name, Outcome.PASSED, f"{name} verified"))
    return tuple(checks)


def example_view(lang: str, verdict: Verdict, **changes: Any) -> ScanView:
    """A full scan view of the example label with ``verdict``, as the resolver builds it."""
    warnings: tuple[tuple[str, str], ...] = ()
    if verdict is Verdict.WARNING:
        warnings = (("outside-market", "serial 000042 scanned in CN-SH, outside CN-GD, HK, MO"),)
    fields: dict[str, Any] = {
        "lang": lang,
        "verdict": verdict,
        "checks": example_checks(verdict),
        "warnings": warnings,
        "summary": example_summary(),
        "grade": example_grade(),
        "log_index": 1234,
        "tree_size": 5678,
        "log_origin": "log.gd-carbon-label.example/2025",
        "recognitions": (
            {"jurisdiction": "HK", "body": "Hong Kong carbon label recognition body"},
            {"jurisdiction": "MO", "body": "Macao carbon label recognition body"},
        ),
        "links": {
            "bundle": f"https://verify.example/labels/{LABEL_NUMBER}",
            "linkset": "https://verify.example/01/06901234567892?linkType=linkset",
            "log": "https://verify.example/log/checkpoint",
        },
    }
    fields.update(changes)
    return ScanView(**fields)


# --- language negotiation ------------------------------------------------------------


NEGOTIATION = [
    ("nothing", None, None, "zh-Hans"),
    ("empty", "", None, "zh-Hans"),
    ("zh", "zh", None, "zh-Hans"),
    ("zh-CN", "zh-CN,zh;q=0.9,en;q=0.8", None, "zh-Hans"),
    ("zh-SG", "zh-SG", None, "zh-Hans"),
    ("zh-TW", "zh-TW", None, "zh-Hant"),
    ("zh-HK", "zh-HK,zh;q=0.9", None, "zh-Hant"),
    ("zh-MO", "zh-MO", None, "zh-Hant"),
    ("zh-Hant-HK", "zh-Hant-HK", None, "zh-Hant"),
    ("zh-Hans-HK-script-wins", "zh-Hans-HK", None, "zh-Hans"),
    ("yue-cantonese", "yue", None, "zh-Hant"),
    ("case-insensitive", "ZH-hk", None, "zh-Hant"),
    ("pt-PT", "pt-PT", None, "pt"),
    ("pt-BR", "pt-BR,en;q=0.5", None, "pt"),
    ("pt-MO", "pt-MO", None, "pt"),
    ("en-GB", "en-GB", None, "en"),
    ("en-US-over-fr", "fr-FR,en-US;q=0.7", None, "en"),
    ("q-order", "en;q=0.5,pt;q=0.8", None, "pt"),
    ("tie-keeps-header-order", "pt;q=0.8,en;q=0.8", None, "pt"),
    ("q-zero-excludes", "en;q=0,pt;q=0.1", None, "pt"),
    ("zh-q-zero-excludes-both-scripts", "zh;q=0,*;q=0.5", None, "en"),
    ("wildcard", "*", None, "zh-Hans"),
    ("unsupported-only", "fr,de;q=0.9", None, "zh-Hans"),
    ("malformed-q-ignored", "en;q=abc,pt;q=0.2", None, "pt"),
    ("q-above-one-ignored", "en;q=1.5,pt;q=0.2", None, "pt"),
    ("garbage", ";;;,=,zh-TW", None, "zh-Hant"),
    ("whitespace", " en-AU ; q=0.9 , zh-HK ; q=0.8", None, "en"),
    ("query-wins", "en", "zh-Hant", "zh-Hant"),
    ("query-region", "en", "zh-MO", "zh-Hant"),
    ("query-underscore", None, "pt_BR", "pt"),
    ("query-unknown-falls-back", "en", "fr", "en"),
    ("query-empty", "pt", "", "pt"),
]


@pytest.mark.parametrize(
    ("accept", "query", "expected"),
    [pytest.param(a, q, e, id=name) for name, a, q, e in NEGOTIATION],
)
def test_negotiate_language(accept: str | None, query: str | None, expected: str) -> None:
    assert negotiate_language(accept, query) == expected


def test_negotiate_language_bounds_long_headers() -> None:
    header = ",".join(["fr;q=0.9"] * 5000) + ",en"
    assert negotiate_language(header, None) == "zh-Hans"  # only the first ranges count


@pytest.mark.parametrize("tag", ["de", "x-klingon", "", "zhx"])
def test_match_language_unsupported(tag: str) -> None:
    assert match_language(tag) is None


# --- the message table ---------------------------------------------------------------


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@pytest.mark.parametrize("key", sorted(MESSAGES))
def test_message_in_every_language(key: str) -> None:
    texts = MESSAGES[key]
    assert tuple(texts) == LANGUAGES
    assert all(text.strip() for text in texts.values())
    assert len({frozenset(_placeholders(text)) for text in texts.values()}) == 1, key


def _schema_enum(name: str) -> list[str]:
    text = resources.files("schemas").joinpath("json", "common.schema.json").read_text("utf-8")
    values: list[str] = json.loads(text)["$defs"][name]["enum"]
    return values


def test_message_table_covers_the_page() -> None:
    required = [f"verdict.{v.value}.{p}" for v in Verdict for p in ("title", "explain", "short")]
    required += [f"stage.{s}" for s in LIFE_CYCLE_STAGES]
    required += [f"boundary.{b}" for b in BOUNDARIES]
    required += [f"granularity.{g}" for g in GRANULARITIES]
    required += [f"check.{c}" for c in CHECK_NAMES]
    required += [f"outcome.{o.value}" for o in Outcome]
    required += [f"warning.{c}" for c in MISUSE_CODES]
    required += [f"unit.{u}" for u in _schema_enum("DeclaredUnit")]
    required += [f"metric.{m}" for m in _schema_enum("FootprintMetric")]
    required += ["region.HK", "region.MO", "link.bundle", "link.linkset", "link.log"]
    missing = [key for key in required if key not in MESSAGES]
    assert missing == []


def test_t_fills_placeholders_and_falls_back() -> None:
    assert t("en", "log.anchored", index=0) == "Anchored in the public log at index 0"
    assert t("pt", "log.anchored", index=7) == "Inscrito no registo público com o índice 7"
    assert t("xx", "verdict.genuine.title") == t("zh-Hans", "verdict.genuine.title")
    with pytest.raises(KeyError):
        t("en", "no.such.key")


@pytest.mark.parametrize(
    ("lang", "value", "expected"),
    [
        ("en", "5900.5", "5,900.5"),
        ("zh-Hant", "1234567", "1,234,567"),
        ("pt", "5900.5", "5\u00a0900,5"),
        ("pt", "-0.25", "-0,25"),
        ("en", "412.60", "412.60"),
        ("en", "1E+3", "1,000"),
        ("en", "not a number", "not a number"),
        ("en", "NaN", "NaN"),
    ],
)
def test_format_decimal(lang: str, value: str, expected: str) -> None:
    assert format_decimal(lang, value) == expected


# --- pages ---------------------------------------------------------------------------


class _Structure(HTMLParser):
    """Checks that every non-void element is closed in order and collects text."""

    VOID = frozenset({"meta", "br", "circle", "path", "link", "img", "input", "hr"})

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.tags: list[str] = []
        self.errors: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
        else:
            self.stack.pop()


def _structure(page: str) -> _Structure:
    parser = _Structure()
    parser.feed(page)
    parser.close()
    return parser


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("verdict", [v for v in Verdict if v is not Verdict.NOT_FOUND])
def test_page_per_verdict_and_language(lang: str, verdict: Verdict) -> None:
    page = render_scan_page(example_view(lang, verdict))
    assert page.startswith("<!DOCTYPE html>")
    assert f'<html lang="{lang}">' in page
    assert '<meta name="viewport" content="width=device-width,initial-scale=1">' in page
    assert html.escape(t(lang, f"verdict.{verdict.value}.title")) in page
    assert html.escape(t(lang, f"verdict.{verdict.value}.explain")) in page
    assert LABEL_NUMBER in page
    assert "<script" not in page.lower()
    structure = _structure(page)
    assert structure.errors == [] and structure.stack == []
    assert structure.tags.count("h1") == 1 and structure.tags.count("details") == 1
    # the banner comes first, then the warnings, then the product
    banner = page.index('<header class="v ')
    assert banner < page.index(html.escape(t(lang, "section.product")))
    if verdict is Verdict.WARNING:
        warning = page.index(html.escape(t(lang, "warning.outside-market")))
        assert banner < warning < page.index(html.escape(t(lang, "section.product")))


@pytest.mark.parametrize("lang", LANGUAGES)
def test_page_shows_the_label(lang: str) -> None:
    page = render_scan_page(example_view(lang, Verdict.GENUINE))
    expected = [
        t(lang, "log.anchored", index=1234),
        t(lang, "log.tree", size=5678, origin="log.gd-carbon-label.example/2025"),
        t(lang, "boundary.cradle-to-grave"),
        t(lang, "grade.value", grade="3"),
        t(lang, "field.certification_body"),
        "KFR-35GW/BP3DN8Y",
        "06901234567892",
        format_decimal(lang, "5900.5"),
        "kg CO₂e",
        "2027-09-30",
        "91440606MA4WK7R2X8",
        *(t(lang, f"stage.{stage}") for stage in LIFE_CYCLE_STAGES),
        *(t(lang, f"check.{name}") for name in CHECK_NAMES),
        t(lang, "region.MO"),
        "https://verify.example/log/checkpoint",
    ]
    for text in expected:
        assert html.escape(text) in page, text
    # the use phase is 5391.0 of 5900.5 kg CO2e
    assert f"{format_decimal(lang, '91.4')}%" in page
    assert 'style="width:91.4%"' in page


def test_page_shows_log_index_zero() -> None:
    page = render_scan_page(example_view("en", Verdict.GENUINE, log_index=0))
    assert "Anchored in the public log at index 0" in page


def test_page_without_log_or_summary() -> None:
    view = example_view("en", Verdict.INVALID, log_index=None, summary=None, grade=None)
    page = render_scan_page(view)
    assert "No public log record came with this label" in page
    assert _structure(page).errors == []


def test_page_tolerates_odd_summary_values() -> None:
    summary = {
        "label_number": 42,
        "stages": [{"stage": "use", "emissions": "lots"}, "junk", {"stage": "use"}],
        "market_regions": "HK",
        "footprint_value": "1e2",
        "declared_unit": "barrel",
        "boundary": "gate-to-gate",
        "valid_from": {"nested": True},
    }
    page = render_scan_page(example_view("pt", Verdict.GENUINE, summary=summary, grade={}))
    assert "42" in page and "barrel" in page and "gate-to-gate" in page and "lots" in page
    assert _structure(page).errors == []


def _hostile_view(lang: str) -> ScanView:
    summary: dict[str, Any] = {key: HOSTILE for key in example_summary()}
    summary["stages"] = [{"stage": HOSTILE, "emissions": HOSTILE}]
    summary["market_regions"] = [HOSTILE]
    summary["distributor_usccs"] = [HOSTILE]
    return example_view(
        lang,
        Verdict.WARNING,
        summary=summary,
        grade={key: HOSTILE for key in example_grade()},
        checks=(Check(HOSTILE, Outcome.FAILED, HOSTILE, HOSTILE),),
        warnings=((HOSTILE, HOSTILE), ("check", HOSTILE)),
        log_origin=HOSTILE,
        recognitions=({"jurisdiction": HOSTILE, "body": HOSTILE},),
        links={
            "bundle": 'https://x.example/"><script>alert(1)</script>',
            "linkset": "javascript:alert(1)",
            "log": "//evil.example/checkpoint",
            HOSTILE: "/relative",
        },
    )


@pytest.mark.parametrize("lang", LANGUAGES)
def test_hostile_values_are_escaped(lang: str) -> None:
    page = render_scan_page(_hostile_view(lang))
    assert "<script" not in page.lower()
    assert page.count("</details>") == 1  # ours, not the credential's
    assert "javascript:" not in page
    assert "//evil.example" not in page
    assert 'href="https://x.example/&quot;&gt;&lt;script&gt;' in page
    assert html.escape(HOSTILE) in page
    structure = _structure(page)
    assert structure.errors == [] and structure.stack == []
    assert "script" not in structure.tags


@pytest.mark.parametrize("lang", LANGUAGES)
def test_not_found_page(lang: str) -> None:
    page = render_not_found(lang, "06901234567892", "no label was issued for GTIN 06901234567892")
    assert f'<html lang="{lang}">' in page
    assert html.escape(t(lang, "verdict.not-found.title")) in page
    assert html.escape(t(lang, "notfound.advice")) in page
    assert "06901234567892" in page
    assert _structure(page).errors == []
    hostile = render_not_found(lang, HOSTILE, HOSTILE)
    assert "<script" not in hostile.lower() and html.escape(HOSTILE) in hostile
    assert "06901234567892" not in render_not_found(lang, None, "label X was never issued")


@pytest.mark.parametrize("lang", LANGUAGES)
def test_size_budget(lang: str) -> None:
    warnings = tuple((code, f"{code}: serial 000042 in CN-SH") for code in MISUSE_CODES)
    page = render_scan_page(example_view(lang, Verdict.WARNING, warnings=warnings))
    assert len(page.encode("utf-8")) < 15_000
    assert len(render_not_found(lang, "06901234567892", "never issued").encode("utf-8")) < 15_000


def test_unsupported_language_renders_default() -> None:
    page = render_scan_page(example_view("fr", Verdict.GENUINE))
    assert '<html lang="zh-Hans">' in page


def test_language_switcher_links_the_other_languages() -> None:
    page = render_scan_page(example_view("zh-Hant", Verdict.GENUINE))
    links = re.findall(r'href="\?lang=([\w-]+)"', page)
    assert links == ["zh-Hans", "en", "pt"]


@pytest.mark.parametrize("verdict", list(Verdict))
def test_banner_class_names_its_tone(verdict: Verdict) -> None:
    page = render_scan_page(example_view("en", verdict))
    tone = {"#15803d": "green", "#b91c1c": "red", "#f59e0b": "amber"}[VERDICT_COLOURS[verdict][0]]
    assert f'<header class="v {tone}" role="status">' in page


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize(
    ("verdict", "purpose"),
    [(Verdict.REVOKED, "revocation"), (Verdict.SUSPENDED, "suspension")],
)
def test_a_withdrawn_label_shows_when_and_why(lang: str, verdict: Verdict, purpose: str) -> None:
    change = {
        "purpose": purpose,
        "at": "2026-12-06T04:31:16Z",
        "reason": "<b>study</b> withdrawn",
        "logIndex": 77,
    }
    page = render_scan_page(example_view(lang, verdict, status_change=change))
    section = page.index(html.escape(t(lang, f"section.status_change.{purpose}")))
    assert (
        page.index('<header class="v ')
        < section
        < page.index(html.escape(t(lang, "section.product")))
    )
    assert html.escape(t(lang, f"field.status_changed_at.{purpose}")) in page
    assert "2026-12-06 04:31 UTC" in page
    assert html.escape(t(lang, "field.status_reason")) in page
    assert "&lt;b&gt;study&lt;/b&gt; withdrawn" in page and "<b>study" not in page
    assert html.escape(t(lang, "status.logged", index=77)) in page
    no_reason = render_scan_page(
        example_view(lang, verdict, status_change={**change, "reason": None})
    )
    assert html.escape(t(lang, "status.no_reason")) in no_reason
    # a change that is not the verdict's (or no such verdict) is not shown
    other = render_scan_page(example_view(lang, Verdict.GENUINE, status_change=change))
    assert '<section class="sc">' in page and '<section class="sc">' not in other

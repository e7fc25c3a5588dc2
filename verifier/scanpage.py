"""The consumer scan page: what a phone shows after scanning a carbon label's QR code.

Server-rendered HTML5, no JavaScript, a few hundred bytes of inline CSS,
mobile-first. From the top: a verdict banner readable at one glance (colour,
icon, big title, one sentence), warnings, the product, its footprint and
life-cycle stages, the grade, who issued and certified it, validity, where it is
anchored in the public log, Hong Kong / Macao recognition, every check in a
``<details>`` list, and machine-readable links.

Every value that comes from a credential, a check or a caller is escaped
(``html.escape``) where it is written; links are kept only for ``http(s)`` or
root-relative targets. :func:`render_scan_page` and :func:`render_not_found`
never raise for odd summary values: what cannot be read is left out.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from string import Template
from typing import Any, Final

from verifier.i18n import LANGUAGE_NAMES, LANGUAGES, format_decimal, has_message, t
from verifier.result import Check, Outcome, Verdict

__all__ = [
    "FOOTPRINT_UNIT",
    "STATUS_VERDICTS",
    "VERDICT_COLOURS",
    "VERDICT_ICONS",
    "LabelChoice",
    "ScanView",
    "render_label_list",
    "render_not_found",
    "render_scan_page",
]

FOOTPRINT_UNIT: Final = "kg CO₂e"

_GREEN: Final = ("#15803d", "#ffffff")
_RED: Final = ("#b91c1c", "#ffffff")
_AMBER: Final = ("#f59e0b", "#1f2937")
VERDICT_COLOURS: Final[Mapping[Verdict, tuple[str, str]]] = {
    Verdict.GENUINE: _GREEN,
    Verdict.REVOKED: _RED,
    Verdict.INVALID: _RED,
    Verdict.NOT_FOUND: _RED,
    Verdict.SUSPENDED: _AMBER,
    Verdict.EXPIRED: _AMBER,
    Verdict.WARNING: _AMBER,
    Verdict.SUSPECT: _RED,
}
"""Banner (and badge) background and text colour of each verdict."""
_TONES: Final = {_GREEN: "green", _RED: "red", _AMBER: "amber"}

STATUS_VERDICTS: Final[Mapping[str, Verdict]] = {
    "valid": Verdict.GENUINE,
    "revoked": Verdict.REVOKED,
    "suspended": Verdict.SUSPENDED,
    "expired": Verdict.EXPIRED,
    "invalid": Verdict.INVALID,
}
"""The verdict whose colour a status in a GTIN's list of labels is shown in."""
_NEUTRAL: Final = ("#334155", "#ffffff")
_LIST_ICON: Final = "M8 8.5h8M8 12h8M8 15.5h8"

_CROSS: Final = "M8 8l8 8M16 8l-8 8"
VERDICT_ICONS: Final[Mapping[Verdict, str]] = {
    Verdict.GENUINE: "M6.5 12.5l3.5 3.5 7.5-8",
    Verdict.REVOKED: _CROSS,
    Verdict.INVALID: _CROSS,
    Verdict.NOT_FOUND: "M9.3 9.5a2.8 2.8 0 1 1 3.9 2.6c-.8.4-1.2 1-1.2 1.8v.4M12 17.2v.3",
    Verdict.SUSPENDED: "M10 8v8M14 8v8",
    Verdict.EXPIRED: "M12 7v5.2l3.4 2.1",
    Verdict.WARNING: "M12 6.8v6.4M12 17v.3",
    Verdict.SUSPECT: "M12 6.8v6.4M12 17v.3",
}
"""SVG path (24×24 box, drawn inside a ring) of each verdict's glyph."""

_FONTS: Final = {
    "zh-Hans": '"PingFang SC","Microsoft YaHei","Noto Sans CJK SC",',
    "zh-Hant": '"PingFang TC","Microsoft JhengHei","Noto Sans CJK TC",',
}
_CSS: Final = Template(
    "*{box-sizing:border-box}"
    "body{margin:0;font:16px/1.5 system-ui,-apple-system,Roboto,${fonts}"
    '"WenQuanYi Micro Hei",sans-serif;color:#1f2937;background:#f3f4f6}'
    ".v{padding:18px 16px 16px;background:${bg};color:${fg}}"
    ".v .h{display:flex;align-items:center;gap:12px}"
    ".v svg{flex:none}.v h1{margin:0;font-size:26px;line-height:1.25}"
    ".v p{margin:8px 0 0}.v .n{font-size:14px;opacity:.85;overflow-wrap:anywhere}"
    "main{max-width:640px;margin:0 auto;padding:12px}"
    "section,details{background:#fff;border-radius:10px;padding:12px 16px;margin:0 0 12px}"
    "section p{margin:4px 0}"
    "h2,summary{font-size:15px;font-weight:600;margin:0 0 8px;color:#4b5563}"
    "dl{margin:0;display:grid;grid-template-columns:fit-content(42%) 1fr;gap:4px 12px}"
    "dt{color:#6b7280}dd{margin:0;overflow-wrap:anywhere}"
    "ul{margin:0;padding:0;list-style:none}li{margin:0 0 8px}"
    ".w{background:#fffbeb;border-left:4px solid #f59e0b}"
    ".w.x{background:#fef2f2;border-left-color:#b91c1c}.sc{border-left:4px solid ${bg}}"
    ".fp{margin:0;font-size:30px;font-weight:700}.fp small{font-size:16px;font-weight:400}"
    ".s{display:flex;justify-content:space-between;gap:8px;font-size:14px}"
    ".b{height:8px;background:#e5e7eb;border-radius:4px}"
    ".b i{display:block;height:8px;border-radius:4px;background:#475569}.b .neg{background:#94a3b8}"
    ".g{font-size:28px;font-weight:700;margin:0}"
    ".d{color:#6b7280;font-size:13px;overflow-wrap:anywhere}"
    ".failed b{color:#b91c1c}.passed b{color:#15803d}"
    "a{color:#1d4ed8;overflow-wrap:anywhere}footer{text-align:center;padding:0 12px 24px}"
    "footer a,footer strong{margin:0 6px}"
    ".st{display:inline-block;padding:0 8px;border-radius:8px;font-size:14px}"
)
_DATE: Final = re.compile(r"^\d{4}-\d{2}-\d{2}")
_LINK_ORDER: Final = ("bundle", "linkset", "log")


@dataclass(frozen=True)
class ScanView:
    """Everything the scan page shows: the verdict, its checks and the label's facts.

    ``summary`` keys: label_number, credential_id, product_name, model, gtin,
    product_category, granularity, batch_number, footprint_value,
    footprint_metric, declared_unit_amount, declared_unit, boundary, stages
    (``[{"stage", "emissions"}]``), valid_from, valid_until, issuer_id,
    issuer_name, certification_body_name, manufacturer_name, manufacturer_uscc,
    market_regions, distributor_usccs. ``grade`` keys: grade, rule_name, ratio,
    benchmark_value. ``recognitions``: ``{"jurisdiction": "HK"|"MO", "body": name}``.
    ``links``: ``bundle``, ``linkset``, ``log`` (and any other name → URL).
    ``warnings``: ``(code, detail)`` — a misuse rule's code or ``"check"``.
    ``status_change`` (a revoked or suspended label): ``purpose`` (``revocation`` |
    ``suspension``), ``at`` (ISO 8601 UTC), ``reason`` (or None), ``logIndex`` — the
    logged status change, shown under the banner.
    """

    lang: str
    verdict: Verdict
    checks: tuple[Check, ...]
    warnings: tuple[tuple[str, str], ...]
    summary: Mapping[str, Any] | None = None
    grade: Mapping[str, Any] | None = None
    log_index: int | None = None
    tree_size: int | None = None
    log_origin: str | None = None
    recognitions: tuple[Mapping[str, str], ...] = ()
    links: Mapping[str, str] = field(default_factory=dict)
    status_change: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class LabelChoice:
    """One of the labels a Digital Link without ``?label=`` may mean (the resolver's list).

    ``status``: ``valid``, ``revoked``, ``suspended``, ``expired`` or ``invalid``
    (:data:`STATUS_VERDICTS`); ``scan_url`` its own scan page; ``printed_link`` the URI
    printed on it, when known.
    """

    label_number: str
    status: str
    issuer_id: str
    issuer_name: str
    batch: str | None
    serial: str | None
    valid_from: str
    valid_until: str
    scan_url: str
    bundle_url: str
    printed_link: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "labelNumber": self.label_number,
            "status": self.status,
            "issuer": self.issuer_id,
            "issuerName": self.issuer_name,
            "batch": self.batch,
            "serial": self.serial,
            "validFrom": self.valid_from,
            "validUntil": self.valid_until,
            "scan": self.scan_url,
            "bundle": self.bundle_url,
            "digitalLink": self.printed_link,
        }


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _text(value: Any) -> str | None:
    """A summary value as display text, or None when absent or not a scalar."""
    if value is None or isinstance(value, bool | Mapping | list | tuple | set):
        return None
    text = str(value)
    return text if text.strip() else None


def _lang(lang: str) -> str:
    return lang if lang in LANGUAGES else LANGUAGES[0]


def _opt(lang: str, prefix: str, value: str) -> str:
    """A localized name for a vocabulary value (``stage.use``), else the value itself."""
    key = f"{prefix}.{value}"
    return t(lang, key) if has_message(key) else value


def _date(value: Any) -> str | None:
    text = _text(value)
    if text is not None and _DATE.match(text):
        return text[:10]
    return text


def _decimal(value: Any) -> Decimal | None:
    text = _text(value)
    if text is None:
        return None
    try:
        number = Decimal(text)
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def _safe_href(url: str) -> str | None:
    lowered = url.strip().lower()
    if lowered.startswith(("https://", "http://")) or (
        url.startswith("/") and not url.startswith("//")
    ):
        return url
    return None


def _icon(verdict: Verdict | None, size: int) -> str:
    path = _LIST_ICON if verdict is None else VERDICT_ICONS[verdict]
    return (
        f'<svg viewBox="0 0 24 24" width="{size}" height="{size}" aria-hidden="true" fill="none" '
        'stroke="currentColor" stroke-linecap="round" stroke-linejoin="round">'
        '<circle cx="12" cy="12" r="10.5" stroke-width="2"/>'
        f'<path d="{path}" stroke-width="2.6"/></svg>'
    )


def _dl(rows: Iterable[tuple[str, str | None]]) -> str:
    """A ``<dl>`` of (label, already-escaped HTML) rows; rows without a value are left out."""
    items = "".join(f"<dt>{_e(label)}</dt><dd>{value}</dd>" for label, value in rows if value)
    return f"<dl>{items}</dl>" if items else ""


def _section(title: str, body: str, css_class: str = "") -> str:
    if not body:
        return ""
    attribute = f' class="{css_class}"' if css_class else ""
    return f"<section{attribute}><h2>{_e(title)}</h2>{body}</section>"


def _document(lang: str, verdict: Verdict | None, title: str, banner: str, main: str) -> str:
    """A whole page; ``verdict`` colours the banner (None: the neutral list banner)."""
    background, foreground = _NEUTRAL if verdict is None else VERDICT_COLOURS[verdict]
    css = _CSS.substitute(fonts=_FONTS.get(lang, ""), bg=background, fg=foreground)
    return (
        f'<!DOCTYPE html><html lang="{_e(lang)}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        '<meta name="color-scheme" content="light"><meta name="robots" content="noindex">'
        f"<title>{_e(title)}</title><style>{css}</style></head><body>"
        f"{banner}<main>{main}</main>{_footer(lang)}</body></html>"
    )


def _banner(lang: str, verdict: Verdict, line: str | None) -> str:
    """The verdict banner; its class names its tone (``v green``, ``v amber``, ``v red``)."""
    key = f"verdict.{verdict.value}"
    number = f'<p class="n">{_e(line)}</p>' if line else ""
    tone = _TONES[VERDICT_COLOURS[verdict]]
    return (
        f'<header class="v {tone}" role="status"><div class="h">{_icon(verdict, 44)}'
        f"<h1>{_e(t(lang, key + '.title'))}</h1></div>"
        f"<p>{_e(t(lang, key + '.explain'))}</p>{number}</header>"
    )


def _footer(lang: str) -> str:
    choices = []
    for code in LANGUAGES:
        name = _e(LANGUAGE_NAMES[code])
        if code == lang:
            choices.append(f'<strong lang="{code}">{name}</strong>')
        else:
            choices.append(f'<a href="?lang={code}" hreflang="{code}" lang="{code}">{name}</a>')
    return (
        f'<footer><nav aria-label="{_e(t(lang, "page.language"))}">{"".join(choices)}</nav>'
        f'<p class="d">{_e(t(lang, "page.footer"))}</p></footer>'
    )


# --- sections -----------------------------------------------------------------------------


def _warnings(lang: str, warnings: Sequence[tuple[str, str]], red: bool = False) -> str:
    """The notes under the banner: amber, or red (``w x``) when they make the verdict red."""
    items = []
    for code, detail in warnings:
        key = f"warning.{code}"
        headline = t(lang, key) if has_message(key) else t(lang, "warning.other")
        items.append(
            f'<li><b>{_e(headline)}</b><br><span class="d" lang="en">{_e(detail)}</span></li>'
        )
    css = "w x" if red else "w"
    return _section(t(lang, "section.warnings"), f"<ul>{''.join(items)}</ul>", css) if items else ""


def _status_change(lang: str, verdict: Verdict, change: Mapping[str, Any] | None) -> str:
    """When and why the label was revoked or suspended (only when that is the verdict)."""
    if change is None:
        return ""
    purpose = _text(change.get("purpose"))
    expected = {Verdict.REVOKED: "revocation", Verdict.SUSPENDED: "suspension"}.get(verdict)
    if purpose is None or purpose != expected:
        return ""
    at = _text(change.get("at"))
    when = f"{at[:10]} {at[11:16]} UTC" if at and _DATE.match(at) and len(at) >= 16 else at
    reason = _text(change.get("reason"))
    shown_reason = (
        f"<span>{_e(reason)}</span>"
        if reason
        else f'<span class="d">{_e(t(lang, "status.no_reason"))}</span>'
    )
    rows = [
        (t(lang, f"field.status_changed_at.{purpose}"), _e(when) if when else None),
        (t(lang, "field.status_reason"), shown_reason),
    ]
    body = _dl(rows)
    index = change.get("logIndex")
    if isinstance(index, int) and not isinstance(index, bool):
        body += f'<p class="d">{_e(t(lang, "status.logged", index=index))}</p>'
    return _section(t(lang, f"section.status_change.{purpose}"), body, "sc")


def _product(lang: str, s: Mapping[str, Any]) -> str:
    category = _text(s.get("product_category"))
    granularity = _text(s.get("granularity"))
    rows = [
        (t(lang, "field.product"), _text(s.get("product_name"))),
        (t(lang, "field.model"), _text(s.get("model"))),
        (t(lang, "field.gtin"), _text(s.get("gtin"))),
        (t(lang, "field.batch"), _text(s.get("batch_number"))),
        (t(lang, "field.category"), _opt(lang, "category", category) if category else None),
        (t(lang, "field.covers"), _opt(lang, "granularity", granularity) if granularity else None),
        (t(lang, "field.label_number"), _text(s.get("label_number"))),
    ]
    return _section(t(lang, "section.product"), _dl((k, _e(v) if v else None) for k, v in rows))


def _footprint(lang: str, s: Mapping[str, Any]) -> str:
    value = _text(s.get("footprint_value"))
    if value is None:
        return ""
    parts = [
        f'<p class="fp">{_e(format_decimal(lang, value))} <small>{_e(FOOTPRINT_UNIT)}</small></p>'
    ]
    unit = _text(s.get("declared_unit"))
    if unit is not None:
        amount = format_decimal(lang, _text(s.get("declared_unit_amount")) or "1")
        per = t(lang, "footprint.per_unit", amount=amount, unit=_opt(lang, "unit", unit))
        metric = _text(s.get("footprint_metric"))
        if metric is not None and has_message(f"metric.{metric}"):
            per += " · " + t(lang, f"metric.{metric}")
        parts.append(f"<p>{_e(per)}</p>")
    boundary = _text(s.get("boundary"))
    if boundary is not None:
        shown = _e(_opt(lang, "boundary", boundary))
        if has_message(f"boundary.{boundary}.note"):
            shown += f'<br><span class="d">{_e(t(lang, f"boundary.{boundary}.note"))}</span>'
        parts.append(_dl([(t(lang, "field.boundary"), shown)]))
    return _section(t(lang, "section.footprint"), "".join(parts))


def _stages(lang: str, s: Mapping[str, Any]) -> str:
    raw = s.get("stages")
    if not isinstance(raw, list | tuple):
        return ""
    stages: list[tuple[str, str, Decimal | None]] = []
    for entry in raw:
        if not isinstance(entry, Mapping):
            continue
        stage, emissions = _text(entry.get("stage")), _text(entry.get("emissions"))
        if stage is not None and emissions is not None:
            stages.append((stage, emissions, _decimal(emissions)))
    if not stages:
        return ""
    total = sum((abs(n) for _, _, n in stages if n is not None), Decimal(0))
    items = []
    for stage, emissions, number in stages:
        share, bar = "", ""
        if number is not None and total > 0:
            percent = min(abs(number) / total * 100, Decimal(100))
            share = f" · {format_decimal(lang, f'{number / total * 100:.1f}')}%"
            negative = ' class="neg"' if number < 0 else ""
            bar = f'<div class="b"><i{negative} style="width:{percent:.1f}%"></i></div>'
        items.append(
            f'<li><div class="s"><span>{_e(_opt(lang, "stage", stage))}</span>'
            f"<span>{_e(format_decimal(lang, emissions))}{_e(share)}</span></div>{bar}</li>"
        )
    return _section(t(lang, "section.stages"), f"<ul>{''.join(items)}</ul>")


def _grade(lang: str, grade: Mapping[str, Any] | None) -> str:
    value = _text(grade.get("grade")) if grade else None
    if grade is None or value is None:
        return ""
    ratio, benchmark = _text(grade.get("ratio")), _text(grade.get("benchmark_value"))
    rows = [
        (t(lang, "field.ratio"), _e(format_decimal(lang, ratio)) if ratio else None),
        (
            t(lang, "field.benchmark"),
            _e(f"{format_decimal(lang, benchmark)} {FOOTPRINT_UNIT}") if benchmark else None,
        ),
        (
            t(lang, "field.rule"),
            _e(grade.get("rule_name")) if _text(grade.get("rule_name")) else None,
        ),
    ]
    body = f'<p class="g">{_e(t(lang, "grade.value", grade=value))}</p>{_dl(rows)}'
    return _section(t(lang, "section.grade"), body)


def _parties(lang: str, s: Mapping[str, Any]) -> str:
    manufacturer = _text(s.get("manufacturer_name"))
    uscc = _text(s.get("manufacturer_uscc"))
    if manufacturer is not None and uscc is not None:
        maker: str | None = (
            f'{_e(manufacturer)}<br><span class="d">{_e(t(lang, "field.uscc"))} {_e(uscc)}</span>'
        )
    else:
        maker = _e(manufacturer or uscc) if (manufacturer or uscc) else None
    markets = s.get("market_regions")
    market_text = None
    if isinstance(markets, list | tuple):
        names = [_opt(lang, "region", m) for m in (_text(x) for x in markets) if m]
        market_text = _e("、".join(names) if lang.startswith("zh") else ", ".join(names)) or None
    sellers = s.get("distributor_usccs")
    seller_count = str(len(sellers)) if isinstance(sellers, list | tuple) and sellers else None
    issuer = _text(s.get("issuer_name")) or _text(s.get("issuer_id"))
    body = _text(s.get("certification_body_name"))
    rows = [
        (t(lang, "field.issuer"), _e(issuer) if issuer else None),
        (t(lang, "field.certification_body"), _e(body) if body else None),
        (t(lang, "field.manufacturer"), maker),
        (t(lang, "field.markets"), market_text),
        (t(lang, "field.sellers"), seller_count),
    ]
    return _section(t(lang, "section.parties"), _dl(rows))


def _validity(lang: str, s: Mapping[str, Any]) -> str:
    start, end = _date(s.get("valid_from")), _date(s.get("valid_until"))
    rows = [
        (t(lang, "field.valid_from"), _e(start) if start else None),
        (t(lang, "field.valid_until"), _e(end) if end else None),
    ]
    return _section(t(lang, "section.validity"), _dl(rows))


def _log(lang: str, view: ScanView) -> str:
    if view.log_index is None:
        return _section(t(lang, "section.log"), f"<p>{_e(t(lang, 'log.missing'))}</p>")
    body = f"<p>{_e(t(lang, 'log.anchored', index=view.log_index))}</p>"
    if view.tree_size is not None or view.log_origin:
        size = "?" if view.tree_size is None else view.tree_size
        tree = t(lang, "log.tree", size=size, origin=view.log_origin or "?")
        body += f'<p class="d">({_e(tree)})</p>'
    return _section(t(lang, "section.log"), body)


def _recognitions(lang: str, recognitions: Sequence[Mapping[str, str]]) -> str:
    items = []
    for recognition in recognitions:
        jurisdiction = _text(recognition.get("jurisdiction"))
        body = _text(recognition.get("body")) or _text(recognition.get("name"))
        if jurisdiction is None or body is None:
            continue
        line = t(
            lang, "recognition.line", jurisdiction=_opt(lang, "region", jurisdiction), body=body
        )
        items.append(f"<li>{_e(line)}</li>")
    return _section(t(lang, "section.recognition"), f"<ul>{''.join(items)}</ul>") if items else ""


def _checks(lang: str, checks: Sequence[Check]) -> str:
    if not checks:
        return ""
    counts = {o: sum(1 for c in checks if c.outcome is o) for o in Outcome}
    summary = t(
        lang,
        "checks.summary",
        passed=counts[Outcome.PASSED],
        failed=counts[Outcome.FAILED],
        skipped=counts[Outcome.SKIPPED],
    )
    colon = "：" if lang.startswith("zh") else ": "
    items = []
    for check in checks:
        name = _opt(lang, "check", check.name)
        outcome = t(lang, f"outcome.{check.outcome.value}")
        reason = ""
        if check.reason is not None:
            key = f"reason.{check.reason}"
            local = f"{_e(t(lang, key))} " if has_message(key) else ""
            reason = f"<br>{local}<code>{_e(check.reason)}</code>"
        items.append(
            f'<li class="{check.outcome.value}"><b>{_e(name)}</b>{colon}{_e(outcome)}{reason}'
            f'<br><span class="d" lang="en">{_e(check.message)}</span></li>'
        )
    title = t(lang, "section.checks", count=len(checks))
    return (
        f'<details><summary>{_e(title)}</summary><p class="d">{_e(summary)}</p>'
        f"<ul>{''.join(items)}</ul></details>"
    )


def _links(lang: str, links: Mapping[str, str]) -> str:
    names = [n for n in _LINK_ORDER if n in links] + [n for n in links if n not in _LINK_ORDER]
    items = []
    for name in names:
        href = _safe_href(str(links[name]))
        if href is None:
            continue
        label = t(lang, f"link.{name}") if has_message(f"link.{name}") else name
        items.append(f'<li><a href="{_e(href)}" rel="nofollow">{_e(label)}</a></li>')
    return _section(t(lang, "section.links"), f"<ul>{''.join(items)}</ul>") if items else ""


# --- pages ----------------------------------------------------------------------------


def render_scan_page(view: ScanView) -> str:
    """The scan page for one verified label as a complete HTML5 document.

    ``view.lang`` should be one of :data:`verifier.i18n.LANGUAGES` (anything else
    renders in ``zh-Hans``). Never raises for missing or odd summary values.
    """
    lang = _lang(view.lang)
    summary: Mapping[str, Any] = view.summary or {}
    label = _text(summary.get("label_number"))
    line = f"{t(lang, 'field.label_number')} {label}" if label else None
    main = "".join(
        [
            _status_change(lang, view.verdict, view.status_change),
            _warnings(lang, view.warnings, red=view.verdict is Verdict.SUSPECT),
            _product(lang, summary),
            _footprint(lang, summary),
            _stages(lang, summary),
            _grade(lang, view.grade),
            _parties(lang, summary),
            _validity(lang, summary),
            _log(lang, view),
            _recognitions(lang, view.recognitions),
            _checks(lang, view.checks),
            _links(lang, view.links),
        ]
    )
    title = f"{t(lang, f'verdict.{view.verdict.value}.title')} · {t(lang, 'page.title')}"
    return _document(lang, view.verdict, title, _banner(lang, view.verdict, line), main)


def render_not_found(lang: str, gtin: str | None, detail: str) -> str:
    """The "not issued: possibly fake" page for a scan no issued label matches.

    ``gtin`` is what was scanned (shown when given); ``detail`` is a technical
    sentence (English), shown small under the advice.
    """
    lang = _lang(lang)
    line = f"{t(lang, 'field.scanned_gtin')} {gtin}" if gtin else None
    body = f"<p>{_e(t(lang, 'notfound.advice'))}</p>" + _dl(
        [
            (t(lang, "field.scanned_gtin"), _e(gtin) if gtin else None),
            (t(lang, "field.detail"), f'<span class="d" lang="en">{_e(detail)}</span>'),
        ]
    )
    main = f"<section>{body}</section>"
    title = f"{t(lang, 'verdict.not-found.title')} · {t(lang, 'page.title')}"
    return _document(lang, Verdict.NOT_FOUND, title, _banner(lang, Verdict.NOT_FOUND, line), main)


def render_label_list(lang: str, gtin: str, choices: Sequence[LabelChoice]) -> str:
    """The page for a scanned product code that several labels answer (no ``?label=``).

    A neutral banner (no verdict: the code names the product, not one label), then
    one entry per label, newest first: its number (linking to its own scan page),
    its status in its verdict's colour, issuer, batch and validity. Never raises
    for odd values.
    """
    lang = _lang(lang)
    items = []
    for choice in choices:
        verdict = STATUS_VERDICTS.get(choice.status, Verdict.INVALID)
        background, foreground = VERDICT_COLOURS[verdict]
        status_key = f"status.{choice.status}"
        status = t(lang, status_key) if has_message(status_key) else choice.status
        href = _safe_href(choice.scan_url)
        number = _e(choice.label_number)
        title = f'<a href="{_e(href)}">{number}</a>' if href else number
        start, end = _date(choice.valid_from), _date(choice.valid_until)
        rows = [
            (t(lang, "field.issuer"), _e(choice.issuer_name or choice.issuer_id) or None),
            (t(lang, "field.batch"), _e(choice.batch) if choice.batch else None),
            (t(lang, "field.serial"), _e(choice.serial) if choice.serial else None),
            (t(lang, "field.valid_from"), _e(start) if start else None),
            (t(lang, "field.valid_until"), _e(end) if end else None),
        ]
        items.append(
            f'<li><p><b>{title}</b> <span class="st" style="background:{background};'
            f'color:{foreground}">{_e(status)}</span></p>{_dl(rows)}</li>'
        )
    body = f"<p>{_e(t(lang, 'several.advice'))}</p><ul>{''.join(items)}</ul>"
    main = _section(t(lang, "several.section", count=len(choices)), body)
    line = f"{t(lang, 'field.scanned_gtin')} {gtin}"
    banner = (
        f'<header class="v" role="status"><div class="h">{_icon(None, 44)}'
        f"<h1>{_e(t(lang, 'several.title'))}</h1></div>"
        f'<p>{_e(t(lang, "several.explain"))}</p><p class="n">{_e(line)}</p></header>'
    )
    title = f"{t(lang, 'several.title')} · {t(lang, 'page.title')}"
    return _document(lang, None, title, banner, main)

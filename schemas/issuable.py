"""What a schema cannot say about a document to be signed: its text and its times.

- :func:`check_text`: no string (member name or value) anywhere in a request may hold a
  NUL character or a lone surrogate (``"\\ud800"`` parses as JSON, but UTF-8, the
  signed bytes and both stores cannot carry it; NUL truncates C strings and PostgreSQL
  text refuses it).
- :func:`check_times`: a credential issued at ``now`` must be valid for a while after
  ``now`` (``validUntil`` later than both ``now`` and ``validFrom``), and what it
  attests must have happened: an assessment date or a footprint's reference period no
  later than ``now`` + :data:`FUTURE_TOLERANCE`.

Both raise :class:`~schemas.errors.SchemaValidationError` listing every problem with its
RFC 6901 pointer, as :func:`schemas.validate.validate` does.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any, Final

import orjson

from schemas.errors import FieldError, SchemaValidationError
from schemas.vocabulary import KIND_LABEL_CREDENTIAL, KIND_LABEL_REQUEST

__all__ = ["FUTURE_TOLERANCE", "check_text", "check_times"]

FUTURE_TOLERANCE: Final = timedelta(days=1)
"""How far after the time of issuance an assessment date or a reference period may lie:
one day, for clocks and time zones (a date written in UTC+14 is a day ahead of UTC).
Named in the LabelRequest schema's descriptions."""

_NUL_ESCAPE: Final = b"\\u0000"


def check_text(document: Any, kind: str = "request") -> None:
    """Refuse NUL characters and lone surrogates in any member name or string value.

    Costs one ``orjson.dumps`` when the document is clean (orjson refuses lone
    surrogates and writes NUL as ``\\u0000``); only a failing document is walked to
    name the pointers. Raises SchemaValidationError (``kind`` names the document).
    """
    try:
        clean = _NUL_ESCAPE not in orjson.dumps(document)
    except TypeError:  # orjson.JSONEncodeError: a lone surrogate, or not JSON at all
        clean = False
    if clean:
        return
    errors = list(_text_errors(document, ""))
    if errors:
        raise SchemaValidationError(kind, errors)


def _bad_text(text: str) -> str | None:
    if "\x00" in text:
        return "must not contain a NUL character (U+0000)"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "must not contain a lone surrogate (U+D800 to U+DFFF): it is not Unicode text"
    return None


def _text_errors(node: Any, pointer: str) -> Iterator[FieldError]:
    stack: list[tuple[Any, str]] = [(node, pointer)]
    while stack:
        value, where = stack.pop()
        if isinstance(value, str):
            reason = _bad_text(value)
            if reason is not None:
                yield FieldError(where, reason)
        elif isinstance(value, Mapping):
            for key, member in value.items():
                name = str(key)
                child = where + "/" + name.replace("~", "~0").replace("/", "~1")
                reason = _bad_text(name)
                if reason is not None:
                    # the pointer cannot carry that name (not UTF-8): name its object
                    yield FieldError(where, f"a member name {reason}")
                    continue
                stack.append((member, child))
        elif isinstance(value, list | tuple):
            stack.extend((item, f"{where}/{i}") for i, item in enumerate(value))


def check_times(kind: str, document: Mapping[str, Any], now: datetime) -> None:
    """Refuse a document that would be invalid, or claim the future, when issued at ``now``.

    ``kind`` is ``LabelRequest`` (``validUntil``, ``certification/assessmentDate``,
    ``footprint/referencePeriodStart|End``), ``CarbonLabelCredential`` (``validFrom``,
    ``validUntil``, each ``credentialSubject/assessment/i/assessmentDate``,
    ``credentialSubject/carbonFootprint/referencePeriodStart|End``) or any other
    credential type (``validFrom``, ``validUntil``). Values that are not date-times
    are left to schema validation. ``now`` must be timezone-aware.
    Raises SchemaValidationError listing every problem.
    """
    errors = list(_time_errors(kind, document, now))
    if errors:
        raise SchemaValidationError(kind, errors)


def _time_errors(kind: str, document: Mapping[str, Any], now: datetime) -> Iterator[FieldError]:
    horizon = now + FUTURE_TOLERANCE
    valid_from = _instant(document.get("validFrom"))
    valid_until = _instant(document.get("validUntil"))
    if valid_until is not None:
        if valid_until <= now:
            yield FieldError(
                "/validUntil",
                f"must be later than the time of issuance ({_iso(now)}): "
                "the credential would be issued already expired",
            )
        elif valid_from is not None and valid_until <= valid_from:
            yield FieldError("/validUntil", "must be later than validFrom")
    footprint: tuple[str, ...]
    if kind == KIND_LABEL_REQUEST:
        yield from _not_ahead(document, ("certification", "assessmentDate"), horizon)
        footprint = ("footprint",)
    elif kind == KIND_LABEL_CREDENTIAL:
        assessments = _at(document, ("credentialSubject", "assessment"))
        for i in range(len(assessments) if isinstance(assessments, list) else 0):
            yield from _not_ahead(
                document, ("credentialSubject", "assessment", i, "assessmentDate"), horizon
            )
        footprint = ("credentialSubject", "carbonFootprint")
    else:
        return
    for name in ("referencePeriodStart", "referencePeriodEnd"):
        yield from _not_ahead(document, (*footprint, name), horizon)


def _not_ahead(
    document: Mapping[str, Any], path: tuple[str | int, ...], horizon: datetime
) -> Iterator[FieldError]:
    value = _at(document, path)
    when = _instant(value)
    if when is None and isinstance(value, str):
        day = _date(value)
        # a date is in the future once its first moment (UTC) lies beyond the horizon
        when = None if day is None else datetime(day.year, day.month, day.day, tzinfo=UTC)
    if when is not None and when > horizon:
        yield FieldError(
            "".join(f"/{step}" for step in path),
            f"lies in the future: at most {FUTURE_TOLERANCE.days} day after the time of "
            f"issuance ({_iso(horizon)}) is accepted",
        )


def _at(document: Any, path: tuple[str | int, ...]) -> Any:
    node = document
    for step in path:
        if isinstance(step, int):
            if not isinstance(node, list) or step >= len(node):
                return None
        elif not isinstance(node, Mapping) or step not in node:
            return None
        node = node[step]
    return node


def _instant(value: Any) -> datetime | None:
    """An RFC 3339 date-time with a zone as an aware datetime, else None."""
    if not isinstance(value, str) or "T" not in value.upper():
        return None
    try:
        parsed = datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def _date(value: str) -> date | None:
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

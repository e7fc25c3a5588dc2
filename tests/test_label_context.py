"""The gdcl v1 JSON-LD context loses nothing: every property and type of our credentials
expands to an absolute IRI (otherwise RDFC signing would silently drop data)."""

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest
from pyld import jsonld

from schemas import LABEL_CONTEXT_URL, context_documents

# The bundled copies of the W3C and UNTP contexts (see credentials/contexts/SOURCES.md).
CONTEXTS = Path(__file__).resolve().parents[1] / "credentials" / "contexts"
EXAMPLES = Path(__file__).resolve().parents[1] / "schemas" / "examples"
CREDENTIAL_EXAMPLES = [
    "label-credential.room-ac",
    "grade-credential.room-ac",
    "recognition-credential.hk",
    "recognition-credential.mo-scheme",
]
SENTINEL = "urn:x-undefined-term:"
ABSOLUTE = re.compile(r"(https?://|urn:)[^\s]+")


def _documents() -> dict[str, Any]:
    docs: dict[str, Any] = {
        "https://www.w3.org/ns/credentials/v2": json.loads(
            (CONTEXTS / "credentials-v2.jsonld").read_text("utf-8")
        )
    }
    for name in ("core", "dcc", "dpp", "dia"):
        url = f"https://test.uncefact.org/vocabulary/untp/{name}/working/"
        docs[url] = json.loads((CONTEXTS / f"untp-{name}-working.jsonld").read_text("utf-8"))
    docs.update(context_documents())
    return docs


DOCUMENTS = _documents()


def _loader(url: str, options: dict[str, Any] | None = None) -> dict[str, Any]:
    if url not in DOCUMENTS:
        raise jsonld.JsonLdError(f"no offline copy of {url}", "loading document failed")
    return {"contextUrl": None, "documentUrl": url, "document": copy.deepcopy(DOCUMENTS[url])}


def _expand(document: dict[str, Any]) -> list[Any]:
    expanded: list[Any] = jsonld.expand(copy.deepcopy(document), {"documentLoader": _loader})
    return expanded


def _example(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((EXAMPLES / f"{name}.json").read_text("utf-8"))
    return loaded


def _undefined_terms(document: dict[str, Any]) -> list[str]:
    """Terms that only a trailing catch-all @vocab could expand: the ones JSON-LD would drop."""
    probe = copy.deepcopy(document)
    probe["@context"] = [*probe["@context"], {"@vocab": SENTINEL}]
    text = json.dumps(_expand(probe))
    return sorted(set(re.findall(re.escape(SENTINEL) + r'[^"]*', text)))


def _count_input(node: Any, counts: dict[str, int]) -> None:
    if isinstance(node, list):
        for item in node:
            _count_input(item, counts)
        return
    if not isinstance(node, dict):
        return
    for key, value in node.items():
        if key in ("@context", "id"):
            continue
        values = value if isinstance(value, list) else [value]
        if key == "type":
            counts["types"] += len(values)
            continue
        counts["properties"] += 1
        counts["values"] += len(values)
        _count_input(value, counts)


def _count_expanded(node: Any, counts: dict[str, int], bad: list[str]) -> None:
    if isinstance(node, list):
        for item in node:
            _count_expanded(item, counts, bad)
        return
    if not isinstance(node, dict) or "@value" in node:
        return
    for key, value in node.items():
        if key == "@id":
            continue
        if key == "@type":
            counts["types"] += len(value)
            bad.extend(f"type {t}" for t in value if not ABSOLUTE.fullmatch(t))
            continue
        if key.startswith("@"):
            bad.append(f"unexpected keyword {key}")
            continue
        if not ABSOLUTE.fullmatch(key):
            bad.append(f"property {key}")
        counts["properties"] += 1
        counts["values"] += len(value)
        _count_expanded(value, counts, bad)


def _assert_lossless(document: dict[str, Any]) -> None:
    assert _undefined_terms(document) == []
    given = {"properties": 0, "values": 0, "types": 0}
    _count_input(document, given)
    kept = {"properties": 0, "values": 0, "types": 0}
    bad: list[str] = []
    _count_expanded(_expand(document), kept, bad)
    assert bad == []
    assert kept == given


@pytest.mark.parametrize("name", CREDENTIAL_EXAMPLES)
def test_example_credential_expands_without_loss(name: str) -> None:
    _assert_lossless(_example(name))


def test_checker_catches_an_undefined_term() -> None:
    document = _example("label-credential.room-ac")
    document["credentialSubject"]["labelledProduct"]["colour"] = "white"
    assert _undefined_terms(document) == [SENTINEL + "colour"]
    with pytest.raises(AssertionError):
        _assert_lossless(document)


def test_checker_catches_an_undefined_type() -> None:
    document = _example("grade-credential.room-ac")
    document["type"].append("SomethingElse")
    with pytest.raises(AssertionError):
        _assert_lossless(document)


def test_untp_types_used_in_reference_example_are_defined() -> None:
    """Metric, Measure and ProductVerification are UNTP classes its context omits."""
    document = _example("label-credential.room-ac")
    text = json.dumps(_expand(document))
    for iri in (
        "https://test.uncefact.org/vocabulary/untp/core/working/Metric",
        "https://test.uncefact.org/vocabulary/untp/core/working/Measure",
        "https://test.uncefact.org/vocabulary/untp/dcc/working/ProductVerification",
    ):
        assert iri in text


def _term_definitions(context: dict[str, Any], path: str = "") -> list[tuple[str, Any]]:
    found: list[tuple[str, Any]] = []
    for term, definition in context.items():
        if term.startswith("@"):
            continue
        found.append((path + term, definition))
        if isinstance(definition, dict) and isinstance(definition.get("@context"), dict):
            found.extend(_term_definitions(definition["@context"], f"{path}{term}/"))
    return found


def _scoped_contexts(context: dict[str, Any]) -> list[dict[str, Any]]:
    scoped = [context]
    for _, definition in _term_definitions(context):
        if isinstance(definition, dict) and isinstance(definition.get("@context"), dict):
            scoped.append(definition["@context"])
    return scoped


def test_context_is_protected_and_absolute() -> None:
    context = context_documents()[LABEL_CONTEXT_URL]["@context"]
    assert context["@version"] == 1.1
    for scoped in _scoped_contexts(context):
        assert scoped["@protected"] is True
        assert "@vocab" not in scoped
    for term, definition in _term_definitions(context):
        assert isinstance(definition, dict), term
        assert ABSOLUTE.fullmatch(definition["@id"]), term
        if "@type" in definition:
            assert definition["@type"] == "@id" or definition["@type"].startswith(
                "http://www.w3.org/2001/XMLSchema#"
            ), term


def test_context_does_not_redefine_terms_of_earlier_contexts() -> None:
    ours = set(context_documents()[LABEL_CONTEXT_URL]["@context"])
    for url in (
        "https://www.w3.org/ns/credentials/v2",
        "https://test.uncefact.org/vocabulary/untp/dcc/working/",
    ):
        theirs = {t for t in DOCUMENTS[url]["@context"] if not t.startswith("@")}
        assert ours & theirs == set(), url


def test_label_credential_canonicalizes_with_our_terms() -> None:
    nquads = jsonld.normalize(
        _example("label-credential.room-ac"),
        {"algorithm": "URDNA2015", "format": "application/n-quads", "documentLoader": _loader},
    )
    assert (
        "https://registry.gd-carbon-label.example/vocabulary/gdcl/v1#pcfExcludingBiogenicUptake"
        in nquads
    )
    assert '"5900.5"^^<http://www.w3.org/2001/XMLSchema#decimal>' in nquads

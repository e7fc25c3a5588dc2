"""Canonicalization: RDFC-1.0 (via pyld, in "safe mode") and JCS (RFC 8785).

RDFC-1.0 (W3C RDF Dataset Canonicalization, the algorithm pyld calls
``URDNA2015``) is what ``eddsa-rdfc-2022`` hashes; JCS is what
``eddsa-jcs-2022`` hashes.

Safe mode. JSON-LD expansion silently drops properties whose terms the active
contexts do not define, and keeps relative type IRIs that RDF conversion then
drops. A signature over such a document would not cover what the reader sees,
so :func:`expand` raises :class:`~credentials.errors.UndefinedTermError` instead,
naming the term and, where it can be found, its JSON pointer:

* a property dropped during expansion (undefined term, term mapped to null,
  keyword-like key);
* a property or ``@type`` IRI that looks like a compact IRI with an undefined
  prefix (``gdcl:pcf`` without the context defining ``gdcl``);
* a ``@type`` value or node ``@id`` that is not an absolute IRI.

Speed (DESIGN.md "Known costs"). pyld keys its processed-context cache on a
fresh UUID for every non-propagating (type-scoped) context application and
re-serialises each scoped context with JCS to look it up, so a document with
many typed nodes re-processes the same contexts hundreds of times. Active
contexts and context documents are immutable here (bundled or registered
once), so :class:`_Processor` memoises ``_process_context`` on the identity
of the (frozen) active context and of the local context; the memo pins both
objects so identities cannot be reused. Resolved remote contexts are kept in a
module-level cache that only this module uses. A document of a shape already
canonicalized once skips JSON-LD processing altogether (:mod:`credentials.shapes`:
~0.8 ms instead of ~4.8 ms for a 7.6 KB label, byte-identical output).
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from typing import Any, Final

import orjson
import rfc8785
from frozendict import frozendict
from pyld import jsonld
from pyld.canon import URDNA2015, UnknownFormatError
from pyld.context_resolver import ContextResolver
from pyld.identifier_issuer import IdentifierIssuer

from credentials import shapes
from credentials.errors import CanonicalizationError, ContextError, UndefinedTermError
from credentials.loader import document_loader

__all__ = [
    "JcsMembers",
    "canonicalize_expanded",
    "canonicalize_jcs",
    "canonicalize_rdfc",
    "expand",
]

_KNOWN_IRI_SCHEMES: Final = frozenset(
    {"http", "https", "urn", "did", "tag", "mailto", "data", "ipfs", "ipns", "ni", "geo", "file"}
)
"""Schemes accepted for property and type IRIs: anything else there is almost
certainly a compact IRI whose prefix no context defines."""

_ABSOLUTE_IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:\S*$")

_JCS_INT_MAX: Final = 2**53 - 1
_JCS_INT_MIN: Final = -(2**53) + 1
"""RFC 8785 §3.2.2.3 / I-JSON: integers exactly representable as IEEE 754 doubles
(the bounds ``rfc8785`` enforces)."""
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")

_MEMO_MAX: Final = 4096
_memo_lock = threading.Lock()
_pyld_lock = threading.RLock()
"""pyld's processed-context caches are shared and not thread-safe (a cold cache raced
under concurrent requests): JSON-LD processing runs one thread at a time. The work is
CPU-bound under the GIL, so this costs no parallelism."""
_memo: OrderedDict[tuple[Any, ...], tuple[Any, Any, Any]] = OrderedDict()
_resolved_cache: dict[str, Any] = {}
"""pyld's shared resolved-context cache, URL/JCS key → {tag: ResolvedContext}.
Bounded by the set of known context URLs and the scoped contexts inside them."""


class _Processor(jsonld.JsonLdProcessor):  # type: ignore[misc]
    """pyld processor with a processed-context memo and dropped-property tracking."""

    def __init__(self) -> None:
        super().__init__(on_property_dropped=self._property_dropped)
        self._stack: list[tuple[Any, Any]] = []
        self.dropped: list[tuple[Any, Any, str | None]] = []

    def _property_dropped(self, expanded_property: str | None) -> None:
        if self._stack:
            active_ctx, element = self._stack[-1]
            self.dropped.append((active_ctx, element, expanded_property))

    def _expand_object(self, active_ctx: Any, active_property: Any, expanded_active_property: Any,
                       element: Any, *args: Any, **kwargs: Any) -> Any:  # fmt: skip
        self._stack.append((active_ctx, element))
        try:
            return super()._expand_object(
                active_ctx, active_property, expanded_active_property, element, *args, **kwargs
            )
        finally:
            self._stack.pop()

    def _expand_iri(
        self,
        active_ctx: Any,
        value: Any,
        base: Any = None,
        vocab: bool = False,
        local_ctx: Any = None,
        defined: Any = None,
    ) -> Any:
        # Fast path for the common case, a term of the active context, with the
        # same result as pyld's first steps (JSON-LD 1.1 API §5.2.2 IRI
        # Expansion steps 1-4): keywords and '@'-prefixed values, and anything
        # during context processing, still take pyld's path.
        if vocab and local_ctx is None and type(value) is str and value[:1] != "@":
            mappings = active_ctx["mappings"]
            if value in mappings:
                mapping = mappings[value]
                return None if mapping is None else mapping["@id"]
        return super()._expand_iri(active_ctx, value, base, vocab, local_ctx, defined)

    def _process_context(
        self,
        active_ctx: Any,
        local_ctx: Any,
        options: dict[str, Any],
        override_protected: bool = False,
        propagate: bool = True,
        validate_scoped: bool = True,
        cycles: Any = None,
    ) -> Any:
        cacheable = cycles is None and isinstance(active_ctx, frozendict)
        key: tuple[Any, ...] | None = None
        if cacheable:
            if isinstance(local_ctx, str):
                ctx_key: Any = local_ctx
            elif isinstance(local_ctx, list) and all(isinstance(c, str) for c in local_ctx):
                ctx_key = tuple(local_ctx)
            else:
                ctx_key = id(local_ctx)
            key = (
                id(active_ctx),
                ctx_key,
                override_protected,
                propagate,
                validate_scoped,
                options.get("base"),
                options.get("processingMode"),
            )
            with _memo_lock:
                hit = _memo.get(key)
                if hit is not None:
                    _memo.move_to_end(key)
                    return hit[2]
        result = super()._process_context(
            active_ctx, local_ctx, options, override_protected, propagate, validate_scoped, cycles
        )
        if key is not None and isinstance(result, frozendict):
            with _memo_lock:
                _memo[key] = (active_ctx, local_ctx, result)
                if len(_memo) > _MEMO_MAX:
                    _memo.popitem(last=False)
        return result


class _RdfProcessor(jsonld.JsonLdProcessor):  # type: ignore[misc]
    """pyld's "Deserialize JSON-LD to RDF" with the IRI checks hoisted out of the loop."""

    def _graph_to_rdf(self, graph: Any, issuer: Any, options: dict[str, Any]) -> list[Any]:
        """pyld 3.3 ``_graph_to_rdf`` (JSON-LD 1.1 API §6.1 steps 1.3.x), same output.

        pyld tests the subject and the predicate for absolute IRIs once per
        *value*, each a regular expression; they depend only on the node and the
        property, so this tests them once each.
        """
        triples: list[Any] = []
        generalized = options["produceGeneralizedRdf"]
        for id_, node in sorted(graph.items()):
            if not jsonld._is_absolute_iri(id_):
                continue  # relative IRI subject: pyld skips each of its triples
            subject_type = "blank node" if id_.startswith("_:") else "IRI"
            for property, items in sorted(node.items()):
                if property == "@type":
                    property = jsonld.RDF_TYPE
                elif jsonld._is_keyword(property):
                    continue
                if not items or not jsonld._is_absolute_iri(property):
                    continue
                if property.startswith("_:"):
                    if not generalized:
                        continue
                    predicate_type = "blank node"
                else:
                    predicate_type = "IRI"
                for item in items:
                    subject = {"type": subject_type, "value": id_}
                    predicate = {"type": predicate_type, "value": property}
                    rdf_object = self._object_to_rdf(item, issuer, triples, options)
                    if rdf_object is not None:
                        triples.append(
                            {"subject": subject, "predicate": predicate, "object": rdf_object}
                        )
        return triples


class _URDNA2015(URDNA2015):  # type: ignore[misc]
    """pyld's URDNA2015 without a deep copy per blank-node component.

    ``modify_first_degree_component`` (RDFC-1.0 §4.6.3 step 3.1.1) deep-copies
    a blank node term, a flat ``{"type", "value"}`` dict of strings, to relabel
    it ``_:a``/``_:z``; a shallow copy is the same value.
    """

    def modify_first_degree_component(self, id_: str, component: Any, key: str) -> Any:
        if component["type"] != "blank node":
            return component
        return {**component, "value": "_:a" if component["value"] == id_ else "_:z"}


def _options() -> dict[str, Any]:
    return {
        "base": None,
        "documentLoader": document_loader,
        "contextResolver": ContextResolver(_resolved_cache, document_loader),
        "processingMode": "json-ld-1.1",
    }


def _context_error(exc: BaseException) -> ContextError | None:
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ContextError):
            return cause
        cause = cause.__cause__ or cause.__context__
    return None


def _pointer(path: list[str | int]) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path)


def _walk(value: Any, path: list[str | int]) -> Iterator[tuple[list[str | int], Any]]:
    yield path, value
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _walk(v, [*path, k])
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _walk(v, [*path, i])


def _find_key(document: Any, key: str, within: Any = None) -> str | None:
    """JSON pointer to ``key`` in the first object equal to ``within`` (or any object)."""
    for path, node in _walk(document, []):
        if isinstance(node, dict) and key in node and (within is None or node == within):
            return _pointer([*path, key])
    return None


def _find_value(document: Any, value: str) -> str | None:
    for path, node in _walk(document, []):
        if node == value or (isinstance(node, list) and value in node):
            return _pointer(path)
    return None


def _undefined_prefix(iri: str) -> bool:
    scheme, _, rest = iri.partition(":")
    return scheme.lower() not in _KNOWN_IRI_SCHEMES and not rest.startswith("//")


def _check_node(node: dict[str, Any], document: dict[str, Any]) -> None:
    for key in node:
        if key[:1] != "@" and _undefined_prefix(key):
            raise UndefinedTermError(key, _find_key(document, key), "term with undefined prefix")
    for type_iri in node.get("@type", ()):
        if not isinstance(type_iri, str):
            continue
        if not _ABSOLUTE_IRI.match(type_iri):
            raise UndefinedTermError(type_iri, _find_value(document, type_iri), "undefined type")
        if _undefined_prefix(type_iri):
            raise UndefinedTermError(
                type_iri, _find_value(document, type_iri), "type with undefined prefix"
            )
    node_id = node.get("@id")
    if isinstance(node_id, str) and node_id[:2] != "_:" and not _ABSOLUTE_IRI.match(node_id):
        raise UndefinedTermError(node_id, _find_value(document, node_id), "relative @id")


def _check_expanded(expanded: Any, document: dict[str, Any]) -> None:
    stack = [expanded]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, dict) and "@value" not in item:
            _check_node(item, document)
            stack.extend(v for v in item.values() if isinstance(v, list | dict))


def _report_dropped(proc: _Processor, document: dict[str, Any]) -> None:
    active_ctx, element, expanded_property = proc.dropped[0]
    term: str | None = None
    if isinstance(element, dict):
        for k in sorted(element):
            if k == "@context" or jsonld._is_keyword(k):
                continue
            exp = proc._expand_iri(active_ctx, k, vocab=True)
            if exp is None or not (jsonld._is_absolute_iri(exp) or jsonld._is_keyword(exp)):
                term = k
                break
    if term is None:
        term = expanded_property or "?"
    raise UndefinedTermError(term, _find_key(document, term, element))


def expand(document: dict[str, Any]) -> list[Any]:
    """JSON-LD 1.1 expansion in safe mode, with the offline loader and no base IRI.

    Raises ContextError (unknown context URL), UndefinedTermError (dropped or
    undefined term, relative type or id), CanonicalizationError (invalid JSON-LD).
    """
    if not isinstance(document, dict):
        raise CanonicalizationError("JSON-LD document must be an object")
    proc = _Processor()
    try:
        with _pyld_lock:
            expanded: list[Any] = proc.expand(document, _options())
    except jsonld.JsonLdError as exc:
        ctx_err = _context_error(exc)
        if ctx_err is not None:
            raise ContextError(ctx_err.url, str(ctx_err)) from exc
        raise CanonicalizationError(f"JSON-LD expansion failed: {exc}") from exc
    if proc.dropped:
        _report_dropped(proc, document)
    _check_expanded(expanded, document)
    return expanded


def canonicalize_rdfc(document: dict[str, Any]) -> str:
    """RDFC-1.0 canonical N-Quads of ``document`` (vc-di-eddsa §3.3.3/§3.3.4 use this).

    Each quad ends with ``\\n``. Expands once in safe mode (:func:`expand`) and
    canonicalizes the expanded form; a document of a shape seen before skips
    expansion (:mod:`credentials.shapes`). Raises as :func:`expand`.
    """
    sighting = _shapes.lookup(document)
    if sighting is not None and sighting.shape is not None:
        nquads = sighting.shape.canonical(sighting.leaves)
        if nquads is not None:
            return nquads
    result = canonicalize_expanded(expand(document))
    if sighting is not None:
        _shapes.observe(sighting, document, result, _expanded_dataset)
    return result


def canonicalize_expanded(expanded: list[Any]) -> str:
    """RDFC-1.0 canonical N-Quads of an already expanded document (from :func:`expand`).

    Builds the RDF dataset straight from the expanded form (JSON-LD 1.1 API
    "Deserialize JSON-LD to RDF", the second half of pyld's ``to_rdf``) so the
    document is not expanded twice. Raises CanonicalizationError.
    """
    return _rdfc(_dataset(expanded))


_shapes = shapes.ShapeCache()


def _rdf_options() -> dict[str, Any]:
    options = _options()
    options.update(
        {
            "algorithm": "URDNA2015",
            "format": "application/n-quads",
            "produceGeneralizedRdf": False,
            "rdfDirection": None,
        }
    )
    return options


def _dataset(expanded: list[Any]) -> shapes.Dataset:
    """The RDF dataset (pyld's ``{graph name: [triple]}``) of an expanded document."""
    proc = _RdfProcessor()
    options = _rdf_options()
    try:
        with _pyld_lock:
            issuer = IdentifierIssuer("_:b")
            node_map: dict[str, Any] = {"@default": {}}
            proc._create_node_map(expanded, node_map, "@default", issuer)
            return {
                name: proc._graph_to_rdf(graph, issuer, options)
                for name, graph in sorted(node_map.items())
                if name == "@default" or jsonld._is_absolute_iri(name)
            }
    except jsonld.JsonLdError as exc:
        raise CanonicalizationError(f"RDFC-1.0 canonicalization failed: {exc}") from exc


def _expanded_dataset(document: dict[str, Any]) -> tuple[list[Any], shapes.Dataset]:
    expanded = expand(document)
    return expanded, _dataset(expanded)


def _rdfc(dataset: shapes.Dataset) -> str:
    """RDFC-1.0 on a dataset; relabels its blank-node components in place."""
    try:
        nquads: str = _URDNA2015().main(dataset, _rdf_options())
    except (jsonld.JsonLdError, UnknownFormatError) as exc:
        raise CanonicalizationError(f"RDFC-1.0 canonicalization failed: {exc}") from exc
    return nquads


_NO: Final = 0
_AS_IS: Final = 1
_INTEGRAL_FLOATS: Final = 2


def _jcs_fast_path(value: Any) -> int:
    """Whether ``json.dumps`` writes ``value`` byte-identically to RFC 8785.

    ``_AS_IS`` for exact ``dict``, ``list``, ``str``, ``bool`` and ``None``, plus:

    * keys that are ``str`` inside the BMP, where sorting by code point (what
      ``sort_keys`` does) is RFC 8785 §3.2.3's UTF-16 code unit order;
    * ``int`` within RFC 8785's safe range (±(2**53 - 1));
    * ``float`` whose ``repr`` is plain decimal with a non-zero fraction
      (``5900.5``, ``0.05``). ``rfc8785`` starts from ``repr`` (the shortest
      round-trip digits, as ECMAScript's Number-to-String, §3.2.2.3) and writes
      such a ``repr`` unchanged, as ``json.dumps`` does.

    ``_INTEGRAL_FLOATS`` when, besides, some floats are integral with a plain
    ``repr`` (``5599.0``, ``-0.0``; below 1e16, where ``repr`` turns to exponents):
    ECMAScript writes them as the integer (``5599``, ``0``), which ``json.dumps``
    does for ``int(x)``, an exact conversion. ``_NO`` for anything else (exponent
    forms, tuples, subclasses, other mappings), left to ``rfc8785``. Lone
    surrogates in strings are caught when :func:`_canonicalize_jcs_fast` encodes.
    """
    verdict = _AS_IS
    kind = type(value)
    if kind is not dict and kind is not list:
        value = [value]
    stack = [value]
    pop = stack.pop
    push = stack.append
    while stack:
        container = pop()
        if type(container) is dict:
            for key in container:
                if type(key) is not str or (not key.isascii() and _ASTRAL.search(key)):
                    return _NO
            children: Any = container.values()
        else:
            children = container
        for item in children:
            kind = type(item)
            if kind is str or kind is bool or item is None:
                continue
            if kind is dict or kind is list:
                push(item)
            elif kind is int:
                if not _JCS_INT_MIN <= item <= _JCS_INT_MAX:
                    return _NO
            elif kind is float:
                text = float.__repr__(item)
                if "e" in text or "n" in text:  # exponent, inf, nan
                    return _NO
                if text.endswith(".0"):
                    verdict = _INTEGRAL_FLOATS
            else:
                return _NO
    return verdict


def _integral_floats_to_int(value: Any) -> Any:
    kind = type(value)
    if kind is dict:
        return {key: _integral_floats_to_int(item) for key, item in value.items()}
    if kind is list:
        return [_integral_floats_to_int(item) for item in value]
    if kind is float and value.is_integer():
        return int(value)
    return value


def _canonicalize_jcs_fast(value: Any) -> bytes | None:
    """RFC 8785 bytes via ``orjson``, or None where it might differ.

    Equal to ``rfc8785.dumps`` when :func:`_jcs_fast_path` allows it: ``orjson``
    (with ``OPT_SORT_KEYS``) writes compact UTF-8 without escaping non-ASCII,
    escapes exactly as §3.2.2.2 asks (backslash and quote, the short forms for
    backspace, form feed, newline, carriage return and tab, every other
    U+0000..U+001F as a six-character escape in lowercase hex, nothing else), and
    writes a plain-decimal float as its shortest round-trip digits, as ECMAScript
    does. It refuses lone surrogates, non-string keys, integers beyond 64 bits and
    nesting deeper than 254 (so a circular structure too): then None.
    ``tests/test_canonical_fast.py`` checks each BMP character and random floats.
    """
    try:
        text = orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
    except (TypeError, orjson.JSONEncodeError):
        return None
    verdict = _jcs_fast_path(value)
    if verdict == _NO:
        return None
    if verdict == _INTEGRAL_FLOATS:
        return bytes(orjson.dumps(_integral_floats_to_int(value), option=orjson.OPT_SORT_KEYS))
    return bytes(text)


def canonicalize_jcs(value: Any) -> bytes:
    """RFC 8785 JSON Canonicalization Scheme serialization (UTF-8 bytes).

    Uses ``orjson`` when that is provably identical (see
    :func:`_canonicalize_jcs_fast`), else the ``rfc8785`` package.
    Raises CanonicalizationError for values JCS cannot represent (NaN, integers
    beyond IEEE 754 double precision, non-JSON types, lone surrogates).
    """
    fast = _canonicalize_jcs_fast(value)
    if fast is not None:
        return fast
    try:
        out: bytes = rfc8785.dumps(value)
    except (rfc8785.CanonicalizationError, TypeError, ValueError) as exc:
        raise CanonicalizationError(f"JCS canonicalization failed: {exc}") from exc
    return out


def _utf16_order(key: str) -> bytes:
    """RFC 8785 §3.2.3: object members are sorted by the UTF-16 code units of their names."""
    return key.encode("utf-16-be", "surrogatepass")


class JcsMembers:
    """A JSON object in RFC 8785 form, with room for one more member.

    ``eddsa-jcs-2022`` signs a credential without its ``proof``, and the
    credential's digest covers the same members plus ``proof``. The members of
    ``value`` are canonicalized once, as two runs: those whose names sort before
    ``gap`` (UTF-16 code units) and those after. :meth:`serialize` writes the
    object alone or with ``gap`` set, without walking the other members again.
    The bytes equal :func:`canonicalize_jcs` of the same object. Raises
    CanonicalizationError as :func:`canonicalize_jcs` does (a name that is not a
    string, a value JCS cannot represent) and ValueError if ``value`` has ``gap``.
    """

    def __init__(self, value: Mapping[str, Any], gap: str) -> None:
        if gap in value:
            raise ValueError(f"the object already has a member {gap!r}")
        order = _utf16_order(gap)
        before: dict[str, Any] = {}
        after: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise CanonicalizationError("JCS canonicalization failed: keys must be strings")
            (before if _utf16_order(key) < order else after)[key] = item
        self._gap = gap
        self._runs = [canonicalize_jcs(run)[1:-1] for run in (before, after)]

    def serialize(self, *gap_value: Any) -> bytes:
        """The object's RFC 8785 bytes; given an argument, with ``gap`` set to it."""
        runs = self._runs
        if gap_value:
            (item,) = gap_value
            runs = [runs[0], canonicalize_jcs(self._gap) + b":" + canonicalize_jcs(item), runs[1]]
        return b"{" + b",".join(run for run in runs if run) + b"}"

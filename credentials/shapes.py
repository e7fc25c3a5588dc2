"""Compiled shapes: RDFC-1.0 input for documents of a known shape without JSON-LD expansion.

A label authority signs, and verifiers check, thousands of credentials that differ
only in their values: the keys, the contexts and the types are the same. JSON-LD
expansion and RDF conversion of such a document (pyld, ~4 ms for a label) depend on
that *shape*; the values only pass through. This module learns, once per shape,
where each value lands in the RDF dataset and then builds the dataset of the next
document of that shape by filling the values in. RDFC-1.0 itself (blank-node
labelling) still runs on every document.

**Shape.** The document's structure: every key in order, every array length, the
JSON kind of every value (string, integer, float, boolean, null), and verbatim the
values that steer JSON-LD processing: ``@context``, ``type``/``@type``,
``@language``, ``@direction``, ``@container``. Every other scalar is a *hole*.

**Learning** (the second time a shape is seen, after pyld canonicalized it in safe mode,
so a one-off document costs nothing extra): a copy of the document with every hole
replaced by a unique random sentinel string is expanded and converted to RDF by pyld.
Each sentinel must come out whole, once or more, as an IRI (an ``@id``, or a value of a
term coerced to ``@id``/``@vocab``) or as a literal's lexical form; its datatype and
language, and for numbers and booleans the term's type coercion read from the expanded
form, are recorded. IRI holes whose values are not absolute IRIs (terms such as ``KGM``
under ``@vocab`` coercion) are *pinned*: learned again with their values kept, so a
shape is kept per combination of them. The shape is *refused* (pyld keeps doing the work
for it) when any sentinel is missing, appears inside another string (a JSON literal, a
language tag, a concatenated IRI), appears as a graph name, needs value-dependent
conversion (a string coerced to ``xsd:double`` or ``@json``), when two blank nodes have
equal first-degree hashes, or when filling the learning document's own values does not
reproduce pyld's canonical N-Quads byte for byte.

**Filling** is refused, falling back to pyld for that document, when an IRI hole's
value could be expanded differently from its sentinel: it must be an absolute IRI
(both the safe-mode and pyld's tests), start with the same scheme as the sentinel
(which carried the learning value's scheme, so a scheme that is a prefix term of
the active context was tested), and not be a term of any context the shape uses
(``@vocab`` coercion looks terms up first). Literal strings pass through JSON-LD
unchanged; numbers and booleans are converted by pyld's own
``_object_to_rdf`` with the learned coercion. Node objects that share an ``@id``
merge in pyld's node map; the filled dataset is deduplicated to the same set.

Safe mode holds for filled documents: its checks depend on keys and types (part
of the shape) and on node ``@id`` values (IRI holes, checked as above).
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from pyld import jsonld
from pyld.nquads import RDF_LANGSTRING, XSD_STRING
from pyld.nquads import escape as _escape

__all__ = ["Shape", "ShapeCache", "first_degree_rdfc", "shape_of"]

FIXED_KEYS: Final = frozenset(
    {"@context", "type", "@type", "@language", "@direction", "@container"}
)
"""Keys whose values are part of the shape, verbatim."""

_OPEN_OBJECT: Final = 0
_CLOSE_OBJECT: Final = 1
_OPEN_ARRAY: Final = 2
_CLOSE_ARRAY: Final = 3
_KINDS: Final[dict[type, int]] = {str: 4, int: 5, float: 6, bool: 7}
_NULL: Final = 8
"""Shape tokens; keys are ``str`` and fixed values 1-tuples, so none collide."""

_SAFE_ABSOLUTE_IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:\S*$")
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")
_XSD_DOUBLE: Final = "http://www.w3.org/2001/XMLSchema#double"

Dataset = dict[str, list[dict[str, dict[str, str]]]]
ToDataset = Callable[[dict[str, Any]], tuple[list[Any], Dataset]]
"""Expanded form and RDF dataset (pyld's ``{graph: [triple]}``) of a document, in
safe mode; raises on anything pyld or safe mode refuses."""


@dataclass(frozen=True)
class _Hole:
    """Where one value lands: an IRI, a string literal, or a converted number/boolean."""

    leaf: int
    kind: str  # "iri", "string", "native"
    template: dict[str, str]
    coercion: str | None = None
    scheme: str = ""
    suffix: str = ""

    def text(self, leaves: list[Any]) -> str:
        """This hole's N-Quads term for its value, as pyld serializes it."""
        value = leaves[self.leaf]
        if self.kind == "iri":
            return f"<{value}>"
        if self.kind == "string":
            return f'"{_escape(value)}"{self.suffix}'
        return _term(_fill(self, leaves))


Component = dict[str, str] | _Hole
Part = str | _Hole | None
Quad = tuple[str | None, ...]
"""Subject, predicate, object and graph name (None: the default graph) as N-Quads terms."""
Triple = dict[str, Component]


@dataclass(frozen=True)
class Shape:
    """A learned shape: the dataset with holes, and what an IRI hole's value may not be."""

    pinned: frozenset[int]
    iri_leaves: tuple[tuple[int, str], ...]
    terms: frozenset[str]
    constant: tuple[Quad, ...] = ()
    holed: tuple[tuple[Part, ...], ...] = ()

    @classmethod
    def build(
        cls,
        graphs: dict[str, list[Triple]],
        pinned: frozenset[int],
        iri_leaves: tuple[tuple[int, str], ...],
        terms: frozenset[str],
    ) -> Shape:
        quads = tuple(
            (
                *(_part(triple[key]) for key in ("subject", "predicate", "object")),
                None if name == "@default" else _graph_part(name),
            )
            for name, triples in graphs.items()
            for triple in triples
        )
        constant: dict[Quad, None] = {}
        holed: list[tuple[Part, ...]] = []
        for quad in quads:
            if any(isinstance(part, _Hole) for part in quad):
                holed.append(quad)
            else:
                constant[tuple(part for part in quad if not isinstance(part, _Hole))] = None
        return cls(pinned, iri_leaves, terms, tuple(constant), tuple(holed))

    def passes(self, value: str, scheme: str) -> bool:
        """True if JSON-LD expands ``value`` as it expanded the sentinel of its hole."""
        return (
            value.startswith(scheme)
            and value not in self.terms
            and _SAFE_ABSOLUTE_IRI.match(value) is not None
            and bool(jsonld._is_absolute_iri(value))
        )

    def canonical(self, leaves: list[Any]) -> str | None:
        """RDFC-1.0 canonical N-Quads for these values, or None if an IRI value needs pyld.

        Serializes the quads as pyld does and labels blank nodes by their first-degree
        hashes (RDFC-1.0 §4.4.3 step 5). None too when two hashes tie: the n-degree
        steps are left to pyld.
        """
        for leaf, scheme in self.iri_leaves:
            if not self.passes(leaves[leaf], scheme):
                return None
        filled: list[Quad] = []
        for subject, predicate, obj, graph in self.holed:
            filled.append(
                (
                    subject.text(leaves) if isinstance(subject, _Hole) else subject,
                    predicate.text(leaves) if isinstance(predicate, _Hole) else predicate,
                    obj.text(leaves) if isinstance(obj, _Hole) else obj,
                    graph.text(leaves) if isinstance(graph, _Hole) else graph,
                )
            )
        quads = list(dict.fromkeys([*self.constant, *filled])) if filled else list(self.constant)
        return first_degree_rdfc(quads)


def _fill(component: Component, leaves: list[Any]) -> dict[str, str]:
    if not isinstance(component, _Hole):
        return dict(component)
    value = leaves[component.leaf]
    if component.kind != "native":
        return {**component.template, "value": value}
    item: dict[str, Any] = {"@value": value}
    if component.coercion is not None:
        item["@type"] = component.coercion
    converted: dict[str, str] = _CONVERTER._object_to_rdf(
        item, None, None, {"processingMode": "json-ld-1.1", "rdfDirection": None}
    )
    return converted


_CONVERTER = jsonld.JsonLdProcessor()


def _literal_suffix(component: dict[str, str]) -> str:
    datatype = component.get("datatype", XSD_STRING)
    if datatype == RDF_LANGSTRING:
        language = component.get("language")
        return "@" + language if language else ""
    return "" if datatype == XSD_STRING else "^^<" + datatype + ">"


def _term(component: dict[str, str]) -> str:
    """A component as pyld's ``serialize_nquad`` writes it."""
    kind = component["type"]
    if kind == "IRI":
        return "<" + component["value"] + ">"
    if kind == "blank node":
        return component["value"]
    return f'"{_escape(component["value"])}"{_literal_suffix(component)}'


def _part(component: Component) -> Part:
    return component if isinstance(component, _Hole) else _term(component)


def _graph_part(name: str) -> str:
    return name if name.startswith("_:") else "<" + name + ">"


def _first_degree_line(quad: Quad, node: str) -> str:
    """``quad`` with ``node`` written ``_:a`` and other blank nodes ``_:z`` (§4.6.3 step 3)."""
    s, p, o, g = quad
    if s is not None and s[:2] == "_:":
        s = "_:a" if s == node else "_:z"
    if o is not None and o[:2] == "_:":
        o = "_:a" if o == node else "_:z"
    if g is None:
        return f"{s} {p} {o} .\n"
    if g[:2] == "_:":
        g = "_:a" if g == node else "_:z"
    return f"{s} {p} {o} {g} .\n"


def first_degree_rdfc(quads: Sequence[Quad]) -> str | None:
    """RDFC-1.0 canonical N-Quads when every blank node's first-degree hash is unique.

    ``quads`` are distinct (subject, predicate, object, graph-or-None) N-Quads terms,
    blank nodes as ``_:label``. Returns None when two hashes tie; then the n-degree
    steps are needed. Like pyld, a quad naming a blank node twice enters that node's
    hash twice.
    """
    mentions: dict[str, list[Quad]] = {}
    for quad in quads:
        for term in (quad[0], quad[2], quad[3]):
            if term is not None and term[:2] == "_:":
                mentions.setdefault(term, []).append(quad)
    hashes: dict[str, str] = {}
    for node, mentioned in mentions.items():
        lines = sorted(_first_degree_line(quad, node) for quad in mentioned)
        hashes[node] = hashlib.sha256("".join(lines).encode("utf-8")).hexdigest()
    if len(set(hashes.values())) != len(hashes):
        return None
    labels: dict[str | None, str | None] = {
        node: f"_:c14n{i}" for i, node in enumerate(sorted(hashes, key=hashes.__getitem__))
    }
    lines = []
    relabel = labels.get
    for s, p, o, g in quads:
        if g is None:
            lines.append(f"{relabel(s, s)} {p} {relabel(o, o)} .\n")
        else:
            lines.append(f"{relabel(s, s)} {p} {relabel(o, o)} {relabel(g, g)} .\n")
    lines.sort()
    return "".join(lines)


class _NotJson(Exception):
    pass


def shape_of(document: Any) -> tuple[tuple[Any, ...], list[Any]] | None:
    """The shape key of ``document`` and its hole values in order, or None if not JSON."""
    tokens: list[Any] = []
    leaves: list[Any] = []
    token = tokens.append
    leaf = leaves.append
    kinds = _KINDS

    def walk(value: Any) -> None:
        kind = type(value)
        if kind is dict:
            token(_OPEN_OBJECT)
            for key, item in value.items():
                if type(key) is not str:
                    raise _NotJson
                token(key)
                if key in FIXED_KEYS:
                    token((_fixed(item),))
                else:
                    walk(item)
            token(_CLOSE_OBJECT)
        elif kind is list:
            token(_OPEN_ARRAY)
            for item in value:
                walk(item)
            token(_CLOSE_ARRAY)
        elif kind in kinds:
            token(kinds[kind])
            leaf(value)
        elif value is None:
            token(_NULL)
        else:
            raise _NotJson

    try:
        walk(document)
        return tuple(tokens), leaves
    except (_NotJson, RecursionError, TypeError, ValueError):
        return None


def _fixed(item: Any) -> str:
    return json.dumps(item, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _with_sentinels(
    document: Any, nonce: str, pinned: frozenset[int]
) -> tuple[Any, dict[str, int]]:
    """A copy of ``document`` with hole ``i`` replaced by ``<scheme>:carbonlabel-hole-<nonce>-<i>``.

    The scheme is the value's own where it has one (so the active context's prefix
    handling of that scheme is exercised), ``urn`` otherwise. Pinned holes keep
    their values. Walks in :func:`shape_of`'s order.
    """
    sentinels: dict[str, int] = {}
    count = 0

    def replace(value: Any) -> Any:
        nonlocal count
        if isinstance(value, dict):
            return {
                key: item if key in FIXED_KEYS else replace(item) for key, item in value.items()
            }
        if isinstance(value, list):
            return [replace(item) for item in value]
        if value is None:
            return None
        leaf = count
        count += 1
        if leaf in pinned:
            return value
        match = _SCHEME.match(value) if isinstance(value, str) else None
        sentinel = f"{match.group(1) if match else 'urn'}:carbonlabel-hole-{nonce}-{leaf}"
        sentinels[sentinel] = leaf
        return sentinel

    return replace(document), sentinels


def _coercions(expanded: Any, sentinels: dict[str, int]) -> dict[int, dict[str, Any]]:
    """Leaf → the expanded value object it became (its ``@type``, ``@language``)."""
    found: dict[int, dict[str, Any]] = {}
    stack = [expanded]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, dict):
            value = item.get("@value")
            if isinstance(value, str) and value in sentinels:
                found[sentinels[value]] = item
            stack.extend(v for v in item.values() if isinstance(v, list | dict))
    return found


def _hole(
    component: dict[str, str],
    leaf: int,
    value: Any,
    sentinel: str,
    coercion: dict[str, Any] | None,
) -> _Hole | None:
    rest = {k: v for k, v in component.items() if k != "value"}
    if component["type"] == "IRI":
        if not isinstance(value, str):
            return None
        return _Hole(leaf, "iri", rest, scheme=sentinel.partition(":")[0] + ":")
    if component["type"] != "literal":
        return None
    if isinstance(value, str):
        if rest.get("datatype") in (_XSD_DOUBLE, jsonld.RDF_JSON_LITERAL):
            return None
        return _Hole(leaf, "string", rest, suffix=_literal_suffix(rest))
    if coercion is None or "@language" in coercion or "@direction" in coercion:
        return None
    datatype = coercion.get("@type")
    if datatype is not None and (not isinstance(datatype, str) or datatype.startswith("@")):
        return None
    return _Hole(leaf, "native", rest, coercion=datatype)


@dataclass(frozen=True)
class _Pin:
    """Learning found IRI holes whose values are terms: learn again with them pinned."""

    leaves: frozenset[int]


def learn(
    document: Any,
    leaves: list[Any],
    pinned: frozenset[int],
    to_dataset: ToDataset,
    expected: str,
) -> Shape | _Pin | None:
    """The shape of ``document`` (already canonicalized by pyld to ``expected``).

    ``pinned`` holes keep their values (a shape is then learned per combination of
    them). Returns :class:`_Pin` when IRI holes hold values that are not absolute
    IRIs (terms expanded by ``@vocab`` coercion, such as enumeration members), and
    None when the shape cannot be compiled.
    """
    nonce = secrets.token_hex(8)
    marker = f"carbonlabel-hole-{nonce}-"
    probe, sentinels = _with_sentinels(document, nonce, pinned)
    try:
        expanded, dataset = to_dataset(probe)
    except Exception:  # any refusal means: leave this shape to pyld
        return None
    coercions = _coercions(expanded, sentinels)
    seen: set[int] = set()
    graphs: dict[str, list[Triple]] = {}
    iri_leaves: dict[int, str] = {}
    for name, triples in dataset.items():
        if marker in name:
            return None
        compiled: list[Triple] = []
        for triple in triples:
            row: Triple = {}
            for key, component in triple.items():
                value = component.get("value", "")
                leaf = sentinels.get(value)
                if leaf is None:
                    if any(marker in part for part in component.values()):
                        return None
                    row[key] = component
                    continue
                if any(marker in part for k, part in component.items() if k != "value"):
                    return None
                hole = _hole(component, leaf, leaves[leaf], value, coercions.get(leaf))
                if hole is None:
                    return None
                if hole.kind == "iri":
                    iri_leaves[leaf] = hole.scheme
                seen.add(leaf)
                row[key] = hole
            compiled.append(row)
        graphs[name] = compiled
    if len(seen) != len(sentinels):
        return None
    shape = Shape.build(graphs, pinned, tuple(sorted(iri_leaves.items())), _context_terms(document))
    refused = frozenset(
        leaf for leaf, scheme in shape.iri_leaves if not shape.passes(leaves[leaf], scheme)
    )
    if refused:
        return None if pinned else _Pin(refused)
    return shape if shape.canonical(leaves) == expected else None


def _context_terms(document: Any) -> frozenset[str]:
    """Every term any context of ``document`` (inline, loaded, imported, scoped) defines."""
    contexts: list[Any] = []

    def contexts_in(value: Any) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                if key == "@context":
                    contexts.append(item)
                else:
                    contexts_in(item)
        elif isinstance(value, list):
            for item in value:
                contexts_in(item)

    contexts_in(document)
    return _terms_of(_fixed(contexts))


@functools.lru_cache(maxsize=256)
def _terms_of(contexts_json: str) -> frozenset[str]:
    from credentials.loader import document_loader

    terms: set[str] = set()
    loaded: set[str] = set()
    stack: list[Any] = [json.loads(contexts_json)]
    while stack:
        context = stack.pop()
        if isinstance(context, list):
            stack.extend(context)
        elif isinstance(context, str):
            if context not in loaded:
                loaded.add(context)
                stack.append(document_loader(context)["document"].get("@context"))
        elif isinstance(context, dict):
            for key, definition in context.items():
                if key == "@import":
                    stack.append(definition)
                elif not key.startswith("@"):
                    terms.add(key)
                if isinstance(definition, dict) and "@context" in definition:
                    stack.append(definition["@context"])
    return frozenset(terms)


_REFUSED: Final = object()


@dataclass
class _Family:
    """The shapes of one key: one per combination of the pinned values."""

    pinned: frozenset[int]
    order: tuple[int, ...]
    shapes: OrderedDict[tuple[Any, ...], Any]


@dataclass
class _Sighting:
    key: tuple[Any, ...]
    leaves: list[Any]
    family: _Family | None
    shape: Shape | None

    def pins(self) -> tuple[Any, ...]:
        assert self.family is not None
        return tuple(self.leaves[leaf] for leaf in self.family.order)


class ShapeCache:
    """Shapes are learned once pyld has canonicalized ``sightings`` documents of them.

    Learning costs one more expansion (of the sentinel copy). At most ``shapes``
    learned shapes are kept in all (a label's takes some 40 KB), the least recently
    used key dropped first, and at most ``variants`` combinations of pinned values
    per key; ``watch`` keys seen fewer times are remembered.
    """

    def __init__(
        self, shapes: int = 1024, variants: int = 16, watch: int = 4096, sightings: int = 2
    ) -> None:
        self._sightings = sightings
        self._limit = shapes
        self._variants = variants
        self._watch = watch
        self._families: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
        self._seen: OrderedDict[tuple[Any, ...], int] = OrderedDict()
        self._count = 0
        self._lock = threading.Lock()

    def lookup(self, document: Any) -> _Sighting | None:
        """The document's shape key and values, with the learned shape if there is one."""
        found = shape_of(document)
        if found is None:
            return None
        key, leaves = found
        with self._lock:
            family = self._families.get(key)
            if not isinstance(family, _Family):
                return _Sighting(key, leaves, None, None)
            self._families.move_to_end(key)
            sighting = _Sighting(key, leaves, family, None)
            shape = family.shapes.get(sighting.pins())
        sighting.shape = shape if isinstance(shape, Shape) else None
        return sighting

    def observe(
        self,
        sighting: _Sighting,
        document: Any,
        expected: str,
        to_dataset: ToDataset,
    ) -> None:
        """Record that pyld canonicalized ``document`` to ``expected``; learn if it is time."""
        key = sighting.key
        family = sighting.family
        if family is None:
            with self._lock:
                if key in self._families:
                    return
                count = self._seen.pop(key, 0) + 1
                if count < self._sightings:
                    self._seen[key] = count
                    if len(self._seen) > self._watch:
                        self._seen.popitem(last=False)
                    return
            learned = learn(document, sighting.leaves, frozenset(), to_dataset, expected)
            pinned = learned.leaves if isinstance(learned, _Pin) else frozenset()
            family = _Family(pinned, tuple(sorted(pinned)), OrderedDict())
            sighting.family = family
            if isinstance(learned, _Pin):
                learned = learn(document, sighting.leaves, pinned, to_dataset, expected)
            with self._lock:
                if key in self._families:
                    return
                self._families[key] = _REFUSED if learned is None and not pinned else family
        else:
            with self._lock:
                if sighting.pins() in family.shapes:
                    return
            learned = learn(document, sighting.leaves, family.pinned, to_dataset, expected)
        self._remember(key, family, sighting.pins(), learned)

    def _remember(
        self, key: tuple[Any, ...], family: _Family, pins: tuple[Any, ...], learned: Any
    ) -> None:
        with self._lock:
            if self._families.get(key) is not family or pins in family.shapes:
                return  # evicted, or learned by another thread meanwhile
            family.shapes[pins] = learned if isinstance(learned, Shape) else _REFUSED
            self._count += isinstance(learned, Shape)
            if len(family.shapes) > self._variants:
                self._count -= isinstance(family.shapes.popitem(last=False)[1], Shape)
            while self._count > self._limit or len(self._families) > self._limit:
                _, evicted = self._families.popitem(last=False)
                if isinstance(evicted, _Family):
                    self._count -= sum(isinstance(s, Shape) for s in evicted.shapes.values())

    def clear(self) -> None:
        with self._lock:
            self._families.clear()
            self._seen.clear()
            self._count = 0

    def __len__(self) -> int:
        """How many shapes are learned (all keys, all pinned combinations)."""
        with self._lock:
            return self._count

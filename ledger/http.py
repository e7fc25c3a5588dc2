"""Read-only HTTP for the log: C2SP tlog-tiles, checkpoints, and JSON helpers.

``log_router(store)`` returns the routes; ``app.create_app`` mounts them.
Routes raise ``HTTPException`` whose ``detail`` is a problem object
(``{"type", "title", "detail"}``); the app renders it as RFC 9457 JSON.
"""

from __future__ import annotations

import base64
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, Response
from pydantic import BaseModel, Field

from ledger.errors import ProofError, RangeError, TilePathError
from ledger.rfc9162 import hash_leaf
from ledger.store.log import LogStore
from ledger.tiles import TILE_WIDTH, parse_tile_path

IMMUTABLE = "public, max-age=31536000, immutable"
PARTIAL = "public, max-age=5"
CHECKPOINT = "no-cache"


def bad_request(code: str, detail: str) -> HTTPException:
    """A 400 problem with a machine-readable ``type`` and a sentence."""
    return HTTPException(400, detail={"type": code, "title": "Bad request", "detail": detail})


def not_found(code: str, detail: str) -> HTTPException:
    return HTTPException(404, detail={"type": code, "title": "Not found", "detail": detail})


def parse_non_negative(value: str | None, name: str, *, required: bool = True) -> int | None:
    """Parse a decimal parameter; a 400 names the parameter and the reason.

    Only ASCII digits count: ``str.isdigit`` also accepts ``¹`` (which ``int`` refuses)
    and ``٣`` (which ``int`` reads as 3).
    """
    if value is None or value == "":
        if required:
            raise bad_request("missing-parameter", f"parameter {name!r} is required")
        return None
    digits = value.isascii() and value.isdigit()
    if not digits or (len(value) > 1 and value[0] == "0") or len(value) > 19:
        raise bad_request(
            "invalid-parameter",
            f"parameter {name!r} must be a non-negative decimal integer (ASCII digits 0-9), "
            f"got {value!r}",
        )
    return int(value)


class EntryOut(BaseModel):
    index: int
    leaf_hash: str = Field(description="RFC 9162 leaf hash, base64")
    data: str = Field(description="the entry bytes, base64")
    text: str | None = Field(default=None, description="the entry as UTF-8 text, when it is")


class InclusionOut(BaseModel):
    index: int
    tree_size: int
    inclusion_proof: list[str] = Field(description="RFC 9162 §2.1.3 proof, base64 hashes")


class ConsistencyOut(BaseModel):
    old: int
    new: int
    consistency_proof: list[str] = Field(description="RFC 9162 §2.1.4 proof, base64 hashes")


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def log_router(store: LogStore) -> APIRouter:
    """The log's read-only routes over ``store``."""
    router = APIRouter(prefix="/log", tags=["log"])

    @router.get(
        "/checkpoint",
        response_class=Response,
        responses={200: {"content": {"text/plain": {}}, "description": "signed checkpoint"}},
        summary="The newest signed checkpoint (C2SP tlog-checkpoint)",
    )
    def checkpoint() -> Response:
        note = store.latest_checkpoint().note
        return Response(
            note, media_type="text/plain; charset=utf-8", headers={"Cache-Control": CHECKPOINT}
        )

    @router.get(
        "/tile/{path:path}",
        response_class=Response,
        responses={200: {"content": {"application/octet-stream": {}}}},
        summary="A hash tile or entry bundle (C2SP tlog-tiles)",
    )
    def tile(
        path: Annotated[str, Path(description="<L>/<N>[.p/<W>] or entries/<N>[.p/<W>]")],
    ) -> Response:
        try:
            tile_id = parse_tile_path("tile/" + path)
        except TilePathError as exc:
            raise bad_request("invalid-tile-path", str(exc)) from exc
        data = store.tile(tile_id.level, tile_id.index, tile_id.width)
        if data is None:
            raise not_found("beyond-tree", f"tile {tile_id.path()} lies beyond the current tree")
        cache = IMMUTABLE if tile_id.width == TILE_WIDTH else PARTIAL
        return Response(
            data, media_type="application/octet-stream", headers={"Cache-Control": cache}
        )

    @router.get("/entries/{index}", response_model=EntryOut, summary="One entry, as JSON")
    def entry(index: str) -> Any:
        position = parse_non_negative(index, "index")
        assert position is not None
        try:
            data = store.entry(position)
        except RangeError as exc:
            raise not_found("beyond-tree", str(exc)) from exc
        try:
            text: str | None = data.decode("utf-8")
        except UnicodeDecodeError:
            text = None
        return EntryOut(index=position, leaf_hash=_b64(hash_leaf(data)), data=_b64(data), text=text)

    @router.get("/proof/inclusion", response_model=InclusionOut, summary="Inclusion proof")
    def inclusion(
        index: Annotated[str | None, Query(description="leaf index")] = None,
        size: Annotated[str | None, Query(description="tree size (default: newest)")] = None,
    ) -> Any:
        position = parse_non_negative(index, "index")
        tree_size = parse_non_negative(size, "size", required=False)
        assert position is not None
        resolved = tree_size if tree_size is not None else store.tree_size()
        try:
            proof = store.inclusion_proof(position, resolved)
        except (RangeError, ProofError) as exc:
            raise bad_request("invalid-parameter", str(exc)) from exc
        return InclusionOut(
            index=position, tree_size=resolved, inclusion_proof=[_b64(h) for h in proof]
        )

    @router.get("/proof/consistency", response_model=ConsistencyOut, summary="Consistency proof")
    def consistency(
        old: Annotated[str | None, Query(description="older tree size (> 0)")] = None,
        new: Annotated[str | None, Query(description="newer tree size (default: newest)")] = None,
    ) -> Any:
        old_size = parse_non_negative(old, "old")
        new_size = parse_non_negative(new, "new", required=False)
        assert old_size is not None
        resolved = new_size if new_size is not None else store.tree_size()
        try:
            proof = store.consistency_proof(old_size, resolved)
        except (RangeError, ProofError) as exc:
            raise bad_request("invalid-parameter", str(exc)) from exc
        return ConsistencyOut(
            old=old_size, new=resolved, consistency_proof=[_b64(h) for h in proof]
        )

    @router.get("/receipts/{index}", summary="An offline receipt for one entry")
    def receipt(index: str) -> Any:
        position = parse_non_negative(index, "index")
        assert position is not None
        try:
            return store.receipt(position).to_json()
        except RangeError as exc:
            raise not_found("beyond-tree", str(exc)) from exc

    return router

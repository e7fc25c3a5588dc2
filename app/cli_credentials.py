"""``carbonlabel keys ...`` and ``carbonlabel credential ...``: keys and offline credentials."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from app.cli_log import err, fail
from app.runtime import ConfigurationError, Runtime, utcnow
from app.settings import load_settings
from credentials.dataintegrity import (
    EDDSA_JCS_2022,
    EDDSA_RDFC_2022,
    did_key_method_resolver,
    sign,
    verify,
)
from credentials.didkey import did_key_from_public_key, did_key_verification_method_id
from credentials.didweb import build_did_document, did_web_from_url
from credentials.errors import CredentialError, VerificationError
from credentials.keystore import Keystore
from credentials.multikey import Ed25519KeyPair
from credentials.vc import check_structure, check_validity, credential_types, issuer_id
from schemas.errors import SchemaError, SchemaValidationError
from schemas.validate import validate
from schemas.vocabulary import KINDS

keys_app = typer.Typer(help="Manage signing keys (encrypted at rest).", no_args_is_help=True)
credential_app = typer.Typer(
    help="Sign, verify and validate credentials offline.", no_args_is_help=True
)

SUITES = (EDDSA_RDFC_2022, EDDSA_JCS_2022)


@contextmanager
def keystore() -> Iterator[Keystore]:
    runtime = Runtime(load_settings())
    try:
        yield runtime.keystore
    except (ConfigurationError, CredentialError) as exc:
        raise fail(str(exc)) from exc
    finally:
        runtime.close()


def _did_key(store: Keystore, name: str) -> str:
    return did_key_from_public_key(store.current(name).public_key())


@keys_app.command("new")
def keys_new(name: Annotated[str, typer.Option("--name", help="Key name, e.g. gd-clc.")]) -> None:
    """Create a key; prints its did:key."""
    with keystore() as store:
        store.create(name, now=utcnow())
        typer.echo(_did_key(store, name))


@keys_app.command("list")
def keys_list() -> None:
    """List keys and their versions (current and retired)."""
    with keystore() as store:
        for name in store.names():
            for version in store.versions(name):
                state = "current" if version.is_current else f"retired {version.not_after}"
                did = did_key_from_public_key(version.public_key())
                typer.echo(f"{name}\t{version.fragment}\t{state}\t{did}")


@keys_app.command("rotate")
def keys_rotate(name: Annotated[str, typer.Argument(help="Key to rotate.")]) -> None:
    """Make a new version current; old versions stay for verifying old credentials."""
    with keystore() as store:
        version = store.rotate(name, now=utcnow())
        typer.echo(f"{name}{version.fragment} is current: {_did_key(store, name)}")


@keys_app.command("did")
def keys_did(
    name: Annotated[str, typer.Argument(help="Key name.")],
    web: Annotated[
        str | None,
        typer.Option(help="Print the did:web DID document for this base URL instead."),
    ] = None,
) -> None:
    """Print the key's did:key, or (--web URL) the did:web document an issuer publishes."""
    with keystore() as store:
        if web is None:
            typer.echo(_did_key(store, name))
            return
        did = did_web_from_url(web)
        typer.echo(json.dumps(build_did_document(did, store.versions(name)), indent=2))


def _read_json(path: Path) -> dict[str, Any]:
    try:
        document = json.loads(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise fail(f"{path}: not a readable JSON document: {exc}") from exc
    if not isinstance(document, dict):
        raise fail(f"{path}: a credential must be a JSON object")
    return document


@credential_app.command("sign")
def credential_sign(
    file: Annotated[Path, typer.Argument(help="Unsigned credential (JSON).", exists=True)],
    key: Annotated[str, typer.Option("--key", help="Name of the signing key.")],
    suite: Annotated[str, typer.Option(help=" or ".join(SUITES))] = EDDSA_RDFC_2022,
) -> None:
    """Sign a credential with a Data Integrity proof; prints the signed credential.

    Sets ``issuer`` (or ``issuer.id`` of an issuer object) to the key's did:key
    when the input has none, and refuses a different issuer.
    """
    if suite not in SUITES:
        raise fail(f"--suite must be one of {', '.join(SUITES)}, got {suite!r}")
    document = _read_json(file)
    with keystore() as store:
        pair = Ed25519KeyPair(
            public_key=store.current(key).public_key(), private_key=store.private_key(key)
        )
        did = did_key_from_public_key(pair.public_key)
        issuer = document.get("issuer")
        if issuer is None:
            document["issuer"] = did
        elif isinstance(issuer, dict) and "id" not in issuer:
            document["issuer"] = {"id": did, **issuer}
        else:
            try:
                current = issuer_id(document)
            except VerificationError as exc:
                raise fail(str(exc)) from exc
            if current != did:
                raise fail(f"issuer is {current}, but key {key!r} is {did}: refusing to sign")
        try:
            signed = sign(
                document,
                pair,
                verification_method=did_key_verification_method_id(did),
                cryptosuite=suite,
                created=utcnow(),
            )
        except CredentialError as exc:
            raise fail(f"cannot sign: {exc}") from exc
    typer.echo(json.dumps(signed, indent=2, ensure_ascii=False))


def schema_kind(document: dict[str, Any]) -> str | None:
    """The schema kind named by the credential's types, if we have one."""
    for kind in KINDS:
        if kind in credential_types(document):
            return kind
    return None


def _report(check: str, outcome: str, detail: str) -> None:
    colour = {"passed": "green", "failed": "red", "skipped": "yellow"}[outcome]
    err.print(f"[{colour}]{outcome:7}[/] {check}: {detail}", highlight=False)


@credential_app.command("verify")
def credential_verify(
    file: Annotated[Path, typer.Argument(help="Signed credential (JSON).", exists=True)],
    at: Annotated[
        datetime | None, typer.Option(help="Check validity at this time (default: now).")
    ] = None,
) -> None:
    """Verify a credential offline (did:key resolved locally); prints each check.

    Exits non-zero on any failure.
    """
    document = _read_json(file)
    now = at or utcnow()
    failed = False

    def run(check: str, action: Any) -> None:
        nonlocal failed
        try:
            detail = action()
        except (CredentialError, SchemaError) as exc:
            failed = True
            reason = getattr(exc, "reason", type(exc).__name__)
            _report(check, "failed", f"{reason}: {exc}")
        else:
            _report(check, "passed", detail)

    def structure() -> str:
        check_structure(document)
        kind = schema_kind(document)
        if kind is not None:
            validate(kind, document)
            return f"VC 2.0 and the {kind} schema"
        return "VC 2.0"

    def proof() -> str:
        result = verify(document, resolve_method=did_key_method_resolver, now=now)
        return f"{result.cryptosuite} by {result.verification_method.id}"

    def validity() -> str:
        check_validity(document, now)
        return f"valid at {now.isoformat()}"

    run("structure", structure)
    run("proof", proof)
    run("validity", validity)
    if failed:
        raise typer.Exit(1)
    typer.echo(f"OK: {file} verified")


@credential_app.command("validate")
def credential_validate(
    file: Annotated[Path, typer.Argument(help="Credential or document (JSON).", exists=True)],
    kind: Annotated[
        str | None, typer.Option(help=f"Schema kind ({', '.join(KINDS)}); default: from type.")
    ] = None,
) -> None:
    """Validate against the JSON Schema only; lists every error with its JSON pointer."""
    document = _read_json(file)
    chosen = kind or schema_kind(document)
    if chosen is None:
        raise fail(f"{file}: no known credential type; pass --kind ({', '.join(KINDS)})")
    try:
        validate(chosen, document)
    except SchemaValidationError as exc:
        for error in exc.errors:
            err.print(f"{error.pointer or '/'}: {error.reason}", highlight=False, markup=False)
        raise fail(f"{file}: {len(exc.errors)} error(s) against {chosen}") from exc
    except SchemaError as exc:
        raise fail(str(exc)) from exc
    typer.echo(f"OK: {file} is a valid {chosen}")

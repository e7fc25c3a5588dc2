"""Issuer organisations and their API tokens.

An organisation has a name, a Unified Social Credit Code (check character
verified), a did:web on the deployment's public URL, a key in the encrypted
keystore, and scopes: the credential types and product categories it may
issue. Tokens carry scopes; a token is shown once and stored only as its SHA-256.

Two roles, kept apart:

- an issuer organisation's tokens: ``issue`` (labels, grades), ``status`` (revoke,
  suspend, reinstate its own credentials), ``admin`` (its own organisation: its own
  misuse alerts);
- the label authority's tokens: ``authority`` (grading rules, every issuer's alerts,
  GTIN reassignment). The authority is the one organisation of the deployment
  registered with ``authority=True`` (``carbonlabel issuer add --authority``); only a
  token of that organisation may hold the scope (:meth:`Directory.new_token` refuses
  it elsewhere, and :meth:`Directory.authenticate` drops it from a token whose
  organisation is not the authority).
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, insert, select, update

from credentials.didweb import did_web_from_url
from credentials.keystore import Keystore
from issuer.errors import Conflict, Forbidden, InvalidRequest, NotFound, Unauthorized
from issuer.store.tables import api_tokens, issuer_orgs
from schemas.errors import InvalidUSCC
from schemas.validate import check_uscc

SCOPES = ("issue", "status", "admin", "authority")
AUTHORITY_SCOPE = "authority"
TOKEN_PREFIX = "cll_"
_SLUG = re.compile(r"[a-z0-9][a-z0-9-]{1,46}[a-z0-9]")


@dataclass(frozen=True)
class Org:
    id: int
    slug: str
    name: str
    uscc: str
    did: str
    key_name: str
    credential_types: tuple[str, ...]
    product_categories: tuple[str, ...]
    authority: bool = False
    """Whether this organisation is the deployment's label authority."""

    def to_json(self) -> dict[str, Any]:
        return {
            "slug": self.slug,
            "name": self.name,
            "uscc": self.uscc,
            "did": self.did,
            "key": self.key_name,
            "credentialTypes": list(self.credential_types),
            "productCategories": list(self.product_categories),
            "authority": self.authority,
        }

    def may_issue(self, credential_type: str, product_category: str | None) -> None:
        """Raise Forbidden unless this issuer is scoped for the type and category."""
        if credential_type not in self.credential_types:
            raise Forbidden(f"issuer {self.slug} may not issue {credential_type}")
        if product_category is not None and product_category not in self.product_categories:
            raise Forbidden(f"issuer {self.slug} may not issue for category {product_category!r}")


@dataclass(frozen=True)
class Principal:
    """Who is calling: the organisation and the token's scopes."""

    org: Org
    scopes: frozenset[str]
    token_prefix: str

    def require(self, scope: str) -> None:
        """Raise Forbidden unless the token holds ``scope`` (``authority``: the label
        authority; ``admin``: its own organisation only)."""
        if scope not in self.scopes:
            raise Forbidden(f"this token lacks the {scope!r} scope")


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def org_did(public_url: str, slug: str) -> str:
    """The did:web of an issuer: ``did:web:<host>:issuers:<slug>``."""
    return did_web_from_url(f"{public_url.rstrip('/')}/issuers/{slug}")


class Directory:
    """Organisations and tokens, stored in the issuer's tables."""

    def __init__(self, engine: Engine, keystore: Keystore, public_url: str) -> None:
        self.engine = engine
        self.keystore = keystore
        self.public_url = public_url

    def add_org(
        self,
        *,
        slug: str,
        name: str,
        uscc: str,
        credential_types: list[str],
        product_categories: list[str],
        now: datetime,
        authority: bool = False,
    ) -> Org:
        """Register an issuer and create its signing key.

        ``authority=True`` makes it the deployment's label authority (see the module
        docstring). Raises InvalidRequest, or Conflict (slug or USCC taken, or another
        organisation is already the authority).
        """
        if not _SLUG.fullmatch(slug):
            raise InvalidRequest(f"slug {slug!r} must be 3-48 of a-z, 0-9 and '-'")
        try:
            check_uscc(uscc)
        except InvalidUSCC as exc:
            raise InvalidRequest(f"uscc {uscc!r}: {exc.reason}") from exc
        if not name.strip():
            raise InvalidRequest("name must not be empty")
        if not credential_types:
            raise InvalidRequest("give at least one credential type the issuer may issue")
        with self.engine.connect() as conn:
            clash = conn.execute(
                select(issuer_orgs.c.slug).where(
                    (issuer_orgs.c.slug == slug) | (issuer_orgs.c.uscc == uscc)
                )
            ).first()
        if clash is not None:
            raise Conflict(f"an issuer with slug {slug!r} or USCC {uscc} exists")
        if authority:
            self._refuse_second_authority(slug)
        key_name = f"org-{slug}"
        if key_name not in self.keystore.names():
            self.keystore.create(key_name, now=now)
        with self.engine.begin() as conn:
            conn.execute(
                insert(issuer_orgs).values(
                    slug=slug,
                    name=name,
                    uscc=uscc,
                    did=org_did(self.public_url, slug),
                    key_name=key_name,
                    credential_types=json.dumps(sorted(set(credential_types))),
                    product_categories=json.dumps(sorted(set(product_categories))),
                    created_at=now,
                    authority=authority,
                )
            )
        return self.org(slug)

    def authority(self) -> Org | None:
        """The deployment's label authority, if one is registered."""
        with self.engine.connect() as conn:
            row = conn.execute(select(issuer_orgs).where(issuer_orgs.c.authority.is_(True))).first()
        return None if row is None else self._org(row)

    def make_authority(self, slug: str) -> Org:
        """Make an existing organisation the label authority (idempotent).

        Raises NotFound, or Conflict if another organisation is the authority.
        """
        org = self.org(slug)
        if org.authority:
            return org
        self._refuse_second_authority(slug)
        with self.engine.begin() as conn:
            conn.execute(
                update(issuer_orgs).where(issuer_orgs.c.id == org.id).values(authority=True)
            )
        return self.org(slug)

    def _refuse_second_authority(self, slug: str) -> None:
        current = self.authority()
        if current is not None and current.slug != slug:
            raise Conflict(
                f"{current.slug} is already this deployment's label authority; a deployment has one"
            )

    @staticmethod
    def _org(row: Any) -> Org:
        return Org(
            id=row.id,
            slug=row.slug,
            name=row.name,
            uscc=row.uscc,
            did=row.did,
            key_name=row.key_name,
            credential_types=tuple(json.loads(row.credential_types)),
            product_categories=tuple(json.loads(row.product_categories)),
            authority=bool(row.authority),
        )

    def org(self, slug: str) -> Org:
        with self.engine.connect() as conn:
            row = conn.execute(select(issuer_orgs).where(issuer_orgs.c.slug == slug)).first()
        if row is None:
            raise NotFound(f"no issuer {slug!r}")
        return self._org(row)

    def org_by_id(self, org_id: int) -> Org:
        with self.engine.connect() as conn:
            row = conn.execute(select(issuer_orgs).where(issuer_orgs.c.id == org_id)).first()
        if row is None:
            raise NotFound(f"no issuer #{org_id}")
        return self._org(row)

    def orgs(self) -> list[Org]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(issuer_orgs).order_by(issuer_orgs.c.slug)).all()
        return [self._org(row) for row in rows]

    def new_token(self, slug: str, scopes: list[str], label: str, now: datetime) -> str:
        """Create a token for an organisation; returns it (shown once, stored hashed).

        Raises InvalidRequest (no or unknown scopes), NotFound, and Forbidden for the
        ``authority`` scope on an organisation that is not the label authority.
        """
        unknown = sorted(set(scopes) - set(SCOPES))
        if not scopes or unknown:
            raise InvalidRequest(f"scopes must be among {', '.join(SCOPES)}; got {scopes}")
        org = self.org(slug)
        if AUTHORITY_SCOPE in scopes and not org.authority:
            raise Forbidden(
                f"only the label authority's tokens may hold the {AUTHORITY_SCOPE!r} scope, "
                f"and {slug} is not the authority (carbonlabel issuer add --authority)"
            )
        prefix = secrets.token_hex(4)
        token = f"{TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
        with self.engine.begin() as conn:
            conn.execute(
                insert(api_tokens).values(
                    org_id=org.id,
                    token_hash=hash_token(token),
                    prefix=prefix,
                    scopes=" ".join(sorted(set(scopes))),
                    label=label,
                    created_at=now,
                )
            )
        return token

    def revoke_token(self, prefix_or_token: str, now: datetime) -> None:
        """Revoke by the token itself or its 8-hex-digit prefix. Raises NotFound."""
        value = prefix_or_token.strip()
        if value.startswith(TOKEN_PREFIX):
            condition = api_tokens.c.token_hash == hash_token(value)
        else:
            condition = api_tokens.c.prefix == value
        with self.engine.begin() as conn:
            result = conn.execute(
                update(api_tokens)
                .where(condition, api_tokens.c.revoked_at.is_(None))
                .values(revoked_at=now)
            )
        if result.rowcount == 0:
            raise NotFound(f"no active token {value!r}")

    def tokens(self, slug: str) -> list[dict[str, Any]]:
        org = self.org(slug)
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(api_tokens).where(api_tokens.c.org_id == org.id).order_by(api_tokens.c.id)
            ).all()
        return [
            {
                "prefix": r.prefix,
                "scopes": r.scopes.split(),
                "label": r.label,
                "revoked": r.revoked_at is not None,
            }
            for r in rows
        ]

    def authenticate(self, authorization: str | None) -> Principal:
        """Resolve an ``Authorization: Bearer <token>`` header. Raises Unauthorized.

        The ``authority`` scope counts only while the token's organisation is the
        label authority.
        """
        if not authorization or not authorization.lower().startswith("bearer "):
            raise Unauthorized("missing bearer token (Authorization: Bearer <token>)")
        token = authorization[7:].strip()
        with self.engine.connect() as conn:
            row = conn.execute(
                select(api_tokens).where(api_tokens.c.token_hash == hash_token(token))
            ).first()
        if row is None:
            raise Unauthorized("unknown token")
        if row.revoked_at is not None:
            raise Unauthorized("this token has been revoked")
        org = self.org_by_id(row.org_id)
        scopes = frozenset(row.scopes.split())
        if not org.authority:
            scopes -= {AUTHORITY_SCOPE}
        return Principal(org, scopes, row.prefix)

"""The issuing service: labels and grades signed, logged, stored and printed.

Submodules: ``service`` (the issuance pipeline and status changes), ``build``
(credentials from requests), ``directory`` (organisations and tokens),
``allocate`` (label numbers, status-list positions, skipped numbers), ``batchfile``,
``qr`` and ``printable`` (QR codes, offline QR, printable labels), ``http`` and
``gaps_http`` (routes).
"""

from issuer.directory import Directory, Org, Principal
from issuer.errors import IssuerError
from issuer.service import Issued, IssuerService

__all__ = ["Directory", "Issued", "IssuerError", "IssuerService", "Org", "Principal"]

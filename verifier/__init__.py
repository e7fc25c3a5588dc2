"""The public side: can I trust this label, here, on this product?

Submodules: ``pipeline`` (the named checks), ``result`` (checks and verdicts),
``trustlist``, ``checkpoints`` (fork detection), ``binding`` (badges),
``misuse`` (copy detection), ``service`` (scans and alerts), ``offline``
(cache for verifying away from the deployment), ``scanpage``, ``badge``,
``linkset``, ``i18n`` and ``http`` (routes).
"""

from verifier.pipeline import VerificationContext, verify_credential
from verifier.result import CHECK_NAMES, Check, Outcome, Verdict, Verification

__all__ = [
    "CHECK_NAMES",
    "Check",
    "Outcome",
    "Verdict",
    "Verification",
    "VerificationContext",
    "verify_credential",
]

"""W3C Verifiable Credentials 2.0 with Data Integrity EdDSA proofs, offline.

Submodules: ``dataintegrity`` (eddsa-rdfc-2022, eddsa-jcs-2022), ``canonical``
(RDFC-1.0 via pyld with a safe mode, JCS), ``loader`` (bundled contexts only),
``multikey``, ``didkey``, ``didweb``, ``keystore`` (encrypted, rotating keys),
``statuslist`` (Bitstring Status List v1.0) and ``vc`` (structure and validity).
"""

from credentials.dataintegrity import (
    EDDSA_JCS_2022,
    EDDSA_RDFC_2022,
    ResolvedVerificationMethod,
    VerifiedProof,
    did_key_method_resolver,
    sign,
    verify,
    verify_proof_set,
)
from credentials.didkey import did_key_from_public_key, resolve_did_key
from credentials.didweb import DidResolver, DidWebResolver, build_did_document, did_web_from_url
from credentials.errors import CredentialError, VerificationError
from credentials.keystore import Keystore, KeyVersion
from credentials.multikey import Ed25519KeyPair
from credentials.statuslist import Bitstring, read_status, status_list_credential, status_list_entry
from credentials.vc import check_structure, check_validity, issuer_id

__all__ = [
    "EDDSA_JCS_2022",
    "EDDSA_RDFC_2022",
    "Bitstring",
    "CredentialError",
    "DidResolver",
    "DidWebResolver",
    "Ed25519KeyPair",
    "KeyVersion",
    "Keystore",
    "ResolvedVerificationMethod",
    "VerificationError",
    "VerifiedProof",
    "build_did_document",
    "check_structure",
    "check_validity",
    "did_key_from_public_key",
    "did_key_method_resolver",
    "did_web_from_url",
    "issuer_id",
    "read_status",
    "resolve_did_key",
    "sign",
    "status_list_credential",
    "status_list_entry",
    "verify",
    "verify_proof_set",
]

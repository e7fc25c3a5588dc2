"""Encrypted keystore: round trip, no plaintext at rest, AEAD binding, rotation, names."""

from __future__ import annotations

import base64
import json
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import base58
import pytest

from credentials.errors import KeystoreError
from credentials.keystore import (
    Argon2idParams,
    Keystore,
    ScryptParams,
    default_kdf,
)
from credentials.multikey import encode_secret_key_multibase

# Cheap parameters so the suite stays fast; the format records them per file.
FAST_ARGON2 = Argon2idParams(memory_cost=64, iterations=1, lanes=1)
FAST_SCRYPT = ScryptParams(n=2**4, r=8, p=1)
PASSPHRASE = "correct horse battery staple"
T0 = datetime(2025, 1, 1, tzinfo=UTC)
T1 = datetime(2025, 7, 1, tzinfo=UTC)
T2 = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
def store(tmp_path: Path) -> Keystore:
    return Keystore(tmp_path / "keys", PASSPHRASE, kdf=FAST_ARGON2)


def _seed(store: Keystore, name: str, version: int | None = None) -> bytes:
    return store.private_key(name, version).private_bytes_raw()


def test_default_kdf_is_argon2id_rfc9106() -> None:
    assert default_kdf() == Argon2idParams(memory_cost=65536, iterations=3, lanes=4)


@pytest.mark.parametrize("kdf", [FAST_ARGON2, FAST_SCRYPT], ids=["argon2id", "scrypt"])
def test_round_trip(tmp_path: Path, kdf: Argon2idParams | ScryptParams) -> None:
    store = Keystore(tmp_path, PASSPHRASE, kdf=kdf)
    created = store.create("issuer", now=T0)
    assert created.version == 1 and created.fragment == "#key-1"
    assert created.public_key_multibase.startswith("z6Mk")
    assert created.created == T0 and created.not_after is None

    reopened = Keystore(tmp_path, PASSPHRASE, kdf=kdf)
    private_key = reopened.private_key("issuer")
    assert reopened.current("issuer") == created
    assert reopened.names() == ["issuer"]
    signature = private_key.sign(b"label")
    reopened.public_key_for("issuer", 1).verify(signature, b"label")
    created.public_key().verify(signature, b"label")

    document = json.loads((tmp_path / "issuer.1.json").read_text())
    expected_kdf = "argon2id" if isinstance(kdf, Argon2idParams) else "scrypt"
    assert document["kdf"]["name"] == expected_kdf
    assert document["cipher"] == "aes-256-gcm"


def test_files_are_private_and_hold_no_plaintext_seed(store: Keystore) -> None:
    store.create("issuer", now=T0)
    store.rotate("issuer", now=T1)
    for version in (1, 2):
        path = store.directory / f"issuer.{version}.json"
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        data = path.read_bytes()
        private_key = store.private_key("issuer", version)
        seed = private_key.private_bytes_raw()
        for encoding in (
            seed,
            seed.hex().encode(),
            seed.hex().upper().encode(),
            base64.b64encode(seed).rstrip(b"="),
            base64.urlsafe_b64encode(seed).rstrip(b"="),
            base58.b58encode(seed),
            encode_secret_key_multibase(private_key).encode(),
        ):
            assert encoding not in data
    assert sorted(p.name for p in store.directory.iterdir()) == ["issuer.1.json", "issuer.2.json"]


def test_wrong_passphrase(store: Keystore) -> None:
    store.create("issuer", now=T0)
    intruder = Keystore(store.directory, "not the passphrase", kdf=FAST_ARGON2)
    with pytest.raises(
        KeystoreError, match=r"wrong passphrase or corrupted key file .*issuer\.1\.json"
    ):
        intruder.private_key("issuer")
    with pytest.raises(KeystoreError, match="wrong passphrase"):
        intruder.current("issuer")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("ciphertext", None),  # flip one bit of the sealed seed
        ("nonce", None),
        ("publicKeyMultibase", "z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"),
        ("created", "2020-01-01T00:00:00Z"),
        ("notAfter", "2030-01-01T00:00:00Z"),
    ],
)
def test_tampered_file_fails_aead(store: Keystore, field: str, value: str | None) -> None:
    store.create("issuer", now=T0)
    path = store.directory / "issuer.1.json"
    document = json.loads(path.read_text())
    if value is None:
        raw = bytearray(
            base64.urlsafe_b64decode(document[field] + "=" * (-len(document[field]) % 4))
        )
        raw[0] ^= 0x01
        value = base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()
    document[field] = value
    path.write_text(json.dumps(document))
    with pytest.raises(KeystoreError, match="wrong passphrase or corrupted key file"):
        store.private_key("issuer")


def test_unreadable_json_is_keystore_error(store: Keystore) -> None:
    store.create("issuer", now=T0)
    (store.directory / "issuer.1.json").write_text("{not json")
    with pytest.raises(KeystoreError, match="cannot read key file"):
        store.private_key("issuer")


def test_swapped_file_names_are_caught(store: Keystore) -> None:
    store.create("alpha", now=T0)
    store.create("beta", now=T0)
    alpha = store.directory / "alpha.1.json"
    beta = store.directory / "beta.1.json"
    alpha_bytes, beta_bytes = alpha.read_bytes(), beta.read_bytes()
    alpha.write_bytes(beta_bytes)
    beta.write_bytes(alpha_bytes)
    with pytest.raises(KeystoreError, match="renamed or swapped"):
        store.private_key("alpha")
    with pytest.raises(KeystoreError, match="renamed or swapped"):
        store.current("beta")


def test_relabelled_file_fails_aead(store: Keystore) -> None:
    """Renaming *and* editing the name inside does not help: the name is in the AD."""
    store.create("alpha", now=T0)
    document = json.loads((store.directory / "alpha.1.json").read_text())
    document["name"] = "beta"
    (store.directory / "beta.1.json").write_text(json.dumps(document))
    with pytest.raises(KeystoreError, match="wrong passphrase or corrupted"):
        store.private_key("beta")


def test_version_swap_is_caught(store: Keystore) -> None:
    store.create("issuer", now=T0)
    store.rotate("issuer", now=T1)
    one = store.directory / "issuer.1.json"
    two = store.directory / "issuer.2.json"
    one_bytes = one.read_bytes()
    one.write_bytes(two.read_bytes())
    two.write_bytes(one_bytes)
    with pytest.raises(KeystoreError, match="renamed or swapped"):
        store.private_key("issuer", 2)


def test_create_refuses_existing_name(store: Keystore) -> None:
    store.create("issuer", now=T0)
    store.rotate("issuer", now=T1)
    with pytest.raises(KeystoreError, match="already exists"):
        store.create("issuer", now=T2)


def test_rotation_keeps_old_public_keys_and_flags_windows(store: Keystore) -> None:
    first = store.create("issuer", now=T0)
    old_private = store.private_key("issuer")
    old_signature = old_private.sign(b"label issued in spring")

    second = store.rotate("issuer", now=T1)
    assert second.version == 2 and second.fragment == "#key-2"
    assert second.public_key_multibase != first.public_key_multibase
    assert store.current("issuer") == second

    versions = store.versions("issuer")
    assert [v.version for v in versions] == [1, 2]
    retired = versions[0]
    assert retired.public_key_multibase == first.public_key_multibase
    assert retired.created == T0 and retired.not_after == T1 and not retired.is_current
    assert versions[1].is_current

    # The old credential still verifies against the old public key …
    store.public_key_for("issuer", "#key-1").verify(old_signature, b"label issued in spring")
    store.public_key_for("issuer", "did:web:labels.example.cn#key-1").verify(
        old_signature, b"label issued in spring"
    )
    # … for its stated validity window only.
    spring = datetime(2025, 3, 1, tzinfo=UTC)
    autumn = datetime(2025, 9, 1, tzinfo=UTC)
    assert retired.valid_at(spring) and not retired.valid_at(autumn)
    assert not retired.valid_at(T1) and retired.valid_at(T1 - timedelta(microseconds=1))
    assert not retired.valid_at(T0 - timedelta(seconds=1))
    assert store.check_valid_at("issuer", "#key-1", spring).version == 1
    with pytest.raises(KeystoreError, match="was not active"):
        store.check_valid_at("issuer", "key-1", autumn)
    with pytest.raises(KeystoreError, match="was not active"):
        store.check_valid_at("issuer", 2, spring)
    assert store.check_valid_at("issuer", 2, autumn) == second

    # Signing now uses the new key; the old private key is still decryptable.
    assert _seed(store, "issuer") != _seed(store, "issuer", 1)
    assert _seed(store, "issuer", 1) == old_private.private_bytes_raw()


def test_rotation_three_times(store: Keystore) -> None:
    store.create("issuer", now=T0)
    store.rotate("issuer", now=T1)
    store.rotate("issuer", now=T2)
    versions = store.versions("issuer")
    assert [(v.version, v.not_after) for v in versions] == [(1, T1), (2, T2), (3, None)]
    assert versions[1].created == T1


def test_rotate_needs_time_to_move_forward(store: Keystore) -> None:
    store.create("issuer", now=T1)
    with pytest.raises(KeystoreError, match="not after"):
        store.rotate("issuer", now=T0)


def test_naive_datetime_refused(store: Keystore) -> None:
    with pytest.raises(KeystoreError, match="timezone-aware"):
        store.create("issuer", now=datetime(2025, 1, 1))


def test_rotate_with_wrong_passphrase_writes_nothing(store: Keystore) -> None:
    store.create("issuer", now=T0)
    intruder = Keystore(store.directory, "guess", kdf=FAST_ARGON2)
    with pytest.raises(KeystoreError, match="wrong passphrase"):
        intruder.rotate("issuer", now=T1)
    assert [p.name for p in store.directory.iterdir()] == ["issuer.1.json"]


def test_unknown_keys_and_versions(store: Keystore) -> None:
    assert store.names() == []
    with pytest.raises(KeystoreError, match="no key named"):
        store.current("issuer")
    with pytest.raises(KeystoreError, match="no key named"):
        store.rotate("issuer", now=T0)
    store.create("issuer", now=T0)
    with pytest.raises(KeystoreError, match="no version 7"):
        store.private_key("issuer", 7)
    with pytest.raises(KeystoreError, match="cannot tell a key version"):
        store.public_key_for("issuer", "#signing")


def test_other_files_are_ignored(store: Keystore) -> None:
    store.create("issuer", now=T0)
    (store.directory / "README.txt").write_text("not a key")
    (store.directory / ".tmp-abc.json").write_text("{}")
    assert store.names() == ["issuer"]


def test_names_with_dots_and_dashes(store: Keystore) -> None:
    store.create("gd.carbon-label_committee", now=T0)
    store.create("9", now=T0)
    store.rotate("gd.carbon-label_committee", now=T1)
    assert store.names() == ["9", "gd.carbon-label_committee"]
    assert store.current("gd.carbon-label_committee").version == 2


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("", "empty"),
        ("Issuer", "must start"),
        ("iSSUER", "only lowercase"),
        ("-issuer", "must start"),
        (".hidden", "must start"),
        ("_x", "must start"),
        ("issuer/../../etc", "only lowercase"),
        ("issuer key", "only lowercase"),
        ("a" * 65, "longer than 64"),
        ("émetteur", "must start"),
    ],
)
def test_bad_names(store: Keystore, name: str, reason: str) -> None:
    with pytest.raises(KeystoreError, match=reason):
        store.create(name, now=T0)
    with pytest.raises(KeystoreError, match="invalid key name"):
        store.versions(name)


def test_longest_name_accepted(store: Keystore) -> None:
    store.create("a" * 64, now=T0)
    assert store.names() == ["a" * 64]


def test_empty_passphrase_refused(tmp_path: Path) -> None:
    with pytest.raises(KeystoreError, match="passphrase"):
        Keystore(tmp_path, "")

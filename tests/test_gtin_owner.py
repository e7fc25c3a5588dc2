"""Issue 10 defect 6: a GTIN belongs to the manufacturer its first label names.

Issuer B labelling issuer A's GTIN for another manufacturer is refused (409,
``/product/gtin``) with nothing logged, at every door; only the label authority
reassigns the GTIN, as a logged ``gtin-assignment`` entry, after which B may
label it. On 0dc98bf B's label was issued and the GTIN's Digital Link answered
with it.
"""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.cli import main
from app.main import create_app
from app.runtime import Runtime, utcnow
from app.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
REQUEST = json.loads((ROOT / "examples/label.json").read_text())
GTIN = "0" + REQUEST["product"]["gtin"]
MAKER_A = REQUEST["manufacturer"]["uscc"]  # 91440606MA2M8NM48B
MAKER_B = "91440402MA6NQYNW7K"
ORGS = {"gd-clc": "12440000MB2C401574", "gd-cb2": "91440104MA6HL60LTD"}
REASON = "GTIN licence transferred to the new brand owner (GS1 China letter 2026-118)"


def gtin13(body: str) -> str:
    """A GTIN-13 with its GS1 mod-10 check digit (``body``: 12 digits)."""
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body))
    return body + str((10 - total % 10) % 10)


def request_for(gtin: str, maker: str) -> dict[str, Any]:
    request = copy.deepcopy(REQUEST)
    request["product"]["gtin"] = gtin
    request["manufacturer"]["uscc"] = maker
    return request


def setup_orgs(runtime: Runtime) -> dict[str, dict[str, str]]:
    now = utcnow()
    for slug, uscc in ORGS.items():
        runtime.directory.add_org(
            slug=slug,
            name=f"certification body {slug}",
            uscc=uscc,
            credential_types=["CarbonLabelCredential", "GradeResultCredential"],
            product_categories=["room-air-conditioner"],
            now=now,
            authority=slug == "gd-clc",  # the committee is the deployment's label authority
        )

    def bearer(slug: str, *scopes: str) -> dict[str, str]:
        token = runtime.directory.new_token(slug, list(scopes), "t", now)
        return {"Authorization": f"Bearer {token}"}

    return {
        "a": bearer("gd-clc", "issue", "status"),
        "b": bearer("gd-cb2", "issue", "status", "admin"),
        "authority": bearer("gd-clc", "authority"),
    }


@pytest.fixture
def api(deployment: Settings) -> Iterator[tuple[TestClient, dict[str, dict[str, str]]]]:
    runtime = Runtime(deployment)
    tokens = setup_orgs(runtime)
    with TestClient(create_app(deployment, runtime)) as client:
        yield client, tokens


def tree_size(client: TestClient) -> int:
    size: int = client.get("/healthz").json()["tree_size"]
    return size


def test_another_manufacturer_cannot_take_a_gtin_until_the_authority_reassigns_it(
    api: tuple[TestClient, dict[str, dict[str, str]]],
) -> None:
    client, tokens = api
    first = client.post("/labels", json=REQUEST, headers=tokens["a"])
    assert first.status_code == 201, first.text
    assert first.json()["logEntry"]["products"]["manufacturer"] == MAKER_A
    owner = client.get(f"/gtins/{GTIN}").json()
    assert owner["manufacturer"] == MAKER_A
    assert owner["history"][0]["kind"] == "label"
    assert owner["history"][0]["logIndex"] == first.json()["logIndex"]

    size = tree_size(client)
    taken = client.post("/labels", json=request_for(GTIN, MAKER_B), headers=tokens["b"])
    assert taken.status_code == 409, taken.text
    problem = taken.json()
    assert problem["type"] == "gtin-taken" and MAKER_A in problem["detail"]
    assert [e["pointer"] for e in problem["errors"]] == ["/product/gtin"]
    # the batch door: the item is refused, its neighbour issued
    other = gtin13("690123400001")
    batch = client.post(
        "/labels/batch",
        json={"labels": [request_for(other, MAKER_B), request_for(GTIN, MAKER_B)]},
        headers=tokens["b"],
    ).json()
    assert [r["status"] for r in batch["results"]] == [201, 409]
    assert batch["results"][1]["errors"][0]["pointer"] == "/labels/1/product/gtin"
    assert tree_size(client) == size + 1  # only the neighbour was logged
    size += 1
    # the VC-API door, with a label credential naming manufacturer B
    credential = copy.deepcopy(first.json()["verifiableCredential"])
    for field in ("proof", "id", "credentialStatus"):
        credential.pop(field, None)
    credential["issuer"]["id"] = client.get("/issuers/gd-cb2/did.json").json()["id"]
    credential["credentialSubject"]["labelNumber"] = "GDCL-2026-AC-900001"
    credential["credentialSubject"]["issuedToParty"]["registeredId"] = MAKER_B
    vc = client.post("/credentials/issue", json={"credential": credential}, headers=tokens["b"])
    assert vc.status_code == 409, vc.text
    assert vc.json()["errors"][0]["pointer"] == "/credential/credentialSubject/labelledProduct/gtin"
    assert tree_size(client) == size
    # another certification body labelling the owner's product is fine
    same_maker = client.post("/labels", json=REQUEST, headers=tokens["b"])
    assert same_maker.status_code == 201
    size += 1

    # only the authority reassigns
    body = {"manufacturer": MAKER_B, "reason": REASON}
    for who in ("a", "b"):
        refused = client.post(f"/gtins/{GTIN}/assignment", json=body, headers=tokens[who])
        assert refused.status_code == 403, refused.text
    assert client.post(f"/gtins/{GTIN}/assignment", json=body).status_code == 401
    assert tree_size(client) == size
    assigned = client.post(f"/gtins/{GTIN}/assignment", json=body, headers=tokens["authority"])
    assert assigned.status_code == 201, assigned.text
    index = assigned.json()["logIndex"]
    entry = json.loads(client.get(f"/log/entries/{index}").json()["text"])
    assert {k: entry[k] for k in ("kind", "gtin", "manufacturer", "previous", "reason")} == {
        "kind": "gtin-assignment",
        "gtin": GTIN,
        "manufacturer": MAKER_B,
        "previous": MAKER_A,
        "reason": REASON,
    }
    assert entry["issuer"] == client.get("/issuers/gd-clc/did.json").json()["id"]
    assert entry == {"v": 1, **assigned.json()["logEntry"]}
    history = client.get(f"/gtins/{GTIN}").json()
    assert history["manufacturer"] == MAKER_B
    assert [h["kind"] for h in history["history"]] == ["label", "assignment"]

    # now B's manufacturer may label it, and A's may not
    ok = client.post("/labels", json=request_for(GTIN, MAKER_B), headers=tokens["b"])
    assert ok.status_code == 201, ok.text
    assert client.post("/labels", json=REQUEST, headers=tokens["a"]).status_code == 409


def test_assignment_input_problems(api: tuple[TestClient, dict[str, dict[str, str]]]) -> None:
    client, tokens = api
    authority = tokens["authority"]
    bad = client.post(
        "/gtins/6923517001870/assignment",
        json={"manufacturer": "91440402MA6NQYNW7X", "reason": " "},
        headers=authority,
    )
    assert bad.status_code == 422
    assert {e["pointer"] for e in bad.json()["errors"]} == {"/gtin", "/manufacturer", "/reason"}
    extra = client.post(
        f"/gtins/{GTIN}/assignment",
        json={"manufacturer": MAKER_B, "reason": "x", "more": 1},
        headers=authority,
    )
    assert extra.status_code == 422
    assert client.get(f"/gtins/{GTIN}").status_code == 404  # never labelled nor assigned
    assert client.get("/gtins/123").status_code == 422
    # the authority may give an unlabelled GTIN its owner; a no-op is a conflict
    body = {"manufacturer": MAKER_B, "reason": REASON}
    assert client.post(f"/gtins/{GTIN}/assignment", json=body, headers=authority).status_code == 201
    again = client.post(f"/gtins/{GTIN}/assignment", json=body, headers=authority)
    assert again.status_code == 409
    assert client.post("/labels", json=REQUEST, headers=tokens["a"]).status_code == 409
    schema = client.get("/openapi.json").json()
    doors = schema["paths"]["/gtins/{gtin}/assignment"]["post"]["responses"]
    assert {"201", "403", "409", "422"} <= set(doors)
    assert "409" in schema["paths"]["/labels"]["post"]["responses"]


def test_first_labels_racing_for_one_gtin_bind_it_once(deployment: Settings) -> None:
    """Two app instances (two workers) on one database: each pair of first labels for a
    fresh GTIN, naming different manufacturers, is sent at once; exactly one per GTIN is
    logged and the other answers 409 (never 500), whether it lost in the pre-check or in
    the log's transaction."""
    first = Runtime(deployment)
    tokens = setup_orgs(first)
    second = Runtime(deployment)
    gtins = [gtin13(f"69012350{n:04d}") for n in range(12)]
    with (
        TestClient(create_app(deployment, first)) as one,
        TestClient(create_app(deployment, second)) as two,
    ):
        for n, client in enumerate((one, two)):  # warm up: each app builds its models once
            warm_up = request_for(gtin13(f"69012351{n:04d}"), MAKER_A)
            assert client.post("/labels", json=warm_up).status_code == 401
            warm = client.post("/labels", json=warm_up, headers=tokens["a"])
            assert warm.status_code == 201, warm.text
        answers: dict[tuple[str, str], int] = {}

        def send(client: TestClient, gtin: str, maker: str, barrier: threading.Barrier) -> None:
            barrier.wait()
            response = client.post("/labels", json=request_for(gtin, maker), headers=tokens["a"])
            answers[(gtin, maker)] = response.status_code

        for gtin in gtins:
            barrier = threading.Barrier(2)
            threads = [
                threading.Thread(target=send, args=(one, gtin, MAKER_A, barrier)),
                threading.Thread(target=send, args=(two, gtin, MAKER_B, barrier)),
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        for gtin in gtins:
            codes = sorted(answers[(gtin, maker)] for maker in (MAKER_A, MAKER_B))
            assert codes == [201, 409], (gtin, codes)
            owner = one.get(f"/gtins/{gtin}").json()
            winner = next(m for m in (MAKER_A, MAKER_B) if answers[(gtin, m)] == 201)
            assert owner["manufacturer"] == winner and len(owner["history"]) == 1
        assert one.get("/healthz").json()["tree_size"] == len(gtins) + 2
    first.close()
    second.close()


def test_cli_doors(
    deployment: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    runtime = Runtime(deployment)
    setup_orgs(runtime)
    runtime.close()
    own, other = tmp_path / "own.json", tmp_path / "other.json"
    own.write_text(json.dumps(REQUEST))
    other.write_text(json.dumps(request_for(GTIN, MAKER_B)))
    argv = ["issue", "label", str(own), "--issuer", "gd-clc", "--out", str(tmp_path / "a")]
    assert main(argv) == 0
    capsys.readouterr()
    argv = ["issue", "label", str(other), "--issuer", "gd-cb2", "--out", str(tmp_path / "b")]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert "/product/gtin" in err and MAKER_A in err
    assert not (tmp_path / "b.json").exists()
    assert main(["gtin", "show", GTIN]) == 0
    assert json.loads(capsys.readouterr().out)["manufacturer"] == MAKER_A
    assert main(["gtin", "reassign", GTIN, "--manufacturer", MAKER_B, "--reason", REASON]) == 0
    assert f"now belongs to {MAKER_B}" in capsys.readouterr().out
    assert main(["gtin", "show", GTIN]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["manufacturer"] == MAKER_B
    assert shown["history"][-1]["issuer"].startswith("did:key:")  # the authority key
    assert main(["gtin", "reassign", GTIN, "--manufacturer", "nope", "--reason", REASON]) == 1
    assert "/manufacturer" in capsys.readouterr().err
    assert main(argv) == 0  # now gd-cb2 may label it for manufacturer B


def test_the_migration_binds_gtins_labelled_before_it(deployment: Settings) -> None:
    """A store labelled before gtin_assignments existed: the upgrade binds each GTIN to the
    manufacturer of its first label, and is idempotent."""
    import importlib.util

    from alembic import command

    from issuer.store import migrate as issuer_migrate
    from ledger.store.migrate import alembic_config

    path = issuer_migrate.MIGRATIONS / "versions" / "0004_gtin_assignments.py"
    spec = importlib.util.spec_from_file_location("gtin_migration", path)
    assert spec is not None and spec.loader is not None
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)

    runtime = Runtime(deployment)
    tokens = setup_orgs(runtime)
    with TestClient(create_app(deployment, runtime)) as client:
        assert client.post("/labels", json=REQUEST, headers=tokens["a"]).status_code == 201
        config = alembic_config(
            runtime.engine, issuer_migrate.MIGRATIONS, issuer_migrate.VERSION_TABLE
        )
        command.downgrade(config, migration.down_revision)  # the table is gone: a legacy store
        issuer_migrate.upgrade(runtime.engine)
        issuer_migrate.upgrade(runtime.engine)
        owner = client.get(f"/gtins/{GTIN}").json()
        assert owner["manufacturer"] == MAKER_A and len(owner["history"]) == 1
        taken = client.post("/labels", json=request_for(GTIN, MAKER_B), headers=tokens["b"])
        assert taken.status_code == 409

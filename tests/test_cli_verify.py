"""`carbonlabel verify` through main(argv): --local, --qr, --url online, then --offline."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from fastapi.testclient import TestClient

from app.cli import main
from app.main import create_app
from app.runtime import Runtime
from app.settings import Settings
from credentials.didkey import did_key_from_public_key

ROOT = Path(__file__).resolve().parent.parent


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture
def issued(deployment: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    assert main(["issuer", "add", "--slug", "gd-clc", "--name", "n",
                 "--uscc", "12440000MB2C401574"]) == 0  # fmt: skip
    out = tmp_path / "my-label"
    code, _, err = run(capsys, "issue", "label", str(ROOT / "examples/label.json"),
                       "--issuer", "gd-clc", "--out", str(out))  # fmt: skip
    assert code == 0, err
    return out


def test_verify_local_bundle_and_qr(issued: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "verify", str(issued.with_suffix(".json")), "--local")
    assert code == 0, err
    assert out.strip() == "genuine: verified"
    for check in ("structure", "proof", "issuer", "status", "validity", "log"):
        assert f"passed  {check}:" in err
    code, out, _ = run(capsys, "verify", "--qr", str(issued.with_suffix(".png")), "--local")
    assert code == 0 and "genuine" in out
    bundle = str(issued.with_suffix(".json"))
    assert run(capsys, "label", "revoke", bundle, "--reason", "study withdrawn")[0] == 0
    code, out, err = run(capsys, "verify", str(issued.with_suffix(".json")), "--local")
    assert code == 1 and out.strip() == "revoked: NOT verified"


def test_verify_offline_qr_image(
    deployment: Settings, issued: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bundle = json.loads(issued.with_suffix(".json").read_text())
    label_number = bundle["verifiableCredential"]["credentialSubject"]["labelNumber"]
    with TestClient(create_app(deployment)) as client:
        png = client.get(f"/labels/{label_number}/offline-qr.png").content
    image = tmp_path / "offline.png"
    image.write_bytes(png)
    code, out, err = run(capsys, "verify", "--qr", str(image), "--local")
    assert code == 0, err
    assert out.startswith("genuine (offline)") and label_number in out


@pytest.fixture
def server(deployment: Settings) -> Iterator[str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    public = f"http://127.0.0.1:{port}"
    settings = deployment.model_copy(update={"public_url": public})
    config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="error")
    instance = uvicorn.Server(config)
    thread = threading.Thread(target=instance.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not instance.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield public
    instance.should_exit = True
    thread.join(10)


def test_verify_url_online_then_offline(
    deployment: Settings,
    server: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("CARBONLABEL_PUBLIC_URL", server)
    assert main(["issuer", "add", "--slug", "gd-clc", "--name", "n",
                 "--uscc", "12440000MB2C401574"]) == 0  # fmt: skip
    out = tmp_path / "label"
    assert run(capsys, "issue", "label", str(ROOT / "examples/label.json"),
               "--issuer", "gd-clc", "--out", str(out))[0] == 0  # fmt: skip
    runtime = Runtime(deployment)
    authority = did_key_from_public_key(runtime.keystore.current("authority").public_key())
    runtime.close()
    cache = tmp_path / "cache"
    link = f"{server}/01/06923517001879"
    code, stdout, err = run(capsys, "verify", "--url", link, "--authority", authority,
                            "--cache", str(cache))  # fmt: skip
    assert code == 0, err
    assert stdout.strip() == "genuine: verified"
    # Offline: the saved bundle verifies from the cache alone (pinned authority remembered).
    code, stdout, err = run(capsys, "verify", str(out.with_suffix(".json")), "--offline",
                            "--cache", str(cache))  # fmt: skip
    assert code == 0, err
    assert "genuine" in stdout
    code, _, err = run(capsys, "verify", "--url", link, "--offline", "--cache", str(cache))
    assert code == 1 and "needs the network" in err
    # A wrong pinned authority refuses the trust list.
    other = did_key_from_public_key(runtime.keystore.current("log").public_key())
    code, _, err = run(capsys, "verify", "--url", link, "--authority", other,
                       "--cache", str(tmp_path / "other"))  # fmt: skip
    assert code == 1 and "trust list" in err

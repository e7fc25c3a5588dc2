"""The README's examples are real: its CLI walk-through and its curl lines both run."""

from __future__ import annotations

import json
import re
import shlex
import shutil
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient

from app.cli import main
from app.main import create_app
from app.settings import load_settings

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def block(name: str) -> list[str]:
    text = README.split(f"<!-- {name}:start -->")[1].split(f"<!-- {name}:end -->")[0]
    return [line for line in text.splitlines() if line.startswith(("carbonlabel ", "curl "))]


def expected_exit(line: str) -> int:
    match = re.search(r"#\s*exits (\d+)", line)
    return int(match.group(1)) if match else 0


def test_readme_names_the_two_commands() -> None:
    assert "make run" in README and "make test" in README


def test_readme_walkthrough_and_http_examples_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CARBONLABEL_DATA_DIR", str(tmp_path / "var-walkthrough"))
    monkeypatch.setenv("CARBONLABEL_KEYSTORE_PASSPHRASE", "choose a long passphrase")
    monkeypatch.delenv("CARBONLABEL_DATABASE_URL", raising=False)
    commands = block("walkthrough")
    assert len(commands) >= 8
    for line in commands:
        command = re.sub(r"\s+#.*$", "", line).strip()
        redirect = None
        if ">" in command:
            command, redirect = (part.strip() for part in command.split(">"))
        capsys.readouterr()
        assert main(shlex.split(command)[1:]) == expected_exit(line), line
        if redirect:
            Path(redirect).write_text(capsys.readouterr().out)
    assert Path("my-label.png").exists() and Path("receipt.json").exists()
    assert len(list(Path("my-batch").glob("*.png"))) >= 128

    tokens = json.loads((tmp_path / "var-walkthrough/demo-tokens.json").read_text())
    variables = {
        "$ISSUE_TOKEN": tokens["issue"],
        "$ADMIN_TOKEN": tokens["admin"],
        "$AUTHORITY_TOKEN": tokens["authority"],
    }
    label = json.loads(Path("my-label.json").read_text())["verifiableCredential"]
    variables["$LABEL"] = label["credentialSubject"]["labelNumber"]
    with TestClient(create_app(load_settings())) as client:
        for line in block("http"):
            args = shlex.split(line)
            method, headers, body, url = "GET", {}, None, None
            for i, arg in enumerate(args):
                if arg == "-X":
                    method = args[i + 1]
                elif arg == "-H":
                    name, value = args[i + 1].split(":", 1)
                    for var, real in variables.items():
                        value = value.replace(var, real)
                    headers[name.strip()] = value.strip()
                elif arg == "-d":
                    body = Path(args[i + 1].lstrip("@")).read_bytes()
                elif arg.startswith("http"):
                    url = arg.replace("$LABEL", variables["$LABEL"])
            assert url is not None
            parts = urlsplit(url)
            target = parts.path + (f"?{parts.query}" if parts.query else "")
            response = client.request(
                method, target, headers=headers, content=body, follow_redirects=False
            )
            assert response.status_code in (200, 201, 300, 307), (line, response.text[:300])
            if target == "/labels/batch":
                batch = json.loads(body or b"{}")["labels"]
                assert response.json()["issued"] == len(batch) > 0, response.text[:300]

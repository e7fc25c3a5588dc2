"""The README's walk-through is real: run its commands through main(argv)."""

from __future__ import annotations

import os
import re
import shlex
import shutil
from pathlib import Path

import pytest

from app.cli import main

ROOT = Path(__file__).resolve().parent.parent


def walkthrough_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text()
    block = readme.split("<!-- walkthrough:start -->")[1].split("<!-- walkthrough:end -->")[0]
    commands = []
    for line in block.splitlines():
        if line.startswith("carbonlabel "):
            commands.append(re.sub(r"\s+#.*$", "", line).strip())
    return commands


def test_readme_names_the_two_commands() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "make run" in readme and "make test" in readme


def test_readme_walkthrough_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CARBONLABEL_DATA_DIR", str(tmp_path / "var-walkthrough"))
    monkeypatch.setenv("CARBONLABEL_KEYSTORE_PASSPHRASE", "choose a long passphrase")
    monkeypatch.delenv("CARBONLABEL_DATABASE_URL", raising=False)
    commands = walkthrough_commands()
    assert len(commands) >= 6
    for command in commands:
        redirect = None
        if ">" in command:
            command, redirect = (part.strip() for part in command.split(">"))
        capsys.readouterr()
        assert main(shlex.split(command)[1:]) == 0, command
        if redirect:
            Path(redirect).write_text(capsys.readouterr().out)
    assert os.path.exists("receipt.json")

"""docker-compose.yml, the Makefile and .ci/run agree with the settings (no Docker engine here)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from app.settings import Settings

ROOT = Path(__file__).resolve().parent.parent


def compose() -> dict[str, object]:
    document = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert isinstance(document, dict)
    return document


def test_compose_runs_postgres_and_the_app_with_health_checks() -> None:
    services = compose()["services"]
    assert isinstance(services, dict)
    assert set(services) == {"db", "app"}
    db, app = services["db"], services["app"]
    assert str(db["image"]).startswith("postgres:")
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])
    assert app["depends_on"]["db"]["condition"] == "service_healthy"
    assert "/healthz" in " ".join(app["healthcheck"]["test"])
    assert app["ports"] == [f"{Settings().port}:{Settings().port}"]


def test_compose_environment_names_real_settings() -> None:
    app = compose()["services"]["app"]  # type: ignore[index]
    environment = app["environment"]
    known = {f"CARBONLABEL_{name.upper()}" for name in Settings.model_fields}
    assert set(environment) <= known, set(environment) - known
    db_env = compose()["services"]["db"]["environment"]  # type: ignore[index]
    url = environment["CARBONLABEL_DATABASE_URL"]
    assert url == (
        f"postgresql://{db_env['POSTGRES_USER']}:{db_env['POSTGRES_PASSWORD']}"
        f"@db:5432/{db_env['POSTGRES_DB']}"
    )
    assert environment["CARBONLABEL_PORT"] == str(Settings().port)
    settings = Settings(
        **{k.removeprefix("CARBONLABEL_").lower(): v for k, v in environment.items()}
    )
    assert settings.resolved_database_url == url


def test_dockerfile_runs_migrations_before_serving() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "carbonlabel log init && exec carbonlabel serve" in dockerfile


def test_ci_runs_make_test_with_postgres() -> None:
    script = (ROOT / ".ci/run").read_text()
    assert "make test" in script
    assert "CARBONLABEL_TEST_POSTGRES_URL" in script and "127.0.0.1:5432/test" in script


def test_settings_read_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CARBONLABEL_BATCH_SIZE", "17")
    monkeypatch.setenv("CARBONLABEL_DATA_DIR", "/tmp/x")
    settings = Settings()
    assert settings.batch_size == 17
    assert settings.resolved_database_url == "sqlite:////tmp/x/carbonlabel.db"


def test_readme_documents_every_setting() -> None:
    readme = (ROOT / "README.md").read_text()
    missing = [
        f"CARBONLABEL_{name.upper()}"
        for name in Settings.model_fields
        if f"CARBONLABEL_{name.upper()}" not in readme
    ]
    assert missing == [], f"README configuration table lacks {missing}"

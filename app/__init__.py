"""The composition root: settings, ``create_app()`` and the ``carbonlabel`` CLI."""

from app.cli import main
from app.main import create_app
from app.settings import Settings, load_settings

__all__ = ["Settings", "create_app", "load_settings", "main"]

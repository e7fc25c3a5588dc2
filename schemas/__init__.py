"""The carbon-label vocabulary (in progress)."""

__all__: list[str] = []

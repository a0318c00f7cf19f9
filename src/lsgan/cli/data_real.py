"""``lsgan data prepare|check``: real photo folders and AU tables (owned by the real-data layer)."""

import typer


def register(app: typer.Typer) -> None:
    """Add the real-data commands to the ``lsgan data`` sub-app."""

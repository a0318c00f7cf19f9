"""Top-level editing commands: ``lsgan demo``, ``edit``, ``estimate``, ``serve``, ``export``."""

import typer


def register(app: typer.Typer) -> None:
    """Add the editing commands to the root app."""

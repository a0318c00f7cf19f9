"""``lsgan train ...``: the training stages (owned by the training package)."""

import typer

app = typer.Typer(no_args_is_help=True)

"""The ``lsgan`` command: one Typer app with a sub-app per area (data, train, edit, ...)."""

from __future__ import annotations

import sys

import typer

from lsgan.cli import data as data_cli
from lsgan.cli import edit as edit_cli
from lsgan.cli import eval as eval_cli
from lsgan.cli import train as train_cli
from lsgan.cli import weights as weights_cli

app = typer.Typer(
    name="lsgan",
    help="Fine-grained facial expression manipulation (LSGAN, Xue et al. 2024).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(data_cli.app, name="data", help="Render SynthFACS, read and check face data sets.")
app.add_typer(train_cli.app, name="train", help="Train the LSGAN stages (smg, aae, aux, lsgan, all).")
app.add_typer(eval_cli.app, name="eval", help="Benchmark an editor (photos: real photographs).")
edit_cli.register(app)
weights_cli.register(app)


def main() -> None:
    from lsgan.errors import LsganError

    try:
        app()
    except LsganError as err:
        typer.secho(f"error: {err}", fg=typer.colors.RED, err=True)
        sys.exit(2)

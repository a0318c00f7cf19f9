"""``lsgan data ...``: SynthFACS rendering (this file) and the real-data commands (``data_real``)."""

import typer

from lsgan.cli import data_real

app = typer.Typer(no_args_is_help=True)
data_real.register(app)

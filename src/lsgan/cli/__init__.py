"""The ``lsgan`` command: one Typer app with a sub-app per area (data, train, edit, ...)."""

from __future__ import annotations

import errno
import logging
import sys

import typer

from lsgan.cli import data as data_cli
from lsgan.cli import edit as edit_cli
from lsgan.cli import eval as eval_cli
from lsgan.cli import reproduce as reproduce_cli
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
app.add_typer(eval_cli.app, name="eval", help="Evaluate models on SynthFACS test pairs (--models, --data), or an editor on real "
                                         "photographs (photos).")
edit_cli.register(app)
reproduce_cli.register(app)
weights_cli.register(app)


# OS errors that mean "this output cannot be written here", not "lsgan is broken": one error line, like LsganError.
# The write helpers (lsgan.atomic) already turn them into OutputError; this catches writers outside them
# (TensorBoard logs, loss logs).
OUTPUT_ERRNOS = frozenset({errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOSPC, errno.EDQUOT})


def main() -> None:
    from lsgan.errors import LsganError, os_error_message

    _show_warnings()
    try:
        app()
    except LsganError as err:
        _fail(str(err))
    except OSError as err:
        if err.errno not in OUTPUT_ERRNOS:
            raise
        _fail(os_error_message(err))


def _show_warnings() -> None:
    """lsgan's notices (``logging.getLogger("lsgan")``, e.g. an animated GIF's first frame only) as one
    ``warning: ...`` line each on stderr."""
    logger = logging.getLogger("lsgan")
    if not any(isinstance(handler, _StderrLines) for handler in logger.handlers):  # main() may run many times
        handler = _StderrLines(logging.WARNING)
        handler.setFormatter(logging.Formatter("warning: %(message)s"))
        logger.addHandler(handler)


class _StderrLines(logging.Handler):
    """Writes to whatever ``sys.stderr`` is at the time (tests capture it per run)."""

    def emit(self, record: logging.LogRecord) -> None:
        sys.stderr.write(self.format(record) + "\n")


def _fail(message: str) -> None:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    sys.exit(2)

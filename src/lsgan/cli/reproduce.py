"""``lsgan reproduce``: the paper's experiments (Tables 1-7) for lsgan, StarGAN, GANimation and the identity baseline,
both settings and the ablations, trained and evaluated with one resumable command (``lsgan.reproduce``)."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from lsgan.reproduce.plan import BUDGETS


def register(app: typer.Typer) -> None:
    app.command("reproduce")(reproduce)


def reproduce(
    budget: Annotated[str, typer.Option("--budget", help=f"One of {', '.join(BUDGETS)} (configs/budgets/), or a "
                                                         "budget YAML file.")] = "cpu-small",
    out: Annotated[Optional[Path], typer.Option("--out", help="Report folder (report.md, tables, figures, training "
                                                             "records; default: reports/<budget>).")] = None,
    runs: Annotated[Optional[Path], typer.Option("--runs", help="Run dirs of every trained network (default: "
                                                               "runs/reproduce-<budget>).")] = None,
    max_minutes: Annotated[Optional[float], typer.Option("--max-minutes", help="Stop training (checkpointed) after "
                                                         "this many minutes; run the same command again to go on.")
                           ] = None,
    photos: Annotated[Optional[Path], typer.Option("--photos", help="Real-photo folder for the real-photo table "
                                                   "(`lsgan data fetch photos`); default: its cache if fetched.")
                      ] = None,
    no_photos: Annotated[bool, typer.Option("--no-photos", help="Leave out the real-photo table.")] = False,
    limit: Annotated[Optional[int], typer.Option("--limit", help="Evaluate on at most this many test pairs.")] = None,
    configs: Annotated[Path, typer.Option("--configs", help="The configs folder (methods/, ablations/, budgets/).")
                       ] = Path("configs"),
    device: Annotated[str, typer.Option("--device", help="cpu or cuda (evaluation).")] = "cpu",
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Write the report again over the one in --out "
                                            "(evaluates every model again; trains nothing that is trained).")
                         ] = False,
) -> None:
    """Train everything the report needs (resumable, skipping what is trained), then write OUT/report.md (once:
    a finished run with its report says so; --overwrite writes it again)."""
    from lsgan.reproduce.runner import reproduce as run

    runs = runs or Path("runs") / f"reproduce-{Path(budget).stem}"
    out = out or Path("reports") / Path(budget).stem
    command = "lsgan " + " ".join(shlex.quote(arg) for arg in sys.argv[1:])
    result = run(budget, out, runs, configs=configs, max_minutes=max_minutes, photos=photos, no_photos=no_photos,
                 limit=limit, device=device, command=command, overwrite=overwrite)
    if not result.finished:
        typer.echo(f"stopped before the end of training (--max-minutes); run the same command again to go on "
                   f"(run dirs: {runs})")
    elif not result.written:
        typer.echo(f"report already written: {result.report} (--overwrite to write it again)")
    else:
        typer.echo(f"report: {result.report}")

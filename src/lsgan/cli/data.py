"""``lsgan data ...``: SynthFACS rendering (this file), the real-data commands (``data_real``) and fetching real
photos (``data_fetch``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from lsgan.cli import data_fetch, data_real

app = typer.Typer(no_args_is_help=True)
data_real.register(app)
data_fetch.register(app)


@app.command("synth")
def synth(
    out: Annotated[Path, typer.Option("--out", help="Folder for annotations.csv, images/, labels/, meta.json.")],
    identities: Annotated[int, typer.Option(help="Number of synthetic people (RaFD has 67).")] = 67,
    per_identity: Annotated[
        int, typer.Option(help="Images per person: ~half posed emotions, rest spontaneous AUs.")
    ] = 40,
    size: Annotated[int, typer.Option(help="Image side in pixels.")] = 128,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same bytes.")] = 0,
    au_scale: Annotated[int, typer.Option(help="1: AUs written on the 0-1 scale; 5: on DISFA's 0-5 scale.")] = 1,
    test_fraction: Annotated[float, typer.Option(help="Fraction of identities held out as the test split.")] = 0.2,
    workers: Annotated[int, typer.Option(help="Rendering processes (the output does not depend on it).")] = 1,
    yaw_range: Annotated[float, typer.Option(help="Each face turned by a yaw uniform in +-this many degrees "
                                                  "(at most 24).")] = 8.0,
) -> None:
    """Render the SynthFACS data set: faces with exact AU ground truth and label maps."""
    from lsgan.data.synthfacs import SynthConfig, write_dataset

    cfg = SynthConfig(
        out=out,
        identities=identities,
        per_identity=per_identity,
        size=size,
        seed=seed,
        au_scale=au_scale,
        test_fraction=test_fraction,
        workers=workers,
        yaw_range=yaw_range,
    )
    path = write_dataset(cfg)
    typer.echo(f"wrote {identities * per_identity} images to {path}")

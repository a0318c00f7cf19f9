"""``lsgan data prepare|check``: real photo folders and AU tables (owned by the real-data layer)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from lsgan.facs import AU_COLUMNS

if TYPE_CHECKING:  # the data modules import torch and mediapipe: loaded only when a command runs
    from lsgan.data.tables import Skipped, TableSummary

FORMAT_HELP = "synthfacs | folder (photos + AU CSV) | openface | rafd | disfa"
PATTERN_HELP = "OpenFace rows -> image names, e.g. 'frame_det_{face_id:02d}_{frame:06d}.bmp' (the default)."
SHOWN_SKIPPED = 10


def register(app: typer.Typer) -> None:
    """Add the real-data commands to the ``lsgan data`` sub-app."""
    app.command("prepare")(prepare)
    app.command("check")(check)


def prepare(
    src_dir: Annotated[Path, typer.Argument(help="Folder of face photos (RaFD, DISFA root, or any photos).")],
    out: Annotated[Path, typer.Option("--out", help="Output data set folder (SynthFACS layout).")],
    csv: Annotated[Path | None, typer.Option("--csv", help="AU table (plain CSV or OpenFace CSV).")] = None,
    data_format: Annotated[str | None, typer.Option("--format", help=f"{FORMAT_HELP}; guessed if left out.")] = None,
    size: Annotated[int, typer.Option("--size", help="Side of the aligned square crops.")] = 256,
    align: Annotated[bool, typer.Option("--align/--no-align", help="Off: the photos are already face crops.")] = True,
    au_scale: Annotated[float, typer.Option("--au-scale", help="Scale of the CSV's AU values: 1 or 5.")] = 1.0,
    pattern: Annotated[str | None, typer.Option("--pattern", help=PATTERN_HELP)] = None,
    frame_step: Annotated[int, typer.Option("--frame-step", help="DISFA: keep every n-th video frame.")] = 1,
    backend: Annotated[str, typer.Option("--backend", help="Face detector: auto | mediapipe | dlib.")] = "auto",
) -> None:
    """Detect, align and crop every photo into a training data set; bad photos are listed in skipped.csv."""
    from lsgan.config import from_dict
    from lsgan.data.prepare import PrepareConfig, prepare_dataset

    data = _data_settings(data_format or _guess_photo_kind(src_dir, csv), src_dir, csv, au_scale, pattern)
    data["disfa_frame_step"] = frame_step
    cfg = from_dict(PrepareConfig, {"data": data, "out": out, "align": align,
                                    "align_config": {"size": size, "backend": backend}}, where="lsgan data prepare")
    result = prepare_dataset(cfg)
    typer.echo(f"wrote {result.written} faces to {result.out}")
    _print_skipped(result.skipped, result.out / "skipped.csv")
    _print_unlisted(result.unlisted, src_dir)


def check(
    path: Annotated[Path, typer.Argument(help="Data set folder or AU table (CSV).")],
    data_format: Annotated[str | None, typer.Option("--format", help=f"{FORMAT_HELP}; guessed if left out.")] = None,
    images: Annotated[Path | None, typer.Option("--images", help="Image folder of a CSV (default: beside it).")] = None,
    au_scale: Annotated[float, typer.Option("--au-scale", help="Scale of a plain CSV's AU values: 1 or 5.")] = 1.0,
    pattern: Annotated[str | None, typer.Option("--pattern", help=PATTERN_HELP)] = None,
) -> None:
    """Validate a data set: counts per split / identity / emotion, AU ranges, and every bad file."""
    from lsgan.config import from_dict
    from lsgan.data.datasets import DataConfig, load_records, scan_records
    from lsgan.data.tables import guess_kind, openface_image_dir, summarize

    kind = data_format or guess_kind(path)
    table = path if path.is_file() else None
    if images is None:
        images = openface_image_dir(path) if kind == "openface" else path.parent if table else path
    cfg = from_dict(DataConfig, _data_settings(kind, images, table, au_scale, pattern), where="lsgan data check")
    loaded = load_records(cfg)
    records, bad_files = scan_records(loaded.records, min_size=cfg.min_image_size, with_labels=False, progress=True)
    typer.echo(f"{path} ({kind}): {len(records)} usable images")
    if records:
        _print_summary(summarize(records))
    bad = [*loaded.skipped, *bad_files]
    _print_skipped(bad, None)
    _print_unlisted(loaded.unlisted, images)
    if bad or not records:  # scripts can tell a clean data set from one with bad files
        raise typer.Exit(code=1)


def _data_settings(kind: str, root: Path, csv: Path | None, au_scale: float, pattern: str | None) -> dict:
    """``DataConfig`` fields from the command-line options (checked by ``config.from_dict``)."""
    settings = {"kind": kind, "root": root, "csv": csv, "au_scale": au_scale}
    return settings | ({"openface_pattern": pattern} if pattern else {})


def _guess_photo_kind(src_dir: Path, csv: Path | None) -> str:
    """RaFD / DISFA folders are recognised; anything else is photos + an AU table (OpenFace or plain)."""
    from lsgan.data.tables import guess_kind
    from lsgan.errors import DataError

    try:
        return guess_kind(src_dir)
    except DataError:
        return guess_kind(csv) if csv is not None else "folder"


def _print_summary(summary: TableSummary) -> None:
    typer.echo("split       images  identities")
    for split, count in summary.per_split.items():
        typer.echo(f"  {split:<9} {count:>6}  {summary.identities_per_split[split]:>10}")
    typer.echo("emotions: " + ", ".join(f"{name} {count}" for name, count in summary.per_emotion.items()))
    typer.echo(f"label maps: {summary.with_labels}/{summary.total}")
    typer.echo("AU      labelled    min   mean    max")
    for i, column in enumerate(AU_COLUMNS):
        typer.echo(f"  {column}  {summary.au_labelled[i]:>8}  {summary.au_min[i]:5.2f}  {summary.au_mean[i]:5.2f}"
                   f"  {summary.au_max[i]:5.2f}")


def _print_unlisted(unlisted: list[Path], folder: Path) -> None:
    """Photos in the folder that the AU table does not name (not used; maybe a row was forgotten)."""
    if not unlisted:
        return
    shown = ", ".join(path.name for path in unlisted[:SHOWN_SKIPPED]) + (" ..." if len(unlisted) > SHOWN_SKIPPED else "")
    typer.secho(f"{len(unlisted)} image(s) in {folder} are not in the AU table and were not used: {shown}",
                fg=typer.colors.YELLOW)


def _print_skipped(skipped: list[Skipped], listing: Path | None) -> None:
    """All of them, or the first few when they are also listed in a file."""
    if not skipped:
        typer.echo("no bad files")
        return
    where = f" (all listed in {listing})" if listing else ""
    typer.secho(f"{len(skipped)} skipped{where}:", fg=typer.colors.YELLOW)
    for item in skipped if listing is None else skipped[:SHOWN_SKIPPED]:
        typer.echo(f"  {item.file}: {item.reason}")

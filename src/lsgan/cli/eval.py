"""``lsgan eval ...``: benchmarks of an editor. ``photos``: real photographs (``lsgan.evaluation.photos``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from lsgan.cli.edit import DeviceOption, ModelOption

app = typer.Typer(no_args_is_help=True)
DEFAULT_EMOTIONS = "neutral,happy,sad,surprised,angry,fearful,disgusted,contemptuous"


@app.command("photos")
def photos(
    folder: Annotated[Path, typer.Argument(help="Folder of photos (a `lsgan data fetch photos` folder: its "
                                                "portraits/).")],
    emotions: Annotated[str, typer.Option("--emotions", help="Comma-separated target emotions.")] = DEFAULT_EMOTIONS,
    classifiers: Annotated[str, typer.Option("--classifiers", help="Expression classifiers that read the edits: "
                                                                   "faceapi,fer, or none.")] = "faceapi,fer",
    out: Annotated[Path, typer.Option("--out", help="Folder for report.md, results.csv, summary.json and "
                                                    "contact_sheet.png.")] = Path("photo-eval"),
    intensity: Annotated[float, typer.Option("--intensity", help="Emotion intensity, 0-1.")] = 1.0,
    model: ModelOption = None,
    device: DeviceOption = "cpu",
    progress: Annotated[bool, typer.Option("--progress/--no-progress", help="Show a progress bar.")] = True,
) -> None:
    """Edit every photo to every emotion and measure the edits: classifier reads, identity, detail, change outside
    the face, expression geometry, time. Every photo is counted (edited, or not with its reason)."""
    from lsgan.data.photos import benchmark_photos
    from lsgan.editing.editor import Editor
    from lsgan.evaluation.photo_report import write_report
    from lsgan.evaluation.photos import (
        BenchmarkInputError,
        load_classifiers,
        parse_classifier_names,
        parse_emotions,
        run_photo_benchmark,
        summarize,
    )
    from lsgan.facs import emotion_vector

    if not folder.is_dir():
        raise BenchmarkInputError(f"{folder}: no such folder")
    paths = benchmark_photos(folder)
    if not paths:
        raise BenchmarkInputError(f"{folder}: no photos (png, jpg, ...) in it")
    targets = parse_emotions(emotions)
    emotion_vector(targets[0], intensity)  # an intensity outside 0-1 fails here, before anything is loaded
    loaded = load_classifiers(parse_classifier_names(classifiers), device)
    editor = Editor.from_pretrained(model, device=device)
    with editor:
        result = run_photo_benchmark(editor, paths, targets, loaded, intensity=intensity,
                                     model=str(model) if model else "shipped model", progress=progress)
    summary = summarize(result)
    files = write_report(result, summary, out)
    typer.echo(files.report.read_text())
    typer.echo(f"wrote {files.report}, {files.results}, {files.summary}, {files.contact_sheet}")

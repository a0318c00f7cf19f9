"""``lsgan eval ...``: benchmarks. ``lsgan eval --models NAME=DIR ... --data ROOT``: model bundles and the identity
baseline on SynthFACS test pairs, Tables 1-3 (``lsgan.evaluation.models``); ``photos``: one editor on real
photographs (``lsgan.evaluation.photos``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from lsgan.cli.edit import (
    UPPER_FACE_GAIN_DEFAULT, CreasesOption, DeviceOption, ModelOption, MotionOption, UpperFaceGainOption,
)

# invoke_without_command: `lsgan eval --models ... --data ...` is the group's own callback; `lsgan eval photos`
# runs the subcommand (the callback then does nothing).
app = typer.Typer(no_args_is_help=True, invoke_without_command=True)
DEFAULT_EMOTIONS = "neutral,happy,sad,surprised,angry,fearful,disgusted,contemptuous"


@app.callback()
def evaluate(
    ctx: typer.Context,
    models: Annotated[Optional[list[str]], typer.Option(
        "--models", help="NAME=DIR, repeatable: a model bundle (or a run dir with bundle/) to evaluate. NAME is a "
                         "method or setting/method (e.g. paired/lsgan): one table per setting.")] = None,
    data: Annotated[Optional[Path], typer.Option("--data", help="SynthFACS folder: its test identities are "
                                                                "scored.")] = None,
    out: Annotated[Path, typer.Option("--out", help="Folder for report.md, the CSV tables, the figures and "
                                                    "summary.json.")] = Path("model-eval"),
    judge: Annotated[Optional[Path], typer.Option(
        "--judge", help="The independent AU judge: a `lsgan train judge` run dir or its judge.safetensors. Without "
                        "it, Table 1 is each model's own G_exp reading only.")] = None,
    photos: Annotated[Optional[Path], typer.Option("--photos", help="Photo folder: add the real-photo table "
                                                                    "(a `lsgan data fetch photos` folder).")] = None,
    limit: Annotated[Optional[int], typer.Option("--limit", min=2, help="Score the first N test pairs only.")] = None,
    device: DeviceOption = "cpu",
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace an earlier report in --out.")] = False,
    photo_emotions: Annotated[str, typer.Option("--photo-emotions", help="With --photos: comma-separated target "
                                                                         "emotions.")] = DEFAULT_EMOTIONS,
    classifiers: Annotated[str, typer.Option("--classifiers", help="With --photos: expression classifiers, "
                                                                   "faceapi,fer or none.")] = "faceapi,fer",
    progress: Annotated[bool, typer.Option("--progress/--no-progress", help="Show progress bars.")] = True,
    motion: Annotated[Optional[str], typer.Option(
        "--motion", help="Edit the pairs as `lsgan edit` edits a photo, with this motion (mesh, both or model), "
                         "instead of with the generator alone (the default).")] = None,
    creases: CreasesOption = False,
) -> None:
    """Evaluate model bundles and the identity baseline (the source unchanged) on the same SynthFACS test pairs:
    per-AU MSE/ICC read by an independent judge and by each model's own G_exp (Table 1), FID, KID, PSNR, SSIM,
    LPIPS and `along` against the rendered true target (Table 2), self-reconstruction and dlib identity distance
    (Table 3), optionally the real-photo benchmark; Markdown, CSV and figures."""
    from lsgan.evaluation.models import ModelEvalError, evaluate_models, parse_model_option

    if ctx.invoked_subcommand is not None:
        if models or data is not None:
            raise ModelEvalError(f"--models and --data are options of `lsgan eval` itself, not of `lsgan eval "
                                 f"{ctx.invoked_subcommand}`")
        return
    from lsgan.editing.editor import check_motion
    from lsgan.evaluation.photos import parse_classifier_names, parse_emotions

    if motion is not None:
        check_motion(motion)
    if creases and motion is None:
        raise ModelEvalError("--creases needs --motion (the generator alone has no mesh to shade)")
    if not models or data is None:
        raise ModelEvalError("give the models and the data: lsgan eval --models NAME=DIR [--models ...] --data ROOT "
                             "(or a subcommand: lsgan eval photos FOLDER)")
    named: dict[str, Path] = {}
    for text in models:
        name, folder = parse_model_option(text)
        if name in named:
            raise ModelEvalError(f"--models names {name!r} twice")
        named[name] = folder
    files = evaluate_models(named, data, out, judge, photos, limit, device, overwrite=overwrite,
                            photo_emotions=parse_emotions(photo_emotions),
                            classifiers=parse_classifier_names(classifiers), progress=progress, motion=motion,
                            creases=creases)
    typer.echo(files.report.read_text())
    typer.echo(f"wrote {files.report}, {files.summary}, {len(files.tables)} CSV tables and {len(files.figures)} "
               f"figures in {files.report.parent}")


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
    motion: MotionOption = "mesh",
    creases: CreasesOption = False,
    upper_face_gain: UpperFaceGainOption = UPPER_FACE_GAIN_DEFAULT,
    progress: Annotated[bool, typer.Option("--progress/--no-progress", help="Show a progress bar.")] = True,
) -> None:
    """Edit every photo to every emotion and measure the edits at every face: classifier reads, identity, detail,
    change outside the faces, expression geometry, time. Every photo is counted (edited, or not with its reason)."""
    from lsgan.data.photos import benchmark_photos
    from lsgan.editing.editor import Editor, check_motion, describe_motion
    from lsgan.evaluation.photo_report import write_report
    from lsgan.evaluation.photos import (
        BenchmarkInputError,
        load_classifiers,
        parse_classifier_names,
        parse_emotions,
        run_photo_benchmark,
        summarize,
    )
    from lsgan.facs import edit_vector

    if not folder.is_dir():
        raise BenchmarkInputError(f"{folder}: no such folder")
    paths = benchmark_photos(folder)
    if not paths:
        raise BenchmarkInputError(f"{folder}: no photos (png, jpg, ...) in it")
    targets = parse_emotions(emotions)
    edit_vector(targets[0], intensity)  # an intensity outside 0-1 fails here, before anything is loaded
    check_motion(motion)  # and so does an unknown --motion
    loaded = load_classifiers(parse_classifier_names(classifiers), device)
    editor = Editor.from_pretrained(model, device=device, motion=motion, creases=creases,
                                    upper_face_gain=upper_face_gain)
    with editor:
        how = describe_motion(motion, creases, upper_face_gain)
        result = run_photo_benchmark(editor, paths, targets, loaded, intensity=intensity,
                                     model=f"{model or 'shipped model'}, {how}",
                                     progress=progress)
    summary = summarize(result)
    files = write_report(result, summary, out)
    typer.echo(files.report.read_text())
    typer.echo(f"wrote {files.report}, {files.results}, {files.summary}, {files.contact_sheet}")

"""Top-level editing commands: ``lsgan demo``, ``edit``, ``estimate``, ``serve``, ``export onnx``.

Heavy imports (torch, gradio, onnx) happen inside the commands so ``lsgan --help`` stays fast.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from lsgan.editing.editor import Editor

ModelOption = Annotated[
    Path | None, typer.Option("--model", help="Model bundle folder (default: the model shipped with lsgan).")
]
DeviceOption = Annotated[str, typer.Option("--device", help="cpu or cuda.")]
NoAlignOption = Annotated[
    bool, typer.Option("--no-align", help="Inputs are already-cropped faces: resize to the model size and back.")
]

export_app = typer.Typer(no_args_is_help=True, help="Export the editor to other runtimes.")


def register(app: typer.Typer) -> None:
    """Add the editing commands to the root app."""
    app.command("demo")(demo)
    app.command("edit")(edit)
    app.command("estimate")(estimate)
    app.command("serve")(serve)
    export_app.command("onnx")(export_onnx)
    app.add_typer(export_app, name="export")


def _editor(model: Path | None, device: str, align: bool = True, batch_size: int = 16) -> Editor:
    from lsgan.editing.editor import Editor

    return Editor.from_pretrained(model, device=device, align=align, batch_size=batch_size)


def demo(
    out: Annotated[Path, typer.Option("--out", help="Folder for the demo grid and source faces.")] = Path("demo"),
    model: ModelOption = None,
    device: DeviceOption = "cpu",
    truth: Annotated[bool, typer.Option("--truth/--no-truth", help="Under each row, the rendered true targets.")] = True,
) -> None:
    """Edit a few unseen SynthFACS faces across the eight emotions and an AU12 sweep; write one grid."""
    from lsgan.editing.demo import DemoConfig, write_demo

    files = write_demo(_editor(model, device, align=False), out, DemoConfig(with_truth=truth))
    typer.echo(f"demo grid: {files.grid}")


def edit(
    source: Annotated[Path, typer.Argument(help="An image, or a folder of images (each is edited).")],
    aus: Annotated[str | None, typer.Option("--aus", help="AU settings, e.g. 12=0.8,6=0.6 (others keep the source's).")] = None,
    emotion: Annotated[str | None, typer.Option("--emotion", help="One of the eight emotions, e.g. happy.")] = None,
    intensity: Annotated[float | None, typer.Option("--intensity", help="Emotion intensity, 0-1 (default 1).")] = None,
    like: Annotated[Path | None, typer.Option("--like", help="Copy the expression (AUs) of this face.")] = None,
    steps: Annotated[int | None, typer.Option("--steps", min=2, help="Write a source->target sequence of N frames (PNGs + GIF, MP4 if possible).")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Output image (or folder for a folder source).")] = None,
    model: ModelOption = None,
    no_align: NoAlignOption = False,
    save_masks: Annotated[bool, typer.Option("--save-masks", help="Write the eye/mouth/part masks beside the result.")] = False,
    device: DeviceOption = "cpu",
    batch_size: Annotated[int, typer.Option("--batch-size", min=1, help="Images per forward pass.")] = 16,
) -> None:
    """Edit the expression of a face photo (or of every image in a folder)."""
    from lsgan.editing.files import EditJob, edit_file, edit_folder
    from lsgan.editing.targets import check_request
    from lsgan.errors import InputImageError

    check_request(aus, emotion, intensity, has_like=like is not None)  # fail before loading anything
    if not source.exists():
        raise InputImageError(f"{source}: no such file or folder")
    editor = _editor(model, device, align=not no_align, batch_size=batch_size)
    job = EditJob(editor.request(aus, emotion=emotion, intensity=intensity, like=like), steps, save_masks)
    if not source.is_dir():
        written = edit_file(editor, source, out, job)
        typer.echo(f"wrote {', '.join(map(str, written))}")
        return
    report = edit_folder(editor, source, out, job)
    total = len(report.edited) + len(report.failures)
    typer.echo(f"edited {len(report.edited)} of {total} images into {report.out_dir}")
    if report.failures:
        typer.secho(f"{len(report.failures)} image(s) failed:", fg=typer.colors.RED, err=True)
        for failure in report.failures:
            typer.echo(f"  {failure.message}", err=True)
        raise typer.Exit(1)


def estimate(
    images: Annotated[list[Path], typer.Argument(help="Face images.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON: {image: {AU01: value, ...}}.")] = False,
    model: ModelOption = None,
    no_align: NoAlignOption = False,
    device: DeviceOption = "cpu",
) -> None:
    """Print the 16 AU intensities (0-1) that G_exp sees in each image."""
    from lsgan.facs import AU_COLUMNS, AU_IDS, AU_NAMES

    values = _editor(model, device, align=not no_align).estimate(images)  # [N, 16]
    if as_json:
        table = {str(path): dict(zip(AU_COLUMNS, map(float, row))) for path, row in zip(images, values)}
        typer.echo(json.dumps(table, indent=2))
        return
    name_width = max(len(name) for name in AU_NAMES.values())
    typer.echo(f"{'AU':<5} {'name':<{name_width}} " + " ".join(f"{path.name:>12.12}" for path in images))
    for column, (au, row) in enumerate(zip(AU_IDS, values.T)):
        typer.echo(f"{AU_COLUMNS[column]:<5} {AU_NAMES[au]:<{name_width}} " + " ".join(f"{v:>12.3f}" for v in row))


def serve(
    host: Annotated[str, typer.Option("--host", help="Address to bind (127.0.0.1: this machine only; the page has no authentication, so any other address prints a warning).")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port")] = 7860,
    model: ModelOption = None,
    no_align: NoAlignOption = False,
    device: DeviceOption = "cpu",
    max_file_size: Annotated[str, typer.Option("--max-file-size", help="Largest upload, e.g. 10mb.")] = "10mb",
) -> None:
    """Serve the editing web page (AU sliders, emotion presets, masks, download) until Ctrl-C or SIGTERM.

    Uploads and results go to a private temporary folder, pruned while the page runs and removed when it stops."""
    from lsgan.editing.web import WebConfig
    from lsgan.editing.web import serve as serve_page

    serve_page(_editor(model, device, align=not no_align), WebConfig(host=host, port=port, max_file_size=max_file_size))


def export_onnx(
    out: Annotated[Path, typer.Option("--out", help="The .onnx file to write.")],
    model: ModelOption = None,
    opset: Annotated[int, typer.Option("--opset", help="ONNX opset (11-21).")] = 17,
) -> None:
    """Export edit(image, target_aus) -> (image, masks) to ONNX and check it against PyTorch with onnxruntime."""
    from lsgan.editing.export import ExportConfig
    from lsgan.editing.export import export_onnx as export

    editor = _editor(model, "cpu")
    report = export(editor.generator, editor.image_size, out, ExportConfig(opset=opset))
    typer.echo(f"wrote {report.path} (opset {report.opset}); onnxruntime vs torch max abs diff {report.max_abs_diff:.2e}")

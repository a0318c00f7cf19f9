"""Top-level editing commands: ``lsgan demo``, ``edit``, ``estimate``, ``serve``, ``export onnx``.

Heavy imports (torch, gradio, onnx) happen inside the commands so ``lsgan --help`` stays fast.
"""

from __future__ import annotations

import json
import os
import re
import socket
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from lsgan.editing.editor import Editor

ModelOption = Annotated[
    Path | None, typer.Option("--model", help="Model bundle folder (default: the model shipped with lsgan).")
]
DeviceOption = Annotated[str, typer.Option("--device", help="cpu or cuda.")]
MotionOption = Annotated[str, typer.Option(
    "--motion", help="Where an edit's geometry comes from: mesh (the AU mesh motion measured on SynthFACS with "
    "mediapipe's face mesh), both (that plus the model's field) or model (the model's field alone).")]
CreasesOption = Annotated[bool, typer.Option(
    "--creases/--no-creases", help="Also shade the folds the expression makes, as SynthFACS's renderer does "
    "(with the mesh motion; off by default: the folds come out as drawn lines).")]
UPPER_FACE_GAIN_DEFAULT = 1.3  # lsgan.editing.mesh_motion.UPPER_FACE_GAIN (not imported: --help stays fast)
UpperFaceGainOption = Annotated[float, typer.Option(
    "--upper-face-gain", help="With the mesh motion: how many times as strongly the brows' and lids' AUs (1, 2, 4, 5, "
    "6, 7, 9) act as SynthFACS's renderer moves them (1: as rendered; at most 1.6).")]
NoAlignOption = Annotated[
    bool, typer.Option("--no-align", help="Inputs are already-cropped faces: resize to the model size and back.")
]
FaceOption = Annotated[
    int | None, typer.Option("--face", help="Only this face of each image, numbered left to right from 0 "
                             "(lsgan estimate lists them); default: every face.")
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


MaxPixelsOption = Annotated[
    int, typer.Option("--max-pixels", min=1, help="Refuse images with more pixels (width x height) than this.")
]
MAX_PIXELS_DEFAULT = 50_000_000  # lsgan.data.images.DEFAULT_MAX_PIXELS (not imported: --help stays fast)


def _editor(model: Path | None, device: str, align: bool = True, batch_size: int = 16,
            max_pixels: int = MAX_PIXELS_DEFAULT, motion: str = "mesh", creases: bool = False,
            upper_face_gain: float = UPPER_FACE_GAIN_DEFAULT) -> Editor:
    from lsgan.editing.editor import Editor, check_motion

    check_motion(motion)  # an unknown --motion fails before the model loads (and the config checks the gain)
    return Editor.from_pretrained(model, device=device, align=align, batch_size=batch_size, max_pixels=max_pixels,
                                  motion=motion, creases=creases, upper_face_gain=upper_face_gain)


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
    aus: Annotated[str | None, typer.Option("--aus", help="AU settings, e.g. 12=0.8,6=0.6 (others keep the source's); a sign moves the face's own value: 12=+0.3,4=-0.2.")] = None,
    emotion: Annotated[str | None, typer.Option("--emotion", help="One of the eight emotions, e.g. happy.")] = None,
    intensity: Annotated[float | None, typer.Option("--intensity", help="Emotion intensity, or the share of a --like copy, "
                                                                      "0-1 (default 1).")] = None,
    like: Annotated[Path | None, typer.Option("--like", help="Copy the expression of this face (the change in AUs G_exp reads from "
                                              "the source to it, 1.5 times: G_exp reads photos low); a smirk or one raised brow is copied on its side "
                                              "(--side both: on both sides alike).")] = None,
    face: FaceOption = None,
    region: Annotated[str | None, typer.Option("--region", help="eyes or mouth: change only that region's AUs and pixels.")] = None,
    side: Annotated[str | None, typer.Option("--side", help="left or right: the edit acts on that side of the picture only (an emotion's other side at rest, otherwise as it was); both. Default: contemptuous on the left (FACS's one-sided contempt, the face's own right), a lopsided --like face on its sides, the rest on both.")] = None,
    glasses: Annotated[bool | None, typer.Option("--glasses/--no-glasses", help="Clear glasses: their frame stays still while the lids and brows move behind it. By default on the faces that seem to wear them (each named in a note); --glasses: on every edited face (with several faces, pick one with --face); --no-glasses: on none. Lenses dark enough to hide the eyes are kept either way.", show_default=False)] = None,
    steps: Annotated[int | None, typer.Option("--steps", help="Write a source->target sequence of N frames, 2-240 (PNGs + GIF, MP4 if possible).")] = None,
    out: Annotated[str | None, typer.Option("--out", help="Output image (.png, .jpg, .webp), or a folder (an existing one, or ending in /); a folder for a folder source.")] = None,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Allow the output to replace an input file.")] = False,
    model: ModelOption = None,
    no_align: NoAlignOption = False,
    save_masks: Annotated[bool, typer.Option("--save-masks", help="Write the eye/mouth/part masks beside the result.")] = False,
    device: DeviceOption = "cpu",
    motion: MotionOption = "mesh",
    creases: CreasesOption = False,
    upper_face_gain: UpperFaceGainOption = UPPER_FACE_GAIN_DEFAULT,
    batch_size: Annotated[int, typer.Option("--batch-size", min=1, help="Images per forward pass.")] = 16,
    max_pixels: MaxPixelsOption = MAX_PIXELS_DEFAULT,
) -> None:
    """Edit the expression of a face photo (or of every image in a folder)."""
    from lsgan.editing.editor import check_glasses
    from lsgan.editing.files import EditJob, edit_file, edit_folder, plan_file_output, plan_folder_output
    from lsgan.editing.targets import TargetRequest, check_region, check_request, check_side
    from lsgan.errors import InputImageError

    check_request(aus, emotion, intensity, has_like=like is not None)  # fail before loading anything
    check_region(region)
    check_side(side)
    check_glasses(glasses, align=not no_align)
    if face is not None and face < 0:
        raise InputImageError(f"--face must be 0 or more (faces are numbered left to right from 0), got {face}")
    if not source.exists():
        raise InputImageError(f"{source}: no such file or folder")
    out_path, into_folder = _output_option(out)
    plan = EditJob(TargetRequest(), steps, save_masks, overwrite=overwrite)  # checks steps
    if source.is_dir():
        plan_folder_output(source, out_path, plan, like=like)
    else:
        plan_file_output(source, out_path, plan, into_folder=into_folder, like=like)
    editor = _editor(model, device, align=not no_align, batch_size=batch_size, max_pixels=max_pixels, motion=motion,
                     creases=creases, upper_face_gain=upper_face_gain)
    request = editor.request(aus, emotion=emotion, intensity=intensity, like=like, region=region, side=side)
    job = EditJob(request, steps, save_masks, face=face, overwrite=overwrite, glasses=glasses)
    if not source.is_dir():
        report = edit_file(editor, source, out_path, job, into_folder=into_folder)
        for note in report.notes:
            typer.echo(f"note: {note}", err=True)
        typer.echo(f"wrote {', '.join(map(str, report.written))}")
        return
    report = edit_folder(editor, source, out_path, job)
    typer.echo(f"edited {len(report.edited)} of {report.total} images into {report.out_dir}")
    if report.failures:
        typer.secho(f"{len(report.failures)} image(s) failed:", fg=typer.colors.RED, err=True)
        for failure in report.failures:
            typer.echo(f"  {failure.message}", err=True)
    if report.stopped is not None:
        raise report.stopped  # one error line, exit 2 (the summary above says what was finished)
    if report.failures:
        raise typer.Exit(1)


def _output_option(out: str | None) -> tuple[Path | None, bool]:
    """``--out`` as a path, and whether it names a folder (``newdir/``: Path would drop the slash)."""
    if out is None:
        return None, False
    return Path(out), out.endswith(("/", os.sep)) or Path(out).is_dir()


def estimate(
    images: Annotated[list[Path], typer.Argument(help="Face images.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON: {image: [{face, box, aus: {AU01: value, ...}}]}.")] = False,
    face: FaceOption = None,
    model: ModelOption = None,
    no_align: NoAlignOption = False,
    device: DeviceOption = "cpu",
) -> None:
    """List the faces of each image (numbered left to right, with their boxes) and the 16 AU intensities (0-1)
    that G_exp sees in each (the median over 30 views around the face's crop, as every edit reads it)."""
    from lsgan.facs import AU_COLUMNS, AU_IDS, AU_NAMES

    editor = _editor(model, device, align=not no_align)
    photos = editor.prepare(images, face=face, glasses=False)
    for photo in photos:
        photo.faces.sort(key=lambda prepared: prepared.number)
    values = editor.estimate_faces(photos)  # [F, 16]
    columns = [(path, prepared) for path, photo in zip(images, photos) for prepared in photo.faces]
    notes = [note for photo in photos for note in photo.notes]
    if as_json:
        table: dict[str, list[dict]] = {}
        for (path, prepared), row in zip(columns, values):
            table.setdefault(str(path), []).append({
                "face": prepared.number, "box": _box(prepared), "aus": dict(zip(AU_COLUMNS, map(float, row)))})
        typer.echo(json.dumps(table, indent=2))
        return
    for path, prepared in columns:
        box = _box(prepared)
        where = "whole image" if box is None else "box x0={:.0f} y0={:.0f} x1={:.0f} y1={:.0f}".format(*box)
        typer.echo(f"{path}  face {prepared.number}: {where}")
    for note in notes:
        typer.echo(f"note: {note}")
    name_width = max(len(name) for name in AU_NAMES.values())
    headers = [f"{path.name[:9]}#{prepared.number}" for path, prepared in columns]
    typer.echo(f"{'AU':<5} {'name':<{name_width}} " + " ".join(f"{header:>12.12}" for header in headers))
    for column, (au, row) in enumerate(zip(AU_IDS, values.T)):
        typer.echo(f"{AU_COLUMNS[column]:<5} {AU_NAMES[au]:<{name_width}} " + " ".join(f"{v:>12.3f}" for v in row))


def _box(prepared) -> list[float] | None:
    """A prepared face's detector box [x0, y0, x1, y1] in photo pixels (None for a whole, unaligned image)."""
    return None if prepared.aligned is None else [round(float(v), 1) for v in prepared.aligned.box]


def serve(
    host: Annotated[str, typer.Option("--host", help="Address to bind (127.0.0.1: this machine only; the page has no authentication, so any other address prints a warning).")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535)] = 7860,
    model: ModelOption = None,
    no_align: NoAlignOption = False,
    device: DeviceOption = "cpu",
    motion: MotionOption = "mesh",
    creases: CreasesOption = False,
    upper_face_gain: UpperFaceGainOption = UPPER_FACE_GAIN_DEFAULT,
    max_file_size: Annotated[str, typer.Option("--max-file-size", help="Largest upload, e.g. 10mb, 500kb, 1gb.")] = "10mb",
    max_pixels: MaxPixelsOption = MAX_PIXELS_DEFAULT,
    kept_pixels: Annotated[int, typer.Option("--kept-pixels", min=0, help="Photo pixels kept in memory between edits, all tabs together (an upload over it is read again for each edit: a 48 MP photo some 9 s a slider move; 0 keeps none).")] = MAX_PIXELS_DEFAULT,
) -> None:
    """Serve the editing web page (AU sliders, emotion presets, masks, download) until Ctrl-C or SIGTERM.

    Uploads and results go to a private temporary folder, pruned while the page runs and removed when it stops."""
    check_file_size(max_file_size)
    check_port_free(host, port)  # before the model loads; gradio would print a traceback
    from lsgan.editing.web import WebConfig
    from lsgan.editing.web import serve as serve_page

    editor = _editor(model, device, align=not no_align, max_pixels=max_pixels, motion=motion, creases=creases,
                     upper_face_gain=upper_face_gain)
    serve_page(editor, WebConfig(host=host, port=port, max_file_size=max_file_size, kept_face_pixels=kept_pixels))


FILE_SIZE_UNITS = {"b": 1, "kb": 1024, "mb": 1024**2, "gb": 1024**3, "tb": 1024**4}  # gradio's FileSize


def check_file_size(text: str) -> int:
    """``10mb`` -> bytes (a whole number and b, kb, mb, gb or tb, as gradio reads it); ``LsganError`` else."""
    from lsgan.errors import LsganError

    match = re.fullmatch(r"(\d+)(b|kb|mb|gb|tb)", text.replace(" ", "").lower())
    if match is None or int(match[1]) == 0:
        raise LsganError(f"--max-file-size {text!r}: expected a whole number and a unit, e.g. 10mb, 500kb or 1gb")
    return int(match[1]) * FILE_SIZE_UNITS[match[2]]


def check_port_free(host: str, port: int) -> None:
    """``LsganError`` if ``host:port`` cannot be bound (in use, or an address not on this machine)."""
    from lsgan.errors import LsganError

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as err:
        raise LsganError(f"--host {host}: unknown address ({err.strerror})") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server binds: TIME_WAIT is no clash
        try:
            probe.bind(address)
        except OSError as err:
            raise LsganError(f"cannot serve on {host}:{port}: {err.strerror} (is another server using it? "
                             "choose another --port)") from None


def export_onnx(
    out: Annotated[Path, typer.Option("--out", help="The .onnx file to write.")],
    model: ModelOption = None,
    opset: Annotated[int, typer.Option("--opset", help="ONNX opset (11-21).")] = 17,
) -> None:
    """Export edit(image, target_aus, source_aus) -> (edited, masks, flow, colour) to ONNX, checked against
    PyTorch with onnxruntime; lsgan.editing.fields.apply_field applies flow and colour to a photo."""
    from lsgan.editing.export import ExportConfig
    from lsgan.editing.export import export_onnx as export

    editor = _editor(model, "cpu")
    report = export(editor.generator, editor.image_size, out, ExportConfig(opset=opset))
    typer.echo(f"wrote {report.path} (opset {report.opset}); onnxruntime vs torch max abs diff {report.max_abs_diff:.2e}")

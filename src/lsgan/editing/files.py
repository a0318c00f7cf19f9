"""Editing files on disk (what ``lsgan edit`` does): one image or a whole folder, with outputs named after the
sources, masks and sequences beside them. In a folder a failing image is reported and the others go on; an output
that cannot be written (disk full, read-only folder) stops the run, and the report says what was finished.

Inputs are never overwritten unless asked (``overwrite``): an output path that is a source (or the ``like`` face),
or a folder output that is the source folder, is refused before anything is read. Other existing files at the
output paths are replaced, as any editor's "save as" would.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image
from tqdm import tqdm

from lsgan.data.images import ImageExtras, output_format, read_extras, write_image
from lsgan.editing.editor import Editor, EditResult, PreparedPhoto
from lsgan.editing.outputs import MASK_NAMES, masks_to_rgb
from lsgan.editing.sequence import AnimationConfig, write_sequence
from lsgan.editing.targets import TargetRequest, check_steps
from lsgan.errors import InputImageError, LsganError, OutputError


@dataclass
class EditJob:
    request: TargetRequest
    steps: int | None = None  # a source -> target sequence of this many frames instead of a single edit
    save_masks: bool = False
    face: int | None = None  # edit only this face of each image (numbered left to right); None: every face
    glasses: bool | None = None  # whose clear glasses stay still: where found (None), every face, none (Editor.prepare)
    animation: AnimationConfig = field(default_factory=AnimationConfig)
    overwrite: bool = False  # allow writing over an input file

    def __post_init__(self) -> None:
        if self.steps is not None:
            check_steps(self.steps)


@dataclass
class Failure:
    source: Path
    message: str


@dataclass
class BatchReport:
    out_dir: Path
    total: int = 0  # images in the source folder
    edited: list[Path] = field(default_factory=list)  # sources done
    written: list[Path] = field(default_factory=list)  # files written
    failures: list[Failure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # faces left as they are, faces found in glasses: a line each
    stopped: OutputError | None = None  # an output could not be written: the run stopped there


def image_suffixes() -> set[str]:
    """File suffixes Pillow can open here (.png, .jpg, .webp, ...)."""
    return {suffix for suffix, fmt in Image.registered_extensions().items() if fmt in Image.OPEN}


def image_files(folder: Path) -> list[Path]:
    suffixes = image_suffixes()
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in suffixes)
    if not files:
        raise InputImageError(f"{folder}: no image files in this folder")
    return files


def default_output(source: Path) -> Path:
    """``photo.jpg`` -> ``photo_edited.png`` beside it; a folder ``faces`` -> ``faces_edited``."""
    if source.is_dir():
        return source.with_name(f"{source.name}_edited")
    return source.with_name(f"{source.stem}_edited.png")


def output_for(source: Path, out: Path | None, *, into_folder: bool = False) -> Path:
    """The result path of a single source file; ``out`` may be a file name, an existing folder, or a folder to
    create (``into_folder``: the user wrote ``--out newdir/``)."""
    if out is None:
        return default_output(source)
    return out / f"{source.stem}_edited.png" if into_folder or out.is_dir() else out


def plan_file_output(source: Path, out: Path | None, job: EditJob, *, into_folder: bool = False,
                     like: Path | None = None) -> Path:
    """Where ``edit_file`` will write; refuses an unknown image suffix and (without ``overwrite``) an input."""
    target = output_for(source, out, into_folder=into_folder)
    output_format(target)
    protect_inputs([target], [source, *([like] if like is not None else [])], job.overwrite)
    return target


def plan_folder_output(folder: Path, out_dir: Path | None, job: EditJob, *, like: Path | None = None) -> Path:
    """The output folder of ``edit_folder``; refuses (without ``overwrite``) the source folder or outputs that
    would replace a source."""
    out_dir = out_dir or default_output(folder)
    if not job.overwrite and _same_path(out_dir, folder):
        raise OutputError(f"{out_dir}: the output folder is the source folder, so its images would be overwritten; "
                          "choose another --out (or pass --overwrite)")
    sources = image_files(folder)
    outputs = [out_dir / name for name in folder_output_names(sources).values()]
    protect_inputs(outputs, [*sources, *([like] if like is not None else [])], job.overwrite)
    return out_dir


def protect_inputs(outputs: Iterable[Path], inputs: Iterable[Path], overwrite: bool) -> None:
    """``OutputError`` if any output is one of the inputs (same file after resolving links), unless ``overwrite``."""
    if overwrite:
        return
    inputs = list(inputs)
    for output in outputs:
        if any(_same_path(output, source) for source in inputs):
            raise OutputError(f"{output}: the output is an input file and would be overwritten; "
                              "choose another --out (or pass --overwrite)")


def _same_path(a: Path, b: Path) -> bool:
    if a.exists() and b.exists():
        return os.path.samefile(a, b)
    return a.resolve() == b.resolve()


def edit_file(editor: Editor, source: Path, out: Path | None, job: EditJob, *, into_folder: bool = False
              ) -> BatchReport:
    """Edit one image file; the report lists every file written and the faces left as they were."""
    target = plan_file_output(source, out, job, into_folder=into_folder)
    photo = editor.prepare(source, face=job.face, glasses=job.glasses)[0]
    report = BatchReport(target.parent, edited=[source], notes=list(photo.notes), total=1)
    report.written = _edit_and_write(editor, [photo], [target], job, [read_extras(source, photo.rgba)])
    return report


def folder_output_names(sources: Sequence[Path]) -> dict[Path, str]:
    """``<stem>.png`` per source; sources sharing a stem (``a.jpg``, ``a.png``) get ``<stem>_<ext>.png``."""
    stems = Counter(source.stem for source in sources)
    return {
        source: f"{source.stem}.png" if stems[source.stem] == 1 else f"{source.stem}_{source.suffix.lstrip('.')}.png"
        for source in sources
    }


def edit_folder(editor: Editor, folder: Path, out_dir: Path | None, job: EditJob, *, progress: bool = True) -> BatchReport:
    """Edit every image of ``folder`` into ``out_dir`` (``folder_output_names``), in batches of the editor's size.
    An output that cannot be written stops the run: ``report.stopped`` holds the error, the rest what was done."""
    out_dir = plan_folder_output(folder, out_dir, job)
    sources = image_files(folder)
    names = folder_output_names(sources)
    report = BatchReport(out_dir, total=len(sources))
    with tqdm(total=len(sources), unit="image", desc="editing", disable=not progress) as bar:
        for chunk in _chunks(sources, editor.config.batch_size):
            ready = _prepare_each(editor, chunk, job, report, bar)
            outputs = [out_dir / names[source] for source in ready]
            photos, extras = [photo for photo, _ in ready.values()], [extra for _, extra in ready.values()]
            try:
                for source, written in zip(ready, _edit_and_write_each(editor, photos, outputs, job, extras)):
                    report.written += written
                    report.edited.append(source)
            except OutputError as err:  # disk full, read-only folder: the next images would fail the same way
                report.stopped = err
                return report
            bar.update(len(chunk))
    return report


def _prepare_each(editor: Editor, sources: Sequence[Path], job: EditJob, report: BatchReport, bar: tqdm
                  ) -> dict[Path, tuple[PreparedPhoto, ImageExtras]]:
    ready: dict[Path, tuple[PreparedPhoto, ImageExtras]] = {}
    for source in sources:
        try:
            photo = editor.prepare(source, face=job.face, glasses=job.glasses)[0]
            ready[source] = photo, read_extras(source, photo.rgba)
            report.notes += photo.notes
            for note in photo.notes:
                bar.write(f"note: {note}")
        except LsganError as err:
            message = str(err) if str(source) in str(err) else f"{source}: {err}"
            report.failures.append(Failure(source, message))
            bar.write(f"failed: {message}")
    return ready


def _edit_and_write(editor: Editor, photos: list[PreparedPhoto], outputs: list[Path], job: EditJob,
                    extras: list[ImageExtras]) -> list[Path]:
    return [path for written in _edit_and_write_each(editor, photos, outputs, job, extras) for path in written]


def _edit_and_write_each(editor: Editor, photos: list[PreparedPhoto], outputs: list[Path], job: EditJob,
                         extras: list[ImageExtras]) -> Iterator[list[Path]]:
    """The files written for each photo in turn (single edits run as one batch, sequences one photo at a time);
    each edit keeps its source file's ``extras`` (colour profile, EXIF, alpha)."""
    if job.steps is not None:
        for photo, out, extra in zip(photos, outputs, extras):
            yield _write_sequence(editor, photo, out, job, extra)
        return
    result = editor.edit_faces(photos, job.request)
    for index, (out, extra) in enumerate(zip(outputs, extras)):
        yield _write_result(result, index, out, job.save_masks, extra)


def _write_sequence(editor: Editor, photo: PreparedPhoto, out: Path, job: EditJob, extras: ImageExtras
                    ) -> list[Path]:
    last: list[EditResult] = []

    def frames() -> Iterator[np.ndarray]:
        for chunk in editor.sequence_chunks(photo, job.request, job.steps):
            last[:] = [chunk]
            yield from chunk.images

    files = write_sequence(frames(), out.with_suffix(""), job.animation, extras)
    written = _write_result(last[0], len(last[0].images) - 1, out, job.save_masks, extras)
    return written + [files.gif, *([files.mp4] if files.mp4 else []), files.frames_dir]


def _write_result(result: EditResult, index: int, out: Path, save_masks: bool, extras: ImageExtras
                  ) -> list[Path]:
    written = [write_image(out, result.images[index], extras)]
    if save_masks:
        written += write_masks(result.photo_masks[index], out)
    return written


def write_masks(masks: np.ndarray, out: Path) -> list[Path]:
    """``<stem>_mask_eye.png`` etc. (grayscale, on the input photo: 0 where the model crop does not reach) and
    ``<stem>_masks.png`` (all three as RGB)."""
    stem = out.with_suffix("")
    picture = masks_to_rgb(masks)  # H×W×3 uint8
    written = [write_image(stem.with_name(f"{stem.name}_mask_{name}.png"), picture[:, :, channel])
               for channel, name in enumerate(MASK_NAMES)]
    return written + [write_image(stem.with_name(f"{stem.name}_masks.png"), picture)]


def _chunks(items: Sequence[Path], size: int) -> Iterator[Sequence[Path]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]

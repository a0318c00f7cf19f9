"""Editing files on disk (what ``lsgan edit`` does): one image or a whole folder, with outputs named after the
sources, masks and sequences beside them. In a folder a failing image is reported and the others go on."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image
from tqdm import tqdm

from lsgan.data.images import write_image
from lsgan.editing.editor import Editor, EditResult, PreparedPhoto
from lsgan.editing.outputs import MASK_NAMES, masks_to_rgb
from lsgan.editing.sequence import AnimationConfig, write_sequence
from lsgan.editing.targets import TargetRequest
from lsgan.errors import InputImageError, LsganError


@dataclass
class EditJob:
    request: TargetRequest
    steps: int | None = None  # a source -> target sequence of this many frames instead of a single edit
    save_masks: bool = False
    face: int | None = None  # edit only this face of each image (numbered left to right); None: every face
    animation: AnimationConfig = field(default_factory=AnimationConfig)


@dataclass
class Failure:
    source: Path
    message: str


@dataclass
class BatchReport:
    out_dir: Path
    edited: list[Path] = field(default_factory=list)  # sources done
    written: list[Path] = field(default_factory=list)  # files written
    failures: list[Failure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # faces found but not edited (too small), one line each


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


def output_for(source: Path, out: Path | None) -> Path:
    """The result path of a single source file; ``out`` may be a file name or an existing folder."""
    if out is None:
        return default_output(source)
    return out / f"{source.stem}_edited.png" if out.is_dir() else out


def edit_file(editor: Editor, source: Path, out: Path | None, job: EditJob) -> BatchReport:
    """Edit one image file; the report lists every file written and the faces left as they were."""
    out_path = output_for(source, out)
    photo = editor.prepare(source, face=job.face)[0]
    report = BatchReport(out_path.parent, edited=[source], notes=list(photo.notes))
    report.written = _edit_and_write(editor, [photo], [out_path], job)
    return report


def folder_output_names(sources: Sequence[Path]) -> dict[Path, str]:
    """``<stem>.png`` per source; sources sharing a stem (``a.jpg``, ``a.png``) get ``<stem>_<ext>.png``."""
    stems = Counter(source.stem for source in sources)
    return {
        source: f"{source.stem}.png" if stems[source.stem] == 1 else f"{source.stem}_{source.suffix.lstrip('.')}.png"
        for source in sources
    }


def edit_folder(editor: Editor, folder: Path, out_dir: Path | None, job: EditJob, *, progress: bool = True) -> BatchReport:
    """Edit every image of ``folder`` into ``out_dir`` (``folder_output_names``), in batches of the editor's size."""
    out_dir = out_dir or default_output(folder)
    sources = image_files(folder)
    names = folder_output_names(sources)
    report = BatchReport(out_dir)
    with tqdm(total=len(sources), unit="image", desc="editing", disable=not progress) as bar:
        for chunk in _chunks(sources, editor.config.batch_size):
            ready = _prepare_each(editor, chunk, job.face, report, bar)
            if ready:
                outputs = [out_dir / names[source] for source in ready]
                report.written += _edit_and_write(editor, list(ready.values()), outputs, job)
                report.edited += ready
            bar.update(len(chunk))
    return report


def _prepare_each(editor: Editor, sources: Sequence[Path], face: int | None, report: BatchReport, bar: tqdm
                  ) -> dict[Path, PreparedPhoto]:
    ready: dict[Path, PreparedPhoto] = {}
    for source in sources:
        try:
            ready[source] = photo = editor.prepare(source, face=face)[0]
            report.notes += photo.notes
            for note in photo.notes:
                bar.write(f"note: {note}")
        except LsganError as err:
            message = str(err) if str(source) in str(err) else f"{source}: {err}"
            report.failures.append(Failure(source, message))
            bar.write(f"failed: {message}")
    return ready


def _edit_and_write(editor: Editor, photos: list[PreparedPhoto], outputs: list[Path], job: EditJob) -> list[Path]:
    if job.steps is not None:
        return [path for photo, out in zip(photos, outputs) for path in _write_sequence(editor, photo, out, job)]
    result = editor.edit_faces(photos, job.request)
    return [path for index, out in enumerate(outputs) for path in _write_result(result, index, out, job.save_masks)]


def _write_sequence(editor: Editor, photo: PreparedPhoto, out: Path, job: EditJob) -> list[Path]:
    result = editor.sequence_face(photo, job.request, job.steps)
    files = write_sequence(result.images, out.with_suffix(""), job.animation)
    written = _write_result(result, len(result.images) - 1, out, job.save_masks)
    return written + [files.gif, *([files.mp4] if files.mp4 else []), files.frames_dir]


def _write_result(result: EditResult, index: int, out: Path, save_masks: bool) -> list[Path]:
    written = [write_image(out, result.images[index])]
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

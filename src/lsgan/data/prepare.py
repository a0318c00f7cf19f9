"""``lsgan data prepare``: turn a folder of real face photos + an AU table into a data set with the SynthFACS
on-disk layout (``annotations.csv``, ``images/``, ``labels/``, ``meta.json``), so training reads real and
synthetic data the same way. Each photo is aligned to the face template (or centre-cropped with
``align=False``), its label map is drawn from the face landmarks, and bad photos are skipped and listed in
``skipped.csv`` instead of stopping the run.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

import lsgan
from lsgan.atomic import write_text
from lsgan.config import to_dict
from lsgan.data.datasets import DataConfig, load_records
from lsgan.data.faces import AlignConfig, FaceAligner, landmarks_to_parsing
from lsgan.data.images import center_square, read_image, resize_image, write_image
from lsgan.data.tables import AURecord, Skipped, format_mask
from lsgan.errors import DataError, LsganError
from lsgan.facs import AU_COLUMNS

# The SynthFACS columns (docs/architecture.md), then this writer's extras.
ANNOTATION_COLUMNS: tuple[str, ...] = (
    "image", "labels", "identity", "split", "emotion", "intensity", *AU_COLUMNS,
    "yaw", "roll", "light_azimuth", "light_elevation", "seed",
    "au_mask", "identity_name", "source",
)


@dataclass
class PrepareConfig:
    """``data`` says what to read (its ``root`` is the photo folder); ``align_config.size`` is the output size."""

    data: DataConfig
    out: Path
    align: bool = True
    align_config: AlignConfig = field(default_factory=AlignConfig)


@dataclass
class PrepareResult:
    written: int
    skipped: list[Skipped]
    out: Path
    unlisted: list[Path] = field(default_factory=list)  # photos in the folder that the AU table does not name


@dataclass(frozen=True)
class _Face:
    crop: np.ndarray
    labels: np.ndarray | None


def prepare_dataset(cfg: PrepareConfig, *, progress: bool = True) -> PrepareResult:
    """Align every photo of the table into ``cfg.out``; bad photos go to ``skipped.csv``, never an exception."""
    if (cfg.out / "annotations.csv").exists():
        raise DataError(f"{cfg.out} already holds a data set; choose another --out or delete it")
    table = load_records(cfg.data)
    identity_ids = {name: i for i, name in enumerate(sorted({r.identity for r in table.records}))}
    skipped = list(table.skipped)
    rows: list[dict[str, str]] = []
    with FaceAligner.from_config(cfg.align_config) as aligner:
        for record in tqdm(table.records, desc="preparing faces", unit="img", disable=not progress):
            try:
                face = _prepare_face(record, aligner, cfg.align)
            except (LsganError, OSError, ValueError, cv2.error) as err:
                skipped.append(Skipped.from_error(record.image, err))
                continue
            rows.append(_write_face(cfg.out, len(rows), record, face, identity_ids[record.identity]))
    _write_csv(cfg.out / "skipped.csv", ("file", "reason"), [{"file": s.file, "reason": s.reason} for s in skipped])
    if not rows:
        raise DataError(f"{cfg.data.root}: no usable photos; the reasons are in {cfg.out / 'skipped.csv'}")
    _write_csv(cfg.out / "annotations.csv", ANNOTATION_COLUMNS, rows)
    _write_meta(cfg)
    return PrepareResult(written=len(rows), skipped=skipped, out=cfg.out, unlisted=table.unlisted)


def _prepare_face(record: AURecord, aligner: FaceAligner, align: bool) -> _Face:
    size = aligner.config.size
    if align:
        aligned = aligner.align(record.image)
        return _Face(aligned.crop, landmarks_to_parsing(aligned.landmarks, size))
    crop = resize_image(center_square(read_image(record.image)), size)
    faces = aligner.detect(crop)  # already a face crop: landmarks only for the label map, if any are found
    return _Face(crop, landmarks_to_parsing(faces[0].landmarks, size) if faces else None)


def _write_face(out: Path, index: int, record: AURecord, face: _Face, identity_id: int) -> dict[str, str]:
    stem = f"{index:06d}_{record.image.stem}"
    image_rel = f"images/{stem}.png"
    write_image(out / image_rel, face.crop)
    labels_rel = ""
    if face.labels is not None:
        labels_rel = f"labels/{stem}.png"
        write_image(out / labels_rel, face.labels)
    row = dict.fromkeys(ANNOTATION_COLUMNS, "")
    row.update({
        "image": image_rel, "labels": labels_rel, "identity": str(identity_id), "split": record.split,
        "emotion": record.emotion, "au_mask": format_mask(record.au_mask), "identity_name": record.identity,
        "source": str(record.image),
    })
    row.update({column: f"{value:.4f}" for column, value in zip(AU_COLUMNS, record.aus, strict=True)})
    return row


def _write_csv(path: Path, columns: Sequence[str], rows: Sequence[dict[str, str]]) -> None:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    write_text(path, buffer.getvalue())


def _write_meta(cfg: PrepareConfig) -> None:
    meta = {
        "version": lsgan.__version__,
        "kind": "prepared",
        "source": to_dict(cfg.data),
        "au_scale": 1,
        "image_size": cfg.align_config.size,
        "aligned": cfg.align,
        "align": to_dict(cfg.align_config),
    }
    write_text(cfg.out / "meta.json", json.dumps(meta, indent=2) + "\n")

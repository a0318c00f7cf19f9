"""Torch data sets: ``FaceAUDataset`` (one face image + AU labels per item) and ``UnpairedPairs`` (the paper's
unpaired (source, target) pairs), built from any AU table kind by ``build_dataset`` / ``dataset_from_config``.

Building scans every file once and skips (and reports) the bad ones, so a training run never dies halfway
through an epoch on a corrupt JPEG.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from torch.utils.data import Dataset
from tqdm import tqdm

from lsgan.data.images import DEFAULT_MIN_SIZE, center_square, read_image, read_label_map, resize_image, to_tensor
from lsgan.data.synthfacs.writer import SynthSettings
from lsgan.data.tables import (
    DEFAULT_TEST_FRACTION,
    OPENFACE_PATTERN,
    AURecord,
    Skipped,
    TableResult,
    read_disfa,
    read_openface_csv,
    read_plain_csv,
    read_rafd,
    read_synthfacs,
)
from lsgan.errors import DataError, LsganError
from lsgan.parsing import CLASS_INDEX, NUM_PARSING_CLASSES, PARSING_CLASSES

DataKind = Literal["synthfacs", "folder", "openface", "rafd", "disfa"]
DATA_KINDS: tuple[str, ...] = ("synthfacs", "folder", "openface", "rafd", "disfa")
SPLIT_CHOICES: tuple[str, ...] = ("train", "test", "all")


@dataclass
class DataSource:
    """Where a data set lives. ``csv`` is the AU table for ``folder`` (required), ``openface`` (required) and
    ``rafd`` (optional: without it RaFD gets weak emotion-prototype AUs)."""

    kind: DataKind = "synthfacs"
    root: Path = Path("data/synthfacs")
    csv: Path | None = None


@dataclass
class DataSection(DataSource):
    """The ``data:`` section of a training config: the data set; for SynthFACS the set to render into ``root`` when
    that does not exist (at the model's image size); unlabelled real faces for stage lsgan (with ``losses.real``)."""

    synth: SynthSettings = field(default_factory=SynthSettings)
    real: Path | tuple[Path, ...] | None = None  # a folder (or a list of folders) of real faces, unlabelled
    real_limit: int = 0  # use the first N images of ``real`` (0: all)


@dataclass
class DataConfig(DataSource):
    """Where a data set lives (``DataSource``) and how items are served."""

    image_size: int = 128
    split: Literal["train", "test", "all"] = "train"
    au_scale: float = 1.0  # scale of a folder/rafd CSV: 1 (0-1) or 5 (0-5); fixed by the format elsewhere
    with_labels: bool = False
    augment: bool = False
    strict: bool = False  # True: the first bad table row raises; False: skip and report it
    scan: bool = True  # decode every image once at build time and drop unreadable / too small ones
    min_image_size: int = DEFAULT_MIN_SIZE
    test_fraction: float = DEFAULT_TEST_FRACTION
    openface_pattern: str = OPENFACE_PATTERN
    rafd_angles: tuple[int, ...] | None = None
    disfa_frame_step: int = 1  # DISFA has ~4845 near-duplicate frames per subject: keep every n-th
    disfa_frames_dir: Path | None = None  # default root/Videos_LeftCamera


def load_records(cfg: DataConfig) -> TableResult:
    """Read the AU table of ``cfg.kind`` (all splits)."""
    root = Path(cfg.root)
    if cfg.kind == "synthfacs":
        return read_synthfacs(root, strict=cfg.strict)
    if cfg.kind == "folder":
        return read_plain_csv(_required_csv(cfg), image_root=root, scale=cfg.au_scale,
                              test_fraction=cfg.test_fraction, strict=cfg.strict)
    if cfg.kind == "openface":
        return read_openface_csv(_required_csv(cfg), image_dir=root, pattern=cfg.openface_pattern, strict=cfg.strict)
    if cfg.kind == "rafd":
        table = None
        if cfg.csv is not None:
            table = read_plain_csv(cfg.csv, image_root=root, scale=cfg.au_scale, strict=cfg.strict)
        return read_rafd(root, au_table=table, angles=cfg.rafd_angles, test_fraction=cfg.test_fraction)
    if cfg.kind == "disfa":
        return read_disfa(root, frames_dir=cfg.disfa_frames_dir, frame_step=cfg.disfa_frame_step,
                          test_fraction=cfg.test_fraction, strict=cfg.strict)
    raise DataError(f"unknown data kind {cfg.kind!r}: choose one of {', '.join(DATA_KINDS)}")


def _required_csv(cfg: DataConfig) -> Path:
    if cfg.csv is None:
        raise DataError(f"data kind {cfg.kind!r} needs an AU table: set csv (for {cfg.root})")
    return Path(cfg.csv)


def select_split(records: Sequence[AURecord], split: str) -> list[AURecord]:
    if split not in SPLIT_CHOICES:
        raise DataError(f"unknown split {split!r}: choose one of {', '.join(SPLIT_CHOICES)}")
    return list(records) if split == "all" else [r for r in records if r.split == split]


def scan_records(records: Sequence[AURecord], *, min_size: int, with_labels: bool,
                 progress: bool = False) -> tuple[list[AURecord], list[Skipped]]:
    """Decode every image (and label map) once; keep the usable records, report the rest."""
    good, skipped = [], []
    for record in tqdm(records, desc="checking images", unit="img", disable=not progress):
        try:
            read_image(record.image, min_size=min_size)
            if with_labels:
                _check_labels(record)
        except LsganError as err:
            skipped.append(Skipped.from_error(record.image, err))
            continue
        good.append(record)
    return good, skipped


def _check_labels(record: AURecord) -> None:
    if record.labels is None:
        raise DataError(f"{record.image}: no label map")
    read_label_map(record.labels, NUM_PARSING_CLASSES)


def _flip_lut() -> np.ndarray:
    """Label permutation for a horizontal flip: image-left classes become image-right ones."""
    lut = np.arange(NUM_PARSING_CLASSES, dtype=np.uint8)
    for name in PARSING_CLASSES:
        if name.startswith("left_"):
            partner = CLASS_INDEX["right_" + name.removeprefix("left_")]
            lut[CLASS_INDEX[name]], lut[partner] = partner, CLASS_INDEX[name]
    return lut


_FLIP_LUT = _flip_lut()


class FaceAUDataset(Dataset):
    """Items: ``image [3,S,S]`` float in [-1,1], ``aus [16]``, ``au_mask [16]`` (1 = labelled),
    ``identity`` (long index into ``self.identities``), ``labels [S,S]`` long (with ``with_labels``), ``path``.

    Non-square images are centre-cropped, then resized (label maps nearest-neighbour). Real photos should be
    aligned once beforehand (``lsgan data prepare``), not per item. ``augment`` flips horizontally (p=0.5),
    swapping the left/right parsing classes with the pixels."""

    def __init__(self, records: Sequence[AURecord], image_size: int, *, with_labels: bool = False,
                 augment: bool = False, identities: Sequence[str] | None = None,
                 report: Sequence[Skipped] = (), min_image_size: int = DEFAULT_MIN_SIZE) -> None:
        if not records:
            raise DataError("the data set has no usable images" + _first_reasons(report))
        if with_labels:
            unlabelled = next((r for r in records if r.labels is None), None)
            if unlabelled is not None:
                raise DataError(f"{unlabelled.image}: no label map, but the data set was asked for labels")
        self.records = list(records)
        self.image_size = image_size
        self.with_labels = with_labels
        self.augment = augment
        self.min_image_size = min_image_size
        self.identities = sorted({r.identity for r in self.records} if identities is None else identities)
        self._identity_index = {name: i for i, name in enumerate(self.identities)}
        self.report: list[Skipped] = list(report)

    def __len__(self) -> int:
        return len(self.records)

    def __getitem__(self, index: int) -> dict[str, Any]:
        record = self.records[index]
        image = resize_image(center_square(read_image(record.image, min_size=self.min_image_size)), self.image_size)
        labels = self._labels(record) if self.with_labels else None
        if self.augment and torch.rand(()) < 0.5:
            image = image[:, ::-1]
            labels = _FLIP_LUT[labels[:, ::-1]] if labels is not None else None
        item: dict[str, Any] = {
            "image": to_tensor(image),
            "aus": torch.from_numpy(record.aus.astype(np.float32)),
            "au_mask": torch.from_numpy(record.au_mask.astype(np.float32)),
            "identity": torch.tensor(self._identity_index[record.identity], dtype=torch.long),
            "path": str(record.image),
        }
        if labels is not None:
            item["labels"] = torch.from_numpy(np.ascontiguousarray(labels)).long()
        return item

    def _labels(self, record: AURecord) -> np.ndarray:
        labels = read_label_map(record.labels, NUM_PARSING_CLASSES)  # type: ignore[arg-type]
        return resize_image(center_square(labels), self.image_size, nearest=True)


def _first_reasons(report: Sequence[Skipped], count: int = 3) -> str:
    if not report:
        return ""
    shown = "; ".join(f"{s.file}: {s.reason}" for s in report[:count])
    return f" ({len(report)} skipped, e.g. {shown})"


class UnpairedPairs(Dataset):
    """(source, target) pairs as in the paper: item ``i`` is image ``i`` with a target drawn from a *different*
    random image. The target depends only on (seed, epoch, i), so it is the same in every worker and under
    ``DistributedSampler``; call ``set_epoch`` (before creating the loader iterator) for fresh pairs."""

    def __init__(self, dataset: Dataset, seed: int = 0) -> None:
        if len(dataset) < 2:  # type: ignore[arg-type]
            raise DataError("unpaired (source, target) pairs need at least 2 images")
        self.dataset = dataset
        self.seed = seed
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.dataset)  # type: ignore[arg-type]

    def target_index(self, index: int) -> int:
        offset = np.random.default_rng((self.seed, self.epoch, index)).integers(1, len(self))
        return (index + int(offset)) % len(self)

    def __getitem__(self, index: int) -> dict[str, Any]:
        return {"source": self.dataset[index], "target": self.dataset[self.target_index(index)]}


def dataset_from_config(cfg: DataConfig, *, progress: bool = False) -> FaceAUDataset:
    """Read, split, scan and wrap; skipped rows/files are in the returned data set's ``report``."""
    table = load_records(cfg)
    records = select_split(table.records, cfg.split)
    report = list(table.skipped)
    if cfg.scan:
        records, bad_files = scan_records(records, min_size=cfg.min_image_size, with_labels=cfg.with_labels,
                                          progress=progress)
        report += bad_files
    return FaceAUDataset(records, cfg.image_size, with_labels=cfg.with_labels, augment=cfg.augment, report=report,
                         min_image_size=cfg.min_image_size)


def build_dataset(kind: DataKind, root: str | Path, split: str = "train", image_size: int = 128,
                  **options: Any) -> FaceAUDataset:
    """``dataset_from_config`` with the common settings as arguments; ``options`` are other ``DataConfig``
    fields (``csv``, ``with_labels``, ``augment``, ``au_scale``, ...)."""
    names = set(DataConfig.__dataclass_fields__)
    unknown = sorted(set(options) - names)
    if unknown:
        raise DataError(f"unknown data option(s) {', '.join(unknown)}; known: {', '.join(sorted(names))}")
    cfg = DataConfig(kind=kind, root=Path(root), split=split, image_size=image_size, **options)  # type: ignore[arg-type]
    return dataset_from_config(cfg)

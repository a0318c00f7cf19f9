"""Unlabelled real faces for training: the largest face of every photo or video frame in a folder, aligned to the
model's crop the way editing aligns a photo (``FaceAligner``), kept as one uint8 array.

They carry no AU labels and no identities; training uses them for what needs neither (stage lsgan, ``data.real``):
a zero AU change must give the photo back, an edit of a real face must look real to the AUD, read as its target to
G_exp and cycle back to the photo. SynthFACS keeps what only it has: paired true targets.
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from tqdm import tqdm

from lsgan.data.faces import FaceAligner, FaceTemplate
from lsgan.data.images import read_image
from lsgan.data.tables import list_images
from lsgan.errors import DataError, LsganError

REAL_FACES = "real_faces.npz"  # a run dir's copy of data.real's faces, aligned once (training.pipeline)


@dataclass
class RealFaces:
    crops: np.ndarray  # [N, S, S, 3] uint8
    names: list[str]  # source file of each crop, relative to the folder
    skipped: list[str] = field(default_factory=list)  # "<file>: <why>" for files without a usable face
    made_from: dict = field(default_factory=dict)  # {"folder", "size", "limit", "template"}: what aligned them

    def to_bytes(self) -> bytes:
        """An .npz (plain arrays only, read back without pickle)."""
        buffer = io.BytesIO()
        np.savez(buffer, crops=self.crops, names=np.array(json.dumps(self.names)),
                 skipped=np.array(json.dumps(self.skipped)), made_from=np.array(json.dumps(self.made_from)))
        return buffer.getvalue()

    @classmethod
    def read(cls, path: Path) -> RealFaces:
        try:
            with np.load(path, allow_pickle=False) as data:
                return cls(data["crops"], json.loads(str(data["names"])), json.loads(str(data["skipped"])),
                           json.loads(str(data["made_from"])))
        except (OSError, ValueError, KeyError) as err:
            raise DataError(f"{path}: not a real-faces cache ({err}); delete it to align the faces again") from None


def real_folders(real: Path | Sequence[Path]) -> tuple[Path, ...]:
    """``data.real`` (one folder or several) as a tuple of folders, ``~`` expanded."""
    folders = (real,) if isinstance(real, (str, Path)) else tuple(real)
    if not folders:
        raise DataError("data.real is an empty list: give a folder of real faces, or several")
    return tuple(Path(folder).expanduser() for folder in folders)


def faces_root(folders: Sequence[Path]) -> Path:
    """The folder that ``RealFaces.names`` are relative to: the folder itself, or several folders' common parent."""
    return folders[0] if len(folders) == 1 else Path(os.path.commonpath([f.resolve() for f in folders]))


def align_folders(folders: Sequence[Path], size: int, *, limit: int = 0, progress: bool = True) -> RealFaces:
    """The largest face of each image under ``folders`` (in the order given, each folder's images sorted; the first
    ``limit`` images when > 0), aligned to ``size``×``size``; images without a face are listed in ``skipped``."""
    root = faces_root(folders).resolve()
    paths, names_of = [], {}
    for folder in folders:
        if not folder.is_dir():
            raise DataError(f"real faces folder not found: {folder} (data.real; `lsgan data fetch photos` makes one)")
        found = list_images(folder)
        if not found:
            raise DataError(f"{folder}: no images (data.real needs photos or video frames of real faces)")
        paths += found
        within = folder.resolve().relative_to(root)
        names_of |= {path: (within / path.relative_to(folder)).as_posix() for path in found}
    if limit > 0:
        paths = paths[:limit]
    crops, names, skipped = [], [], []
    with FaceAligner(size=size) as aligner:
        for path in tqdm(paths, desc="aligning real faces", unit="image", disable=not progress):
            name = names_of[path]
            try:
                crops.append(aligner.align(read_image(path), name=name).crop)
                names.append(name)
            except LsganError as err:
                skipped.append(str(err) if name in str(err) else f"{name}: {err}")
    if not crops:
        raise DataError(f"{', '.join(map(str, folders))}: no face found in any of {len(paths)} images")
    return RealFaces(np.stack(crops), names, skipped, made_from(folders, size, limit))


def made_from(folders: Sequence[Path], size: int, limit: int) -> dict:
    """What a cache of ``align_folders(folders, size, limit=limit)`` records, to tell whether it is still current."""
    return {"folders": [str(Path(folder).resolve()) for folder in folders], "size": size, "limit": limit,
            "template": asdict(FaceTemplate())}  # a new framing aligns them again

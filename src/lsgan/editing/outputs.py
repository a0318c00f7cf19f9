"""Writing results atomically: a file or folder appears complete or not at all, never half-written."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from lsgan.errors import LsganError

MASK_NAMES = ("eye", "mouth", "part")  # the channels of the generator's region masks


class OutputError(LsganError, OSError):
    """An output path that cannot be written (e.g. a folder where a file is expected)."""


@contextmanager
def atomic_file(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; it replaces ``path`` only if the block finishes."""
    path = Path(path)
    if path.is_dir():
        raise OutputError(f"{path} is a folder; expected a file name")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=path.suffix)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


@contextmanager
def atomic_folder(path: str | Path) -> Iterator[Path]:
    """Yield a temporary folder beside ``path``; it replaces ``path`` (and its old contents) only on success."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise OutputError(f"{path} is a file; expected a folder")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}."))
    try:
        yield tmp
        shutil.rmtree(path, ignore_errors=True)
        os.replace(tmp, path)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def masks_to_rgb(masks: np.ndarray) -> np.ndarray:
    """Region masks ``[H, W, 3]`` (eye, mouth, part; 0-1) as a uint8 picture: eye red, mouth green, part blue."""
    return np.clip(np.rint(masks * 255.0), 0, 255).astype(np.uint8)

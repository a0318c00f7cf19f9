"""Which lsgan modules a source file imports, read from its syntax tree: every import statement, the ones inside
functions included (a function-local import hides a dependency from an import test, not from this)."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"


def module_path(module: str) -> Path:
    """The file of a module under src/ (``lsgan.nets.pretrained`` -> src/lsgan/nets/pretrained.py)."""
    base = SRC.joinpath(*module.split("."))
    return base / "__init__.py" if base.is_dir() else base.with_suffix(".py")


def imported_modules(path: Path) -> set[str]:
    """Dotted names of everything ``path`` imports (``from a.b import c`` gives ``a.b`` and ``a.b.c``)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names |= {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def imports_any(path: Path, prefixes: tuple[str, ...]) -> list[str]:
    """The imports of ``path`` that are one of ``prefixes`` or inside one, sorted."""
    return sorted(n for n in imported_modules(path) if any(n == p or n.startswith(p + ".") for p in prefixes))

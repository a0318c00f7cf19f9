"""Loading a file of scripts/ as a module, as ``python scripts/NAME.py`` would run it, for its tests."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

import pytest

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"


def load_script(name: str) -> ModuleType:
    """scripts/``name``.py as the module ``name`` (registered in ``sys.modules`` while it loads, as dataclasses
    need; ``forget_script`` takes it out), its sibling scripts importable while it loads, as `python scripts/...`
    has them."""
    spec = importlib.util.spec_from_file_location(name, SCRIPTS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    sys.path.insert(0, str(SCRIPTS))
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(SCRIPTS))
    return module


def forget_script(name: str) -> None:
    sys.modules.pop(name, None)


def script_fixture(name: str) -> Callable[[], Iterator[ModuleType]]:
    """A module-scoped pytest fixture giving scripts/``name``.py loaded (``load_script``), forgotten afterwards."""

    @pytest.fixture(scope="module")
    def script() -> Iterator[ModuleType]:
        yield load_script(name)
        forget_script(name)

    return script

"""Typed configuration: dataclasses loaded from (and saved to) YAML, with dotted command-line overrides.

Each module owns the dataclass of its own settings; this file only knows how to move them to and from YAML.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
import types
import typing
from pathlib import Path
from typing import Any, TypeVar

import yaml

from lsgan.errors import LsganError

T = TypeVar("T")


class ConfigError(LsganError, ValueError):
    """A YAML file or override that does not fit the configuration dataclass."""


def _convert(tp: Any, value: Any, where: str) -> Any:
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: expected a mapping, got {value!r}")
        return from_dict(tp, value, where)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        errors = []
        for arg in (a for a in args if a is not type(None)):
            try:
                return _convert(arg, value, where)
            except ConfigError as err:
                errors.append(str(err))
        raise ConfigError("; ".join(errors))
    if origin is typing.Literal:
        if value not in args:
            raise ConfigError(f"{where}: {value!r} is not one of {args}")
        return value
    if origin in (tuple, list):
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{where}: expected a list, got {value!r}")
        if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
            return tuple(_convert(args[0], v, f"{where}[{i}]") for i, v in enumerate(value))
        if origin is tuple and args:
            if len(args) != len(value):
                raise ConfigError(f"{where}: expected {len(args)} items, got {len(value)}")
            return tuple(_convert(a, v, f"{where}[{i}]") for i, (a, v) in enumerate(zip(args, value)))
        inner = args[0] if args else Any
        return origin(_convert(inner, v, f"{where}[{i}]") for i, v in enumerate(value))
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: expected a mapping, got {value!r}")
        kt, vt = args if args else (Any, Any)
        return {_convert(kt, k, where): _convert(vt, v, f"{where}.{k}") for k, v in value.items()}
    if tp is Any:
        return value
    if tp is float and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if tp is int and isinstance(value, int) and not isinstance(value, bool):
        return value
    if tp is bool and isinstance(value, bool):
        return value
    if tp is str and isinstance(value, str):
        return value
    if tp is Path and isinstance(value, (str, Path)):
        return Path(value)
    raise ConfigError(f"{where}: expected {getattr(tp, '__name__', tp)}, got {value!r}")


def from_dict(cls: type[T], data: dict[str, Any], where: str = "config") -> T:
    """Build dataclass ``cls`` from a plain mapping, checking names and types; missing keys keep defaults."""
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise ConfigError(f"{where}: unknown setting(s) {', '.join(unknown)}; known: {', '.join(fields)}")
    kwargs = {name: _convert(hints[name], value, f"{where}.{name}") for name, value in data.items()}
    try:
        return cls(**kwargs)
    except ConfigError as err:  # a __post_init__ check: its message starts with the setting's name
        raise ConfigError(f"{where}.{err}") from None


def check_min(obj: Any, minimum: float, *names: str) -> None:
    """``ConfigError`` naming the first of ``names`` whose value is below ``minimum`` (or NaN); for the config
    dataclasses' ``__post_init__``, so every way of building one (YAML, --set, code) is checked the same."""
    for name in names:
        value = getattr(obj, name)
        if not value >= minimum:
            raise ConfigError(f"{name} must be at least {minimum:g}, got {value!r}")


def check_positive(obj: Any, *names: str) -> None:
    """``ConfigError`` naming the first of ``names`` that is not a finite number above 0."""
    for name in names:
        value = getattr(obj, name)
        if not 0 < value < float("inf"):
            raise ConfigError(f"{name} must be a finite number above 0, got {value!r}")


def check_fraction(obj: Any, *names: str, closed: bool = False) -> None:
    """``ConfigError`` naming the first of ``names`` outside [0, 1) ([0, 1] with ``closed``)."""
    for name in names:
        value = getattr(obj, name)
        if not (0 <= value <= 1 if closed else 0 <= value < 1):
            raise ConfigError(f"{name} must be in [0, {'1]' if closed else '1)'}, got {value!r}")


def to_dict(obj: Any) -> Any:
    """A dataclass as plain YAML-friendly data (tuples become lists, paths strings)."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: to_dict(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, (list, tuple)):
        return [to_dict(v) for v in obj]
    if isinstance(obj, dict):
        return {k: to_dict(v) for k, v in obj.items()}
    if isinstance(obj, Path):
        return str(obj)
    return obj


def apply_overrides(data: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """Apply ``a.b.c=value`` overrides (value parsed as YAML) to a nested mapping, in place."""
    for item in overrides:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise ConfigError(f"bad override {item!r}: expected key.path=value")
        node = data
        *parents, leaf = key.strip().split(".")
        for part in parents:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ConfigError(f"bad override {item!r}: {part} is not a section")
        node[leaf] = yaml.safe_load(raw)
    return data


EXTENDS_KEY = "extends"


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """``override`` laid over ``base``: mappings merge key by key (recursively), anything else replaces."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def read_yaml_config(path: str | Path, _chain: tuple[Path, ...] = ()) -> dict[str, Any]:
    """A YAML config file as a mapping, with its ``extends: other.yaml`` (a path relative to the file) resolved:
    the other file is read first (its own ``extends`` too) and this one deep-merged over it."""
    path = Path(path)
    if path.resolve() in _chain:
        names = " -> ".join(str(p) for p in (*_chain, path.resolve()))
        raise ConfigError(f"{path}: {EXTENDS_KEY} goes round in a circle ({names})")
    if not path.is_file():
        extended_by = f" ({EXTENDS_KEY} of {_chain[-1]})" if _chain else ""
        raise ConfigError(f"config file not found: {path}{extended_by}")
    try:
        loaded = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: not valid YAML: {err}") from None
    if not isinstance(loaded, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    parent = loaded.pop(EXTENDS_KEY, None)
    if parent is None:
        return loaded
    if not isinstance(parent, str) or not parent:
        raise ConfigError(f"{path}: {EXTENDS_KEY} must be the path of another YAML file, got {parent!r}")
    return deep_merge(read_yaml_config(path.parent / parent, (*_chain, path.resolve())), loaded)


def load_config(cls: type[T], path: str | Path | None = None, overrides: list[str] | None = None,
                overlays: Sequence[str | Path] = ()) -> T:
    """Load ``cls`` from a YAML file (or defaults when ``path`` is None; ``extends`` chains resolved, see
    ``read_yaml_config``), deep-merge each overlay YAML file over it in order (e.g. a reproduce budget), then apply
    dotted overrides."""
    data = read_yaml_config(path) if path is not None else {}
    for overlay in overlays:
        data = deep_merge(data, read_yaml_config(overlay))
    apply_overrides(data, list(overrides or []))
    where = " + ".join(str(p) for p in ([path] if path else []) + list(overlays)) or cls.__name__
    return from_dict(cls, data, where=where)


def save_config(obj: Any, path: str | Path) -> None:
    """``obj`` as YAML, every setting written out (no ``extends``): the file alone says what was run."""
    from lsgan.atomic import write_text

    write_text(path, yaml.safe_dump(to_dict(obj), sort_keys=False))

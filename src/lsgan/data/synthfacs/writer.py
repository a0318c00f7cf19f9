"""Write a SynthFACS data set (``lsgan data synth``) in the on-disk format of docs/architecture.md, and
re-render any of its rows (``render_row``) - evaluation uses that to draw the true target of an edit."""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterator, Mapping
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image
from tqdm import tqdm

from lsgan.atomic import os_errors_as_output_errors
from lsgan.config import ConfigError, check_fraction, check_min
from lsgan.data.synthfacs.expressions import (
    MAX_YAW_RANGE,
    YAW_RANGE,
    Expression,
    expression_for_index,
    sample_pose_light,
)
from lsgan.data.synthfacs.frame import Pose
from lsgan.data.synthfacs.identity import sample_identity
from lsgan.data.synthfacs.renderer import Render, render
from lsgan.data.synthfacs.shading import Light
from lsgan.errors import DataError
from lsgan.facs import AU_COLUMNS, NUM_AUS

FORMAT_VERSION = 4  # 2: FACS-apex AUs (6, 7, 9, 10, 12, 14, 17, 23, 4, 26), skin detail, T-zone shine;
# 3: AU12 and AU25 calibrated to a real smile's apex (wider smile, lips part more, a smile with parted lips
# retracts the upper lip off the teeth), lips never thinner than 0.2 of their own; 4: FACS 1+4 (AU1 holds the inner
# brow up against AU4: sadness's and fear's oblique brows)
LEADING_COLUMNS: tuple[str, ...] = (
    "image",
    "labels",
    "identity",
    "split",
    "emotion",
    "intensity",
    *AU_COLUMNS,
    "yaw",
    "roll",
    "light_azimuth",
    "light_elevation",
    "seed",
)
EXTRA_COLUMNS: tuple[str, ...] = ("unilateral", "expression")  # side of one-sided AUs; "posed"/"spontaneous"
COLUMNS = LEADING_COLUMNS + EXTRA_COLUMNS
META_CONFIG_KEYS: tuple[str, ...] = ("identities", "per_identity", "size", "seed", "au_scale", "test_fraction",
                                     "yaw_range")
MIN_SIZE, MAX_SIZE = 16, 1024


@dataclass(frozen=True)
class SynthSettings:
    """What a SynthFACS set holds, wherever and at whatever size it is rendered; also the ``data.synth`` section of a
    training config, which renders the set at the model's size into ``data.root`` when that does not exist."""

    identities: int = 67  # RaFD's
    per_identity: int = 40
    seed: int = 0
    test_fraction: float = 0.2  # share of the identities held out as the test split
    workers: int = 1  # rendering processes (the output does not depend on it)
    yaw_range: float = YAW_RANGE  # degrees: each face turned by a yaw uniform in +-this (at most MAX_YAW_RANGE)

    def __post_init__(self) -> None:
        check_min(self, 1, "identities", "per_identity", "workers")
        check_min(self, 0, "seed", "yaw_range")
        check_fraction(self, "test_fraction")
        if self.yaw_range > MAX_YAW_RANGE:
            raise ConfigError(f"yaw_range must be at most {MAX_YAW_RANGE:g} degrees, got {self.yaw_range!r}")


@dataclass(frozen=True)
class SynthConfig(SynthSettings):
    """Settings of ``lsgan data synth``: the set (``SynthSettings``), where it goes and its image size."""

    out: Path = Path("data/synthfacs")
    size: int = 128
    au_scale: int = 1  # 1: AUs written 0-1; 5: written 0-5 (DISFA/OpenFace convention), recorded in meta.json

    def __post_init__(self) -> None:
        super().__post_init__()
        if not MIN_SIZE <= self.size <= MAX_SIZE:
            raise ConfigError(f"size must be {MIN_SIZE}-{MAX_SIZE} pixels, got {self.size}")
        if self.au_scale not in (1, 5):
            raise ConfigError(f"au_scale must be 1 or 5, got {self.au_scale}")


@dataclass(frozen=True)
class Task:
    """One image to render: everything needed, so workers are stateless and output is independent of their count."""

    identity: int
    index: int
    split: str
    expression: Expression
    pose: Pose
    light: Light
    seed: int


def held_out_identities(cfg: SynthSettings) -> set[int]:
    """Identities held out for testing: a seeded random ``test_fraction`` of them (at least one when > 0)."""
    if cfg.test_fraction <= 0 or cfg.identities < 2:
        return set()
    count = min(cfg.identities - 1, max(1, round(cfg.identities * cfg.test_fraction)))
    order = np.random.default_rng([cfg.seed, 0x5E]).permutation(cfg.identities)
    return {int(i) for i in order[:count]}


def plan(cfg: SynthConfig) -> Iterator[Task]:
    held_out = held_out_identities(cfg)
    for identity in range(cfg.identities):
        for index in range(cfg.per_identity):
            rng = np.random.default_rng([cfg.seed, identity, index, 0xE7])
            expression = expression_for_index(index, cfg.per_identity, rng)
            pose, light = sample_pose_light(rng, cfg.yaw_range)
            split = "test" if identity in held_out else "train"
            yield Task(identity, index, split, expression, pose, light, cfg.seed)


def _format(value: float) -> str:
    return repr(float(value))


def _render_and_save(args: tuple[Task, SynthConfig]) -> dict[str, str]:
    task, cfg = args
    identity = sample_identity(task.identity, task.seed)
    out = render(identity, task.expression.aus, cfg.size, task.pose, task.light, task.expression.unilateral)
    name = f"{task.identity:03d}_{task.index:04d}.png"
    Image.fromarray(out.image).save(cfg.out / "images" / name, optimize=False)
    Image.fromarray(out.labels).save(cfg.out / "labels" / name, optimize=False)
    row = {
        "image": f"images/{name}",
        "labels": f"labels/{name}",
        "identity": str(task.identity),
        "split": task.split,
        "emotion": "" if task.expression.emotion == "spontaneous" else task.expression.emotion,
        "intensity": _format(task.expression.intensity),
        **{col: _format(round(float(v) * cfg.au_scale, 6)) for col, v in zip(AU_COLUMNS, task.expression.aus)},
        "yaw": _format(task.pose.yaw),
        "roll": _format(task.pose.roll),
        "light_azimuth": _format(task.light.azimuth),
        "light_elevation": _format(task.light.elevation),
        "seed": str(task.seed),
        "unilateral": task.expression.unilateral or "",
        "expression": "spontaneous" if task.expression.emotion == "spontaneous" else "posed",
    }
    return row


def write_dataset(cfg: SynthConfig, progress: bool = True) -> Path:
    """Render the whole data set into ``cfg.out``; returns the folder. Same config -> same bytes."""
    with os_errors_as_output_errors(cfg.out):
        return _write_dataset(cfg, progress)


def _write_dataset(cfg: SynthConfig, progress: bool) -> Path:
    out = Path(cfg.out)
    (out / "images").mkdir(parents=True, exist_ok=True)
    (out / "labels").mkdir(parents=True, exist_ok=True)
    cfg = SynthConfig(**{**asdict(cfg), "out": out})
    tasks = [(task, cfg) for task in plan(cfg)]
    bar = tqdm(total=len(tasks), desc="SynthFACS", unit="img", disable=not progress)
    with (out / "annotations.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        for row in _map(_render_and_save, tasks, cfg.workers):
            writer.writerow(row)
            bar.update()
    bar.close()
    meta = {
        "format": "synthfacs",
        "version": FORMAT_VERSION,
        "seed": cfg.seed,
        "size": cfg.size,
        "au_scale": cfg.au_scale,
        "identities": cfg.identities,
        "per_identity": cfg.per_identity,
        "test_identities": sorted(held_out_identities(cfg)),
        "columns": list(COLUMNS),
        "config": {key: getattr(cfg, key) for key in META_CONFIG_KEYS},
    }
    (out / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
    return out


def _map(fn, items: list, workers: int) -> Iterator:
    """Ordered map, in-process or over a process pool (order, hence the CSV, never depends on ``workers``)."""
    if workers <= 1:
        yield from map(fn, items)
        return
    with ProcessPoolExecutor(max_workers=workers) as pool:
        yield from pool.map(fn, items, chunksize=8)


def render_row(
    row: Mapping[str, Any], meta: Mapping[str, Any], size: int | None = None, aus: np.ndarray | None = None
) -> Render:
    """Re-render one CSV row (a dict as read by ``csv.DictReader``) with ``meta`` (meta.json as a dict).

    ``aus`` (16 values, 0-1) replaces the row's AUs: the same identity, pose and light with a new expression is the
    ground-truth target of an edit. ``size`` defaults to the data set's size.
    """
    check_renderer_version(meta)
    where = f"row {row.get('image', '?')}"
    try:
        scale = float(meta.get("au_scale", 1))
        identity = sample_identity(int(row["identity"]), int(row.get("seed", meta["seed"])))
        vector = aus if aus is not None else np.array([float(row[c]) / scale for c in AU_COLUMNS])
        pose = Pose(yaw=float(row["yaw"]), roll=float(row["roll"]))
        light = Light(azimuth=float(row["light_azimuth"]), elevation=float(row["light_elevation"]))
    except (KeyError, ValueError) as err:
        raise DataError(f"{where}: cannot re-render SynthFACS row ({err!r})") from None
    side = row.get("unilateral") or None
    if len(np.ravel(vector)) != NUM_AUS or not all(math.isfinite(v) for v in np.ravel(vector)):
        raise DataError(f"{where}: AU vector must have {NUM_AUS} finite values")
    return render(identity, vector, int(size or meta["size"]), pose, light, side)


def check_renderer_version(meta: Mapping[str, Any]) -> None:
    """Re-rendering is exact only with the renderer version that wrote the data set."""
    if meta.get("version") != FORMAT_VERSION:
        raise DataError(
            f"the data set was rendered by SynthFACS version {meta.get('version')}, this renderer is version "
            f"{FORMAT_VERSION}: re-render it (lsgan data synth) so that re-rendered targets match its images"
        )


def read_meta(root: str | Path) -> dict[str, Any]:
    path = Path(root) / "meta.json"
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as err:
        raise DataError(f"{path}: cannot read SynthFACS meta.json ({err})") from None

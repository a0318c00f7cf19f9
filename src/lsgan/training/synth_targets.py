"""SynthFACS validation targets: for a test pair (source, target AUs) render the *true* edit — the source's
identity, pose and light with the target's AUs — so an edit can be scored against ground truth.

Uses the renderer's ``render_row``, which refuses a data set rendered by another renderer version.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any, Callable

from torch.utils.data import Dataset

from lsgan.data.datasets import UnpairedPairs
from lsgan.data.images import to_tensor
from lsgan.data.synthfacs import read_meta, render_row
from lsgan.data.synthfacs.writer import check_renderer_version


class TrueTargetPairs(Dataset):
    """``UnpairedPairs`` items plus ``true_target`` [3,S,S] in [-1,1]: the source person, pose and light showing
    the target's AUs (and the target's one-sidedness, for contempt)."""

    def __init__(self, pairs: UnpairedPairs, root: Path, render_row: Callable[..., Any], meta: dict[str, Any]) -> None:
        self.pairs = pairs
        self.render_row = render_row
        self.meta = meta
        with open(root / "annotations.csv", newline="") as handle:
            self.rows = {str(root / row["image"]): row for row in csv.DictReader(handle)}

    def __len__(self) -> int:
        return len(self.pairs)

    @property
    def dataset(self) -> Dataset:
        """The face data set under the pairs (as ``UnpairedPairs.dataset``)."""
        return self.pairs.dataset

    def set_epoch(self, epoch: int) -> None:
        self.pairs.set_epoch(epoch)

    def __getitem__(self, index: int) -> dict[str, Any]:
        item = self.pairs[index]
        source, target = item["source"], item["target"]
        row = {**self.rows[source["path"]], "unilateral": self.rows[target["path"]].get("unilateral", "")}
        size = source["image"].shape[-1]
        rendered = self.render_row(row, self.meta, size=size, aus=target["aus"].numpy())
        return {**item, "true_target": to_tensor(rendered.image)}


def with_true_targets(pairs: UnpairedPairs, root: Path) -> Dataset:
    """Pairs with the rendered true target of every edit."""
    meta = read_meta(root)
    check_renderer_version(meta)
    return TrueTargetPairs(pairs, root, render_row, meta)

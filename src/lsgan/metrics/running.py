"""The running mean that training's validation and the evaluation scripts average per-image scores with."""

from __future__ import annotations

from collections import defaultdict

from torch import Tensor


class RunningMean:
    """Sample-weighted means of named scalars over batches: ``add(name, per_sample [B])``, then ``result()``."""

    def __init__(self) -> None:
        self._sums: dict[str, float] = defaultdict(float)
        self._counts: dict[str, int] = defaultdict(int)

    def add(self, name: str, per_sample: Tensor) -> None:
        self._sums[name] += float(per_sample.detach().double().sum())
        self._counts[name] += per_sample.numel()

    def result(self) -> dict[str, float]:
        return {name: self._sums[name] / self._counts[name] for name in self._sums if self._counts[name]}

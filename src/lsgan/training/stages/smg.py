"""Stage ``smg``: the semantic mask generator learns face parsing from the label maps (per-pixel cross-entropy);
scored by mIoU over the parsing classes on test identities."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from lsgan.nets.smg import SMG
from lsgan.parsing import NUM_PARSING_CLASSES, region_masks
from lsgan.metrics.segmentation import ConfusionMatrix
from lsgan.training.loop import Batch, TrainingStage
from lsgan.training.logging import mask_images
from lsgan.training.stages.common import adam


class ParsingObjective(nn.Module):
    def __init__(self, smg: SMG) -> None:
        super().__init__()
        self.smg = smg

    def forward(self, image: Tensor, labels: Tensor) -> dict[str, Tensor]:
        return {"ce": F.cross_entropy(self.smg(image), labels)}


class SMGStage(TrainingStage):
    name = "smg"
    needs_labels = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.smg = self.amp.prepare_module(SMG(self.config.model.smg))
        self.objective = self.wrap(ParsingObjective(self.smg))
        self.optimizer = adam([self.smg], self.settings)

    def networks(self) -> dict[str, nn.Module]:
        return {"smg": self.smg}

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"smg": self.optimizer}

    def train_step(self, batch: Batch) -> dict[str, Tensor]:
        with self.amp.autocast():
            losses = self.objective(batch["image"], batch["labels"])
        self.amp.backward_step(losses["ce"], self.optimizer, "smg")
        return {k: v.detach() for k, v in losses.items()}

    def evaluate(self, batches: Iterator[Batch]) -> dict[str, float]:
        confusion = ConfusionMatrix(NUM_PARSING_CLASSES)
        for batch in batches:
            with self.amp.autocast():
                confusion.add(self.smg(batch["image"]).argmax(1), batch["labels"])
        return {"miou": confusion.mean_iou()}

    def preview(self, batch: Batch) -> list[Tensor]:
        config = self.smg.config
        true_masks = region_masks(batch["labels"], config.mask_dilation, config.mask_blur)
        return [batch["image"], mask_images(self.smg.masks(batch["image"])), mask_images(true_masks)]

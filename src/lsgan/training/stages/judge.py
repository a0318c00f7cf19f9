"""Stage ``judge``: the evaluation's independent AU judge (``nets.judge``), trained apart from G_exp.

It is not part of ``train all`` (no generator needs it): ``lsgan train judge --config ... --out RUN_DIR``. It learns
on the training identities only, under its own seed (``model.judge.seed``: its initial weights, data order and
augmentation; the runner's ``runtime.seed`` is replaced by it for this stage) with its own photometric augmentation,
by MSE over the labelled AUs. Its final metrics are its own error on the true renders of the test identities (mean
AU MSE and ICC(3,1), the *floor* of the model evaluation's AU tables); the pipeline then writes the judge file
``RUN_DIR/judge/judge.safetensors``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from lsgan.data.augment import photometric
from lsgan.metrics.au import AUAgreement, au_agreement, au_mse, masked_au_mse
from lsgan.nets.judge import AUJudge
from lsgan.training.loop import Batch, TrainingStage
from lsgan.training.seeding import seed_everything
from lsgan.training.stages.common import adam


class JudgeObjective(nn.Module):
    def __init__(self, judge: AUJudge, photometric_strength: float) -> None:
        super().__init__()
        self.judge = judge
        self.photometric_strength = photometric_strength

    def forward(self, image: Tensor, aus: Tensor, au_mask: Tensor) -> Tensor:
        (seen,) = photometric(image, strength=self.photometric_strength)
        return masked_au_mse(self.judge(seen), aus, au_mask).mean()


class JudgeStage(TrainingStage):
    name = "judge"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.judge_config = self.config.model.judge
        self.runtime = replace(self.runtime, seed=self.judge_config.seed)  # the runner's data order and step seeds
        seed_everything(self.judge_config.seed)  # its initial weights
        self.judge = self.amp.prepare_module(AUJudge(self.judge_config))
        self.objective = self.wrap(JudgeObjective(self.judge, self.judge_config.photometric))
        self.optimizer = adam([self.judge], self.settings)

    def networks(self) -> dict[str, nn.Module]:
        return {"judge": self.judge}

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"judge": self.optimizer}

    def train_step(self, batch: Batch) -> dict[str, Tensor]:
        with self.amp.autocast():
            loss = self.objective(batch["image"], batch["aus"], batch["au_mask"])
        self.amp.backward_step(loss, self.optimizer, "judge")
        return {"au_mse": loss.detach()}

    def evaluate(self, batches: Iterator[Batch]) -> dict[str, float]:
        """The floor: mean over the AUs of the judge's MSE and ICC(3,1) on the test renders (each AU over the
        images that label it), beside the MSE of always answering "no AU active"."""
        read, labels, masks = [], [], []
        for batch in batches:
            with self.amp.autocast():
                read.append(self.judge(batch["image"]).float().cpu().numpy())
            labels.append(batch["aus"].float().cpu().numpy())
            masks.append(batch["au_mask"].float().cpu().numpy() > 0)
        if not read:
            return {}
        return floor_metrics(np.concatenate(read), np.concatenate(labels), np.concatenate(masks))


def floor_metrics(read: np.ndarray, labels: np.ndarray, labelled: np.ndarray) -> dict[str, float]:
    """``au_mse``, ``au_icc`` (means over the AUs with a defined value), ``au_mse_zero_baseline`` and ``images``
    from readings and labels ``[N, 16]`` and which labels exist (bool ``[N, 16]``)."""
    agreement = au_agreement(read, labels, labelled)
    zero = AUAgreement(au_mse(np.zeros_like(labels), labels, labelled), agreement.icc)  # always "no AU active"
    return {"au_mse": agreement.mean_mse, "au_icc": agreement.mean_icc, "au_mse_zero_baseline": zero.mean_mse,
            "images": float(len(read))}

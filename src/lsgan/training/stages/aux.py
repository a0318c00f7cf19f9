"""Stage ``aux``: the two pretrained helpers of the generator loss. G_exp regresses the 16 AU intensities
(MSE over the labelled AUs, Adam lr 2e-4 as in the paper); C_id classifies the training identities
(cross-entropy). Scored by G_exp's AU MSE on test identities; C_id's accuracy is reported on training batches,
since test identities are by construction unknown to it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from lsgan.data.augment import photometric
from lsgan.nets.auxiliary import AURegressor, IdentityClassifier
from lsgan.metrics.au import masked_au_mse
from lsgan.metrics.running import RunningMean
from lsgan.training.loop import Batch, TrainingStage
from lsgan.training.stages.common import adam


class AuxiliaryObjective(nn.Module):
    def __init__(self, au_regressor: AURegressor, identity_classifier: IdentityClassifier,
                 photometric_strength: float = 0.0) -> None:
        super().__init__()
        self.au_regressor = au_regressor
        self.identity_classifier = identity_classifier
        self.photometric_strength = photometric_strength

    def forward(self, image: Tensor, aus: Tensor, au_mask: Tensor, identity: Tensor) -> dict[str, Tensor]:
        logits = self.identity_classifier(image)
        (judged,) = photometric(image, strength=self.photometric_strength)  # G_exp: colour tells it nothing
        return {
            "au_mse": masked_au_mse(self.au_regressor(judged), aus, au_mask).mean(),
            "id_ce": F.cross_entropy(logits, identity),
            "id_acc": (logits.argmax(1) == identity).float().mean().detach(),
        }


def num_identities(dataset: Any) -> int:
    """Identities of a FaceAUDataset (or of the data set inside a wrapper such as UnpairedPairs)."""
    inner = getattr(dataset, "dataset", dataset)
    return len(inner.identities)


class AuxStage(TrainingStage):
    name = "aux"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        aux_config = self.config.model.aux
        self.au_regressor = self.amp.prepare_module(AURegressor(aux_config))
        self.identity_classifier = self.amp.prepare_module(
            IdentityClassifier(num_identities(self.data.train), aux_config)
        )
        self.objective = self.wrap(AuxiliaryObjective(
            self.au_regressor, self.identity_classifier, self.config.stages.aux_options.photometric))
        # One Adam over both nets: their losses are independent, so this equals two optimizers with one lr.
        self.optimizer = adam([self.au_regressor, self.identity_classifier], self.settings)

    def networks(self) -> dict[str, nn.Module]:
        return {"au_regressor": self.au_regressor, "identity_classifier": self.identity_classifier}

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"aux": self.optimizer}

    def train_step(self, batch: Batch) -> dict[str, Tensor]:
        with self.amp.autocast():
            losses = self.objective(batch["image"], batch["aus"], batch["au_mask"], batch["identity"])
        self.amp.backward_step(losses["au_mse"] + losses["id_ce"], self.optimizer, "aux")
        return {k: v.detach() for k, v in losses.items()}

    def evaluate(self, batches: Iterator[Batch]) -> dict[str, float]:
        scores = RunningMean()
        for batch in batches:
            with self.amp.autocast():
                predicted = self.au_regressor(batch["image"])
            scores.add("au_mse", masked_au_mse(predicted, batch["aus"], batch["au_mask"]))
            strength = self.config.stages.aux_options.photometric
            if strength:  # G_exp's error under the colour changes it was trained to ignore
                with self.amp.autocast():
                    (changed,) = photometric(batch["image"], strength=strength)
                    scores.add("au_mse_photometric", masked_au_mse(self.au_regressor(changed), batch["aus"],
                                                                   batch["au_mask"]))
            # For scale: the error of always predicting "no AU active".
            scores.add("au_mse_zero_baseline", masked_au_mse(torch.zeros_like(predicted), batch["aus"], batch["au_mask"]))
        return scores.result()

"""Stage ``aux``: the two pretrained helpers of the generator loss. G_exp regresses the 16 AU intensities
(MSE over the labelled AUs, Adam lr 2e-4 as in the paper); C_id classifies the training identities
(cross-entropy). Scored by G_exp's AU MSE on test identities; C_id's accuracy is reported on training batches,
since test identities are by construction unknown to it.

Not in the paper: with ``stages.aux_options.real_bounds``, G_exp also reads ``real_batch`` of data.real's faces per
step (in the same batch, so its batch statistics see photos too) and learns to keep its readings inside the AU
bounds that face-api's confident reads of them give (``training.real_bounds``, ``losses.au_bound_loss``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from lsgan.data.augment import cut_tight, photometric
from lsgan.data.images import to_tensor
from lsgan.data.real_faces import REAL_FACES, RealFaces
from lsgan.errors import LsganError
from lsgan.losses import au_bound_loss
from lsgan.metrics.au import masked_au_mse
from lsgan.metrics.running import RunningMean
from lsgan.nets.auxiliary import AURegressor, IdentityClassifier
from lsgan.training.loop import Batch, TrainingStage
from lsgan.training.real_bounds import REAL_EXPRESSIONS, RealExpressions, au_bounds, bounded_rows
from lsgan.training.stages.common import adam


class AuxiliaryObjective(nn.Module):
    def __init__(self, au_regressor: AURegressor, identity_classifier: IdentityClassifier,
                 photometric_strength: float = 0.0, tight_share: float = 0.0) -> None:
        super().__init__()
        self.au_regressor = au_regressor
        self.identity_classifier = identity_classifier
        self.photometric_strength = photometric_strength
        self.tight_share = tight_share

    def forward(self, image: Tensor, aus: Tensor, au_mask: Tensor, identity: Tensor,
                real: RealBatch | None = None) -> dict[str, Tensor]:
        logits = self.identity_classifier(image)
        faces = image if real is None else torch.cat([image, real.image])
        faces = cut_tight(faces, self.tight_share)  # a face's crop cut by a photo's edge, the rest mirrored in
        (judged,) = photometric(faces, strength=self.photometric_strength)  # G_exp: colour tells it nothing
        predicted = self.au_regressor(judged)  # [B (+ R), 16]
        losses = {
            "au_mse": masked_au_mse(predicted[:len(image)], aus, au_mask).mean(),
            "id_ce": F.cross_entropy(logits, identity),
            "id_acc": (logits.argmax(1) == identity).float().mean().detach(),
        }
        if real is not None:
            losses["real_bound"] = au_bound_loss(predicted[len(image):], real.lower, real.upper)
        return losses


class RealBatch(NamedTuple):
    image: Tensor  # [R, 3, S, S] real faces in [-1, 1]
    lower: Tensor  # [R, 16]
    upper: Tensor  # [R, 16]


class BoundedRealFaces:
    """data.real's faces that have AU bounds (``training.real_bounds``), on the training device."""

    def __init__(self, images: Tensor, lower: Tensor, upper: Tensor) -> None:
        self.images, self.lower, self.upper = images, lower, upper

    def sample(self, count: int) -> RealBatch:
        """``count`` faces drawn with replacement, each mirrored with probability 1/2 (the bounds have no side)."""
        pick = torch.randint(len(self.images), (count,)).to(self.images.device)
        images = self.images[pick]
        mirrored = (torch.rand(count, device=images.device) < 0.5)[:, None, None, None]
        return RealBatch(torch.where(mirrored, images.flip(-1), images), self.lower[pick], self.upper[pick])


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
            self.au_regressor, self.identity_classifier, self.config.stages.aux_options.photometric,
            self.config.stages.aux_options.tight_crops))
        # One Adam over both nets: their losses are independent, so this equals two optimizers with one lr.
        self.optimizer = adam([self.au_regressor, self.identity_classifier], self.settings)
        self.real = self._load_bounded_real_faces()

    def _load_bounded_real_faces(self) -> BoundedRealFaces | None:
        """None without real bounds; the pipeline has written both files before any stage runs."""
        options = self.config.stages.aux_options
        if not options.real_bounds:
            return None
        faces = RealFaces.read(self.run_dir / REAL_FACES)
        reads = RealExpressions.read(self.run_dir / REAL_EXPRESSIONS)
        lower, upper = au_bounds(reads.probabilities, options.bound_emotions, options.bound_confidence)
        rows = bounded_rows(lower, upper)
        if not len(rows):
            raise LsganError(f"stages.aux_options.real_bounds: face-api reads none of data.real's {len(faces.names)} "
                             f"faces as {' or '.join(options.bound_emotions)} with p >= {options.bound_confidence}")
        device = self.ctx.device
        images = torch.stack([to_tensor(faces.crops[i]) for i in rows]).to(device)
        return BoundedRealFaces(self.amp.prepare_images(images), torch.from_numpy(lower[rows]).to(device),
                                torch.from_numpy(upper[rows]).to(device))

    def networks(self) -> dict[str, nn.Module]:
        return {"au_regressor": self.au_regressor, "identity_classifier": self.identity_classifier}

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"aux": self.optimizer}

    def train_step(self, batch: Batch) -> dict[str, Tensor]:
        options = self.config.stages.aux_options
        real = self.real.sample(options.real_batch) if self.real is not None else None
        with self.amp.autocast():
            losses = self.objective(batch["image"], batch["aus"], batch["au_mask"], batch["identity"], real)
        total = losses["au_mse"] + losses["id_ce"]
        if real is not None:
            total = total + options.real_bounds * losses["real_bound"]
        self.amp.backward_step(total, self.optimizer, "aux")
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

"""Stage ``aae``: pretrain the adversarial autoencoder (E + decoder + D_z, Eq. 4) on whole faces and on the three
region images (face × ground-truth region mask), which is what E encodes inside the generator later.

E and the decoder minimise an L1 reconstruction loss plus the encoder side of Eq. 4 (make D_z take E(x) for a
sample of N(0, I)); D_z minimises Eq. 4's BCE. Scored on test identities by reconstruction PSNR/SSIM.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from lsgan.losses import latent_adversarial_loss, latent_encoder_loss
from lsgan.nets.aae import AdversarialAutoencoder, LatentDiscriminator
from lsgan.metrics.image import psnr, ssim
from lsgan.metrics.running import RunningMean
from lsgan.training.loop import Batch, TrainingStage
from lsgan.parsing import region_masks
from lsgan.training.stages.common import adam, no_grad_for, region_images


class AutoencoderObjective(nn.Module):
    """E + decoder loss; D_z is only read (not registered, so DDP does not treat it as trained here)."""

    def __init__(self, aae: AdversarialAutoencoder, latent_weight: float) -> None:
        super().__init__()
        self.encoder = aae.encoder
        self.decoder = aae.decoder
        self.critic = {"latent_discriminator": aae.latent_discriminator}
        self.latent_weight = latent_weight

    def forward(self, images: Tensor) -> dict[str, Tensor]:
        z = self.encoder(images).z
        reconstruction = self.decoder(z)
        l1 = F.l1_loss(reconstruction, images)
        fool = latent_encoder_loss(self.critic["latent_discriminator"](z))
        return {"rec_l1": l1, "e_adv": fool, "total": l1 + self.latent_weight * fool, "z": z.detach()}


class LatentCriticObjective(nn.Module):
    def __init__(self, latent_discriminator: LatentDiscriminator) -> None:
        super().__init__()
        self.latent_discriminator = latent_discriminator

    def forward(self, prior: Tensor, encoded: Tensor) -> Tensor:
        return latent_adversarial_loss(self.latent_discriminator(prior), self.latent_discriminator(encoded))


class AAEStage(TrainingStage):
    name = "aae"
    needs_labels = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        model = self.config.model
        self.aae = self.amp.prepare_module(AdversarialAutoencoder(model.aae, model.image_size))
        self.mask_settings = (model.smg.mask_dilation, model.smg.mask_blur)
        latent_weight = self.config.stages.latent_weight
        self.autoencoder = self.wrap(AutoencoderObjective(self.aae, latent_weight))
        self.critic = self.wrap(LatentCriticObjective(self.aae.latent_discriminator))
        self.ae_optimizer = adam([self.aae.encoder, self.aae.decoder], self.settings)
        self.critic_optimizer = adam([self.aae.latent_discriminator], self.settings)

    def networks(self) -> dict[str, nn.Module]:
        return {
            "encoder": self.aae.encoder,
            "decoder": self.aae.decoder,
            "latent_discriminator": self.aae.latent_discriminator,
        }

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"autoencoder": self.ae_optimizer, "latent_discriminator": self.critic_optimizer}

    def _inputs(self, batch: Batch) -> Tensor:
        """[4B,3,H,W]: faces and their eye / mouth / part region images."""
        return region_images(batch["image"], region_masks(batch["labels"], *self.mask_settings))

    def train_step(self, batch: Batch) -> dict[str, Tensor]:
        images = self._inputs(batch)
        with self.amp.autocast(), no_grad_for(self.aae.latent_discriminator):
            ae = self.autoencoder(images)
        self.amp.backward_step(ae["total"], self.ae_optimizer, "autoencoder")
        prior = self.aae.sample_prior(ae["z"].shape[0], ae["z"].device)
        with self.amp.autocast():
            critic_loss = self.critic(prior, ae["z"])
        self.amp.backward_step(critic_loss, self.critic_optimizer, "latent_discriminator")
        return {"rec_l1": ae["rec_l1"].detach(), "e_adv": ae["e_adv"].detach(), "dz": critic_loss.detach()}

    def evaluate(self, batches: Iterator[Batch]) -> dict[str, float]:
        scores = RunningMean()
        for batch in batches:
            images = self._inputs(batch)
            with self.amp.autocast():
                reconstruction = self.aae(images)[1]
            faces = slice(0, batch["image"].shape[0])
            scores.add("face_psnr", psnr(reconstruction[faces], images[faces]))
            scores.add("face_ssim", ssim(reconstruction[faces], images[faces]))
            scores.add("all_psnr", psnr(reconstruction, images))
        return scores.result()

    def preview(self, batch: Batch) -> list[Tensor]:
        images = self._inputs(batch)
        reconstruction = self.aae(images)[1]
        return [*images.chunk(4), *reconstruction.chunk(4)]

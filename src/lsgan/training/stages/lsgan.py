"""Stage ``lsgan``: the adversarial training of Eq. 10. E (fine-tuned from the AAE stage) + TG against the AUD
(D_adv + D_cls), with D_z keeping E's codes Gaussian (Eq. 4, with ``latent_prior``; not in Eq. 10); SMG, G_exp
and C_id are frozen.

One step: (1) generator update on L = L_adv + λ_au L_au + λ_id L_id + λ_rec L_rec + λ_cyc L_cyc (+ the encoder
side of Eq. 4); (2) AUD update on Eq. 5 (+ D_cls's AU loss on real faces, + the gradient penalty for
wgan-gp) against the fakes of (1); (3) D_z update on Eq. 4 against the codes of (1). L_au reads the AUs of the
fake both with G_exp (paper Eq. 6) and with D_cls (as StarGAN/GANimation; weight ``cls_weight``), as an MSE or,
with ``losses.au_loss: ce``, a per-AU binary cross-entropy on their logits (the paper's LSGAN#1).

With ``losses.real`` > 0 (not in the paper), each step also edits a batch of unlabelled real faces (``data.real``)
towards the targets of the SynthFACS batch: the same objective less L_id and L_pair (no identities, no true
targets), their source AUs read by G_exp, weighted by λ_real; the AUD sees those faces as real and their edits as
fake.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from lsgan import losses
from lsgan.data.augment import photometric
from lsgan.data.images import to_tensor
from lsgan.data.real_faces import REAL_FACES, RealFaces
from lsgan.errors import LsganError
from lsgan.nets.aae import LatentDiscriminator
from lsgan.nets.auxiliary import AURegressor, IdentityClassifier
from lsgan.nets.discriminator import AUDiscriminator
from lsgan.nets.expression import LOSS_CLASSIFIER, emotion_labels, load_classifier, read_aligned
from lsgan.nets.lsgan import GeneratorOutput, LSGANGenerator
from lsgan.metrics.au import masked_au_mse
from lsgan.metrics.image import psnr, ssim
from lsgan.metrics.running import RunningMean
from lsgan.training.config import LsganStageOptions
from lsgan.training.logging import au_bar_images, mask_images
from lsgan.training.loop import Batch, Preflight, TrainingStage
from lsgan.training.precision import MixedPrecision
from lsgan.training.stages.aae import LatentCriticObjective
from lsgan.training.stages.aux import num_identities
from lsgan.training.stages.common import adam, freeze, load_earlier_stage, no_grad_for


class GeneratorObjective(nn.Module):
    """Eq. 10 for E + TG. Only the generator is registered; critics and judges are read through a plain dict."""

    def __init__(
        self,
        generator: LSGANGenerator,
        critics: dict[str, nn.Module],
        weights: losses.LossWeights,
        options: LsganStageOptions,
        latent_weight: float,
    ) -> None:
        super().__init__()
        self.generator = generator
        self.critics = critics  # aud, au_regressor, identity_classifier, latent_discriminator (optional)
        self.weights = weights
        self.options = options
        self.latent_weight = latent_weight

    def forward(
        self, source: Tensor, source_aus: Tensor, target_aus: Tensor, target_au_mask: Tensor, identity: Tensor,
        true_target: Tensor | None = None, real: Tensor | None = None, real_targets: Tensor | None = None,
    ) -> dict[str, Tensor]:
        """Eq. 10 on the SynthFACS batch; with ``real`` faces (and their ``real_targets``), plus λ_real times the
        objective on their edits (``real_terms``), reported as ``real_*``."""
        result = self.synthetic_terms(source, source_aus, target_aus, target_au_mask, identity, true_target)
        if real is None:
            return result
        terms = {f"real_{name}": value for name, value in self.real_terms(real, real_targets).items()}
        return {**result, **terms, "total": result["total"] + self.weights.real * terms["real_total"]}

    def synthetic_terms(
        self, source: Tensor, source_aus: Tensor, target_aus: Tensor, target_au_mask: Tensor, identity: Tensor,
        true_target: Tensor | None = None,
    ) -> dict[str, Tensor]:
        """Eq. 10 on a SynthFACS batch (+ L_pair against the true targets, + the encoder side of Eq. 4)."""
        terms, both, fake = self._edit_terms(source, source_aus, target_aus, target_au_mask, self.weights)
        if self.weights.identity:
            terms.identity = losses.identity_loss(self.critics["identity_classifier"](fake), identity)
        if self.weights.paired:
            if true_target is None:
                raise LsganError("losses.paired needs the true targets of SynthFACS pairs (data.kind synthfacs)")
            terms.paired = losses.paired_loss(fake, true_target)
        total = losses.total_generator_loss(terms, self.weights)
        result = {name: value for name, value in vars(terms).items() if value is not None}
        z = self._codes(source, both.masks[: source.shape[0]])
        if z is not None:
            result["e_adv"] = losses.latent_encoder_loss(self.critics["latent_discriminator"](z))
            total = total + self.latent_weight * result["e_adv"]
            result["z"] = z.detach()
        return {**result, "total": total, "fake": fake.detach()}

    def real_terms(self, real: Tensor, target_aus: Tensor) -> dict[str, Tensor]:
        """The objective on edits of unlabelled real faces ``real`` [B,3,S,S] towards ``target_aus`` [B,16]:
        L_adv + real_au·λ_au L_au + λ_rec L_rec + λ_cyc L_cyc (+ λ_col L_col); their own AUs are G_exp's reading."""
        with torch.no_grad():
            source_aus = self.critics["au_regressor"](real).clamp(0.0, 1.0)
        unlabelled = replace(self.weights, identity=0.0, paired=0.0, au=self.weights.au * self.options.real_au)
        terms, _, fake = self._edit_terms(real, source_aus, target_aus, None, unlabelled)
        total = losses.total_generator_loss(terms, unlabelled)
        result = {name: value for name, value in vars(terms).items() if value is not None}
        return {**result, "total": total, "fake": fake.detach()}

    def _edit_terms(self, source: Tensor, source_aus: Tensor, target_aus: Tensor, au_mask: Tensor | None,
                    weights: losses.LossWeights) -> tuple[losses.GeneratorLossTerms, GeneratorOutput, Tensor]:
        """What every edit is held to: L_adv, L_au (G_exp; and D_cls where the AUs are labelled, ``au_mask``
        given), and with their weights L_rec, L_cyc, L_col. Returns (terms, the generator's output on source
        under target and source AUs, the fake I~)."""
        # I~ and I_r in one generator call: the same source under target and source AUs.
        both = self.generator(
            torch.cat([source, source]), torch.cat([target_aus, source_aus]), torch.cat([source_aus, source_aus])
        )
        fake, self_rec = both.image.chunk(2)
        adv_logits, fake_aus = self.critics["aud"](fake)
        g_exp, kind = self.critics["au_regressor"], weights.au_loss
        read = g_exp.raw if kind == "ce" else g_exp  # the cross-entropy form reads G_exp's logits
        au = losses.au_loss(read(self._jitter(fake)), target_aus, au_mask, kind)
        if au_mask is not None:
            au = au + self.options.cls_weight * losses.au_loss(fake_aus, target_aus, au_mask, kind)
        terms = losses.GeneratorLossTerms(
            adversarial=losses.generator_adversarial_loss(adv_logits, self.options.adversarial), au=au,
        )
        if weights.reconstruction:
            terms.reconstruction = losses.reconstruction_loss(self_rec, source)
        if weights.cycle:
            terms.cycle = losses.cycle_loss(self.generator(fake, source_aus, target_aus).image, source)
        if weights.colour:
            terms.colour = losses.colour_loss(both.colour[: source.shape[0]])
        if weights.expression:
            labels, valid = emotion_labels(target_aus)
            terms.expression = losses.expression_loss(read_aligned(self.critics["expression"], fake), labels, valid)
        return terms, both, fake

    def _jitter(self, fake: Tensor) -> Tensor:
        """With ``judge_jitter``, the fake as G_exp reads it: shifted by up to 2 px, sometimes blurred, plus
        noise, so that L_au rewards changes that survive small transformations rather than pixel patterns
        that fool the frozen G_exp (expectation over transformation)."""
        if not self.options.judge_jitter:
            return fake
        dy, dx = (int(v) for v in torch.randint(-2, 3, (2,)))
        jittered = torch.roll(fake, shifts=(dy, dx), dims=(2, 3))
        if torch.rand(()) < 0.5:
            jittered = F.avg_pool2d(jittered, 3, stride=1, padding=1, count_include_pad=False)
        return jittered + self.options.judge_jitter * torch.randn_like(jittered)

    def _codes(self, source: Tensor, masks: Tensor) -> Tensor | None:
        """E's region codes [3B, latent] for the encoder side of Eq. 4 (None without AAE + TG)."""
        if "latent_discriminator" not in self.critics or not self.latent_weight:
            return None
        codes = self.generator.encode_regions(source, masks)
        return torch.cat([code.z for code in codes.values()])


class DiscriminatorObjective(nn.Module):
    """Eq. 5 for the AUD (+ D_cls's AU regression on real faces, + the WGAN gradient penalty)."""

    def __init__(self, aud: AUDiscriminator, weights: losses.LossWeights, options: LsganStageOptions) -> None:
        super().__init__()
        self.aud = aud
        self.weights = weights
        self.options = options

    def forward(self, real: Tensor, fake: Tensor, real_aus: Tensor, au_mask: Tensor) -> dict[str, Tensor]:
        adv_logits, predicted_aus = self.aud(torch.cat([real, fake]))
        real_logits, fake_logits = adv_logits.chunk(2)
        adversarial = losses.adversarial_loss(real_logits, fake_logits, self.options.adversarial)
        cls = losses.discriminator_au_loss(predicted_aus[: real.shape[0]], real_aus, au_mask, self.weights.au_loss)
        total = adversarial + self.options.cls_weight * cls
        result = {"d_adv": adversarial, "d_cls": cls}
        if self.options.adversarial == "wgan-gp":
            result["d_gp"] = losses.gradient_penalty(lambda x: self.aud(x)[0], real, fake)
            total = total + self.weights.gradient_penalty * result["d_gp"]
        return {**result, "total": total}


class LSGANStage(TrainingStage):
    name = "lsgan"
    paired = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        model = self.config.model
        self.options = self.config.stages.lsgan_options
        self.generator = self.amp.prepare_module(LSGANGenerator(model))
        self.aud = self.amp.prepare_module(AUDiscriminator(model.aud, model.image_size))
        self.au_regressor = self.amp.prepare_module(AURegressor(model.aux))
        self.identity_classifier = self.amp.prepare_module(IdentityClassifier(num_identities(self.data.train), model.aux))
        self.latent_discriminator = (
            self.amp.prepare_module(LatentDiscriminator(model.aae)) if model.generator == "aae_tg" else None
        )
        self._load_earlier_stages()
        self._build_objectives()
        self.real_faces = self._load_real_faces()

    # --- set-up -------------------------------------------------------------------------------------------------

    def _load_earlier_stages(self) -> None:
        """SMG from stage smg, E and D_z from stage aae, G_exp and C_id from stage aux (all in the run dir)."""
        wanted: dict[str, dict[str, nn.Module]] = {
            "aux": {"au_regressor": self.au_regressor, "identity_classifier": self.identity_classifier},
        }
        if self.generator.smg is not None:
            wanted["smg"] = {"smg": self.generator.smg}
        if self.generator.encoder is not None:
            wanted["aae"] = {"encoder": self.generator.encoder, "latent_discriminator": self.latent_discriminator}
        for stage, networks in wanted.items():
            load_earlier_stage(self.run_dir, stage, networks)
        for module in (self.au_regressor, self.identity_classifier, self.generator.smg):
            if module is not None:
                freeze(module)

    def _build_objectives(self) -> None:
        critics: dict[str, nn.Module] = {
            "aud": self.aud, "au_regressor": self.au_regressor, "identity_classifier": self.identity_classifier,
        }
        if self.latent_discriminator is not None:
            critics["latent_discriminator"] = self.latent_discriminator
        weights = self.config.losses
        if weights.expression:  # face-api's; the held-out judge (fer) is never loaded here
            critics["expression"] = freeze(load_classifier(LOSS_CLASSIFIER, self.ctx.device))
        latent_weight = self.config.stages.latent_weight if self.options.latent_prior else 0.0
        self.generator_objective = self.wrap(GeneratorObjective(self.generator, critics, weights, self.options,
                                                                latent_weight))
        self.discriminator_objective = self.wrap(DiscriminatorObjective(self.aud, weights, self.options))
        self.g_optimizer = adam([self.generator], self.settings)
        self.d_optimizer = adam([self.aud], self.settings)
        self.latent_critic = None
        if self.latent_discriminator is not None:
            self.latent_critic = self.wrap(LatentCriticObjective(self.latent_discriminator))
            self.dz_optimizer = adam([self.latent_discriminator], self.settings)

    def _load_real_faces(self) -> Tensor | None:
        """data.real's aligned faces [N,3,S,S] in [-1, 1] on the training device (None without losses.real)."""
        if not self.config.losses.real:
            return None
        crops = RealFaces.read(self.run_dir / REAL_FACES).crops
        return self.amp.prepare_images(torch.stack([to_tensor(crop) for crop in crops]).to(self.ctx.device))

    # --- stage interface ----------------------------------------------------------------------------------------

    def networks(self) -> dict[str, nn.Module]:
        nets = {
            "generator": self.generator, "aud": self.aud,
            "au_regressor": self.au_regressor, "identity_classifier": self.identity_classifier,
        }
        if self.latent_discriminator is not None:
            nets["latent_discriminator"] = self.latent_discriminator
        return nets

    def trained_networks(self) -> list[nn.Module]:
        return [m for m in (self.generator, self.aud, self.latent_discriminator) if m is not None]

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        optimizers = {"generator": self.g_optimizer, "aud": self.d_optimizer}
        if self.latent_critic is not None:
            optimizers["latent_discriminator"] = self.dz_optimizer
        return optimizers

    def train_mode(self, training: bool) -> None:
        for module in self.trained_networks():  # G_exp, C_id and SMG stay in eval mode
            module.train(training)

    def train_step(self, batch: Batch) -> dict[str, Tensor]:
        source, target = batch["source"], batch["target"]
        image, true_target = self._with_appearance(source["image"], batch.get("true_target"))
        with self.amp.autocast(), no_grad_for(*self._critics()):
            real, real_targets = self._real_batch(target["aus"])
            g = self.generator_objective(
                image, source["aus"], target["aus"], target["au_mask"], source["identity"], true_target,
                real, real_targets,
            )
        self.amp.backward_step(g["total"], self.g_optimizer, "generator")
        real_images, fakes, real_aus, au_mask = image, g["fake"], source["aus"], source["au_mask"]
        if real is not None:  # real faces are real to the AUD (no AU labels: D_cls skips them), their edits fake
            unlabelled = torch.zeros_like(real_targets)
            real_images, fakes = torch.cat([image, real]), torch.cat([g["fake"], g["real_fake"]])
            real_aus, au_mask = torch.cat([real_aus, unlabelled]), torch.cat([au_mask, unlabelled])
        with self.amp.autocast():
            d = self.discriminator_objective(real_images, fakes, real_aus, au_mask)
        self.amp.backward_step(d["total"], self.d_optimizer, "aud")
        report = {(k if k.startswith("real_") else f"g_{k}"): v for k, v in g.items() if v.dim() == 0}
        report.update({k: v for k, v in d.items() if k != "total"})
        if self.latent_critic is not None and "z" in g:
            prior = torch.randn_like(g["z"])
            with self.amp.autocast():
                report["dz"] = self.latent_critic(prior, g["z"])
            self.amp.backward_step(report["dz"], self.dz_optimizer, "latent_discriminator")
        return {k: v.detach() for k, v in report.items()}

    def _real_batch(self, synthetic_targets: Tensor) -> tuple[Tensor | None, Tensor | None]:
        """A random batch of real faces [R,3,S,S] and targets for them drawn from the SynthFACS batch's [R,16]
        (torch's generator, reseeded every step by the runner: a resumed run draws the same)."""
        if self.real_faces is None:
            return None, None
        count = self.options.real_batch
        real = self.real_faces[torch.randint(len(self.real_faces), (count,)).to(self.real_faces.device)]
        targets = synthetic_targets[torch.randint(len(synthetic_targets), (count,)).to(synthetic_targets.device)]
        return real, targets

    def _with_appearance(self, image: Tensor, true_target: Tensor | None) -> tuple[Tensor, Tensor | None]:
        """With ``appearance``, the source and its true target under one random photometric change per pair."""
        strength = self.options.appearance
        if not strength:
            return image, true_target
        if true_target is None:
            return photometric(image, strength=strength)[0], None
        changed_image, changed_target = photometric(image, true_target, strength=strength)
        return changed_image, changed_target

    def _critics(self) -> list[nn.Module]:
        return [m for m in (self.aud, self.latent_discriminator) if m is not None]

    def evaluate(self, batches: Iterator[Batch]) -> dict[str, float]:
        return score_edits(self.generator, self.au_regressor, batches, self.amp)

    def preview(self, batch: Batch) -> list[Tensor]:
        source, target = batch["source"], batch["target"]
        out = self.generator(source["image"], target["aus"], source["aus"])
        bars = au_bar_images(target["aus"], source["image"].shape[-1])
        return [source["image"], bars, out.image, mask_images(out.masks), target["image"]]

    def preflight(self, batches: Iterator[Batch]) -> Preflight:
        """C_id and G_exp, frozen from stage aux, on unedited training faces: L_id (Eq. 7) and L_au (Eq. 6) ask
        the generator to satisfy them, so a C_id that misnames the sources (one that spiked at the end of its
        stage) pushes every edit towards another face, and a G_exp that cannot read the sources' AUs asks for
        nonsense. Either is named before the first step."""
        logits, identities, read, aus, masks = [], [], [], [], []
        for batch in batches:
            source = batch["source"]
            with self.amp.autocast():
                logits.append(self.identity_classifier(source["image"]).float())
                read.append(self.au_regressor(source["image"]).float())
            identities.append(source["identity"])
            aus.append(source["aus"])
            masks.append(source["au_mask"])
        logits, identities = torch.cat(logits), torch.cat(identities)  # [N, identities], [N]
        figures = {
            "c_id_accuracy": (logits.argmax(1) == identities).float().mean().item(),
            "c_id_cross_entropy": F.cross_entropy(logits, identities).item(),
            "g_exp_au_r2": au_variance_explained(torch.cat(read), torch.cat(aus), torch.cat(masks)),
        }
        count = len(identities)
        return Preflight(figures, helper_warnings(figures, count))

    def bundle_parts(self) -> tuple[LSGANGenerator, AURegressor, dict[str, nn.Module]]:
        """What ``save_bundle`` writes: the generator, G_exp, and the other networks for reference."""
        extra = {"aud": self.aud, "identity_classifier": self.identity_classifier}
        return self.generator, self.au_regressor, extra


MIN_C_ID_ACCURACY = 0.9  # a C_id from a finished stage aux names ~all of its training faces (CE ~0.002)
MIN_G_EXP_R2 = 0.5  # ... and its G_exp explains most of their AUs' variance


def au_variance_explained(read: Tensor, labels: Tensor, mask: Tensor) -> float:
    """R² of an AU reading ``read`` of ``labels`` [N, 16] over the labelled entries (``mask`` 1): one less their
    squared error over their squared deviation from their mean; 0 when nothing labelled varies."""
    mask = mask.float()
    mean = (labels * mask).sum() / mask.sum().clamp(min=1)
    spread = ((labels - mean).pow(2) * mask).sum()
    if spread <= 0:
        return 0.0
    return 1.0 - ((read - labels).pow(2) * mask).sum().item() / spread.item()


def helper_warnings(figures: dict[str, float], count: int) -> list[str]:
    """One line per frozen helper that ``LSGANStage.preflight``'s figures say is not fit to train against."""
    warnings = []
    if figures["c_id_accuracy"] < MIN_C_ID_ACCURACY:
        warnings.append(
            f"C_id (stage aux) names the identity of {figures['c_id_accuracy']:.0%} of {count} training faces "
            f"(cross-entropy {figures['c_id_cross_entropy']:.2f}); L_id (Eq. 7) will push edits towards other "
            f"faces: retrain stage aux (a learning rate that decays, stages.aux.lr_decay_steps)")
    if figures["g_exp_au_r2"] < MIN_G_EXP_R2:
        warnings.append(
            f"G_exp (stage aux) explains {figures['g_exp_au_r2']:.2f} of the training faces' AU variance (R²); "
            f"L_au (Eq. 6) will ask for what it misreads: train stage aux longer")
    return warnings


def score_edits(generator: LSGANGenerator, au_regressor: AURegressor, batches: Iterator[Batch], amp: MixedPrecision
                ) -> dict[str, float]:
    """The generator stage's test scores (every method's: lsgan's and the rivals'): G_exp's AU error of the edit
    towards the target AUs (``au_mse``; the unchanged source's beside it), the self-reconstruction under the
    source's own AUs, and on SynthFACS the edit against the rendered true target."""
    scores = RunningMean()
    for batch in batches:
        source, target = batch["source"], batch["target"]
        with amp.autocast():
            edited = generator(source["image"], target["aus"], source["aus"]).image
            reconstructed = generator(source["image"], source["aus"], source["aus"]).image
            edited_aus, source_aus_read = au_regressor(edited), au_regressor(source["image"])
        scores.add("au_mse", masked_au_mse(edited_aus, target["aus"], target["au_mask"]))
        scores.add("au_mse_identity_baseline", masked_au_mse(source_aus_read, target["aus"], target["au_mask"]))
        scores.add("self_rec_psnr", psnr(reconstructed, source["image"]))
        scores.add("self_rec_ssim", ssim(reconstructed, source["image"]))
        _score_against_truth(batch, edited, au_regressor, amp, scores)
    return scores.result()


def _score_against_truth(batch: Batch, edited: Tensor, au_regressor: AURegressor, amp: MixedPrecision,
                         scores: RunningMean) -> None:
    """PSNR/SSIM of the edit against the rendered true target, beside the unchanged source (SynthFACS), and
    G_exp's own AU error on the true target (the floor for ``au_mse``)."""
    truth = batch.get("true_target")
    if truth is None:
        return
    source, target = batch["source"]["image"], batch["target"]
    with amp.autocast():
        truth_aus = au_regressor(truth)
    scores.add("au_mse_true_target", masked_au_mse(truth_aus, target["aus"], target["au_mask"]))
    scores.add("psnr", psnr(edited, truth))
    scores.add("ssim", ssim(edited, truth))
    scores.add("psnr_identity_baseline", psnr(source, truth))
    scores.add("ssim_identity_baseline", ssim(source, truth))

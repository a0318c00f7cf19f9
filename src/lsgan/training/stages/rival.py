"""What the rivals' generator stages share (StarGAN, GANimation; docs/rivals.md). Each is the generator stage of
its run (folder ``lsgan``, settings ``stages.lsgan``: the same steps, batch and learning rate as lsgan's) and
trains ``LSGANGenerator`` (``model.generator: stargan | ganimation``) against the rival's own critic with WGAN-GP.
G_exp comes from stage aux, frozen: it is in no rival's loss, only in the evaluation and the bundle (the Editor
reads a photo's own AUs with it).

One step, as the reference code: (1) a critic update against fakes of the current generator (Wasserstein
terms, the critic's classification/regression of real images, the gradient penalty); (2) when the critic has
made ``n_critic`` updates since the last one, a generator update. In the paired setting (``losses.paired`` > 0)
the generator's objective gains the same λ_pair·L_pair as lsgan's, against the rendered true target.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import torch
from torch import Tensor, nn

from lsgan import losses
from lsgan.errors import LsganError
from lsgan.nets.auxiliary import AURegressor
from lsgan.nets.lsgan import LSGANGenerator
from lsgan.training.logging import au_bar_images
from lsgan.training.loop import Batch, TrainingStage
from lsgan.training.stages.common import adam, freeze, load_earlier_stage, no_grad_for
from lsgan.training.stages.lsgan import score_edits


class RivalGeneratorObjective(nn.Module):
    """Base of a rival's generator objective: only the generator is registered (what its optimizer and DDP see);
    the critic is read through a plain dict; ``paired`` is the weight of L_pair (``losses.paired``)."""

    def __init__(self, generator: LSGANGenerator, critic: nn.Module, options: Any, paired: float) -> None:
        super().__init__()
        self.generator = generator
        self.critics = {"critic": critic}
        self.options = options
        self.paired = paired

    def with_paired_term(self, terms: dict[str, Tensor], total: Tensor, fake: Tensor, true_target: Tensor | None
                         ) -> Tensor:
        """The paired setting: ``total`` + λ_pair·L_pair(fake, true target), recorded as ``terms["paired"]``."""
        if not self.paired:
            return total
        if true_target is None:
            raise LsganError("losses.paired needs the true targets of SynthFACS pairs (data.kind synthfacs)")
        terms["paired"] = losses.paired_loss(fake, true_target)
        return total + self.paired * terms["paired"]


class RivalCriticObjective(nn.Module):
    """A rival's critic objective: the Wasserstein terms, λ_gp times the gradient penalty, and the rival's term on
    the critic's second output for the real images (``real_term``: domain classification or AU regression)."""

    def __init__(self, critic: nn.Module, options: Any) -> None:
        super().__init__()
        self.critic = critic
        self.options = options

    def forward(self, real: Tensor, fake: Tensor, real_aus: Tensor, real_au_mask: Tensor) -> dict[str, Tensor]:
        source_scores, outputs = self.critic(torch.cat([real, fake]))
        real_scores, fake_scores = source_scores.chunk(2)
        terms = {
            "d_adv": losses.adversarial_loss(real_scores, fake_scores, "wgan-gp"),
            "d_gp": losses.gradient_penalty(lambda x: self.critic(x)[0], real, fake),
        }
        name, weight, term = self.real_term(outputs[: real.shape[0]], real_aus, real_au_mask)
        terms[name] = term
        total = terms["d_adv"] + self.options.gradient_penalty * terms["d_gp"] + weight * term
        return {**terms, "total": total}

    def real_term(self, outputs: Tensor, real_aus: Tensor, real_au_mask: Tensor) -> tuple[str, float, Tensor]:
        """(its name in the loss log, its weight, its value) for the critic's second output on real images."""
        raise NotImplementedError


class RivalStage(TrainingStage):
    """The generator stage of a rival: ``LSGANGenerator`` + the rival's critic. A subclass names the critic class
    (built from ``model.<generator>`` and the image size), its options field of ``stages`` and its two objectives,
    whose forwards are ``(source, source_aus, target_aus, target_au_mask, true_target)`` and ``(real, fake,
    real_aus, real_au_mask)``, each returning scalar terms and ``total`` (both DDP-wrapped)."""

    name = "lsgan"  # the generator stage of every method: the same run-dir folder and ``stages.lsgan`` settings
    paired = True
    critic_class: type[nn.Module]
    options_name: str  # the field of ``stages`` with the rival's loss weights and ``n_critic``
    generator_objective_class: type[RivalGeneratorObjective]
    critic_objective_class: type[RivalCriticObjective]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        model = self.config.model
        self.generator = self.amp.prepare_module(LSGANGenerator(model))
        self.critic = self.amp.prepare_module(self.critic_class(getattr(model, model.generator), model.image_size))
        self.au_regressor = self.amp.prepare_module(AURegressor(model.aux))
        self._load_au_regressor()
        self.generator_objective = self.wrap(self.generator_objective_class(
            self.generator, self.critic, self.options, self.config.losses.paired
        ))
        self.critic_objective = self.wrap(self.critic_objective_class(self.critic, self.options))
        self.g_optimizer = adam([self.generator], self.settings)
        self.d_optimizer = adam([self.critic], self.settings)

    @property
    def options(self) -> Any:
        return getattr(self.config.stages, self.options_name)

    def _load_au_regressor(self) -> None:
        load_earlier_stage(self.run_dir, "aux", {"au_regressor": self.au_regressor})
        freeze(self.au_regressor)

    # --- stage interface ----------------------------------------------------------------------------------------

    def networks(self) -> dict[str, nn.Module]:
        return {"generator": self.generator, "discriminator": self.critic, "au_regressor": self.au_regressor}

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"generator": self.g_optimizer, "discriminator": self.d_optimizer}

    def train_mode(self, training: bool) -> None:
        self.generator.train(training)
        self.critic.train(training)  # G_exp stays in eval mode

    def train_step(self, batch: Batch) -> dict[str, Tensor]:
        source, target = batch["source"], batch["target"]
        image = source["image"]
        with self.amp.autocast():
            with torch.no_grad():
                fake = self.generator(image, target["aus"], source["aus"]).image
            d = self.critic_objective(image, fake, source["aus"], source["au_mask"])
        self.amp.backward_step(d["total"], self.d_optimizer, "discriminator")
        report = {k: v for k, v in d.items() if k != "total"}
        if self._critic_updates() % self.options.n_critic == 0:
            with self.amp.autocast(), no_grad_for(self.critic):
                g = self.generator_objective(
                    image, source["aus"], target["aus"], target["au_mask"], batch.get("true_target")
                )
            self.amp.backward_step(g["total"], self.g_optimizer, "generator")
            report.update({f"g_{k}": v for k, v in g.items()})
        return {k: v.detach() for k, v in report.items()}

    def _critic_updates(self) -> int:
        """Updates the critic's optimizer has made (Adam's own count: checkpointed, so exact on resume)."""
        state = self.d_optimizer.state.get(self.d_optimizer.param_groups[0]["params"][0], {})
        return int(state.get("step", 0))

    def evaluate(self, batches: Iterator[Batch]) -> dict[str, float]:
        return score_edits(self.generator, self.au_regressor, batches, self.amp)

    def preview(self, batch: Batch) -> list[Tensor]:
        source, target = batch["source"], batch["target"]
        out = self.generator(source["image"], target["aus"], source["aus"])
        columns = [source["image"], au_bar_images(target["aus"], source["image"].shape[-1]), out.image]
        if out.attention is not None:  # GANimation's attention mask, white where the input is kept
            columns.append(out.attention.expand(-1, 3, -1, -1) * 2 - 1)
        return [*columns, target["image"]]

    def bundle_parts(self) -> tuple[LSGANGenerator, AURegressor, dict[str, nn.Module]]:
        """What ``save_bundle`` writes: the generator, G_exp, and the critic for reference."""
        return self.generator, self.au_regressor, {"discriminator": self.critic}

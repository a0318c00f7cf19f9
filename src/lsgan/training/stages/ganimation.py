"""The generator stage with ``model.generator: ganimation`` (folder ``lsgan``): GANimation's objective (Pumarola et
al. 2018, §4.2: image adversarial, attention, conditional expression and identity losses; reference
albertpumarola/GANimation ``models/ganimation.py``), as its code weighs it.

    L_D = -E[D_I(I)] + E[D_I(I~)] + λ_gp L_gp + λ_y ||D_y(I) - y_o||^2
    L_G = -E[D_I(I~)] + λ_y ||D_y(I~) - y_f||^2 + λ_idt ||I - I_cyc||_1
          + λ_A (mean A + mean A_cyc) + λ_TV (TV(A) + TV(A_cyc))

with I~ = G(I | y_f) (target AUs y_f), I_cyc = G(I~ | y_o) (the source's AUs y_o), A and A_cyc their attention
masks; λ_y 160, λ_A 0.1, λ_TV 4.064, λ_idt 10, λ_gp 10 (``stages.ganimation_options``: their code's values as
means; docs/rivals.md), plus λ_pair L_pair in the paired setting (``losses.paired``).
"""

from __future__ import annotations

from torch import Tensor, nn

from lsgan import losses
from lsgan.nets.lsgan import LSGANGenerator
from lsgan.nets.rivals.ganimation import GANimationCritic
from lsgan.training.config import GANimationOptions
from lsgan.training.stages.rival import RivalStage, critic_terms, with_paired_term


class GANimationGeneratorObjective(nn.Module):
    """L_G above. Only the generator is registered; the critic is read through a plain dict."""

    def __init__(self, generator: LSGANGenerator, critic: nn.Module, options: GANimationOptions,
                 paired: float) -> None:
        super().__init__()
        self.generator = generator
        self.critics = {"critic": critic}
        self.options = options
        self.paired = paired

    def forward(self, source: Tensor, source_aus: Tensor, target_aus: Tensor, target_au_mask: Tensor,
                true_target: Tensor | None = None) -> dict[str, Tensor]:
        edit = self.generator(source, target_aus, source_aus)
        scores, fake_aus = self.critics["critic"](edit.image)
        cycle = self.generator(edit.image, source_aus, target_aus)
        masks = (edit.attention, cycle.attention)
        terms = {
            "adv": losses.generator_adversarial_loss(scores, "wgan-gp"),
            "au": losses.au_loss(fake_aus, target_aus, target_au_mask),
            "cyc": losses.cycle_loss(cycle.image, source),
            "attention": sum(losses.attention_loss(mask) for mask in masks),
            "smoothness": sum(losses.attention_smoothness_loss(mask) for mask in masks),
        }
        o = self.options
        total = (terms["adv"] + o.au * terms["au"] + o.cycle * terms["cyc"] + o.attention * terms["attention"]
                 + o.smoothness * terms["smoothness"])
        total = with_paired_term(terms, total, edit.image, true_target, self.paired)
        return {**terms, "total": total}


class GANimationCriticObjective(nn.Module):
    """L_D above."""

    def __init__(self, critic: nn.Module, options: GANimationOptions) -> None:
        super().__init__()
        self.critic = critic
        self.options = options

    def forward(self, real: Tensor, fake: Tensor, real_aus: Tensor, real_au_mask: Tensor) -> dict[str, Tensor]:
        terms, predicted_aus = critic_terms(self.critic, real, fake)
        terms["d_au"] = losses.discriminator_au_loss(predicted_aus, real_aus, real_au_mask)
        total = terms["d_adv"] + self.options.gradient_penalty * terms["d_gp"] + self.options.au * terms["d_au"]
        return {**terms, "total": total}


class GANimationStage(RivalStage):
    options_name = "ganimation_options"

    def build_critic(self) -> nn.Module:
        return GANimationCritic(self.config.model.ganimation, self.config.model.image_size)

    def build_generator_objective(self) -> nn.Module:
        return GANimationGeneratorObjective(self.generator, self.critic, self.options, self.config.losses.paired)

    def build_critic_objective(self) -> nn.Module:
        return GANimationCriticObjective(self.critic, self.options)

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

from torch import Tensor

from lsgan import losses
from lsgan.nets.rivals.ganimation import GANimationCritic
from lsgan.training.config import GANimationOptions
from lsgan.training.stages.rival import RivalCriticObjective, RivalGeneratorObjective, RivalStage


class GANimationGeneratorObjective(RivalGeneratorObjective):
    """L_G above."""

    options: GANimationOptions

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
        total = self.with_paired_term(terms, total, edit.image, true_target)
        return {**terms, "total": total}


class GANimationCriticObjective(RivalCriticObjective):
    """L_D above."""

    options: GANimationOptions

    def real_term(self, outputs: Tensor, real_aus: Tensor, real_au_mask: Tensor) -> tuple[str, float, Tensor]:
        return "d_au", self.options.au, losses.discriminator_au_loss(outputs, real_aus, real_au_mask)


class GANimationStage(RivalStage):
    critic_class = GANimationCritic
    options_name = "ganimation_options"
    generator_objective_class = GANimationGeneratorObjective
    critic_objective_class = GANimationCriticObjective

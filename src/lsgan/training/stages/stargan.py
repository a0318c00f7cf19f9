"""The generator stage with ``model.generator: stargan`` (folder ``lsgan``): StarGAN's objective (Choi et al. 2018,
§3.1 and its Eq. 5-6 with the WGAN-GP adversarial term of its §4; reference yunjey/stargan ``solver.py``).

Domains are emotions: a real image's is ``emotion_domain`` of its AU labels, the target's that of the target AUs
(the generator makes the same choice inside ``LSGANGenerator``).

    L_D = -E[D_src(x)] + E[D_src(G(x, c))] + λ_gp L_gp + λ_cls L_cls^r      (L_cls^r: CE of D_cls(x) vs c')
    L_G = -E[D_src(G(x, c))] + λ_cls L_cls^f + λ_rec ||x - G(G(x, c), c')||_1  (L_cls^f: CE of D_cls(G(x, c)) vs c)

with c the target domain and c' the source's; λ_cls 1, λ_rec 10, λ_gp 10 (``stages.stargan_options``), plus
λ_pair L_pair in the paired setting (``losses.paired``).
"""

from __future__ import annotations

from torch import Tensor

from lsgan import losses
from lsgan.nets.rivals.stargan import StarGANDiscriminator, emotion_domain
from lsgan.training.config import StarGANOptions
from lsgan.training.stages.rival import RivalCriticObjective, RivalGeneratorObjective, RivalStage


class StarGANGeneratorObjective(RivalGeneratorObjective):
    """L_G above."""

    options: StarGANOptions

    def forward(self, source: Tensor, source_aus: Tensor, target_aus: Tensor, target_au_mask: Tensor,
                true_target: Tensor | None = None) -> dict[str, Tensor]:
        fake = self.generator(source, target_aus, source_aus).image
        scores, domain_logits = self.critics["critic"](fake)
        cycled = self.generator(fake, source_aus, target_aus).image
        terms = {
            "adv": losses.generator_adversarial_loss(scores, "wgan-gp"),
            "cls": losses.domain_classification_loss(domain_logits, emotion_domain(target_aus)),
            "rec": losses.cycle_loss(cycled, source),
        }
        total = terms["adv"] + self.options.cls * terms["cls"] + self.options.rec * terms["rec"]
        total = self.with_paired_term(terms, total, fake, true_target)
        return {**terms, "total": total}


class StarGANCriticObjective(RivalCriticObjective):
    """L_D above."""

    options: StarGANOptions

    def real_term(self, outputs: Tensor, real_aus: Tensor, real_au_mask: Tensor) -> tuple[str, float, Tensor]:
        domains = emotion_domain(real_aus * real_au_mask)
        return "d_cls", self.options.cls, losses.domain_classification_loss(outputs, domains)


class StarGANStage(RivalStage):
    critic_class = StarGANDiscriminator
    options_name = "stargan_options"
    generator_objective_class = StarGANGeneratorObjective
    critic_objective_class = StarGANCriticObjective

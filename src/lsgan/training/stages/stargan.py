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

from torch import Tensor, nn

from lsgan import losses
from lsgan.nets.lsgan import LSGANGenerator
from lsgan.nets.rivals.stargan import StarGANDiscriminator, emotion_domain
from lsgan.training.config import StarGANOptions
from lsgan.training.stages.rival import RivalStage, critic_terms, with_paired_term


class StarGANGeneratorObjective(nn.Module):
    """L_G above. Only the generator is registered; the discriminator is read through a plain dict."""

    def __init__(self, generator: LSGANGenerator, discriminator: nn.Module, options: StarGANOptions,
                 paired: float) -> None:
        super().__init__()
        self.generator = generator
        self.critics = {"discriminator": discriminator}
        self.options = options
        self.paired = paired

    def forward(self, source: Tensor, source_aus: Tensor, target_aus: Tensor, target_au_mask: Tensor,
                true_target: Tensor | None = None) -> dict[str, Tensor]:
        fake = self.generator(source, target_aus, source_aus).image
        scores, domain_logits = self.critics["discriminator"](fake)
        cycled = self.generator(fake, source_aus, target_aus).image
        terms = {
            "adv": losses.generator_adversarial_loss(scores, "wgan-gp"),
            "cls": losses.domain_classification_loss(domain_logits, emotion_domain(target_aus)),
            "rec": losses.cycle_loss(cycled, source),
        }
        total = terms["adv"] + self.options.cls * terms["cls"] + self.options.rec * terms["rec"]
        total = with_paired_term(terms, total, fake, true_target, self.paired)
        return {**terms, "total": total}


class StarGANCriticObjective(nn.Module):
    """L_D above."""

    def __init__(self, discriminator: nn.Module, options: StarGANOptions) -> None:
        super().__init__()
        self.discriminator = discriminator
        self.options = options

    def forward(self, real: Tensor, fake: Tensor, real_aus: Tensor, real_au_mask: Tensor) -> dict[str, Tensor]:
        terms, domain_logits = critic_terms(self.discriminator, real, fake)
        terms["d_cls"] = losses.domain_classification_loss(domain_logits, emotion_domain(real_aus * real_au_mask))
        total = terms["d_adv"] + self.options.gradient_penalty * terms["d_gp"] + self.options.cls * terms["d_cls"]
        return {**terms, "total": total}


class StarGANStage(RivalStage):
    options_name = "stargan_options"

    def build_critic(self) -> nn.Module:
        return StarGANDiscriminator(self.config.model.stargan, self.config.model.image_size)

    def build_generator_objective(self) -> nn.Module:
        return StarGANGeneratorObjective(self.generator, self.critic, self.options, self.config.losses.paired)

    def build_critic_objective(self) -> nn.Module:
        return StarGANCriticObjective(self.critic, self.options)

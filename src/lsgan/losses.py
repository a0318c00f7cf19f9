"""LSGAN's losses (paper §Loss function, Eq. 4-10), one small function each, plus ``LossWeights`` and the total;
at the end, the terms only the rivals (StarGAN, GANimation) use.

Images are [B,3,H,W] in [-1,1]; AU vectors [B,16] in [0,1]. The discriminator outputs are logits (D_cls's AU
outputs are intensities for the MSE form of L_au, logits for its cross-entropy form).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor

from lsgan.config import ConfigError, check_min
from lsgan.errors import LsganError
from lsgan.metrics.image import ms_ssim, ms_ssim_window, ssim

AdversarialKind = Literal["bce", "hinge", "wgan-gp"]
ADVERSARIAL_KINDS: tuple[str, ...] = ("bce", "hinge", "wgan-gp")
AULossKind = Literal["mse", "ce"]
AU_LOSS_KINDS: tuple[str, ...] = ("mse", "ce")
MIN_MS_SSIM_WINDOW = 5  # below this (images up to 64 px) L_rec uses single-scale SSIM


def _check_kind(kind: str) -> None:
    if kind not in ADVERSARIAL_KINDS:
        raise LsganError(f"unknown adversarial loss {kind!r}: choose one of {', '.join(ADVERSARIAL_KINDS)}")


def adversarial_loss(real_logits: Tensor, fake_logits: Tensor, kind: AdversarialKind = "bce") -> Tensor:
    """Discriminator side of Eq. 5, L_adv = E[log D(I_i)] + E[log(1 - D(I~_i))], maximised by D; returned as the
    quantity D minimises. ``bce``: the paper's form; ``hinge``: E[relu(1 - D(I))] + E[relu(1 + D(I~))];
    ``wgan-gp``: E[D(I~)] - E[D(I)] (add ``gradient_penalty``)."""
    _check_kind(kind)
    if kind == "bce":
        real = F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))
        return real + F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))
    if kind == "hinge":
        return F.relu(1.0 - real_logits).mean() + F.relu(1.0 + fake_logits).mean()
    return fake_logits.mean() - real_logits.mean()


def generator_adversarial_loss(fake_logits: Tensor, kind: AdversarialKind = "bce") -> Tensor:
    """Generator side of Eq. 5: the non-saturating -E[log D(I~)] for ``bce``; -E[D(I~)] for hinge and WGAN."""
    _check_kind(kind)
    if kind == "bce":
        return F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))
    return -fake_logits.mean()


def gradient_penalty(critic: Callable[[Tensor], Tensor], real: Tensor, fake: Tensor) -> Tensor:
    """WGAN-GP: E[(||grad_x D(x)||_2 - 1)^2] at random interpolates x of real and fake images (weight it, e.g. 10)."""
    alpha = torch.rand(real.shape[0], 1, 1, 1, device=real.device, dtype=real.dtype)
    mixed = (alpha * real.detach() + (1.0 - alpha) * fake.detach()).requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(mixed).sum(), mixed, create_graph=True)
    return ((grad.flatten(1).norm(dim=1) - 1.0) ** 2).mean()


def latent_adversarial_loss(prior_logits: Tensor, encoded_logits: Tensor) -> Tensor:
    """Eq. 4 for D_z: L^z_adv = E_{z'~N(0,I)}[log D_z(z')] + E_x[log(1 - D_z(E(x)))], as the BCE D_z minimises."""
    return adversarial_loss(prior_logits, encoded_logits, "bce")


def latent_encoder_loss(encoded_logits: Tensor) -> Tensor:
    """Eq. 4 for the encoder E (non-saturating): make D_z take E(x) for a prior sample, -E[log D_z(E(x))]."""
    return generator_adversarial_loss(encoded_logits, "bce")


def au_loss(predicted: Tensor, target: Tensor, mask: Tensor | None = None, kind: AULossKind = "mse") -> Tensor:
    """Eq. 6, L_au: how far the AUs read from the fake are from the target's u_t, averaged over the d = 16 AUs.

    ``mse`` (the default, the paper's LSGAN#2): mean_j (G_exp(I~)_j - u_t,j)^2, ``predicted`` the intensities.
    Eq. 6 as printed also carries a minus sign and a sum over G_exp's levels q; we follow the text ("align ...
    with the target's AUs"). ``ce`` (the paper's LSGAN#1, Fig. 8 / Table 3, "cross entropy loss in L_au", given
    no formula): per-AU binary cross-entropy with the 0-1 intensity as the soft target,
    -mean_j [u_t,j log p_j + (1 - u_t,j) log(1 - p_j)], p = sigmoid(``predicted``): here ``predicted`` are the
    reader's logits (G_exp's before its sigmoid, D_cls's linear outputs), so it is exact and finite at any logit
    and at targets 0 and 1. Its minimum is the target's entropy, not 0; its gradient in the logit, p - u_t, is the KL's.

    ``mask`` [B,16] or [16] (1 = labelled) restricts the mean to labelled AUs, for data sets that annotate only
    some of them; a batch with no labelled AU gives 0 (with a gradient path)."""
    if kind not in AU_LOSS_KINDS:
        raise LsganError(f"unknown AU loss {kind!r}: choose one of {', '.join(AU_LOSS_KINDS)}")
    if kind == "ce":
        per_au = F.binary_cross_entropy_with_logits(predicted, target, reduction="none")
    else:
        per_au = (predicted - target) ** 2
    if mask is None:
        return per_au.mean()
    weights = mask.to(per_au.dtype).expand_as(per_au)
    return (per_au * weights).sum() / weights.sum().clamp_min(1.0)


def discriminator_au_loss(predicted_real_aus: Tensor, real_aus: Tensor, mask: Tensor | None = None,
                          kind: AULossKind = "mse") -> Tensor:
    """D_cls on real images: the AU loss of ``kind`` to their AU labels (GANimation/StarGAN), so D_cls learns to
    read AUs (``ce``: its outputs are logits)."""
    return au_loss(predicted_real_aus, real_aus, mask, kind)


def identity_loss(identity_logits: Tensor, identity: Tensor) -> Tensor:
    """Eq. 7: L_id = -sum_k 1[k = l_i] log C_id^(k)(I~), i.e. cross-entropy of C_id(I~) vs the source identity."""
    return F.cross_entropy(identity_logits, identity)


def structural_similarity(image: Tensor, target: Tensor) -> Tensor:
    """SSIM term of Eq. 8, the batch mean of ``lsgan.metrics.image``'s: MS-SSIM (5 scales, standard weights) with
    the largest window that fits (``ms_ssim_window``: 11 from 161 px, 7 at 128, 5 from 65 px), single-scale SSIM
    (window 11, or the side if smaller) up to 64 px."""
    window = ms_ssim_window(min(image.shape[-2:]))
    if window >= MIN_MS_SSIM_WINDOW:
        return ms_ssim(image, target, win_size=window).mean()
    return ssim(image, target).mean()


def reconstruction_loss(reconstructed: Tensor, source: Tensor) -> Tensor:
    """Eq. 8: L_rec = ||I_r - I_i||_1 + (1 - SSIM(I_r, I_i)), L1 as a per-pixel mean on [-1,1] images."""
    return F.l1_loss(reconstructed, source) + (1.0 - structural_similarity(reconstructed, source))


def cycle_loss(cycled: Tensor, source: Tensor) -> Tensor:
    """Eq. 9: L_cyc = ||I_cyc - I_i||_1 (per-pixel mean)."""
    return F.l1_loss(cycled, source)


def paired_loss(edited: Tensor, true_target: Tensor) -> Tensor:
    """Not in the paper: L_pair = ||I~ - I*||_1 + (1 - SSIM(I~, I*)) against the true target I* (the source person,
    pose and light rendered with the target AUs), which only a synthetic data set such as SynthFACS can give."""
    return reconstruction_loss(edited, true_target)


def colour_loss(colour: Tensor) -> Tensor:
    """Not in the paper: L_col = mean |colour change| of a warping TG's edit (image units), so that an expression
    comes from moving the face rather than from tinting it (tints fool G_exp, not a viewer)."""
    return colour.abs().mean()


def expression_loss(probabilities: Tensor, labels: Tensor, valid: Tensor) -> Tensor:
    """Not in the paper: L_exp, the cross-entropy of a real-face expression classifier's reading of the edit
    (``probabilities`` [B, 7]) against the emotion its target AUs are the prototype of (``labels`` [B]), over the
    samples that have one (``valid`` [B] bool); 0 when none has."""
    if not bool(valid.any()):
        return probabilities.sum() * 0.0
    chosen = probabilities[valid].gather(1, labels[valid, None]).squeeze(1)
    return -torch.log(chosen.clamp_min(1e-6)).mean()


def au_bound_loss(predicted: Tensor, lower: Tensor, upper: Tensor) -> Tensor:
    """Not in the paper: L_bound, G_exp's squared distance outside per-AU bounds ``lower``/``upper`` [B, 16] (0 inside
    them), for faces without AU labels whose bounds come from a real-face expression classifier
    (``training.real_bounds``)."""
    return (torch.relu(lower - predicted) ** 2 + torch.relu(predicted - upper) ** 2).mean()


# --- the rivals' own terms (docs/rivals.md); their adversarial (WGAN-GP) and cycle terms are the ones above ---

def domain_classification_loss(domain_logits: Tensor, domain: Tensor) -> Tensor:
    """StarGAN's domain classification loss (its Eq. 2 on real images for D, Eq. 3 on fakes for G): the
    cross-entropy of D_cls's logits [B, K] against one-hot domains [B, K]."""
    return F.cross_entropy(domain_logits, domain.argmax(dim=1))


def attention_loss(attention: Tensor) -> Tensor:
    """GANimation's attention penalty as its code has it: the mean of the attention mask A [B,1,H,W] (1 keeps the
    input pixel), so that A does not saturate at 1, where every other term is trivially met."""
    return attention.mean()


def attention_smoothness_loss(attention: Tensor) -> Tensor:
    """GANimation's total variation of the attention mask A [B,1,H,W]: mean |horizontal step| + mean |vertical
    step| (their code sums them over the batch and pixels; the weight in ``GANimationOptions`` converts)."""
    horizontal = (attention[..., :, 1:] - attention[..., :, :-1]).abs().mean()
    return horizontal + (attention[..., 1:, :] - attention[..., :-1, :]).abs().mean()


@dataclass
class LossWeights:
    """The lambdas of Eq. 10 (paper: 100, 60, 50, 50). A weight of 0 switches a term off (ablation)."""

    au: float = 100.0
    identity: float = 60.0
    reconstruction: float = 50.0
    cycle: float = 50.0
    gradient_penalty: float = 10.0  # WGAN-GP only
    # Not in the paper: L_pair = L1 + (1 - SSIM) between the edit and its rendered true target (SynthFACS only;
    # docs/architecture.md, departures). 0 keeps the paper's unpaired training.
    paired: float = 0.0
    # Not in the paper: L_col, the mean colour change of a warping TG (tg.output: warp). 0: unpenalised.
    colour: float = 0.0
    # Not in the paper: weight of the same objective (less L_id and L_pair, which need labels) on edits of
    # unlabelled real faces (data.real). 0: SynthFACS only.
    real: float = 0.0
    # Not in the paper: L_exp, face-api's (never fer's: it is the held-out judge) reading of edits whose target is an
    # emotion prototype. 0: no classifier in the loss.
    expression: float = 0.0
    # The form of L_au (and of D_cls's AU loss): mse (the paper's LSGAN#2) or ce, the per-AU binary cross-entropy
    # on logits (the paper's LSGAN#1, Fig. 8 / Table 3): see ``au_loss``.
    au_loss: AULossKind = "mse"

    def __post_init__(self) -> None:
        check_min(self, 0, "au", "identity", "reconstruction", "cycle", "gradient_penalty", "paired", "colour", "real",
                  "expression")
        if self.au_loss not in AU_LOSS_KINDS:
            raise ConfigError(f"au_loss must be one of {', '.join(AU_LOSS_KINDS)}, got {self.au_loss!r}")


@dataclass
class GeneratorLossTerms:
    """The terms of Eq. 10; a term may be None when its weight is 0 (and then it need not be computed)."""

    adversarial: Tensor
    au: Tensor | None = None
    identity: Tensor | None = None
    reconstruction: Tensor | None = None
    cycle: Tensor | None = None
    paired: Tensor | None = None
    colour: Tensor | None = None
    expression: Tensor | None = None


def total_generator_loss(terms: GeneratorLossTerms, weights: LossWeights) -> Tensor:
    """Eq. 10: L = L_adv + lambda_au L_au + lambda_id L_id + lambda_rec L_rec + lambda_cyc L_cyc
    (+ lambda_pair L_pair where the true targets are known, + lambda_col L_col for warping TGs)."""
    weighted = [
        (weights.au, terms.au, "au"),
        (weights.identity, terms.identity, "identity"),
        (weights.reconstruction, terms.reconstruction, "reconstruction"),
        (weights.cycle, terms.cycle, "cycle"),
        (weights.paired, terms.paired, "paired"),
        (weights.colour, terms.colour, "colour"),
        (weights.expression, terms.expression, "expression"),
    ]
    total = terms.adversarial
    for weight, term, name in weighted:
        if weight == 0.0:
            continue
        if term is None:
            raise LsganError(f"loss term {name} is missing but its weight is {weight}")
        total = total + weight * term
    return total

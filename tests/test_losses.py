import math

import pytest
import torch
import torch.nn.functional as F

from lsgan.errors import LsganError
from lsgan.losses import (
    GeneratorLossTerms,
    LossWeights,
    adversarial_loss,
    au_loss,
    cycle_loss,
    discriminator_au_loss,
    generator_adversarial_loss,
    gradient_penalty,
    identity_loss,
    latent_adversarial_loss,
    latent_encoder_loss,
    paired_loss,
    reconstruction_loss,
    structural_similarity,
    total_generator_loss,
)
from lsgan.metrics.image import ms_ssim, ms_ssim_window, ssim


def images(side: int, seed: int = 0) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return torch.rand(2, 3, side, side, generator=generator) * 2 - 1


@pytest.mark.parametrize("side", [32, 64, 128])
def test_reconstruction_loss_is_zero_for_identical_images_and_positive_otherwise(side):
    source = images(side)
    assert reconstruction_loss(source.clone(), source).item() == pytest.approx(0.0, abs=1e-5)
    assert reconstruction_loss(images(side, seed=1), source).item() > 0.5


def test_reconstruction_loss_uses_ms_ssim_only_where_it_fits():
    # The window choice is metrics.image's: the largest odd one whose 4 halvings fit, 5 at least for L_rec.
    assert [ms_ssim_window(side) for side in (64, 65, 96, 97, 128, 160, 161, 256)] == [3, 5, 5, 7, 7, 9, 11, 11]
    small, large = images(64), images(128)
    assert structural_similarity(small, images(64, seed=1)).item() == ssim(small, images(64, seed=1)).mean().item()
    expected = ms_ssim(large, images(128, seed=1), win_size=7).mean().item()
    assert structural_similarity(large, images(128, seed=1)).item() == expected


def test_reconstruction_and_cycle_gradients_flow():
    source = images(128)
    output = images(128, seed=1).requires_grad_(True)
    (reconstruction_loss(output, source) + cycle_loss(output, source)).backward()
    assert torch.isfinite(output.grad).all()
    assert output.grad.abs().sum() > 0


def test_cycle_loss_is_the_mean_absolute_difference():
    source = images(32)
    assert cycle_loss(source.clone(), source).item() == 0.0
    assert cycle_loss(source + 0.25, source).item() == pytest.approx(0.25, rel=1e-5)


def test_au_loss_is_zero_for_a_perfect_prediction_and_the_mse_otherwise():
    target = torch.rand(4, 16)
    assert au_loss(target.clone(), target).item() == 0.0
    predicted = target + 0.1
    assert au_loss(predicted, target).item() == pytest.approx(0.01, rel=1e-4)


def test_au_loss_mask_ignores_unlabelled_aus():
    target = torch.zeros(2, 16)
    predicted = torch.zeros(2, 16)
    predicted[:, 8:] = 1.0  # wrong only where unlabelled
    mask = torch.zeros(16)
    mask[:8] = 1.0
    assert au_loss(predicted, target, mask).item() == 0.0
    predicted[0, 0] = 0.5  # one labelled error among 2 x 8 labelled values
    assert discriminator_au_loss(predicted, target, mask).item() == pytest.approx(0.25 / 16)


def test_au_loss_gradient_flows_and_an_empty_mask_gives_zero():
    predicted = torch.rand(2, 16, requires_grad=True)
    au_loss(predicted, torch.rand(2, 16)).backward()
    assert predicted.grad.abs().sum() > 0
    assert au_loss(predicted, torch.rand(2, 16), torch.zeros(16)).item() == 0.0


def test_cross_entropy_au_loss_is_the_per_au_binary_cross_entropy_of_the_logits():
    logits = torch.tensor([[0.0, 2.0, -1.0], [3.0, -2.0, 0.5]])
    target = torch.tensor([[0.5, 1.0, 0.0], [0.2, 0.0, 1.0]])
    by_hand = 0.0
    for z, t in zip(logits.flatten().tolist(), target.flatten().tolist()):
        p = 1.0 / (1.0 + math.exp(-z))
        by_hand -= t * math.log(p) + (1.0 - t) * math.log(1.0 - p)
    assert au_loss(logits, target, kind="ce").item() == pytest.approx(by_hand / 6, rel=1e-6)
    mask = torch.tensor([1.0, 1.0, 0.0])  # the last AU unlabelled: its terms leave the mean
    kept = F.binary_cross_entropy_with_logits(logits[:, :2], target[:, :2])
    assert discriminator_au_loss(logits, target, mask, kind="ce").item() == pytest.approx(kept.item(), rel=1e-6)


def test_cross_entropy_au_loss_is_finite_with_finite_gradients_at_targets_0_and_1():
    logits = torch.tensor([[-60.0, -5.0, 0.0, 5.0, 60.0]] * 2, requires_grad=True)
    target = torch.tensor([[0.0] * 5, [1.0] * 5])
    loss = au_loss(logits, target, kind="ce")
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(logits.grad).all()
    expected = (torch.sigmoid(logits) - target) / logits.numel()  # d/dz of the mean: (p - t) / n
    torch.testing.assert_close(logits.grad, expected.detach())


def test_au_loss_kind_is_checked():
    with pytest.raises(LsganError, match="unknown AU loss"):
        au_loss(torch.zeros(1, 16), torch.zeros(1, 16), kind="l1")
    with pytest.raises(LsganError, match="au_loss must be one of"):
        LossWeights(au_loss="l1")
    assert LossWeights().au_loss == "mse"


def test_identity_loss_is_cross_entropy_of_the_true_identity():
    logits = torch.tensor([[2.0, 0.0, -1.0]])
    expected = -math.log(math.exp(2.0) / (math.exp(2.0) + 1.0 + math.exp(-1.0)))
    assert identity_loss(logits, torch.tensor([0])).item() == pytest.approx(expected, rel=1e-5)
    assert identity_loss(torch.tensor([[50.0, 0.0, 0.0]]), torch.tensor([0])).item() == pytest.approx(0.0, abs=1e-6)


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def test_bce_adversarial_loss_matches_eq5():
    real, fake = torch.tensor([1.5]), torch.tensor([-0.5])
    expected = -math.log(sigmoid(1.5)) - math.log(1.0 - sigmoid(-0.5))
    assert adversarial_loss(real, fake, "bce").item() == pytest.approx(expected, rel=1e-5)
    assert generator_adversarial_loss(fake, "bce").item() == pytest.approx(-math.log(sigmoid(-0.5)), rel=1e-5)
    assert adversarial_loss(torch.tensor([30.0]), torch.tensor([-30.0])).item() == pytest.approx(0.0, abs=1e-6)


def test_hinge_and_wgan_adversarial_losses():
    real, fake = torch.tensor([0.5, 2.0]), torch.tensor([-0.5, 1.0])
    assert adversarial_loss(real, fake, "hinge").item() == pytest.approx((0.5 + 0.0) / 2 + (0.5 + 2.0) / 2)
    assert adversarial_loss(real, fake, "wgan-gp").item() == pytest.approx(0.25 - 1.25)
    assert generator_adversarial_loss(fake, "hinge").item() == pytest.approx(-0.25)


def test_unknown_adversarial_kind_is_a_user_error():
    with pytest.raises(LsganError, match="lsgan"):
        adversarial_loss(torch.zeros(1), torch.zeros(1), "lsgan")


def test_gradient_penalty_of_a_linear_critic():
    weight = torch.full((1, 3, 4, 4), 0.1)

    def critic(x):
        return (x * weight).flatten(1).sum(dim=1)

    penalty = gradient_penalty(critic, images(4), images(4, seed=1))
    expected = (weight.norm().item() - 1.0) ** 2
    assert penalty.item() == pytest.approx(expected, rel=1e-5)


def test_latent_adversarial_losses():
    confident = latent_adversarial_loss(torch.full((4,), 30.0), torch.full((4,), -30.0))
    assert confident.item() == pytest.approx(0.0, abs=1e-6)
    assert latent_adversarial_loss(torch.zeros(4), torch.zeros(4)).item() == pytest.approx(2 * math.log(2), rel=1e-5)
    assert latent_encoder_loss(torch.zeros(4)).item() == pytest.approx(math.log(2), rel=1e-5)


def test_total_generator_loss_weights_the_terms_like_eq10():
    terms = GeneratorLossTerms(
        adversarial=torch.tensor(1.0),
        au=torch.tensor(0.1),
        identity=torch.tensor(0.2),
        reconstruction=torch.tensor(0.3),
        cycle=torch.tensor(0.4),
    )
    expected = 1.0 + 100 * 0.1 + 60 * 0.2 + 50 * 0.3 + 50 * 0.4
    assert total_generator_loss(terms, LossWeights()).item() == pytest.approx(expected)


def test_a_zero_weight_switches_a_term_off():
    terms = GeneratorLossTerms(adversarial=torch.tensor(1.0), au=torch.tensor(0.1))
    weights = LossWeights(identity=0.0, reconstruction=0.0, cycle=0.0)
    assert total_generator_loss(terms, weights).item() == pytest.approx(1.0 + 100 * 0.1)
    with pytest.raises(LsganError, match="identity"):
        total_generator_loss(terms, LossWeights(reconstruction=0.0, cycle=0.0))


def test_paired_loss_compares_the_edit_with_its_true_target_and_is_off_by_default():
    target = images(32)
    assert paired_loss(target, target).item() == pytest.approx(0.0, abs=1e-5)
    assert paired_loss(images(32, seed=1), target).item() > 0.1
    assert LossWeights().paired == 0.0  # the paper's unpaired training
    terms = GeneratorLossTerms(adversarial=torch.tensor(1.0), au=torch.tensor(0.1), paired=torch.tensor(0.2))
    weights = LossWeights(identity=0.0, reconstruction=0.0, cycle=0.0, paired=100.0)
    assert total_generator_loss(terms, weights).item() == pytest.approx(1.0 + 100 * 0.1 + 100 * 0.2)
    with pytest.raises(LsganError, match="paired"):
        total_generator_loss(GeneratorLossTerms(adversarial=torch.tensor(1.0), au=torch.tensor(0.1)), weights)

import dataclasses
import sys
import types

import numpy as np
import pytest
import torch
import yaml

from lsgan import facs
from lsgan.config import ConfigError
from lsgan.errors import CheckpointError
from lsgan.nets.aae import AAEConfig, AdversarialAutoencoder
from lsgan.nets.auxiliary import (
    STAGE_CHANNELS,
    STAGE_CONVS,
    AURegressor,
    AuxiliaryConfig,
    IdentityClassifier,
)
from lsgan.nets.discriminator import AUDConfig, AUDiscriminator
from lsgan.config import from_dict, to_dict
from lsgan.nets.generator import TG_PRESETS, EncoderDecoderGenerator, TGConfig
from lsgan.nets.lsgan import LSGANConfig, LSGANGenerator, load_bundle, save_bundle
from lsgan.nets.smg import ARM, SMG, SEAttention, SMGConfig, region_masks
from lsgan.nets.weights import load_weights, save_weights
from lsgan.parsing import CLASS_INDEX, NUM_PARSING_CLASSES

SIZES = [32, 64, 128]


def tiny_config(image_size: int = 32, **switches) -> LSGANConfig:
    return LSGANConfig(
        image_size=image_size,
        smg=SMGConfig(width=4),
        aae=AAEConfig(width=4, max_channels=16, latent_dim=8, decoder_width=4, discriminator_hidden=8),
        tg=TGConfig(preset="skip", width=4, max_channels=16),
        aud=AUDConfig(width=4, max_channels=16),
        aux=AuxiliaryConfig(width=1 / 16, embedding_dim=8),
        **switches,
    )


@pytest.fixture(autouse=True)
def seeded_weights():
    """Every network here starts from the same weights: unseeded, a few tests failed now and then on degenerate
    draws (an all-zero ReLU embedding, a dead branch, a half-precision round-off over the tolerance)."""
    torch.manual_seed(0)


def assert_batch_consistent(module: torch.nn.Module, image: torch.Tensor) -> None:
    """In eval mode each sample's outputs do not depend on the rest of the batch (no coupling across samples)."""
    module.eval()
    with torch.no_grad():
        together, alone = module(image), module(image[1:])
    pairs = zip(together, alone) if isinstance(together, tuple) else [(together, alone)]
    for both, single in pairs:
        torch.testing.assert_close(both[1:], single, rtol=1e-4, atol=1e-5)


def random_batch(side: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    return torch.rand(2, 3, side, side, generator=generator) * 2 - 1, torch.rand(2, 16, generator=generator)


# --- SMG -------------------------------------------------------------------------------------------------------


def hardswish(x: np.ndarray) -> np.ndarray:
    return x * np.clip(x + 3.0, 0.0, 6.0) / 6.0


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


@pytest.mark.parametrize("batch_norm", [True, False])
def test_arm_matches_eq1_to_eq3_by_hand(batch_norm):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(1, 2, 2, 3)).astype(np.float32)  # C=2, H=2, W=3
    w1 = rng.normal(size=(4, 2)).astype(np.float32)  # F1: C -> C/r (4 = the minimum width)
    wh, ww = rng.normal(size=(2, 4)).astype(np.float32), rng.normal(size=(2, 4)).astype(np.float32)
    bh, bw = np.array([0.1, -0.2], np.float32), np.array([0.3, 0.0], np.float32)
    b1 = np.zeros(4, np.float32) if batch_norm else np.array([0.5, -0.3, 0.2, 0.0], np.float32)
    arm = ARM(channels=2, reduction=2, batch_norm=batch_norm).eval()  # eval: fresh BN is x / sqrt(1 + eps)
    with torch.no_grad():
        arm.reduce[0].weight.copy_(torch.from_numpy(w1)[:, :, None, None])
        arm.expand_h.weight.copy_(torch.from_numpy(wh)[:, :, None, None])
        arm.expand_h.bias.copy_(torch.from_numpy(bh))
        arm.expand_w.weight.copy_(torch.from_numpy(ww)[:, :, None, None])
        arm.expand_w.bias.copy_(torch.from_numpy(bw))
        if not batch_norm:  # the paper's F1: a 1x1 conv (with a bias) and the activation, no normalisation
            arm.reduce[0].bias.copy_(torch.from_numpy(b1))
        y = arm(torch.from_numpy(x)).numpy()

    bn_scale = 1.0 / np.sqrt(1.0 + arm.reduce[1].eps) if batch_norm else 1.0
    assert isinstance(arm.reduce[1], torch.nn.BatchNorm2d) == batch_norm
    z_h = x[0].mean(axis=2)  # Eq. 1: [C, H]
    z_w = x[0].mean(axis=1)  # [C, W]
    f_h = hardswish(bn_scale * (w1 @ z_h + b1[:, None]))  # f = delta(F1([z_h, z_w])), split: [C/r, H]
    f_w = hardswish(bn_scale * (w1 @ z_w + b1[:, None]))  # [C/r, W]
    g_h = sigmoid(wh @ f_h + bh[:, None])  # Eq. 2: [C, H]
    g_w = sigmoid(ww @ f_w + bw[:, None])  # [C, W]
    expected = x[0] * g_h[:, :, None] * g_w[:, None, :]  # Eq. 3
    np.testing.assert_allclose(y[0], expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("attention", [ARM, SEAttention])
def test_attention_modules_rescale_each_feature_by_a_gate_in_0_1(attention):
    x = torch.randn(2, 16, 5, 7)
    y = attention(16, 4)(x)
    assert y.shape == x.shape
    gate = y / x
    assert ((gate > 0) & (gate < 1)).all()  # sigmoid gates: same sign, smaller magnitude
    assert not torch.allclose(gate, gate.flatten(1).mean(1)[:, None, None, None])  # not one global factor
    if attention is SEAttention:  # one gate per channel, the same at every position
        torch.testing.assert_close(gate, gate[:, :, :1, :1].expand_as(gate))


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("attention", ["arm", "se"])
def test_smg_gives_parsing_logits_at_input_resolution(size, attention):
    smg = SMG(SMGConfig(width=4, attention=attention))
    image, _ = random_batch(size)
    logits = smg(image)
    assert logits.shape == (2, NUM_PARSING_CLASSES, size, size) and torch.isfinite(logits).all()
    assert not torch.allclose(logits[0], logits[1])  # the map depends on the image
    assert_batch_consistent(smg, image)


SMG_DEPARTURES = ("context_stem", "global_context", "context_merge", "arm_norm")


@pytest.mark.parametrize("switched_off", [*SMG_DEPARTURES, "all"])
def test_each_smg_departure_switches_off_to_the_papers_design(switched_off):
    names = SMG_DEPARTURES if switched_off == "all" else (switched_off,)
    smg = SMG(SMGConfig(width=4, **{name: False for name in names}))
    image, _ = random_batch(40)  # 40 px: the paper's context path (1/2, 1/4) ends finer than the spatial path (1/8)
    logits = smg(image)
    assert logits.shape == (2, NUM_PARSING_CLASSES, 40, 40) and torch.isfinite(logits).all()
    assert_batch_consistent(smg, image)
    arm_norms = [isinstance(arm.reduce[1], torch.nn.BatchNorm2d) for arm in smg.modules() if isinstance(arm, ARM)]
    assert len(arm_norms) == 3 and all(arm_norms) == ("arm_norm" not in names)  # 2 in the context path, 1 in the FFM
    context = smg.context
    assert isinstance(context.stem, torch.nn.Identity) == ("context_stem" in names)
    assert context.block16.body[0][0].in_channels == (3 if "context_stem" in names else 8)
    assert (context.global_context is None) == ("global_context" in names)
    assert (context.merge32 is None and context.merge16 is None) == ("context_merge" in names)
    assert context.out_channels == (16 + 32 if "context_merge" in names else 8)


def face_labels(side: int = 64) -> torch.Tensor:
    """[2, side, side] label maps: skin, an eye box at the top and a lip box at the bottom."""
    labels = torch.full((2, side, side), CLASS_INDEX["skin"], dtype=torch.long)
    labels[:, 16:20, 12:24] = CLASS_INDEX["left_eye"]
    labels[:, 12:14, 12:24] = CLASS_INDEX["left_brow"]
    labels[:, 46:52, 24:40] = CLASS_INDEX["upper_lip"]
    return labels


def test_region_masks_sum_to_one_and_cover_the_dilated_regions():
    labels = face_labels()
    masks = region_masks(labels, dilation=0.1, blur=0.02)  # grow 6 px, blur 1 px
    assert masks.shape == (2, 3, 64, 64)
    torch.testing.assert_close(masks.sum(dim=1), torch.ones(2, 64, 64))
    eye, mouth, part = masks[:, 0], masks[:, 1], masks[:, 2]
    eye_labels = (labels == CLASS_INDEX["left_eye"]) | (labels == CLASS_INDEX["left_brow"])
    mouth_labels = labels == CLASS_INDEX["upper_lip"]
    assert (eye[eye_labels] == 1).all() and (eye[mouth_labels] == 0).all()
    assert (mouth[mouth_labels] == 1).all() and (mouth[eye_labels] == 0).all()
    assert (eye[:, 21:24, 12:24] == 1).all()  # 4 px below the eye: inside the enlarged region
    assert (part[:, 0, :] == 1).all() and (part[:, 30, :] == 1).all()  # far from both regions
    assert ((masks >= 0) & (masks <= 1)).all()


def test_region_masks_from_logits_equal_those_from_labels():
    labels = face_labels()
    logits = torch.nn.functional.one_hot(labels, NUM_PARSING_CLASSES).permute(0, 3, 1, 2).float() * 5
    torch.testing.assert_close(region_masks(logits), region_masks(labels))


# --- AAE, TG, AUD, auxiliary nets --------------------------------------------------------------------------------


@pytest.mark.parametrize("size", SIZES)
def test_aae_shapes(size):
    config = tiny_config(size)
    aae = AdversarialAutoencoder(config.aae, size)
    image, _ = random_batch(size)
    z, reconstruction = aae(image)
    assert z.shape == (2, 8) and reconstruction.shape == image.shape
    assert reconstruction.abs().max() <= 1
    assert not torch.allclose(z[0], z[1]) and not torch.allclose(reconstruction[0], reconstruction[1])
    assert_batch_consistent(aae, image)
    assert aae.latent_discriminator(aae.sample_prior(2)).shape == (2,)
    assert [f.shape[-1] for f in aae.encoder(image).features] == [
        size,
        size // 2,
        size // 4,
        size // 8,
        size // 16,
        max(1, size // 32),
        max(1, size // 64),
    ]


@pytest.mark.parametrize("size", SIZES)
def test_aud_shapes(size):
    aud = AUDiscriminator(AUDConfig(width=4, max_channels=16), size)
    image = random_batch(size)[0].requires_grad_()
    adv, aus = aud(image)
    assert adv.shape == (2, 1, max(1, size // 64), max(1, size // 64))
    assert aus.shape == (2, facs.NUM_AUS)
    (adv.sum() + aus.sum()).backward()  # both heads read the image (what the generator's gradient needs)
    assert image.grad is not None and image.grad.abs().sum() > 0
    assert not torch.allclose(aus[0], aus[1])
    assert_batch_consistent(aud, image.detach())


@pytest.mark.parametrize("size", SIZES)
def test_auxiliary_shapes(size):
    config = AuxiliaryConfig(width=1 / 16, embedding_dim=8)
    image, _ = random_batch(size)
    regressor = AURegressor(config).eval()
    aus = regressor(image)
    assert aus.shape == (2, 16) and ((aus >= 0) & (aus <= 1)).all()
    assert_batch_consistent(regressor, image)
    identity = IdentityClassifier(7, config)
    assert identity(image).shape == (2, 7)
    torch.testing.assert_close(identity.embedding(image).norm(dim=1), torch.ones(2))
    assert_batch_consistent(identity, image)


def test_imagenet_init_copies_vgg16_convs_and_repeats_the_last_for_vgg19(monkeypatch):
    shapes, in_channels = [], 3
    for convs, channels in zip(STAGE_CONVS["vgg16"], STAGE_CHANNELS):
        for _ in range(convs):
            shapes.append((channels, in_channels))
            in_channels = channels
    fake_weights = [(torch.randn(o, i, 3, 3), torch.randn(o)) for o, i in shapes]
    module = types.ModuleType("lsgan.nets.pretrained")
    module.vgg16_conv_weights = lambda: fake_weights
    monkeypatch.setitem(sys.modules, "lsgan.nets.pretrained", module)

    convs = AURegressor(AuxiliaryConfig(arch="vgg19", init="imagenet", batch_norm=False)).features.convs()
    assert len(convs) == 16
    torch.testing.assert_close(convs[0].weight, fake_weights[0][0])
    torch.testing.assert_close(convs[6].weight, fake_weights[6][0])  # stage 3, third conv
    torch.testing.assert_close(convs[7].weight, fake_weights[6][0])  # stage 3, extra fourth conv
    torch.testing.assert_close(convs[15].bias, fake_weights[12][1])
    with pytest.raises(ConfigError, match="width"):
        AURegressor(AuxiliaryConfig(init="imagenet", width=0.5))


# --- LSGANGenerator ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", SIZES)
def test_generator_shapes_and_fusion(size):
    generator = LSGANGenerator(tiny_config(size))
    image, aus = random_batch(size)
    out = generator(image, aus)
    assert out.image.shape == out.masks.shape == image.shape
    assert set(out.branches) == {"eye", "mouth", "part"}
    fused = sum(out.masks[:, i : i + 1] * out.branches[r] for i, r in enumerate(["eye", "mouth", "part"]))
    torch.testing.assert_close(out.image, fused)
    edited, masks = generator.edit(image, aus)
    torch.testing.assert_close(edited, out.image)
    torch.testing.assert_close(masks, out.masks)


def test_generator_is_batch_consistent_without_per_sample_coupling():
    generator = LSGANGenerator(tiny_config(32)).eval()
    image, aus = random_batch(32)
    with torch.no_grad():
        both = generator(image, aus).image
        first = generator(image[:1], aus[:1]).image
    torch.testing.assert_close(both[:1], first, rtol=1e-4, atol=1e-5)


def test_generator_gradients_reach_encoder_and_tg_but_not_the_frozen_smg():
    generator = LSGANGenerator(tiny_config(32)).train()
    assert not generator.smg.training
    image, aus = random_batch(32)
    generator(image, aus).image.mean().backward()
    assert all(p.grad is None for p in generator.smg.parameters())
    assert generator.encoder.stem[0].weight.grad.abs().sum() > 0
    for branch in generator.tg.branches.values():
        assert branch.from_code.weight.grad is not None


def test_target_aus_change_the_output():
    generator = LSGANGenerator(tiny_config(32))
    image, aus = random_batch(32)
    assert not torch.allclose(generator(image, aus).image, generator(image, 1 - aus).image)


def test_residual_output_starts_as_the_identity_edit_and_learns_changes():
    config = tiny_config(32)
    config.tg = dataclasses.replace(config.tg, output="residual")
    generator = LSGANGenerator(config)
    image, aus = random_batch(32)
    out = generator(image, aus)
    torch.testing.assert_close(out.image, image)  # zero-initialised last convs: no change before training
    for branch in out.branches.values():
        torch.testing.assert_close(branch, image)
    out.image.sub(image.flip(0)).abs().mean().backward()
    last_convs = [branch.to_image[-2].weight.grad for branch in generator.tg.branches.values()]
    assert all(grad is not None and grad.abs().sum() > 0 for grad in last_convs)


@pytest.mark.parametrize("gated", [False, True])
def test_warp_output_starts_as_the_identity_edit_and_moves_pixels(gated):
    config = tiny_config(32)
    config.tg = dataclasses.replace(config.tg, output="warp", au_gated=gated)
    generator = LSGANGenerator(config)
    image, aus = random_batch(32)
    torch.testing.assert_close(generator(image, aus).image, image, atol=1e-5, rtol=0)
    drawn = torch.zeros(2, 5, 32, 32)
    drawn[:, 0] = 2 / 32 / config.tg.max_shift  # sample one pixel to the right: the image shifts left by one
    moved = generator.tg._warp(image, drawn)
    torch.testing.assert_close(moved[..., :-1], image[..., 1:], atol=1e-5, rtol=0)
    drawn = torch.zeros(2, 5, 32, 32)
    drawn[:, 2:] = 0.1  # the RGB change: +0.2 on the [-1, 1] scale
    torch.testing.assert_close(generator.tg._warp(image, drawn), (image + 0.2).clamp(-1, 1), atol=1e-5, rtol=0)


def test_pixel_centre_grid_is_the_identity_grid_of_grid_sample():
    from lsgan.nets.generator import pixel_centre_grid

    image = torch.rand(2, 3, 8, 6)
    identity = torch.eye(2, 3)[None].expand(2, 2, 3)
    expected = torch.nn.functional.affine_grid(identity, [2, 3, 8, 6], align_corners=False)
    torch.testing.assert_close(pixel_centre_grid(image).expand(2, -1, -1, -1), expected)


def test_au_gated_output_is_a_bias_set_plus_one_set_per_au_weighted_by_its_intensity():
    config = tiny_config(32)
    config.tg = dataclasses.replace(config.tg, output="residual", au_gated=True)
    branch = LSGANGenerator(config).tg.branches["mouth"]
    n_aus = len(config.tg.mouth_aus)
    maps = torch.randn(2, 3 * (n_aus + 1), 4, 4)
    aus = torch.rand(2, n_aus)
    per_au = maps.view(2, n_aus + 1, 3, 4, 4)
    expected = per_au[:, 0] + (aus[:, :, None, None, None] * per_au[:, 1:]).sum(1)
    torch.testing.assert_close(branch._gate(maps, aus), expected)
    assert branch.to_image[-2].out_channels == 3 * (n_aus + 1)


def test_change_conditioning_reads_target_minus_source_and_needs_the_source():
    from lsgan.errors import LsganError

    config = tiny_config(32)
    config.tg = dataclasses.replace(config.tg, condition="change")
    generator = LSGANGenerator(config).eval()
    image, aus = random_batch(32)
    assert generator.needs_source_aus and not LSGANGenerator(tiny_config(32)).needs_source_aus
    with pytest.raises(LsganError, match="source's AUs"):
        generator(image, aus)
    with torch.no_grad():
        same_change = generator(image, aus, aus * 0.5).image, generator(image, aus * 0.5 + 0.2, 0.2 + 0 * aus).image
        other_change = generator(image, aus, aus).image
    torch.testing.assert_close(*same_change)  # only target - source matters
    assert not torch.allclose(same_change[0], other_change)
    # ... and it is target - source, not source - target: the same weights reading the change as their target.
    by_target = LSGANGenerator(tiny_config(32)).eval()
    by_target.load_state_dict(generator.state_dict())
    with torch.no_grad():
        torch.testing.assert_close(same_change[0], by_target(image, aus * 0.5).image)
        assert not torch.allclose(by_target(image, aus * 0.5).image, by_target(image, -aus * 0.5).image)


def test_no_smg_ablation_gives_part_only_masks():
    generator = LSGANGenerator(tiny_config(32, use_smg=False))
    out = generator(*random_batch(32))
    expected = torch.zeros_like(out.masks)
    expected[:, 2] = 1
    torch.testing.assert_close(out.masks, expected)
    torch.testing.assert_close(out.image, out.branches["part"])
    assert generator.smg is None


def test_encoder_decoder_ablation_reads_the_smg_masks():
    config = tiny_config(32, generator="encoder_decoder")
    config.encoder_decoder = dataclasses.replace(config.encoder_decoder, width=4, residual_blocks=1)
    generator = LSGANGenerator(config).eval()
    image, aus = random_batch(32)
    out = generator(image, aus)
    assert out.image.shape == (2, 3, 32, 32) and out.branches == {}
    assert generator.encoder is None and generator.tg is None and generator.smg is not None
    net = generator.encoder_decoder
    assert net.net[0][0].in_channels == 3 + facs.NUM_AUS + 3  # image, AU maps, (eye, mouth, part) masks
    with torch.no_grad():
        torch.testing.assert_close(out.image, net(image, aus, out.masks))
        swapped = net(image, aus, out.masks[:, [2, 1, 0]])
    assert (swapped - out.image).abs().max() > 1e-4  # the masks change what it draws
    with pytest.raises(ValueError, match="mask"):
        net(image, aus)


def test_encoder_decoder_without_smg_reads_no_masks():
    config = tiny_config(32, generator="encoder_decoder", use_smg=False)
    config.encoder_decoder = dataclasses.replace(config.encoder_decoder, width=4, residual_blocks=1)
    generator = LSGANGenerator(config).eval()
    assert generator.encoder_decoder.net[0][0].in_channels == 3 + facs.NUM_AUS
    image, aus = random_batch(32)
    with torch.no_grad():
        torch.testing.assert_close(generator(image, aus).image, generator.encoder_decoder(image, aus))


def test_skip_levels_zero_is_the_papers_vector_latent_generator():
    with_skips = LSGANGenerator(tiny_config(32))
    paper = LSGANGenerator(dataclasses.replace(tiny_config(32), tg=TGConfig(width=4, max_channels=16)))
    assert paper.config.tg.skip_levels == 0  # the default preset is the paper's
    assert paper(*random_batch(32)).image.shape == (2, 3, 32, 32)
    count = lambda module: sum(p.numel() for p in module.tg.parameters())
    assert count(paper) < count(with_skips)


def test_tg_presets_resolve_to_their_table_and_build():
    assert TGConfig().preset == "paper"
    expected = {
        "paper": dict(skip_levels=0, output="image", au_gated=False, condition="target"),
        "skip": dict(skip_levels=7, output="image", au_gated=False, condition="target"),
        "warp": dict(skip_levels=7, output="warp", au_gated=True, condition="change", max_colour=0.06),
    }
    assert set(TG_PRESETS) == set(expected)
    for preset, values in expected.items():
        tg = TGConfig(preset=preset, width=4, max_channels=16)
        assert {name: getattr(tg, name) for name in values} == values
        generator = LSGANGenerator(dataclasses.replace(tiny_config(32), tg=tg)).eval()
        image, aus = random_batch(32)
        with torch.no_grad():
            assert generator(image, aus, aus.flip(0)).image.shape == (2, 3, 32, 32)
        assert generator.needs_source_aus == (preset == "warp")
        assert len(generator.tg.branches["eye"].skip_level_set) == values["skip_levels"]


def test_an_explicit_tg_setting_beats_its_preset_and_a_resolved_config_loads_back_the_same():
    tg = TGConfig(preset="warp", skip_levels=3, max_colour=1.0)
    assert (tg.skip_levels, tg.max_colour, tg.output, tg.au_gated) == (3, 1.0, "warp", True)
    from_yaml = from_dict(TGConfig, {"preset": "paper", "output": "residual"})
    assert (from_yaml.skip_levels, from_yaml.output) == (0, "residual")
    for preset in TG_PRESETS:
        config = dataclasses.replace(tiny_config(32), tg=TGConfig(preset=preset, width=4, max_channels=16))
        saved = to_dict(config)
        assert saved["tg"]["preset"] == preset and saved["tg"]["skip_levels"] is not None
        loaded = from_dict(LSGANConfig, saved)
        assert loaded == config
        shapes = lambda c: {k: v.shape for k, v in LSGANGenerator(c).state_dict().items()}
        assert shapes(loaded) == shapes(config)
    with pytest.raises(ConfigError, match="preset"):
        TGConfig(preset="unet")


def test_bad_sizes_are_config_errors():
    with pytest.raises(ConfigError, match="image_size"):
        LSGANConfig(image_size=30)
    with pytest.raises(ConfigError, match="skip_levels"):
        TGConfig(skip_levels=8)


# --- model bundle -----------------------------------------------------------------------------------------------


def test_bundle_round_trips_exactly(tmp_path):
    config = tiny_config(32)
    generator, regressor = LSGANGenerator(config).eval(), AURegressor(config.aux).eval()
    discriminator = AUDiscriminator(config.aud, config.image_size)
    save_bundle(tmp_path / "bundle", config, generator, regressor, extra={"discriminator": discriminator})
    assert sorted(p.name for p in (tmp_path / "bundle").iterdir()) == [
        "au_regressor.safetensors",
        "config.yaml",
        "discriminator.safetensors",
        "generator.safetensors",
    ]
    bundle = load_bundle(tmp_path / "bundle")
    assert bundle.config == config
    image, aus = random_batch(32)
    with torch.no_grad():
        torch.testing.assert_close(bundle.generator(image, aus).image, generator(image, aus).image, rtol=0, atol=0)
        torch.testing.assert_close(bundle.au_regressor(image), regressor(image), rtol=0, atol=0)


def test_half_precision_storage_halves_the_file_and_loads_back_as_float32(tmp_path):
    from safetensors.torch import load_file

    config = tiny_config(32)
    generator = LSGANGenerator(config).eval()
    save_weights(generator, tmp_path / "full.safetensors")
    save_weights(generator, tmp_path / "half.safetensors", torch.float16)
    stored = load_file(tmp_path / "half.safetensors")
    statistics = ("running_mean", "running_var")
    floats = {n: t.dtype for n, t in stored.items() if t.is_floating_point()}
    assert all(dtype == torch.float16 for n, dtype in floats.items() if not n.endswith(statistics))
    assert all(dtype == torch.float32 for n, dtype in floats.items() if n.endswith(statistics))
    assert (tmp_path / "half.safetensors").stat().st_size < 0.6 * (tmp_path / "full.safetensors").stat().st_size
    loaded = LSGANGenerator(config).eval()
    load_weights(loaded, tmp_path / "half.safetensors")
    assert all(p.dtype == torch.float32 for p in loaded.parameters())
    image, aus = random_batch(32)
    with torch.no_grad():
        torch.testing.assert_close(loaded(image, aus).image, generator(image, aus).image, rtol=0, atol=2e-2)


def test_loading_a_bundle_with_another_config_names_what_does_not_fit(tmp_path):
    config = tiny_config(32)
    save_bundle(tmp_path, config, LSGANGenerator(config), AURegressor(config.aux))
    data = yaml.safe_load((tmp_path / "config.yaml").read_text())
    data["tg"]["width"] = 8
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(data))
    with pytest.raises(CheckpointError, match="generator.safetensors.*shape"):
        load_bundle(tmp_path)


def test_loading_a_missing_bundle_is_a_checkpoint_error(tmp_path):
    with pytest.raises(CheckpointError, match="no config.yaml"):
        load_bundle(tmp_path / "nowhere")
    config = tiny_config(32)
    save_bundle(tmp_path, config, LSGANGenerator(config), AURegressor(config.aux))
    (tmp_path / "au_regressor.safetensors").unlink()
    with pytest.raises(CheckpointError, match="missing weights file"):
        load_bundle(tmp_path)

import io

import numpy as np
import pytest
import torch
from PIL import Image

from lsgan.data.images import (
    ImageExtras,
    center_square,
    read_extras,
    read_image,
    read_image_and_alpha,
    read_label_map,
    resize_image,
    to_tensor,
    to_uint8,
    write_image,
)
from lsgan.errors import InputImageError


@pytest.fixture
def photo(rng):
    return rng.integers(0, 256, size=(24, 32, 3), dtype=np.uint8)


def test_every_source_kind_reads_the_same_pixels(photo, save_png):
    path = save_png("photo.png", photo)
    from_path = read_image(path)
    assert from_path.dtype == np.uint8 and from_path.shape == (24, 32, 3)
    np.testing.assert_array_equal(from_path, photo)
    np.testing.assert_array_equal(read_image(str(path)), photo)
    np.testing.assert_array_equal(read_image(path.read_bytes()), photo)
    np.testing.assert_array_equal(read_image(Image.fromarray(photo)), photo)
    np.testing.assert_array_equal(read_image(photo), photo)


def test_grayscale_becomes_three_equal_channels(photo, save_png):
    gray = photo[:, :, 0]
    for rgb in (read_image(save_png("gray.png", gray)), read_image(gray), read_image(gray[:, :, None])):
        assert rgb.shape == (24, 32, 3)
        np.testing.assert_array_equal(rgb[:, :, 0], gray)
        np.testing.assert_array_equal(rgb[:, :, 2], gray)


def test_alpha_is_composited_on_white(photo, save_png):
    rgba = np.dstack([photo, np.full(photo.shape[:2], 255, np.uint8)])
    rgba[:5, :5, 3] = 0
    rgba[5, 5, 3] = 128
    rgb = read_image(save_png("alpha.png", rgba))
    assert rgb.shape == (24, 32, 3)
    assert np.all(rgb[:5, :5] == 255)
    np.testing.assert_array_equal(rgb[10:, 10:], photo[10:, 10:])
    expected = np.round(photo[5, 5] * (128 / 255) + 255 * (127 / 255))
    np.testing.assert_allclose(rgb[5, 5], expected, atol=1)
    la = Image.fromarray(rgba[:, :, [0, 3]], mode="LA")
    assert np.all(read_image(la)[:5, :5] == 255)


def test_palette_with_transparency_is_composited(save_png):
    img = Image.new("P", (20, 20), 1)
    img.putpalette([0, 0, 0, 200, 10, 10] + [0] * 762)
    img.info["transparency"] = 0
    img.paste(0, (0, 0, 10, 20))
    rgb = read_image(save_png("palette.png", img))
    assert np.all(rgb[:, :10] == 255) and tuple(rgb[0, 15]) == (200, 10, 10)


def test_extras_hold_what_read_image_leaves_out(photo, save_png):
    assert read_extras(save_png("plain.png", photo)) == ImageExtras()  # nothing set aside: nothing to give back
    from PIL import ImageCms

    for space, kept in (("sRGB", True), ("LAB", False)):  # a profile for other pixels than RGB is not given back
        profile = ImageCms.ImageCmsProfile(ImageCms.createProfile(space)).tobytes()
        path = save_png(f"{space}.png", photo)
        Image.fromarray(photo).save(path, icc_profile=profile)
        assert read_extras(path).icc_profile == (profile if kept else None)
    img = Image.new("P", (20, 20), 1)
    img.putpalette([0, 0, 0, 200, 10, 10] + [0] * 762)
    img.info["transparency"] = 0
    img.paste(0, (0, 0, 10, 20))
    extras = read_extras(save_png("palette.png", img))
    assert extras.rgba.shape == (20, 20, 4) and not extras.rgba[:, :10, 3].any() and extras.rgba[:, 10:, 3].all()
    edited = read_image(save_png("palette.png", img))
    edited[5, 15] = (1, 2, 3)
    out = np.asarray(Image.open(write_image(save_png("x.png", photo).with_name("edited.png"), edited, extras)))
    assert out.shape == (20, 20, 4) and tuple(out[5, 15]) == (1, 2, 3, 255)
    assert tuple(out[0, 0]) == (0, 0, 0, 0)  # the hidden colour, not the white it was read on
    other_size = np.asarray(Image.open(write_image(save_png("x.png", photo), photo, extras)))
    np.testing.assert_array_equal(other_size, photo)  # extras of another image: its alpha is not laid on


def test_a_grey_file_s_edit_is_written_grey_while_its_pixels_are(photo, save_png):
    """A grey file (L, LA) comes back grey, with its alpha and its grey profile, as PNG and JPEG; an edit that made
    it colour comes back RGB without the grey profile; WebP (RGB only) and RGB files holding grey stay RGB."""
    from PIL import ImageCms

    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("LAB")).tobytes()
    profile = profile[:16] + b"GRAY" + profile[20:]  # a profile whose colour space is grey (header bytes 16-19)
    grey = np.asarray(Image.fromarray(photo).convert("L"))
    path = save_png("grey.png", grey)
    Image.fromarray(grey).save(path, icc_profile=profile)
    extras = read_extras(path)
    assert extras.grey and extras.icc_profile == profile
    edited = read_image(path)
    edited[2:5, 2:5] = 17  # an edit that keeps it grey
    for name in ("out.png", "out.jpg"):
        out = Image.open(write_image(path.with_name(name), edited, extras))
        assert out.mode == "L" and out.info.get("icc_profile") == profile
    np.testing.assert_array_equal(np.asarray(Image.open(path.with_name("out.png"))), edited[:, :, 0])
    assert Image.open(write_image(path.with_name("out.webp"), edited, extras)).mode == "RGB"
    coloured = edited.copy()
    coloured[3, 3] = (200, 10, 10)
    out = Image.open(write_image(path.with_name("red.png"), coloured, extras))
    assert out.mode == "RGB" and "icc_profile" not in out.info
    np.testing.assert_array_equal(np.asarray(out), coloured)
    with_alpha = save_png("grey_alpha.png", Image.fromarray(grey).convert("LA"))
    out = Image.open(write_image(path.with_name("alpha.png"), read_image(with_alpha), read_extras(with_alpha)))
    assert out.mode == "LA"
    rgb_grey = save_png("rgb_grey.png", np.repeat(grey[..., None], 3, axis=-1))
    assert not read_extras(rgb_grey).grey
    assert Image.open(write_image(path.with_name("rgb.png"), read_image(rgb_grey), read_extras(rgb_grey))).mode == "RGB"


def test_an_image_with_alpha_is_decoded_once(photo, save_png, monkeypatch):
    """``read_image_and_alpha`` gives the RGBA that ``read_extras`` would decode again; given it, ``read_extras``
    reads only the file's header. Without alpha there is none to give."""
    from lsgan.data import images

    rgba = np.dstack([photo, np.where(np.arange(32) < 16, 0, 255).astype(np.uint8)[None].repeat(24, 0)])
    path = save_png("alpha.png", rgba)
    rgb, kept = read_image_and_alpha(path)
    np.testing.assert_array_equal(rgb, read_image(path))
    np.testing.assert_array_equal(kept, read_extras(path).rgba)
    monkeypatch.setattr(images, "_open_pil", lambda *args: pytest.fail("decoded again"))
    assert read_extras(path, kept).rgba is kept
    assert read_image_and_alpha(photo)[1] is None  # an array in memory: no file to write back with alpha
    monkeypatch.undo()
    assert read_image_and_alpha(save_png("plain.png", photo))[1] is None


def test_16_bit_images_are_scaled_to_8_bit(save_png):
    deep = np.full((20, 20), 65535, np.uint16)
    deep[:10] = 256 * 100
    rgb = read_image(save_png("deep.png", Image.fromarray(deep)))
    assert rgb.dtype == np.uint8 and rgb[0, 0, 0] == 100 and rgb[15, 0, 0] == 255
    np.testing.assert_array_equal(read_image(deep), rgb)


def test_exif_orientation_is_applied(tmp_path):
    img = Image.new("RGB", (40, 20), (255, 0, 0))
    img.paste((0, 0, 255), (0, 0, 20, 20))  # left half blue
    exif = Image.Exif()
    exif[0x0112] = 6  # stored rotated: display needs 90 degrees clockwise
    path = tmp_path / "phone.jpg"
    img.save(path, exif=exif, quality=95)
    rgb = read_image(path)
    assert rgb.shape == (40, 20, 3)
    assert rgb[5, 10, 2] > 200 and rgb[35, 10, 0] > 200  # blue moved to the top


def test_float_and_bool_arrays():
    assert read_image(np.ones((20, 20), bool))[0, 0, 0] == 255
    assert read_image(np.full((20, 20, 3), 0.5))[0, 0, 0] == 128
    with pytest.raises(InputImageError, match="float pixels"):
        read_image(np.full((20, 20, 3), 2.0))


def test_garbage_bytes_name_the_file(tmp_path):
    path = tmp_path / "fake.jpg"
    path.write_bytes(b"\x80\x04this is not an image" * 10)  # a pickle header: never unpickled
    with pytest.raises(InputImageError, match="fake.jpg.*not a readable image"):
        read_image(path)
    with pytest.raises(InputImageError, match="upload.png"):
        read_image(b"garbage", name="upload.png")


def test_postscript_is_never_run(tmp_path):
    path = tmp_path / "drawing.eps"
    path.write_bytes(b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 20 20\nshowpage\n")
    with pytest.raises(InputImageError, match="drawing.eps.*not a readable image"):
        read_image(path)


def test_truncated_png_names_the_file(photo, tmp_path):
    buffer = io.BytesIO()
    Image.fromarray(np.tile(photo, (4, 4, 1))).save(buffer, format="PNG")
    path = tmp_path / "cut.png"
    path.write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])
    with pytest.raises(InputImageError, match="cut.png"):
        read_image(path)


def test_too_small_and_empty_images(save_png, tmp_path):
    with pytest.raises(InputImageError, match="tiny.png.*1x1"):
        read_image(save_png("tiny.png", np.zeros((1, 1, 3), np.uint8)))
    with pytest.raises(InputImageError, match="smaller than the minimum 64x64"):
        read_image(np.zeros((40, 80, 3), np.uint8), min_size=64)
    with pytest.raises(InputImageError, match="zero size"):
        read_image(np.zeros((0, 5, 3), np.uint8))
    with pytest.raises(InputImageError, match="missing.png: no such image file"):
        read_image(tmp_path / "missing.png")
    with pytest.raises(InputImageError, match="shape"):
        read_image(np.zeros((20, 20, 2), np.uint8))


def test_tensor_round_trip(photo):
    tensor = to_tensor(photo)
    assert tensor.shape == (3, 24, 32) and tensor.dtype == torch.float32
    assert tensor.min() >= -1 and tensor.max() <= 1
    np.testing.assert_array_equal(to_uint8(tensor), photo)
    batch = to_uint8(torch.stack([tensor, tensor * 0 + 5]))
    assert batch.shape == (2, 24, 32, 3) and np.all(batch[1] == 255)  # clamped


def test_write_image_is_atomic_and_lossless(photo, tmp_path):
    path = write_image(tmp_path / "sub" / "out.png", photo)
    np.testing.assert_array_equal(read_image(path), photo)
    assert [p.name for p in path.parent.iterdir()] == ["out.png"]


def test_resize_and_label_maps(tmp_path):
    labels = np.zeros((40, 60), np.uint8)
    labels[:, 30:] = 7
    path = write_image(tmp_path / "labels.png", labels)
    read = read_label_map(path, num_classes=18)
    small = resize_image(center_square(read), 16, nearest=True)
    assert small.shape == (16, 16) and set(np.unique(small)) == {0, 7}
    with pytest.raises(InputImageError, match="labels.png.*label value 7"):
        read_label_map(path, num_classes=5)
    assert resize_image(np.zeros((30, 30, 3), np.uint8), (20, 10)).shape == (10, 20, 3)

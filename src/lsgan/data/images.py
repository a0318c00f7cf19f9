"""Safe image reading and writing, and the uint8 <-> tensor conversions used at the API edge.

Every image leaves ``read_image`` as uint8 RGB ``H×W×3``. Conversions on the way in:

- grayscale (L, 1, I;16, I, F) is replicated to RGB; 16-bit and float data are scaled to 8 bit;
- images with alpha (RGBA, LA, PA, P with transparency) are composited on white, so transparent
  backgrounds become white instead of whatever colour the hidden pixels happen to hold;
- the EXIF orientation tag is applied, so phone photos come out upright.

What this sets aside of a file, an edit gives back (``read_extras``, ``write_image(..., extras)``): its colour
profile (pixels stay in the file's colour space, so without it a wide-gamut phone photo would come back in other
colours), its EXIF (the orientation reset: the pixels are upright), in formats that hold it its alpha (kept from
the one decode by ``read_image_and_alpha``), and a grey file's one channel (an edit that kept it grey is written
grey, with the file's grey profile).

Only raster decoders (``READABLE_FORMATS``) are involved: nothing is unpickled or evaluated. Truncated files are errors
(``ImageFile.LOAD_TRUNCATED_IMAGES`` is left False and the pixels are decoded eagerly).
"""

from __future__ import annotations

import io
import logging
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError

from lsgan.atomic import atomic_file
from lsgan.errors import InputImageError, OutputError

ImageSource = str | Path | bytes | bytearray | np.ndarray | Image.Image

DEFAULT_MIN_SIZE = 16
LUMA = np.array([0.299, 0.587, 0.114], np.float32)  # RGB weights of luma (BT.601)
DEFAULT_MAX_PIXELS = 50_000_000  # 50 MP: a 12000x12000 PNG would otherwise take ~6 GB to edit
log = logging.getLogger("lsgan")
_WHITE = (255, 255, 255)
# Raster formats decoded in-process (JPEG covers multi-picture MPO). Others are refused: for EPS, PIL would
# run Ghostscript on the file, i.e. execute a program.
READABLE_FORMATS = ("PNG", "JPEG", "BMP", "GIF", "TIFF", "WEBP", "PPM")
_PIL_READ_ERRORS = (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError)


def describe_source(source: ImageSource, name: str | None = None) -> str:
    """How an image source is named in error messages."""
    if name:
        return name
    if isinstance(source, (str, Path)):
        return str(source)
    return f"<{type(source).__name__} image>"


def read_image(source: ImageSource, *, min_size: int = DEFAULT_MIN_SIZE, name: str | None = None,
               max_pixels: int | None = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """Read a file path, encoded bytes, PIL image or numpy array as uint8 RGB ``H×W×3``.

    Raises ``InputImageError`` naming the file when it is missing, not an image, truncated, empty,
    smaller than ``min_size`` pixels on a side, or larger than ``max_pixels`` (width × height, checked from the
    file's header before any pixel is decoded; ``None``: no limit). Of an animated image only the first frame is
    read, with a notice on the ``lsgan`` logger.
    """
    return read_image_and_alpha(source, min_size=min_size, name=name, max_pixels=max_pixels)[0]


def read_image_and_alpha(source: ImageSource, *, min_size: int = DEFAULT_MIN_SIZE, name: str | None = None,
                         max_pixels: int | None = DEFAULT_MAX_PIXELS) -> tuple[np.ndarray, np.ndarray | None]:
    """(``read_image``'s RGB, and the ``H×W×4`` RGBA it was composited from where a file, bytes or PIL image has
    alpha, else None), from one decode: ``read_extras(path, rgba)`` then need not decode the file again."""
    label = describe_source(source, name)
    if isinstance(source, np.ndarray):
        _check_pixels(source.shape[1] if source.ndim > 1 else 1, source.shape[0], max_pixels, label)
        rgb, rgba = _array_to_rgb(source, label), None
    elif isinstance(source, Image.Image):
        _check_pixels(source.width, source.height, max_pixels, label)
        rgb, rgba = _pil_to_rgb(_decoded(source, label), label)
    elif isinstance(source, (bytes, bytearray)):
        rgb, rgba = _pil_to_rgb(_open_pil(io.BytesIO(source), label, max_pixels), label)
    elif isinstance(source, (str, Path)):
        rgb, rgba = _pil_to_rgb(_open_pil(_existing_file(Path(source)), label, max_pixels), label)
    else:
        raise InputImageError(f"{label}: cannot read an image from a {type(source).__name__}")
    _check_size(rgb, min_size, label)
    return rgb, rgba


def _check_pixels(width: int, height: int, max_pixels: int | None, label: str) -> None:
    if max_pixels is not None and width * height > max_pixels:
        raise InputImageError(
            f"{label}: image is {width}x{height} ({width * height / 1e6:.0f} MP), over the limit of "
            f"{max_pixels / 1e6:g} MP; downscale it or raise the limit (--max-pixels)"
        )


def _existing_file(path: Path) -> Path:
    if not path.is_file():
        raise InputImageError(f"{path}: no such image file")
    return path


def _open_pil(fp: Path | io.BytesIO, label: str, max_pixels: int | None = DEFAULT_MAX_PIXELS) -> Image.Image:
    try:
        with _header(fp) as img:
            _check_pixels(img.width, img.height, max_pixels, label)
            if getattr(img, "is_animated", False):
                log.warning(f"{label}: an animated image; only its first frame is used")
            return _decoded(ImageOps.exif_transpose(img), label)
    except InputImageError:
        raise
    except UnidentifiedImageError:
        raise InputImageError(f"{label}: not a readable image (unknown or unsupported format)") from None
    except Image.DecompressionBombError as err:  # Pillow's own limit (beyond ours when max_pixels is None)
        raise InputImageError(f"{label}: image too large to decode ({err})") from None
    except _PIL_READ_ERRORS as err:
        raise InputImageError(f"{label}: not a readable image ({err})") from None


def _header(fp: Path | io.BytesIO) -> Image.Image:
    """The opened image, header read, no pixels decoded; Pillow's size warning is left to our own limit."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        return Image.open(fp, formats=READABLE_FORMATS)


def _decoded(img: Image.Image, label: str) -> Image.Image:
    """Force the pixel data to be decoded now, so a truncated file fails here with its name."""
    try:
        img.load()
    except _PIL_READ_ERRORS as err:
        raise InputImageError(f"{label}: truncated or corrupt image ({err})") from None
    return img


def _pil_to_rgb(img: Image.Image, label: str) -> tuple[np.ndarray, np.ndarray | None]:
    """(RGB, and the RGBA it was composited from where ``img`` has alpha, else None)."""
    if img.width == 0 or img.height == 0:
        raise InputImageError(f"{label}: image has zero size ({img.width}x{img.height})")
    if img.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        return _array_to_rgb(np.asarray(img), label), None
    if _has_alpha(img):
        rgba = np.asarray(img.convert("RGBA"))
        return _composite_on_white(rgba), rgba
    return np.asarray(img.convert("RGB")).copy(), None


def _has_alpha(img: Image.Image) -> bool:
    return img.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (img.mode == "P" and "transparency" in img.info)


def _array_to_rgb(arr: np.ndarray, label: str) -> np.ndarray:
    """Numpy input: ``H×W``, ``H×W×1``, ``H×W×3`` or ``H×W×4`` of uint8, uint16, bool or float in [0, 1]."""
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[:, :, 0]
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] not in (3, 4)):
        raise InputImageError(f"{label}: expected an H×W, H×W×3 or H×W×4 array, got shape {arr.shape}")
    if arr.size == 0:
        raise InputImageError(f"{label}: image has zero size {arr.shape}")
    arr = _to_uint8(arr, label)
    if arr.ndim == 2:
        return np.repeat(arr[:, :, None], 3, axis=2)
    if arr.shape[2] == 4:
        return _composite_on_white(arr)
    return np.ascontiguousarray(arr)


def _to_uint8(arr: np.ndarray, label: str) -> np.ndarray:
    if arr.dtype == np.uint8:
        return arr
    if arr.dtype == np.bool_:
        return arr.astype(np.uint8) * 255
    if np.issubdtype(arr.dtype, np.integer):
        # 16-bit PNG/TIFF data (PIL gives 'I' mode as int32 holding 0-65535).
        if arr.min() < 0 or arr.max() > 65535:
            raise InputImageError(f"{label}: integer pixel values outside 0-65535")
        return (arr.astype(np.uint32) >> 8).astype(np.uint8) if arr.max() > 255 else arr.astype(np.uint8)
    if np.issubdtype(arr.dtype, np.floating):
        if not np.all(np.isfinite(arr)) or arr.min() < 0 or arr.max() > 1:
            raise InputImageError(f"{label}: float pixels must be finite and in [0, 1]")
        return np.round(arr * 255).astype(np.uint8)
    raise InputImageError(f"{label}: unsupported pixel type {arr.dtype}")


def _composite_on_white(rgba: np.ndarray) -> np.ndarray:
    alpha = rgba[:, :, 3:4].astype(np.float32) / 255.0
    rgb = rgba[:, :, :3].astype(np.float32) * alpha + np.array(_WHITE, np.float32) * (1.0 - alpha)
    return np.round(rgb).astype(np.uint8)


def _check_size(rgb: np.ndarray, min_size: int, label: str) -> None:
    height, width = rgb.shape[:2]
    if min(height, width) < min_size:
        raise InputImageError(f"{label}: image is {width}x{height}, smaller than the minimum {min_size}x{min_size}")


def read_label_map(path: str | Path, num_classes: int) -> np.ndarray:
    """A label map PNG as uint8 ``H×W``; every value must index a class below ``num_classes``."""
    path = Path(path)
    img = _open_pil(_existing_file(path), str(path))
    if img.mode not in ("L", "P", "I;16", "I"):
        raise InputImageError(f"{path}: a label map must be a single-channel image, got mode {img.mode}")
    labels = np.asarray(img)
    if labels.size and labels.max() >= num_classes:
        raise InputImageError(f"{path}: label value {int(labels.max())} is not a class (0-{num_classes - 1})")
    return labels.astype(np.uint8)


# Output suffixes and the format each names; anything else is refused rather than written as mislabelled PNG bytes.
WRITABLE_FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP"}
ALPHA_FORMATS = ("PNG", "WEBP")
_SAVE_OPTIONS = {"JPEG": {"quality": 95}, "WEBP": {"quality": 95}}
EXIF_ORIENTATION = 0x0112
ICC_RGB = b"RGB "  # an ICC profile's colour space (header bytes 16-19) that fits the RGB pixels written ...
ICC_GREY = b"GRAY"  # ... and one that fits a grey file's pixels, written grey
GREY_MODES = ("1", "L", "LA", "La", "I;16", "I;16B", "I;16L", "I", "F")  # single-channel files (with alpha for LA)
GREY_FORMATS = ("PNG", "JPEG")  # the formats written grey (WebP holds RGB only)


@dataclass(frozen=True)
class ImageExtras:
    """What ``read_image`` leaves out of an image file: its ICC colour profile (an RGB one: the pixels written are
    RGB), its EXIF (orientation reset, as ``read_image`` turns the pixels upright), for an image with alpha
    ``rgba`` (``H×W×4`` uint8, upright: the alpha and the colours under it, before ``read_image`` composites them on
    white), and ``grey``: the file had one channel (then ``icc_profile`` may be a grey one, for grey pixels)."""

    icc_profile: bytes | None = None
    exif: bytes | None = None
    rgba: np.ndarray | None = None
    grey: bool = False


def read_extras(path: str | Path, rgba: np.ndarray | None = None) -> ImageExtras:
    """The ``ImageExtras`` of an image file; its pixels are decoded again only when it has alpha and ``rgba`` (its
    RGBA as ``read_image_and_alpha`` read it) is not given."""
    path = Path(path)
    try:
        with _header(_existing_file(path)) as img:
            exif = img.getexif()
            exif.pop(EXIF_ORIENTATION, None)
            grey = img.mode in GREY_MODES
            icc = img.info.get("icc_profile") or None
            if icc is not None and icc[16:20] != (ICC_GREY if grey else ICC_RGB):  # e.g. a CMYK file's profile
                icc = None
            has_alpha = _has_alpha(img)
    except _PIL_READ_ERRORS as err:
        raise InputImageError(f"{path}: not a readable image ({err})") from None
    if not has_alpha:
        rgba = None
    elif rgba is None:
        rgba = np.asarray(_open_pil(path, str(path), None).convert("RGBA"))
    return ImageExtras(icc, exif.tobytes() if len(exif) else None, rgba, grey)


def _with_alpha(edited: np.ndarray, rgba: np.ndarray) -> np.ndarray:
    """``H×W×4``: the source's alpha over the edit, and the source's own colours wherever the edit left the
    white-composited pixels as they were (so a half-transparent edge keeps its colour, not white's)."""
    kept = (edited == _composite_on_white(rgba)).all(axis=2, keepdims=True)
    return np.concatenate([np.where(kept, rgba[:, :, :3], edited), rgba[:, :, 3:]], axis=2)


def _is_grey(array: np.ndarray) -> bool:
    """Whether an ``H×W×3`` (or ``×4``, alpha last) image's colour channels are all equal."""
    colour = array[:, :, :3] if array.ndim == 3 else None
    return colour is not None and bool(np.all(colour == colour[:, :, :1]))


def output_format(path: str | Path) -> str:
    """The Pillow format an output path names (``.png``, ``.jpg``/``.jpeg``, ``.webp``); ``OutputError`` else."""
    suffix = Path(path).suffix.lower()
    if suffix not in WRITABLE_FORMATS:
        shown = suffix or "no extension"
        folder = "" if suffix else f" (or {path}/ for a new folder)"
        raise OutputError(f"{path}: cannot write images as {shown}; use one of {', '.join(WRITABLE_FORMATS)}{folder}")
    return WRITABLE_FORMATS[suffix]


def write_image(path: str | Path, array: np.ndarray, extras: ImageExtras | None = None) -> Path:
    """Write uint8 ``H×W×3`` (or ``H×W`` label map) atomically (``lsgan.atomic``) in the format its suffix names,
    with the colour profile, EXIF and (PNG, WebP) alpha of the image it was made from (``extras``, same size); grey
    (PNG, JPEG) where that was a grey file and the pixels are still grey.

    A reader never sees a half-written file, even if the process is killed.
    """
    path = Path(path)
    fmt = output_format(path)
    options = dict(_SAVE_OPTIONS.get(fmt, {}))
    if extras is not None:
        if extras.rgba is not None and fmt in ALPHA_FORMATS and extras.rgba.shape[:2] == array.shape[:2]:
            array = _with_alpha(array, extras.rgba)
        grey = extras.grey and fmt in GREY_FORMATS and _is_grey(array)
        if grey:  # L, or LA with the alpha
            array = array[:, :, [0, 3]] if array.shape[2] == 4 else array[:, :, 0]
        icc = extras.icc_profile
        if icc is not None and (icc[16:20] == ICC_GREY) != grey:  # a grey profile for grey pixels, RGB for RGB
            icc = None
        options.update({key: value for key, value in (("icc_profile", icc), ("exif", extras.exif))
                        if value is not None})
    img = Image.fromarray(np.ascontiguousarray(array))
    with atomic_file(path) as tmp:
        img.save(tmp, format=fmt, **options)
    return path


def center_square(image: np.ndarray) -> np.ndarray:
    """The largest centred square of an ``H×W[×C]`` array."""
    height, width = image.shape[:2]
    side = min(height, width)
    top, left = (height - side) // 2, (width - side) // 2
    return image[top:top + side, left:left + side]


def resize_image(image: np.ndarray, size: int | tuple[int, int], *, nearest: bool = False) -> np.ndarray:
    """Resize uint8 ``H×W×3`` (antialiased) or a label map ``H×W`` (``nearest=True``) to ``size`` (S or (W, H))."""
    width, height = (size, size) if isinstance(size, int) else size
    if image.shape[1] == width and image.shape[0] == height:
        return image
    resample = Image.Resampling.NEAREST if nearest else Image.Resampling.LANCZOS
    return np.array(Image.fromarray(image).resize((width, height), resample))


def to_tensor(image: np.ndarray) -> torch.Tensor:
    """uint8 ``H×W×3`` -> float ``[3, H, W]`` in [-1, 1]."""
    chw = torch.from_numpy(np.require(image, requirements=("C", "W"))).permute(2, 0, 1)
    return chw.float().div(127.5).sub(1.0)


def to_uint8(tensor: torch.Tensor) -> np.ndarray:
    """float ``[3, H, W]`` (or ``[B, 3, H, W]``) in [-1, 1] -> uint8 ``H×W×3`` (or ``B×H×W×3``)."""
    scaled = tensor.detach().float().cpu().add(1.0).mul(127.5).round().clamp(0, 255).to(torch.uint8)
    return scaled.movedim(-3, -1).numpy()

"""Image intake: open anything a user might hand us, make it RGB, size it for the model.

Pipeline (what `prepare_image` does), one module each:

1. `intake.open_image`: path / bytes / file-like / PIL image / uint8 array -> a fully loaded RGB
   PIL image, EXIF orientation applied, first frame of an animation, transparency composited
   over white (`modes`: every colour mode to RGB). Every problem with the image itself raises
   `ImageError` (`errors`) whose message is meant for a person, not a programmer. A path must
   name a regular file: a named pipe, socket, device or folder is refused from `os.stat`
   before anything is opened (`check_file`).
2. `prepare.prepare_image`: resize + centre-crop so that height H and width W are multiples of
   unit = patch_size * window_size (the Swin stage-1 windows must tile the token map).
3. `prepare.to_tensor`: (1, 3, H, W) float32, ImageNet-normalised.

Safety: the encoded file may be at most `MAX_BYTES` (`uri.decode_data_uri` checks a data: URI's
size before decoding it); the image at most `max_pixels`, checked from the header before any
pixel is decoded. Pillow's own decompression-bomb limit (`PIL.Image.MAX_IMAGE_PIXELS`) still
applies on top of ours: its `DecompressionBombError` becomes `ImageError` and its warning is
silenced. 16-bit, 32-bit and float images are scaled to 8 bit in strips of about a million
pixels, so the conversion needs the 8-bit copy and little more on top of the decoded pixels.
"""

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

# each name is imported from its module on first use (swinviz._lazy): the app's page
# imports parts of this package before torch is imported
__getattr__, __dir__ = lazy_exports(__name__, {
    "errors": ("ImageError",),
    "intake": ("MAX_BYTES", "MAX_PIXELS", "ImageSource", "check_file", "open_image"),
    "prepare": ("IMAGENET_MEAN", "IMAGENET_STD", "KEEP_MAX_ASPECT", "PAD_RGB", "POLICIES",
                "PreparedImage", "denormalize", "prepare_image", "to_tensor", "valid_size"),
    "uri": ("decode_data_uri", "parse_size"),
})

if TYPE_CHECKING:
    from .errors import ImageError
    from .intake import MAX_BYTES, MAX_PIXELS, ImageSource, check_file, open_image
    from .prepare import (
        IMAGENET_MEAN,
        IMAGENET_STD,
        KEEP_MAX_ASPECT,
        PAD_RGB,
        POLICIES,
        PreparedImage,
        denormalize,
        prepare_image,
        to_tensor,
        valid_size,
    )
    from .uri import decode_data_uri, parse_size

__all__ = [
    "IMAGENET_MEAN", "IMAGENET_STD", "KEEP_MAX_ASPECT", "MAX_BYTES", "MAX_PIXELS", "PAD_RGB",
    "POLICIES", "ImageError", "ImageSource", "PreparedImage", "check_file", "decode_data_uri",
    "denormalize", "open_image", "parse_size", "prepare_image", "to_tensor", "valid_size",
]

"""Tensor shapes written `C x spatial...`, e.g. `3x64x64`."""

from __future__ import annotations

import math

from ..platform.errors import BadInput

MAX_SPATIAL_DIMS = 3
MAX_SIZE = 10**9


def _sizes(text: str) -> tuple[int, ...] | None:
    """The sizes of `3x64x64` (`X` and `×` too, spaces around them allowed), or None when
    `text` is not written like a shape (string methods: a regular expression would cost
    start-up time to compile)."""
    parts = [part.strip() for part in text.replace("X", "x").replace("×", "x").split("x")]
    if len(parts) < 2 or not all(part.isdecimal() for part in parts):
        return None
    return tuple(int(part) for part in parts)


def parse_shape(text: str, what: str = "shape") -> tuple[int, ...]:
    """Parse `3x64x64` (also `3X64X64`, `3×64×64`) into (3, 64, 64): a channel count and 1 to 3
    spatial sizes, all >= 1 (BadInput, naming `what`, for anything else).

    >>> parse_shape("3x64x64")
    (3, 64, 64)
    """
    if not isinstance(text, str):
        if not isinstance(text, (tuple, list)) or not all(type(v) is int for v in text):
            raise TypeError(
                f"{what} must be a shape as text such as '3x64x64' or a tuple of "
                f"whole numbers, not {type(text).__name__}"
            )
        text = "x".join(str(v) for v in text)
    if len(text) > 200:
        raise BadInput(f"{what} is too long ({len(text)} characters)")
    dims = _sizes(text)
    if dims is None:
        raise BadInput(
            f"{what} {text!r} is not a shape; write channels x sizes, e.g. 3x64 (1-D), "
            "3x64x64 (2-D) or 3x16x64x64 (3-D), with positive whole numbers"
        )
    if len(dims) - 1 > MAX_SPATIAL_DIMS:
        raise BadInput(f"{what} {text!r} has {len(dims) - 1} spatial axes; cnnplan handles 1 to 3")
    for value in dims:
        if value < 1:
            raise BadInput(f"{what} {text!r} has a size {value}; every size must be at least 1")
        if value > MAX_SIZE:
            raise BadInput(f"{what} {text!r} has a size {value} above the limit {MAX_SIZE}")
    return dims


def looks_like_shape(text: str) -> bool:
    """Whether `text` is written like a shape (`3x64x64`), whatever its sizes.

    >>> looks_like_shape("3x64x64"), looks_like_shape("conv(8)")
    (True, False)
    """
    return isinstance(text, str) and len(text) <= 200 and _sizes(text) is not None


def format_shape(shape) -> str:
    """A shape as cnnplan writes it.

    >>> format_shape((64, 32, 32))
    '64x32x32'
    """
    return "x".join(str(v) for v in shape)


def size_of(shape) -> int:
    """Number of elements of a shape.

    >>> size_of((3, 4, 4))
    48
    """
    return math.prod(shape)


def layout_hints(option: str, shape, flat: bool = False) -> list[str]:
    """Hints for a shape that looks written another way than `C x sizes`: channels last
    (224x224x3), with a batch first (1x3x224x224), or (`flat`, or square) an image without its
    channels (224x224). Empty when it looks right.

    >>> layout_hints("--in", (224, 224, 3))[0][:64]
    'shapes are channels first: --in 224x224x3 was read as 224 channe'
    >>> layout_hints("--in", (1, 3, 224, 224))[0][:70]
    'shapes leave out the batch: --in 1x3x224x224 was read as 1 channel of '
    >>> layout_hints("--in", (3, 224, 224)), layout_hints("--in", (64, 3, 8))
    ([], [])
    """
    hints = []
    if len(shape) >= 3 and shape[-1] <= 4 < shape[0] and shape[-1] < min(shape[1:-1]):
        hints.append(
            f"shapes are channels first: {option} {format_shape(shape)} was read as "
            f"{shape[0]} channels of size {format_shape(shape[1:])}; a "
            f"{format_shape(shape[:-1])} image with {shape[-1]} channels is "
            f"{format_shape((shape[-1],) + shape[:-1])}"
        )
    elif len(shape) >= 4 and shape[1] in (1, 3, 4) and shape[1] < min(shape[2:]):
        hints.append(
            f"shapes leave out the batch: {option} {format_shape(shape)} was read as "
            f"{shape[0]} channel{'s' * (shape[0] != 1)} of size "
            f"{format_shape(shape[1:])} (a {len(shape) - 1}-D input); without the "
            f"batch it is {format_shape(shape[1:])}"
        )
    elif len(shape) == 2 and (flat or shape[0] == shape[1]):
        hints.append(
            f"{option} {format_shape(shape)} was read as 1-D: {shape[0]} "
            f"channel{'s' * (shape[0] != 1)} of length {shape[1]}; a "
            f"{format_shape(shape)} image is 1x{format_shape(shape)} (or "
            f"3x{format_shape(shape)})"
        )
    return hints

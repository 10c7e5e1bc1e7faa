"""Layer kinds: the arithmetic of one axis, tensor shapes, the `LayerKind`/`Window` records,
the registry every part reads, and the core's own kinds (registered like a plugin's).

A new layer kind is a `LayerKind` record returned from a plugin's `register_layer_kinds` hook
(docs/plugins.md); the core's are in `cnnplan/kinds/core.py`.
"""

from .records import (
    ABSENT,
    BOOLEAN,
    NONNEGATIVE,
    PADS,
    POSITIVE,
    SAME_PADS,
    SIZES,
    WHOLE,
    WINDOW_RULES,
    WINDOW_VARIABLES,
    Applied,
    Arg,
    KindBroken,
    LayerKind,
    RfStep,
    Saves,
    Window,
    signature,
)
from .registry import KindRegistry, describe_kinds, kinds

__all__ = [
    "ABSENT",
    "BOOLEAN",
    "NONNEGATIVE",
    "PADS",
    "POSITIVE",
    "SAME_PADS",
    "SIZES",
    "WHOLE",
    "WINDOW_RULES",
    "WINDOW_VARIABLES",
    "Applied",
    "Arg",
    "KindBroken",
    "KindRegistry",
    "LayerKind",
    "RfStep",
    "Saves",
    "Window",
    "describe_kinds",
    "kinds",
    "signature",
]

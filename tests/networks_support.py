"""Helpers shared by the network, planner and export tests: random layer stacks (hypothesis)
and an independent builder of torch modules from layer specs (the oracle side)."""

from __future__ import annotations

from hypothesis import strategies as st


def torch_module(torch, spec, shape):
    """A torch.nn module for one complete spec applied to `shape` (written independently of
    cnnplan.network.export, so the export is checked against this and both against torch)."""
    nn = torch.nn
    n = len(shape) - 1
    g = spec.get
    kind = spec.kind
    if kind == "conv":
        cls = [nn.Conv1d, nn.Conv2d, nn.Conv3d][n - 1]
        return cls(shape[0], g("channels"), g("k"), stride=g("s"), padding=g("p"),
                   dilation=g("d"), groups=g("groups"), bias=g("bias"))
    if kind == "convT":
        cls = [nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d][n - 1]
        return cls(shape[0], g("channels"), g("k"), stride=g("s"), padding=g("p"),
                   output_padding=g("op"), groups=g("groups"), bias=g("bias"), dilation=g("d"))
    if kind == "maxpool":
        cls = [nn.MaxPool1d, nn.MaxPool2d, nn.MaxPool3d][n - 1]
        return cls(g("k"), stride=g("s"), padding=g("p"), dilation=g("d"), ceil_mode=g("ceil"))
    if kind == "avgpool":
        cls = [nn.AvgPool1d, nn.AvgPool2d, nn.AvgPool3d][n - 1]
        return cls(g("k"), stride=g("s"), padding=g("p"), ceil_mode=g("ceil"))
    if kind == "flatten":
        return nn.Flatten()
    if kind == "linear":
        return nn.Linear(shape[0], g("features"), bias=g("bias"))
    if kind == "bn":
        return [nn.BatchNorm1d, nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d][max(n, 0)](shape[0])
    return {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid}[kind]()


@st.composite
def layer_text(draw, spatial: bool):
    """One random layer spec as text (window layers only while the input is spatial)."""
    if spatial:
        kind = draw(st.sampled_from(["conv", "conv", "convT", "maxpool", "avgpool", "bn",
                                     "relu", "flatten"]))
    else:
        kind = draw(st.sampled_from(["linear", "bn", "tanh", "sigmoid"]))
    if kind == "conv":
        groups = draw(st.sampled_from([1, 1, 2]))
        return (f"conv({draw(st.integers(1, 4)) * groups}, k={draw(st.integers(1, 5))}, "
                f"s={draw(st.integers(1, 3))}, p={draw(st.integers(0, 3))}, "
                f"d={draw(st.integers(1, 3))}, groups={groups}, "
                f"bias={draw(st.sampled_from(['true', 'false']))})")
    if kind == "convT":
        groups = draw(st.sampled_from([1, 1, 2]))
        return (f"convT({draw(st.integers(1, 4)) * groups}, k={draw(st.integers(1, 4))}, "
                f"s={draw(st.integers(1, 3))}, p={draw(st.integers(0, 2))}, "
                f"d={draw(st.integers(1, 2))}, op={draw(st.integers(0, 2))}, groups={groups})")
    if kind == "maxpool":
        return (f"maxpool(k={draw(st.integers(1, 4))}, s={draw(st.integers(1, 3))}, "
                f"p={draw(st.integers(0, 2))}, d={draw(st.integers(1, 2))}, "
                f"ceil={draw(st.sampled_from(['true', 'false']))})")
    if kind == "avgpool":
        return (f"avgpool(k={draw(st.integers(1, 4))}, s={draw(st.integers(1, 3))}, "
                f"p={draw(st.integers(0, 2))}, ceil={draw(st.sampled_from(['true', 'false']))})")
    if kind == "linear":
        return f"linear({draw(st.integers(1, 6))}, bias={draw(st.sampled_from(['true', 'false']))})"
    return kind


@st.composite
def network_case(draw):
    """(input shape, [spec text]) with 1 to 3 spatial axes and up to 5 layers."""
    dims = draw(st.sampled_from([1, 1, 2, 2, 3]))
    top = {1: 40, 2: 16, 3: 7}[dims]
    channels = draw(st.sampled_from([1, 2, 4]))
    sizes = [draw(st.integers(1, top))]
    for _ in range(dims - 1):
        sizes.append(draw(st.sampled_from([sizes[0], draw(st.integers(1, top))])))
    specs, spatial = [], True
    for _ in range(draw(st.integers(1, 5))):
        text = draw(layer_text(spatial))
        if text == "flatten":
            spatial = False
        specs.append(text)
    return (channels, *sizes), specs


def unet_plan(padded: bool, levels: int = 3, width: int = 2, input: str = "1x64x64") -> str:
    """A U-Net as a cnnplan plan file: per level two 3x3 convolutions (padded, or valid as in
    the original), 2x2 max pooling; up the other side 2x2 transposed convolutions, the skips
    concatenated (centre-cropped when valid), two convolutions; a 1x1 head to 2 classes."""
    p = 1 if padded else 0
    lines = [f'input = "{input}"']

    def layer(spec, name=None, sources=None):
        lines.append("[[layers]]")
        if name:
            lines.append(f'name = "{name}"')
        lines.append(f'spec = "{spec}"')
        if sources:
            lines.append("from = [" + ", ".join(f'"{s}"' for s in sources) + "]")

    def double(c, name=None):
        layer(f"conv({c}, k=3, p={p})")
        layer("relu")
        layer(f"conv({c}, k=3, p={p})")
        layer("relu", name)

    for level in range(levels):
        double(width * 2 ** level, f"skip{level}")
        layer("maxpool(2)")
    double(width * 2 ** levels)
    for level in reversed(range(levels)):
        layer(f"convT({width * 2 ** level}, k=2, s=2)", f"up{level}")
        layer("concat" if padded else "concat(crop=true)", None, [f"skip{level}", f"up{level}"])
        double(width * 2 ** level)
    layer("conv(2, k=1)")
    return "\n".join(lines)

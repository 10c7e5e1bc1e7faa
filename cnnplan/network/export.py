"""`--format torch`: a self-contained Python snippet that builds a network (from `cnnplan
shapes`) or the chains (from `cnnplan plan`) as torch.nn.Sequential with exactly these
hyperparameters, plus a `check()` that runs a zero tensor through it and compares every
intermediate shape with cnnplan's.

The snippet is made from the Result's JSON document: its canonical layer specs are parsed
again (language/specs.py) and re-applied (forward.py), so only network and chain results qualify.
"""

from __future__ import annotations

import re

from ..kinds.shape import format_shape
from ..language.specs import parse_spec
from ..platform import VERSION as __version__
from ..platform.errors import BadInput, CnnplanError, NoSolution
from ..platform.result import Result
from ..platform.usertext import visible
from .forward import build_nodes, forward

NOT_A_NETWORK = (
    "--format torch exports networks (cnnplan shapes) and chains (cnnplan plan); "
    "this result is neither"
)


def module_code(spec, shape, inputs=None) -> str:
    """The torch.nn constructor call for one complete layer applied to `shape` (the layer
    kind's own `torch` rule)."""
    return spec.record.torch(spec, tuple(inputs) if inputs else (tuple(shape),))


def _sequential(net, indent: str = "") -> list[str]:
    lines = [f"{indent}nn.Sequential("]
    for step in net.steps:
        lines.append(
            f"{indent}    {module_code(step.spec, step.input)},  "
            f"# {step.index}: {format_shape(step.output)}"
        )
    lines.append(f"{indent})")
    return lines


def _shapes(net) -> str:
    return "[" + ", ".join(repr(tuple(step.output)) for step in net.steps) + "]"


HELPERS = {
    "original_names(": '''

def original_names(state):
    """A load_state_dict pre-hook: the original model's keys of the layers in `state` (path ->
    where the original keeps the layer's tensors: a module, or the one parameter) become this
    module's, so that load_state_dict(original.state_dict()) loads them (strict)."""

    def hook(module, state_dict, prefix, *_):
        for path, original in state.items():
            layer = module.get_submodule(path)
            own = [k for k in layer.state_dict(keep_vars=True) if "." not in k]
            pairs = [("param", original)] if own == ["param"] else [
                (k, f"{original}.{k}") for k in own]
            for name, key in pairs:
                if prefix + key in state_dict:
                    value, mine = state_dict.pop(prefix + key), getattr(layer, name)
                    if value.shape != mine.shape and value.numel() == mine.numel():
                        value = value.reshape(mine.shape)   # (1, n, d) kept as (n, d)
                    state_dict[f"{prefix}{path}.{name}"] = value

    return hook
''',
    "put(": '''

def put(root, path, module):
    """Register `module` at the dotted `path` under `root` (plain nn.Module containers in
    between), so that its parameters are named by the path, as in the imported model."""
    *parents, last = path.split(".")
    for name in parents:
        if name not in root._modules:
            root.add_module(name, nn.Module())
        root = root._modules[name]
    old = root._modules.get(last)
    root.add_module(last, module)
    if old is not None and type(old) is nn.Module:      # a container made for its children
        for name, child in old.named_children():
            module.add_module(name, child)
''',
    "center_crop": '''

def center_crop(tensors):
    """Centre-crop every tensor to the smallest size on each spatial axis (U-Net's skips)."""
    sizes = [min(t.shape[a] for t in tensors) for a in range(2, tensors[0].dim())]
    out = []
    for t in tensors:
        for a, size in enumerate(sizes, start=2):
            t = t.narrow(a, (t.shape[a] - size) // 2, size)
        out.append(t)
    return out
''',
    "Learned(": '''

class Learned(nn.Module):
    """The input times (scale) or plus (shift) a learned tensor of `shape`, or nothing (None)."""

    def __init__(self, shape, op, bias=False):
        super().__init__()
        self.op = op
        init = torch.ones if op == "scale" else torch.zeros
        self.param = None if shape is None else nn.Parameter(init(shape))
        self.bias = nn.Parameter(torch.zeros(shape)) if bias else None

    def forward(self, x):
        if self.param is None:     # the constant is not kept: a new tensor, as x * c is
            return x * 1.0 if self.op == "scale" else x + 0.0
        if self.bias is not None:  # x * w + b in one tensor, as timm's addcmul
            return torch.addcmul(self.bias, x, self.param)
        return x * self.param if self.op == "scale" else x + self.param
''',
    "Gained(": '''

def Gained(conv):
    """`conv` with a learned gain per output channel on its kernel (conv(..., gain=true):
    ScaledStdConv2d's `gain`, weight norm's g); the model's weight standardisation is not
    reproduced (the same shapes and parameters)."""
    conv.gain = nn.Parameter(torch.ones(conv.out_channels, *[1] * (conv.weight.dim() - 1)))
    conv.forward = lambda x: conv._conv_forward(x, conv.weight * conv.gain, conv.bias)
    return conv
''',
    "Fixed(": '''

def Fixed(conv):
    """`conv` whose kernel and bias are fixed buffers, not parameters (conv(..., fixed=true): a
    blur filter); the buffers are not saved in the state_dict (timm's BlurPool2d neither)."""
    for name in ("weight", "bias"):
        value = getattr(conv, name)
        del conv._parameters[name]
        conv.register_buffer(name, None if value is None else value.detach(), persistent=False)
    return conv
''',
    "Padded(": '''

class Padded(nn.Module):
    """torch.nn.functional.pad before a layer: TensorFlow's, ONNX's and JAX's paddings
    (asymmetric, or depending on the input size). exclude=True leaves the padding out of an
    average pooling's count (count_include_pad=False)."""

    def __init__(self, pads, layer, value=0.0, exclude=False):
        super().__init__()
        self.pads, self.layer, self.value, self.exclude = pads, layer, value, exclude

    def forward(self, x):
        y = self.layer(nn.functional.pad(x, self.pads, value=self.value))
        if self.exclude:
            ones = torch.ones_like(x[:, :1])
            y = y / self.layer(nn.functional.pad(ones, self.pads))
        return y
''',
    "Mean(": '''

class Mean(nn.Module):
    """The mean over the given axes (the spatial ones)."""

    def __init__(self, dims, keepdim=False):
        super().__init__()
        self.dims, self.keepdim = dims, keepdim

    def forward(self, x):
        return x.mean(self.dims, keepdim=self.keepdim)
''',
}


def _join_expression(step, names: dict) -> str:
    variables = [names[s] for s in step.sources]
    code = step.spec.record.torch(step.spec, step.inputs)
    return code.format(
        *variables,
        all=", ".join(variables),
        sum=" + ".join(variables),
        product=" * ".join(variables),
    )


def module_path(name: str) -> str:
    """Where a layer's module goes: its name, so that an imported model's state_dict loads
    (`layer1.0.conv1`); the importer's `_0` for a top-level Sequential's child 0 is `0`."""
    return re.sub(r"^_(\d+)(?=\.|$)", r"\1", name)


def _graph_module(net, class_name: str = "Net", state=None) -> list[str]:
    """A self-contained nn.Module class whose forward follows the graph; `state` (the plan's
    [state]: layer name -> where the original model keeps its tensors) renames the original's
    keys on load_state_dict."""
    names = {"input": "x"}
    init = [
        f"class {class_name}(nn.Module):",
        '    """Generated by cnnplan: every layer as in the shapes table."""',
        "",
        "    def __init__(self):",
        "        super().__init__()",
    ]
    body = [
        "",
        "    def forward(self, x, trace=None):",
        '        """trace: a list that receives every layer\'s output, in order."""',
    ]
    for step in net.steps:
        var = f"x{step.index}"
        names[step.name] = var
        for j in range(len(step.outputs)):  # a layer with several outputs: a tuple
            names[f"{step.name}[{j}]"] = f"{var}[{j}]"
        comment = visible(f"# {step.index} {step.name}: {format_shape(step.output)}", True)
        if step.spec.record.join:
            body.append(f"        {var} = {_join_expression(step, names)}  {comment}")
        else:
            path = module_path(step.name)
            init.append(
                f"        put(self, {path!r}, "
                f"{module_code(step.spec, step.input, step.inputs)})  {comment}"
            )
            body.append(f"        {var} = self.get_submodule({path!r})({names[step.sources[0]]})")
    if state:
        paths = {module_path(name): original for name, original in state.items()}
        init.append(f"        self.register_load_state_dict_pre_hook(original_names({paths!r}))")
    outputs = ", ".join(f"x{step.index}" + ("[0]" if step.outputs else "") for step in net.steps)
    body += [
        "        if trace is not None:",
        f"            trace.extend([{outputs}])",
        f"        return {names[net.out_step.name]}",
    ]
    return init + body


_CHECK_HEAD = '''

def check(model=None, output_shapes=None):
    """Run a zero tensor through `model` (eval mode), comparing every layer's output shape."""
    model = MODEL if model is None else model
    output_shapes = OUTPUT_SHAPES if output_shapes is None else output_shapes
    x = torch.zeros(1, *INPUT_SHAPE)
    model.eval()
'''

_GRAPH_CHECK = (
    _CHECK_HEAD
    + """    trace = []
    with torch.no_grad():
        y = model(x, trace)
    for n, (got, expected) in enumerate(zip(trace, output_shapes), start=1):
        assert tuple(got.shape[1:]) == tuple(expected), f"layer {n}: {tuple(got.shape[1:])} != {tuple(expected)}"
    return tuple(y.shape[1:])
"""
)


_CHECK = (
    _CHECK_HEAD
    + """    with torch.no_grad():
        for n, (layer, expected) in enumerate(zip(model, output_shapes), start=1):
            x = layer(x)
            got = tuple(x.shape[1:])
            assert got == tuple(expected), f"layer {n} {layer}: {got} != {tuple(expected)}"
    return tuple(x.shape[1:])
"""
)


def _networks(data: dict):
    """[(network, comment)] from a shapes or plan document; BadInput for anything else."""
    if not isinstance(data, dict) or "input" not in data:
        raise BadInput(NOT_A_NETWORK)
    try:
        if "chains" in data:
            if not data["chains"]:
                if data.get("count"):
                    raise BadInput("no chains to export (--top 0); ask for at least one")
                raise NoSolution("no chain satisfies the plan, so there is nothing to export")
            out = []
            for r, chain in enumerate(data["chains"], start=1):
                net = _network(data, chain["layers"])
                # the text's word: a graph plan ranks networks, a chain plan chains
                word = "network" if any("from" in layer for layer in chain["layers"]) else "chain"
                out.append((net, f"{word} {r}: params {net.params}, macs {net.macs}, rf {net.rf}"))
            return out
        if isinstance(data.get("layers"), list) and all(
            isinstance(layer, dict) and "spec" in layer for layer in data["layers"]
        ):
            net = _network(data, data["layers"])
            return [(net, f"params {net.params}, macs {net.macs}")]
    except CnnplanError:
        raise
    except (TypeError, KeyError, ValueError, AttributeError):
        pass
    raise BadInput(NOT_A_NETWORK)


def _network(data: dict, layers: list):
    """The network of a shapes document or of one plan chain (graphs through name and from)."""
    items = []
    for layer in layers:
        if not isinstance(layer.get("spec"), str):
            raise BadInput(NOT_A_NETWORK)
        spec = parse_spec(layer["spec"], "layer")
        sources = tuple(layer["from"]) if "from" in layer else None
        items.append((layer.get("name"), spec, sources))
    return forward(tuple(data["input"]), build_nodes(items), output=data.get("output_layer", ""))


def _named(net) -> bool:
    """Whether the layers carry names of their own (an imported model's module paths, or a
    plan file's names): then the network is a module class with each layer at its name, so
    the original's state_dict loads; unnamed layers (1, 2, ...) make an nn.Sequential."""
    return any(step.name != str(step.index) for step in net.steps)


def render_torch(result: Result) -> str:
    """The snippet (see the module docstring)."""
    nets = _networks(result.data)
    first = nets[0][0]
    lines = [
        f"# Generated by cnnplan {__version__}: {visible(result.title, one_line=True)}",
        "# Builds the network with torch.nn; check() runs a zero tensor through it and",
        "# compares every intermediate shape with cnnplan's.",
        "import torch",
        "from torch import nn",
        "",
        f"INPUT_SHAPE = {tuple(first.input)!r}",
        "",
    ]
    code = "\n".join(
        module_code(step.spec, step.input, step.inputs)
        for net, _ in nets
        for step in net.steps
        if not step.spec.record.join
    )
    if any(step.spec.get("crop") for net, _ in nets for step in net.steps):
        code += "center_crop"
    from ..kinds.layout import HELPERS as LAYOUT_HELPERS

    helpers = {**HELPERS, **LAYOUT_HELPERS}
    # one network whose layers sit at their names (a graph, or a named chain): a module class
    one_module = len(nets) == 1 and (first.graph or _named(first))
    state = result.data.get("state") if one_module else None
    if one_module or any(net.graph for net, _ in nets):
        code += "put("
    if state:
        code += "original_names("
    lines += [helpers[name].strip("\n") + "\n" for name in helpers if name in code]
    if one_module:
        net, comment = nets[0]
        lines.append(f"# {comment}")
        lines += _graph_module(net, state=state)
        lines += ["", "", "MODEL = Net()", f"OUTPUT_SHAPES = {_shapes(net)}"]
        lines.append(_GRAPH_CHECK)
        lines += ["", 'if __name__ == "__main__":', "    print(check())"]
        return "\n".join(lines)
    if len(nets) == 1 and "chains" not in result.data:
        net, comment = nets[0]
        lines.append(f"# {comment}")
        body = _sequential(net)
        body[0] = "MODEL = " + body[0]
        lines += body
        lines += ["", f"OUTPUT_SHAPES = {_shapes(net)}"]
        lines.append(_CHECK)
        lines += ["", 'if __name__ == "__main__":', "    print(check())"]
        return "\n".join(lines)
    graphs = any(net.graph for net, _ in nets)
    if graphs:
        for r, (net, comment) in enumerate(nets, start=1):
            lines.append(f"# {comment}")
            lines += _graph_module(net, f"Net{r}") + ["", ""]
        lines.append("CHAINS = [" + ", ".join(f"Net{r}()" for r in range(1, len(nets) + 1)) + "]")
    else:
        lines.append("CHAINS = [")
        for net, comment in nets:
            lines.append(f"    # {comment}")
            body = _sequential(net, "    ")
            body[-1] += ","
            lines += body
        lines.append("]")
    lines += ["", "CHAIN_OUTPUT_SHAPES = ["]
    lines += [f"    {_shapes(net)}," for net, _ in nets]
    lines += ["]", "MODEL, OUTPUT_SHAPES = CHAINS[0], CHAIN_OUTPUT_SHAPES[0]"]
    lines.append(_GRAPH_CHECK if graphs else _CHECK)
    lines += [
        "",
        'if __name__ == "__main__":',
        "    for chain, shapes in zip(CHAINS, CHAIN_OUTPUT_SHAPES):",
        "        print(check(chain, shapes))",
    ]
    return "\n".join(lines)

"""Memory against torch (tests/memory_support.py): train_saved_bytes equals what autograd
saves, inference_peak_bytes equals an fx executor's peak of live bytes, on the reference
networks (exported with --format torch), on imported models with their in-place ReLUs, and on
random graphs of every core kind; the activation count fvcore and timm report is the sum of
the convolutions' and linear layers' outputs."""

from __future__ import annotations

import os
import random

import pytest
from memory_support import exported, peak_bytes, saved_bytes
from networks_support import unet_plan

import cnnplan
from cnnplan.network.forward import forward, shapes
from cnnplan.network.memory import memory
from cnnplan.platform.errors import BadInput

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NETWORKS = os.path.join(ROOT, "examples", "networks")
MODELS = os.path.join(ROOT, "examples", "models", "reference.py")


def _check(torch, result, batch=2):
    """Both oracles on the model cnnplan exports for `result` (a shapes Result at `batch`)."""
    model = exported(torch, result)
    torch.manual_seed(0)
    x = torch.randn(batch, *result.data["input"])
    saved, stats = saved_bytes(torch, model, x)
    ours = result.data["train_saved_bytes"]
    assert ours == saved, f"train_saved_bytes {ours:,} != torch's {saved:,} (stats {stats:,})"
    assert result.data["inference_peak_bytes"] == peak_bytes(torch, model, x)


# ResNet-50 and DenseNet-121 take about 10 s each: collected with CNNPLAN_FULL_MEMORY_ORACLES=1
FULL = os.environ.get("CNNPLAN_FULL_MEMORY_ORACLES", "") not in ("", "0")
REFERENCE = [("small_resnet", None), ("resnet18", "3x32x32"), ("mobilenet_v2", "3x32x32"),
             ("unet_padded", "1x32x32")]
REFERENCE += [("resnet50", "3x32x32"), ("densenet121", "3x32x32")] if FULL else []


@pytest.mark.parametrize("name, shape", REFERENCE)
def test_reference_networks(torch, name, shape):
    result = shapes(shape, [], os.path.join(NETWORKS, f"{name}.toml"), batch=2, device="cpu")
    _check(torch, result)


@pytest.mark.parametrize("padded", [False, True])
def test_unets(torch, padded):
    """The U-Nets of docs/networks.md, small: valid convolutions with cropped skips, and
    padded ones."""
    text = unet_plan(padded, levels=2, width=2, input="1x44x44" if not padded else "1x32x32")
    _check(torch, shapes(plan_text=text, batch=2, device="cpu"))


@pytest.mark.parametrize("model", ["SmallResNet", "mobilenet_v2", "unet_padded"])
def test_imported_models_keep_inplace(torch, model, tmp_path):
    """`cnnplan import` carries nn.ReLU(inplace=True) and ReLU6(inplace=True) into the plan:
    its train_saved_bytes equals what the original model saves (in-place ReLU6 saves a copy of
    its input; in-place ReLU saves the tensor it overwrites, as many bytes as out of place,
    but allocates nothing)."""
    import importlib.util

    from cnnplan.importers.torch.model import import_model

    spec = importlib.util.spec_from_file_location("reference_models", MODELS)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    shape = {"SmallResNet": (3, 32, 32), "mobilenet_v2": (3, 32, 32),
             "unet_padded": (1, 32, 32)}[model]
    text = import_model(f"{MODELS}:{model}", "x".join(map(str, shape))).data["plan"]
    assert "inplace=true" in text
    result = shapes(plan_text=text, batch=2, device="cpu")
    torch.manual_seed(0)
    original = getattr(module, model)()
    saved, _ = saved_bytes(torch, original, torch.randn(2, *shape))
    assert result.data["train_saved_bytes"] == saved
    plain = shapes(plan_text=text.replace("(inplace=true)", ""), batch=2, device="cpu")
    # after batch norm, in place or not saves as many bytes (ReLU6's copy of its input
    # replaces the input out of place would save), but in place allocates nothing
    assert plain.data["train_saved_bytes"] == saved
    assert plain.data["inference_peak_bytes"] >= result.data["inference_peak_bytes"]


# -- random graphs of every core kind -------------------------------------------------------

SEEDS = 36

def _spatial_layer(rng, shape):
    c = shape[0]
    if c % 4 == 0 and rng.random() < 0.1:
        return "pixelshuffle(2)"     # one of few kinds that fit only some channel counts
    return rng.choice([
        f"conv({rng.randint(1, 3) * 2}, k={rng.randint(1, 3)}, s={rng.randint(1, 2)}, "
        f"p={rng.randint(0, 1)}, bias={rng.choice(['true', 'false'])})",
        f"conv({c}, k=3, p=1, groups={c})",
        f"convT({rng.randint(1, 4)}, k=2, s=2)",
        f"maxpool(k=2, s={rng.randint(1, 2)}, ceil={rng.choice(['true', 'false'])})",
        "avgpool(k=2)", "relu", "relu(inplace=true)", "relu6", "relu6(inplace=true)", "tanh",
        "sigmoid", "hardswish", "hardswish(inplace=true)", "silu", "silu(inplace=true)", "gelu",
        "softmax", "dropout", "dropout(inplace=true)", "identity", "bn",
        f"groupnorm({rng.choice([g for g in (1, 2) if c % g == 0])})", "layernorm",
        "layernorm(dims=1)", f"adaptiveavgpool({rng.choice([1, 2, 3])})",
        f"adaptivemaxpool({rng.choice([1, 2, 3])})", "mean(keepdim=true)",
        "upsample(2)", "upsample(2, mode=bilinear)", "pixelshuffle(2)", "pad(p=(1, 0, 0, 2))",
        "hardsigmoid", "leakyrelu", "elu", "mish", "hardtanh", "softplus", "scale", "shift",
        f"scale(param=({c}, 1, 1))", f"scale(param=({c}, 1, 1), bias=true)",
        f"shift(param=({c}, 1, 1))", "mean(dims=(1, 2), keepdim=true)",
    ])


def random_graph(seed: int) -> str:
    """A plan file: a random graph over every core kind, with joins (add, mul, concat with and
    without crop) reading earlier layers; every layer is applied by cnnplan as it is drawn and
    dropped when it does not fit."""
    rng = random.Random(seed)
    shape = (rng.choice([2, 4]), rng.randint(6, 10), rng.randint(6, 10))
    lines = [f'input = "{"x".join(map(str, shape))}"']
    layers, names, shapes_of = [], [], {"input": shape}
    previous = "input"
    while len(layers) < 12:
        current = shapes_of[previous]
        earlier = [n for n in names if n != previous]
        roll = rng.random()
        if roll < 0.3 and earlier and len(current) == 3:
            alike = [n for n in earlier if shapes_of[n] == current]
            other = rng.choice(alike if alike and rng.random() < 0.5 else earlier)
            spec = rng.choice(["add", "add", "mul", "concat", "concat(crop=true)", "div", "sub",
                               "resize", "resize(mode=bilinear)"])
            sources = [previous, other]
        elif len(current) == 3:
            spec, sources = _spatial_layer(rng, current), [previous]
        else:
            spec, sources = rng.choice(["linear(3)", "relu", "bn", "dropout", "tanh"]), [previous]
        items = [(n, s, f) for n, s, f in layers] + [(f"l{len(layers)}", spec, sources)]
        try:
            from cnnplan.language.specs import parse_spec
            from cnnplan.network.forward import build_nodes

            nodes = build_nodes([(n, parse_spec(s), f) for n, s, f in items])
            net = forward(shape, nodes, fields=False)
        except BadInput:
            continue
        if len(net.steps[-1].output) == 1 and rng.random() < 0.5:
            continue
        layers.append(items[-1])
        names.append(items[-1][0])
        shapes_of[items[-1][0]] = net.steps[-1].output
        previous = items[-1][0]
        if len(net.steps[-1].output) == 3 and rng.random() < 0.15:
            layers.append((f"l{len(layers)}", "flatten", [previous]))
            items.append(layers[-1])
            net = forward(shape, build_nodes([(n, parse_spec(s), f) for n, s, f in items]),
                          fields=False)
            names.append(layers[-1][0])
            shapes_of[layers[-1][0]] = net.steps[-1].output
            previous = layers[-1][0]
    for name, spec, sources in layers:
        quoted = ", ".join(f'"{s}"' for s in sources)
        lines += ["[[layers]]", f'name = "{name}"', f'spec = "{spec}"', f"from = [{quoted}]"]
    return "\n".join(lines)


@pytest.mark.parametrize("seed", range(SEEDS))
def test_random_graphs(torch, seed):
    _check(torch, shapes(plan_text=random_graph(seed), batch=3, device="cpu"), batch=3)


def test_random_graphs_cover_every_core_kind():
    from cnnplan.kinds.core import CORE_KINDS

    seen = set()
    for seed in range(SEEDS):
        for line in random_graph(seed).splitlines():
            if line.startswith("spec = "):
                seen.add(line.split('"')[1].split("(")[0])
    with_rule = {k.name for k in CORE_KINDS if k.saves is not None}
    assert seen >= with_rule, with_rule - seen


# -- random graphs of the layout kinds: views, reductions, stack, matmul -----------------------

def _layout_candidates(rng, shape, name, earlier, shapes_of):
    """(spec, sources) to try after layer `name` of `shape` (cnnplan's axes, no batch)."""
    rank = len(shape)
    d = rng.randrange(rank)
    perm = list(range(rank))
    rng.shuffle(perm)
    one = [(f"{a}" if len(a) == 1 else f"({', '.join(map(str, a))})")
           for a in [tuple(sorted(rng.sample(range(rank), rng.randint(1, rank))))]][0]
    single = [
        f"permute(dims=({', '.join(map(str, perm))}{',' if rank == 1 else ''}))",
        f"permute(dims=({', '.join(map(str, range(rank - 2)))}{', ' if rank > 2 else ''}"
        f"{rank - 1}, {rank - 2}))" if rank >= 2 else "relu",
        f"narrow(dim={d}, start={rng.randint(0, 1)}, length={max(1, shape[d] - 1)})",
        f"select(dim={d}, index=0)", f"unflatten(dim={d}, sizes=(1, -1))",
        f"slice(dim={d}, start={rng.randint(0, 1)}, step=2)", f"slice(dim={d}, stop=-1)",
        f"reshape(shape=({shape[0]}, -1))", "flatten",
        f"expand(shape=({', '.join('3' if n == 1 else '-1' for n in shape)}))",
        f"mean(dims={d}, keepdim=true)", f"sum(dims={one})", f"norm(dims={one}, keepdim=true)",
        f"mean(dims={one})", "relu", "gelu", "sigmoid", "softmax(dim=-1)", "layernorm(dims=1)",
        "linear(3, last=true)", "conv(2, k=1)", "bn", "maxpool(2)", "groupnorm(1)",
        f"chunk(2, dim={d})", f"split(sizes=(1, {shape[d] - 1}), dim={d})", f"unbind(dim={d})",
        "dropout", "elu",
        "token(param=(" + ", ".join("1" if a == d else str(n) for a, n in enumerate(shape))
        + ("," if rank == 1 else "") + f"), dim={d})",
    ]
    out = [(spec, [name]) for spec in single]
    # joins of one rank only (cnnplan refuses others: torch would line the batch up with a
    # feature axis, so mul of 2x4x4 and 4x4 fails at batch 3)
    for other in [n for n in earlier if len(shapes_of[n]) == rank]:
        for spec in ("add", "mul", "div", "sub", "stack", "matmul", "concat(dim=-1)"):
            out.append((spec, [name, other]))
        out.append(("matmul", [other, name]))
        out.append(("expandas", [name, other]))
    return out


def random_layout_graph(seed: int) -> str:
    """A plan file of about 10 layers over the layout kinds and the layers that read them
    (views of views, several outputs read as NAME[j], joins of views); each drawn layer is
    applied by cnnplan and dropped when it does not fit."""
    from cnnplan.language.specs import parse_spec
    from cnnplan.network.forward import build_nodes

    rng = random.Random(seed)
    shape = (rng.choice([2, 4]), 4, 4)
    layers, shapes_of = [], {"input": shape}
    previous = "input"
    for _ in range(400):
        if len(layers) >= 10:
            break
        earlier = [n for n in shapes_of if n != previous]
        spec, sources = rng.choice(_layout_candidates(rng, shapes_of[previous], previous,
                                                      rng.sample(earlier, min(3, len(earlier))),
                                                      shapes_of))
        items = layers + [(f"l{len(layers)}", spec, sources)]
        try:
            net = forward(shape, build_nodes([(n, parse_spec(s), f) for n, s, f in items]),
                          fields=False)
        except BadInput:
            continue
        step = net.steps[-1]
        if size_of_shape(step.output) > 4096:
            continue
        layers.append(items[-1])
        name = items[-1][0]
        if step.outputs:
            for j, out in enumerate(step.outputs):
                shapes_of[f"{name}[{j}]"] = out
            previous = f"{name}[{rng.randrange(len(step.outputs))}]"
        else:
            shapes_of[name] = step.output
            previous = name
    lines = [f'input = "{"x".join(map(str, shape))}"']
    for name, spec, sources in layers:
        quoted = ", ".join(f'"{s}"' for s in sources)
        lines += ["[[layers]]", f'name = "{name}"', f'spec = "{spec}"', f"from = [{quoted}]"]
    return "\n".join(lines)


def size_of_shape(shape) -> int:
    import math

    return math.prod(shape)


LAYOUT_SEEDS = 24


@pytest.mark.parametrize("seed", range(LAYOUT_SEEDS))
def test_random_layout_graphs(torch, seed):
    """Exact where given; where a layer reads a non-contiguous view and may copy it, training
    memory is not given and the layer is named."""
    result = shapes(plan_text=random_layout_graph(seed), batch=3, device="cpu")
    assert "memory_unknown_kinds" not in result.data
    if result.data["train_saved_bytes"] is None:
        assert result.data["memory_strided_layers"]
        return
    _check(torch, result, batch=3)


def test_random_layout_graphs_cover_every_layout_kind():
    from cnnplan.kinds.layout import LAYOUT_KINDS

    seen = set()
    for seed in range(LAYOUT_SEEDS):
        for line in random_layout_graph(seed).splitlines():
            if line.startswith("spec = "):
                seen.add(line.split('"')[1].split("(")[0])
    with_rule = {k.name for k in LAYOUT_KINDS if k.saves is not None}
    assert seen >= with_rule, with_rule - seen


def _plan(shape, layers) -> str:
    """A plan file from (name, spec, sources)."""
    lines = [f'input = "{shape}"']
    for name, spec, sources in layers:
        quoted = ", ".join(f'"{s}"' for s in sources)
        lines += ["[[layers]]", f'name = "{name}"', f'spec = "{spec}"', f"from = [{quoted}]"]
    return "\n".join(lines)


BLOCKS = {   # the blocks the new kinds come from, exact against torch
    "csp": ("4x6x6", [("a", "conv(4, k=1)", ["input"]), ("p", "chunk(2)", ["a"]),
                      ("b", "conv(2, k=3, p=1)", ["p[1]"]), ("c", "relu", ["b"]),
                      ("d", "concat", ["p[0]", "c"]), ("e", "bn", ["d"])]),
    "eca": ("4x6x6", [("a", "conv(4, k=3, p=1)", ["input"]),
                      ("m", "mean(dims=(1, 2), keepdim=true)", ["a"]),
                      ("g", "sigmoid", ["m"]), ("x", "expandas", ["g", "a"]),
                      ("y", "mul", ["a", "x"])]),
    "grn": ("4x6x6", [("a", "conv(4, k=1)", ["input"]),
                      ("n", "norm(dims=(1, 2), keepdim=true)", ["a"]),
                      ("m", "mean(dims=0, keepdim=true)", ["n"]), ("q", "div", ["n", "m"]),
                      ("x", "mul", ["a", "q"]),
                      ("y", "scale(param=(4, 1, 1), bias=true)", ["x"]),
                      ("z", "add", ["y", "a"])]),
    "split_stack": ("4x5x5", [("a", "conv(6, k=1)", ["input"]),
                              ("s", "split(sizes=(2, 4))", ["a"]),
                              ("u", "unbind(dim=0)", ["s[0]"]), ("v", "sub", ["u[0]", "u[1]"]),
                              ("w", "stack(dim=0)", ["v", "u[0]"]),
                              ("x", "sum(dims=0)", ["s[1]"]), ("y", "hardswish", ["x"])]),
    "matmul_broadcast": ("2x8x8", [("a", "linear(8, last=true)", ["input"]),
                                   ("m", "mean(dims=0, keepdim=true)", ["a"]),
                                   ("t", "linear(8, last=true)", ["m"]),
                                   ("b", "matmul", ["t", "a"]), ("d", "softmax(dim=-1)", ["b"]),
                                   ("e", "matmul", ["input", "t"]), ("f", "add", ["d", "e"]),
                                   ("k", "linear(4, last=true)", ["f"]),
                                   ("g", "matmul", ["f", "k"])]),
    "views_then_conv": ("4x6x6", [("a", "conv(4, k=1)", ["input"]),
                                  ("n", "narrow(dim=1, start=1, length=4)", ["a"]),
                                  ("s", "select(dim=0, index=1)", ["n"]),
                                  ("e", "unflatten(dim=0, sizes=(1, -1))", ["s"]),
                                  ("x", "expand(shape=(3, -1, -1))", ["e"]),
                                  ("c", "conv(2, k=3)", ["x"]), ("r", "elu", ["c"]),
                                  ("f", "flatten", ["r"]), ("l", "linear(3)", ["f"])]),
    "resize_upsample": ("2x8x8", [("a", "conv(2, k=3, s=2, p=1)", ["input"]),
                                  ("b", "leakyrelu", ["a"]),
                                  ("r", "resize(mode=bilinear)", ["b", "input"]),
                                  ("c", "add", ["r", "input"]), ("d", "mish", ["c"])]),
}


@pytest.mark.parametrize("block", sorted(BLOCKS))
def test_blocks_of_the_new_kinds(torch, block):
    shape, layers = BLOCKS[block]
    result = shapes(plan_text=_plan(shape, layers), batch=3, device="cpu")
    assert result.data["train_saved_bytes"] is not None, result.data
    _check(torch, result, batch=3)


def test_a_copying_reshape_leaves_training_memory_not_given():
    """reshape after a permute copies in torch (the heads of attention merged back); flatten
    after a narrow of the rows too: no training memory, the layer named, the peak taking it
    to allocate; a reshape of a contiguous tensor stays a view (exact)."""
    for layers in ([("p", "permute(dims=(1, 0, 2))", ["input"]),
                    ("r", "reshape(shape=(4, -1))", ["p"])],
                   [("n", "narrow(dim=1, start=0, length=3)", ["input"]),
                    ("f", "flatten", ["n"])],
                   [("p", "permute(dims=(1, 0, 2))", ["input"]), ("g", "gelu", ["p"]),
                    ("l", "linear(5, last=true)", ["g"])]):
        data = shapes(plan_text=_plan("4x6x6", [("c", "conv(4, k=1)", ["input"])] + [
            (n, s, ["c" if f == ["input"] else f][0]) for n, s, f in layers]), batch=2).data
        assert data["train_saved_bytes"] is None and data["train_total_bytes"] is None
        assert data["memory_strided_layers"] == [layers[-1][0]]
        assert data["inference_peak_bytes"] > 0
    plain = shapes("4x6x6", ["conv(4, k=1)", "reshape(shape=(4, -1))", "relu"], batch=2)
    assert plain.data["train_saved_bytes"] is not None


def _vit_block(torch):
    """A ViT-style stem and MLP: patches by a strided conv, flatten(2).transpose(1, 2) (a
    permuted view), layer norm, linear, GELU, linear, a residual add and layer norm."""
    nn = torch.nn

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.patch, self.ln, self.ln2 = nn.Conv2d(3, 16, 4, 4), nn.LayerNorm(16), \
                nn.LayerNorm(16)
            self.fc, self.act, self.fc2 = nn.Linear(16, 32), nn.GELU(), nn.Linear(32, 16)

        def forward(self, x):
            x = self.patch(x).flatten(2).transpose(1, 2)
            return self.ln2(x + self.fc2(self.act(self.fc(self.ln(x)))))

    return Block()


@pytest.mark.parametrize("block", ["eca_grn", "sk", "vit"])
def test_imported_blocks_match_the_original_modules(torch, block):
    """`cnnplan import` of timm-style ECA + GRN and selective-kernel blocks
    (tests/test_importer.py) and a ViT stem: train_saved_bytes equals what the original
    module saves (not the export), the inference peak equals the fx executor's on it."""
    from test_importer import attention_blocks

    from cnnplan.importers.torch.model import import_model

    eca_grn, sk = attention_blocks(torch)
    model = {"eca_grn": eca_grn, "sk": sk, "vit": _vit_block(torch)}[block]
    shape = (3, 20, 20) if block != "vit" else (3, 16, 16)
    text = import_model(model, "x".join(map(str, shape))).data["plan"]
    result = shapes(plan_text=text, batch=2, device="cpu")
    torch.manual_seed(0)
    x = torch.randn(2, *shape)
    assert result.data["train_saved_bytes"] == saved_bytes(torch, model, x)[0]
    assert result.data["inference_peak_bytes"] == peak_bytes(torch, model, x)


def test_attention_and_mha_stay_not_given():
    """What scaled_dot_product_attention saves depends on the kernel torch picks (flash,
    memory-efficient, cuDNN, math) for the device, dtype and shapes: no rule, so no number."""
    data = shapes("4x8", ["mha(2)", "relu"], batch=2).data
    assert data["train_saved_bytes"] is None and data["memory_unknown_kinds"] == ["mha"]
    text = _plan("2x4x8", [("q", "linear(8, last=true)", ["input"]),
                           ("a", "attention", ["q", "input", "input"])])
    data = shapes(plan_text=text, batch=2).data
    assert data["memory_unknown_kinds"] == ["attention"]


# -- fvcore's and timm's activation counts ----------------------------------------------------

def _activations(net) -> int:
    """fvcore's ActivationCountAnalysis convention: the output elements of convolutions and
    matrix products (conv, convT, linear), nothing else."""
    return sum(s.size for s in net.steps if s.spec.kind in ("conv", "convT", "linear"))


def test_fvcore_activation_count(torch):
    fvcore = pytest.importorskip("fvcore.nn")
    result = shapes("3x32x32", [], os.path.join(NETWORKS, "mobilenet_v2.toml"))
    model = exported(torch, result).eval()
    x = torch.zeros(1, 3, 32, 32)
    counted = fvcore.ActivationCountAnalysis(model, (x,))
    counted.unsupported_ops_warnings(False)
    counted.uncalled_modules_warnings(False)
    net = forward((3, 32, 32), _net_specs(result))
    assert counted.total() == _activations(net)


def _net_specs(result):
    from cnnplan.language.specs import parse_spec
    from cnnplan.network.forward import build_nodes

    return build_nodes([(layer["name"], parse_spec(layer["spec"]), layer["from"])
                        for layer in result.data["layers"]])


def test_timm_published_activation_counts():
    """timm's model cards give 'Activations (M)' (fvcore's count at batch 1): ResNet-50 at 224
    11.1 M, ResNet-18 2.5 M, MobileNetV2 6.7 M (torchvision's architectures, as here)."""
    for name, published in (("resnet50", 11.1), ("resnet18", 2.5)):
        result = shapes(None, [], os.path.join(NETWORKS, f"{name}.toml"))
        count = _activations(forward((3, 224, 224), _net_specs(result)))
        assert round(count / 1e6, 1) == published, (name, count)


def test_dtype_scales_every_number():
    result = shapes(None, [], os.path.join(NETWORKS, "small_resnet.toml"))
    net = forward((3, 32, 32), _net_specs(result))
    one, half = memory(net, 4, "float32"), memory(net, 4, "float16")
    assert half.param_bytes * 2 == one.param_bytes
    assert half.inference_peak_bytes * 2 == one.inference_peak_bytes
    # batch norm's saved statistics stay float32 in half precision
    bn = sum(2 * 4 * s.output[0] for s in net.steps if s.spec.kind == "bn")
    assert (half.train_saved_bytes - bn) * 2 == one.train_saved_bytes - bn


def test_int8_has_no_training_numbers():
    mem = memory(forward((3, 8, 8), ["conv(4, k=3)", "relu"]), 1, "int8")
    assert mem.train_saved_bytes is None and mem.inference_peak_bytes == 3 * 64 + 4 * 36


def test_a_kind_without_a_saves_rule_gives_no_training_memory(cnnplan_host):
    from cnnplan import Applied, LayerKind, hookimpl

    class Plugin:
        @staticmethod
        @hookimpl
        def register_layer_kinds(register):
            register(LayerKind("twice", "doubles", lambda spec, inputs, where:
                               Applied(inputs[0]), lambda spec, inputs: "Twice()"))

    cnnplan_host(Plugin)
    result = cnnplan.shapes("3x8x8", ["conv(4, k=3)", "twice"])
    assert result.data["train_saved_bytes"] is None
    assert result.data["memory_unknown_kinds"] == ["twice"]

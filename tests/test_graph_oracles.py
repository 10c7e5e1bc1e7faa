"""Networks as graphs against PyTorch: random DAGs (branches, joins, every kind) are built in
torch from a description, independently of cnnplan; cnnplan's shapes of every node and total
params must equal torch's, and the exported nn.Module (`--format torch`) must reproduce torch's
outputs with the same weights and pass its check(). Receptive fields over graphs are checked
by autograd (the input positions with a non-zero gradient of one output unit)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import cnnplan
from cnnplan import BadInput
from test_kinds_oracles import reference_module, spec_text

JOINS = ("add", "mul", "concat", "concat_crop")


def centre_crop(tensors):
    """Each tensor cut to the smallest size per spatial axis, (size - smallest) // 2 first."""
    small = [min(t.shape[a] for t in tensors) for a in range(2, tensors[0].dim())]
    out = []
    for t in tensors:
        for a, size in enumerate(small, start=2):
            t = t[(slice(None),) * a + (slice((t.shape[a] - size) // 2,
                                              (t.shape[a] - size) // 2 + size),)]
        out.append(t)
    return out


def join_value(torch, kind, tensors):
    if kind == "add":
        return tensors[0] + tensors[1] if len(tensors) == 2 else sum(tensors)
    if kind == "mul":
        out = tensors[0]
        for t in tensors[1:]:
            out = out * t
        return out
    if kind == "concat_crop":
        tensors = centre_crop(tensors)
    return torch.cat(tensors, dim=1)


def node_text(node) -> str:
    """A node as cnnplan's inline syntax: NAME: SPEC with from= or the join's names."""
    name, kind, positional, values, sources = node
    if kind in JOINS:
        crop = ", crop=true" if kind == "concat_crop" else ""
        return f"{name}: {kind.split('_')[0]}({', '.join(sources)}{crop})"
    text = spec_text(kind, positional, values)
    link = f"from={sources[0]}"
    text = text[:-1] + f", {link})" if text.endswith(")") else f"{text}({link})"
    return f"{name}: {text}"


# -- random graphs, grown with torch as the shape oracle ----------------------------------------

@st.composite
def single_layer(draw, shape):
    """(kind, positional, values) for a layer on `shape` (C x H x W or C x L)."""
    n = len(shape) - 1
    kind = draw(st.sampled_from(["conv", "conv", "conv", "convT", "maxpool", "avgpool", "bn",
                                 "relu", "gelu", "groupnorm", "layernorm", "upsample",
                                 "pixelshuffle", "pixelshuffle", "pad", "adaptiveavgpool", "mean",
                                 "identity", "dropout", "sigmoid"]))
    k = draw(st.integers(1, 4))
    if kind == "conv":
        values = {"k": draw(st.sampled_from([k, (k, draw(st.integers(1, 4)))[:n]]))}
        if draw(st.booleans()):
            values["p"] = draw(st.sampled_from(["same", 0, 1, (0, 1)[:n]]))
        if values.get("p") != "same" and draw(st.booleans()):
            values["s"] = draw(st.integers(1, 2))
        if draw(st.booleans()):
            values["d"] = draw(st.integers(1, 2))
        groups = draw(st.sampled_from([1, 1, shape[0]]))
        values["groups"] = groups
        return kind, groups * draw(st.integers(1, 2)), values
    if kind == "convT":
        return kind, draw(st.integers(1, 4)), {"k": k, "s": draw(st.integers(1, 2)),
                                               "p": draw(st.integers(0, 1))}
    if kind in ("maxpool", "avgpool"):
        return kind, None, {"k": k, "s": draw(st.integers(1, 2)), "p": draw(st.integers(0, k // 2))}
    if kind == "groupnorm":
        return kind, draw(st.sampled_from([1, shape[0]])), {}
    if kind == "layernorm":
        return kind, draw(st.sampled_from([None, 1, 2])), {}
    if kind == "upsample":
        mode = draw(st.sampled_from(["nearest", "bilinear"] if n == 2 else ["nearest"]))
        if draw(st.booleans()):
            return kind, None, {"size": draw(st.integers(2, 12)), "mode": mode}
        return kind, 2, {"mode": mode}
    if kind == "pixelshuffle":   # 2-D only in cnnplan (torch would shuffle C x L too)
        if n != 2:
            return "relu", None, {}
        return kind, 2 if shape[0] % 4 == 0 else 1, {}
    if kind == "pad":
        return kind, None, {"p": tuple(draw(st.integers(0, 2)) for _ in range(2 * n))}
    if kind == "adaptiveavgpool":
        return kind, draw(st.integers(1, 5)), {}
    if kind == "mean":
        return kind, None, {"keepdim": True}
    return kind, None, {}


def compatible(kind, a, b) -> bool:
    if kind == "add":
        return a == b
    if kind == "mul":
        return len(a) == len(b) and all(x == y or 1 in (x, y) for x, y in zip(a, b))
    if kind == "concat":
        return len(a) == len(b) and a[1:] == b[1:]
    return len(a) == len(b) and a[1:] != b[1:]


def join_node(draw, torch, outputs, nodes, name, kinds, fits) -> bool:
    """Draw a join of `kinds` over two earlier tensors that `fits(kind, a, b)` and add it as
    node `name` (its value from torch); False when no pair fits."""
    kind = draw(st.sampled_from(kinds))
    pairs = [(a, b) for a in outputs for b in outputs
             if a != b and fits(kind, outputs[a], outputs[b])]
    if not pairs:
        return False
    a, b = draw(st.sampled_from(pairs))
    outputs[name] = join_value(torch, kind, [outputs[a], outputs[b]])
    nodes.append((name, kind, None, {}, (a, b)))
    return True


@st.composite
def graph_case(draw):
    """(input shape, nodes, modules, outputs): nodes (name, kind, positional, values, sources);
    modules {name: torch module}; outputs {name: tensor} from torch itself."""
    import torch

    n = draw(st.sampled_from([1, 2, 2]))
    shape = (draw(st.sampled_from([1, 2, 4])), *([draw(st.integers(4, 12))] * n))
    torch.manual_seed(draw(st.integers(0, 2 ** 16)))
    outputs = {"input": torch.randn(1, *shape)}
    nodes, modules = [], {}
    for index in range(draw(st.integers(2, 9))):
        name = f"n{index}"
        names = list(outputs)
        if index and draw(st.integers(0, 2)) == 0 and join_node(
                draw, torch, outputs, nodes, name, JOINS,
                lambda kind, a, b: compatible(kind, tuple(a.shape[1:]), tuple(b.shape[1:]))):
            continue
        source = names[-1] if draw(st.booleans()) else draw(st.sampled_from(names))
        x = outputs[source]
        kind, positional, values = draw(single_layer(tuple(x.shape[1:])))
        try:
            module = reference_module(torch, kind, positional, values, tuple(x.shape[1:]))
            module.eval()
            with torch.no_grad():
                y = module(x)
        except (RuntimeError, ValueError):
            continue
        if y.numel() == 0:
            continue
        outputs[name], modules[name] = y, module
        nodes.append((name, kind, positional, values, (source,)))
    assume(nodes)
    return shape, nodes, modules, outputs


def parameters(module) -> int:
    return sum(p.numel() for p in module.parameters())


@pytest.mark.oracle
@settings(max_examples=100, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(graph_case())
def test_random_graphs_match_torch(torch, case):
    shape, nodes, modules, outputs = case
    text = "; ".join(node_text(node) for node in nodes)
    result = cnnplan.shapes("x".join(map(str, shape)), [text])
    data = result.data
    assert [layer["name"] for layer in data["layers"]] == [node[0] for node in nodes]
    for layer in data["layers"]:
        assert tuple(layer["output"]) == tuple(outputs[layer["name"]].shape[1:]), (text, layer)
        module = modules.get(layer["name"])
        assert layer["params"] == (parameters(module) if module is not None else 0), layer
    assert data["params"] == sum(parameters(m) for m in modules.values())
    assert tuple(data["output"]) == tuple(outputs[nodes[-1][0]].shape[1:])

    # the export: same graph, same weights -> the same output values; check() passes
    namespace = {}
    exec(compile(cnnplan.render(result, "torch"), "<export>", "exec"), namespace)
    net = namespace["MODEL"]
    assert namespace["check"]() == tuple(data["output"])
    assert parameters(net) == data["params"]
    layers = net if isinstance(net, torch.nn.Sequential) else None
    for index, (name, *_rest) in enumerate(nodes, start=1):
        if name in modules and parameters(modules[name]):
            target = layers[index - 1] if layers is not None else net.get_submodule(name)
            target.load_state_dict(modules[name].state_dict())
    net.eval()
    with torch.no_grad():
        got = net(outputs["input"])
    torch.testing.assert_close(got, outputs[nodes[-1][0]])


# -- joins and their refusals ----------------------------------------------------------------------

@pytest.mark.oracle
@pytest.mark.parametrize("shapes, kind, ok", [
    (((4, 5, 5), (4, 5, 5)), "add", True),
    (((4, 5, 5), (4, 5, 6)), "add", False),
    (((4, 1, 1), (4, 5, 5)), "add", False),        # torch broadcasts; cnnplan's add does not
    (((4, 1, 1), (4, 5, 5)), "mul", True),          # squeeze-and-excitation's gate
    (((1, 5, 1), (4, 1, 6)), "mul", True),
    (((3, 5, 5), (4, 5, 5)), "mul", False),
    (((3, 5, 5), (4, 5, 5)), "concat", True),
    (((3, 5, 5), (4, 5, 6)), "concat", False),
    (((3, 5, 5), (4, 8, 9)), "concat_crop", True),  # U-Net: the skip is cropped
    (((3, 7, 5), (4, 4, 10)), "concat_crop", True),  # each axis to its smallest size
])
def test_joins_against_torch(torch, shapes, kind, ok):
    """Two inputs of the given shapes made by 1x1 convolutions of a common input, joined."""
    a, b = shapes
    big = tuple(max(x, y) for x, y in zip(a[1:], b[1:]))
    layers = [f"a: conv({a[0]}, k=1, from=input)", f"a2: adaptiveavgpool({a[1:]!r}, from=a)",
              f"b: conv({b[0]}, k=1, from=input)", f"b2: adaptiveavgpool({b[1:]!r}, from=b)"]
    join = kind.split("_")[0] + "(a2, b2" + (", crop=true)" if kind == "concat_crop" else ")")
    text = "; ".join(layers + ["j: " + join])
    x = torch.randn(1, 2, *big)
    inputs = [torch.nn.functional.adaptive_avg_pool2d(torch.randn(1, s[0], *big), s[1:])
              for s in shapes]
    try:
        want = join_value(torch, kind, inputs)
    except RuntimeError:
        want = None
    if not ok:
        assert kind == "add" or want is None
        with pytest.raises(BadInput, match=r"layer 5 \(j\) " + kind.split("_")[0]):
            cnnplan.shapes("2x" + "x".join(map(str, big)), [text])
        return
    result = cnnplan.shapes("2x" + "x".join(map(str, big)), [text])
    assert tuple(result.data["output"]) == tuple(want.shape[1:])
    namespace = {}
    exec(compile(cnnplan.render(result, "torch"), "<export>", "exec"), namespace)
    net = namespace["MODEL"]
    net.eval()
    trace = []
    with torch.no_grad():
        net(x, trace)
    torch.testing.assert_close(trace[4], join_value(torch, kind, [trace[1], trace[3]]))


def test_unaligned_joins_through_the_command(cnnplan_cmd):
    done = cnnplan_cmd("shapes", "--in", "2x8x8",
                       "a: conv(3, k=3); b: conv(3, k=1, from=input); add(a, b)")
    assert done.returncode == 2 and not done.stdout
    assert done.stderr == ("Error: layer 3 add(a, b): add needs inputs of one shape, but they "
                           "are 3x6x6, 3x8x8\n")


# -- receptive fields over graphs, by autograd -------------------------------------------------------

@st.composite
def rf_layer(draw):
    kind = draw(st.sampled_from(["conv", "conv", "conv", "maxpool", "avgpool", "pad", "upsample",
                                 "relu"]))
    k = draw(st.integers(1, 4))
    if kind == "conv":
        return kind, 1, {"k": k, "s": draw(st.integers(1, 2)), "p": draw(st.integers(0, 2)),
                         "d": draw(st.integers(1, 2))}
    if kind in ("maxpool", "avgpool"):
        return kind, None, {"k": k, "s": draw(st.integers(1, 2)), "p": draw(st.integers(0, k // 2))}
    if kind == "pad":
        return kind, None, {"p": (draw(st.integers(0, 3)), draw(st.integers(0, 3)))}
    if kind == "upsample":
        if draw(st.booleans()):
            return kind, None, {"size": draw(st.integers(40, 400))}
        return kind, draw(st.integers(2, 3)), {}
    return kind, None, {}


def ones_module(torch, kind, positional, values, shape):
    """The layer with every weight 1 and no bias, so no gradient cancels: max pooling becomes
    a convolution with the same windows (a gradient to every element), relu the identity."""
    if kind == "relu":
        return torch.nn.Identity()
    if kind == "maxpool":
        values = {"k": values["k"], "s": values["s"], "p": values["p"], "bias": False}
        kind, positional = "conv", shape[0]
    module = reference_module(torch, kind, positional, values, shape)
    for p in module.parameters():
        torch.nn.init.constant_(p, 1.0)
    if getattr(module, "bias", None) is not None:
        torch.nn.init.constant_(module.bias, 0.0)
    return module


@st.composite
def rf_graph(draw, length=160):
    """A 1-D, one-channel graph without global operations (nodes as in graph_case)."""
    import torch

    outputs = {"input": torch.ones(1, 1, length, dtype=torch.double)}
    nodes, modules = [], {}
    for index in range(draw(st.integers(2, 7))):
        name, names = f"n{index}", list(outputs)
        if index and draw(st.integers(0, 2)) == 0 and join_node(
                draw, torch, outputs, nodes, name, ("add", "concat_crop"),
                lambda kind, a, b: kind != "add" or a.shape == b.shape):
            continue
        source = names[-1] if draw(st.booleans()) else draw(st.sampled_from(names))
        kind, positional, values = draw(rf_layer())
        module = ones_module(torch, kind, positional, values, tuple(outputs[source].shape[1:]))
        module.double()
        try:
            with torch.no_grad():
                y = module(outputs[source])
        except RuntimeError:
            continue
        if y.shape[-1] < 1:
            continue
        outputs[name], modules[name] = y, module
        nodes.append((name, kind, positional, values, (source,)))
    assume(nodes)
    return length, nodes, modules


def widest_span(torch, length, nodes, modules):
    """The widest span of input positions with a non-zero gradient of one output position (all
    channels), over the positions whose inputs do not reach the borders; None if none."""
    def model(x):
        values = {"input": x}
        for name, kind, _, _, sources in nodes:
            if kind in JOINS:
                values[name] = join_value(torch, kind, [values[s] for s in sources])
            else:
                values[name] = modules[name](values[sources[0]])
        return values[nodes[-1][0]][0].sum(0)

    x = torch.ones(1, 1, length, dtype=torch.double)
    jac = torch.autograd.functional.jacobian(model, x, vectorize=True).reshape(-1, length)
    spans = []
    for row in jac:
        support = torch.nonzero(row).flatten()
        if len(support) and support[0] > 0 and support[-1] < length - 1:
            spans.append(int(support[-1] - support[0]) + 1)
    return max(spans) if spans else None


@pytest.mark.oracle
@settings(max_examples=80, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(rf_graph())
def test_graph_receptive_field_matches_autograd(torch, case):
    length, nodes, modules = case
    text = "; ".join(node_text(node) for node in nodes)
    result = cnnplan.shapes(f"1x{length}", [text])
    rf = result.data["layers"][-1]["rf"]
    widest = widest_span(torch, length, nodes, modules)
    assume(widest is not None)
    # the rf is the extent of the union of the paths' fields (Araujo et al.), misaligned
    # paths included: exact unless marked (upsampling, paths with different jumps)
    if result.data["layers"][-1].get("rf_exact", True):
        assert widest == rf, (text, rf, widest)
    else:   # an upper bound
        assert widest <= rf, (text, rf, widest)


@pytest.mark.oracle
@pytest.mark.parametrize("k, centres", [(3, None), (4, "1, 3/2"), (2, "0, 1/2"), (5, None)])
def test_misaligned_branches_are_noted(torch, k, centres):
    """A k-wide valid convolution joined with the input cropped to its size: the centres agree
    for odd k (the crop drops (k-1)/2 on each side) and differ by 1/2 for even k."""
    text = f"a: conv(1, k={k}, bias=false); j: concat(input, a, crop=true)"
    result = cnnplan.shapes("1x40", [text])
    notes = [n for n in result.notes if "not aligned" in n]
    if centres is None:
        assert notes == []
    else:
        # effective padding per path, E/2 - centre: the cropped input starts (k-1)//2 inside
        # position 0; the valid convolution's field starts at 0
        pads = ", ".join(str(p) for p in sorted({-((k - 1) // 2), 0}))
        assert notes == [f"layer 2 (j): its inputs' receptive fields are not aligned on axis 1 "
                         f"(centres of output 0 at {centres}; effective padding per path "
                         f"{pads}; rf and effective padding span the union)"]
    conv = torch.nn.Conv1d(1, 1, k, bias=False).double()
    torch.nn.init.constant_(conv.weight, 1.0)
    nodes = [("a", "conv", 1, {"k": k}, ("input",)), ("j", "concat_crop", None, {},
                                                         ("input", "a"))]
    widest = widest_span(torch, 40, nodes, {"a": conv})
    assert widest == result.data["layers"][-1]["rf"] == k
    # the centre of output 0 on the input, per branch: (k - 1)/2 and the crop offset (k-1)//2
    assert (centres is None) == ((k - 1) / 2 == (k - 1) // 2)


# -- MACs against fvcore (one "flop" per multiply-accumulate for conv and linear) -----------------

def _mac_models():
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "benchmarks" / "mac_table.py"
    spec = importlib.util.spec_from_file_location("mac_table", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


MAC_TABLE = _mac_models()


@pytest.mark.oracle
@pytest.mark.parametrize("name, shape, layers, build", MAC_TABLE.MODELS,
                         ids=[m[0] for m in MAC_TABLE.MODELS])
def test_conv_and_linear_macs_equal_fvcore(torch, name, shape, layers, build):
    """The models of docs/networks.md's "MAC conventions compared": output and params equal
    the plain-torch model's, and conv + convT + linear MACs equal fvcore's conv + linear."""
    data = cnnplan.shapes(shape, [layers]).data
    model = build(torch.nn).eval()
    dims = MAC_TABLE.input_shape(shape)
    with torch.no_grad():
        y = model(torch.randn(1, *dims))
    assert tuple(data["output"]) == tuple(y.shape[1:])
    assert data["params"] == sum(p.numel() for p in model.parameters())
    ours = sum(layer["macs"] for layer in data["layers"]
               if layer["kind"] in ("conv", "convT", "linear"))
    by_operator = MAC_TABLE.fvcore_count(torch, model, dims, by_operator=True)
    assert ours == by_operator.get("conv", 0) + by_operator.get("linear", 0) > 0


@pytest.mark.oracle
def test_paths_with_different_jumps_are_noted(torch):
    """Output 0's windows share centre 0, but output x reads input x and input 2x: the paths
    are not aligned, and one output position spans far more than the field of either path."""
    text = "a: conv(1, k=1, s=2, bias=false); b: pad(p=(0, 10)); add(input)"
    result = cnnplan.shapes("1x20", [text])
    assert [n for n in result.notes if "not aligned" in n] == [
        "layer 3: its inputs' receptive fields are not aligned on axis 1 (jumps 1, 2; centres "
        "of output 0 at 0; effective padding per path 0; rf and effective padding span the "
        "union)"]
    conv = torch.nn.Conv1d(1, 1, 1, stride=2, bias=False).double()
    torch.nn.init.constant_(conv.weight, 1.0)
    nodes = [("a", "conv", 1, {"k": 1, "s": 2}, ("input",)),
             ("b", "pad", None, {"p": (0, 10)}, ("a",)), ("c", "add", None, {}, ("b", "input"))]
    pad = reference_module(torch, "pad", None, {"p": (0, 10)}, (1, 10))
    widest = widest_span(torch, 20, nodes, {"a": conv, "b": pad})
    # the union's extent grows along the axis: the last of the 20 outputs reads inputs 19 and
    # 38 (a bound, marked as one: the input ends before 38)
    last = result.data["layers"][-1]
    assert (last["rf"], last["rf_exact"]) == (38 - 19 + 1, False)
    assert 1 < widest <= last["rf"]


@pytest.mark.oracle
@pytest.mark.parametrize("up, k", [(2, 2), (3, 2), (2, 4), ({"size": 70}, 3), ({"size": 25}, 2)])
def test_nearest_upsampling_then_a_window(torch, up, k):
    """Output phases of nearest upsampling read different inputs: the widest reaches the rf
    (a bound: after a stride-2 layer, upsample(2) outputs read one input each)."""
    values = up if isinstance(up, dict) else {}
    scale = None if isinstance(up, dict) else up
    nodes = [("u", "upsample", scale, values, ("input",)),
             ("c", "conv", 1, {"k": k, "bias": False}, ("u",))]
    result = cnnplan.shapes("1x40", ["; ".join(node_text(node) for node in nodes)])
    modules = {"u": reference_module(torch, "upsample", scale, values, (1, 40)),
               "c": ones_module(torch, "conv", 1, {"k": k, "bias": False},
                                tuple(result.data["layers"][0]["output"])).double()}
    assert widest_span(torch, 40, nodes, modules) == result.data["layers"][-1]["rf"]
    assert result.data["layers"][-1]["rf_exact"] is False   # a bound, here reached

"""The import zoo: real models through `cnnplan.import_model`, each checked against oracles.

Every model builder of torchvision's classification, segmentation and video families, and the
main timm CNN families (one or two small variants each), built without weights, is imported
through cnnplan's library API (no skip_unknown) and then checked:

  shapes  every layer named after a module equals that module's output in a real torch forward
          (CPU, forward hooks), and the network's output equals torch's;
  params  the plan's parameter count equals sum(p.numel());
  macs    the MACs of conv, convT, linear and matrix-product layers (matmul, attention, mha)
          equal fvcore's conv + linear + addmm + matmul + bmm counts (torch.utils.flop_counter's
          convolution, addmm, mm, bmm and baddbmm, halved, for models built on the meta device);
  rf      on a sample of layers, cnnplan's rf equals the widest span of input positions with a
          non-zero gradient of one output position (autograd, float64, every weight positive,
          nn.MaxPool replaced by nn.AvgPool with the same windows, as tests/test_network.py);
  inputs  `cnnplan.inputs` says accepted / refused as a torch forward on the meta device does,
          on a sample of sizes (around the smallest accepted size, and spread over the range);
  other   at two other input sizes, cnnplan.shapes equals the meta forward layer by layer, or
          refuses (a size tied to the import size): never a different number.

Models with more than BIG parameters are built on the meta device (no weights in memory): their
shapes oracle runs on the meta device too, and rf is not sampled.

    python benchmarks/zoo.py [--family tv-cls,tv-seg,tv-video,timm] [--only NAME,...]
                             [--markdown] [--json FILE] [--timeout SECONDS]
    python benchmarks/zoo.py --merge FILE.json ... [--markdown]   (report earlier runs)

Prints one line per model as it goes (status, failure class, import time, oracle results),
then a summary (with --markdown: the table of docs/import.md).
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import io
import json
import math
import re
import signal
import sys
import time
import types
import warnings

BIG = 40_000_000
RF_LAYERS = 4           # layers sampled for the rf oracle
RF_MAX_3D = 12   # video models: the autograd input is a cube
RF_MAX = 64             # largest rf sampled (keeps the autograd input small)
NON_CNN = re.compile(r"^(vit_|swin|maxvit|mvit)")   # transformers: reported, not in the CNN rate

# timm: the main CNN families, small variants (name, family)
TIMM = [
    ("resnet18", "ResNet"), ("resnet50", "ResNet"), ("resnet50d", "ResNet-D"),
    ("resnet26t", "ResNet-D"), ("seresnet50", "SE-ResNet"), ("ecaresnet50d", "ECA-ResNet"),
    ("resnext50_32x4d", "ResNeXt"), ("skresnet18", "SK-ResNet"), ("resnest14d", "ResNeSt"),
    ("res2net50_26w_4s", "Res2Net"), ("resnetblur18", "ResNet-blur"), ("resnetaa50", "ResNet-aa"),
    ("resnetv2_50", "ResNetV2"), ("resnetrs50", "ResNet-RS"),
    ("efficientnet_b0", "EfficientNet"), ("tf_efficientnet_b0", "EfficientNet (TF same)"),
    ("efficientnetv2_rw_t", "EfficientNetV2"), ("tf_efficientnetv2_b0", "EfficientNetV2"),
    ("mixnet_s", "MixNet"), ("mnasnet_100", "MnasNet"), ("fbnetc_100", "FBNet"),
    ("spnasnet_100", "SPNASNet"), ("tinynet_a", "TinyNet"), ("lcnet_050", "LCNet"),
    ("mobilenetv2_100", "MobileNetV2"), ("mobilenetv3_large_100", "MobileNetV3"),
    ("mobilenetv3_small_100", "MobileNetV3"), ("tf_mobilenetv3_small_100", "MobileNetV3 (TF)"),
    ("mobilenetv4_conv_small", "MobileNetV4"), ("hardcorenas_a", "HardCoReNAS"),
    ("regnetx_002", "RegNet"), ("regnety_002", "RegNet"), ("regnetz_b16", "RegNetZ"),
    ("cspdarknet53", "CSPDarknet"), ("cspresnet50", "CSPResNet"), ("cspresnext50", "CSPResNeXt"),
    ("darknet53", "Darknet"), ("cs3darknet_s", "CS3Darknet"),
    ("convnext_atto", "ConvNeXt"), ("convnextv2_atto", "ConvNeXt-V2"),
    ("densenet121", "DenseNet"), ("inception_v3", "Inception"), ("inception_v4", "Inception"),
    ("inception_resnet_v2", "Inception-ResNet"), ("legacy_xception", "Xception"),
    ("xception41", "Xception"), ("dla34", "DLA"), ("dpn68", "DPN"), ("ghostnet_100", "GhostNet"),
    ("hrnet_w18_small", "HRNet"), ("rexnet_100", "ReXNet"), ("selecsls42b", "SelecSLS"),
    ("vgg11", "VGG"), ("repvgg_a0", "RepVGG"), ("nf_resnet26", "NF-ResNet"),
    ("dm_nfnet_f0", "NFNet"), ("tresnet_m", "TResNet"), ("gernet_s", "GENet"),
    ("hgnet_tiny", "HGNet"), ("ese_vovnet19b_dw", "VoVNet"), ("repghostnet_050", "RepGhost"),
]

CLS_LADDER = [(3, 64, 64), (3, 96, 96), (3, 128, 128), (3, 224, 224), (3, 299, 299)]
VIDEO_LADDER = [(3, 4, 32, 32), (3, 8, 64, 64), (3, 16, 112, 112), (3, 16, 224, 224)]


TIMES: dict = {}     # seconds spent per oracle, over the run


class Timeout(Exception):
    pass


class _Stop(Exception):
    pass


def torch_modules():
    sys.modules.setdefault("torchvision._meta_registrations",
                           types.ModuleType("torchvision._meta_registrations"))
    import torch
    import torchvision  # noqa: F401
    return torch


def models(families):
    """(family group, family, name, build(device) -> module, ladder, output key)."""
    import torchvision.models as tvm

    found = []
    if "tv-cls" in families:
        for name in tvm.list_models(module=tvm):
            found.append(("torchvision classification", _tv_family(name), name,
                          _tv_builder(name, {}), CLS_LADDER, None))
    if "tv-seg" in families:
        for name in tvm.list_models(module=tvm.segmentation):
            found.append(("torchvision segmentation", name.split("_")[0].upper(), name,
                          _tv_builder(name, {"weights_backbone": None}), CLS_LADDER, "out"))
    if "tv-video" in families:
        for name in tvm.list_models(module=tvm.video):
            found.append(("torchvision video", name.split("_")[0], name, _tv_builder(name, {}),
                          VIDEO_LADDER, None))
    if "timm" in families:
        for name, family in TIMM:
            found.append(("timm", family, name, _timm_builder(name), CLS_LADDER, None))
    return found


def _tv_family(name):
    return re.sub(r"(_?\d.*|_[a-z]$)", "", name.replace("wide_", "wide-")) or name


def _tv_builder(name, extra):
    def build():
        import torchvision.models as tvm
        return tvm.get_model(name, weights=None, **extra)
    return build


def _timm_builder(name):
    def build():
        import timm
        return timm.create_model(name, pretrained=False)
    return build


# -- torch's side -----------------------------------------------------------------------------

def pick(output, key):
    """The tensor an output stands for: `key` of a dict, or the output itself."""
    if isinstance(output, dict):
        return output[key] if key is not None else None
    return output


def forward_shapes(torch, model, shape, device, key, batch=2):
    """(output shape, {module name: [output shape per call]}) of a forward pass."""
    calls: dict = {}
    hooks = [module.register_forward_hook(
        lambda m, i, o, name=name: calls.setdefault(name, []).append(
            tuple(o.shape[1:]) if isinstance(o, torch.Tensor) else None))
        for name, module in model.named_modules() if name]
    try:
        with torch.no_grad():
            out = pick(model(torch.zeros(batch, *shape, device=device)), key)
    finally:
        for hook in hooks:
            hook.remove()
    return tuple(out.shape[1:]), calls


def used_params(torch, model, shape, key) -> int:
    """sum(p.numel()) over the parameters that get a gradient from the output (autograd: a
    module the forward never calls, such as an eval-mode auxiliary classifier, gets none)."""
    device = next(model.parameters()).device
    model.zero_grad(set_to_none=True)
    pick(model(torch.zeros(2, *shape, device=device)), key).sum().backward()
    used = sum(p.numel() for p in model.parameters() if p.grad is not None)
    model.zero_grad(set_to_none=True)
    return used


def accepts(torch, meta_model, shape, key) -> bool:
    try:
        with torch.no_grad(), contextlib.redirect_stderr(io.StringIO()):
            pick(meta_model(torch.empty(2, *shape, device="meta")), key)
        return True
    except Exception:
        return False


def torch_macs(torch, model, shape, key, on_meta):
    """conv + linear + matrix-product MACs of one input: fvcore (conv, linear, addmm, matmul,
    bmm), or flop_counter / 2."""
    class Picked(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.model = model

        def forward(self, x):
            return pick(self.model(x), key)

    if on_meta:
        from torch.utils.flop_counter import FlopCounterMode

        counter = FlopCounterMode(display=False)
        with counter, torch.no_grad():
            Picked()(torch.empty(1, *shape, device="meta"))
        ops = counter.get_flop_counts()["Global"]
        aten = torch.ops.aten
        wanted = (aten.convolution, aten._convolution, aten.addmm, aten.mm, aten.bmm,
                  aten.baddbmm)
        return sum(v for k, v in ops.items() if k in wanted) // 2, "flop_counter"
    from fvcore.nn import FlopCountAnalysis

    with warnings.catch_warnings(), contextlib.redirect_stderr(io.StringIO()):
        warnings.simplefilter("ignore")
        analysis = FlopCountAnalysis(Picked().eval(), torch.zeros(1, *shape))
        analysis.unsupported_ops_warnings(False).uncalled_modules_warnings(False)
        ops = analysis.by_operator()
    return sum(ops.get(k, 0) for k in ("conv", "linear", "addmm", "matmul", "bmm")), "fvcore"


def autograd_spans(torch, model, shape, names, key):
    """{layer name: per-axis span of input positions with a non-zero gradient of the layer's
    centre output position, or None when the span reaches the input's border}."""
    model = copy.deepcopy(model).double().eval()
    nn = torch.nn
    for parent in list(model.modules()):
        for child_name, child in list(parent.named_children()):
            kind = {nn.MaxPool1d: nn.AvgPool1d, nn.MaxPool2d: nn.AvgPool2d,
                    nn.MaxPool3d: nn.AvgPool3d}.get(type(child))
            if kind is not None and child.dilation in (1, (1,) * (len(shape) - 1)):
                setattr(parent, child_name, kind(child.kernel_size, child.stride, child.padding,
                                                 ceil_mode=child.ceil_mode))
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.dim() >= 2:
                p.fill_(1.0 / p[0].numel())
            else:
                p.fill_(0.0 if name.endswith("bias") else 1.0)
        for name, b in model.named_buffers():
            if name.endswith("running_mean"):
                b.zero_()
            elif name.endswith("running_var"):
                b.fill_(1.0)
    captured = {}
    wanted = set(names)
    modules = dict(model.named_modules())

    def hook(name):
        def run(m, i, o):
            if name not in captured:
                captured[name] = o
            if set(captured) >= wanted:
                raise _Stop
        return run

    hooks = [modules[n].register_forward_hook(hook(n)) for n in names]
    x = torch.ones(1, *shape, dtype=torch.double, requires_grad=True)
    try:
        model(x)
    except _Stop:
        pass
    finally:
        for h in hooks:
            h.remove()
    spans = {}
    for name, out in captured.items():
        centre = tuple(s // 2 for s in out.shape[2:])
        (grad,) = torch.autograd.grad(out[(0, slice(None)) + centre].sum(), x, retain_graph=True)
        support = grad[0].abs().sum(0) != 0
        axes = []
        for axis in range(support.dim()):
            other = tuple(a for a in range(support.dim()) if a != axis)
            line = support.any(dim=other) if other else support
            where = torch.nonzero(line).flatten()
            if not len(where) or where[0] == 0 or where[-1] == line.numel() - 1:
                axes = None
                break
            axes.append(int(where[-1] - where[0]) + 1)
        spans[name] = axes
    return spans


# -- one model --------------------------------------------------------------------------------

def fmt(shape):
    return "x".join(map(str, shape))


def failure_class(message: str) -> str:
    """A short class for an import failure, from cnnplan's one-line message."""
    patterns = [
        (r"no cnnplan layer kind for the method \.(\w+)\(\)", "method .{}()"),
        (r"no cnnplan layer kind for ([\w.]+)(?:;|$)", "module {}"),
        (r"\(call_function ([\w.]+)\).*no cnnplan layer kind for this function",
         "function {}"),
        (r"computed from 0 parameters", "fixed filter (weights in a buffer)"),
        (r"its weight and bias hold", "weights computed from more parameters"),
        (r"a tensor stored in the model", "parameter read"),
        (r"output is not one tensor", "dict/tuple output"),
        (r"torch\.fx cannot trace", "fx trace"),
        (r"torch refuses input", "torch refuses input"),
        (r"reshapes .* only \(N, -1\)", "reshape"),
        (r"by broadcasting", "broadcast add"),
        (r"with a constant", "constant operand"),
        (r"concatenates along dim", "cat along other dim"),
        (r"(\w+ over dims?)", "{}"),
        (r"a module called with (\d+) tensors", "module with {} inputs"),
        (r"a linear layer on", "linear on non-flat input"),
        (r"is not a whole number", "fractional scale"),
        (r"mode '(\w+)'", "upsample mode {}"),
        (r"indexing other than|indexes a tensor|a slice that is not", "slice/index"),
        (r"second tensor|takes \d+ inputs", "several inputs"),
        (r"does not read back", "plan does not read back"),
        (r"cnnplan gives", "shape check"),
        (r"parameters, the model", "param check"),
    ]
    for pattern, label in patterns:
        match = re.search(pattern, message)
        if match:
            return label.format(*match.groups()[:1]) if "{}" in label else label
    return message[:60]


def _alarm(*_):
    raise Timeout


def run_model(torch, group, family, name, build, ladder, key, timeout):
    import cnnplan

    row = {"group": group, "family": family, "model": name, "cnn": not NON_CNN.match(name),
           "status": "", "class": "", "message": "", "input": "", "layers": 0, "params": 0,
           "import_s": None, "oracles": {}}
    started = time.perf_counter()
    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(timeout)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                with torch.device("meta"):
                    probe = build()
            except Exception:      # a builder that reads values while it builds
                probe = None
            on_meta = probe is not None and sum(p.numel() for p in probe.parameters()) > BIG
            model = probe if on_meta else build()
        model.eval()
        meta_model = model if on_meta else copy.deepcopy(model).to("meta")
        shape = next((s for s in ladder if accepts(torch, meta_model, s, key)), None)
        if shape is None:
            row.update(status="skip", message="torch accepts none of " +
                       ", ".join(map(fmt, ladder)))
            return row
        row["input"] = fmt(shape)
        start = time.perf_counter()
        try:
            kwargs = {"output_key": key} if key is not None and _has_output_key() else {}
            result = cnnplan.import_model(model, fmt(shape), **kwargs)
        except cnnplan.CnnplanError as exc:
            row.update(status="FAIL", message=str(exc))
            row["class"] = failure_class(str(exc))
            row["import_s"] = time.perf_counter() - start
            return row
        row["import_s"] = time.perf_counter() - start
        text = result.data["plan"]
        row["layers"], row["params"] = result.data["layers"], result.data["params"]
        row["oracles"] = oracles(torch, model, meta_model, text, shape, key, on_meta)
        bad = [k for k, v in row["oracles"].items() if v.startswith("WRONG")]
        row["status"] = "WRONG" if bad else "ok"
        row["class"] = ", ".join(f"wrong {k}" for k in bad)
        return row
    except Timeout:
        row.update(status="timeout", message=f"over {timeout}s")
        return row
    except Exception as exc:   # the zoo reports, it does not stop
        row.update(status="ERROR", message=f"{type(exc).__name__}: {str(exc)[:200]}",
                   **{"class": f"internal {type(exc).__name__}"})
        return row
    finally:
        signal.alarm(0)
        row["total_s"] = time.perf_counter() - started


def _has_output_key():
    import inspect

    import cnnplan
    return "output_key" in inspect.signature(cnnplan.import_model).parameters


def oracles(torch, model, meta_model, text, shape, key, on_meta):
    import cnnplan
    from cnnplan.network.inputs import inputs as cnnplan_inputs

    found, clock = {}, [time.perf_counter()]

    def lap(name):
        now = time.perf_counter()
        TIMES[name] = TIMES.get(name, 0) + now - clock[0]
        clock[0] = now

    plan = cnnplan.shapes(plan_text=text)
    layers = {layer["name"]: layer for layer in plan.data["layers"]}
    device = "meta" if on_meta else "cpu"
    out, calls = forward_shapes(torch, meta_model if on_meta else model, shape, device, key)
    found["shapes"] = _compare(layers, plan.data["output"], out, calls, "")
    lap("shapes")
    params = used_params(torch, meta_model if on_meta else model, shape, key)
    found["params"] = ("ok" if plan.data["params"] == params
                       else f"WRONG {plan.data['params']:,} != {params:,}")
    ours = sum(layer["macs"] for layer in layers.values()
               if layer["kind"] in ("conv", "convT", "linear", "matmul", "attention", "mha"))
    try:
        theirs, source = torch_macs(torch, meta_model if on_meta else model, shape, key, on_meta)
        found["macs"] = (f"ok ({source})" if ours == theirs
                         else f"WRONG {ours:,} != {source} {theirs:,}")
    except Exception as exc:
        found["macs"] = f"n/a ({type(exc).__name__})"
    lap("macs")
    found["rf"] = ("n/a (meta)" if on_meta
                   else _rf(torch, model, meta_model, layers, calls, shape, key))
    lap("rf")
    found["inputs"] = _inputs(torch, cnnplan_inputs, meta_model, text, shape, key)
    lap("inputs")
    found["other"] = _other_sizes(torch, cnnplan, meta_model, text, shape, key)
    lap("other")
    return found


def _compare(layers, our_out, out, calls, where):
    if tuple(our_out) != tuple(out):
        return f"WRONG{where} output {fmt(our_out)} != torch {fmt(out)}"
    checked = 0
    for name, shapes in calls.items():
        for n, expected in enumerate(shapes):
            layer = layers.get(name if n == 0 else f"{name}__{n}")
            if layer is None or expected is None:
                continue
            if tuple(layer["output"]) != expected:
                return f"WRONG{where} {layer['name']} {fmt(layer['output'])} != {fmt(expected)}"
            checked += 1
    return f"ok ({checked} layers)"


def _rf(torch, model, meta_model, layers, calls, shape, key):
    candidates = [n for n, layer in layers.items() if n in calls and layer["kind"] not in
                  ("add", "mul", "concat") and isinstance(layer.get("rf"), int)
                  and 1 < layer["rf"] <= (RF_MAX if len(shape) < 4 else RF_MAX_3D)
                  and len(layer["output"]) == len(shape)]
    if not candidates:
        return "n/a (no layer)"
    step = max(1, len(candidates) // RF_LAYERS)
    sample = candidates[::step][-RF_LAYERS:]
    widest = max(layers[n]["rf"] + 4 * _most(layers[n]["jump"]) for n in sample)
    size = max(shape[1], 2 * widest + 8)
    # the first size from there that torch accepts (DLA's adds need even sizes, for example)
    size = next((s for s in range(size, size + 64) if accepts(
        torch, meta_model, (shape[0],) + (s,) * (len(shape) - 1), key)), None)
    if size is None:
        return "n/a (no size torch accepts)"
    spans = autograd_spans(torch, model, (shape[0],) + (size,) * (len(shape) - 1), sample, key)
    checked = 0
    for name in sample:
        span = spans.get(name)
        if span is None:
            continue
        if max(span) != layers[name]["rf"]:
            return f"WRONG {name}: rf {layers[name]['rf']} != autograd {fmt(span)}"
        checked += 1
    return f"ok ({checked} layers)" if checked else "n/a (border)"


def _most(value) -> int:
    """The largest of a per-axis value ("1x2x2") or the value."""
    return max(int(float(v)) + 1 for v in str(value).split("x"))


def _inputs(torch, cnnplan_inputs, meta_model, text, shape, key):
    top = shape[1]
    try:
        result = cnnplan_inputs(plan_text=text, range=f"1..{top}")
    except Exception as exc:
        return f"refused ({str(exc)[:60]})"
    ours = set(result.data["sizes"])
    dims = len(shape) - 1
    smallest = min(ours) if ours else top
    sample = {smallest - 1, smallest, smallest + 1, top}
    sample |= {1 + (top - 1) * i // 3 for i in range(4)}
    sample |= set(sorted(set(range(smallest, top + 1)) - ours)[:2])
    sample = sorted(s for s in sample if 1 <= s <= top)
    for size in sample:
        theirs = accepts(torch, meta_model, (shape[0],) + (size,) * dims, key)
        if theirs != (size in ours):
            return f"WRONG size {size}: cnnplan {'accepts' if size in ours else 'refuses'}"
    return f"ok ({len(sample)} sizes)"


def _other_sizes(torch, cnnplan, meta_model, text, shape, key):
    dims = len(shape) - 1
    tried = []
    for delta in (32, 17, 16, 48, 8):
        size = shape[1] + delta
        other = (shape[0],) + tuple(size if a > 0 else shape[1 + a] for a in range(dims)) \
            if dims == 3 else (shape[0],) + (size,) * dims
        try:
            with contextlib.redirect_stderr(io.StringIO()):
                out, calls = forward_shapes(torch, meta_model, other, "meta", key)
        except Exception:
            continue     # torch refuses this size
        try:
            plan = cnnplan.shapes(input=fmt(other), plan_text=text)
        except cnnplan.CnnplanError as exc:
            tried.append(f"refused {fmt(other)}")
            continue
        layers = {layer["name"]: layer for layer in plan.data["layers"]}
        verdict = _compare(layers, plan.data["output"], out, calls, f" at {fmt(other)}:")
        if verdict.startswith("WRONG"):
            return verdict
        tried.append(fmt(other))
        if len(tried) == 2:
            break
    return f"ok ({', '.join(tried)})" if tried else "n/a"


# -- the report -------------------------------------------------------------------------------

def line(row):
    oracles = "  ".join(f"{k}:{v.split(' ')[0]}" for k, v in row["oracles"].items())
    imp = f"{row['import_s']:.1f}s" if row["import_s"] is not None else "-"
    return (f"{row['model']:28} {row['status']:7} {imp:>6} {row['input']:>12}  "
            f"{row['class'] or oracles}")


def summary(rows) -> str:
    cnn = [r for r in rows if r["cnn"] and r["status"] != "skip"]
    ok = [r for r in cnn if r["status"] == "ok"]
    classes: dict = {}
    for r in rows:
        if r["status"] != "ok" and r["class"]:
            for c in r["class"].split(", "):
                classes.setdefault(c, []).append(r["model"])
    text = [f"CNN builders imported with every oracle passing: {len(ok)} of {len(cnn)} "
            f"({100 * len(ok) / max(1, len(cnn)):.0f} %)",
            f"non-CNN (transformers): {sum(r['status'] == 'ok' for r in rows if not r['cnn'])}"
            f" of {sum(1 for r in rows if not r['cnn'])}", "failure classes:"]
    for c, names in sorted(classes.items(), key=lambda kv: -len(kv[1])):
        text.append(f"  {len(names):3}  {c}: {', '.join(names[:6])}"
                    + (" ..." if len(names) > 6 else ""))
    return "\n".join(text)


def markdown(rows) -> str:
    out = ["source | family | model | input | status | import | layers | params | shapes | "
           "MACs | rf | inputs | other sizes",
           "--- | --- | --- | --- | --- | ---: | ---: | ---: | --- | --- | --- | --- | ---"]
    for r in rows:
        o = r["oracles"]
        status = r["status"] + (f": {r['class']}" if r["class"] else "")
        if r["status"] == "skip":
            status += f" ({r['message']})"
        cells = [r["group"].replace("torchvision ", "tv "), r["family"], f"`{r['model']}`",
                 r["input"], status.replace("|", "\\|"),
                 f"{r['import_s']:.1f}s" if r["import_s"] is not None else "",
                 str(r["layers"] or ""), f"{r['params']:,}" if r["params"] else ""]
        cells += [o.get(k, "").replace("|", "\\|") for k in ("shapes", "macs", "rf", "inputs",
                                                               "other")]
        out.append(" | ".join(cells))
    return "\n".join(out)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--family", default="tv-cls,tv-seg,tv-video,timm")
    parser.add_argument("--only", default="")
    parser.add_argument("--markdown", action="store_true")
    parser.add_argument("--json", default="")
    parser.add_argument("--timeout", type=int, default=300)
    parser.add_argument("--merge", nargs="+", default=[],
                        help="report the rows of earlier --json files (the first row of each "
                             "model wins) instead of running")
    args = parser.parse_args(argv)
    if args.merge:
        rows, seen = [], set()
        for path in args.merge:
            with open(path) as handle:
                for row in json.load(handle):
                    if (row["group"], row["model"]) not in seen:
                        seen.add((row["group"], row["model"]))
                        if row["status"] == "FAIL":
                            row["class"] = failure_class(row["message"])
                        rows.append(row)
        print(summary(rows))
        if args.markdown:
            print(markdown(rows))
        return
    torch = torch_modules()
    torch.set_num_threads(1)
    only = set(filter(None, args.only.split(",")))
    rows = []
    for group, family, name, build, ladder, key in models(args.family.split(",")):
        if only and name not in only:
            continue
        row = run_model(torch, group, family, name, build, ladder, key, args.timeout)
        rows.append(row)
        print(line(row), flush=True)
        if row["status"] in ("FAIL", "ERROR"):
            print(f"    {row['message'][:300]}", flush=True)
        if args.json:
            with open(args.json, "w") as handle:
                json.dump(rows, handle, indent=1)
    print(summary(rows))
    print("oracle time: " + ", ".join(f"{k} {v:.0f}s" for k, v in TIMES.items()))
    if args.markdown:
        print(markdown(rows))


if __name__ == "__main__":
    main()

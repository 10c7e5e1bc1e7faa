"""torchvision models through ONNX: each exported with torch.onnx.export (TorchScript exporter,
opset 17, batch 1, no weights loaded), imported with `cnnplan import`, and checked:

  shapes  every layer's shape in the imported plan equals onnxruntime's for its ONNX node
          (each intermediate made a graph output), and the output too;
  params  the imported parameters equal the initializers the model's layers consume.

    python benchmarks/onnx_zoo.py --only resnet50,shufflenet_v2_x0_5 [--size 224] [--markdown]

One line per model: ok (layers, params), refused (cnnplan's one-line reason), export failed
(torch's exporter), or MISMATCH (a wrong number: a bug). docs/frameworks.md has the results.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import types
import warnings

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "tests"))

SEGMENTATION = ("fcn_", "deeplabv3_", "lraspp_")


def build(name: str):
    sys.modules.setdefault("torchvision._meta_registrations",
                           types.ModuleType("torchvision._meta_registrations"))
    import torchvision.models as tvm

    extra = {"weights_backbone": None} if name.startswith(SEGMENTATION) else {}
    return tvm.get_model(name, weights=None, **extra).eval()


def single_output(model):
    """A segmentation model with its 'out' tensor as its only output."""
    import torch

    class Out(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.model = model

        def forward(self, x):
            return self.model(x)["out"]
    return Out().eval()


def try_model(name: str, size: int) -> tuple[str, str]:
    """(status, detail) for one model."""
    import onnx
    import torch
    from onnx_support import check_import, consumed_initializers

    from cnnplan.importers.onnx.model import import_onnx
    from cnnplan.platform.errors import CnnplanError

    model = build(name)
    if name.startswith(SEGMENTATION):
        model = single_output(model)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, f"{name}.onnx")
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                torch.onnx.export(model, torch.zeros(1, 3, size, size), path, dynamo=False,
                                  opset_version=17)
        except Exception as exc:
            return "export failed", f"{type(exc).__name__}: {str(exc).splitlines()[0][:160]}"
        try:
            result = import_onnx(path)
        except CnnplanError as exc:
            return "refused", str(exc).splitlines()[0][:240]
        onnx_model = onnx.load(path)
        try:
            layers = check_import(onnx_model, result, (3, size, size))
        except AssertionError as exc:
            return "MISMATCH", f"shapes: {exc}"
        want = consumed_initializers(onnx_model)
        if result.data["params"] != want:
            return "MISMATCH", f"params {result.data['params']:,} vs {want:,} consumed"
        return "ok", f"{layers} layers, {result.data['params']:,} params"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", required=True, help="torchvision builder names, commas")
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args(argv)
    rows = []
    for name in args.only.split(","):
        start = time.perf_counter()
        status, detail = try_model(name.strip(), args.size)
        seconds = time.perf_counter() - start
        rows.append((name, args.size, status, detail))
        if not args.markdown:
            print(f"{name:32} {args.size:4} {status:14} {detail}  ({seconds:.1f} s)", flush=True)
    if args.markdown:
        print("| model | input | result | detail |\n| --- | --- | --- | --- |")
        for name, size, status, detail in rows:
            print(f"| {name} | 3x{size}x{size} | {status} | {detail.replace('|', '/')} |")
    return 1 if any(row[2] == "MISMATCH" for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())

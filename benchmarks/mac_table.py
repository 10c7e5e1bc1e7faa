"""MAC conventions compared: cnnplan's MACs against fvcore, ptflops and torchinfo on the same
models (run by hand: python benchmarks/mac_table.py; needs torch==2.13.0 and
`pip install fvcore ptflops torchinfo`). Prints the two Markdown tables of docs/networks.md,
"MAC conventions compared": per model (totals), and per layer kind (each layer measured alone,
summed over the models' layers of that kind).

Every model is written twice: as cnnplan layer specs and, independently, in plain torch.
tests/test_graph_oracles.py imports MODELS from here and checks shapes, params and the
conv + linear MACs against fvcore.
"""

from __future__ import annotations

import contextlib
import io
import logging
import sys
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import cnnplan  # noqa: E402


def _small_cnn(nn):
    return nn.Sequential(
        nn.Conv2d(3, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU(),
        nn.MaxPool2d(2), nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.AvgPool2d(2),
        nn.AdaptiveAvgPool2d(3), nn.Flatten(), nn.Linear(288, 10))


def _decoder(nn):
    return nn.Sequential(
        nn.ConvTranspose2d(32, 16, 4, stride=2, padding=1), nn.BatchNorm2d(16), nn.ReLU(),
        nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False),
        nn.Conv2d(16, 8, 3, padding=1), nn.ReLU(), nn.Upsample(scale_factor=2),
        nn.Conv2d(8, 3, 1), nn.Sigmoid())


def _res_block(nn):
    class Block(nn.Module):
        """A ResNet basic block, global average pooling and a classifier."""

        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(16, 16, 3, padding=1, bias=False)
            self.bn1 = nn.BatchNorm2d(16)
            self.conv2 = nn.Conv2d(16, 16, 3, padding=1, bias=False)
            self.bn2 = nn.BatchNorm2d(16)
            self.relu = nn.ReLU()
            self.fc = nn.Linear(16, 10)

        def forward(self, x):
            y = self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x)))))
            return self.fc(self.relu(y + x).mean((2, 3)))

    return Block()


# (name, input, cnnplan layers, torch builder)
MODELS = [
    ("small CNN", "3x32x32",
     "conv(16, k=3, p=1, bias=false); bn; relu; maxpool(2); conv(32, k=3, p=1); relu; "
     "avgpool(2); adaptiveavgpool(3); flatten; linear(10)", _small_cnn),
    ("decoder", "32x8x8",
     "convT(16, k=4, s=2, p=1); bn; relu; upsample(2, mode=bilinear); conv(8, k=3, p=1); relu; "
     "upsample(2); conv(3, k=1); sigmoid", _decoder),
    ("residual block", "16x16x16",
     "c1: conv(16, k=3, p=1, bias=false); bn; relu; conv(16, k=3, p=1, bias=false); bn; "
     "add(input); relu; mean; linear(10)", _res_block),
]

TOOLS = ("fvcore", "ptflops", "torchinfo")


def input_shape(text) -> tuple:
    return tuple(int(v) for v in text.split("x"))


def fvcore_count(torch, module, shape, by_operator=False):
    """fvcore's FlopCountAnalysis total (one "flop" per MAC for conv and linear), or its
    counts per operator."""
    with warnings.catch_warnings():   # fvcore uses torch.jit (deprecated in torch 2.13)
        warnings.simplefilter("ignore")
        from fvcore.nn import FlopCountAnalysis

        analysis = FlopCountAnalysis(module.eval(), torch.randn(1, *shape))
        analysis.unsupported_ops_warnings(False)
        analysis.uncalled_modules_warnings(False)
        return dict(analysis.by_operator()) if by_operator else analysis.total()


def counts(torch, module, shape) -> dict:
    """MACs of `module` on a batch of one `shape` according to each tool."""
    from ptflops import get_model_complexity_info
    from torchinfo import summary

    module.eval()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        ptflops, _ = get_model_complexity_info(module, shape, as_strings=False,
                                               print_per_layer_stat=False, backend="pytorch")
    info = summary(module, input_size=(1, *shape), verbose=0)
    return {"fvcore": fvcore_count(torch, module, shape), "ptflops": int(ptflops),
            "torchinfo": int(info.total_mult_adds)}


def per_kind(torch):
    """{kind: {"cnnplan": n, tool: n}}: every layer of the sequential models alone."""
    rows: dict = {}
    for name, shape, layers, build in MODELS:
        model = build(torch.nn)
        if not isinstance(model, torch.nn.Sequential):
            continue
        data = cnnplan.shapes(shape, [layers]).data
        x = torch.randn(1, *input_shape(shape))
        for layer, module in zip(data["layers"], model):
            kind = layer["spec"].split("(")[0] + (
                f" {layer['spec'].split('mode=')[1].rstrip(')')}" if "mode=" in layer["spec"]
                else "")
            row = rows.setdefault(kind, dict.fromkeys(("cnnplan", *TOOLS), 0))
            row["cnnplan"] += layer["macs"]
            for tool, n in counts(torch, torch.nn.Sequential(module), tuple(x.shape[1:])).items():
                row[tool] += n
            x = module.eval()(x)
    return rows


def table(header, rows) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def main():
    import torch

    warnings.filterwarnings("ignore")
    logging.disable(logging.WARNING)
    header = ("model", "input", "cnnplan", *TOOLS)
    rows = []
    for name, shape, layers, build in MODELS:
        macs = cnnplan.shapes(shape, [layers]).data["macs"]
        found = counts(torch, build(torch.nn), input_shape(shape))
        rows.append((name, shape, macs, *(found[t] for t in TOOLS)))
    print(table(header, rows))
    print()
    kinds = per_kind(torch)
    print(table(("layer kind", "cnnplan", *TOOLS),
                [(kind, *counts_row.values()) for kind, counts_row in kinds.items()]))


if __name__ == "__main__":
    main()

"""`cnnplan import` of a PyTorch model: load, trace, map, write and check (import_model)."""

from __future__ import annotations

from ...kinds.shape import format_shape, parse_shape
from ...platform.result import Result
from ..plan import check_plan, render_plan
from .claims import claims_by_type, plugin_importers
from .graph import map_graph
from .load import build_model, call_text, check_target, parse_args, require_torch
from .trace import shape_run, trace


def import_model(target, input, args=(), skip_unknown: bool = False, command: str = "") -> Result:
    """Import TARGET (`file.py:NAME`, `package.module:NAME`, or an nn.Module instance) for input
    shape `input`; Result.data["plan"] is the plan file's text, checked against torch.

    `args`: `--arg` texts ("width=8") or a dict of keyword arguments for NAME.
    """
    input_shape = parse_shape(input, "--in")
    if isinstance(target, str):       # check what was typed before paying for torch
        kwargs = dict(args) if isinstance(args, dict) else parse_args(args)
        check_target(target)
    torch = require_torch()
    if isinstance(target, torch.nn.Module):   # a copy: the shape run moves it to "meta"
        import copy

        model, source = copy.deepcopy(target).eval(), type(target).__name__
        title = source
    else:
        model, source = build_model(target, kwargs), target
        name = target.rsplit(":", 1)[1]
        title = f"{name}({call_text(kwargs)})" if kwargs else name
    params = sum(p.numel() for p in model.parameters())
    claims = claims_by_type(plugin_importers())
    gm = trace(model, tuple(cls for cls, _ in claims))
    values = shape_run(gm, input_shape)
    layers, output, skipped = map_graph(gm, values, claims, skip_unknown)
    from ...platform import VERSION as __version__

    out_node = next(n for n in gm.graph.nodes if n.op == "output").args[0]
    output_shape = tuple(values[out_node].shape[1:])
    placeholders = [layer for layer in layers if layer.placeholder]
    header = [f"Imported by cnnplan {__version__} (torch {torch.__version__.split('+')[0]}):",
              f"  {command or f'cnnplan.import_model({source} instance)'}",
              "A torch.fx trace, one layer per node, named after the model's modules (joins after "
              "their",
              "module and function). Checked on import: every layer's shape for input "
              f"{format_shape(input_shape)} equals",
              f"torch's (ShapeProp on the meta device), and the {params:,} parameters equal "
              "sum(p.numel())."]
    if placeholders:
        header.append(f"{len(placeholders)} PLACEHOLDER layer(s) (identity) stand for nodes "
                      "cnnplan cannot express (--skip-unknown); see their comments.")
    text = render_plan(layers, input_shape, output, header, title)
    check_plan(text, layers, params, skipped, output_shape)
    notes = tuple(f"placeholder {layer.name}: {layer.comment.split(': ', 1)[-1]}"
                  for layer in placeholders)
    return Result(
        title=f"imported {title}: {len(layers)} layers, {params:,} parameters",
        facts=(("source", source), ("input", format_shape(input_shape)),
               ("output", format_shape(output_shape)), ("layers", len(layers)),
               ("params", params), ("placeholders", len(placeholders))),
        notes=notes,
        data={"plan": text, "source": source, "input": list(input_shape),
              "output": list(output_shape), "layers": len(layers), "params": params,
              "placeholders": [layer.name for layer in placeholders]},
        kind="import")

"""`cnnplan import` of a PyTorch model: load, trace, map, write and check (import_model)."""

from __future__ import annotations

from ...kinds.shape import format_shape, parse_shape
from ...platform.errors import BadInput
from ...platform.result import Result
from ..plan import check_plan, render_plan
from .claims import claims_by_type, plugin_importers
from .graph import map_graph, pick_output
from .load import build_model, call_text, check_target, parse_args, require_torch
from .trace import materialise, shape_run, trace


def _shape_run(gm, input_shape):
    """shape_run, with a message that says how to fix an input that has the batch in it
    (1x3x224x224) or the channels last (224x224x3), when the model takes the fixed one."""
    try:
        return shape_run(gm, input_shape)
    except BadInput as refused:
        fixes = []
        if len(input_shape) >= 3 and input_shape[0] == 1:
            fixes.append(
                (input_shape[1:], "looks like it includes the batch; give one input without it")
            )
        if len(input_shape) >= 3 and input_shape[-1] < min(input_shape[:-1]):
            fixes.append(
                (
                    (input_shape[-1], *input_shape[:-1]),
                    "looks like channels last; cnnplan and PyTorch put the channels first",
                )
            )
        for fixed, why in fixes:
            try:
                shape_run(gm, fixed)
            except BadInput:
                continue
            raise BadInput(
                f"--in {format_shape(input_shape)} {why}: --in {format_shape(fixed)}"
            ) from None
        raise refused


def used_parameters(gm) -> set:
    """Names of the parameters the traced forward reads (called modules, stored tensors)."""
    modules = dict(gm.named_modules())
    names = set()
    for node in gm.graph.nodes:
        if node.op == "call_module":
            names |= {
                f"{node.target}.{name}" for name, _ in modules[node.target].named_parameters()
            }
        elif node.op == "get_attr":
            names.add(node.target)
    return names


def import_model(
    target, input, args=(), skip_unknown: bool = False, command: str = "", output_key=None
) -> Result:
    """Import TARGET (`file.py:NAME`, `package.module:NAME`, or an nn.Module instance) for input
    shape `input`; Result.data["plan"] is the plan file's text, checked against torch.

    `args`: `--arg` texts ("width=8") or a dict of keyword arguments for NAME. `output_key`:
    the entry of a dict (or the index into a tuple) the model returns that the plan ends in.
    """
    input_shape = parse_shape(input, "--in")
    if isinstance(target, str):  # check what was typed before paying for torch
        kwargs = dict(args) if isinstance(args, dict) else parse_args(args)
        check_target(target)
    torch = require_torch()
    if isinstance(target, torch.nn.Module):  # a copy: the shape run moves it to "meta"
        import copy

        model, source = copy.deepcopy(target).eval(), type(target).__name__
        title = source
    else:
        model, source = build_model(target, kwargs), target
        name = target.rsplit(":", 1)[1]
        title = f"{name}({call_text(kwargs)})" if kwargs else name
    materialise(model, input_shape)
    claims = claims_by_type(plugin_importers())
    gm, branches = trace(model, tuple(cls for cls, _ in claims), input_shape)
    used = used_parameters(gm)
    unused = {name: p.numel() for name, p in model.named_parameters() if name not in used}
    params = sum(p.numel() for p in model.parameters()) - sum(unused.values())
    values = _shape_run(gm, input_shape)
    layers, output, skipped, tied = map_graph(gm, values, claims, skip_unknown, output_key)
    tied = branches + tied  # branches on sizes: the plan holds for this input only
    from ...platform import VERSION as __version__

    out_node = pick_output(next(n for n in gm.graph.nodes if n.op == "output").args[0], output_key)
    output_shape = tuple(values[out_node].shape[1:])
    placeholders = [layer for layer in layers if layer.placeholder]
    header = [
        f"Imported by cnnplan {__version__} (torch {torch.__version__.split('+')[0]}):",
        f"  {command or f'cnnplan.import_model({source} instance)'}",
        "A torch.fx trace, one layer per node, named after the model's modules (joins after their",
        "module and function). Checked on import: every layer's shape for input "
        f"{format_shape(input_shape)} equals",
        f"torch's (ShapeProp on the meta device), and the {params:,} parameters equal "
        "sum(p.numel()).",
    ]
    if unused:
        owners = sorted({name.split(".")[0] for name in unused})
        header.append(
            f"{sum(unused.values()):,} parameters of the model are in modules its "
            f"forward does not use ({', '.join(owners[:5])}"
            f"{', ...' if len(owners) > 5 else ''}): not in the plan."
        )
    if placeholders:
        header.append(
            f"{len(placeholders)} PLACEHOLDER layer(s) (identity) stand for nodes "
            "cnnplan cannot express (--skip-unknown); see their comments."
        )
    if tied:
        header.append(
            f"{len(tied)} place(s) use sizes the model computes from a tensor's shape "
            "(first: " + tied[0] + "); the plan holds for this input only."
        )
    fixed = f"{tied[0]} (and {len(tied) - 1} more)" if len(tied) > 1 else tied[0] if tied else ""
    text = render_plan(layers, input_shape, output, header, title, fixed)
    check_plan(text, layers, params, skipped, output_shape)
    notes = tuple(
        f"placeholder {layer.name}: skipped {layer.comment.removeprefix('PLACEHOLDER for ')}"
        for layer in placeholders
    )
    return Result(
        title=f"imported {title}: {len(layers)} layers, {params:,} parameters",
        facts=(
            ("source", source),
            ("input", format_shape(input_shape)),
            ("output", format_shape(output_shape)),
            ("layers", len(layers)),
            ("params", params),
            ("placeholders", len(placeholders)),
        ),
        notes=notes,
        data={
            "plan": text,
            "source": source,
            "input": list(input_shape),
            "fixed_input": fixed,
            "unused_params": sum(unused.values()),
            "output": list(output_shape),
            "layers": len(layers),
            "params": params,
            "placeholders": [layer.name for layer in placeholders],
        },
        kind="import",
    )

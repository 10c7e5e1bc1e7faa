"""The plan file an importer writes, and its check: cnnplan's reading of the plan must give the
source framework's shapes and parameter count, or nothing is written."""

from __future__ import annotations

from ..kinds.shape import format_shape
from ..platform.errors import CnnplanError
from ..platform.usertext import visible


class ImportFailed(CnnplanError):
    """The model cannot be imported faithfully (exit 2); nothing is written."""


# -- writing and checking -------------------------------------------------------------------


def _toml_string(text: str) -> str:
    """A TOML basic string (a JSON string is one; DEL escaped too, which TOML forbids raw)."""
    import json

    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")


def render_plan(
    layers, input_shape, output: str, header: list[str], title: str, fixed_input: str = ""
) -> str:
    """The plan file: header comments, input, output (when not the last layer), layers;
    `fixed_input` (why) when the plan holds for its input only."""
    lines = [f"# {visible(line, one_line=True)}" if line else "#" for line in header]
    lines += [
        f"title = {_toml_string(title)}",
        f"input = {_toml_string(format_shape(input_shape))}",
        'mode = "floor"   # PyTorch\'s output sizes, also for cnnplan plan',
    ]
    if fixed_input:
        lines.append(f"fixed_input = {_toml_string(fixed_input)}")
    if layers and output != layers[-1].name:
        lines.append(f"output = {_toml_string(output)}")
    state = [(layer.name, layer.state) for layer in layers if getattr(layer, "state", "")]
    if state:
        lines += [
            "",
            "[state]   # where the model keeps these layers' tensors (--format torch loads "
            "its state_dict)",
        ]
        lines += [f"{_toml_string(name)} = {_toml_string(key)}" for name, key in state]
    previous = "input"
    for layer in layers:
        lines += ["", "[[layers]]"]
        if layer.comment:
            lines.append(f"# {visible(layer.comment, one_line=True)}")
        lines += [f"name = {_toml_string(layer.name)}", f"spec = {_toml_string(layer.spec)}"]
        if list(layer.sources) != [previous]:
            sources = layer.sources
            lines.append(
                "from = "
                + (
                    _toml_string(sources[0])
                    if len(sources) == 1
                    else "[" + ", ".join(map(_toml_string, sources)) + "]"
                )
            )
        previous = layer.name
    return "\n".join(lines) + "\n"


def check_plan(text: str, layers, torch_params: int, skipped_params: int, output_shape):
    """cnnplan's own reading of the plan must give torch's shape at every layer, torch's output
    and torch's parameter count (less what placeholders stand for); ImportFailed otherwise."""
    from ..network.forward import shapes

    try:
        result = shapes(plan_text=text)
    except CnnplanError as exc:
        raise ImportFailed(
            f"the imported plan does not read back: {exc}; nothing written"
        ) from None
    by_name = {layer["name"]: layer for layer in result.data["layers"]}
    for layer in layers:
        got = tuple(by_name[layer.name]["output"])
        if got != layer.shape:
            raise ImportFailed(
                f"layer {layer.name} (node {layer.node}, {layer.spec}): cnnplan "
                f"gives {format_shape(got)}, torch {format_shape(layer.shape)}; "
                "nothing written"
            )
    if tuple(result.data["output"]) != tuple(output_shape):
        raise ImportFailed(
            f"the plan's output {format_shape(result.data['output'])} differs from "
            f"torch's {format_shape(output_shape)}; nothing written"
        )
    params = result.data["params"]
    if params + skipped_params != torch_params:
        raise ImportFailed(
            f"the plan has {params:,} parameters, the model {torch_params:,}"
            + (f" ({skipped_params:,} in placeholders)" if skipped_params else "")
            + "; nothing written"
        )
    return result

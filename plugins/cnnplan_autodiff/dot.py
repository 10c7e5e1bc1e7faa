"""`--format dot`: the computational graph of an autodiff Result in Graphviz DOT.

One box per trace variable with its definition, value, and tangent and/or adjoint; an edge
from each argument to the step that uses it, labelled with the local partial derivative.
"""

from __future__ import annotations

from cnnplan import BadInput, Result

from .rounding import fixed

_KEYS = ("expression", "point", "mode", "primal", "tangent", "adjoint")


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def _num(value: float, decimals: int) -> str:
    return str(fixed(value, decimals))


def _node_label(entry: dict, tangent: dict, adjoint: dict, d: int) -> str:
    name = entry["name"]
    lines = [f"{name} = {entry['definition']}", f"= {_num(entry['value'], d)}"]
    if name in tangent:
        lines.append(f"{tangent[name]['name']} = {_num(tangent[name]['value'], d)}")
    if name in adjoint:
        lines.append(f"v\u0304{name[1:]} = {_num(adjoint[name]['value'], d)}")
    return "\\n".join(_escape(line) for line in lines)


def render_dot(result: Result) -> str:
    """The graph of an `ad` result; BadInput for any other result."""
    data = result.data
    if not isinstance(data, dict) or not all(key in data for key in _KEYS):
        raise BadInput("the dot format only renders autodiff results (cnnplan ad ...); "
                       "choose another --format")
    d = data.get("decimals", 4)
    tangent = {e["of"]: e for e in data["tangent"]}
    adjoint: dict[str, dict] = {}
    for entry in data["adjoint"]:          # Table 3 order: a name's first line is its final value
        adjoint.setdefault(entry["of"], entry)
    lines = [f"// y = {data['expression']}",
             "digraph autodiff {",
             "  rankdir=LR;",
             '  node [shape=box, fontname="Helvetica"];',
             '  edge [fontname="Helvetica", fontsize=10];']
    for entry in data["primal"]:
        shape = {"output": ", shape=ellipse", "input": ", style=rounded"}.get(entry["op"], "")
        lines.append(f'  "{_escape(entry["name"])}" '
                     f'[label="{_node_label(entry, tangent, adjoint, d)}"{shape}];')
    for entry in data["primal"]:
        for operand in entry["operands"]:
            partial = entry["partials"].get(operand)
            label = f"∂{entry['name']}/∂{operand} = {_num(partial, d)}" if partial is not None \
                else ""
            attrs = f' [label="{_escape(label)}"]' if label else ""
            lines.append(f'  "{_escape(operand)}" -> "{_escape(entry["name"])}"{attrs};')
    lines.append("}")
    return "\n".join(lines)

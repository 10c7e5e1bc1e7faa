"""`--format dot`: the computational graph of an autodiff Result in Graphviz DOT.

One box per trace variable with its definition, value, and tangent and/or adjoint; an edge
from each argument to the step that uses it, labelled with the local partial derivative.
"""

from __future__ import annotations

from cnnplan import BadInput, Result

_KEYS = ("expression", "point", "mode", "primal", "tangent", "adjoint")


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _num(value: float, decimals: int) -> str:
    return f"{round(value, decimals) + 0.0:.10g}"


def render_dot(result: Result) -> str:
    """The graph of an `ad` result; BadInput for any other result."""
    data = result.data
    if not isinstance(data, dict) or not all(key in data for key in _KEYS):
        raise BadInput("the dot format only renders autodiff results (cnnplan ad ...); "
                       "choose another --format")
    d = data.get("decimals", 4)
    tangent = {e["of"]: e for e in data["tangent"]}
    adjoint: dict[str, dict] = {}
    for entry in data["adjoint"]:          # Table 3 order: the first line of a name is final
        adjoint.setdefault(entry["of"], entry)
    lines = [f"// y = {data['expression']}",
             "digraph autodiff {",
             "  rankdir=LR;",
             '  node [shape=box, fontname="Helvetica"];',
             '  edge [fontname="Helvetica", fontsize=10];']
    for entry in data["primal"]:
        name = entry["name"]
        if entry["op"] == "output":
            label = [f"y = {entry['definition']}", f"= {_num(entry['value'], d)}"]
            shape = ", shape=ellipse"
        else:
            label = [f"{name} = {entry['definition']}", f"= {_num(entry['value'], d)}"]
            shape = ", style=rounded" if entry["op"] == "input" else ""
        if name in tangent:
            label.append(f"{tangent[name]['name']} = {_num(tangent[name]['value'], d)}")
        if name in adjoint and entry["op"] != "output":
            bar = adjoint[name]["name"] if adjoint[name]["expanded"] is not None or \
                adjoint[name]["rule"] == "ȳ" else "v\u0304" + name[1:]
            label.append(f"{bar} = {_num(adjoint[name]['value'], d)}")
        lines.append(f"  {_quote(name)} [label={_quote(chr(10).join(label))}{shape}];")
    for entry in data["primal"]:
        for operand in entry["operands"]:
            partial = entry["partials"].get(operand)
            attrs = "" if partial is None else \
                f" [label={_quote('∂ = ' + _num(partial, d))}]"
            lines.append(f"  {_quote(operand)} -> {_quote(entry['name'])}{attrs};")
    lines.append("}")
    return "\n".join(lines)

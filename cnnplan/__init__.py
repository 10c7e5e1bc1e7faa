"""cnnplan: exact shape arithmetic for convolutional networks.

The public API a plugin or script needs: `solve`, `shapes`, `plan`, `inputs`, `load_plan`, `run_solver`,
`render`, `schema`, `format_value`, `import_model` (a PyTorch model into a plan file; needs
torch), `Result`, `Table`, `Solver`, `Reporter`, `Importer`, `hookimpl`, the errors `BadInput`
and `NoSolution`, for plugin commands `format_option`, `emit` and `LazyCommand`, and for the
files users name `read_bounded`, `write_atomic`, `stage`, `check_output` and `show_path` (only regular files,
bounded, one-line errors; `CannotWrite` when an output file cannot be written).
"""

from __future__ import annotations

from . import _moved
from .platform import VERSION as __version__
from .platform import result as _result_module
from .platform.errors import BadInput, CannotWrite, CnnplanError, NoSolution
from .platform.hookspecs import hookimpl
from .platform.registry import Reporter, Solver
from .platform.result import Result, Table


def _display(result: Result, mime: str) -> str | None:
    """Jupyter's view of a Result: HTML (tables and picture), or its SVG picture if it has one."""
    from .pictures import picture_kind, render_svg
    from .pictures.html import fragment

    if mime == "html":
        return fragment(result)
    return render_svg(result) if picture_kind(result.data) else None


_result_module.display = _display
_moved.install()


def run_solver(name: str, /, **kwargs) -> Result:
    """Call the registered solver `name` (from the core or any plugin) with keyword arguments."""
    from .platform.host import get_host

    return get_host().solvers[name](**kwargs)


def shapes(input=None, layers=(), plan_file=None, plan_text=None, **memory) -> Result:
    """Shapes, sizes, weights, params, MACs and receptive fields of a network (`cnnplan shapes`),
    and its memory (`batch=`, `dtype=`, `optimizer=`, `memory="24GiB"`, `inference=`,
    `device=`: docs/memory.md); see `cnnplan.network.forward.shapes`."""
    from .network.forward import shapes as network_shapes

    return network_shapes(input, layers, plan_file, plan_text, **memory)


def inputs(input=None, layers=(), plan_file=None, range=(1, 4096), plan_text=None) -> Result:
    """Which square input sizes a network accepts, with a rule and, per refused size, the first
    layer that fails (`cnnplan inputs`); see `cnnplan.network.inputs.inputs`."""
    from .network.inputs import inputs as network_inputs

    return network_inputs(input, layers, plan_file, range, plan_text)


def render(result: Result, format: str = "table") -> str:
    """Render a Result with the registered reporter `format` (table, json, csv, markdown, ...);
    BadInput if that format cannot render `result.kind`."""
    from .platform.host import get_host
    from .platform.registry import cannot_render

    if not isinstance(result, Result):
        raise TypeError(
            f"render takes a cnnplan Result (from solve, shapes, plan, ...), not "
            f"{type(result).__name__}"
        )
    if not isinstance(format, str):
        raise TypeError(f"format must be text such as 'json', not {type(format).__name__}")
    reporters = get_host().reporters
    reporter = reporters[format]
    if not reporter.can_render(result.kind):
        raise cannot_render(reporters, reporter, (result.kind,))
    return reporter(result)


def schema(kind: str) -> dict:
    """The JSON Schema of the `data` of Results of `kind` (e.g. "solve"), from the core or the
    plugin that ships it; BadInput naming the kinds that have one."""
    import json

    from .platform.host import get_host

    paths = get_host().schemas()
    if kind not in paths:
        raise BadInput(f"no schema for kind {kind!r}; there are: {', '.join(paths)}")
    with open(paths[kind], encoding="utf-8") as handle:
        return json.load(handle)


def __getattr__(name):
    """Load heavier parts on first use: `solve`, `plan` and `load_plan` (the constraint
    engine, the planner), `format_value` (the reporters), `emit`, `format_option` and
    `LazyCommand` (click, for plugin commands), `read_bounded`, `write_atomic`, `stage`,
    `check_output`, `show_path`
    (platform/files.py), `Importer` and `import_model` (importers/torch/), and the layer-kind records
    `Applied`, `LayerKind`, `RfStep`, `Window` (cnnplan.kinds: not needed to start)."""
    if name == "solve":
        from .solver.layer import solve

        return solve
    if name == "plan":
        from .planner.dispatch import plan

        return plan
    if name == "format_value":
        from .platform.reporters import format_value

        return format_value
    if name == "Importer":
        from .importers.torch.claims import Importer

        return Importer
    if name == "import_model":
        from .importers.torch.model import import_model

        return import_model
    if name == "load_plan":
        from .language.planfile import load_plan

        return load_plan
    if name in ("emit", "format_option", "LazyCommand"):
        from . import cli

        return getattr(cli, name)
    if name in ("read_bounded", "write_atomic", "stage", "check_output", "show_path"):
        from .platform import files

        return getattr(files, name)
    if name in ("Applied", "LayerKind", "RfStep", "Window"):
        from . import kinds

        return getattr(kinds, name)
    raise AttributeError(f"module 'cnnplan' has no attribute {name!r}")


__all__ = [
    "Applied",
    "BadInput",
    "CannotWrite",
    "CnnplanError",
    "Importer",
    "LayerKind",
    "LazyCommand",
    "NoSolution",
    "Reporter",
    "Result",
    "RfStep",
    "Solver",
    "Table",
    "Window",
    "__version__",
    "check_output",
    "emit",
    "format_option",
    "format_value",
    "hookimpl",
    "import_model",
    "inputs",
    "load_plan",
    "plan",
    "read_bounded",
    "render",
    "run_solver",
    "schema",
    "shapes",
    "show_path",
    "solve",
    "stage",
    "write_atomic",
]

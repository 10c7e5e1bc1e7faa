"""cnnplan: exact shape arithmetic for convolutional networks.

The public API a plugin or script needs: `solve`, `shapes`, `plan`, `load_plan`, `run_solver`,
`render`, `import_model` (a PyTorch model into a plan file; needs torch), `Result`, `Table`,
`Solver`, `Reporter`, `Importer`, `hookimpl`, the errors `BadInput` and `NoSolution`, for
plugin commands `format_option` and `emit`, and for the files users name `read_bounded`,
`write_atomic` and `show_path` (only regular files, bounded, one-line errors).
"""

from __future__ import annotations

__version__ = "0.1.0"

from .errors import BadInput, CnnplanError, NoSolution
from .hookspecs import hookimpl
from .registry import Reporter, Solver
from .result import Result, Table


def run_solver(name: str, /, **kwargs) -> Result:
    """Call the registered solver `name` (from the core or any plugin) with keyword arguments."""
    from .plugins import get_host

    return get_host().solvers.get(name)(**kwargs)


def shapes(input=None, layers=(), plan_file=None, plan_text=None) -> Result:
    """Shapes, sizes, weights, params, MACs and receptive fields of a network (`cnnplan shapes`);
    see `cnnplan.network.shapes`."""
    from .network import shapes as network_shapes

    return network_shapes(input, layers, plan_file, plan_text)


def render(result: Result, format: str = "table") -> str:
    """Render a Result with the registered reporter `format` (table, json, csv, markdown, ...)."""
    from .plugins import get_host

    return get_host().reporters.get(format).render(result)


def __getattr__(name):
    """Load heavier parts on first use: `solve`, `plan` and `load_plan` (the constraint
    engine, the planner), `emit` and `format_option` (click, for plugin commands), and the
    layer-kind records `Applied`, `LayerKind`, `RfStep` (kinds.py: not needed to start)."""
    if name == "solve":
        from .layer import solve

        return solve
    if name == "plan":
        from .planner import plan

        return plan
    if name in ("Importer", "import_model"):
        from . import importer

        return getattr(importer, name)
    if name == "load_plan":
        from .planfile import load_plan

        return load_plan
    if name in ("emit", "format_option"):
        from . import cli

        return getattr(cli, name)
    if name in ("read_bounded", "write_atomic", "show_path"):
        from . import files

        return getattr(files, name)
    if name in ("Applied", "LayerKind", "RfStep"):
        from . import kinds

        return getattr(kinds, name)
    raise AttributeError(f"module 'cnnplan' has no attribute {name!r}")


__all__ = [
    "Applied", "BadInput", "CnnplanError", "Importer", "LayerKind", "NoSolution", "Reporter",
    "Result", "RfStep", "Solver", "Table", "__version__", "emit", "format_option", "hookimpl",
    "import_model", "load_plan", "plan", "read_bounded", "render", "run_solver", "shapes",
    "show_path", "solve", "write_atomic",
]

"""cnnplan: exact shape arithmetic for convolutional networks.

The public API a plugin or script needs: `solve`, `shapes`, `plan`, `load_plan`, `run_solver`,
`render`, `Result`, `Table`, `Solver`, `Reporter`, `hookimpl`, the errors `BadInput` and
`NoSolution`, and for plugin commands `format_option` and `emit`.
"""

from __future__ import annotations

__version__ = "0.1.0"

from .errors import BadInput, CnnplanError, NoSolution
from .hookspecs import hookimpl
from .layer import solve
from .network import shapes
from .planfile import load_plan
from .planner import plan
from .registry import Reporter, Solver
from .result import Result, Table


def run_solver(name: str, **kwargs) -> Result:
    """Call the registered solver `name` (from the core or any plugin) with keyword arguments."""
    from .plugins import get_host

    return get_host().solvers.get(name).function(**kwargs)


def render(result: Result, format: str = "table") -> str:
    """Render a Result with the registered reporter `format` (table, json, csv, markdown, ...)."""
    from .plugins import get_host

    return get_host().reporters.get(format).render(result)


def __getattr__(name):
    """`cnnplan.emit` and `cnnplan.format_option` (for plugin commands) load click lazily."""
    if name in ("emit", "format_option"):
        from . import cli

        return getattr(cli, name)
    raise AttributeError(f"module 'cnnplan' has no attribute {name!r}")


__all__ = [
    "BadInput", "CnnplanError", "NoSolution", "Reporter", "Result", "Solver", "Table",
    "__version__", "emit", "format_option", "hookimpl", "load_plan", "plan", "render",
    "run_solver", "shapes", "solve",
]

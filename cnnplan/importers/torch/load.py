"""Loading an import target (FILE.py:NAME, package.module:NAME) and building the model."""

from __future__ import annotations

import ast
import os
import re
import sys

from ...platform.errors import BadInput, CnnplanError

MAX_ARGS = 32
MAX_ARG_TEXT = 1000
MODULE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*")
_TARGET = re.compile(r"(?P<where>[^:]+):(?P<name>[A-Za-z_][A-Za-z0-9_]*)")
TORCH_MISSING = (
    'cnnplan import needs PyTorch: pip install "cnnplan[torch]" (or pip install '
    "torch); nothing else in cnnplan needs it"
)


# -- the command's inputs -------------------------------------------------------------------


def parse_args(items) -> dict:
    """`["width=8", "blocks=(2, 2)"]` -> {"width": 8, "blocks": (2, 2)}: Python literals only
    (ast.literal_eval, never eval)."""
    items = list(items or ())
    if len(items) > MAX_ARGS:
        raise BadInput(f"{len(items)} --arg options; the limit is {MAX_ARGS}")
    kwargs: dict = {}
    for item in items:
        if len(item) > MAX_ARG_TEXT:
            raise BadInput(f"--arg is too long ({len(item):,} characters)")
        name, sep, text = item.partition("=")
        name = name.strip()
        if not sep or not name.isidentifier():
            raise BadInput(f"--arg {item!r} is not NAME=VALUE (e.g. --arg width=8)")
        if name in kwargs:
            raise BadInput(f"--arg gives {name} twice")
        try:
            kwargs[name] = ast.literal_eval(text.strip())
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            raise BadInput(
                f"--arg {name}={text.strip()!r} is not a Python literal (a number, "
                "string, True/False/None, or a tuple, list or dict of them)"
            ) from None
    return kwargs


def require_torch():
    try:
        import torch
        import torch.fx  # noqa: F401
    except ImportError:
        raise BadInput(TORCH_MISSING) from None
    return torch


def check_target(target) -> tuple[str, str]:
    """(file or module, NAME) of TARGET; BadInput if it is malformed or names no file."""
    if isinstance(target, str) and len(target) > MAX_ARG_TEXT:
        raise BadInput(f"import target is too long ({len(target):,} characters)")
    match = _TARGET.fullmatch(target.strip()) if isinstance(target, str) else None
    if match is None:
        raise BadInput(f"import target {target!r} is not FILE.py:NAME or package.module:NAME")
    if match["where"].endswith(".py") and not os.path.isfile(match["where"]):
        raise BadInput(f"import target {target!r}: no file {match['where']}")
    return match["where"], match["name"]


LOADED_FILES: dict = {}  # module name given to a loaded model file -> the file as typed


def load_target(target: str):
    """The class or function that TARGET (`path/to/file.py:NAME` or `package.module:NAME`)
    names. Loading runs the module's code, as importing it in Python would."""
    import importlib
    import importlib.util

    where, name = check_target(target)
    folder = os.path.dirname(os.path.abspath(where)) if where.endswith(".py") else os.getcwd()
    sys.path.insert(0, folder)  # sibling modules of the model file import as they would
    try:
        if where.endswith(".py"):
            module_name = "cnnplan_import_" + re.sub(r"\W", "_", os.path.abspath(where))
            LOADED_FILES[module_name] = where
            spec = importlib.util.spec_from_file_location(module_name, where)
            assert spec is not None and spec.loader is not None  # always, for a .py path
            module = importlib.util.module_from_spec(spec)
            sys.modules[module_name] = module
            spec.loader.exec_module(module)
        else:
            module = importlib.import_module(where)
    except CnnplanError:
        raise
    except ModuleNotFoundError as exc:
        raise BadInput(f"import target {target!r}: no module named {exc.name!r}") from None
    except SystemExit as exc:
        raise BadInput(
            f"import target {target!r}: loading {where} calls sys.exit({exc.code!r}); "
            'put the script part of the file under if __name__ == "__main__":'
        ) from None
    except Exception as exc:
        raise BadInput(
            f"import target {target!r}: loading {where} failed: "
            f"{type(exc).__name__}: {first_line(exc)}"
        ) from None
    finally:
        sys.path.remove(folder)
    if not hasattr(module, name):
        raise BadInput(f"import target {target!r}: {where} has no {name!r}")
    return getattr(module, name)


def build_model(target: str, kwargs: dict):
    """The nn.Module that TARGET builds with `kwargs` (in eval mode)."""
    torch = require_torch()
    factory = load_target(target)
    if isinstance(factory, torch.nn.Module):  # a model built in the file: taken as it is
        if kwargs:
            raise BadInput(
                f"import target {target!r} is a {type(factory).__name__} instance, "
                "already built: --arg applies to a class or function; drop --arg or "
                f"name {type(factory).__name__} itself"
            )
        return factory.eval()
    if not callable(factory):
        raise BadInput(f"import target {target!r} is not a class or function")
    try:
        model = factory(**kwargs)
    except TypeError as exc:
        raise BadInput(
            f"import target {target!r} cannot be built with "
            f"{call_text(kwargs)}: {first_line(exc)} (give arguments with "
            "--arg name=value)"
        ) from None
    except (Exception, SystemExit) as exc:
        raise BadInput(
            f"building {target!r} failed: {type(exc).__name__}: {first_line(exc)}"
        ) from None
    if not isinstance(model, torch.nn.Module):
        raise BadInput(
            f"import target {target!r} gives a {type(model).__name__}, not a torch.nn.Module"
        )
    return model.eval()


def call_text(kwargs: dict) -> str:
    return "no arguments" if not kwargs else ", ".join(f"{k}={v!r}" for k, v in kwargs.items())


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__

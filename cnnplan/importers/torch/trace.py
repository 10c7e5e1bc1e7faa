"""Tracing a model with torch.fx and the shape run (ShapeProp on the meta device)."""

from __future__ import annotations

from ...kinds.shape import format_shape
from ...platform.errors import BadInput
from .graph import describe_node
from .load import first_line, require_torch
from .ops import LEAF_FUNCTIONS, external_functions, torch_layer

BATCH = 2  # the batch of the shape run: a literal view(1, -1) cannot pass for a flatten


# -- tracing and the shape run --------------------------------------------------------------


def materialise(model, input_shape: tuple):
    """Run `model` once on zeros when it holds Lazy* modules, so their parameters get shapes."""
    import torch
    from torch.nn.parameter import UninitializedParameter

    if any(isinstance(p, UninitializedParameter) for p in model.parameters()):
        try:
            with torch.no_grad():
                model(torch.zeros(BATCH, *input_shape))
        except Exception as exc:
            raise BadInput(
                f"the model's Lazy modules need one run to get their shapes, and it "
                f"failed on input {format_shape(input_shape)}: {type(exc).__name__}: "
                f"{first_line(exc)}"
            ) from None


CONTROL_FLOW = "cannot be used as inputs to control flow"  # fx's TraceError


def trace(model, claimed: tuple = (), input_shape: tuple | None = None):
    """(torch.fx GraphModule of `model`, branches); modules of the `claimed` types stay leaves.
    BadInput with fx's reason if the model cannot be traced symbolically.

    A model whose Python branches on sizes (`if x.shape[-2] < 7:`) is traced again with the
    shapes of `input_shape` (`concrete_trace`): the branches go as they do for that input,
    and `branches` lists them (the plan then holds for that input only)."""
    import inspect

    torch = require_torch()
    Tracer = _tracer_class(torch, claimed)

    try:
        parameters = list(inspect.signature(model.forward).parameters.values())
    except (TypeError, ValueError):
        parameters = []
    inputs = [
        p
        for p in parameters
        if p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
    if len(inputs) > 1:
        raise BadInput(
            f"{type(model).__name__}.forward takes {len(inputs)} inputs "
            f"({', '.join(p.name for p in inputs)}); a cnnplan network has one"
        )
    concrete = {p.name: p.default for p in parameters if p.default is not p.empty}
    tracer = Tracer(autowrap_functions=tuple(external_functions(LEAF_FUNCTIONS)))
    try:
        graph = tracer.trace(model, concrete_args=concrete or None)
    except Exception as exc:
        if CONTROL_FLOW in str(exc) and input_shape is not None:
            return concrete_trace(model, Tracer, concrete, input_shape, exc)
        raise BadInput(
            f"torch.fx cannot trace {type(model).__name__}: {type(exc).__name__}: {first_line(exc)}"
        ) from None
    return torch.fx.GraphModule(tracer.root, graph), []


def _tracer_class(torch, claimed):
    class Tracer(torch.fx.Tracer):
        def is_leaf_module(self, module, name):
            return (
                isinstance(module, claimed)
                or torch_layer(module) is not None
                or super().is_leaf_module(module, name)
            )

    return Tracer


def concrete_trace(model, Tracer, concrete: dict, input_shape: tuple, first):
    """The trace of a model that branches on sizes: every node is also run on the meta device
    as it is recorded, and a branch (`bool`, `iter` of a traced value) takes the value it has
    for `input_shape`. A branch on data (a tensor's values) is refused with fx's reason.
    Returns (GraphModule, one text per branch: where it is)."""
    import contextlib

    import torch
    from torch.fx.node import map_aggregate

    unpatched = getattr(
        torch.fx._symbolic_trace, "_maybe_revert_all_patches", contextlib.nullcontext
    )
    model.to("meta")  # the shape run moves it there too
    values: dict = {}
    branches: list = []

    def value_of(a):
        return values.get(a.node, _UNKNOWN) if isinstance(a, torch.fx.Proxy) else a

    class ConcreteTracer(Tracer):
        def create_proxy(self, kind, target, args, kwargs, *rest, **named):
            proxy = super().create_proxy(kind, target, args, kwargs, *rest, **named)
            values[proxy.node] = self._run(kind, target, args, kwargs)
            return proxy

        def _run(self, kind, target, args, kwargs):
            args, kwargs = map_aggregate(args, value_of), map_aggregate(kwargs, value_of)
            try:
                with unpatched():  # run as plain torch, not recorded
                    return self._value(kind, target, args, kwargs)
            except Exception:
                return _UNKNOWN

        def _value(self, kind, target, args, kwargs):
            if kind == "placeholder":
                return torch.empty(BATCH, *input_shape, device="meta")
            if kind == "get_attr":
                return getattr_path(self.root, target)
            if kind == "call_function":
                return target(*args, **kwargs)
            if kind == "call_method":
                return getattr(args[0], target)(*args[1:], **kwargs)
            if kind == "call_module":
                return self.root.get_submodule(target)(*args, **kwargs)
            return _UNKNOWN

        def _concrete(self, obj, what):
            value = values.get(obj.node, _UNKNOWN)
            if value is _UNKNOWN or isinstance(value, torch.Tensor):
                raise first  # data, or a value the meta device cannot give
            where = next(reversed(self.module_stack), "") if self.module_stack else ""
            cls = self.module_stack[where][1] if where in self.module_stack else None
            owner = (
                f"{where or '(root)'} ({getattr(cls, '__name__', cls)})"
                if where
                else "the model's forward"
            )
            branches.append(
                f"{owner} {what} a size computed from a tensor's shape "
                f"({obj.node.name} = {value!r} for this input)"
            )
            return value

        def to_bool(self, obj):
            return bool(self._concrete(obj, "branches on"))

        def iter(self, obj):
            return iter(self._concrete(obj, "iterates over"))

    tracer = ConcreteTracer(autowrap_functions=tuple(external_functions(LEAF_FUNCTIONS)))
    try:
        graph = tracer.trace(model, concrete_args=concrete or None)
    except Exception as exc:
        raise BadInput(
            f"torch.fx cannot trace {type(model).__name__}: {type(exc).__name__}: "
            f"{first_line(exc)} (branches on sizes are followed for --in "
            f"{format_shape(input_shape)}; this one reads the tensor's values or a "
            "value torch cannot work out on the meta device: make the branch a "
            "module of its own, or register an importer for it)"
        ) from None
    return torch.fx.GraphModule(tracer.root, graph), list(dict.fromkeys(branches))


_UNKNOWN = object()


def getattr_path(root, target: str):
    for part in target.split("."):
        root = getattr(root, part)
    return root


def shape_run(gm, input_shape: tuple) -> dict:
    """{fx node: its value} for a batch of BATCH inputs of `input_shape`, from torch's ShapeProp
    on the meta device (which also records node.meta["tensor_meta"])."""
    import contextlib
    import io

    torch = require_torch()
    from torch.fx.passes.shape_prop import ShapeProp

    values: dict = {}
    current: list = []

    class Recorder(ShapeProp):
        def run_node(self, node):
            current[:] = [node]
            values[node] = result = super().run_node(node)
            return result

    gm.to("meta")
    try:
        with contextlib.redirect_stderr(io.StringIO()):  # ShapeProp prints tracebacks
            Recorder(gm).propagate(torch.empty(BATCH, *input_shape, device="meta"))
    except Exception as exc:
        cause = exc.__cause__ or exc
        where = f" at {describe_node(current[0])}" if current else ""
        raise BadInput(
            f"torch refuses input {format_shape(input_shape)}{where}: "
            f"{type(cause).__name__}: {first_line(cause)} (shapes are worked out on "
            "the meta device, without data)"
        ) from None
    return values

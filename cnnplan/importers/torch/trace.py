"""Tracing a model with torch.fx and the shape run (ShapeProp on the meta device)."""

from __future__ import annotations

from ...kinds.shape import format_shape
from ...platform.errors import BadInput
from .graph import describe_node
from .load import first_line, require_torch
from .ops import LEAF_FUNCTIONS, external_functions, torch_layer

BATCH = 2     # the batch of the shape run: a literal view(1, -1) cannot pass for a flatten


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
            raise BadInput(f"the model's Lazy modules need one run to get their shapes, and it "
                           f"failed on input {format_shape(input_shape)}: {type(exc).__name__}: "
                           f"{first_line(exc)}") from None



def trace(model, claimed: tuple = ()):
    """torch.fx GraphModule of `model`; modules of the `claimed` types stay leaves.
    BadInput with fx's reason if the model cannot be traced symbolically."""
    import inspect

    torch = require_torch()

    class Tracer(torch.fx.Tracer):  # type: ignore[name-defined]  # torch is imported at run time
        def is_leaf_module(self, module, name):
            return (isinstance(module, claimed) or torch_layer(module) is not None
                    or super().is_leaf_module(module, name))

    try:
        parameters = list(inspect.signature(model.forward).parameters.values())
    except (TypeError, ValueError):
        parameters = []
    inputs = [p for p in parameters if p.default is p.empty
              and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if len(inputs) > 1:
        raise BadInput(f"{type(model).__name__}.forward takes {len(inputs)} inputs "
                       f"({', '.join(p.name for p in inputs)}); a cnnplan network has one")
    concrete = {p.name: p.default for p in parameters if p.default is not p.empty}
    tracer = Tracer(autowrap_functions=tuple(external_functions(LEAF_FUNCTIONS)))
    try:
        graph = tracer.trace(model, concrete_args=concrete or None)
    except Exception as exc:
        raise BadInput(f"torch.fx cannot trace {type(model).__name__}: "
                       f"{type(exc).__name__}: {first_line(exc)}") from None
    return torch.fx.GraphModule(tracer.root, graph)


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
        with contextlib.redirect_stderr(io.StringIO()):   # ShapeProp prints tracebacks
            Recorder(gm).propagate(torch.empty(BATCH, *input_shape, device="meta"))
    except Exception as exc:
        cause = exc.__cause__ or exc
        where = f" at {describe_node(current[0])}" if current else ""
        raise BadInput(f"torch refuses input {format_shape(input_shape)}{where}: "
                       f"{type(cause).__name__}: {first_line(cause)} (shapes are worked out on "
                       "the meta device, without data)") from None
    return values

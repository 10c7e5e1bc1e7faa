"""The memory oracles (tests/test_memory_oracles.py), written against torch alone:

- what autograd saves: a forward in training mode under torch.autograd.graph.saved_tensors_hooks,
  parameters and buffers left out, each storage counted once (by its untyped storage);
- the inference peak: a torch.fx Interpreter that frees each value after its last user (a
  value with no user right after it is made) and, after every node, adds up the bytes of the
  distinct storages still alive.
"""

from __future__ import annotations


def saved_bytes(torch, model, x) -> tuple[int, int]:
    """(bytes of the activations autograd saves, bytes of the small per-channel statistics
    among them), for one training-mode forward of `model` on `x` (x does not require grad)."""
    model.train()
    own = {t.untyped_storage().data_ptr() for t in [*model.parameters(), *model.buffers()]}
    storages: dict[int, tuple[int, int]] = {}
    keep = []

    def pack(t):
        keep.append(t)   # kept alive, so no storage is freed and reused during the forward
        storage = t.untyped_storage()
        if storage.data_ptr() not in own:
            storages[storage.data_ptr()] = (storage.nbytes(), t.dim())
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        model(x)
    total = sum(n for n, _ in storages.values())
    stats = sum(n for n, dim in storages.values() if dim <= 1)
    return total, stats


def peak_bytes(torch, model, x) -> int:
    """The peak of live tensor bytes (distinct storages) running `model` on `x` node by node
    in eval mode without grad, each value freed after its last user; parameters and buffers
    left out."""
    import torch.fx as fx
    from torch.utils._pytree import tree_leaves

    model.eval()
    graph = fx.symbolic_trace(model, concrete_args={"trace": None}) \
        if "trace" in model.forward.__code__.co_varnames else fx.symbolic_trace(model)
    dead: set = set()
    peak = [0]
    # parameters a traced module reads (get_attr) are not activations
    own = {t.untyped_storage().data_ptr() for t in [*model.parameters(), *model.buffers()]}

    class Executor(fx.Interpreter):
        def run_node(self, n):
            result = super().run_node(n)
            values = [v for node, v in self.env.items() if node not in dead] + [result]
            live = {}
            for t in tree_leaves(values):
                if isinstance(t, torch.Tensor) and t.untyped_storage().data_ptr() not in own:
                    live[t.untyped_storage().data_ptr()] = t.untyped_storage().nbytes()
            peak[0] = max(peak[0], sum(live.values()))
            if not n.users and n.op != "output":
                dead.add(n)
            return result

    with torch.no_grad():
        Executor(graph).run(x)
    return peak[0]


def exported(torch, result):
    """The torch model cnnplan's --format torch writes for a shapes Result."""
    import cnnplan

    code = cnnplan.render(result, "torch")
    if "def center_crop" in code:   # a function of shapes: a leaf of the fx trace
        code = code.replace("\n# params", "\ntorch.fx.wrap('center_crop')\n# params", 1)
    namespace: dict = {"__name__": "cnnplan_export"}
    exec(compile(code, "<cnnplan --format torch>", "exec"), namespace)
    return namespace["MODEL"]

"""Memory of a network at a batch size and dtype: each layer's output bytes, the parameters,
the peak of live tensors when it runs, what autograd keeps for backward, the training total,
and the largest batch that fits a budget (docs/memory.md).

Pure arithmetic over the forward pass's `Network` and the layer kinds' `saves` rules
(kinds/records.py `Saves`); tensors are tracked by storage, so views and in-place layers
(which share their input's storage) are counted once.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from ..kinds.shape import size_of
from ..language.specs import INPUT
from ..platform.errors import BadInput

DTYPES = {"float32": 4, "float16": 2, "bfloat16": 2, "float64": 8, "int8": 1}
TORCH_DTYPES = {**DTYPES, "int64": 8, "int32": 4, "int16": 2, "uint8": 1, "bool": 1}
OPTIMIZERS = {"sgd": 0, "momentum": 1, "adam": 2}  # optimizer state: parameter-sized tensors
DEVICES = ("cuda", "cpu")
MAX_BATCH = 2**40
EXCLUDED = (
    "the framework's workspace (cuDNN, im2col), the allocator's rounding and caching, "
    "the CUDA context, batch norm's running statistics (module buffers), the loss and "
    "the gradients of activations during backward"
)


class Memory(NamedTuple):
    """A network's memory at one batch size and dtype, in bytes."""

    batch: int
    dtype: str
    optimizer: str
    device: str
    out_bytes: tuple  # per layer: its output's bytes
    new_bytes: tuple  # per layer: what running it allocates (0: a view or in place)
    saved_bytes: tuple  # per layer: what it adds to the saved set (None: unknown)
    param_bytes: int
    inference_peak_bytes: int
    train_saved_bytes: int | None  # None: int8, a kind without a saves rule, or `strided`
    unknown: tuple = ()  # kinds without a saves rule
    input_bytes: int = 0
    strided: tuple = ()  # layers whose memory depends on a non-contiguous input's layout

    @property
    def grad_bytes(self) -> int:
        return self.param_bytes

    @property
    def optimizer_bytes(self) -> int:
        return OPTIMIZERS[self.optimizer] * self.param_bytes

    @property
    def inference_total_bytes(self) -> int:
        return self.param_bytes + self.inference_peak_bytes

    @property
    def train_total_bytes(self) -> int | None:
        if self.train_saved_bytes is None:
            return None
        return self.param_bytes + self.grad_bytes + self.optimizer_bytes + self.train_saved_bytes


def check_options(batch=1, dtype="float32", optimizer="adam", device="cuda"):
    """(batch, dtype, optimizer, device) checked and normalised; BadInput otherwise."""
    if type(batch) is not int or not 1 <= batch <= MAX_BATCH:
        raise BadInput(f"--batch {batch!r} must be a whole number from 1 to {MAX_BATCH:,}")
    values = []
    for name, value, choices in (
        ("--dtype", dtype, DTYPES),
        ("--optimizer", optimizer, OPTIMIZERS),
        ("--device", device, DEVICES),
    ):
        word = str(value).lower()
        if word not in choices:
            raise BadInput(f"{name} {value!r}: choose one of {', '.join(choices)}")
        values.append(word)
    return (batch, *values)


def element_bytes(dtype: str, kind: str, device: str) -> int:
    """Bytes per element of a saved tensor of `kind` ("like", "stats", "mask" or a torch
    dtype name) in a network of `dtype`."""
    if kind == "like":
        return DTYPES[dtype]
    if kind == "stats":
        return 8 if dtype == "float64" else 4
    if kind == "mask":
        return 1 if device == "cuda" else DTYPES[dtype]
    if kind in TORCH_DTYPES:
        return TORCH_DTYPES[kind]
    raise BadInput(
        f"a saves rule names the dtype {kind!r}; use like, stats, mask or one of "
        f"{', '.join(TORCH_DTYPES)}"
    )


def _batched(shape, batch) -> tuple:
    return (batch, *shape)


def _source(name: str) -> str:
    """The layer a source names: NAME[j] (one output of several) is NAME's storage here."""
    return name.split("[", 1)[0] if name.endswith("]") else name


def _sources(step) -> tuple:
    return tuple(_source(s) for s in step.sources)


def _rules(net, batch):
    """Per layer: (whether it records for backward, its training Saves, its inference Saves);
    the Saves are None for a kind without the rule. Inputs a layer reads for their shape only
    pass no gradient on."""
    grad = {INPUT: False}
    out = []
    for step in net.steps:
        record = step.spec.record
        inputs = tuple(_batched(s, batch) for s in step.inputs)
        output = _batched(step.output, batch)
        needs = tuple(grad[s] for s in _sources(step))
        train = record.saves(step.spec, inputs, output, needs) if record.saves else None
        run = record.saves(step.spec, inputs, output, None) if record.saves else None
        shape_only = train.shape_only if train is not None else ()
        grad[step.name] = step.params > 0 or any(
            need for n, need in enumerate(needs) if n not in shape_only
        )
        out.append((grad[step.name], train, run))
    return out


def strided_layers(net, rules, which=1) -> tuple:
    """The layers that read a tensor which may not be contiguous while their Saves.layout is
    "": what torch saves or allocates for them then depends on strides not followed here.
    `which`: 1 training, 2 inference (the Saves in `rules`).

    Each tensor is contiguous ("c"), a view in the standard axis order with gaps or broadcast
    axes ("g": select, narrow, split, expand; torch's elementwise and other layers make a
    contiguous output from it), or possibly in another axis order ("p": after a permute,
    which elementwise layers keep, and after a kind without a rule)."""
    kind = {INPUT: "c"}
    strided = []
    for step, rule in zip(net.steps, rules):
        saves = rule[which]
        if saves is None:
            kind[step.name] = "p"
            continue
        seen = {kind[s] for n, s in enumerate(_sources(step)) if n not in saves.shape_only}
        if saves.layout == "permute":
            out = "p"
        elif saves.layout == "contiguous":
            out = "c"
        elif saves.layout == "view":
            out = "p" if "p" in seen else "g"
        elif saves.layout == "any":
            out = "p" if "p" in seen else kind[_sources(step)[0]] if saves.alias else "c"
        else:
            if seen - {"c"}:
                strided.append(step.name)
            out = "c" if seen <= {"c"} else "p"
        kind[step.name] = out
    return tuple(strided)


def _storages(net, aliases, input_bytes, out_bytes):
    """({tensor: storage id}, {storage id: bytes}): a layer whose Saves has `alias` shares
    the storage of its first input; every other layer's output is a new storage."""
    storage, sizes = {INPUT: 0}, {0: input_bytes}
    for n, (step, alias) in enumerate(zip(net.steps, aliases), start=1):
        if alias:
            storage[step.name] = storage[_sources(step)[0]]
        else:
            storage[step.name] = n
            sizes[n] = out_bytes[n - 1]
    return storage, sizes


def inference_peak(net, storage, sizes, shape_only=None) -> int:
    """The peak of live bytes running the layers in order, each tensor freed after its last
    use (the output kept), a storage freed once no live tensor is on it. An input a layer
    reads for its shape only (`shape_only`, per layer) is freed before its output is made."""
    steps = net.steps
    last_use = {INPUT: 0}
    for n, step in enumerate(steps, start=1):
        last_use[step.name] = n
        for source in _sources(step):
            last_use[source] = n
    last_use[net.out_step.name if net.out_step is not None else INPUT] = len(steps) + 1
    holders = {0: 1}
    live = peak = sizes[0]

    def release(name):
        nonlocal live
        holders[storage[name]] -= 1
        if not holders[storage[name]]:
            live -= sizes[storage[name]]

    for n, step in enumerate(steps, start=1):
        sources = _sources(step)
        skip = shape_only[n - 1] if shape_only else ()
        values = {s for j, s in enumerate(sources) if j not in skip}
        for name in dict.fromkeys(s for j, s in enumerate(sources) if j in skip):
            if last_use[name] == n and name not in values:
                release(name)
                last_use[name] = -1  # released: not again below
        sid = storage[step.name]
        if sid not in holders:
            holders[sid] = 0
            live += sizes[sid]
        holders[sid] += 1
        peak = max(peak, live)
        for name in dict.fromkeys((*_sources(step), step.name)):
            if last_use[name] == n:
                release(name)
    return peak


def _saved(net, rules, storage, sizes, dtype, device):
    """(per layer, the bytes it adds to the saved set; the saved storage ids)."""
    saved: set = set()
    saved_bytes = []
    for step, (grad, train, _) in zip(net.steps, rules):
        added = 0
        if grad and train is not None:
            keep = [storage[_sources(step)[i]] for i in train.inputs]
            keep += [storage[step.name]] if train.output else []
            for sid in keep:
                if sid not in saved:
                    saved.add(sid)
                    added += sizes[sid]
            added += sum(
                elements * element_bytes(dtype, kind, device) for elements, kind in train.extra
            )
        saved_bytes.append(added)
    return tuple(saved_bytes), saved


def edge_costs(net, rank, batch=1, dtype="float32", optimizer="adam", device="cuda") -> list:
    """Per layer of a chain, the planner's cost of one step from input shape u to output v
    (no batch), as (b, alpha) of cost(u) = alpha + b * cost(v), b None for a maximum:

    - "peak": the bytes live while the layer runs, its input's storage and (unless it is a
      view or in place) its output: max over the layers;
    - "train": the bytes the step adds to what autograd saves: its output when the storage it
      starts is saved (by it or a later layer), and its own new tensors (indices, statistics,
      masks): a sum. The parameters' part is the same for every chain.

    Which tensors each layer saves is read from `net`, one chain of the plan: it must not
    depend on k, s, p, d (true of the core's kinds)."""
    batch, dtype, optimizer, device = check_options(batch, dtype, optimizer, device)
    width = DTYPES[dtype]
    rules = _rules(net, batch)
    if rank == "peak":
        return [_peak_cost(batch * width, bool(run and run.alias)) for _, _, run in rules]
    if dtype == "int8" or any(train is None for _, train, _ in rules) or strided_layers(net, rules):
        raise BadInput(
            "--rank train: the training memory of this plan is not known (int8, a "
            "layer kind without a saves rule, or a layer reading a non-contiguous "
            "view); use --rank peak"
        )
    zeros = (0,) * len(net.steps)
    storage, sizes = _storages(net, [train.alias for _, train, _ in rules], 0, zeros)
    _, saved = _saved(net, rules, storage, sizes, dtype, device)
    grads = {INPUT: False}
    out = []
    for n, (step, (grad, _, _)) in enumerate(zip(net.steps, rules), start=1):
        needs = tuple(grads[s] for s in _sources(step))
        grads[step.name] = grad
        keeps = storage[step.name] == n and n in saved
        out.append(_train_cost(step.spec, batch, width, dtype, device, grad and needs, keeps))
    return out


def _peak_cost(scale, alias):
    return lambda u, v: (None, scale * (size_of(u) + (0 if alias else size_of(v))))


def _train_cost(spec, batch, width, dtype, device, needs, keeps):
    def cost(u, v):
        total = batch * size_of(v) * width if keeps else 0
        if needs is not False:
            rule = spec.record.saves(spec, ((batch, *u),), (batch, *v), needs or (False,))
            total += sum(e * element_bytes(dtype, kind, device) for e, kind in rule.extra)
        return 1, total

    return cost


def memory(net, batch=1, dtype="float32", optimizer="adam", device="cuda") -> Memory:
    """The network's memory (see the module docstring and docs/memory.md)."""
    batch, dtype, optimizer, device = check_options(batch, dtype, optimizer, device)
    width = DTYPES[dtype]
    rules = _rules(net, batch)
    input_bytes = batch * size_of(net.input) * width
    out_bytes = tuple(batch * step.size * width for step in net.steps)
    unknown = tuple(
        dict.fromkeys(
            step.spec.kind for step, (_, train, _) in zip(net.steps, rules) if train is None
        )
    )
    strided = strided_layers(net, rules)
    copies = strided_layers(net, rules, 2)
    # a layer reading a non-contiguous view may copy it (reshape): taken to allocate
    storage, sizes = _storages(
        net,
        [
            bool(run and run.alias) and step.name not in copies
            for step, (_, _, run) in zip(net.steps, rules)
        ],
        input_bytes,
        out_bytes,
    )
    peak = inference_peak(
        net, storage, sizes, [run.shape_only if run else () for _, _, run in rules]
    )
    new_bytes = tuple(sizes.get(n, 0) for n in range(1, len(net.steps) + 1))
    storage, sizes = _storages(
        net, [bool(train and train.alias) for _, train, _ in rules], input_bytes, out_bytes
    )
    exact = dtype != "int8"
    saved_bytes, _ = (
        _saved(net, rules, storage, sizes, dtype, device)
        if exact
        else ((0,) * len(net.steps), set())
    )
    total = sum(saved_bytes) if exact and not unknown and not strided else None
    return Memory(
        batch,
        dtype,
        optimizer,
        device,
        out_bytes,
        new_bytes,
        tuple(saved_bytes),
        net.params * width,
        peak,
        total,
        unknown,
        input_bytes,
        strided,
    )


# -- budgets -----------------------------------------------------------------------------------

UNITS = {
    "": 1,
    "b": 1,
    "kb": 10**3,
    "mb": 10**6,
    "gb": 10**9,
    "tb": 10**12,
    "kib": 2**10,
    "mib": 2**20,
    "gib": 2**30,
    "tib": 2**40,
}
BUDGET = re.compile(r"^\s*(\d{1,15})(?:\.(\d{1,6}))?\s*([kmgt]i?b|b)?\s*$", re.IGNORECASE)


def parse_budget(text) -> int:
    """Bytes from '24GiB', '1.5 GB', '512MiB' or '1000000' (GB = 10^9, GiB = 2^30)."""
    if type(text) is int and text >= 1:
        return text
    match = BUDGET.match(str(text)) if len(str(text)) <= 40 else None
    if not match:
        raise BadInput(f"--memory {text!r}: write a size such as 24GiB, 16GB or 512MiB")
    whole, fraction, unit = match.groups()
    scale = UNITS[(unit or "").lower()]
    fraction = fraction or ""
    value = (int(whole) * 10 ** len(fraction) + int(fraction or 0)) * scale // 10 ** len(fraction)
    if value < 1:
        raise BadInput(f"--memory {text!r} is less than one byte")
    return value


def total(mem: Memory, inference: bool) -> int | None:
    return mem.inference_total_bytes if inference else mem.train_total_bytes


def largest_batch(
    net, budget: int, inference=False, dtype="float32", optimizer="adam", device="cuda"
):
    """(largest batch whose total fits `budget`, its Memory), or (0, Memory at batch 1) when
    not even one sample fits. Every total is affine in the batch (activations scale with it;
    parameters and batch norm's per-channel statistics do not), so two totals give the line;
    the answer is then checked exactly at itself and the next batch."""
    one = memory(net, 1, dtype, optimizer, device)
    first = total(one, inference)
    if first is None:
        return None, one
    if first > budget:
        return 0, one

    def at(batch: int) -> int:
        return total(memory(net, batch, dtype, optimizer, device), inference) or 0

    slope = at(2) - first
    if slope <= 0:
        raise BadInput("the network's memory does not grow with the batch; no largest batch")
    batch = min(1 + (budget - first) // slope, MAX_BATCH)
    while batch > 1 and at(batch) > budget:
        batch -= 1  # not reached while totals are affine; kept as the exact check
    while batch < MAX_BATCH and at(batch + 1) <= budget:
        batch += 1
    return batch, memory(net, batch, dtype, optimizer, device)


def human(n: int | None) -> str:
    """'97.8 MiB' (binary units), exact bytes below 1 KiB."""
    if n is None:
        return "-"
    if n < 1024:
        return f"{n} B"
    exponent = 0
    while n >= 1024 ** (exponent + 1) and exponent < 4:
        exponent += 1
    return f"{n / 1024**exponent:.4g} {('KiB', 'MiB', 'GiB', 'TiB')[exponent - 1]}"

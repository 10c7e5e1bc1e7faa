"""Layer kinds as records: what a spec may say, what the layer does to shapes, what it costs,
how it moves the receptive field, and the PyTorch code that builds it.

The core registers its own kinds (cnnplan/kinds/core.py) through the `register_layer_kinds`
hook, exactly as a plugin does; `kinds()` (kinds/registry.py) is the registry every part
of cnnplan reads: the spec parser, the forward pass, the planner, `inputs` and `--format torch`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:  # annotations only: fractions costs start-up time
    from fractions import Fraction

from ..platform.errors import CnnplanError
from .arithmetic import SAME_RULES
from .shape import MAX_SIZE

# -- argument types -------------------------------------------------------------------------


class Arg(NamedTuple):
    """One spec argument: whole numbers (with a lower bound), optionally per-axis tuples,
    true/false, or one of some words."""

    low: int | None = 1  # None: not a number
    tuples: bool = False  # (1, 7) allowed: one value per spatial axis
    words: tuple = ()  # e.g. ("same", "valid") or ("nearest", "bilinear")
    boolean: bool = False
    collapse: bool = True  # (3, 3) -> 3 (False where the length matters: pad's p)
    pairs: bool = False  # ((0, 1), (0, 1)): (before, after) per spatial axis

    def check_pairs(self, name: str, value: tuple):
        """Explicit (before, after) padding per axis; all-symmetric pairs become numbers."""
        if not 1 <= len(value) <= 6 or not all(
            isinstance(v, tuple) and len(v) == 2 and all(type(x) is int for x in v) for v in value
        ):
            raise ValueError(
                f"{name} must be (before, after) pairs, one per spatial axis, "
                f"such as ((0, 1), (0, 1)), not {_show(value)}"
            )
        for pair in value:
            for v in pair:
                self._number(name, v)
        if all(a == b for a, b in value):
            return self.check(name, tuple(a for a, _ in value))
        return value

    def check(self, name: str, value):
        """The value, normalised (equal tuple entries collapse to one number); ValueError with
        a message otherwise."""
        if self.boolean:
            if isinstance(value, bool):
                return value
        elif isinstance(value, str):
            if value.lower() in self.words:
                return value.lower()
        elif isinstance(value, tuple) and self.pairs and any(isinstance(v, tuple) for v in value):
            return self.check_pairs(name, value)
        elif isinstance(value, tuple) and self.tuples:
            if 1 <= len(value) <= 6 and all(type(v) is int for v in value):
                for v in value:
                    self._number(name, v)
                return value[0] if self.collapse and len(set(value)) == 1 else value
        elif type(value) is int and self.low is not None:
            self._number(name, value)
            return value
        raise ValueError(f"{name} must be {self.describe()}, not {_show(value)}")

    def _number(self, name, value):
        if value < self.low:
            raise ValueError(f"{name}={value} must be at least {self.low}")
        if value > MAX_SIZE:
            raise ValueError(f"{name}={value} is above the limit {MAX_SIZE}")

    def describe(self) -> str:
        if self.boolean:
            return "true or false"
        parts = []
        if self.low is not None:
            parts.append("a whole number" + (f" >= {self.low}" if self.low else " >= 0"))
            if self.tuples:
                parts.append("a tuple such as (1, 7)")
            if self.pairs:
                parts.append("(before, after) pairs such as ((0, 1), (0, 1))")
        parts += [repr(w) for w in self.words]
        return " or ".join(parts)


def _show(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return "(" + ", ".join(_show(v) for v in value) + ")"
    return repr(value) if isinstance(value, str) else str(value)


POSITIVE, NONNEGATIVE, BOOLEAN = Arg(1), Arg(0), Arg(None, boolean=True)
SIZES, PADS = Arg(1, tuples=True), Arg(0, tuples=True)
SAME_PADS = Arg(0, tuples=True, words=("same", "valid", *SAME_RULES), pairs=True)  # conv's p


# -- what a layer does ------------------------------------------------------------------------


class Applied(NamedTuple):
    """One layer applied to its input shape(s)."""

    output: tuple
    weights: int = 0
    params: int = 0
    macs: int = 0
    notes: tuple = ()
    steps: tuple | None = None  # receptive-field step per spatial axis (see RfStep), or
    exact_rf: bool = True  # None: `same` on every axis; False: the rf is a bound
    offsets: tuple = ()  # joins: per input, per axis crop offset (concat(crop=true))
    axes: tuple | None = None  # layout: where each output axis comes from (see below)
    outputs: tuple = ()  # several outputs (split, chunk): their shapes; output = [0]
    pieces: tuple = ()  # per output, RfSteps for every axis (its offset), or None
    shape_only: tuple = ()  # joins: inputs read for their shape only (expandas' like)

    # `steps` gives one RfStep per spatial axis (axes 1..n; axis 0, the channels, is mixed), or
    # one per output axis. `axes` (kinds that move axes: permute, flatten, reshape, matmul):
    # single-input kinds give, per output axis, the input axis it is (an int), the input axes
    # it merges (a tuple) or None (a new feature axis); joins give per output axis the
    # (input, axis) pairs it reads position by position (other axes are read whole).


class RfStep(NamedTuple):
    """How one layer maps one spatial axis (Araujo, Norris & Sim, Distill 2019).

    Output position x depends on layer-input positions centred at `shift + x * stride` and
    spanning `span` positions beyond the first (span = k' - 1 for a window). `whole`: the
    output depends on the whole input (global pooling, flatten, linear).
    """

    span: Fraction | int = 0
    stride: Fraction | int = 1
    shift: Fraction | int = 0
    whole: bool = False


WHOLE = RfStep(whole=True)


WINDOW_RULES = ("conv", "pool", "convT")
WINDOW_VARIABLES = ("k", "s", "p", "d")
ABSENT = {"p": 0, "d": 1}  # a window kind without a p or d argument has this value


class Window(NamedTuple):
    """What makes a layer kind a window kind, one `solve --layer` and `plan` enumerate in closed
    form along each spatial axis (k' = d(k-1) + 1):

    - rule "conv": o = floor((i + 2p - k')/s) + 1 (solve and plan search p <= k' - 1);
    - rule "pool": the same o with PyTorch's pooling padding p <= k // 2, and ceil_mode
      (o = ceil(...) + 1) where the kind has a `ceil` argument;
    - rule "convT": o = (i-1)s - 2p + k' + op (the kind needs an `op` argument).

    The kind needs `k` and `s` arguments; a missing `p` is 0 and a missing `d` is 1. With a
    `channels` argument it sets the output channels; without, it keeps them. solve and plan
    price a configuration by the kind's own `apply` (weights and params may depend on k, not on
    s, p or d; MACs scale with the output positions, or for convT the input positions).
    `input_ge_k`: with this many spatial axes every unpadded input size must be at least k
    (PyTorch's avg_pool3d). `what` names the kind in titles ("max pooling"; default: its help up
    to the first ':'). `cnnplan_host(...).check_window(name)` checks `apply` against the rule.

    The rest is filled in when the kind is registered, from its arguments.
    """

    rule: str = "conv"
    what: str = ""
    input_ge_k: int = 0
    fixed: tuple = ()  # ((name, value), ...): the variables the kind has no argument for
    channels: bool = False  # it has a `channels` argument
    ceil: bool = False  # it has a `ceil` argument (rule "pool")

    def sizes(
        self, inputs, k: int, s: int, p: int = 0, d: int = 1, op: int = 0, ceil: bool = False
    ) -> tuple | None:
        """The output sizes this rule gives for the spatial sizes `inputs`, or None where PyTorch
        refuses (pooling's p <= k // 2, op < max(s, d), no window fits). solve and plan also
        leave out what cannot matter: p > k' - 1 for convolutions, d > 1 with k = 1.

        >>> Window("pool").sizes((7, 8), 3, 2), Window("pool").sizes((8,), 3, 2, ceil=True)
        ((3, 3), (4,))
        >>> Window("convT").sizes((16,), 4, 2, 1), Window("pool").sizes((16,), 3, 1, 2)
        ((32,), None)
        """
        from .arithmetic import (
            conv_output,
            max_padding,
            output_padding_valid,
            pool_output_ceil,
            transposed_output,
        )

        if self.rule == "pool" and p > max_padding(k, d, "pool"):
            return None
        if self.rule == "convT" and not output_padding_valid(op, s, d):
            return None
        if len(inputs) == self.input_ge_k and min(inputs) < k:
            return None
        if self.rule == "convT":
            out = [transposed_output(i, k, s, p, d, op) for i in inputs]
        elif ceil:
            out = [pool_output_ceil(i, k, s, p, d) for i in inputs]
        else:
            out = [conv_output(i, k, s, p, d) for i in inputs]
        return None if None in out or min(out) < 1 else tuple(out)  # type: ignore[type-var, operator]  # None is tested first


def signature(kind: LayerKind) -> str:
    """A kind's arguments from its record: the positional one first, defaults as name=value
    (conv: 'channels, k, s=1, p=0, d=1, groups=1, bias=true')."""
    names = sorted(kind.args, key=lambda name: name != kind.positional)
    return ", ".join(
        f"{name}={_show(kind.defaults[name]).strip(chr(39))}" if name in kind.defaults else name
        for name in names
    )


def window_of(kind: LayerKind, provider: str) -> Window | None:
    """The kind's Window completed from its arguments; RegistrationError where it cannot work."""
    from ..platform.registry import RegistrationError

    window = kind.window
    if window is None or window is False:
        return None
    if isinstance(window, str):
        window = Window(window)
    where = f"{provider} registered layer kind {kind.name!r} with"
    if window is True:
        raise RegistrationError(
            f"{where} window=True; say which rule it follows: "
            f'window=Window("conv"), "pool" or "convT" (cnnplan.Window)'
        )
    if not isinstance(window, Window) or window.rule not in WINDOW_RULES:
        raise RegistrationError(
            f"{where} window={window!r}; give cnnplan.Window(rule) with rule "
            f"one of {', '.join(WINDOW_RULES)}"
        )
    missing = [
        name
        for name in ("k", "s") + (("op",) if window.rule == "convT" else ())
        if name not in kind.args
    ]
    if missing:
        raise RegistrationError(
            f"{where} a {window.rule} window but no {' or '.join(missing)} argument"
        )
    if "ceil" in kind.args and window.rule != "pool":
        raise RegistrationError(f"{where} a ceil argument; only rule 'pool' has ceil_mode")
    what = window.what or kind.help.split(":")[0].strip() or kind.name
    return window._replace(
        what=what,
        channels="channels" in kind.args,
        ceil="ceil" in kind.args,
        fixed=tuple((v, ABSENT[v]) for v in ("p", "d") if v not in kind.args),
    )


class KindBroken(CnnplanError):
    """A plugin's layer kind names a rule that cannot be imported (exit 1)."""

    exit_code = 1


class Reference:
    """A kind's rule given as a 'package.module:function' reference, imported at its first
    call (so registering a kind imports nothing of the plugin's own modules)."""

    def __init__(self, reference: str, owner: str = ""):
        self.reference, self.owner = reference, owner
        self._function = None

    def __call__(self, *args, **kwargs):
        if self._function is None:
            from ..platform.registry import resolve

            try:
                self._function = resolve(self.reference)
            except Exception as exc:
                raise KindBroken(
                    f"{self.owner}: {self.reference!r} could not be imported: "
                    f"{type(exc).__name__}: {exc}"
                ) from exc
        return self._function(*args, **kwargs)

    def __repr__(self) -> str:
        return f"Reference({self.reference!r})"


class Saves(NamedTuple):
    """What one layer keeps for the backward pass in training mode, and whether its output is
    a new tensor (docs/memory.md). Returned by a kind's `saves(spec, inputs, output, needs)`
    rule, where `needs` says per input whether it requires grad (the rule is asked only when
    an input does or the layer has parameters: otherwise autograd records nothing). It is
    also asked with `needs=None` for inference (eval mode, no grad), where only `alias`
    counts: dropout, for one, returns its input unchanged there.

    `alias`: the output shares the storage of input 0 (a view, or an in-place layer), so
    running the layer allocates nothing. `inputs`: the inputs it saves, by position (their
    storage, shared). `output`: it saves its output. `extra`: new tensors it saves, as
    (elements, dtype) with dtype "like" (the network's dtype), "stats" (float32; float64 for
    float64 networks), "mask" (dropout's: bool on CUDA, the network's dtype on CPU), or a
    torch dtype name such as "int64" or "bool". Elements count the whole batch: the rule gets
    shapes with the batch first (N x C x sizes). `shape_only`: inputs read for their shape
    alone (expandas' and resize's like): no gradient flows from them.

    `layout` says how the layer meets inputs that are not contiguous (a permute, select,
    narrow, split or expand upstream): "" (the default) when what it saves or allocates may
    then change (reshape and flatten copy, linear and matmul save a copy, group norm saves a
    contiguous copy), so a network where it reads such an input has no training memory;
    "any" when it saves and allocates the same whatever the layout (elementwise layers keep a
    permuted order); "contiguous" as "any", its output contiguous whatever its inputs' strides
    (layer norm, softmax); "view" for a view with gaps or broadcast axes in the standard order
    (select, narrow, split, expand); "permute" for a view that may reorder the axes.
    """

    alias: bool = False
    inputs: tuple = ()
    output: bool = False
    extra: tuple = ()
    shape_only: tuple = ()
    layout: str = ""


RULES = ("apply", "torch", "complete", "fast", "saves")  # a kind's callables (or references)


def rules_of(kind: LayerKind, provider: str) -> dict:
    """The kind's rules with 'module:function' references made lazy callables."""
    from ..platform.registry import RegistrationError, is_reference

    rules = {}
    for name in RULES:
        value = getattr(kind, name)
        if is_reference(value):
            rules[name] = Reference(value, f"layer kind {kind.name!r} of plugin {provider}")
        elif not callable(value) and (value is not None or name in ("apply", "torch")):
            raise RegistrationError(
                f"{provider} registered layer kind {kind.name!r} with "
                f"{name}={value!r}; give a function or a "
                "'package.module:function' reference"
            )
    return rules


class LayerKind(NamedTuple):
    """A layer kind: its spec arguments and rules (docs/plugins.md, register_layer_kinds).

    apply(spec, inputs, where) -> Applied, raising BadInput (starting with `where`, e.g.
    "layer 3") where PyTorch would refuse; torch(spec, inputs) -> the nn.Module constructor
    (text), or for joins the forward expression over the input variables `{0}`, `{1}`, ...
    (`{all}`: all of them, comma-separated). `complete(values) -> values` fills defaults that
    depend on other values (pooling s = k). `fast` (optional, for `cnnplan inputs`): a
    shape-only rule built once per layer, giving the output shape or None where `apply` would
    refuse (apply then says why). Each of these four may be a 'package.module:function'
    reference, imported at first use. `outputs`: the layer gives several outputs
    (Applied.outputs), which later layers read as `NAME[j]`. `saves(spec, inputs, output,
    needs) -> Saves` (optional) says what the layer keeps for backward and whether its output
    is a view or in place (docs/memory.md); without it, a network's training memory is not
    given. `window`: a Window (or its rule, "conv", "pool" or
    "convT") makes it a window kind, which `solve --layer` and `plan` solve for.
    """

    name: str
    help: str
    apply: Callable | str  # a function, or a 'package.module:function' reference
    torch: Callable | str
    args: dict = {}  # (records are read-only: never changed in place)
    positional: str | None = None
    defaults: dict = {}
    required: tuple = ()
    window: Window | str | None = None  # a window kind (k, s, p, d): see Window
    join: bool = False  # several inputs (add, mul, concat)
    aliases: tuple = ()
    complete: Callable | str | None = None
    fast: Callable | str | None = None  # fast(spec, n_axes) -> rule(inputs) -> output or None
    saves: Callable | str | None = None  # saves(spec, inputs, output, needs) -> Saves
    provider: str = ""
    outputs: bool = False  # several outputs (Applied.outputs), read as NAME[j]

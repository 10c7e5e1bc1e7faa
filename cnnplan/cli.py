"""The `cnnplan` command line: click parses, a solver answers, a reporter renders."""

from __future__ import annotations

import contextlib
import errno
import os
import re
import sys
import time

import click

from .platform import VERSION as __version__
from .platform.errors import CnnplanError
from .platform.result import Result, Table

FORMAT_HELP = (
    "Output format: table, json, csv, markdown, latex, or one a plugin adds (cnnplan formats)."
)


class FormatOption(click.Option):
    """`--format NAME`, checked while the command line is parsed against the formats that
    can render the command's Result kinds (`kinds`; None: any kind); its help lists them."""

    def __init__(self, *args, kinds=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.kinds = tuple(kinds) if kinds is not None else None

    def formats(self) -> list[str]:
        """The names of the formats that can render one of this command's kinds."""
        from .platform.host import get_host

        return [
            name
            for name, reporter in get_host().reporters.items()
            if self.kinds is None or any(map(reporter.can_render, self.kinds))
        ]

    def get_help_record(self, ctx):
        names, help_text = super().get_help_record(ctx)
        return names, help_text.replace(FORMAT_HELP, f"Output format: {', '.join(self.formats())}.")


def format_option(default: str = "table", kinds=None):
    """The `--format NAME` option every command shares, checked against the registered
    reporters while the command line is parsed (before the command does any work): `kinds`
    names the Result kinds the command makes, so only formats that can render them pass."""
    return click.option(
        "--format",
        "fmt",
        default=default,
        show_default=True,
        metavar="NAME",
        help=FORMAT_HELP,
        callback=_check_format,
        is_eager=False,
        cls=FormatOption,
        kinds=kinds,
    )


def _check_format(ctx, param, value):
    from .platform.host import get_host

    reporters = get_host().reporters
    names = {name.lower(): name for name in reporters}
    reporter = reporters[names.get(value.lower(), value) if isinstance(value, str) else value]
    kinds = getattr(param, "kinds", None)
    if kinds is not None and not any(map(reporter.can_render, kinds)):
        raise _cannot_render(reporter, kinds)
    return reporter.name


def _cannot_render(reporter, kinds):
    from .platform.host import get_host
    from .platform.registry import cannot_render

    return cannot_render(get_host().reporters, reporter, kinds)


def emit(result: Result, fmt: str = "table", commit=None):
    """Render `result` on stdout with the reporter `fmt` (BadInput if that format cannot
    render `result.kind`); exit with the result's exit code.

    `commit` (optional, no arguments) runs once the rendering has succeeded and before anything
    is printed: the place for a command to write its files, so that a reporter that cannot
    render the result leaves them untouched. If it returns staged files (`cnnplan.stage`, or
    a list of them), they are put in place only after the answer is printed, and dropped if
    printing fails: a command that fails changes no file.
    """
    from .platform.host import get_host

    reporter = get_host().reporters[fmt]
    if not reporter.can_render(result.kind):
        raise _cannot_render(reporter, (result.kind,))
    text = reporter(result)
    if isinstance(text, bytes) and sys.stdout.isatty():
        from .platform.errors import BadInput

        raise BadInput(f"--format {fmt} writes a binary file: redirect it, e.g. > net.{fmt}")
    staged = commit() if commit is not None else None
    staged = [] if staged is None else staged if isinstance(staged, (list, tuple)) else [staged]
    try:
        if isinstance(text, bytes):
            sys.stdout.flush()
            sys.stdout.buffer.write(text)
            sys.stdout.buffer.flush()
        else:
            click.echo(text)
    except BaseException as exc:
        for item in staged:
            item.discard()
        if isinstance(exc, OSError) and not isinstance(exc, BrokenPipeError):
            # e.g. a full disk or /dev/full
            raise OutputError(f"cannot write the output: {exc.strerror or exc}") from None
        raise
    for item in staged:
        item.commit()
    if result.exit_code:
        sys.exit(result.exit_code)


class Choice(click.Choice):
    """click.Choice in any case, naming the nearest choice to a misspelt value."""

    def __init__(self, choices):
        super().__init__(choices, case_sensitive=False)

    def convert(self, value, param, ctx):
        try:
            return super().convert(value, param, ctx)
        except click.BadParameter:
            from .platform.errors import unknown_message

            self.fail(
                unknown_message("value", value, self.choices).removeprefix("unknown value "),
                param,
                ctx,
            )


class WindowKinds(click.Choice):
    """`solve --layer`: the window kinds registered when it is read (the core's and the
    plugins'), by name or alias (PyTorch's class names too), in any case."""

    def __init__(self):
        super().__init__((), case_sensitive=False)

    @property
    def choices(self) -> tuple:
        from .solver.layer import window_words

        return tuple(dict.fromkeys(window_words().values()))

    @choices.setter
    def choices(self, value):
        pass  # always the registry's

    def convert(self, value, param, ctx):
        from .kinds.registry import kinds
        from .platform.errors import nearest_word
        from .solver.layer import window_words

        words = window_words()
        if str(value).lower() in words:
            return value  # solve() maps it (and checks a class name's dimensions)
        near = nearest_word(str(value), [w for w in kinds().words() if w.lower() in words])
        hint = f"did you mean {near}?" if near else f"choose one of: {', '.join(self.choices)}"
        self.fail(f"{value!r} is not a window kind; {hint}", param, ctx)


class LazyCommand(click.Command):
    """A command imported only when it runs (or its own --help is asked for): its name, a
    one-line help for `cnnplan --help`, and a 'package.module:attribute' reference to the
    click command. Add it in register_commands: `cli.add_command(LazyCommand(...))`."""

    def __init__(self, name: str, help: str, reference: str):
        super().__init__(name, help=help)
        self.reference = reference

    def resolve(self) -> click.Command:
        """The click command behind the reference (imported now)."""
        from .platform.registry import resolve

        command = resolve(self.reference)
        if not isinstance(command, click.Command):
            raise TypeError(f"{self.reference!r} is {command!r}, not a click command")
        return command


class OutputError(CnnplanError):
    """Standard output cannot take the answer (closed, full, failing): exit 1."""

    exit_code = 1


# symbols and marks that a terminal without Unicode (PYTHONIOENCODING=latin-1, ascii) shows
# in ASCII; anything else unencodable becomes '?'
ASCII_FALLBACKS = {
    "\u00d7": "x",
    "\u2192": "->",
    "\u2190": "<-",
    "\u2264": "<=",
    "\u2265": ">=",
    "\u2260": "!=",
    "\u2212": "-",
    "\u00b7": "*",
    "\u22c5": "*",
    "\u2202": "d",
    "\u2211": "sum",
    "\u221a": "sqrt",
    "\u221e": "inf",
    "\u2026": "...",
    "\u2248": "~=",
    "\u2013": "-",
    "\u2014": "--",
    "\u2018": "'",
    "\u2019": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u0307": "dot",
    "\u0304": "bar",
    "\u0305": "bar",
    "\u00b2": "^2",
    "\u00b3": "^3",
    "\u2207": "grad",
}


def ascii_fallback(error: UnicodeEncodeError):
    """A codec error handler ('cnnplan-ascii'): ASCII stand-ins for what cannot be encoded."""
    import unicodedata

    out = []
    for ch in error.object[error.start : error.end]:
        for part in ASCII_FALLBACKS.get(ch) or unicodedata.normalize("NFKD", ch):
            if part.isascii():
                out.append(part)
            elif part in ASCII_FALLBACKS:
                out.append(ASCII_FALLBACKS[part])
            elif unicodedata.name(part, "").startswith("GREEK"):
                out.append(unicodedata.name(part).split()[-1].lower())
            else:
                out.append("?")
    return "".join(out), error.end


def _prepare_streams():
    """Streams that cannot encode every character fall back to ASCII instead of failing."""
    import codecs

    try:
        codecs.lookup_error("cnnplan-ascii")
    except LookupError:
        codecs.register_error("cnnplan-ascii", ascii_fallback)
    for stream in (sys.stdout, sys.stderr):
        encoding = (getattr(stream, "encoding", None) or "utf-8").lower().replace("_", "-")
        if encoding not in ("utf-8", "utf8") and hasattr(stream, "reconfigure"):
            try:
                stream.reconfigure(errors="cnnplan-ascii")
            except (OSError, ValueError):
                pass


def _silence_stdout():
    """After stdout failed, send what Python still holds for it to /dev/null, so that exiting
    does not print a second, multi-line error."""
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, sys.stdout.fileno())
        os.close(null)
    except (OSError, ValueError, AttributeError):
        pass


def _one_line_warning(message, category, filename, lineno, file=None, line=None):
    """Warnings (numpy's RuntimeWarning, ...) as one line on stderr, without source lines."""
    if sys.stderr is not None:
        text = " ".join(str(message).split())
        click.echo(f"cnnplan: warning: {text}", err=True)


class CnnplanGroup(click.Group):
    """The root group: reports every error as one line on stderr, never a traceback, and
    imports a LazyCommand only when it is used."""

    _listing = False

    def get_command(self, ctx, name):
        command = super().get_command(ctx, name)
        if isinstance(command, LazyCommand) and not self._listing:
            try:
                command = self.commands[name] = command.resolve()
            except Exception as exc:
                raise PluginBroken(
                    f"command {name!r} could not be imported from "
                    f"{command.reference!r}: {type(exc).__name__}: {exc}"
                ) from exc
        return command

    def format_commands(self, ctx, formatter):
        self._listing = True  # `cnnplan --help` lists lazy commands without importing them
        try:
            super().format_commands(ctx, formatter)
        finally:
            self._listing = False

    def main(self, args=None, prog_name="cnnplan", **extra):
        import warnings

        _prepare_streams()
        if sys.stdout is None:  # started with stdout closed (>&-): nothing could be shown
            _fail("standard output is closed; cnnplan has nowhere to write its answer", 1)
        with warnings.catch_warnings():
            warnings.showwarning = _one_line_warning
            self._main(args, prog_name, **extra)

    def _main(self, args, prog_name, **extra):
        args = sys.argv[1:] if args is None else list(args)
        if not args:  # bare `cnnplan`: the help, on stdout, as a success
            args = ["--help"]
        from .platform.budget import COMMAND_SECONDS, command_budget

        try:
            with command_budget(seconds=COMMAND_SECONDS):
                rv = super().main(args=args, prog_name=prog_name, standalone_mode=False, **extra)
        except click.exceptions.Exit as exc:
            sys.exit(exc.exit_code)
        except click.UsageError as exc:
            where = f" (see '{exc.ctx.command_path} --help')" if exc.ctx else ""
            _fail(f"{exc.format_message()}{usage_hint(args)}{where}", exc.exit_code)
        except click.ClickException as exc:
            _fail(exc.format_message(), exc.exit_code)
        except OutputError as exc:
            _silence_stdout()
            _fail(str(exc), exc.exit_code)
        except CnnplanError as exc:
            _fail(str(exc), exc.exit_code)
        except (click.Abort, KeyboardInterrupt):
            _fail("interrupted", 130)
        except BrokenPipeError:
            sys.stderr.close()
            sys.exit(1)
        except OSError as exc:  # stdout failing while click writes help or version text
            if exc.errno not in OUTPUT_ERRNOS:
                _internal(exc)
            _silence_stdout()
            _fail(f"cannot write the output: {exc.strerror or exc}", 1)
        except Exception as exc:  # a bug: say so in one line (CNNPLAN_DEBUG=1 shows the trace)
            _internal(exc)
        sys.exit(rv if isinstance(rv, int) else 0)


OUTPUT_ERRNOS = {errno.ENOSPC, errno.EIO, errno.EBADF, errno.EDQUOT, errno.EFBIG}


def _internal(exc: Exception):
    if os.environ.get("CNNPLAN_DEBUG"):
        raise exc
    _fail(f"internal error ({type(exc).__name__}: {exc}); please report it", 70)


class PluginBroken(CnnplanError):
    """Running the stand-in command of a plugin that failed (exit 1)."""

    exit_code = 1


_ASSIGNMENT = r"[A-Za-z_]\w*="  # compiled on first use (an error path): start-up stays light


def usage_hint(args) -> str:
    """A hint for a common slip: `--fix k=3 s=2` (a second NAME=VALUE without its option)."""
    for n, arg in enumerate(args[2:], start=2):
        option, first = args[n - 2], args[n - 1]
        if (
            re.match(_ASSIGNMENT, arg)
            and re.match(_ASSIGNMENT, first)
            and option.startswith("--")
            and "=" not in option
        ):
            values = [first]
            for more in args[n:]:
                if not re.match(_ASSIGNMENT, more):
                    break
                values.append(more)
            return f"; give several values with commas: {option} {','.join(values)}"
    return ""


def _fail(message: str, code: int):
    """Report `message` as one line on stderr (click's lists and tabs folded) and exit."""
    if sys.stderr is not None:
        from .platform.usertext import visible

        click.echo(f"Error: {visible(' '.join(str(message).split()))}", err=True)
    sys.exit(code)


@click.group(cls=CnnplanGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="cnnplan")
def cli():
    """Exact shape arithmetic for convolutional networks.

    Plugins add commands and formats; `cnnplan plugins` lists them. Set CNNPLAN_LOAD_PLUGINS
    (comma-separated names; empty for none) to load only some.
    """


PAGE = 20  # rows `solve` shows in the table format without --limit


@cli.command()
@click.option(
    "--in",
    "input_",
    required=True,
    metavar="SHAPE",
    help="Input shape C x sizes: 3x64 (1-D), 3x64x64 (2-D), 3x16x64x64 (3-D).",
)
@click.option("--out", "output", required=True, metavar="SHAPE", help="Output shape, same form.")
@click.option(
    "--layer",
    type=WindowKinds(),
    default="conv",
    show_default=True,
    metavar="KIND",
    help="conv, convT (transposed: its output padding op is searched too), maxpool "
    "or avgpool (same channels, no parameters); pool = maxpool; or a plugin's "
    "window kind (`cnnplan kinds` lists them all).",
)
@click.option("--ceil", is_flag=True, help="Pooling with ceil_mode=True.")
@click.option(
    "--fix",
    multiple=True,
    metavar="NAME=VALUE",
    help="Fix k, s, p or d, and op for convT (repeatable; also k=8,d=1).",
)
@click.option(
    "--max",
    "maxima",
    multiple=True,
    metavar="NAME=VALUE",
    help="Upper bound for k, s, p or d (repeatable; p=0 means no padding).",
)
@click.option(
    "--mode",
    type=Choice(["floor", "exact"]),
    default="floor",
    show_default=True,
    help="floor: PyTorch's rule (the unused column counts padded rows after the last "
    "window); exact: only rows with none unused (s divides i+2p-k').",
)
@click.option(
    "--where",
    multiple=True,
    metavar="EXPR",
    help="Extra constraint over k, s, p, d, e.g. 'k % 2 == 1' or 's == k' (repeatable).",
)
@click.option(
    "--sort",
    type=Choice(["simple", "weights", "params", "macs"]),
    default="simple",
    show_default=True,
    help="simple: d, then p, k, s ascending; or fewest weights, params, MACs first.",
)
@click.option(
    "--limit",
    type=click.IntRange(min=0),
    default=None,
    metavar="N",
    help="Show at most N rows; 0: all (the total count is always reported). "
    f"Default: the first {PAGE} in the table format, all in the others.",
)
@click.option("--explain", is_flag=True, help="Show the output-size arithmetic for each row.")
@click.option(
    "--per-axis",
    is_flag=True,
    help="Solve each spatial axis on its own (rectangular windows, e.g. k=(3, 5)).",
)
@click.option(
    "--padding",
    type=click.Choice(["torch", "same_upper", "same_lower", "explicit"], case_sensitive=False),
    default="torch",
    show_default=True,
    help="torch: symmetric p (PyTorch); same_upper / same_lower: TensorFlow's and "
    "ONNX's 'same' (o = ceil(i/s), any k); explicit: (before, after) pads of "
    "any split (ONNX pads, JAX pairs). docs/frameworks.md.",
)
@format_option(kinds=("solve", "solve-per-axis"))
def solve(
    input_,
    output,
    layer,
    ceil,
    fix,
    maxima,
    mode,
    where,
    sort,
    limit,
    explain,
    per_axis,
    padding,
    fmt,
):
    """List every (kernel, stride, padding, dilation) that maps --in onto --out.

    \b
    cnnplan solve --in 3x64x64 --out 64x32x32 --fix k=8
    cnnplan solve --in 64x32x32 --out 64x8x8 --layer pool --max p=0 --where "s == k"
    cnnplan solve --in 64x16x16 --out 32x32x32 --layer convT --fix k=4
    """
    from .solver.layer import solve as solve_layer

    page = limit is None and fmt == "table"  # a page for people; other formats list all
    result = solve_layer(
        input_,
        output,
        layer=layer,
        fix=fix,
        max=maxima,
        mode=mode,
        where=where,
        sort=sort,
        limit=PAGE if page else limit or None,
        explain=explain,
        per_axis=per_axis,
        ceil=ceil,
        padding=padding,
    )
    emit(_paged(result) if page else result, fmt)


def _paged(result):
    """The page's note, where a table holds only the first PAGE rows of more."""
    import dataclasses

    data = result.data
    counts = [axis["count"] for axis in data["axes"]] if "axes" in data else [data["count"]]
    if max(counts) <= PAGE:
        return result
    total = f"{counts[0]:,} solutions" if len(counts) == 1 else "the rows of each axis"
    note = (
        f"the first {PAGE} of {total} are shown; --limit 0 shows all (--format json, csv "
        "and the others list all)"
    )
    return dataclasses.replace(result, notes=(*result.notes, note))


def _plan_file(items):
    """Split the arguments into (layer specs, plan file): one *.toml argument is a plan file."""
    files = [item for item in items if item.lower().endswith(".toml")]
    if not files:
        return list(items), None
    if len(items) != 1:
        from .platform.errors import BadInput

        raise BadInput("give either one plan file (*.toml) or layer specs, not both")
    return [], files[0]


def _check_input_given(input_, layers):
    """`cnnplan shapes 3x256x256 conv(...)`: the shape was given as a layer."""
    from .kinds.shape import looks_like_shape

    if input_ is None and layers and looks_like_shape(layers[0]):
        from .platform.errors import BadInput

        raise BadInput(f"the input shape goes in --in: --in {layers[0]} (then the layers)")


def _layout_hints(**options) -> list[str]:
    """Hints for --in/--out shapes that look channels last, batched or without channels
    (options given by name without dashes: in_="224x224x3")."""
    from .kinds.shape import layout_hints, parse_shape
    from .platform.errors import BadInput

    hints = []
    for name, text in options.items():
        if text:
            try:
                shape = parse_shape(text)
            except BadInput:
                continue  # the command says what is wrong with it
            hints += layout_hints("--" + name.strip("_"), shape)
    return hints


@contextlib.contextmanager
def _hinted(hints: list[str]):
    """An error raised inside ends with the shape hints (still one line)."""
    try:
        yield
    except CnnplanError as exc:
        if hints and exc.args:
            exc.args = (f"{exc.args[0]} ({'; '.join(hints)})", *exc.args[1:])
        raise


def _with_hints(result, hints: list[str]):
    import dataclasses

    return dataclasses.replace(result, notes=(*result.notes, *hints)) if hints else result


class _Progress:
    """Progress on stderr, only once a plan has run for a second and stderr is a terminal."""

    def __init__(self):
        self.start = time.monotonic()
        self.last = 0.0
        self.shown = False
        self.tty = sys.stderr.isatty()

    def __call__(self, message: str):
        now = time.monotonic()
        if not self.tty or now - self.start < 1.0 or now - self.last < 0.1:
            return
        self.last = now
        self.shown = True
        click.echo(f"\r\033[Kcnnplan: {message}", err=True, nl=False)

    def close(self):
        if self.shown:
            click.echo("\r\033[K", err=True, nl=False)


def memory_options(function):
    """--batch, --dtype, --optimizer, --device (docs/memory.md), shared by shapes, plan and
    inputs."""
    choice = click.Choice
    for option in reversed(
        (
            click.option(
                "--batch",
                type=click.IntRange(1, 2**40),
                default=None,
                metavar="N",
                help="Batch size for the memory numbers (default 1).",
            ),
            click.option(
                "--dtype",
                type=choice(
                    ["float32", "float16", "bfloat16", "float64", "int8"], case_sensitive=False
                ),
                default=None,
                help="Element type of parameters and tensors (default float32).",
            ),
            click.option(
                "--optimizer",
                type=choice(["sgd", "momentum", "adam"], case_sensitive=False),
                default=None,
                help="Optimizer state in the training total: none, one or two "
                "parameter-sized tensors (default adam).",
            ),
            click.option(
                "--device",
                type=choice(["cuda", "cpu"], case_sensitive=False),
                default=None,
                help="Where it trains: dropout's saved mask is bool on "
                "cuda, the dtype on cpu (default cuda).",
            ),
        )
    ):
        function = option(function)
    return function


@cli.command()
@click.argument("layers", nargs=-1, metavar="SPEC... | PLAN.toml")
@click.option(
    "--in",
    "input_",
    metavar="SHAPE",
    help="Input shape C x sizes, e.g. 3x256x256 (optional with a plan file).",
)
@click.option(
    "--collapse",
    type=click.IntRange(1, 20),
    default=None,
    metavar="DEPTH",
    help="Pictures (svg, html): draw each group of layers whose dotted names go "
    "deeper than DEPTH (layer1.0.conv1 is 3 deep) as one box.",
)
@memory_options
@click.option(
    "--memory",
    "budget",
    metavar="SIZE",
    help="A memory budget such as 24GiB or 16GB: the largest batch whose training "
    "total (or with --inference, inference total) fits.",
)
@click.option("--inference", is_flag=True, help="With --memory: fit inference, not training.")
@format_option(kinds=("shapes",))
def shapes(layers, input_, collapse, batch, dtype, optimizer, device, budget, inference, fmt):
    """Shapes, sizes, weights, params, MACs and receptive fields of a network, layer by layer.

    \b
    Layer specs: conv(64, k=8, s=2)  conv(128, k=3, p=1, d=2, groups=4, bias=false)
                 convT(64, k=4, s=2, p=1, op=0)  maxpool(k=5)  avgpool(k=2, s=2)
                 maxpool(k=3, s=2, ceil=true)  flatten  linear(10)  relu  tanh  sigmoid  bn
    Omitted values: s=1, p=0, d=1; pooling s=k. "SPEC -> SHAPE" checks a layer's output.
    `cnnplan kinds` lists every layer kind (the core's 28 and the plugins').

    \b
    cnnplan shapes --in 3x256x256 "conv(64,k=8,s=2)" "maxpool(k=5)" "conv(128,k=4,p=1)"
    cnnplan shapes examples/networks/q6.toml --format torch
    cnnplan shapes examples/networks/resnet50.toml --format svg --collapse 1
    cnnplan shapes examples/networks/resnet50.toml --batch 32 --dtype float16
    cnnplan shapes examples/networks/resnet50.toml --memory 24GiB --optimizer adam
    """
    from .network.forward import shapes as run_shapes

    _check_input_given(input_, layers)
    specs, plan_file = _plan_file(layers)
    hints = _layout_hints(in_=input_)
    with _hinted(hints):
        result = run_shapes(
            input_,
            specs,
            plan_file,
            batch=batch,
            dtype=dtype,
            optimizer=optimizer,
            memory=budget,
            inference=inference,
            device=device,
        )
    if collapse is not None:
        from .pictures import with_collapse

        result = with_collapse(result, collapse)
    emit(_with_hints(result, hints), fmt)


@cli.command()
@click.argument("layers", nargs=-1, metavar="PLAN.toml | SPEC...")
@click.option(
    "--in",
    "input_",
    metavar="SHAPE",
    help="Input shape C x sizes; its sizes only say how many spatial axes (optional "
    "with a plan file).",
)
@click.option(
    "--range",
    "range_",
    default="1..4096",
    show_default=True,
    metavar="LO..HI",
    help="The input sizes to try (inclusive).",
)
@click.option(
    "--memory",
    "budget",
    metavar="SIZE",
    help="A memory budget such as 24GiB: also the largest accepted size whose "
    "training (or --inference) total at --batch fits.",
)
@click.option("--inference", is_flag=True, help="With --memory: fit inference, not training.")
@memory_options
@format_option(kinds=("inputs",))
def inputs(layers, input_, range_, budget, inference, batch, dtype, optimizer, device, fmt):
    """Which square input sizes the network accepts: a list, a rule, and why others fail.

    \b
    cnnplan inputs examples/networks/unet.toml --range 1..1024
    cnnplan inputs --in 3x64x64 "conv(8, k=3, s=2); conv(8, k=3, s=2)" --range 1..32
    cnnplan inputs examples/networks/resnet50.toml --memory 24GiB --batch 32
    """
    from .network.inputs import inputs as run_inputs

    specs, plan_file = _plan_file(layers)
    hints = _layout_hints(in_=input_)
    with _hinted(hints):
        result = run_inputs(
            input_,
            specs,
            plan_file,
            range_,
            memory=budget,
            batch=batch,
            dtype=dtype,
            optimizer=optimizer,
            inference=inference,
            device=device,
        )
    emit(_with_hints(result, hints), fmt)


@cli.command()
@click.argument("layers", nargs=-1, metavar="SPEC[->SHAPE]... | PLAN.toml")
@click.option(
    "--in", "input_", metavar="SHAPE", help="Input shape C x sizes (optional with a plan file)."
)
@click.option("--out", "output", metavar="SHAPE", help="Target of the last layer.")
@click.option(
    "--max",
    "maxima",
    multiple=True,
    metavar="NAME=VALUE",
    help="Upper bound for free k, s, p or d in every layer (repeatable; k=11,s=4).",
)
@click.option(
    "--mode",
    type=Choice(["floor", "exact"]),
    default=None,
    help="floor (default): PyTorch's rule; exact: s divides i+2p-k' (no unused rows).",
)
@click.option(
    "--where",
    multiple=True,
    metavar="[N:]EXPR",
    help="Constraint over k, s, p, d for every window layer, or 'N: EXPR' for "
    "layer N only (repeatable).",
)
@click.option(
    "--rank",
    type=Choice(["params", "macs", "rf", "peak", "train"]),
    default=None,
    help="Order of the best chains (default params; peak: inference peak, train: "
    "training total, at --batch and --dtype); ties simplest first.",
)
@click.option(
    "--top",
    type=click.IntRange(0, 1000),
    default=None,
    metavar="N",
    help="How many best chains to list (default 10; 0: only count).",
)
@click.option(
    "--limit",
    type=click.IntRange(min=0),
    default=None,
    metavar="N",
    help="Rows to show of each layer's solution set (default all).",
)
@memory_options
@format_option(kinds=("plan",))
def plan(
    layers,
    input_,
    output,
    maxima,
    mode,
    where,
    rank,
    top,
    limit,
    batch,
    dtype,
    optimizer,
    device,
    fmt,
):
    """Every chain of (k, s, p, d) choices that meets the targets: counted exactly, ranked.

    Any k, s, p, d a spec leaves out is free (bounded as in `cnnplan solve`); any target may
    be left out. Per-layer solution sets are listed where both sides of a layer are fixed.

    \b
    cnnplan plan --in 3x64x64 "conv(64, k=8, d=1) -> 64x32x32" \\
        "maxpool(p=0, d=1) -> 64x8x8" "conv(128, p=0, d=1) -> 128x4x4" --where "2: s == k"
    cnnplan plan --in 3x224x224 --out 512x7x7 "conv(64)" "conv(128)" "conv(256)" \\
        "conv(512)" "conv(512)" --max k=11,s=4,p=5,d=3 --rank macs
    """
    from .planner.dispatch import plan as run_plan

    _check_input_given(input_, layers)
    specs, plan_file = _plan_file(layers)
    progress = _Progress()
    hints = _layout_hints(in_=input_, out=output)
    try:
        with _hinted(hints):
            result = run_plan(
                input_,
                specs,
                plan_file,
                out=output,
                max=maxima,
                mode=mode,
                where=where,
                rank=rank,
                top=top,
                limit=limit,
                progress=progress,
                batch=batch,
                dtype=dtype,
                optimizer=optimizer,
                device=device,
            )
    finally:
        progress.close()
    emit(_with_hints(result, hints), fmt)


@cli.command("import")
@click.argument("target", metavar="FILE.py:NAME | package.module:NAME | MODEL.onnx")
@click.option(
    "--in",
    "input_",
    metavar="SHAPE",
    help="Input shape C x sizes (no batch), e.g. 3x224x224 (an ONNX model's fixed "
    "input needs none).",
)
@click.option(
    "-o",
    "--output",
    metavar="NET.toml",
    help="Write the plan file here (through a temporary file); default stdout.",
)
@click.option(
    "--arg",
    "arguments",
    multiple=True,
    metavar="NAME=VALUE",
    help="Keyword argument for NAME, a Python literal: --arg width=8 (repeatable).",
)
@click.option(
    "--skip-unknown",
    is_flag=True,
    help="Put a shape-preserving identity placeholder, flagged in a comment, where a "
    "node has no cnnplan layer kind (instead of stopping).",
)
@click.option(
    "--output-key",
    metavar="KEY",
    help="The model returns a dict or tuple: the entry (key, or index) the plan ends "
    "in, e.g. --output-key out.",
)
def import_(target, input_, output, arguments, skip_unknown, output_key):
    """Read a PyTorch model into a plan file (needs torch: pip install "cnnplan[torch]").

    NAME is an nn.Module subclass or a function returning one. The model is traced with
    torch.fx, mapped node by node onto cnnplan's layer kinds (names are the model's module
    names), and checked against torch's shapes and parameter count before anything is written.
    A MODEL.onnx file is read node by node (needs onnx: pip install "cnnplan[onnx]") and checked
    against onnx.shape_inference; its dynamic dimensions take --in (docs/frameworks.md).

    \b
    cnnplan import examples/models/reference.py:resnet18 --in 3x224x224 -o resnet18.toml
    cnnplan import model.onnx --in 3x224x224 -o model.toml
    cnnplan import mypackage.models:Net --in 3x32x32 --arg num_classes=10
    """
    import shlex

    from .platform.errors import BadInput
    from .platform.files import check_output, write_atomic

    if output is not None:
        check_output(output)

    command = " ".join(
        ["cnnplan import", shlex.quote(target)]
        + (["--in", shlex.quote(input_)] if input_ else [])
        + [f"--arg {shlex.quote(a)}" for a in arguments]
        + (["--skip-unknown"] if skip_unknown else [])
        + ([f"--output-key {shlex.quote(output_key)}"] if output_key else [])
    )
    if target.lower().endswith(".onnx"):
        from .importers.onnx.model import import_onnx

        if arguments or skip_unknown or output_key:
            raise BadInput(
                "--arg, --skip-unknown and --output-key are for PyTorch models, not ONNX files"
            )
        result = import_onnx(target, input_, command)
    else:
        from .importers.torch.model import import_model

        if input_ is None:
            raise BadInput("a PyTorch model needs --in SHAPE, e.g. --in 3x224x224")
        result = import_model(target, input_, arguments, skip_unknown, command, output_key)
    for note in result.notes:
        click.echo(f"cnnplan: {note}", err=True)
    if output is None:
        click.echo(result.data["plan"], nl=False)
        return
    write_atomic(output, result.data["plan"].encode("utf-8"))
    source = "onnx.shape_inference" if target.lower().endswith(".onnx") else "torch"
    click.echo(
        f"wrote {output}: {result.title}; shapes and parameters checked against {source}", err=True
    )


@cli.command()
@click.option("--all", "show_all", is_flag=True, help="Include the core's own default plugins.")
@format_option(kinds=("plugins",))
def plugins(show_all, fmt):
    """List the loaded plugins: name, version, the hooks they implement, and their status."""
    from .kinds import kinds
    from .platform.host import get_host

    host = get_host()
    host.check()  # run the registration hooks, so a failing one shows in the status
    kinds()
    infos = [i for i in host.infos.values() if show_all or not i.default]
    rows = tuple((i.name, i.version, ", ".join(i.hooks), _status(i)) for i in infos)
    emit(
        Result(
            title=_count_plugins(infos),
            tables=(Table(("name", "version", "hooks", "status"), rows),) if rows else (),
            data=[
                {
                    "name": i.name,
                    "version": i.version,
                    "hooks": i.hooks,
                    "loaded": i.loaded,
                    "errors": i.errors,
                    "shadowed": i.shadowed,
                }
                for i in infos
            ],
            kind="plugins",
        ),
        fmt,
    )


def _status(info) -> str:
    """'ok', or what went wrong and which names were shadowed, for the status column."""
    return "; ".join(info.errors + info.shadowed) or "ok"


def _count_plugins(infos) -> str:
    """'3 plugins loaded', then how many of those had errors and how many failed to load."""
    loaded = [i for i in infos if i.loaded]
    title = f"{len(loaded)} plugin{'s' if len(loaded) != 1 else ''} loaded"
    with_errors = sum(1 for i in loaded if i.errors)
    failed = len(infos) - len(loaded)
    if with_errors:
        title += f" ({with_errors} with errors)"
    if failed:
        title += f", {failed} failed to load"
    return title


@cli.command()
@format_option(kinds=("formats",))
def formats(fmt):
    """List the output formats (reporters), who provides them and what they render."""
    from .platform.host import get_host

    _list_records(get_host().reporters.records(), "format", fmt, renders=True)


@cli.command()
@format_option(kinds=("solvers",))
def solvers(fmt):
    """List the solvers callable from Python (cnnplan.run_solver) and who provides them."""
    from .platform.host import get_host

    _list_records(get_host().solvers.records(), "solver", fmt, arguments=True)


@cli.command()
@format_option(kinds=("kinds",))
def kinds(fmt):
    """List the layer kinds of the spec language: arguments, window rule, who provides them."""
    from .kinds import kinds as layer_kinds
    from .kinds import signature

    rows = [
        {
            "name": k.name,
            "description": k.help,
            "arguments": ", ".join(k.args),
            "signature": signature(k),
            "aliases": ", ".join(k.aliases),
            "window": k.window.rule if k.window else "",
            "join": k.join,
            "outputs": k.outputs,
            "provider": k.provider,
        }
        for k in layer_kinds().values()
    ]
    windows = sum(1 for row in rows if row["window"])
    columns = ("name", "description", "signature", "window", "provider")
    emit(
        Result(
            title=f"{len(rows)} layer kinds ({windows} window kinds, which solve --layer takes)",
            tables=(
                Table(
                    ("name", "description", "arguments", "window", "provider"),
                    tuple(tuple(row[c] for c in columns) for row in rows),
                    wrap=("description", "arguments"),
                ),
            ),
            notes=(
                "arguments: the first is positional (conv(64) is channels=64); name=value is a "
                "default; a bare name is required or has none",
                "window: the rule solve and plan enumerate (conv, pool or convT); --format json "
                "adds each kind's aliases",
            ),
            data=rows,
            kind="kinds",
        ),
        fmt,
    )


def _list_records(records, kind: str, fmt: str, arguments: bool = False, renders=False):
    columns = ("name", "description", "provider") + (("arguments",) if arguments else ())
    rows = [{c: getattr(r, c) for c in columns} for r in records]
    if renders:  # the Result kinds a format renders; "all" for every kind
        for row, record in zip(rows, records):
            row["renders"] = ", ".join(record.kinds) or "all"
    emit(
        Result(
            title=f"{len(records)} {kind}{'s' if len(records) != 1 else ''}",
            tables=(
                Table(
                    tuple(rows[0]) if rows else columns,
                    tuple(tuple(row.values()) for row in rows),
                    wrap=("description", "arguments"),
                ),
            ),
            data=rows,
            kind=f"{kind}s",
        ),
        fmt,
    )


CORE_COMMANDS = dict(cli.commands)


def build_cli() -> click.Group:
    """A fresh command group: the core's commands plus every plugin's, isolated.

    A plugin whose register_commands raises, that replaces a command someone else provides, or
    that failed to load shows as a broken command that explains itself when run.
    """
    from .platform.host import NameTaken, get_host, strict

    host = get_host()
    if strict():
        from .kinds import kinds

        host.check()
        kinds()
    group = CnnplanGroup(
        name="cnnplan",
        callback=cli.callback,
        params=cli.params,
        help=cli.help,
        context_settings=cli.context_settings,
        commands=dict(CORE_COMMANDS),
    )
    owner = dict.fromkeys(group.commands, "cnnplan")
    for provider, function in host.implementations("register_commands"):
        before = dict(group.commands)
        try:
            function(cli=group)
        except Exception as exc:
            group.commands = before
            host.failed(provider, "register_commands failed", exc)
            _add_broken(group, provider, host.infos[provider].errors[-1])
            continue
        for name, command in list(group.commands.items()):
            if name in before and before[name] is not command:
                group.commands[name] = before[name]
                host.clash(NameTaken("command", name, owner[name], provider))
            elif name not in before:
                owner[name] = provider
    for info in host.infos.values():
        if not info.loaded:
            _add_broken(group, info.name, info.errors[-1] if info.errors else "failed to load")
    return group


def _add_broken(group: click.Group, name: str, error: str):
    """A stand-in command for a plugin that could not load (click-plugins' idea)."""
    if name in group.commands:
        return

    def explain(args):
        raise PluginBroken(
            f"plugin {name!r} is broken: {error}. Fix or uninstall it, or run "
            f"with CNNPLAN_LOAD_PLUGINS set to the plugins you want"
        )

    group.add_command(
        click.Command(
            name,
            callback=explain,
            help=f"[broken plugin] {error}",
            short_help="[broken plugin] run it to see why",
            context_settings={"ignore_unknown_options": True},
            params=[click.Argument(["args"], nargs=-1, type=click.UNPROCESSED)],
        )
    )


def main(argv=None, started=None):
    """Run the command line (`started`, if given, is called once it is built: see
    cnnplan/__main__.py)."""
    try:
        group = build_cli()
    except Exception as exc:  # only with CNNPLAN_STRICT_PLUGINS=1: a PluginFailure
        if os.environ.get("CNNPLAN_DEBUG"):
            raise
        _fail(f"{exc} (CNNPLAN_STRICT_PLUGINS is set; CNNPLAN_DEBUG=1 shows the traceback)", 1)
    if started is not None:
        started()
    group.main(args=argv)

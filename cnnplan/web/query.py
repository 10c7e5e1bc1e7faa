"""An API query turned into the `cnnplan` command line it stands for (pure, no I/O).

Keys are the command's long option names without dashes (`in`, `out`, `fix`, `per-axis`), or
`spec` for its layer-spec arguments; repeatable options may repeat; flags take 1/true/yes/on
or 0/false/no/off. Values are passed as `--name=value`, specs after `--`, so no value can
become an option; a spec naming a plan file (*.toml) is refused: the API reads only what the
request carries (a plan file comes as the POST body). The command itself then checks everything as it does on a terminal.
"""

from __future__ import annotations

COMMANDS = ("solve", "shapes", "plan", "inputs")
MAX_QUERY = 20_000  # characters of all keys and values together
MAX_ITEMS = 200  # key=value pairs
TRUE, FALSE = ("1", "true", "yes", "on"), ("", "0", "false", "no", "off")


class QueryError(ValueError):
    """A query that does not fit the command (HTTP 400)."""


def options_of(command: str) -> dict:
    """{query key: click parameter} of a core command."""
    import click

    from ..cli import CORE_COMMANDS

    params: dict[str, click.Parameter] = {}
    for param in CORE_COMMANDS[command].params:
        if isinstance(param, click.Argument):
            params["spec"] = param
        else:
            long = [o for o in param.opts if o.startswith("--")]
            if long and long[0] not in ("--help",):
                params[long[0][2:]] = param
    return params


def argv_for(command: str, items: list[tuple[str, str]]) -> tuple[list[str], str]:
    """(argv after `cnnplan`, the output format) for the query `items` of `command`."""
    if len(items) > MAX_ITEMS or sum(len(k) + len(v) for k, v in items) > MAX_QUERY:
        raise QueryError(
            f"the query is too long (at most {MAX_ITEMS} values and {MAX_QUERY:,} characters)"
        )
    params = options_of(command)
    argv, specs, fmt, seen = [command], [], "json", set()
    for key, value in items:
        if key not in params:
            raise QueryError(
                f"unknown parameter {key!r} for {command}; choose from {', '.join(sorted(params))}"
            )
        if "\x00" in value:
            raise QueryError(f"parameter {key!r} contains a NUL character (%00)")
        if key == "spec" and value.strip().lower().endswith(".toml"):
            raise QueryError(
                "the API reads no file of the server's: POST the plan file as the request body"
            )
        param = params[key]
        if key in seen and not (getattr(param, "multiple", False) or key == "spec"):
            raise QueryError(f"parameter {key!r} is given twice")
        seen.add(key)
        if key == "spec":
            specs.append(value)
        elif key == "format":
            fmt = value
        elif getattr(param, "is_flag", False):
            if value.lower() not in TRUE + FALSE:
                raise QueryError(f"parameter {key!r} is a flag: give 1 or 0, not {value!r}")
            if value.lower() in TRUE:
                argv.append(f"--{key}")
        else:
            argv.append(f"--{key}={value}")
    argv.append(f"--format={fmt}")
    return argv + (["--", *specs] if specs else []), fmt


def describe() -> dict:
    """{command: {key: {"choices": [...], "default": ...}}} for the options with choices."""
    import click

    about = {}
    for command in COMMANDS:
        about[command] = {
            key: {"choices": list(param.type.choices), "default": param.default}
            for key, param in options_of(command).items()
            if isinstance(param.type, click.Choice)
        }
    return about

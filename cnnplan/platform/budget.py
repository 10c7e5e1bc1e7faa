"""One work budget per command: every part a command calls (searches, the planner, `inputs`,
`--where` conditions, forward passes) charges the same budget, so no question runs longer
than about two seconds of CPU however its parts combine.

A command (the CLI's, or a library call such as `cnnplan.solve`) runs inside
`command_budget()`; a call nested in another shares the outer budget. `charge(units)` outside
any command does nothing. A unit is well under a microsecond of CPU; the limit is
COMMAND_WORK units, and WorkTooLarge (exit 2) says so in one line. Units make the limit the
same on every machine; as a backstop for work the units misjudge, a command line (the CLI and
the server's workers, which must answer within 5 s of CPU) that has used COMMAND_SECONDS of
processor time is stopped at its next charge too (checked every CHECK_EVERY units, so the
check costs nothing measurable). Library calls have no time backstop: a script may wait.
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar

from .errors import BadInput

COMMAND_WORK = 4_000_000  # units of work one command may spend (about two seconds)
COMMAND_SECONDS = 4.0  # processor time one command may use (the backstop)
CHECK_EVERY = 20_000  # units between two looks at the clock


class WorkTooLarge(BadInput):
    """A question whose parts together need more than the command's work budget (exit 2)."""

    def __init__(self, limit: int, what: str = ""):
        super().__init__(
            f"the question is too large (over {limit:,} steps of work"
            f"{' in ' + what if what else ''}); narrow it (--fix, --max, --where, "
            "--range, fewer layers)"
        )


class CommandBudget:
    def __init__(self, limit: int = COMMAND_WORK, seconds: float | None = None):
        import time

        self.limit, self.used, self.seconds = limit, 0, seconds
        self.clock = time.process_time
        self.deadline = self.clock() + seconds if seconds is not None else float("inf")
        self.next_check = CHECK_EVERY

    def spend(self, units: int, what: str = "") -> None:
        self.used += units
        if self.used > self.limit:
            raise WorkTooLarge(self.limit, what)
        if self.used >= self.next_check:
            self.next_check = self.used + CHECK_EVERY
            if self.clock() > self.deadline:
                raise BadInput(
                    f"the question needs more than {self.seconds:g} s of processor "
                    "time; narrow it (--fix, --max, --where, --range, fewer layers)"
                )


_CURRENT: ContextVar[CommandBudget | None] = ContextVar("cnnplan_command_budget", default=None)


@contextmanager
def command_budget(limit: int = COMMAND_WORK, seconds: float | None = None):
    """Run a command within one budget (shared with any command nested inside it); `seconds`:
    the processor-time backstop (None: none)."""
    current = _CURRENT.get()
    if current is not None:
        yield current
        return
    token = _CURRENT.set(CommandBudget(limit, seconds))
    try:
        yield _CURRENT.get()
    finally:
        _CURRENT.reset(token)


def budgeted(function):
    """Decorator: `function` runs as a command within one budget (see command_budget)."""
    import functools

    @functools.wraps(function)
    def run(*args, **kwargs):
        with command_budget():
            return function(*args, **kwargs)

    return run


def charge(units: int, what: str = "") -> None:
    """Spend `units` of the running command's budget (WorkTooLarge when it is spent)."""
    current = _CURRENT.get()
    if current is not None:
        current.spend(units, what)

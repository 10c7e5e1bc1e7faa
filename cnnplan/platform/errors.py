"""The two ways a question can fail: bad input (exit 2) and no answer (exit 1)."""


class CnnplanError(Exception):
    """Base class of every error cnnplan reports to a user as one line."""

    exit_code = 2


class BadInput(CnnplanError):
    """Something the user typed is malformed, out of range or inconsistent (exit 2)."""

    exit_code = 2


class NoSolution(CnnplanError):
    """A well-formed question that has no answer (exit 1)."""

    exit_code = 1


class CannotWrite(CnnplanError):
    """An output file that cannot be written (exit 1, as an output that cannot be shown)."""

    exit_code = 1


def number_error(exc: ValueError) -> str:
    """The reason a parser refused a number, in one line: Python's limit on the digits of an
    integer (4,300 by default) is said as such, without naming internals."""
    import sys

    text = str(exc)
    if "integer string conversion" in text:
        return (f"a number has more than {sys.get_int_max_str_digits():,} digits, the most "
                "cnnplan reads")
    return text.splitlines()[0] if text else type(exc).__name__

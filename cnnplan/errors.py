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

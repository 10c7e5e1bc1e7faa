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
        return (
            f"a number has more than {sys.get_int_max_str_digits():,} digits, the most "
            "cnnplan reads"
        )
    return text.splitlines()[0] if text else type(exc).__name__


def nearest_word(word, choices) -> str | None:
    """The one of `choices` closest to a misspelt `word` (any case), or None when none is
    close (difflib's ratio below 0.6): 'comv' -> 'conv', 'ConvTranspos2d' -> 'convtranspose2d'."""
    if not isinstance(word, str) or not word:
        return None
    from difflib import get_close_matches

    lower: dict[str, str] = {}
    for choice in choices:
        lower.setdefault(str(choice).lower(), str(choice))
    found = get_close_matches(word.lower()[:100], list(lower), n=1, cutoff=0.6)
    return lower[found[0]] if found else None


def unknown_message(what: str, word, choices, listing=None) -> str:
    """'unknown layer kind 'comv'; did you mean conv?' when one of `choices` is close, else
    'unknown layer kind 'xyz'; choose one of: a, b, c' (`listing`: the words to list, default
    `choices`)."""
    near = nearest_word(word, choices)
    if near is not None:
        return f"unknown {what} {word!r}; did you mean {near}?"
    return f"unknown {what} {word!r}; choose one of: {', '.join(map(str, listing or choices))}"

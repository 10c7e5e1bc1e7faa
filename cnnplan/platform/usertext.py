"""User text as data: the one check for what users type and the one escape every output uses.

Control characters (C0 and C1 controls, NUL, DEL), invisible format characters (zero-width
spaces and joiners, bidi embeddings, overrides and isolates, the BOM, line and paragraph
separators) and lone surrogates are refused where text comes in (`check_text`, `check_strings`
for a whole plan document) and shown as visible escapes (`\\u202e`) where text goes out
(`visible`): in one-line contexts such as a generated Python comment, a LaTeX comment, an error
message or an SVG label, a newline is escaped too, so no text can leave its line.
"""

from __future__ import annotations

import functools
import re

from .errors import BadInput

# tab and newline are not in CONTROL: contexts that allow them (a multi-line description, a
# table cell) keep them; one-line contexts escape them with `visible(text, one_line=True)`
CONTROL_CHARACTERS = (
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f"
    "\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb"
    "\ud800-\udfff]"
)
MAX_DEPTH = 64


_BREAKS = {9: None, 10: None}


def _plain(text: str, one_line: bool) -> bool:
    """Printable ASCII (with tabs and newlines unless `one_line`): nothing to find, so no
    pattern is compiled (the character class costs a few milliseconds, which start-up would
    pay)."""
    return text.isascii() and (
        text.isprintable() or (not one_line and text.translate(_BREAKS).isprintable())
    )


@functools.cache
def _pattern(one_line: bool) -> re.Pattern:
    return re.compile(CONTROL_CHARACTERS[:-1] + ("\t\n]" if one_line else "]"))


def _escape(match: re.Match) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text, one_line: bool = False) -> str:
    """`text` with every control or invisible character written as a visible escape
    ('\\x00', '\\u202e'); with one_line also tabs and newlines.

    >>> visible("a\\u202eb\\nc", one_line=True)
    'a\\\\u202eb\\\\x0ac'
    """
    text = str(text)
    return text if _plain(text, one_line) else _pattern(one_line).sub(_escape, text)


def check_text(text: str, what: str, multiline: bool = False) -> str:
    """`text` if it holds no control or invisible character (newlines and tabs only when
    `multiline`), else BadInput naming the first one and where it is."""
    found = None if _plain(text, not multiline) else _pattern(not multiline).search(text)
    if found:
        code = ord(found.group())
        raise BadInput(
            f"{what} holds the control character U+{code:04X} at character "
            f"{found.start() + 1}; write plain text"
        )
    return text


def check_strings(value, what: str, multiline=(), depth: int = 0):
    """Check every key and text in a parsed document (TOML, JSON) with `check_text`; keys
    named in `multiline` may hold several lines. Returns `value`."""
    if depth > MAX_DEPTH:
        raise BadInput(f"{what} is nested too deeply")
    if isinstance(value, str):
        check_text(value, what)
    elif isinstance(value, dict):
        for key, item in value.items():
            check_text(str(key), f"{what}: a key")
            if isinstance(item, str):
                check_text(item, f"{what}: {key}", multiline=key in multiline)
            else:
                check_strings(item, f"{what}: {key}", multiline, depth + 1)
    elif isinstance(value, (list, tuple)):
        for item in value:
            check_strings(item, what, multiline, depth + 1)
    return value

"""Console transcripts in markdown: ```console blocks of `$ cnnplan ...` lines and their output.

README.md, docs/ and examples/ show real runs this way; `python tests/transcripts.py FILE...`
re-runs every command and rewrites the output, and tests/test_transcripts.py checks that they
still match.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys

FENCE = re.compile(r"^```console\n(.*?)^```$", re.S | re.M)


def blocks(text: str):
    """(start, end, [(command, expected_output)]) for each console block of a markdown text."""
    for match in FENCE.finditer(text):
        runs, command, lines = [], None, []
        for line in match.group(1).splitlines():
            if line.startswith("$ "):
                if command is not None:
                    runs.append((command, "\n".join(lines)))
                command, lines = line[2:], []
            else:
                lines.append(line)
        if command is not None:
            runs.append((command, "\n".join(lines)))
        yield match.start(1), match.end(1), runs


def run(command: str, cwd: str) -> str:
    """Run a transcript command (argv split like a shell, no shell) and return what a terminal
    shows: stdout and stderr interleaved in the order they were written."""
    argv = shlex.split(command)
    env = dict(os.environ, COLUMNS="100", CNNPLAN_STRICT_PLUGINS="", PYTHONUNBUFFERED="1")
    if argv and argv[0] == "cnnplan":
        argv[0] = os.path.join(os.path.dirname(sys.executable), "cnnplan")
    proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          cwd=cwd, env=env, timeout=300)
    return proc.stdout.rstrip("\n")


def update(path: str) -> bool:
    """Rewrite the outputs of every console block in `path`; True if anything changed."""
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    cwd = os.path.dirname(os.path.abspath(path))
    pieces, last = [], 0
    for start, end, runs in blocks(text):
        lines = []
        for command, _ in runs:
            output = run(command, cwd)
            lines += [f"$ {command}"] + ([output] if output else [])
        pieces += [text[last:start], "\n".join(lines) + "\n"]
        last = end
    new = "".join(pieces) + text[last:]
    if new != text:
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(new)
    return new != text


if __name__ == "__main__":
    for name in sys.argv[1:]:
        print(f"{'updated' if update(name) else 'unchanged'}: {name}")

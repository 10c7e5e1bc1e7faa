"""Real command output shown in the repository, and how to refresh it.

Two forms:
- ```console blocks in markdown (README.md, docs/, examples/): `$ cnnplan ...` lines, each
  followed by what a terminal shows (stdout and stderr, interleaved);
- `outputs.toml` manifests in examples/ folders: `"FILE" = "cnnplan ..."`, FILE holding exactly
  the command's stdout.

`python tests/transcripts.py PATH...` re-runs the commands of each markdown file or manifest
and rewrites the output; tests/test_transcripts.py checks that they all still match.
Commands run from the repository root, as a reader who copies them would, split like a shell
(no shell); paths in them are relative to the root.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import tomllib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
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


def manifest(path: str) -> dict[str, str]:
    """FILE -> command, from an outputs.toml manifest."""
    with open(path, "rb") as handle:
        return tomllib.load(handle)


def run(command: str, cwd: str = ROOT, terminal: bool = True) -> str:
    """Run a command; return what a terminal shows (stdout and stderr interleaved in the order
    they were written, final newlines dropped), or with terminal=False stdout exactly."""
    argv = shlex.split(command)
    # a terminal 100 columns wide (notes wrap to it); a file gets stdout as piped, unwrapped
    env = dict(os.environ, COLUMNS="100" if terminal else "", CNNPLAN_STRICT_PLUGINS="",
               PYTHONUNBUFFERED="1")
    if argv and argv[0] == "cnnplan":
        argv[0] = os.path.join(os.path.dirname(sys.executable), "cnnplan")
    proc = subprocess.run(argv, stdout=subprocess.PIPE, text=True, cwd=cwd, env=env,
                          stderr=subprocess.STDOUT if terminal else subprocess.PIPE, timeout=300)
    if not terminal and proc.returncode not in (0, 1):
        raise RuntimeError(f"{command} failed: {proc.stderr.strip()}")
    return proc.stdout.rstrip("\n") if terminal else proc.stdout


def update(path: str) -> bool:
    """Refresh the outputs of a markdown file or an outputs.toml manifest; True if any changed."""
    folder = os.path.dirname(os.path.abspath(path))
    if path.endswith(".toml"):
        changed = False
        for name, command in manifest(path).items():
            changed |= _write(os.path.join(folder, name), run(command, terminal=False))
        return changed
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    pieces, last = [], 0
    for start, end, runs in blocks(text):
        lines = []
        for command, _ in runs:
            output = run(command)
            lines += [f"$ {command}"] + ([output] if output else [])
        pieces += [text[last:start], "\n".join(lines) + "\n"]
        last = end
    return _write(path, "".join(pieces) + text[last:])


def _write(path: str, text: str) -> bool:
    try:
        with open(path, encoding="utf-8") as handle:
            if handle.read() == text:
                return False
    except OSError:
        pass
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)
    return True


if __name__ == "__main__":
    for name in sys.argv[1:]:
        print(f"{'updated' if update(name) else 'unchanged'}: {name}")

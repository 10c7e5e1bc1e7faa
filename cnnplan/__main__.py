"""`cnnplan` on the command line: the console script and `python -m cnnplan`.

Start-up makes many objects that live as long as the process (modules, classes, click's
commands, the plugins and layer kinds), and the cyclic garbage collector would walk them over
and over while they are made. So the collector is paused while the command line is built, and
what exists then is frozen (`gc.freeze`: kept, never walked again); the command itself runs with
the collector on. This takes about 7 % off a short command's start-up (docs/speed.md).
"""

import gc
import sys


def _started():
    gc.freeze()
    gc.enable()


def main(argv=None):
    """Console-script entry point."""
    gc.disable()
    from .cli import main as run

    run(argv, started=_started)


if __name__ == "__main__":
    sys.exit(main())

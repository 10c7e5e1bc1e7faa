"""The `cnnplan serve` command (registered by the core's default plugin)."""

from __future__ import annotations

import click


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (the default is reachable from this machine only).")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True,
              help="Port to listen on.")
def serve(host, port):
    """A local web page: solve as you type, see the diagrams; a network tab for specs and plans.

    \b
    cnnplan serve            # then open http://127.0.0.1:8000/
    """
    try:
        import starlette  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError:
        raise click.ClickException("cnnplan serve needs Starlette and uvicorn: "
                                   "pip install 'cnnplan[web]'") from None
    from .app import serve as run

    click.echo(f"cnnplan: serving http://{host}:{port}/ (Ctrl-C stops)", err=True)
    run(host, port)

"""The `cnnplan serve` command (registered by the core's default plugin)."""

from __future__ import annotations

import ipaddress

import click


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def listen(host: str, port: int):
    """A socket bound to (host, port) and listening, or a one-line error (exit 1)."""
    import socket

    try:
        infos = socket.getaddrinfo(
            host.strip("[]"), port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )
        family, kind, proto, _, address = infos[0]
        sock = socket.socket(family, kind, proto)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(2048)
    except (OSError, UnicodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise click.ClickException(f"cannot listen on {host}:{port}: {reason}") from None
    return sock


@click.command()
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on (the default is reachable from this machine only).",
)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8000,
    show_default=True,
    help="Port to listen on.",
)
@click.option(
    "--allow-host",
    "allowed",
    multiple=True,
    metavar="NAME",
    help="Another host name the page may be opened as (repeatable); requests for "
    "any other name are refused.",
)
def serve(host, port, allowed):
    """A local web page: solve as you type, see the diagrams; a network tab for specs and plans.

    \b
    cnnplan serve            # then open http://127.0.0.1:8000/
    """
    try:
        import starlette  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError:
        raise click.ClickException(
            "cnnplan serve needs Starlette and uvicorn: pip install 'cnnplan[web]'"
        ) from None
    from .app import LOOPBACK
    from .app import serve as run

    sock = listen(host, port)
    port = sock.getsockname()[1]
    hosts = (*LOOPBACK, *allowed) + (() if host in ("0.0.0.0", "::") else (host,))
    if not _is_loopback(host):
        click.echo(
            f"cnnplan: warning: --host {host} opens the page to the network: anyone who "
            "can reach this machine can run questions on it",
            err=True,
        )
    click.echo(f"cnnplan: serving http://{host}:{port}/ (Ctrl-C stops)", err=True)
    run(host, port, sock=sock, hosts=hosts)

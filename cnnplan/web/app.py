"""The ASGI app behind `cnnplan serve` (Starlette): the page, its assets, and a JSON API.

`GET /api/solve?in=3x64x64&out=64x32x32&fix=k=8` answers with exactly what
`cnnplan solve --in 3x64x64 --out 64x32x32 --fix k=8 --format json` prints. Each API request
runs the `cnnplan` command itself in a child process: the query's keys are the command's long
option names (`spec` for layer specs), so the API takes what the command takes, is checked
the same way and shares its budgets; on top, a request has WALL_SECONDS and MEMORY_BYTES, and
at most WORKERS run at once. Bad input: 400 with {"error": "<the command's one-line message>"}.
A plan file is POSTed as the body (TOML) to /api/shapes or /api/plan.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from importlib import resources

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .query import COMMANDS, QueryError, argv_for, describe

WALL_SECONDS = 30.0
MEMORY_BYTES = 4 << 30
WORKERS = 2
MAX_BODY = 1 << 20
MEDIA = {"json": "application/json", "svg": "image/svg+xml", "svg-animated": "image/svg+xml",
         "html": "text/html; charset=utf-8"}
ASSETS = {"/": ("index.html", "text/html; charset=utf-8"),
          "/app.js": ("app.js", "text/javascript; charset=utf-8"),
          "/style.css": ("style.css", "text/css; charset=utf-8")}


def picture_styles() -> str:
    """The CSP sources that allow the pictures' own <style> elements (the page puts the SVG
    documents into itself): each stylesheet by its SHA-256, nothing else inline."""
    import base64
    import hashlib

    from ..pictures import layer, network
    from ..pictures.svg import stylesheet

    return " ".join("'sha256-" + base64.b64encode(hashlib.sha256(
        stylesheet(m.STYLE).encode("utf-8")).digest()).decode("ascii") + "'"
        for m in (layer, network))


HEADERS = {"Content-Security-Policy": "default-src 'self'; img-src 'self' blob: data:; "
                                      f"style-src 'self' {picture_styles()}; "
                                      "object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
           "X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"}


def error(message: str, status: int = 400) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=HEADERS)


def _limit_memory():  # runs in the child before it starts
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_BYTES, MEMORY_BYTES))


async def run_command(argv: list[str], cwd: str | None = None) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of `cnnplan ARGV` in a child process within the budgets."""
    env = dict(os.environ, CNNPLAN_DEBUG="", COLUMNS="100")
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", "from cnnplan.cli import main; main()", *argv, cwd=cwd, env=env,
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE, preexec_fn=_limit_memory)
    try:
        out, err = await asyncio.wait_for(proc.communicate(), WALL_SECONDS)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        return -1, "", ""
    assert proc.returncode is not None  # communicate() waited for the exit
    return proc.returncode, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")


def _one_line(stderr: str) -> str:
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    text = lines[-1] if lines else "the command failed"
    return text[len("Error: "):] if text.startswith("Error: ") else text


def build_app() -> Starlette:
    """The app: static page and assets from the package, and /api/<command>."""
    workers = asyncio.Semaphore(WORKERS)

    async def asset(request: Request) -> Response:
        name, media = ASSETS[request.url.path]
        body = resources.files("cnnplan.web").joinpath("static", name).read_bytes()
        return Response(body, media_type=media, headers=HEADERS)

    async def api(request: Request) -> Response:
        command = request.path_params["command"]
        if command not in COMMANDS:
            return error(f"unknown API {command!r}; choose one of: {', '.join(COMMANDS)}", 404)
        try:
            argv, fmt = argv_for(command, list(request.query_params.multi_items()))
            body = await request.body() if request.method == "POST" else b""
            if len(body) > MAX_BODY:
                raise QueryError(f"the plan is larger than {MAX_BODY:,} bytes")
            if body and command not in ("shapes", "plan", "inputs"):
                raise QueryError(f"/api/{command} takes no body")
        except QueryError as exc:
            return error(str(exc))
        async with workers:
            with tempfile.TemporaryDirectory(prefix="cnnplan-serve-") as folder:
                if body:
                    with open(os.path.join(folder, "plan.toml"), "wb") as handle:
                        handle.write(body)
                    argv = argv[:1] + ["plan.toml"] + argv[1:]
                code, out, err = await run_command(argv, cwd=folder)
        if code == -1:
            return error(f"the question took longer than {WALL_SECONDS:g} s; narrow it "
                         "(--fix, --max, --where)", 503)
        if code in (0, 1):
            return Response(out.rstrip("\n") + "\n", headers={**HEADERS, "X-Cnnplan-Exit": str(code)},
                            media_type=MEDIA.get(fmt, "text/plain; charset=utf-8"))
        if code == 2:
            return error(_one_line(err))
        return error(f"internal error: {_one_line(err)}", 500)

    async def health(request: Request) -> Response:
        from ..platform import VERSION as __version__

        return JSONResponse({"cnnplan": __version__, "api": list(COMMANDS), "options": describe()},
                            headers=HEADERS)

    routes = [Route(path, asset) for path in ASSETS]
    routes += [Route("/api/{command}", api, methods=["GET", "POST"]),
               Route("/api", health)]
    return Starlette(routes=routes)


def serve(host: str = "127.0.0.1", port: int = 8000) -> None:
    """Run the page with uvicorn until interrupted."""
    import uvicorn

    uvicorn.run(build_app(), host=host, port=port, log_level="warning")


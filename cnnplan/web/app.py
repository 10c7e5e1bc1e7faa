"""The ASGI app behind `cnnplan serve` (Starlette): the page, its assets, and a JSON API.

`GET /api/solve?in=3x64x64&out=64x32x32&fix=k=8` answers with exactly what
`cnnplan solve --in 3x64x64 --out 64x32x32 --fix k=8 --format json` prints. Each API request
runs the `cnnplan` command in a pre-started worker process (cnnplan.web.pool): the query's keys
are the command's long option names (`spec` for layer specs), so the API takes what the
command takes, is checked the same way and shares its budgets; on top, a request has
WALL_SECONDS, CPU_SECONDS, MEMORY_BYTES and MAX_RESPONSE characters of answer. Bad input: 400
with {"error": "<the command's one-line message>"}. A plan file is POSTed as the body (TOML)
to /api/shapes, /api/plan or /api/inputs; the API reads no file of the server's.

Every answer, errors included, is JSON or the command's output with the same security headers;
a request whose Host is not one the server was started for is refused (DNS rebinding).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
from importlib import resources

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .pool import Overrun, Pool
from .query import COMMANDS, QueryError, argv_for, describe

WALL_SECONDS = 30.0
CPU_SECONDS = 30
MEMORY_BYTES = 4 << 30
MAX_BODY = 1 << 20
MAX_RESPONSE = 8_000_000  # characters of one answer
POOL_SIZE = 4  # workers kept free for fast questions
MAX_WORKERS = 8  # with spares started while slow questions run
LOOPBACK = ("127.0.0.1", "localhost", "::1", "[::1]")
MEDIA = {
    "json": "application/json",
    "svg": "image/svg+xml",
    "svg-animated": "image/svg+xml",
    "html": "text/html; charset=utf-8",
}
ASSETS = {
    "/": ("index.html", "text/html; charset=utf-8"),
    "/app.js": ("app.js", "text/javascript; charset=utf-8"),
    "/style.css": ("style.css", "text/css; charset=utf-8"),
}


def picture_styles() -> str:
    """The CSP sources that allow the pictures' own <style> elements (the page puts the SVG
    documents into itself): each stylesheet by its SHA-256, nothing else inline."""
    import base64
    import hashlib

    from ..pictures import layer, network
    from ..pictures.svg import stylesheet

    return " ".join(
        "'sha256-"
        + base64.b64encode(hashlib.sha256(stylesheet(m.STYLE).encode("utf-8")).digest()).decode(
            "ascii"
        )
        + "'"
        for m in (layer, network)
    )


HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' blob: data:; "
    f"style-src 'self' {picture_styles()}; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}
OVERRUNS = {
    "time": f"the question took longer than {WALL_SECONDS:g} s; narrow it (--fix, --max, --where)",
    "cpu": f"the question used more than {CPU_SECONDS} s of CPU; narrow it (--fix, --max, --where)",
    "memory": f"the question needs more than {MEMORY_BYTES >> 30} GiB of memory; narrow it",
    "output": f"the answer is longer than {MAX_RESPONSE:,} characters; narrow the question "
    "(--limit, --top) or run the command",
    "busy": "the server is busy; try again in a moment",
}


def host_name(header: bytes) -> str:
    """The name in a Host header, without its port: 'localhost:8000' -> 'localhost'."""
    text = header.decode("latin-1").strip().lower()
    if text.startswith("["):
        return text.split("]", 1)[0] + "]"
    return text.rsplit(":", 1)[0]


def error(message: str, status: int = 400) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=HEADERS)


class Guard:
    """ASGI middleware: refuse a Host the server was not started for, and put the security
    headers on every response (errors from the framework included)."""

    def __init__(self, app, hosts, pool=None):
        self.app, self.hosts, self.pool = app, {h.lower() for h in hosts}, pool
        self.raw = [(k.lower().encode(), v.encode()) for k, v in HEADERS.items()]

    def host_ok(self, scope) -> bool:
        return host_name(dict(scope.get("headers") or ()).get(b"host", b"")) in self.hosts

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        if not self.host_ok(scope):
            return await error(
                "this server answers only requests for "
                f"{', '.join(sorted(self.hosts))} (the Host header differs)",
                400,
            )(scope, receive, send)

        async def with_headers(message):
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", ())}
                message["headers"] = list(message.get("headers", ())) + [
                    (k, v) for k, v in self.raw if k not in present
                ]
            await send(message)

        await self.app(scope, receive, with_headers)


async def read_body(request: Request) -> bytes:
    """The request body, refused (413) as soon as it passes MAX_BODY."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY:
        raise HTTPException(413, f"the plan is larger than {MAX_BODY:,} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            raise HTTPException(413, f"the plan is larger than {MAX_BODY:,} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


async def _client_gone(receive):
    while (await receive())["type"] != "http.disconnect":
        pass


def _one_line(stderr: str) -> str:
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    text = lines[-1] if lines else "the command failed"
    return text[len("Error: ") :] if text.startswith("Error: ") else text


def build_app(hosts=LOOPBACK, pool_size: int = POOL_SIZE, max_workers: int = MAX_WORKERS):
    """The app: static page and assets from the package, and /api/<command>, answered by a
    pool of workers started with the app. `hosts`: the Host names it answers."""
    pool = Pool(size=pool_size, max_workers=max_workers, memory_bytes=MEMORY_BYTES)

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
            body = await read_body(request) if request.method == "POST" else b""
            if body and command not in ("shapes", "plan", "inputs"):
                raise QueryError(f"/api/{command} takes no body")
        except QueryError as exc:
            return error(str(exc))
        task = {
            "argv": argv,
            "body": base64.b64encode(body).decode() if body else None,
            "cpu_seconds": CPU_SECONDS,
            "max_output": MAX_RESPONSE,
        }
        run = asyncio.ensure_future(pool.run(task, WALL_SECONDS))
        gone = asyncio.ensure_future(_client_gone(request.receive))
        try:
            await asyncio.wait({run, gone}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            gone.cancel()
            if not run.done():  # the client hung up: stop its work
                run.cancel()
                with contextlib.suppress(BaseException):
                    await run
        if run.cancelled():
            return error("the client went away", 503)
        try:
            answer = run.result()
        except Overrun as exc:
            return error(OVERRUNS[exc.reason], 503)
        code = answer["code"]
        if code in (0, 1):
            return Response(
                answer["out"].rstrip("\n") + "\n",
                headers={**HEADERS, "X-Cnnplan-Exit": str(code)},
                media_type=MEDIA.get(fmt, "text/plain; charset=utf-8"),
            )
        if code == 2:
            return error(_one_line(answer["err"]))
        return error(f"internal error: {_one_line(answer['err'])}", 500)

    async def health(request: Request) -> Response:
        from ..platform import VERSION as __version__

        return JSONResponse(
            {
                "cnnplan": __version__,
                "api": list(COMMANDS),
                "options": describe(),
                "pool": dict(pool.stats, workers=pool.live, slow=pool.slow),
            },
            headers=HEADERS,
        )

    async def http_error(request: Request, exc: HTTPException) -> Response:
        detail = (
            exc.detail
            if exc.status_code == 413
            else {
                404: f"no page at {request.url.path[:200]!r}",
                405: f"{request.method} is not allowed here",
            }.get(exc.status_code, exc.detail)
        )
        return error(detail, exc.status_code)

    async def crash(request: Request, exc: Exception) -> Response:
        return error(f"internal error ({type(exc).__name__}); please report it", 500)

    @contextlib.asynccontextmanager
    async def lifespan(app):
        await pool.start()
        try:
            yield
        finally:
            await pool.close()

    routes = [Route(path, asset) for path in ASSETS]
    routes += [Route("/api/{command}", api, methods=["GET", "POST"]), Route("/api", health)]
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={
            HTTPException: http_error,  # type: ignore[dict-item]  # starlette's handler type is narrower than its use
            Exception: crash,
        },
    )
    return Guard(app, hosts, pool)


def serve(host: str = "127.0.0.1", port: int = 8000, sock=None, hosts=LOOPBACK) -> None:
    """Run the page with uvicorn until interrupted (on `sock` if given, already bound)."""
    import uvicorn

    server = uvicorn.Server(
        uvicorn.Config(build_app(hosts), host=host, port=port, log_level="warning")
    )
    server.run(sockets=[sock] if sock is not None else None)

"""A `cnnplan serve` app running on 127.0.0.1 in a background thread, for the server and
browser tests (import the `server` fixture from here)."""

from __future__ import annotations

import json
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest


@pytest.fixture(scope="module")
def server():
    """The base URL of a running app (module-scoped: started once per test module)."""
    pytest.importorskip("starlette")
    uvicorn = pytest.importorskip("uvicorn")
    from cnnplan.web.app import build_app

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(build_app(), host="127.0.0.1", port=port, log_level="warning")
    instance = uvicorn.Server(config)
    thread = threading.Thread(target=instance.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not instance.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    instance.should_exit = True
    thread.join(timeout=10)


def fetch(url: str, params=(), body: bytes | None = None):
    """(status, headers, body text) of a GET (or POST with `body`) to the test server."""
    query = urllib.parse.urlencode(list(params))
    request = urllib.request.Request(url + ("?" + query if query else ""), data=body,
                                     method="POST" if body is not None else "GET")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, dict(response.headers), response.read().decode("utf-8")
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read().decode("utf-8")


def fetch_json(url: str, params=(), body=None):
    status, headers, text = fetch(url, params, body)
    return status, json.loads(text)

"""`cnnplan serve`: the API answers exactly what the command prints, bad input is a 400 with
the command's one-line message, everything it shows is escaped, the page is served from the
package, and it listens on 127.0.0.1 unless told otherwise."""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET

import pytest

from web_support import fetch, fetch_json, server  # noqa: F401  (server is a fixture)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
Q6 = os.path.join(ROOT, "examples", "networks", "q6.toml")

QUESTIONS = [
    ("solve", [("in", "3x64x64"), ("out", "64x32x32"), ("fix", "k=8")],
     ["--in", "3x64x64", "--out", "64x32x32", "--fix", "k=8"]),
    ("solve", [("in", "64x32x32"), ("out", "64x8x8"), ("layer", "pool"), ("max", "p=0"),
               ("where", "s == k")],
     ["--in", "64x32x32", "--out", "64x8x8", "--layer", "pool", "--max", "p=0", "--where",
      "s == k"]),
    ("solve", [("in", "3x10x10"), ("out", "3x40x40"), ("layer", "pool")],      # no solution
     ["--in", "3x10x10", "--out", "3x40x40", "--layer", "pool"]),
    ("solve", [("in", "1x9x8"), ("out", "1x4x4"), ("fix", "k=3"), ("per-axis", "1"),
               ("mode", "floor")],
     ["--in", "1x9x8", "--out", "1x4x4", "--fix", "k=3", "--per-axis", "--mode", "floor"]),
    ("shapes", [("in", "3x256x256"), ("spec", "conv(64, k=8, s=2)"), ("spec", "maxpool(k=5)"),
                ("spec", "conv(128, k=4, p=1)")],
     ["--in", "3x256x256", "conv(64, k=8, s=2)", "maxpool(k=5)", "conv(128, k=4, p=1)"]),
    ("inputs", [("in", "3x64x64"), ("spec", "conv(8, k=3, s=2)"), ("spec", "conv(8, k=3)"),
                ("range", "1..40")],
     ["--in", "3x64x64", "conv(8, k=3, s=2)", "conv(8, k=3)", "--range", "1..40"]),
    ("plan", [("in", "3x64x64"), ("spec", "conv(64, k=8, d=1) -> 64x32x32"),
              ("spec", "maxpool(p=0, d=1) -> 64x8x8"), ("top", "3")],
     ["--in", "3x64x64", "conv(64, k=8, d=1) -> 64x32x32", "maxpool(p=0, d=1) -> 64x8x8",
      "--top", "3"]),
]


@pytest.mark.parametrize("command, params, argv", QUESTIONS,
                         ids=[f"{q[0]}-{n}" for n, q in enumerate(QUESTIONS)])
def test_api_json_is_the_commands_json(server, cnnplan_cmd, command, params, argv):
    status, headers, text = fetch(f"{server}/api/{command}", params)
    done = cnnplan_cmd(command, *argv, "--format", "json")
    assert done.returncode in (0, 1), done.stderr
    assert status == 200 and headers["content-type"] == "application/json"
    assert headers["x-cnnplan-exit"] == str(done.returncode)
    assert text == done.stdout
    json.loads(text)


def test_plan_file_posted(server, cnnplan_cmd):
    with open(Q6, "rb") as handle:
        body = handle.read()
    status, _, text = fetch(f"{server}/api/shapes", [], body)
    assert status == 200
    assert text == cnnplan_cmd("shapes", Q6, "--format", "json").stdout
    status, _, text = fetch(f"{server}/api/inputs", [("range", "1..300")], body)
    assert status == 200
    assert text == cnnplan_cmd("inputs", Q6, "--range", "1..300", "--format", "json").stdout


def test_other_formats(server):
    status, headers, text = fetch(f"{server}/api/solve", [("in", "1x5x5"), ("out", "1x3x3"),
                                                          ("fix", "k=3,s=2,p=1"),
                                                          ("format", "svg")])
    assert status == 200 and headers["content-type"].startswith("image/svg+xml")
    ET.fromstring(text)
    status, headers, text = fetch(f"{server}/api/shapes", [("in", "3x8x8"),
                                                           ("spec", "conv(4, k=3)"),
                                                           ("format", "html")])
    assert status == 200 and headers["content-type"].startswith("text/html")


BAD = [
    ("solve", [("in", "3x64x64"), ("out", "64x32")]),
    ("solve", [("in", "3x64x64"), ("out", "64x32x32"), ("fix", "q=1")]),
    ("solve", [("in", "3x64x64"), ("out", "64x32x32"), ("where", "__import__('os')")]),
    ("shapes", [("in", "3x8x8"), ("spec", "conv(4<script>alert(1)</script>)")]),
    ("solve", [("in", "3x64x64"), ("out", "64x32x32"), ("format", "nope")]),
    ("solve", [("in", "3x64x64"), ("out", "64x32x32"), ("sort", "sideways")]),
    ("solve", [("in", "--help"), ("out", "1x1")]),
]


@pytest.mark.parametrize("command, params", BAD, ids=[str(n) for n in range(len(BAD))])
def test_bad_input_is_400_with_the_commands_message(server, cnnplan_cmd, command, params):
    status, doc = fetch_json(f"{server}/api/{command}", params)
    argv = [command]
    for key, value in params:
        argv += [f"--{key}={value}"] if key != "spec" else ["--", value]
    done = cnnplan_cmd(*argv)
    assert done.returncode == 2
    assert status == 400 and set(doc) == {"error"}
    assert "\n" not in doc["error"] and "Traceback" not in doc["error"]
    assert "Error: " + doc["error"] == done.stderr.strip().splitlines()[-1]


@pytest.mark.parametrize("params, words", [
    ([("bogus", "1")], "unknown parameter 'bogus'"),
    ([("in", "3x8x8"), ("in", "3x9x9"), ("out", "3x4x4")], "given twice"),
    ([("in", "3x8x8"), ("per-axis", "maybe")], "is a flag"),
    ([("where", "k > 1")] * 300, "too long"),
])
def test_query_checks(server, params, words):
    status, doc = fetch_json(f"{server}/api/solve", params)
    assert status == 400 and words in doc["error"]


def test_unknown_api_and_no_500(server):
    status, doc = fetch_json(f"{server}/api/rm")
    assert status == 404 and "unknown API" in doc["error"]
    status, doc = fetch_json(f"{server}/api/solve", [("in", "3x64x64")], body=b"x = 1")
    assert status == 400 and "takes no body" in doc["error"]


def test_names_from_a_plan_are_escaped(server):
    evil = '<script>alert("x")</script>'
    plan = f'title = "{evil.replace(chr(34), chr(92) + chr(34))}"\ninput = "3x8x8"\n' \
           '[[layers]]\nspec = "conv(4, k=3)"\n'
    status, _, svg = fetch(f"{server}/api/shapes", [("format", "svg")], plan.encode())
    assert status == 200, svg
    root = ET.fromstring(svg)
    assert evil in "".join(root.itertext())
    assert not list(root.iter("{http://www.w3.org/2000/svg}script")) and "<script" not in svg
    status, _, page = fetch(f"{server}/api/shapes", [("format", "html")], plan.encode())
    assert "<script" not in page and "&lt;script&gt;" in page


def test_page_and_assets_from_the_package(server):
    status, headers, page = fetch(f"{server}/")
    assert status == 200 and "script-src" not in headers["content-security-policy"]
    assert "default-src 'self'" in headers["content-security-policy"]
    assert 'src="/app.js"' in page and "http" not in page.split("<footer>")[0]
    for asset in ("/app.js", "/style.css"):
        status, _, text = fetch(server + asset)
        assert status == 200 and "http://" not in text and "https://" not in text
    status, about = fetch_json(f"{server}/api")
    assert {"conv", "convT", "maxpool", "avgpool"} <= set(about["options"]["solve"]["layer"]["choices"])


def test_serve_binds_localhost_by_default():
    from cnnplan.web.command import serve

    host = next(p for p in serve.params if p.name == "host")
    assert host.default == "127.0.0.1"


def test_serve_without_the_web_extra(tmp_path, cnnplan_cmd):
    fake = tmp_path / "starlette"
    fake.mkdir()
    (fake / "__init__.py").write_text("raise ImportError('not installed')\n")
    done = cnnplan_cmd("serve", env={"PYTHONPATH": str(tmp_path)})
    assert done.returncode == 1
    assert done.stderr.strip() == ("Error: cnnplan serve needs Starlette and uvicorn: "
                                   "pip install 'cnnplan[web]'")


def test_a_question_past_the_time_budget_is_a_503(server, monkeypatch):
    import cnnplan.web.app as app

    monkeypatch.setattr(app, "WALL_SECONDS", 0.001)
    status, doc = fetch_json(f"{server}/api/solve", [("in", "3x64x64"), ("out", "64x32x32")])
    assert status == 503 and doc["error"].startswith("the question took longer than")


def test_csp_allows_exactly_the_pictures_stylesheets(server):
    """The page puts the SVG answers into itself: the CSP's style-src names each picture's
    <style> by its SHA-256 (computed here from the answers) and allows no other inline style."""
    import base64
    import hashlib

    _, headers, _ = fetch(f"{server}/")
    policy = dict(part.strip().split(" ", 1) for part in
                  headers["content-security-policy"].split(";"))
    allowed = set(policy["style-src"].split())
    styles = []
    for api, params in (("solve", [("in", "1x8"), ("out", "1x4"), ("fix", "k=2,s=2,p=0,d=1")]),
                        ("shapes", [("in", "3x8x8"), ("spec", "conv(4, k=3)")])):
        status, _, svg = fetch(f"{server}/api/{api}", params + [("format", "svg")])
        assert status == 200
        (style,) = ET.fromstring(svg).iter("{http://www.w3.org/2000/svg}style")
        digest = base64.b64encode(hashlib.sha256(style.text.encode()).digest()).decode()
        styles.append(f"'sha256-{digest}'")
    assert allowed == {"'self'", *styles} and "'unsafe-inline'" not in policy["style-src"]


# --- issue 22: the server holds hostile requests and load -----------------------------------

def _raw(server, request: bytes, read: bool = True) -> tuple[int, dict, str]:
    """Send bytes as they are (no client library fixing them up); (status, headers, body)."""
    import http.client
    import socket

    host, port = server.rsplit("/", 1)[1].split(":")
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(request)
        response = http.client.HTTPResponse(sock)
        response.begin()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, \
            response.read().decode("utf-8")


def _assert_error(status, headers, text, code):
    assert status == code, text
    assert headers["content-type"] == "application/json"
    assert set(json.loads(text)) == {"error"}
    assert headers["x-content-type-options"] == "nosniff"
    assert "default-src 'self'" in headers["content-security-policy"]


def test_every_error_is_json_with_the_security_headers(server):
    for request, code in [
        (b"GET /nowhere HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", 404),
        (b"PUT /api/solve HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n"
         b"Connection: close\r\n\r\n", 405),
        (b"GET /api/solve?in=3x8%00x8&out=1x1 HTTP/1.1\r\nHost: 127.0.0.1\r\n"
         b"Connection: close\r\n\r\n", 400),
        (b"GET /api/nope HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n", 404),
    ]:
        _assert_error(*_raw(server, request), code)


@pytest.mark.parametrize("host", [b"evil.example", b"evil.example:80", b"127.0.0.1.evil.example",
                                  b"localhost.", b""])
def test_a_foreign_host_header_is_refused(server, host):
    """DNS rebinding: a page on another name that resolves to 127.0.0.1 gets nothing."""
    status, headers, text = _raw(server, b"GET /api/solve?in=1x5&out=1x3 HTTP/1.1\r\nHost: "
                                 + host + b"\r\nConnection: close\r\n\r\n")
    _assert_error(status, headers, text, 400)
    assert "Host" in json.loads(text)["error"]
    for good in (b"127.0.0.1", b"localhost:8000", b"[::1]:8000"):
        status, _, _ = _raw(server, b"GET /api HTTP/1.1\r\nHost: " + good
                            + b"\r\nConnection: close\r\n\r\n")
        assert status == 200, good


def test_the_api_reads_no_file_of_the_servers(server, tmp_path):
    secret = tmp_path / "secret.toml"
    secret.write_text('title = "TOP-SECRET-LINE"\ninput = "3x8x8"\n[[layers]]\nspec = "relu"\n')
    for params in ([("spec", str(secret))], [("spec", str(secret).upper())],
                   [("in", "3x8x8"), ("spec", "../" * 8 + str(secret) + " ")]):
        status, doc = fetch_json(f"{server}/api/shapes", params)
        assert status == 400 and "POST the plan file" in doc["error"]
        assert "TOP-SECRET" not in doc["error"]


def test_the_body_is_bounded_while_it_is_read(server):
    from cnnplan.web.app import MAX_BODY

    # declared too large: refused before a byte of the body is sent
    status, headers, text = _raw(server, b"POST /api/shapes HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                 b"Content-Length: 800000000\r\nConnection: close\r\n\r\n")
    _assert_error(status, headers, text, 413)
    # chunked without a length: refused once the chunks pass the limit, the rest never read
    chunk = b"#" * 65536
    body = (b"%x\r\n" % len(chunk) + chunk + b"\r\n") * (MAX_BODY // len(chunk) + 2)
    status, headers, text = _raw(server, b"POST /api/shapes HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                 b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n" + body)
    _assert_error(status, headers, text, 413)


def test_an_answer_past_the_response_cap_is_refused(server, monkeypatch):
    import cnnplan.web.app as app

    monkeypatch.setattr(app, "MAX_RESPONSE", 5000)
    status, doc = fetch_json(f"{server}/api/solve", [("in", "3x64x64"), ("out", "8x32x32")])
    assert status == 503 and "longer than" in doc["error"]
    status, _, text = fetch(f"{server}/api/solve", [("in", "1x5"), ("out", "1x3"), ("fix", "k=3")])
    assert status == 200 and len(text) < 5000


SLOW = [("in", "3x512x512"), ("out", "64x4x4")] + [("spec", "conv(64)")] * 8 + [
    ("max", "k=11,s=4,p=5,d=3")]     # about 2 s of CPU (the search budget's worth)


def _pool(server) -> dict:
    return fetch_json(f"{server}/api")[1]["pool"]


def test_fast_questions_pass_slow_ones_and_hung_up_work_stops(server, cnnplan_cmd):
    """Two slow questions run; a trivial one is answered while they still run (it neither
    waits for a worker nor for the CPU); when their clients hang up, their work stops."""
    import socket
    import time
    import urllib.parse

    host, port = server.rsplit("/", 1)[1].split(":")
    before = _pool(server)
    slow = []
    for _ in range(2):
        sock = socket.create_connection((host, int(port)), timeout=30)
        sock.sendall(b"GET /api/plan?" + urllib.parse.urlencode(SLOW).encode()
                     + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        slow.append(sock)
    for _ in range(200):                      # both are running and counted slow
        if _pool(server)["slow"] >= 2:
            break
        time.sleep(0.05)
    assert _pool(server)["slow"] >= 2
    status, _, text = fetch(f"{server}/api/solve", [("in", "1x5"), ("out", "1x3"),
                                                    ("fix", "k=3")])
    assert status == 200
    assert text == cnnplan_cmd("solve", "--in", "1x5", "--out", "1x3", "--fix", "k=3",
                               "--format", "json").stdout
    assert _pool(server)["slow"] >= 2          # answered while the slow ones still run
    for sock in slow:
        sock.close()
    for _ in range(200):
        if _pool(server)["cancelled"] >= before["cancelled"] + 2:
            break
        time.sleep(0.05)
    after = _pool(server)
    assert after["cancelled"] == before["cancelled"] + 2 and after["slow"] == 0


def test_serve_warns_when_open_to_the_network(monkeypatch):
    from click.testing import CliRunner

    import cnnplan.web.command as command

    seen = {}

    class Socket:
        def getsockname(self):
            return ("0.0.0.0", 8123)

    monkeypatch.setattr(command, "listen", lambda host, port: Socket())
    monkeypatch.setattr("cnnplan.web.app.serve", lambda *a, **k: seen.update(k))
    done = CliRunner().invoke(command.serve, ["--host", "0.0.0.0", "--allow-host", "box.lan"])
    assert done.exit_code == 0, done.output
    assert "warning: --host 0.0.0.0 opens the page to the network" in done.output
    assert "box.lan" in seen["hosts"] and "0.0.0.0" not in seen["hosts"]
    done = CliRunner().invoke(command.serve, [])
    assert "warning" not in done.output


def test_serve_says_when_it_cannot_listen(cnnplan_cmd):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        done = cnnplan_cmd("serve", "--port", str(port))
    assert done.returncode == 1
    assert done.stderr.strip() == (f"Error: cannot listen on 127.0.0.1:{port}: "
                                   "Address already in use")


def test_a_posted_title_cannot_reach_generated_code(server):
    plan = (f'title = {json.dumps("x" + chr(10) + "import os")}\ninput = "3x8x8"\n'
            '[[layers]]\nspec = "conv(4, k=3)"\n')
    status, doc = fetch_json(f"{server}/api/shapes", [("format", "torch")], plan.encode())
    assert status == 400 and "control character" in doc["error"]

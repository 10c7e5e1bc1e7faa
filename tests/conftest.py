"""Shared fixtures. Oracle tests need torch; CNNPLAN_REQUIRE_ORACLES=1 (set by .ci/run) makes
a skipped oracle test fail the run instead of passing silently. Browser tests (marked
`browser`) need playwright and chromium; CNNPLAN_REQUIRE_BROWSER=1 does the same for them."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

REQUIRE_ORACLES = os.environ.get("CNNPLAN_REQUIRE_ORACLES", "") not in ("", "0")
_skipped_oracles: list[str] = []
REQUIRE_BROWSER = os.environ.get("CNNPLAN_REQUIRE_BROWSER", "") not in ("", "0")
_skipped_browser: list[str] = []


@pytest.fixture(scope="session")
def torch():
    """PyTorch, the shape and autograd oracle (skips the test where torch is not installed)."""
    return pytest.importorskip("torch")


def pytest_collection_modifyitems(items):
    """A test that uses the torch fixture is an oracle test, marked or not."""
    for item in items:
        if "torch" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.oracle)


def pytest_runtest_logreport(report):
    if report.skipped and "oracle" in report.keywords:
        _skipped_oracles.append(report.nodeid)
    if report.skipped and "browser" in report.keywords:
        _skipped_browser.append(report.nodeid)


def pytest_sessionfinish(session, exitstatus):
    if REQUIRE_ORACLES and _skipped_oracles:
        print(f"\nERROR: {len(_skipped_oracles)} oracle tests were skipped "
              f"(CNNPLAN_REQUIRE_ORACLES=1), e.g. {_skipped_oracles[0]}", file=sys.stderr)
        session.exitstatus = 1
    if REQUIRE_BROWSER and _skipped_browser:
        print(f"\nERROR: {len(_skipped_browser)} browser tests were skipped "
              f"(CNNPLAN_REQUIRE_BROWSER=1), e.g. {_skipped_browser[0]}", file=sys.stderr)
        session.exitstatus = 1


def run_cnnplan(*args, env=None, input=None):
    """Run the installed `cnnplan` console script; returns the CompletedProcess."""
    exe = shutil.which("cnnplan") or os.path.join(os.path.dirname(sys.executable), "cnnplan")
    full_env = dict(os.environ, **(env or {}))
    return subprocess.run([exe, *args], capture_output=True, text=True, env=full_env,
                          input=input, timeout=120)


@pytest.fixture
def cnnplan_cmd():
    """Call the installed `cnnplan` command: cnnplan_cmd("solve", "--in", ...)."""
    return run_cnnplan

"""Tests marked ``long`` run only when asked for (tests/conftest.py): `make test` stays inside
CI's budget, `make test-long` (ACTDESK_LONG_TESTS=1) runs them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

TESTS_DIR = Path(__file__).parent

INNER_TESTS = '''
import pytest

@pytest.mark.long("trains for an hour on 2 CPU cores")
def test_long(tmp_path_factory):
    (tmp_path_factory.getbasetemp().parent / "long-ran").touch()

def test_short():
    assert 1 + 1 == 2
'''


def _run_inner_suite(folder: Path, **env: str) -> subprocess.CompletedProcess:
    (folder / "test_inner.py").write_text(INNER_TESTS)
    (folder / "pytest.ini").write_text("[pytest]\nmarkers =\n    long(reason): inner\n")
    environment = {k: v for k, v in os.environ.items() if k != "ACTDESK_LONG_TESTS"}
    environment.update(env, PYTHONPATH=os.pathsep.join([str(TESTS_DIR), environment.get("PYTHONPATH", "")]))
    # The suite's own conftest, loaded as a plugin into a suite of two tests.
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "conftest", "-p", "no:cacheprovider", "-rs",
                           "--strict-markers", f"--basetemp={folder / 'tmp'}", "test_inner.py"],
                          cwd=folder, env=environment, capture_output=True, text=True, timeout=300)


def test_long_tests_are_skipped_with_their_reason_unless_asked_for(tmp_path):
    run = _run_inner_suite(tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "1 passed, 1 skipped" in run.stdout
    assert ("trains for an hour on 2 CPU cores; set ACTDESK_LONG_TESTS=1 (make test-long) to run it"
            in run.stdout)
    assert not (tmp_path / "long-ran").exists()


def test_long_tests_run_when_asked_for(tmp_path):
    run = _run_inner_suite(tmp_path, ACTDESK_LONG_TESTS="1")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "2 passed" in run.stdout
    assert (tmp_path / "long-ran").exists()

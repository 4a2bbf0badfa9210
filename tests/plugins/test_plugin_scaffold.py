"""`actdesk plugins new` writes a package whose own tests pass, and fail when its model breaks."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

from actdesk import __version__
from actdesk.plugins.scaffold import scaffold_plugin


def run_package_tests(package: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTEST_ADDOPTS")}
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=package,
                          env=env, capture_output=True, text=True, timeout=600)


def test_scaffolded_package_is_complete_and_passes_its_own_tests(tmp_path):
    package = scaffold_plugin("scaffold-net", tmp_path)
    assert package == tmp_path / "actdesk-scaffold-net"
    pyproject = tomllib.loads((package / "pyproject.toml").read_text())
    assert pyproject["project"]["name"] == "actdesk-scaffold-net"
    assert pyproject["project"]["entry-points"]["actdesk"] == {"scaffold-net": "actdesk_scaffold_net"}
    assert f"actdesk>={__version__}" in pyproject["project"]["dependencies"]
    assert "`scaffold-net`" in (package / "README.md").read_text()

    result = run_package_tests(package)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout
    assert "warning" not in result.stdout.lower()


def test_scaffolded_tests_fail_when_the_model_breaks(tmp_path):
    package = scaffold_plugin("broken-net", tmp_path)
    model = package / "actdesk_broken_net" / "model.py"
    source = model.read_text()
    forward = "return self.classifier(self.dropout(self.features(clips).flatten(1)))"
    assert forward in source
    model.write_text(source.replace(forward, forward.replace("return ", "return float('nan') * ")))
    result = run_package_tests(package)
    assert result.returncode == 1
    assert ("model 'broken-net' of plugin 'actdesk_broken_net' fails the 'forward in eval mode' check: "
            "plugin 'actdesk_broken_net': model returned non-finite logits") in result.stdout

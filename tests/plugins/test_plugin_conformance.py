"""actdesk.testing: the conformance checks pass on a good plugin and fail, saying why, on broken ones."""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from actdesk.plugins import PluginManager
from actdesk.testing import ConformanceError, check_model_conformance

BROKEN_DIR = Path(__file__).parent / "broken"


@pytest.fixture
def manager() -> PluginManager:
    manager = PluginManager(disabled=())
    manager.register_module("actdesk_testplugin_good")
    manager.register_module("actdesk_testplugin_faulty_models")
    return manager


def test_good_model_passes(manager):
    check_model_conformance("test-good", manager=manager)
    check_model_conformance(manager.spec("test-good"), manager=manager)


@pytest.mark.parametrize(("model", "check", "expected"), [
    ("test-build-raises", "builds for 3 classes", "ValueError: test plugin: cannot build this model"),
    ("test-not-a-module", "builds for 3 classes", "expected a torch.nn.Module"),
    ("test-bad-head", "builds for 3 classes", "spec.head 'features.0' is a Conv3d, expected the final nn.Linear"),
    ("test-forward-raises", "forward in eval mode", "forward raised RuntimeError: test plugin: forward always fails"),
    ("test-nan-output", "forward in eval mode", "non-finite logits (6 NaN"),
    ("test-inf-output", "forward in eval mode", "non-finite logits (0 NaN, 6 inf"),
    ("test-wrong-shape", "forward in eval mode", "logits of shape [2, 4], expected [2, 3]"),
    ("test-frozen", "training step", "no parameter with requires_grad=True"),
    ("test-unsaved-state", "checkpoint round trip", "the reloaded model's logits differ"),
    ("test-class-sized-backbone", "head replacement", "do not match a model built for 5: "
                                                      "classifier.weight, features.0.bias"),
])
def test_broken_model_fails_the_right_check(manager, model: str, check: str, expected: str):
    with pytest.raises(ConformanceError) as info:
        check_model_conformance(model, manager=manager)
    error = info.value
    assert (error.model, error.plugin, error.check) == (model, "actdesk_testplugin_faulty_models", check)
    assert str(error).startswith(f"model {model!r} of plugin 'actdesk_testplugin_faulty_models' "
                                 f"fails the {check!r} check: ")
    assert expected in str(error)


def test_conformance_leaves_the_global_random_state_alone(manager):
    import torch

    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    check_model_conformance("test-good", manager=manager)
    assert torch.equal(torch.rand(3), expected)


def run_pytest(folder: Path) -> dict[str, str]:
    """Run pytest in a subprocess on ``folder``; returns {module::test name: "passed" or the failure}."""
    report = folder / "report.xml"
    (folder / "pytest.ini").write_text("[pytest]\n")
    env = {k: v for k, v in os.environ.items() if k not in ("ACTDESK_DISABLE_PLUGINS", "PYTEST_ADDOPTS")}
    subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={report}",
                    "--rootdir", str(folder), "-c", str(folder / "pytest.ini"), str(folder)],
                   cwd=folder, env={**env, "PYTHONPATH": str(BROKEN_DIR)}, capture_output=True, text=True,
                   timeout=600)
    outcomes = {}
    for case in ET.parse(report).iter("testcase"):
        failure = case.find("failure")
        if failure is None:
            failure = case.find("error")
        outcome = "passed" if failure is None else failure.get("message", "") + (failure.text or "")
        outcomes[f'{case.get("classname")}::{case.get("name")}'] = outcome
    return outcomes


def test_pytest_plugin_parametrises_over_models_and_reports_load_errors(tmp_path):
    template = ('pytest_plugins = ["actdesk.testing"]\n'
                'ACTDESK_PLUGIN = {module!r}\n\n'
                'def test_conformance(actdesk_model_name, actdesk_conformance):\n'
                '    actdesk_conformance(actdesk_model_name)\n')
    (tmp_path / "actdesk_empty_plugin.py").write_text('"""A plugin that registers no model."""\n')
    for stem, module in [("good", "actdesk_testplugin_good"), ("import_error", "actdesk_testplugin_import_error"),
                         ("register_raises", "actdesk_testplugin_register_raises"),
                         ("empty", "actdesk_empty_plugin")]:
        (tmp_path / f"test_{stem}.py").write_text(template.format(module=module))
    outcomes = run_pytest(tmp_path)
    assert outcomes.keys() == {"test_good::test_conformance[test-good]",
                               "test_import_error::test_conformance[plugin-load]",
                               "test_register_raises::test_conformance[plugin-load]",
                               "test_empty::test_conformance[no-models]"}
    assert outcomes["test_empty::test_conformance[no-models]"].startswith(
        "failed on setup with \"Failed: no model registered by actdesk_empty_plugin")
    assert outcomes["test_good::test_conformance[test-good]"] == "passed"
    assert ("plugin 'actdesk_testplugin_import_error' failed to load: ModuleNotFoundError"
            in outcomes["test_import_error::test_conformance[plugin-load]"])
    assert "registration fails half-way" in outcomes["test_register_raises::test_conformance[plugin-load]"]

"""Loading plugins: good ones work, broken ones are recorded against their name, the rest keeps working."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest
import torch

from actdesk.errors import PluginError
from actdesk.plugins import (
    ModelRegistry,
    ModelSpec,
    PluginManager,
    UnknownModelError,
    check_model_output,
    get_plugin_manager,
    reset_plugin_manager,
)

GOOD = "actdesk_testplugin_good"
FAULTY = "actdesk_testplugin_faulty_models"


def manager_with(*modules: str, disabled: tuple[str, ...] = ()) -> PluginManager:
    manager = PluginManager(disabled=disabled)
    for module in modules:
        manager.register_module(module)
    return manager


def assert_good_model_works(manager: PluginManager) -> None:
    model = manager.build_model("test-good", 3).eval()
    with torch.inference_mode():
        logits = model(torch.randn(2, 3, 4, 16, 16))
    check_model_output(GOOD, logits, 2, 3)


def test_good_plugin_registers_and_builds():
    manager = manager_with(GOOD)
    [entry] = manager.models()
    assert (entry.name, entry.plugin, entry.status, entry.error) == ("test-good", GOOD, "ok", "")
    assert entry.spec.plugin == GOOD
    assert manager.spec("test-good").clip_len == 4
    [info] = manager.plugins()
    assert (info.name, info.status, info.models) == (GOOD, "ok", ("test-good",))
    assert manager.load_errors == []
    assert_good_model_works(manager)


@pytest.mark.parametrize(("module", "expected"), [
    ("actdesk_testplugin_import_error", "ModuleNotFoundError: No module named 'actdesk_no_such_dependency'"),
    ("actdesk_testplugin_register_raises", "actdesk_register_models failed: RuntimeError: "
                                           "test plugin: registration fails half-way"),
    ("actdesk_testplugin_misspelled_hook", "implements unknown hook 'actdesk_build_modle' (misspelled?)"),
    ("actdesk_testplugin_duplicate", "actdesk_register_models failed: model name 'test-good' is already "
                                     "registered by plugin 'actdesk_testplugin_good'"),
])
def test_broken_plugin_is_recorded_and_the_others_keep_working(module: str, expected: str):
    manager = manager_with(GOOD, module)
    [error] = manager.load_errors
    assert error.plugin == module
    assert expected in error.error
    statuses = {p.name: p.status for p in manager.plugins()}
    assert statuses == {GOOD: "ok", module: "error"}
    # Nothing the failed plugin registered before failing is left behind.
    assert [e.name for e in manager.models()] == ["test-good"]
    assert manager.spec("test-good").plugin == GOOD
    assert_good_model_works(manager)


def test_load_error_keeps_the_traceback_of_the_import():
    manager = manager_with("actdesk_testplugin_import_error")
    [error] = manager.load_errors
    assert "actdesk_testplugin_import_error.py" in error.traceback
    assert "import actdesk_no_such_dependency" in error.traceback


def test_misspelled_hook_message_lists_the_real_hooks():
    [error] = manager_with("actdesk_testplugin_misspelled_hook").load_errors
    assert ("the hooks are: actdesk_build_model, actdesk_import_weights, actdesk_register_formats, "
            "actdesk_register_models") in error.error


@pytest.mark.parametrize(("model", "expected"), [
    ("test-build-raises", "building model 'test-build-raises' failed: ValueError: test plugin: cannot build"),
    ("test-build-none", "returned None for model 'test-build-none'"),
    ("test-not-a-module", "returned dict for model 'test-not-a-module', expected a torch.nn.Module"),
])
def test_build_failure_names_the_plugin_and_marks_the_model(model: str, expected: str):
    manager = manager_with(GOOD, FAULTY)
    with pytest.raises(PluginError) as info:
        manager.build_model(model, 3)
    assert info.value.plugin == FAULTY
    assert expected in str(info.value)
    assert f"plugin {FAULTY!r}" in str(info.value)
    entries = {e.name: e for e in manager.models()}
    assert entries[model].status == "error" and expected in entries[model].error
    assert entries["test-forward-raises"].status == "ok"
    assert_good_model_works(manager)


@pytest.mark.parametrize(("model", "expected"), [
    ("test-nan-output", "non-finite logits (6 NaN, 0 inf of 6 values)"),
    ("test-inf-output", "non-finite logits (0 NaN, 6 inf of 6 values)"),
    ("test-wrong-shape", "logits of shape [2, 4], expected [2, 3]"),
])
def test_bad_model_output_is_caught(model: str, expected: str):
    manager = manager_with(FAULTY)
    net = manager.build_model(model, 3).eval()
    with torch.inference_mode():
        logits = net(torch.randn(2, 3, 4, 16, 16))
    with pytest.raises(PluginError) as info:
        check_model_output(manager.spec(model).plugin, logits, 2, 3)
    assert info.value.plugin == FAULTY
    assert expected in str(info.value)


def test_check_model_output_refuses_non_tensors_and_integer_logits():
    with pytest.raises(PluginError, match="returned list, expected a tensor"):
        check_model_output("p", [[0.0, 1.0]], 1, 2)
    with pytest.raises(PluginError, match="torch.int64 logits, expected floating point"):
        check_model_output("p", torch.zeros(1, 2, dtype=torch.long), 1, 2)
    check_model_output("p", torch.zeros(1, 2), 1, 2)


def test_forward_raising_model_raises_its_own_error():
    net = manager_with(FAULTY).build_model("test-forward-raises", 3)
    with pytest.raises(RuntimeError, match="forward always fails"):
        net(torch.randn(1, 3, 4, 16, 16))


def test_hanging_model_blocks_until_released():
    net = manager_with(FAULTY).build_model("test-hang", 3).eval()
    done = threading.Event()

    def run() -> None:
        with torch.inference_mode():
            net(torch.randn(1, 3, 4, 16, 16))
        done.set()

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    assert not done.wait(0.3)
    sys.modules["testplugin_models"].HANG_RELEASE.set()
    worker.join(60)
    assert done.is_set()


def test_unknown_model_lists_available_models_and_failed_plugins():
    manager = manager_with(GOOD, "actdesk_testplugin_import_error")
    with pytest.raises(UnknownModelError) as info:
        manager.spec("test-goood")
    message = str(info.value)
    assert "unknown model 'test-goood'; available: test-good" in message
    assert "plugins that failed to load: actdesk_testplugin_import_error" in message
    with pytest.raises(PluginError):
        manager.build_model("test-goood", 3)


def test_num_classes_must_be_positive():
    with pytest.raises(PluginError, match="num_classes must be a positive integer, got 0"):
        manager_with(GOOD).build_model("test-good", 0)


def test_disabled_plugin_is_listed_but_not_imported():
    manager = manager_with(GOOD, "actdesk_testplugin_import_error", disabled=("actdesk_testplugin_import_error",))
    assert manager.load_errors == []
    statuses = {p.name: p.status for p in manager.plugins()}
    assert statuses == {GOOD: "ok", "actdesk_testplugin_import_error": "disabled"}
    assert "actdesk_testplugin_import_error" not in sys.modules


def test_disable_env_variable_matches_entry_point_names(monkeypatch, user_plugins_dir, make_distribution,
                                                        test_plugin_source):
    make_distribution(user_plugins_dir, "actdesk-envtest", modules={"actdesk_envtest": test_plugin_source(GOOD)},
                      entry_points={"envtest": "actdesk_envtest"})
    monkeypatch.setenv("ACTDESK_DISABLE_PLUGINS", " other , envtest")
    manager = get_plugin_manager()
    [info] = [p for p in manager.plugins() if p.name == "envtest"]
    assert info.status == "disabled"
    assert "actdesk_envtest" not in sys.modules
    assert "test-good" not in [e.name for e in manager.models()]


def test_builtins_not_installed_are_skipped_silently(user_plugins_dir):
    manager = PluginManager(disabled=())
    manager.load_plugins(builtins=("actdesk_not_installed_anywhere", GOOD), entry_points=False,
                         user_dir=user_plugins_dir)
    assert manager.load_errors == []
    [info] = manager.plugins()
    assert (info.name, info.distribution, info.models) == (GOOD, "built-in", ("test-good",))


def test_user_dir_distribution_loads_through_its_entry_point(user_plugins_dir, make_distribution,
                                                             test_plugin_source):
    make_distribution(user_plugins_dir, "actdesk-userdist", version="2.5",
                      modules={"actdesk_userdist": test_plugin_source(GOOD)},
                      entry_points={"userdist": "actdesk_userdist"})
    make_distribution(user_plugins_dir, "actdesk-userbroken",
                      modules={"actdesk_userbroken": test_plugin_source("actdesk_testplugin_register_raises")},
                      entry_points={"userbroken": "actdesk_userbroken"})
    manager = PluginManager(disabled=())
    manager.load_plugins(builtins=(), entry_points=False, user_dir=user_plugins_dir)
    [entry] = manager.models()
    assert (entry.name, entry.plugin, entry.distribution, entry.version) == (
        "test-good", "userdist", "actdesk-userdist", "2.5")
    [error] = manager.load_errors
    assert (error.plugin, error.distribution, error.version) == ("userbroken", "actdesk-userbroken", "1.0")
    assert_good_model_works(manager)


def test_environment_entry_point_and_builtin_of_the_same_module_load_once(tmp_path, monkeypatch,
                                                                          make_distribution, user_plugins_dir):
    # A distribution on sys.path whose entry point names a module that is also a built-in.
    site = tmp_path / "site"
    folder = make_distribution(site, "actdesk-goodtest", version="3.1", modules={},
                               entry_points={"good-test": GOOD})
    monkeypatch.syspath_prepend(str(folder))
    manager = PluginManager(disabled=())
    manager.load_plugins(builtins=(GOOD,), entry_points=True, user_dir=user_plugins_dir)
    mine = [p for p in manager.plugins() if p.module == GOOD]
    assert [(p.name, p.distribution, p.version) for p in mine] == [("good-test", "actdesk-goodtest", "3.1")]
    assert not [e for e in manager.load_errors if e.plugin == "good-test"]


def test_same_plugin_name_from_two_modules_is_an_error():
    manager = PluginManager(disabled=())
    manager.register_module(GOOD, name="clash")
    manager.register_module(FAULTY, name="clash")
    [error] = manager.load_errors
    assert "plugin name 'clash' is already taken by module 'actdesk_testplugin_good'" in error.error
    assert [p.module for p in manager.plugins()] == [GOOD]


def test_import_weights_goes_to_the_model_plugin(tmp_path):
    from safetensors.torch import save_file

    manager = manager_with(GOOD, FAULTY)
    path = tmp_path / "w.testweights"
    save_file({"classifier.weight": torch.ones(2, 4)}, str(path), metadata={"labels": "a,b"})
    result = manager.import_weights("test-good", path)
    assert result["labels"] == ["a", "b"]
    assert torch.equal(result["state_dict"]["classifier.weight"], torch.ones(2, 4))
    with pytest.raises(PluginError, match="cannot import weight files like .*w.pth"):
        manager.import_weights("test-good", tmp_path / "w.pth")
    with pytest.raises(PluginError, match="'actdesk_testplugin_faulty_models'.*cannot import"):
        manager.import_weights("test-nan-output", path)


def test_registry_refuses_duplicates_and_incomplete_specs():
    registry = ModelRegistry()
    spec = ModelSpec(name="m-1", title="M", clip_len=4, size=(8, 8))
    assert registry.for_plugin("first").add(spec).plugin == "first"
    with pytest.raises(PluginError) as info:
        registry.for_plugin("second").add(spec)
    assert str(info.value) == "plugin 'second': model name 'm-1' is already registered by plugin 'first'"
    bad = ModelSpec(name="Bad_Name", title="", clip_len=0, size=(8,), mean=(0.5,), std=(0.0, 1.0, 1.0),
                    standardise_clips="yes")
    with pytest.raises(PluginError) as info:
        registry.for_plugin("third").add(bad)
    message = str(info.value)
    for part in ("plugin 'third'", "name 'Bad_Name'", "title is empty", "clip_len 0", "size (8,)",
                 "mean (0.5,)", "std (0.0, 1.0, 1.0) has a value <= 0", "standardise_clips 'yes' is not True or False"):
        assert part in message
    with pytest.raises(PluginError, match="expected a ModelSpec, got dict"):
        registry.for_plugin("fourth").add({"name": "x"})
    registry.remove_plugin("first")
    assert len(registry) == 0


def test_process_wide_manager_is_created_once_and_reset(user_plugins_dir, make_distribution, test_plugin_source):
    first = get_plugin_manager()
    assert get_plugin_manager() is first
    make_distribution(user_plugins_dir, "actdesk-late", modules={"actdesk_late": test_plugin_source(GOOD)},
                      entry_points={"late": "actdesk_late"})
    assert "test-good" not in [e.name for e in first.models()]
    reset_plugin_manager()
    assert "test-good" in [e.name for e in get_plugin_manager().models()]


def test_importing_the_plugin_api_imports_neither_torch_nor_qt():
    code = ("import sys, actdesk.plugins; "
            "bad = [m for m in ('torch', 'PySide6', 'pyqtgraph') if m in sys.modules]; "
            "sys.exit(str(bad) if bad else 0)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=Path(__file__).parent)
    assert result.returncode == 0, result.stderr


def test_plugin_formats_join_actdesk_formats(monkeypatch):
    # Only actdesk's CSV format as the built-ins, so this test does not depend on every format module.
    monkeypatch.setattr("actdesk.formats.registry.BUILTIN_FORMATS", ("actdesk.formats.csv_format:CsvFormat",))
    manager = manager_with(GOOD, "actdesk_testplugin_formats")
    infos = {p.name: p for p in manager.plugins()}
    assert infos["actdesk_testplugin_formats"].formats == ("test-lines", "csv")
    assert infos[GOOD].formats == ()
    formats = manager.formats()
    assert formats.names() == ["csv", "test-lines"]
    assert formats.plugin_of("csv") == "actdesk"
    assert formats.plugin_of("test-lines") == "actdesk_testplugin_formats"
    assert manager.formats() is formats
    [error] = manager.load_errors
    assert error.plugin == "actdesk_testplugin_formats"
    assert error.error == ("actdesk_register_formats: format name 'csv' is already registered by plugin "
                           "'actdesk'")
    manager.register_module(FAULTY)  # a later plugin: the formats are collected again, the error kept once
    assert manager.formats().names() == ["csv", "test-lines"]
    assert len(manager.load_errors) == 1


def test_incomplete_format_fails_the_whole_plugin():
    manager = manager_with(GOOD, "actdesk_testplugin_bad_format")
    [error] = manager.load_errors
    assert error.plugin == "actdesk_testplugin_bad_format"
    assert error.error.startswith("actdesk_register_formats failed: format 'test-incomplete': title is empty")
    assert [e.name for e in manager.models()] == ["test-good"]
    assert {p.name: p.formats for p in manager.plugins()}["actdesk_testplugin_bad_format"] == ()

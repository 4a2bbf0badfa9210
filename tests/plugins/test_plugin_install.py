"""Installing plugins into the per-user folder: a real wheel built with pip, and every refusal."""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path

import pytest

from actdesk.errors import PluginError
from actdesk.plugins import get_plugin_manager
from actdesk.plugins.install import (
    _version_matches,
    build_wheel,
    install_plugin,
    installed_plugins,
    uninstall_plugin,
)
from actdesk.plugins.scaffold import scaffold_plugin
from actdesk.testing import check_model_conformance


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """A wheel of a freshly scaffolded plugin, built by pip (as `actdesk plugins install FOLDER` does)."""
    root = tmp_path_factory.mktemp("src")
    package = scaffold_plugin("wheel-net", root)
    return build_wheel(package, tmp_path_factory.mktemp("wheels"))


def make_wheel(folder: Path, name: str, *, files: dict[str, str], entry_points: str | None = "",
               requires: tuple[str, ...] = (), version: str = "1.0") -> Path:
    """A hand-made wheel (a zip in site-packages layout) for the refusal cases."""
    stem = f"{name.replace('-', '_')}-{version}"
    path = folder / f"{stem}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as archive:
        for member, text in files.items():
            archive.writestr(member, text)
        requires_lines = "".join(f"Requires-Dist: {r}\n" for r in requires)
        archive.writestr(f"{stem}.dist-info/METADATA",
                         f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n{requires_lines}")
        if entry_points is not None:
            archive.writestr(f"{stem}.dist-info/entry_points.txt", entry_points)
    return path


def assert_plugins_dir_empty(plugins_dir: Path) -> None:
    assert not plugins_dir.exists() or list(plugins_dir.iterdir()) == []


def test_wheel_installs_loads_and_uninstalls(wheel, user_plugins_dir):
    installed = install_plugin(wheel)
    assert (installed.distribution, installed.version) == ("actdesk-wheel-net", "0.1.0")
    assert installed.entry_points == ("wheel-net = actdesk_wheel_net",)
    assert installed.path == user_plugins_dir / "actdesk-wheel-net"
    assert (installed.path / "actdesk_wheel_net" / "model.py").is_file()
    assert [p.distribution for p in installed_plugins()] == ["actdesk-wheel-net"]

    manager = get_plugin_manager()
    [entry] = [e for e in manager.models() if e.name == "wheel-net"]
    assert (entry.plugin, entry.distribution, entry.version, entry.status) == (
        "wheel-net", "actdesk-wheel-net", "0.1.0", "ok")
    check_model_conformance("wheel-net", manager=manager)

    removed = uninstall_plugin("actdesk_wheel_net")  # names compare as pip compares them
    assert removed.distribution == "actdesk-wheel-net"
    assert_plugins_dir_empty(user_plugins_dir)
    assert installed_plugins() == []


def test_installing_again_replaces_the_old_copy(wheel, user_plugins_dir):
    install_plugin(wheel)
    (user_plugins_dir / "actdesk-wheel-net" / "stale.txt").write_text("from the old version")
    install_plugin(wheel)
    assert [p.name for p in user_plugins_dir.iterdir()] == ["actdesk-wheel-net"]
    assert not (user_plugins_dir / "actdesk-wheel-net" / "stale.txt").exists()


def test_wheel_without_actdesk_entry_point_is_refused(tmp_path, user_plugins_dir):
    for entry_points in (None, "[console_scripts]\nfoo = foo:main\n"):
        path = make_wheel(tmp_path, "not-a-plugin", files={"foo.py": ""}, entry_points=entry_points)
        with pytest.raises(PluginError) as info:
            install_plugin(path)
        assert str(info.value).startswith("plugin 'not-a-plugin': not_a_plugin-1.0-py3-none-any.whl declares "
                                          "no entry point in the 'actdesk' group")
        assert_plugins_dir_empty(user_plugins_dir)


@pytest.mark.parametrize("requirement", ["actdesk>=99.0", "actdesk (>=0.1, <0.1.0)", "ActDesk==0.0.9"])
def test_plugin_needing_another_app_version_is_refused(tmp_path, user_plugins_dir, requirement):
    path = make_wheel(tmp_path, "actdesk-future", files={"actdesk_future.py": ""},
                      entry_points="[actdesk]\nfuture = actdesk_future\n", requires=(requirement, "torch>=2"))
    with pytest.raises(PluginError, match=r"plugin 'actdesk-future': needs actdesk.* but this is actdesk 0\.1\.0"):
        install_plugin(path)
    assert_plugins_dir_empty(user_plugins_dir)


def test_requirement_met_or_only_for_an_extra_is_accepted(tmp_path, user_plugins_dir):
    path = make_wheel(tmp_path, "actdesk-today", files={"actdesk_today.py": ""},
                      entry_points="[actdesk]\ntoday = actdesk_today\n",
                      requires=("actdesk>=0.1,<1", 'actdesk>=5; extra == "docs"'))
    assert install_plugin(path).distribution == "actdesk-today"


def test_wheel_data_purelib_goes_to_the_top_and_scripts_are_dropped(tmp_path, user_plugins_dir,
                                                                    test_plugin_source):
    path = make_wheel(tmp_path, "actdesk-datalib", entry_points="[actdesk]\ndatalib = actdesk_datalib\n",
                      files={"actdesk_datalib-1.0.data/purelib/actdesk_datalib.py":
                             test_plugin_source("actdesk_testplugin_good"),
                             "actdesk_datalib-1.0.data/scripts/run-me": "#!/bin/sh\n"})
    installed = install_plugin(path)
    assert sorted(p.name for p in installed.path.iterdir()) == ["actdesk_datalib-1.0.dist-info",
                                                                 "actdesk_datalib.py"]
    assert [e.plugin for e in get_plugin_manager().models() if e.name == "test-good"] == ["datalib"]


def test_unsafe_paths_and_non_wheels_are_refused(tmp_path, user_plugins_dir):
    evil = make_wheel(tmp_path, "actdesk-evil", files={"../escaped.py": ""},
                      entry_points="[actdesk]\nevil = escaped\n")
    with pytest.raises(PluginError, match="unsafe path '../escaped.py'; nothing installed"):
        install_plugin(evil)
    assert not (user_plugins_dir.parent / "escaped.py").exists()
    assert_plugins_dir_empty(user_plugins_dir)

    fake = tmp_path / "fake-1.0-py3-none-any.whl"
    fake.write_text("not a zip")
    with pytest.raises(PluginError, match="is not a readable wheel"):
        install_plugin(fake)
    with pytest.raises(PluginError, match="is not a wheel"):
        install_plugin(make_wheel(tmp_path, "x", files={}).rename(tmp_path / "x.zip"))
    with pytest.raises(PluginError, match="no such file or folder"):
        install_plugin(tmp_path / "missing.whl")
    with pytest.raises(PluginError, match="has no pyproject.toml or setup.py"):
        install_plugin(tmp_path)
    assert_plugins_dir_empty(user_plugins_dir)


def test_frozen_app_accepts_wheels_only(tmp_path, monkeypatch, user_plugins_dir):
    package = scaffold_plugin("frozen-net", tmp_path)
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    with pytest.raises(PluginError, match=r"cannot build packages \(no pip\): install a wheel"):
        install_plugin(package)
    assert_plugins_dir_empty(user_plugins_dir)


def test_failed_build_reports_pip_output(tmp_path, user_plugins_dir):
    (tmp_path / "pyproject.toml").write_text("[project]\nname = \n")
    with pytest.raises(PluginError, match="building a wheel of .* failed:\n"):
        install_plugin(tmp_path)
    assert_plugins_dir_empty(user_plugins_dir)


def test_uninstall_unknown_lists_what_is_installed(wheel, user_plugins_dir):
    install_plugin(wheel)
    with pytest.raises(PluginError, match="plugin 'nope': is not installed in .*; installed there: "
                                          "actdesk-wheel-net"):
        uninstall_plugin("nope")


@pytest.mark.parametrize(("specifier", "expected"), [
    (">=0.1", True), (">=0.1.1", False), (">0.0.9", True), ("<0.1", False), ("<=0.1.0", True),
    ("==0.1", True), ("==0.2", False), ("!=0.1.0", False), ("==0.*", True), ("==1.*", False),
    ("!=1.*", True), ("~=0.1", True), ("~=0.0.5", False), ("===0.1.0", True), ("bogus", True),
])
def test_version_specifiers(specifier, expected):
    assert _version_matches("0.1.0", specifier) is expected

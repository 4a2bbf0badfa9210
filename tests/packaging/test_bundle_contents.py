"""What the packaged app contains, checked without building it: plugins, the torchvision hook, excludes."""

from __future__ import annotations

import ast
import importlib.metadata
import importlib.util
import re
import runpy
from pathlib import Path

import pytest

from actdesk.plugins.builtin import BUILTIN_PLUGINS

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "packaging" / "actdesk.spec"


def _imported_modules(files) -> set[str]:
    """Absolute module names imported anywhere in ``files`` (``from x import y`` also counts ``x.y``)."""
    names = set()
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)
                names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _app_and_plugin_sources() -> list[Path]:
    files = [p for p in (ROOT / "actdesk").rglob("*.py") if p.name != "testing.py"]
    for dist in (ROOT / "plugins").glob("actdesk-*"):
        for package in dist.glob("actdesk_*"):
            files += package.rglob("*.py")
    return files


def test_builtin_plugin_distributions_match_builtin_plugins_and_their_installed_entry_points(bundle):
    dists = bundle.builtin_plugin_distributions()
    assert {module for d in dists for module in d.entry_points.values()} == set(BUILTIN_PLUGINS)
    for dist in dists:
        installed = importlib.metadata.distribution(dist.name)  # the metadata copy_metadata ships
        assert {ep.name: ep.value for ep in installed.entry_points.select(group="actdesk")} == dist.entry_points
        for package in dist.packages:  # where the spec's pathex lets PyInstaller find it
            assert (dist.source / package / "__init__.py").is_file()


def _write_plugin(root: Path, name: str, entry_points: str) -> None:
    folder = root / "plugins" / name
    folder.mkdir(parents=True)
    (folder / "pyproject.toml").write_text(f'[project]\nname = "{name}"\nversion = "1.0"\n{entry_points}',
                                           encoding="utf-8")


def test_a_plugin_package_without_actdesk_entry_points_stops_the_build(bundle, tmp_path):
    _write_plugin(tmp_path, "actdesk-broken", "")
    with pytest.raises(bundle.PackagingError, match=r"actdesk-broken.pyproject\.toml: no \[project\.entry-points"):
        bundle.builtin_plugin_distributions(tmp_path)


def test_plugin_packages_disagreeing_with_builtin_plugins_stop_the_build(bundle, tmp_path):
    _write_plugin(tmp_path, "actdesk-extra", '[project.entry-points.actdesk]\nextra = "actdesk_extra"\n')
    with pytest.raises(bundle.PackagingError) as caught:
        bundle.builtin_plugin_distributions(tmp_path)
    message = str(caught.value)
    assert "provided but not listed: ['actdesk_extra']" in message
    assert all(module in message for module in BUILTIN_PLUGINS)  # each one listed without a package


def test_spec_compiles_and_takes_its_contents_from_bundle():
    source = SPEC.read_text(encoding="utf-8")
    tree = ast.parse(compile(source, str(SPEC), "exec", ast.PyCF_ONLY_AST))
    used = {node.attr for node in ast.walk(tree)
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "bundle"}
    assert {"builtin_plugin_distributions", "is_app_module", "RESOURCES", "HOOKS", "EXCLUDED_MODULES",
            "excluded_qt_modules", "keep_file", "ENTRY_SCRIPT", "APP_ICON"} <= used
    calls = {ast.unparse(node) for node in ast.walk(tree) if isinstance(node, ast.Call)}
    assert "copy_metadata(plugin.name)" in calls  # each built-in plugin's entry points ship
    assert "copy_metadata('actdesk')" in calls
    assert "collect_submodules(package)" in calls


def test_torchvision_hook_collects_every_library_torchvision_loads_by_path():
    hook = runpy.run_path(str(ROOT / "packaging" / "hooks" / "hook-torchvision.py"))
    package = Path(importlib.util.find_spec("torchvision").submodule_search_locations[0])
    loaded = set()
    for path in package.rglob("*.py"):
        loaded.update(re.findall(r"""_load_library\(\s*["'](\w+)["']\s*\)""", path.read_text(encoding="utf-8")))
    assert {"_C_stable", "image_stable"} <= loaded or {"_C", "image"} <= loaded  # the operators and codecs

    from torchvision._internally_replaced_utils import _get_extension_path

    collected = {Path(src).resolve(): dest for src, dest in hook["binaries"]}
    for name in sorted(loaded):
        library = Path(_get_extension_path(name)).resolve()  # where torchvision looks at run time
        assert collected.get(library) == "torchvision", f"{library.name} is not collected into torchvision/"
    assert hook["module_collection_mode"] == "pyz+py"


def test_qt_modules_kept_cover_every_pyside6_module_the_app_imports(bundle):
    imported = {name.split(".")[1] for name in _imported_modules((ROOT / "actdesk").rglob("*.py"))
                if name.startswith("PySide6.") and name.split(".")[1].startswith("Qt")}
    assert {"QtCore", "QtGui", "QtWidgets"} <= imported
    assert imported <= set(bundle.QT_MODULES), "add the new Qt module to bundle.QT_MODULES"
    excluded = bundle.excluded_qt_modules()
    assert "PySide6.QtQuick" in excluded and "PySide6.QtNetwork" in excluded
    assert not {f"PySide6.{name}" for name in bundle.QT_MODULES} & set(excluded)
    assert bundle.excluded_qt_modules(["QtCore", "QtQml", "QtSvg"]) == ["PySide6.QtQml"]


def test_no_module_the_app_or_its_plugins_imports_is_excluded(bundle):
    imported = _imported_modules(_app_and_plugin_sources())
    assert "torch" in imported and "actdesk.plugins" in imported  # the scan sees real imports
    assert sorted(name for name in imported if not bundle.is_app_module(name)) == []
    assert not bundle.is_app_module("actdesk.testing")
    assert not bundle.is_app_module("triton.language")
    assert bundle.is_app_module("torch.testing._internal.logging_tensor")  # torch.utils.checkpoint needs it


def test_keep_file_drops_build_headers_and_tools_only(bundle):
    assert not bundle.keep_file("torch/include/ATen/core/Tensor.h")
    assert not bundle.keep_file("torch/share/cmake/Torch/TorchConfig.cmake")
    assert not bundle.keep_file("torch\\bin\\protoc.exe")
    assert not bundle.keep_file("torch/bin/test_jit") and not bundle.keep_file("torch/bin/TCPStoreTest")
    assert not bundle.keep_file("torch/lib/libtorchbind_test.so")
    assert bundle.keep_file("torch/bin/torch_shm_manager")
    assert bundle.keep_file("torch/lib/libtorch_cpu.so")
    assert bundle.keep_file("resources/models/c3d-attention-synthetic.safetensors")

"""What goes into the packaged app: plain data shared by the spec, the build script and the tests.

Nothing here imports PyInstaller, so the tests can check the bundle's contents
list without building. ``actdesk.spec`` turns it into PyInstaller calls.
"""

from __future__ import annotations

import fnmatch
import hashlib
import platform
import re
import sys
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGING = ROOT / "packaging"
RESOURCES = ROOT / "resources"
HOOKS = PACKAGING / "hooks"
ENTRY_SCRIPT = ROOT / "actdesk" / "__main__.py"
APP_ICON = RESOURCES / "icons" / "hicolor" / "256x256" / "apps" / "actdesk.png"
"""Windows and macOS executables take their icon from this PNG (PyInstaller converts it with Pillow)."""

ENTRY_POINT_GROUP = "actdesk"

QT_MODULES = ("QtCore", "QtGui", "QtWidgets", "QtSvg", "QtOpenGL", "QtOpenGLWidgets")
"""The PySide6 modules the bundle keeps: the app's three, and the ones pyqtgraph imports when present."""

EXCLUDED_MODULES = (
    # torch.compile's GPU code generator (0.9 GB of compiler and headers): actdesk never compiles a
    # model, and torch imports it only behind a "has triton?" check.
    "triton",
    # Test suites and tooling. torch.utils.checkpoint imports torch.testing._internal.logging_tensor,
    # so only the large suites inside torch.testing._internal go.
    "torch.testing._internal.opinfo",
    "torch.testing._internal.distributed",
    "torch.testing._internal.generated",
    "torch.testing._internal.optests",
    "torch.testing._internal.common_methods_invocations",
    "tensorboard",
    "torch.utils.tensorboard",
    "pytest",
    "_pytest",
    "pytestqt",
    "actdesk.testing",  # the pytest plugin for plugin authors: needs pytest, which a user's app lacks
    "PyInstaller",
    "pip",
    "setuptools",
    "pkg_resources",
    # Packages optional code paths of torch and pyqtgraph reach for, none of which actdesk uses.
    "tkinter",
    "matplotlib",
    "IPython",
    "pandas",
    "scipy",
    # The other Qt bindings pyqtgraph supports.
    "PyQt5",
    "PyQt6",
    "PySide2",
)

EXCLUDED_FILES = (
    "torch/include/*",  # C++ headers for building extensions
    "torch/share/*",  # CMake files, same
    "torch/bin/protoc*",  # the protobuf compiler (torch_shm_manager stays: DataLoader workers use it)
    "torch/bin/test_*",  # torch's C++ tests, which CPU-only wheels ship
    "torch/bin/*Test",
    "torch/lib/*_test.so",  # libraries only those tests load
)
"""Patterns (``fnmatch``, ``/``-separated) on paths inside the bundle that the hooks collect but the app never opens."""

class PackagingError(Exception):
    """A build that cannot go ahead; the message says what is missing and how to fix it."""


@dataclass(frozen=True)
class PluginDistribution:
    """A built-in plugin package from ``plugins/actdesk-*``."""

    name: str
    """The distribution name, e.g. ``actdesk-r3d``."""
    source: Path
    packages: tuple[str, ...]
    entry_points: dict[str, str]
    """Entry-point name -> module, of the ``actdesk`` group."""


def builtin_plugin_distributions(root: Path = ROOT) -> list[PluginDistribution]:
    """The plugin packages under ``root/plugins``, checked against ``BUILTIN_PLUGINS``.

    :raises PackagingError: when a package declares no ``actdesk`` entry point, or when
        the packages and ``actdesk.plugins.builtin.BUILTIN_PLUGINS`` do not name the
        same modules (a plugin would be missing from the bundle, or registered but absent).
    """
    from actdesk.plugins.builtin import BUILTIN_PLUGINS

    found = []
    for pyproject in sorted((root / "plugins").glob("actdesk-*/pyproject.toml")):
        with open(pyproject, "rb") as f:
            data = tomllib.load(f)
        project = data.get("project", {})
        entry_points = dict(project.get("entry-points", {}).get(ENTRY_POINT_GROUP, {}))
        if not entry_points:
            raise PackagingError(f"{pyproject}: no [project.entry-points.{ENTRY_POINT_GROUP}] table, "
                                 "so it is not an actdesk plugin")
        packages = data.get("tool", {}).get("setuptools", {}).get("packages") or sorted(
            {module.split(".")[0] for module in entry_points.values()})
        found.append(PluginDistribution(project["name"], pyproject.parent, tuple(packages), entry_points))
    modules = {module for dist in found for module in dist.entry_points.values()}
    missing = [m for m in BUILTIN_PLUGINS if m not in modules]
    unlisted = sorted(modules - set(BUILTIN_PLUGINS))
    if missing or unlisted:
        raise PackagingError(
            "the plugin packages under plugins/ and actdesk.plugins.builtin.BUILTIN_PLUGINS disagree: "
            f"listed but no package provides it: {missing or 'none'}; provided but not listed: {unlisted or 'none'}")
    return found


def is_app_module(name: str) -> bool:
    """Whether an ``actdesk.*`` module belongs in the bundle (the filter for ``collect_submodules``)."""
    return not any(name == x or name.startswith(x + ".") for x in EXCLUDED_MODULES)


def excluded_qt_modules(available: Iterable[str] | None = None) -> list[str]:
    """``PySide6.X`` for every PySide6 extension module not in :data:`QT_MODULES`.

    :param available: module names like ``QtCore``; ``None`` lists the installed PySide6.
    """
    if available is None:
        import PySide6

        folder = Path(PySide6.__file__).parent
        available = {p.name.split(".")[0] for p in folder.iterdir()
                     if p.name.startswith("Qt") and p.suffix in (".so", ".pyd")}
    return sorted(f"PySide6.{name}" for name in available if name not in QT_MODULES)


def keep_file(dest_name: str) -> bool:
    """Whether a collected file (its path inside the bundle) stays; see :data:`EXCLUDED_FILES`."""
    path = dest_name.replace("\\", "/")
    return not any(fnmatch.fnmatchcase(path, pattern) for pattern in EXCLUDED_FILES)


def platform_tag() -> str:
    """``linux-x86_64``, ``windows-x86_64``, ``macos-arm64``...: the archive name's platform part."""
    system = {"linux": "linux", "win32": "windows", "darwin": "macos"}.get(sys.platform, sys.platform)
    machine = platform.machine().lower()
    machine = {"amd64": "x86_64", "x64": "x86_64", "aarch64": "arm64"}.get(machine, machine)
    return f"{system}-{machine}"


def app_version(root: Path = ROOT) -> str:
    """``__version__`` of the actdesk package in ``root`` (read from the file, not imported)."""
    init = root / "actdesk" / "__init__.py"
    match = re.search(r'^__version__\s*=\s*["\']([^"\']+)["\']', init.read_text(encoding="utf-8"), re.MULTILINE)
    if not match:
        raise PackagingError(f"{init}: no __version__ = '...' line")
    return match.group(1)


def archive_name(version: str, tag: str) -> str:
    """``actdesk-<version>-<platform>.tar.gz``."""
    return f"actdesk-{version}-{tag}.tar.gz"


def sha256_of(path: Path) -> str:
    """The SHA-256 of a file, as lower-case hex."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def write_sha256(path: Path) -> Path:
    """Write ``<path>.sha256`` in ``sha256sum`` format (so ``sha256sum -c`` checks it); returns it."""
    out = path.with_name(path.name + ".sha256")
    out.write_text(f"{sha256_of(path)}  {path.name}\n", encoding="utf-8")
    return out


def verify_sha256(path: Path) -> None:
    """Check ``path`` against the ``<path>.sha256`` beside it.

    :raises PackagingError: when the checksum file is missing, malformed, names another
        file, or does not match.
    """
    sums = path.with_name(path.name + ".sha256")
    if not sums.is_file():
        raise PackagingError(f"{sums}: missing; the archive cannot be checked")
    match = re.fullmatch(r"([0-9a-f]{64}) [ *](.+)\n?", sums.read_text(encoding="utf-8"))
    if not match:
        raise PackagingError(f"{sums}: not a sha256sum line ('<64 hex digits>  <file name>')")
    if match.group(2) != path.name:
        raise PackagingError(f"{sums}: is for {match.group(2)!r}, not {path.name!r}")
    actual = sha256_of(path)
    if actual != match.group(1):
        raise PackagingError(f"{path}: SHA-256 {actual} does not match {match.group(1)} in {sums.name}")

"""Non-negotiable: the core is headless. Nothing outside actdesk/qt imports Qt."""

from __future__ import annotations

import ast
import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import actdesk

QT_MODULES = ("PySide6", "shiboken6", "pyqtgraph")
PACKAGE_DIR = Path(actdesk.__file__).parent


def _headless_modules() -> list[str]:
    names = []
    for info in pkgutil.walk_packages([str(PACKAGE_DIR)], prefix="actdesk."):
        # actdesk.__main__ runs the app when imported; it only calls actdesk.cli.main.
        if info.name == "actdesk.__main__" or info.name == "actdesk.qt" or info.name.startswith("actdesk.qt."):
            continue
        names.append(info.name)
    return sorted(names)


def test_no_qt_import_statement_outside_qt_package():
    offenders = []
    for path in PACKAGE_DIR.rglob("*.py"):
        if PACKAGE_DIR / "qt" in path.parents:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                mods = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                mods = [node.module]
            else:
                continue
            if any(m.split(".")[0] in QT_MODULES for m in mods):
                offenders.append(f"{path.relative_to(PACKAGE_DIR.parent)}:{node.lineno}")
    assert offenders == [], f"Qt imported outside actdesk/qt: {offenders}"


def test_importing_every_headless_module_loads_no_qt():
    modules = _headless_modules()
    assert "actdesk.core.segments" in modules and "actdesk.cli" in modules
    code = (
        "import importlib, json, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        f"print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {QT_MODULES!r})))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []

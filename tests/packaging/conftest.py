"""Fixtures giving the packaging scripts (packaging/ is a folder of scripts, not a Python package)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

PACKAGING = Path(__file__).resolve().parents[2] / "packaging"


def _load(name: str) -> ModuleType:
    """Import ``packaging/<name>.py`` under a name of its own (``build`` is also PyPA's package)."""
    if str(PACKAGING) not in sys.path:
        sys.path.insert(0, str(PACKAGING))  # the scripts import `bundle` from their folder
    module_name = name if name == "bundle" else f"actdesk_packaging_{name}"
    if module_name not in sys.modules:
        spec = importlib.util.spec_from_file_location(module_name, PACKAGING / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        spec.loader.exec_module(module)
    return sys.modules[module_name]


@pytest.fixture(scope="session")
def bundle() -> ModuleType:
    """packaging/bundle.py: what goes into the app, archive names, checksums."""
    return _load("bundle")


@pytest.fixture(scope="session")
def build_script() -> ModuleType:
    """packaging/build.py."""
    return _load("build")


@pytest.fixture(scope="session")
def smoke_script() -> ModuleType:
    """packaging/smoke_test.py."""
    return _load("smoke_test")

"""Fixtures for the plugin tests: an isolated per-user folder, the test plugins on sys.path,
and fake installed distributions."""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from actdesk.plugins import reset_plugin_manager

TEST_PLUGINS_DIR = Path(__file__).parent / "broken"


@pytest.fixture(autouse=True)
def isolated_plugins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Each test gets its own $ACTDESK_HOME, no disabled plugins, a fresh process-wide manager,
    and sys.path restored afterwards (the manager appends user plugin folders to it)."""
    monkeypatch.setenv("ACTDESK_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("ACTDESK_DISABLE_PLUGINS", raising=False)
    monkeypatch.syspath_prepend(str(TEST_PLUGINS_DIR))
    reset_plugin_manager()
    models = sys.modules.get("testplugin_models")
    if models is not None:
        models.HANG_RELEASE.clear()
    yield
    reset_plugin_manager()
    models = sys.modules.get("testplugin_models")
    if models is not None:
        models.HANG_RELEASE.set()  # no hanging forward outlives its test


@pytest.fixture
def user_plugins_dir() -> Path:
    from actdesk.paths import user_plugins_dir

    return user_plugins_dir()


@pytest.fixture
def make_distribution() -> Callable[..., Path]:
    """Write an installed-looking distribution (modules + .dist-info) into a folder of its own."""

    def make(parent: Path, name: str, *, modules: dict[str, str], entry_points: dict[str, str],
             version: str = "1.0", requires: tuple[str, ...] = ()) -> Path:
        folder = parent / name
        folder.mkdir(parents=True)
        for module, source in modules.items():
            (folder / f"{module}.py").write_text(source)
        info = folder / f"{re.sub(r'[-_.]+', '_', name)}-{version}.dist-info"
        info.mkdir()
        requires_lines = "".join(f"Requires-Dist: {r}\n" for r in requires)
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n{requires_lines}")
        (info / "entry_points.txt").write_text(
            "[actdesk]\n" + "".join(f"{k} = {v}\n" for k, v in entry_points.items()))
        return folder

    return make


@pytest.fixture
def test_plugin_source() -> Callable[[str], str]:
    """The source code of one of the test plugins in broken/, to copy into a distribution."""
    return lambda module: (TEST_PLUGINS_DIR / f"{module}.py").read_text()

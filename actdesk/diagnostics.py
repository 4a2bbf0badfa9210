"""``actdesk --info``: which actdesk, Python, torch, device, media and Qt libraries, and plugins.

Every probe is fenced: a library that fails to import (a missing CUDA library,
a broken FFmpeg) shows up as its error text instead of ending the report, since
that is exactly when a user runs this. PySide6 is not imported (only
``actdesk.qt`` does that); its version comes from the package metadata.
"""

from __future__ import annotations

import importlib.metadata
import json
import platform
import sys
from collections.abc import Callable
from typing import Any

from actdesk import __version__
from actdesk.plugins.manager import PluginManager

QT_DISTRIBUTIONS = ("PySide6-Essentials", "PySide6")


def plugins_summary(manager: PluginManager) -> dict[str, Any]:
    """The plugins, their models and the load errors as JSON-ready data (also ``actdesk plugins --json``)."""
    from actdesk.paths import user_plugins_dir

    return {
        "models": [
            {"name": e.name, "title": e.spec.title, "plugin": e.plugin, "distribution": e.distribution,
             "version": e.version, "status": e.status, "error": e.error}
            for e in manager.models()
        ],
        "plugins": [
            {"name": p.name, "module": p.module, "distribution": p.distribution, "version": p.version,
             "models": list(p.models), "formats": list(p.formats), "status": p.status, "error": p.error}
            for p in manager.plugins()
        ],
        "load_errors": [
            {"plugin": e.plugin, "distribution": e.distribution, "version": e.version, "error": e.error,
             "traceback": e.traceback}
            for e in manager.load_errors
        ],
        "user_plugins_dir": str(user_plugins_dir()),
    }


def collect_diagnostics() -> dict[str, Any]:
    """Everything ``actdesk --info`` reports, as JSON-ready data."""
    from actdesk.paths import user_data_dir

    return {
        "actdesk": __version__,
        "python": f"{platform.python_version()} ({sys.executable})",
        "platform": platform.platform(),
        "frozen": bool(getattr(sys, "frozen", False)),
        "torch": _probe(_torch_info),
        "torchvision": _probe(lambda: importlib.import_module("torchvision").__version__),
        "pyav": _probe(_pyav_info),
        "pyside6": _probe(_qt_version),
        "user_data_dir": str(user_data_dir()),
        "plugins": _probe(_plugins_info),
    }


def print_diagnostics(json_output: bool = False) -> int:
    """Print the diagnostics (as JSON with ``json_output``); returns the exit status, 0."""
    info = collect_diagnostics()
    if json_output:
        print(json.dumps(info, indent=2))
        return 0
    for key in ("actdesk", "python", "platform", "frozen", "torch", "torchvision", "pyav", "pyside6",
                "user_data_dir"):
        value = info[key]
        if isinstance(value, dict):
            value = ", ".join(f"{k} {v}" for k, v in value.items())
        print(f"{key}: {value}")
    plugins = info["plugins"]
    if "error" in plugins and "models" not in plugins:
        print(f"plugins: {plugins['error']}")
        return 0
    print(f"user_plugins_dir: {plugins['user_plugins_dir']}")
    print("plugins:")
    for plugin in plugins["plugins"]:
        where = " ".join(v for v in (plugin["distribution"], plugin["version"]) if v)
        provides = ", ".join(plugin["models"] + [f"format {f}" for f in plugin["formats"]]) or "no models"
        status = plugin["status"] if plugin["status"] != "ok" else provides
        print(f"  {plugin['name']} ({where or plugin['module']}): {status}")
    for error in plugins["load_errors"]:
        print(f"load error: plugin {error['plugin']!r}: {error['error']}")
    return 0


def _probe(probe: Callable[[], Any]) -> Any:
    try:
        return probe()
    except Exception as e:  # a broken library is a finding, not a crash
        return {"error": f"{type(e).__name__}: {e}"}


def _torch_info() -> dict[str, Any]:
    import torch

    cuda = torch.cuda.is_available()
    return {
        "version": torch.__version__,
        "cuda_available": cuda,
        "cuda_build": torch.version.cuda,
        "device": torch.cuda.get_device_name(0) if cuda else "cpu",
        "cudnn": torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None,
        "threads": torch.get_num_threads(),
    }


def _pyav_info() -> dict[str, Any]:
    import av

    return {"version": av.__version__, "ffmpeg": av.ffmpeg_version_info}


def _qt_version() -> str:
    for distribution in QT_DISTRIBUTIONS:
        try:
            return importlib.metadata.version(distribution)
        except importlib.metadata.PackageNotFoundError:
            continue
    raise LookupError("no PySide6 package metadata found (not installed, or a build without its metadata)")


def _plugins_info() -> dict[str, Any]:
    from actdesk.plugins import get_plugin_manager

    return plugins_summary(get_plugin_manager())

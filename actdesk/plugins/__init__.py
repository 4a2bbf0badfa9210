"""Model plugins: pluggy hooks, model specs, the registry and the manager facade.

A plugin author needs ``hookimpl`` and ``ModelSpec``; the rest of the app uses
``get_plugin_manager()`` and never calls pluggy itself. See docs/plugins.md.
"""

from __future__ import annotations

import pluggy

from actdesk.plugins.hookspecs import PROJECT_NAME
from actdesk.plugins.manager import (
    ModelEntry,
    PluginInfo,
    PluginLoadError,
    PluginManager,
    UnknownModelError,
    check_model_output,
    get_plugin_manager,
    reset_plugin_manager,
)
from actdesk.plugins.registry import ModelRegistry
from actdesk.plugins.spec import ModelSpec

hookimpl = pluggy.HookimplMarker(PROJECT_NAME)
"""Marks a plugin function as the implementation of the hook of the same name."""

__all__ = [
    "ModelEntry",
    "ModelRegistry",
    "ModelSpec",
    "PluginInfo",
    "PluginLoadError",
    "PluginManager",
    "UnknownModelError",
    "check_model_output",
    "get_plugin_manager",
    "hookimpl",
    "reset_plugin_manager",
]

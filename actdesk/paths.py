"""Where actdesk finds its bundled resources and keeps per-user data."""

from __future__ import annotations

import os
import sys
from pathlib import Path


def resources_dir() -> Path:
    """The ``resources/`` folder: $ACTDESK_RESOURCES, the frozen bundle's, or the source tree's."""
    env = os.environ.get("ACTDESK_RESOURCES")
    if env:
        return Path(env)
    frozen_root = getattr(sys, "_MEIPASS", None)
    if frozen_root:
        return Path(frozen_root) / "resources"
    return Path(__file__).resolve().parent.parent / "resources"


def bundled_checkpoint() -> Path:
    """The checkpoint the app uses when the user names none."""
    return resources_dir() / "models" / "c3d-attention-synthetic.safetensors"


def user_data_dir() -> Path:
    """Per-user data (plugins, fine-tuned checkpoints, recent files); $ACTDESK_HOME overrides."""
    env = os.environ.get("ACTDESK_HOME")
    if env:
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_data_dir("actdesk", appauthor=False))


def user_plugins_dir() -> Path:
    return user_data_dir() / "plugins"


def user_models_dir() -> Path:
    return user_data_dir() / "models"

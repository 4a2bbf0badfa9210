"""A working test plugin: model ``test-good``; imports ``.testweights`` (safetensors) files."""

from __future__ import annotations

import json

from pathlib import Path

from actdesk.plugins import ModelSpec, hookimpl

SPEC = ModelSpec(name="test-good", title="Test: tiny 3D CNN", clip_len=4, size=(16, 16),
                 description="A tiny real model for the plugin tests.")


@hookimpl
def actdesk_register_models(registry):
    registry.add(SPEC)


@hookimpl
def actdesk_build_model(spec, num_classes):
    if spec.name != SPEC.name:
        return None
    from testplugin_models import TinyClipNet

    return TinyClipNet(num_classes)


@hookimpl
def actdesk_import_weights(spec, path: Path):
    if spec.name != SPEC.name or path.suffix != ".testweights":
        return None
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as f:
        state_dict = {key: f.get_tensor(key) for key in f.keys()}
        metadata = f.metadata()
    # Optional "input": JSON of the input settings the weights expect (clip_len, size, ...),
    # passed through unchecked so tests can hand the app bad values.
    return {"state_dict": state_dict, "labels": metadata["labels"].split(","),
            **json.loads(metadata.get("input", "{}"))}

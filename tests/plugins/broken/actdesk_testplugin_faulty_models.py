"""A test plugin that loads fine but whose models each fail in their own way (see README.md)."""

from __future__ import annotations

from actdesk.plugins import ModelSpec, hookimpl

# model name -> class name in testplugin_models (None: the build hook itself misbehaves)
MODELS: dict[str, str | None] = {
    "test-build-raises": None,
    "test-build-none": None,
    "test-not-a-module": None,
    "test-forward-raises": "ForwardRaises",
    "test-nan-output": "NanOutput",
    "test-inf-output": "InfOutput",
    "test-wrong-shape": "WrongShape",
    "test-hang": "Hangs",
    "test-bad-head": "TinyClipNet",
    "test-frozen": "Frozen",
    "test-unsaved-state": "UnsavedState",
    "test-class-sized-backbone": "ClassSizedBackbone",
}


@hookimpl
def actdesk_register_models(registry):
    for name in MODELS:
        head = "features.0" if name == "test-bad-head" else "classifier"
        registry.add(ModelSpec(name=name, title=f"Test: {name}", clip_len=4, size=(16, 16), head=head))


@hookimpl
def actdesk_build_model(spec, num_classes):
    if spec.name not in MODELS:
        return None
    if spec.name == "test-build-raises":
        raise ValueError("test plugin: cannot build this model")
    if spec.name == "test-build-none":
        return None
    if spec.name == "test-not-a-module":
        return {"weights": []}
    import testplugin_models

    return getattr(testplugin_models, MODELS[spec.name])(num_classes)

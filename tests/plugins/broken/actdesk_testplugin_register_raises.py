"""A test plugin whose ``actdesk_register_models`` raises after adding one model."""

from actdesk.plugins import ModelSpec, hookimpl


@hookimpl
def actdesk_register_models(registry):
    registry.add(ModelSpec(name="test-partial", title="Test: registered before the failure",
                           clip_len=4, size=(16, 16)))
    raise RuntimeError("test plugin: registration fails half-way")

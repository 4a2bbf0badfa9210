"""A test plugin registering a model name that ``actdesk_testplugin_good`` already uses."""

from actdesk.plugins import ModelSpec, hookimpl


@hookimpl
def actdesk_register_models(registry):
    registry.add(ModelSpec(name="test-good", title="Test: same name again", clip_len=4, size=(16, 16)))

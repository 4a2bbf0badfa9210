"""A test plugin implementing a hook that does not exist (``actdesk_build_modle``)."""

from actdesk.plugins import ModelSpec, hookimpl


@hookimpl
def actdesk_register_models(registry):
    registry.add(ModelSpec(name="test-misspelled", title="Test: misspelled hook", clip_len=4, size=(16, 16)))


@hookimpl
def actdesk_build_modle(spec, num_classes):
    return None

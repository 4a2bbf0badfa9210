"""A test plugin whose format is incomplete (no title, exports and imports nothing); it also has a model."""

from actdesk.formats.registry import Format
from actdesk.plugins import ModelSpec, hookimpl


class Incomplete(Format):
    name = "test-incomplete"


@hookimpl
def actdesk_register_models(registry):
    registry.add(ModelSpec(name="test-with-bad-format", title="Test: plugin with a bad format",
                           clip_len=4, size=(16, 16)))


@hookimpl
def actdesk_register_formats(registry):
    registry.add(Incomplete())

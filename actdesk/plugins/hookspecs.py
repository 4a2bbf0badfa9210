"""The hooks an actdesk plugin may implement.

A plugin is a module (or object) with functions marked ``@actdesk.plugins.hookimpl``
and named like the specs below; it is found through the ``actdesk`` entry-point
group (see docs/plugins.md). Every hook here is documented in docs/plugins.md;
a test fails if one is not.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:  # torch stays unimported until a model is built
    import torch

    from actdesk.formats.registry import FormatRegistry
    from actdesk.plugins.registry import ModelRegistry
    from actdesk.plugins.spec import ModelSpec

PROJECT_NAME = "actdesk"
hookspec = pluggy.HookspecMarker(PROJECT_NAME)


@hookspec
def actdesk_register_models(registry: "ModelRegistry") -> None:
    """Declare the model architectures this plugin provides.

    Called once when the plugin manager loads plugins, before any model is
    built. Call ``registry.add(ModelSpec(...))`` for each architecture. Must be
    cheap: import no torch here (the app calls it before the window paints).

    :param registry: collects specs; ``add`` refuses a name already taken.
    """


@hookspec(firstresult=True)
def actdesk_build_model(spec: "ModelSpec", num_classes: int) -> "torch.nn.Module | None":
    """Build a freshly initialised model for ``spec`` with ``num_classes`` outputs.

    Called when a model is needed for inference, training or a checkpoint
    load. Return None when ``spec.name`` is not one of yours; the first
    non-None result wins.

    :param spec: the spec this plugin registered (compare ``spec.name``).
    :param num_classes: size of the output layer (``spec.head``).
    :returns: an ``nn.Module`` mapping ``[B, 3, T, H, W]`` to logits ``[B, num_classes]``.
    """


@hookspec(firstresult=True)
def actdesk_import_weights(spec: "ModelSpec", path: Path) -> "dict[str, Any] | None":
    """Convert a weight file that is not an actdesk checkpoint (say a torchvision ``.pth``).

    Called when the user loads such a file for a model of yours. Load it
    without unpickling code (``torch.load(..., weights_only=True)``). Return
    None when you do not handle ``spec``.

    :param spec: the model the weights are for.
    :param path: the file the user chose.
    :returns: ``{"state_dict": ..., "labels": [...]}`` matching ``actdesk_build_model(spec, len(labels))``,
        plus, where the weights expect other input than ``spec`` declares, any of ``clip_len``,
        ``frame_step``, ``size``, ``mean``, ``std`` and ``standardise_clips`` (default False), and
        optionally ``source`` (a JSON-ready dict kept in the checkpoint's provenance).
    """


@hookspec
def actdesk_register_formats(registry: "FormatRegistry") -> None:
    """Declare the annotation, data-set or video formats this plugin reads or writes.

    Called once when the plugin manager loads plugins, right after
    ``actdesk_register_models``. Call ``registry.add(MyFormat())`` with an
    instance of an ``actdesk.formats.registry.Format`` subclass for each format;
    export, import and the GUI's format lists then offer it. Keep it cheap, as
    for models.

    :param registry: collects formats; ``add`` refuses an incomplete format or a
        name already taken.
    """


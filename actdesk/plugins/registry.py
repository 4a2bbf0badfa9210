"""The model registry a plugin fills in ``actdesk_register_models``."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator

from actdesk.errors import PluginError
from actdesk.plugins.spec import ModelSpec

MODEL_NAME_PATTERN = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
"""Model names: lower-case letters and digits in dash-separated words (``r3d-18``)."""


def spec_problems(spec: object) -> list[str]:
    """What is wrong with a spec's metadata, as sentences; empty when it is complete."""
    if not isinstance(spec, ModelSpec):
        return [f"expected a ModelSpec, got {type(spec).__name__}"]
    problems = []
    if not isinstance(spec.name, str) or not MODEL_NAME_PATTERN.fullmatch(spec.name):
        problems.append(f"name {spec.name!r} is not lower-case words joined by dashes (like 'r3d-18')")
    if not isinstance(spec.title, str) or not spec.title.strip():
        problems.append("title is empty")
    if not isinstance(spec.clip_len, int) or spec.clip_len < 1:
        problems.append(f"clip_len {spec.clip_len!r} is not a positive integer")
    if not isinstance(spec.frame_step, int) or spec.frame_step < 1:
        problems.append(f"frame_step {spec.frame_step!r} is not a positive integer")
    if (not isinstance(spec.size, tuple) or len(spec.size) != 2
            or not all(isinstance(v, int) and v > 0 for v in spec.size)):
        problems.append(f"size {spec.size!r} is not (height, width) in positive integers")
    for field in ("mean", "std"):
        values = getattr(spec, field)
        if (not isinstance(values, tuple) or len(values) != 3
                or not all(isinstance(v, (int, float)) for v in values)):
            problems.append(f"{field} {values!r} is not 3 numbers (one per RGB channel)")
    if isinstance(spec.std, tuple) and any(isinstance(v, (int, float)) and v <= 0 for v in spec.std):
        problems.append(f"std {spec.std!r} has a value <= 0")
    if not isinstance(spec.standardise_clips, bool):
        problems.append(f"standardise_clips {spec.standardise_clips!r} is not True or False")
    if not isinstance(spec.head, str) or not spec.head:
        problems.append("head is empty (the dotted path of the final nn.Linear)")
    if not isinstance(spec.train_defaults, dict):
        problems.append(f"train_defaults {spec.train_defaults!r} is not a dict")
    return problems


class ModelRegistry:
    """Model specs by name, each stamped with the plugin that registered it.

    The plugin manager hands each plugin a view bound to that plugin's name
    (:meth:`for_plugin`), so ``add`` knows who registers what without the
    plugin saying so.
    """

    def __init__(self) -> None:
        self._specs: dict[str, ModelSpec] = {}
        self._plugin = ""

    def for_plugin(self, plugin: str) -> ModelRegistry:
        """A view of this registry whose ``add`` stamps specs with ``plugin``."""
        view = ModelRegistry()
        view._specs = self._specs  # shared: a view adds to the same registry
        view._plugin = plugin
        return view

    def add(self, spec: ModelSpec) -> ModelSpec:
        """Register ``spec`` (its ``plugin`` field filled in) and return the stored spec.

        :raises PluginError: the spec is incomplete, or its name is already taken
            (the message names both plugins).
        """
        problems = spec_problems(spec)
        if problems:
            name = getattr(spec, "name", "?")
            raise PluginError(self._plugin, f"model {name!r}: " + "; ".join(problems))
        taken = self._specs.get(spec.name)
        if taken is not None:
            raise PluginError(self._plugin, f"model name {spec.name!r} is already registered "
                                            f"by plugin {taken.plugin!r}")
        stored = dataclasses.replace(spec, plugin=self._plugin)
        self._specs[spec.name] = stored
        return stored

    def remove_plugin(self, plugin: str) -> None:
        """Forget every spec registered by ``plugin`` (after it failed to load)."""
        for name in [n for n, s in self._specs.items() if s.plugin == plugin]:
            del self._specs[name]

    def get(self, name: str) -> ModelSpec | None:
        return self._specs.get(name)

    def names(self) -> list[str]:
        return sorted(self._specs)

    def __iter__(self) -> Iterator[ModelSpec]:
        return iter(sorted(self._specs.values(), key=lambda s: s.name))

    def __len__(self) -> int:
        return len(self._specs)

    def __contains__(self, name: object) -> bool:
        return name in self._specs

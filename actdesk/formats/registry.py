"""The format registry: every annotation, data-set and video format actdesk exports or imports.

A format is an instance of a :class:`Format` subclass with a ``name``, a
``title``, a ``kind``, the file suffixes it reads and writes, a cheap
:meth:`Format.detect`, and :meth:`Format.export` and/or :meth:`Format.import_`.
actdesk's own formats are listed in :data:`BUILTIN_FORMATS`; a plugin adds
more from its ``actdesk_register_formats(registry)`` hook (docs/plugins.md),
and the plugin manager's ``formats()`` collects them all. The export and
import code asks the registry, never a list of its own, so a new format
needs no change anywhere else.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from actdesk.core.tasks import ProgressFn, StopFn, never_stop, no_progress
from actdesk.errors import ActdeskError, FormatError, PluginError

if TYPE_CHECKING:
    from actdesk.formats.data import ExportSet, Imported
    from actdesk.formats.safety import OutputFolder

KINDS = ("annotations", "dataset", "video")
"""``annotations``: labels for other annotation tools; ``dataset``: a training set (labels.txt,
splits); ``video``: videos rendered with their labels."""
FORMAT_NAME_PATTERN = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
BUILTIN_PLUGIN = "actdesk"
"""The plugin name the registry records for actdesk's own formats."""

BUILTIN_FORMATS: tuple[str, ...] = (
    "actdesk.formats.csv_format:CsvFormat",
    "actdesk.formats.clips:ClipsFormat",
    "actdesk.formats.mmaction:MMActionFormat",
    "actdesk.formats.kinetics:KineticsFormat",
    "actdesk.formats.elan:ElanFormat",
    "actdesk.formats.boris:BorisFormat",
    "actdesk.formats.label_studio:LabelStudioFormat",
    "actdesk.formats.activitynet:ActivityNetFormat",
    "actdesk.formats.ava:AvaFormat",
    "actdesk.formats.ucf:Ucf101Format",
    "actdesk.formats.ucf:Ucf50Format",
    "actdesk.formats.hmdb:Hmdb51Format",
    "actdesk.formats.overlay_video:OverlayFormat",
)
"""``module:class`` of each built-in format, in the order lists show them (and detection tries them)."""


class Format:
    """One format. Subclass it, set the class attributes, override what it supports.

    ``name`` is what ``--format`` takes (lower-case words joined by dashes);
    ``suffixes`` are the file suffixes it reads and writes (lower case, with
    the dot); ``reads_folders`` says that :meth:`import_` takes a folder (a
    data-set layout). ``needs_video_files`` says that :meth:`export` decodes
    the videos (clips, overlays), so the export checks they are present first.
    """

    name: str = ""
    title: str = ""
    kind: str = "annotations"
    suffixes: tuple[str, ...] = ()
    reads_folders: bool = False
    needs_video_files: bool = False
    description: str = ""

    def detect(self, path: Path) -> bool:
        """Whether ``path`` looks like this format; must be cheap (a suffix, a first line) and never raise.

        Used by import when no format is named. The default matches files by suffix.
        """
        return path.is_file() and path.suffix.lower() in self.suffixes

    def export(self, data: "ExportSet", out: "OutputFolder", *, progress: ProgressFn = no_progress,
               should_stop: StopFn = never_stop) -> None:
        """Write ``data`` into ``out`` (every path through ``out.path(...)``).

        Long exports call ``progress(done, total, message)`` and raise
        :class:`actdesk.errors.Cancelled` when ``should_stop()`` returns True.
        """
        raise NotImplementedError(f"format {self.name!r} does not export")

    def import_(self, path: Path) -> "Imported":
        """Read ``path`` (a file, or a folder when :attr:`reads_folders`).

        :raises FormatError: naming the file, the line and what was expected.
        """
        raise NotImplementedError(f"format {self.name!r} does not import")

    @property
    def can_export(self) -> bool:
        return type(self).export is not Format.export

    @property
    def can_import(self) -> bool:
        return type(self).import_ is not Format.import_

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"


def format_problems(fmt: object) -> list[str]:
    """What is wrong with a format object, as sentences; empty when it is complete."""
    if not isinstance(fmt, Format):
        return [f"expected an actdesk.formats.registry.Format instance, got {type(fmt).__name__}"]
    problems = []
    if not isinstance(fmt.name, str) or not FORMAT_NAME_PATTERN.fullmatch(fmt.name):
        problems.append(f"name {fmt.name!r} is not lower-case words joined by dashes (like 'label-studio')")
    if not isinstance(fmt.title, str) or not fmt.title.strip():
        problems.append("title is empty")
    if fmt.kind not in KINDS:
        problems.append(f"kind {fmt.kind!r} is not one of {', '.join(KINDS)}")
    if not isinstance(fmt.suffixes, tuple) or not all(isinstance(s, str) and s.startswith(".") and s == s.lower()
                                                       for s in fmt.suffixes):
        problems.append(f"suffixes {fmt.suffixes!r} is not a tuple of lower-case suffixes like ('.eaf',)")
    if not fmt.can_export and not fmt.can_import:
        problems.append("it neither exports nor imports (override export and/or import_)")
    return problems


class FormatRegistry:
    """Formats by name, each recorded with the plugin that added it.

    The plugin manager hands each plugin a view bound to its name
    (:meth:`for_plugin`), as it does for models.
    """

    def __init__(self) -> None:
        self._formats: dict[str, Format] = {}
        self._plugins: dict[str, str] = {}
        self._plugin = BUILTIN_PLUGIN

    def for_plugin(self, plugin: str) -> "FormatRegistry":
        """A view of this registry whose :meth:`add` records ``plugin`` as the adder."""
        view = FormatRegistry()
        view._formats, view._plugins, view._plugin = self._formats, self._plugins, plugin
        return view

    def add(self, fmt: Format) -> Format:
        """Register ``fmt`` and return it.

        :raises PluginError: the format is incomplete, or its name is taken
            (the message names both plugins).
        """
        problems = format_problems(fmt)
        if problems:
            raise PluginError(self._plugin, f"format {getattr(fmt, 'name', '?')!r}: " + "; ".join(problems))
        if fmt.name in self._formats:
            raise PluginError(self._plugin, f"format name {fmt.name!r} is already registered by plugin "
                                            f"{self._plugins[fmt.name]!r}")
        self._formats[fmt.name] = fmt
        self._plugins[fmt.name] = self._plugin
        return fmt

    def remove_plugin(self, plugin: str) -> None:
        """Forget every format ``plugin`` added (it failed)."""
        for name in [n for n, p in self._plugins.items() if p == plugin]:
            del self._formats[name], self._plugins[name]

    def get(self, name: str) -> Format:
        """The format called ``name``; ActdeskError listing the known names otherwise."""
        fmt = self._formats.get(name)
        if fmt is None:
            raise ActdeskError(f"unknown format {name!r}; known: {', '.join(self._formats) or '(none)'}")
        return fmt

    def plugin_of(self, name: str) -> str:
        """The plugin that added format ``name`` (``actdesk`` for the built-in ones)."""
        self.get(name)
        return self._plugins[name]

    def exporters(self, kind: str | None = None) -> list[Format]:
        return [f for f in self if f.can_export and kind in (None, f.kind)]

    def importers(self, kind: str | None = None) -> list[Format]:
        return [f for f in self if f.can_import and kind in (None, f.kind)]

    def for_import(self, path: Path, name: str | None = None) -> Format:
        """The format to read ``path`` with: ``name`` when given, else the one whose ``detect`` accepts it,
        else the first that claims the file's suffix (its reader then says what is wrong).

        :raises FormatError: no format, or several, recognise the file.
        """
        if name is not None:
            fmt = self.get(name)
            if not fmt.can_import:
                readable = ", ".join(f.name for f in self.importers())
                raise FormatError(path, f"format {name!r} cannot be imported (formats that can: {readable})")
            return fmt
        if not path.exists():
            raise FormatError(path, "no such file or folder")
        found = [f for f in self.importers() if _detects(f, path)]
        if len(found) == 1:
            return found[0]
        claiming = [f for f in self.importers() if path.is_file() and path.suffix.lower() in f.suffixes]
        if not found and claiming:
            # Recognised by no content but claimed by suffix: the first claimant's reader says what is wrong.
            return claiming[0]
        if not found:
            known = ", ".join(f.name for f in self.importers())
            what = "folder layout" if path.is_dir() else f"format {path.suffix or '(no suffix)'!r}"
            raise FormatError(path, f"unknown {what}; choose one with --format (known: {known})")
        raise FormatError(path, f"could be any of {', '.join(f.name for f in found)}; choose one with --format")

    def names(self) -> list[str]:
        return list(self._formats)

    def __iter__(self) -> Iterator[Format]:
        return iter(list(self._formats.values()))

    def __len__(self) -> int:
        return len(self._formats)

    def __contains__(self, name: object) -> bool:
        return name in self._formats


def _detects(fmt: Format, path: Path) -> bool:
    try:
        return bool(fmt.detect(path))
    except Exception:  # a plugin's detect must not stop the others from being asked
        return False


def builtin_formats() -> FormatRegistry:
    """A registry holding actdesk's own formats (:data:`BUILTIN_FORMATS`)."""
    registry = FormatRegistry()
    for entry in BUILTIN_FORMATS:
        module, _, cls = entry.partition(":")
        registry.add(getattr(importlib.import_module(module), cls)())
    return registry

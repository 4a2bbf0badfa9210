"""Errors a user can be shown as they are.

Every failure caused by input (a file, a plugin, an argument) is raised as an
:class:`ActdeskError` whose message says *what* went wrong and *where* (file,
line, plugin name). The CLI prints the message and exits 2; the GUI shows it in
a dialog. Anything else reaching the top level is a bug and keeps its traceback.
"""

from __future__ import annotations


class ActdeskError(Exception):
    """Base class: the message is complete and meant for the user."""


class MediaError(ActdeskError):
    """A video that cannot be opened, probed or decoded."""

    def __init__(self, path: object, problem: str):
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


class FormatError(ActdeskError):
    """A malformed annotation, data set or segments file."""

    def __init__(self, path: object, problem: str, line: int | None = None):
        self.path = str(path)
        self.line = line
        self.problem = problem
        where = f"{self.path}:{line}" if line is not None else self.path
        super().__init__(f"{where}: {problem}")


class ProjectError(ActdeskError):
    """A project file that cannot be opened, is locked, or is from a newer version."""


class LabelError(ActdeskError):
    """A label name or label set that is not acceptable."""


class PluginError(ActdeskError):
    """A plugin failed to load, or a model it provides failed."""

    def __init__(self, plugin: str, problem: str):
        self.plugin = plugin
        self.problem = problem
        super().__init__(f"plugin {plugin!r}: {problem}")


class CheckpointError(ActdeskError):
    """A checkpoint file that is missing, unreadable or does not fit the model."""

    def __init__(self, path: object, problem: str):
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


class Cancelled(ActdeskError):
    """Long work stopped because its ``should_stop`` callable returned True."""

    def __init__(self, what: str = "operation"):
        super().__init__(f"{what} cancelled")

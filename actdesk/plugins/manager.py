"""The plugin manager facade: the only code that calls ``pm.hook.*``.

Plugins come from three places, in this order: the built-in modules
(:data:`actdesk.plugins.builtin.BUILTIN_PLUGINS`, so a frozen build works
without entry-point metadata), the ``actdesk`` entry-point group of the running
environment, and the per-user plugin folder (``actdesk plugins install``). A
plugin that fails to import, names a hook that does not exist, or raises while
registering its models or formats is recorded as a :class:`PluginLoadError`
and removed; the others keep working. Each model is built by the plugin that registered it
only, so one broken plugin cannot break another's models.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import os
import sys
import threading
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, NoReturn

import pluggy

from actdesk.errors import ActdeskError, PluginError
from actdesk.formats.registry import FormatRegistry, builtin_formats
from actdesk.plugins import hookspecs
from actdesk.plugins.builtin import BUILTIN_PLUGINS
from actdesk.plugins.registry import ModelRegistry
from actdesk.plugins.spec import ModelSpec

if TYPE_CHECKING:
    import torch

ENTRY_POINT_GROUP = "actdesk"
DISABLE_ENV = "ACTDESK_DISABLE_PLUGINS"
"""Comma-separated plugin names (entry-point name, module or distribution) not to load."""


@dataclass(frozen=True)
class PluginLoadError:
    """A plugin that could not be loaded, and why."""

    plugin: str
    distribution: str
    version: str
    error: str
    """One line: the exception type and message."""
    traceback: str
    """The formatted traceback, for the details view."""


@dataclass(frozen=True)
class ModelEntry:
    """One registered model, with where it came from and whether it works."""

    spec: ModelSpec
    plugin: str
    distribution: str
    version: str
    status: str
    """``"ok"``, or ``"error"`` once building or running the model has failed."""
    error: str = ""

    @property
    def name(self) -> str:
        return self.spec.name


@dataclass(frozen=True)
class PluginInfo:
    """One plugin the manager tried to load."""

    name: str
    module: str
    distribution: str
    version: str
    models: tuple[str, ...]
    formats: tuple[str, ...]
    status: str
    """``"ok"``, ``"error"`` (see ``error`` and :attr:`PluginManager.load_errors`) or ``"disabled"``."""
    error: str = ""


class UnknownModelError(PluginError):
    """No loaded plugin provides the model name asked for."""

    def __init__(self, name: str, available: list[str], failed_plugins: list[str]):
        self.model = name
        self.plugin = ""
        self.problem = (f"unknown model {name!r}; available: "
                        f"{', '.join(available) if available else '(none)'}")
        if failed_plugins:
            self.problem += (f"; plugins that failed to load: {', '.join(failed_plugins)} "
                             "(see `actdesk plugins`)")
        ActdeskError.__init__(self, self.problem)


def disabled_from_env() -> frozenset[str]:
    """The plugin names listed in ``$ACTDESK_DISABLE_PLUGINS``."""
    raw = os.environ.get(DISABLE_ENV, "")
    return frozenset(part.strip() for part in raw.split(",") if part.strip())


def check_model_output(plugin: str, logits: Any, batch: int, num_classes: int) -> None:
    """Check a model's output before anyone trusts it: a finite float tensor ``[batch, num_classes]``.

    :raises PluginError: naming ``plugin``, for a non-tensor, a wrong shape, NaN or inf.
    """
    import torch

    if not isinstance(logits, torch.Tensor):
        raise PluginError(plugin, f"model returned {type(logits).__name__}, expected a tensor "
                                  f"of logits [{batch}, {num_classes}]")
    if tuple(logits.shape) != (batch, num_classes):
        raise PluginError(plugin, f"model returned logits of shape {list(logits.shape)}, "
                                  f"expected [{batch}, {num_classes}]")
    if not logits.is_floating_point():
        raise PluginError(plugin, f"model returned {logits.dtype} logits, expected floating point")
    finite = torch.isfinite(logits)
    if not bool(finite.all()):
        nan = int(torch.isnan(logits).sum())
        inf = int(logits.numel() - finite.sum()) - nan
        raise PluginError(plugin, f"model returned non-finite logits ({nan} NaN, {inf} inf "
                                  f"of {logits.numel()} values)")


@dataclass
class _Plugin:
    name: str
    module: str
    distribution: str
    version: str
    status: str = "ok"
    error: str = ""


class PluginManager:
    """Loads plugins, keeps their models in a :class:`ModelRegistry`, and builds models.

    :param disabled: plugin names (entry-point name, module or distribution) not
        to load; ``None`` reads ``$ACTDESK_DISABLE_PLUGINS``.
    """

    def __init__(self, *, disabled: Iterable[str] | None = None) -> None:
        self._pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
        self._pm.add_hookspecs(hookspecs)
        self._disabled = frozenset(disabled) if disabled is not None else disabled_from_env()
        self._plugins: dict[str, _Plugin] = {}
        self._model_errors: dict[str, str] = {}
        self.registry = ModelRegistry()
        self._plugin_formats = FormatRegistry()  # formats added by plugins; formats() adds actdesk's own
        self._all_formats: FormatRegistry | None = None
        self.load_errors: list[PluginLoadError] = []

    # -- loading -----------------------------------------------------------

    def load_plugins(self, *, builtins: Iterable[str] = BUILTIN_PLUGINS, entry_points: bool = True,
                     user_dir: Path | None = None) -> None:
        """Load built-in modules, then the ``actdesk`` entry points, then the per-user folder.

        :param builtins: module names registered directly; one not installed is skipped.
        :param entry_points: whether to read the environment's entry points.
        :param user_dir: the per-user plugin folder; ``None`` is
            :func:`actdesk.paths.user_plugins_dir`.
        """
        found = list(importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)) if entry_points else []
        by_module = {ep.module: ep for ep in found}
        for module_name in builtins:
            if not _is_importable(module_name):
                continue
            ep = by_module.get(module_name)
            name = ep.name if ep is not None else module_name
            dist, version = _dist_of(ep) if ep is not None else ("built-in", "")
            self._load(name, module_name, lambda m=module_name: importlib.import_module(m), dist, version)
        for ep in found:
            self._load_entry_point(ep)
        if user_dir is None:
            from actdesk.paths import user_plugins_dir

            user_dir = user_plugins_dir()
        self._load_user_dir(user_dir)

    def register_module(self, module: ModuleType | object | str, *, name: str | None = None,
                        distribution: str = "", version: str = "") -> str:
        """Load one plugin given as an object or an importable module name; returns its name.

        Failures are recorded in :attr:`load_errors` like any other plugin's.
        """
        module_name = module if isinstance(module, str) else getattr(module, "__name__", repr(module))
        name = name or module_name

        def load() -> object:
            return importlib.import_module(module) if isinstance(module, str) else module

        self._load(name, module_name, load, distribution, version)
        return name

    def _load_entry_point(self, ep: importlib.metadata.EntryPoint) -> None:
        dist, version = _dist_of(ep)
        self._load(ep.name, ep.module, ep.load, dist, version)

    def _load_user_dir(self, user_dir: Path) -> None:
        if not user_dir.is_dir():
            return
        for folder in sorted(p for p in user_dir.iterdir() if p.is_dir() and not p.name.startswith(".")):
            if str(folder) not in sys.path:
                sys.path.append(str(folder))
                importlib.invalidate_caches()
            for dist in importlib.metadata.distributions(path=[str(folder)]):
                for ep in dist.entry_points.select(group=ENTRY_POINT_GROUP):
                    self._load_entry_point(ep)

    def _load(self, name: str, module_name: str, load: Callable[[], object], distribution: str,
              version: str) -> None:
        """Import, register, validate and ask for models, recording any failure against ``name``."""
        if any(p.module == module_name for p in self._plugins.values()):
            return  # the same module seen again (built-in and entry point, or two paths)
        if name in self._plugins:
            other = self._plugins[name]
            self.load_errors.append(PluginLoadError(
                name, distribution, version,
                f"module {module_name!r} was not loaded: the plugin name {name!r} is already taken "
                f"by module {other.module!r} of {other.distribution or 'an unknown distribution'}", ""))
            return
        record = _Plugin(name, module_name, distribution, version)
        self._plugins[name] = record
        if {name, module_name, distribution} & self._disabled:
            record.status = "disabled"
            return
        try:
            plugin = load()
            version = version or str(getattr(plugin, "__version__", ""))
            record.version = version
            self._pm.register(plugin, name=name)
        except (Exception, SystemExit) as e:  # a plugin may raise anything while importing
            self._fail(record, _one_line(e), traceback.format_exc())
            return
        try:
            self._pm.check_pending()
        except pluggy.PluginValidationError as e:
            unknown = [n for n, caller in vars(self._pm.hook).items()
                       if isinstance(caller, pluggy.HookCaller) and not caller.has_spec() and caller.get_hookimpls()]
            problem = f"implements unknown hook {', '.join(map(repr, unknown))} (misspelled?)" if unknown else str(e)
            self._fail(record, f"{problem}; the hooks are: {', '.join(_hook_names())}", "")
            return
        for hook, registry in (("actdesk_register_models", self.registry),
                               ("actdesk_register_formats", self._plugin_formats)):
            try:
                self._call(name, hook, registry=registry.for_plugin(name))
            except Exception as e:
                problem = e.problem if isinstance(e, PluginError) else _one_line(e)
                self._fail(record, f"{hook} failed: {problem}", traceback.format_exc())
                return
        self._all_formats = None

    def _fail(self, record: _Plugin, error: str, tb: str) -> None:
        record.status, record.error = "error", error
        self.registry.remove_plugin(record.name)
        self._plugin_formats.remove_plugin(record.name)
        if self._pm.has_plugin(record.name):
            self._pm.unregister(name=record.name)
        self.load_errors.append(PluginLoadError(record.name, record.distribution, record.version, error, tb))

    def _call(self, plugin: str, hook: str, /, **kwargs: Any) -> Any:
        """Call ``hook`` of one plugin only, so another plugin's failure cannot leak in."""
        others = [p for n, p in self._pm.list_name_plugin() if n != plugin and p is not None]
        return self._pm.subset_hook_caller(hook, remove_plugins=others)(**kwargs)

    # -- queries -------------------------------------------------------------

    def plugins(self) -> list[PluginInfo]:
        """Every plugin seen: loaded, failed or disabled."""
        models: dict[str, list[str]] = {}
        for spec in self.registry:
            models.setdefault(spec.plugin, []).append(spec.name)
        formats: dict[str, list[str]] = {}
        for fmt in self._plugin_formats:
            formats.setdefault(self._plugin_formats.plugin_of(fmt.name), []).append(fmt.name)
        return [PluginInfo(p.name, p.module, p.distribution, p.version, tuple(models.get(p.name, ())),
                           tuple(formats.get(p.name, ())), p.status, p.error)
                for p in sorted(self._plugins.values(), key=lambda p: p.name)]

    def models(self) -> list[ModelEntry]:
        """Every registered model, sorted by name."""
        entries = []
        for spec in self.registry:
            plugin = self._plugins[spec.plugin]
            error = self._model_errors.get(spec.name, "")
            entries.append(ModelEntry(spec, plugin.name, plugin.distribution, plugin.version,
                                      "error" if error else "ok", error))
        return entries

    def spec(self, name: str) -> ModelSpec:
        """The spec registered as ``name``.

        :raises UnknownModelError: (a PluginError) listing the available names.
        """
        spec = self.registry.get(name)
        if spec is None:
            failed = sorted({e.plugin for e in self.load_errors})
            raise UnknownModelError(name, self.registry.names(), failed)
        return spec

    def formats(self) -> FormatRegistry:
        """actdesk's own formats, then those the plugins add (built on first use, then kept).

        A plugin format whose name an actdesk format already has is left out and
        reported in :attr:`load_errors`.
        """
        if self._all_formats is None:
            registry = builtin_formats()
            for fmt in self._plugin_formats:
                plugin = self._plugins[self._plugin_formats.plugin_of(fmt.name)]
                try:
                    registry.for_plugin(plugin.name).add(fmt)
                except PluginError as e:
                    error = PluginLoadError(plugin.name, plugin.distribution, plugin.version,
                                            f"actdesk_register_formats: {e.problem}", "")
                    if error not in self.load_errors:  # rebuilt after each later plugin load
                        self.load_errors.append(error)
            self._all_formats = registry
        return self._all_formats

    def record_model_error(self, name: str, error: str) -> None:
        """Mark model ``name`` as failing (shown by :meth:`models`), e.g. after its forward raised."""
        self._model_errors[name] = error

    # -- building --------------------------------------------------------------

    def build_model(self, name: str, num_classes: int) -> torch.nn.Module:
        """A freshly initialised model ``name`` with ``num_classes`` outputs.

        :raises PluginError: naming the plugin when its hook raises, returns None
            or returns something that is not an ``nn.Module``.
        """
        import torch

        spec = self.spec(name)
        if not isinstance(num_classes, int) or num_classes < 1:
            raise PluginError(spec.plugin, f"model {name!r}: num_classes must be a positive integer, "
                                           f"got {num_classes!r}")
        model = self._call_model_hook(spec, "actdesk_build_model", "building model",
                                      spec=spec, num_classes=num_classes)
        if model is None:
            self._model_failed(spec, f"its actdesk_build_model returned None for model {name!r}, "
                                     "which it registered")
        if not isinstance(model, torch.nn.Module):
            self._model_failed(spec, f"actdesk_build_model returned {type(model).__name__} for model "
                                     f"{name!r}, expected a torch.nn.Module")
        return model

    def import_weights(self, name: str, path: Path) -> dict[str, Any]:
        """Convert a foreign weight file (say a torchvision ``.pth``) for model ``name``.

        :returns: ``{"state_dict": ..., "labels": [...]}``.
        :raises PluginError: when the plugin does not handle such files, fails, or
            returns something else.
        """
        spec = self.spec(name)
        result = self._call_model_hook(spec, "actdesk_import_weights", f"importing {path} for model",
                                       spec=spec, path=Path(path))
        if result is None:
            raise PluginError(spec.plugin, f"model {name!r} cannot import weight files like {path} "
                                           "(the plugin has no actdesk_import_weights for it)")
        if (not isinstance(result, dict) or not hasattr(result.get("state_dict"), "keys")
                or not isinstance(result.get("labels"), list)
                or not all(isinstance(label, str) for label in result["labels"])):
            raise PluginError(spec.plugin, f"actdesk_import_weights for model {name!r} returned "
                                           f"{type(result).__name__}, expected "
                                           "{'state_dict': mapping, 'labels': [str, ...]}")
        return result

    def _call_model_hook(self, spec: ModelSpec, hook: str, doing: str, /, **kwargs: Any) -> Any:
        try:
            return self._call(spec.plugin, hook, **kwargs)
        except Exception as e:  # whatever a plugin raises is the plugin's failure
            self._model_failed(spec, f"{doing} {spec.name!r} failed: {_one_line(e)}", cause=e)

    def _model_failed(self, spec: ModelSpec, problem: str, cause: BaseException | None = None) -> NoReturn:
        self.record_model_error(spec.name, problem)
        raise PluginError(spec.plugin, problem) from cause


def _one_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return f"{type(e).__name__}: {text[0]}" if text else type(e).__name__


def _is_importable(module_name: str) -> bool:
    try:
        return importlib.util.find_spec(module_name) is not None
    except (ImportError, ValueError):  # a missing parent package, or a module without a spec
        return False


def _hook_names() -> list[str]:
    return sorted(n for n, f in vars(hookspecs).items()
                  if callable(f) and hasattr(f, hookspecs.PROJECT_NAME + "_spec"))


def _dist_of(ep: importlib.metadata.EntryPoint) -> tuple[str, str]:
    dist = ep.dist
    return (dist.name, dist.version) if dist is not None else ("", "")


_manager: PluginManager | None = None
_manager_lock = threading.Lock()


def get_plugin_manager() -> PluginManager:
    """The process-wide manager, created and loaded on first use."""
    global _manager
    with _manager_lock:
        if _manager is None:
            manager = PluginManager()
            manager.load_plugins()
            _manager = manager
        return _manager


def reset_plugin_manager() -> None:
    """Forget the process-wide manager (tests; after installing a plugin) so the next use reloads."""
    global _manager
    with _manager_lock:
        _manager = None

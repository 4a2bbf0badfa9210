"""Conformance checks for model plugins, and the pytest plugin that runs them.

A plugin author enables it in a test module of their package::

    pytest_plugins = ["actdesk.testing"]
    ACTDESK_PLUGIN = "actdesk_my_model"   # the plugin module under test

    def test_conformance(actdesk_model_name, actdesk_conformance):
        actdesk_conformance(actdesk_model_name)

``actdesk_model_name`` is parametrised over every model the plugin registers
(one test per model); a plugin that fails to load, or registers no model, gives
one failing test that says why. Without ``ACTDESK_PLUGIN`` the models of every
installed plugin are checked. ``actdesk_conformance`` is
:func:`check_model_conformance` bound to the manager holding that plugin; the
function also works outside pytest.
"""

from __future__ import annotations

import functools
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from actdesk.errors import ActdeskError
from actdesk.plugins.manager import PluginManager, check_model_output, get_plugin_manager
from actdesk.plugins.registry import spec_problems
from actdesk.plugins.spec import ModelSpec

if TYPE_CHECKING:
    import torch

BATCH = 2
CLASS_COUNTS = (3, 5)
MODULE_ATTRIBUTE = "ACTDESK_PLUGIN"
"""Test-module attribute naming the plugin module(s) under test: a string or a list of strings."""


class ConformanceError(AssertionError):
    """A model breaks the plugin contract; the message names the plugin, the model and the check."""

    def __init__(self, spec: ModelSpec, check: str, problem: str):
        self.model = spec.name
        self.plugin = spec.plugin
        self.check = check
        super().__init__(f"model {spec.name!r} of plugin {spec.plugin!r} fails the {check!r} check: {problem}")


def check_model_conformance(spec_or_name: ModelSpec | str, *, manager: PluginManager | None = None) -> None:
    """Run every conformance check on one model, on the CPU, with tiny inputs.

    The checks, in order: the spec is complete; the model builds for 3 and 5
    classes with ``spec.head`` an ``nn.Linear`` of that many outputs; a forward
    pass in eval mode on a random clip ``[2, 3, clip_len, H, W]`` gives finite
    logits ``[2, num_classes]``; saving a checkpoint and loading it back
    (``actdesk.ml.checkpoints``) gives identical outputs; a training step
    changes the head's parameters; replacing the head for 5 classes keeps every other
    weight and gives the layout of a model built for 5 classes.

    :param spec_or_name: the model's spec or registered name.
    :param manager: the manager that loaded the plugin; default: the process-wide one.
    :raises ConformanceError: (an AssertionError) naming the plugin, model and check.
    """
    import torch

    manager = manager or get_plugin_manager()
    spec = manager.spec(spec_or_name.name if isinstance(spec_or_name, ModelSpec) else spec_or_name)
    problems = spec_problems(spec)
    if problems:
        raise ConformanceError(spec, "spec complete", "; ".join(problems))
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        clips = torch.randn(BATCH, 3, spec.clip_len, *spec.size)
        models = {n: _build(manager, spec, n) for n in CLASS_COUNTS}
        model = models[CLASS_COUNTS[0]]
        logits = _check_forward(spec, model, clips, CLASS_COUNTS[0])
        _check_checkpoint_round_trip(spec, manager, model, clips, logits)
        _check_training_step(spec, model, clips, CLASS_COUNTS[0])
        _check_head_replacement(spec, model, models[CLASS_COUNTS[1]], clips)


def _build(manager: PluginManager, spec: ModelSpec, num_classes: int) -> torch.nn.Module:
    from torch import nn

    check = f"builds for {num_classes} classes"
    try:
        model = manager.build_model(spec.name, num_classes)
    except ActdeskError as e:
        raise ConformanceError(spec, check, str(e)) from e
    try:
        head = model.get_submodule(spec.head)
    except AttributeError:
        raise ConformanceError(spec, check, f"spec.head {spec.head!r} names no submodule of "
                                            f"{type(model).__name__}") from None
    if not isinstance(head, nn.Linear):
        raise ConformanceError(spec, check, f"spec.head {spec.head!r} is a {type(head).__name__}, "
                                            "expected the final nn.Linear")
    if head.out_features != num_classes:
        raise ConformanceError(spec, check, f"spec.head {spec.head!r} has {head.out_features} outputs, "
                                            f"expected num_classes={num_classes}")
    return model.cpu()


def _forward(spec: ModelSpec, model: torch.nn.Module, clips: torch.Tensor, num_classes: int,
             check: str) -> torch.Tensor:
    try:
        logits = model(clips)
    except Exception as e:  # the model's own failure, reported against the model
        raise ConformanceError(spec, check, f"forward raised {type(e).__name__}: {e}") from e
    try:
        check_model_output(spec.plugin, logits, BATCH, num_classes)
    except ActdeskError as e:
        raise ConformanceError(spec, check, str(e)) from None
    return logits


def _check_forward(spec: ModelSpec, model: torch.nn.Module, clips: torch.Tensor, num_classes: int) -> torch.Tensor:
    import torch

    model.eval()
    with torch.inference_mode():
        return _forward(spec, model, clips, num_classes, "forward in eval mode")


def _check_training_step(spec: ModelSpec, model: torch.nn.Module, clips: torch.Tensor, num_classes: int) -> None:
    import torch

    check = "training step"
    trainable = [p for p in model.parameters() if p.requires_grad]
    if not trainable:
        raise ConformanceError(spec, check, "the model has no parameter with requires_grad=True")
    head_before = {k: v.detach().clone() for k, v in model.get_submodule(spec.head).named_parameters()}
    model.train()
    optimizer = torch.optim.SGD(trainable, lr=0.1)
    logits = _forward(spec, model, clips, num_classes, check)
    loss = torch.nn.functional.cross_entropy(logits, torch.arange(BATCH) % num_classes)
    try:
        loss.backward()
    except RuntimeError as e:
        raise ConformanceError(spec, check, f"backward failed: {e}") from e
    optimizer.step()
    head = dict(model.get_submodule(spec.head).named_parameters())
    unchanged = [k for k, v in head_before.items() if torch.equal(v, head[k].detach())]
    if unchanged:
        raise ConformanceError(spec, check, f"one SGD step left the head's {', '.join(unchanged)} unchanged "
                                            "(is the head frozen or cut off from the loss?)")
    model.eval()


def _check_checkpoint_round_trip(spec: ModelSpec, manager: PluginManager, model: torch.nn.Module,
                                 clips: torch.Tensor, expected: torch.Tensor) -> None:
    import torch

    from actdesk.ml.checkpoints import CheckpointMeta, load_model, save_checkpoint

    check = "checkpoint round trip"
    labels = [f"class-{i}" for i in range(CLASS_COUNTS[0])]
    with tempfile.TemporaryDirectory(prefix="actdesk-conformance-") as tmp:
        path = Path(tmp) / f"{spec.name}.safetensors"
        try:
            save_checkpoint(path, model.state_dict(), CheckpointMeta.for_spec(spec, labels))
            loaded = load_model(path, manager=manager, device="cpu")
        except ActdeskError as e:
            raise ConformanceError(spec, check, str(e)) from e
    with torch.inference_mode():
        actual = _forward(spec, loaded.model, clips, len(labels), check)
    if not torch.equal(expected, actual):
        diff = float((expected - actual).abs().max())
        raise ConformanceError(spec, check, f"the reloaded model's logits differ by up to {diff:.3g} "
                                            "(state kept outside parameters and buffers?)")


def _check_head_replacement(spec: ModelSpec, model: torch.nn.Module, built_for_more: torch.nn.Module,
                            clips: torch.Tensor) -> None:
    import torch
    from torch import nn

    check = "head replacement"
    num_classes = CLASS_COUNTS[1]
    prefix = spec.head + "."
    backbone = {k: v.clone() for k, v in model.state_dict().items() if not k.startswith(prefix)}
    head = model.get_submodule(spec.head)
    model.set_submodule(spec.head, nn.Linear(head.in_features, num_classes, bias=head.bias is not None))
    after = model.state_dict()
    changed = [k for k, v in backbone.items() if k not in after or not torch.equal(v, after[k])]
    if changed:
        raise ConformanceError(spec, check, f"replacing {spec.head!r} changed other weights: {', '.join(changed[:5])}")
    layout = {k: tuple(v.shape) for k, v in after.items()}
    expected = {k: tuple(v.shape) for k, v in built_for_more.state_dict().items()}
    if layout != expected:
        differing = sorted(k for k in layout.keys() | expected.keys() if layout.get(k) != expected.get(k))
        raise ConformanceError(spec, check, f"after replacing {spec.head!r} for {num_classes} classes the weights "
                               f"do not match a model built for {num_classes}: {', '.join(differing[:5])}")
    model.eval()
    with torch.inference_mode():
        _forward(spec, model, clips, num_classes, check)


# -- the pytest plugin ---------------------------------------------------------

_managers: dict[tuple[str, ...], PluginManager] = {}


def _modules_under_test(module: Any) -> tuple[str, ...]:
    value = getattr(module, MODULE_ATTRIBUTE, None)
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)


def manager_for(modules: tuple[str, ...]) -> PluginManager:
    """A manager with exactly the plugin ``modules`` loaded (none named: the process-wide one)."""
    if not modules:
        return get_plugin_manager()
    if modules not in _managers:
        manager = PluginManager(disabled=())
        for module in modules:
            manager.register_module(module)
        _managers[modules] = manager
    return _managers[modules]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """One test per model of the plugin under test, for tests taking ``actdesk_model_name``."""
    if "actdesk_model_name" not in metafunc.fixturenames:
        return
    manager = manager_for(_modules_under_test(metafunc.module))
    names: list[str | None] = [entry.name for entry in manager.models()]
    ids = list(names)
    if manager.load_errors or not names:
        names.append(None)  # a test that fails with the load errors, so they cannot pass unseen
        ids.append("plugin-load" if manager.load_errors else "no-models")
    metafunc.parametrize("actdesk_model_name", names, ids=ids, indirect=True)


@pytest.fixture
def actdesk_plugin_manager(request: pytest.FixtureRequest) -> PluginManager:
    """The manager holding the plugin(s) named by the test module's ``ACTDESK_PLUGIN``."""
    return manager_for(_modules_under_test(request.module))


@pytest.fixture
def actdesk_model_name(request: pytest.FixtureRequest, actdesk_plugin_manager: PluginManager) -> str:
    """A model name of the plugin under test (parametrised by :func:`pytest_generate_tests`)."""
    name = getattr(request, "param", None)
    if name is not None:
        return name
    errors = actdesk_plugin_manager.load_errors
    if errors:
        pytest.fail("\n\n".join(f"plugin {e.plugin!r} failed to load: {e.error}\n{e.traceback}" for e in errors),
                    pytrace=False)
    pytest.fail(f"no model registered by {', '.join(_modules_under_test(request.module)) or 'any plugin'}",
                pytrace=False)


@pytest.fixture
def actdesk_conformance(actdesk_plugin_manager: PluginManager) -> Callable[[str], None]:
    """:func:`check_model_conformance` for a model name, with the manager of the plugin under test."""
    return functools.partial(check_model_conformance, manager=actdesk_plugin_manager)

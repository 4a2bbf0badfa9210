"""A test plugin for the GUI tests: small real torch models, registered on the app's plugin manager.

``qt-tiny`` is a tiny 3D CNN; ``qt-slow`` is the same network with a pause in
every forward, so a run lasts long enough to cancel it or to probe the event
loop while it streams; ``qt-broken`` fails in its forward pass.
"""

from __future__ import annotations

import time

from actdesk.plugins import ModelSpec, hookimpl

TINY = ModelSpec(name="qt-tiny", title="GUI test: tiny 3D CNN", clip_len=4, size=(16, 16))
SLOW = ModelSpec(name="qt-slow", title="GUI test: tiny 3D CNN, slow", clip_len=4, size=(16, 16))
BROKEN = ModelSpec(name="qt-broken", title="GUI test: forward raises", clip_len=4, size=(16, 16))
SLOW_FORWARD_S = 0.2


@hookimpl
def actdesk_register_models(registry):
    registry.add(TINY)
    registry.add(SLOW)
    registry.add(BROKEN)


@hookimpl
def actdesk_build_model(spec, num_classes):
    if spec.name not in (TINY.name, SLOW.name, BROKEN.name):
        return None
    import torch
    from torch import nn

    class TinyNet(nn.Module):
        def __init__(self, pause_s: float):
            super().__init__()
            self.pause_s = pause_s
            self.features = nn.Sequential(nn.Conv3d(3, 6, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool3d(1))
            self.classifier = nn.Linear(6, num_classes)

        def forward(self, clips: torch.Tensor) -> torch.Tensor:
            if spec.name == BROKEN.name:
                raise RuntimeError("qt-broken always fails")
            if self.pause_s:
                time.sleep(self.pause_s)
            return self.classifier(self.features(clips).flatten(1))

    return TinyNet(SLOW_FORWARD_S if spec.name == SLOW.name else 0.0)

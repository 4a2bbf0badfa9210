"""actdesk: label human actions in video with model help.

Rooms (see docs/ARCHITECTURE.md): ``core`` (segments, labels, project store,
edit commands), ``media`` (PyAV probing, exact frame access, clip streams),
``synth`` (synthetic action videos), ``plugins`` (pluggy hookspecs and the
model registry), ``ml`` (torch: checkpoints, inference, segments, training,
metrics), ``formats`` (import/export), ``cli`` and ``qt`` (the two front ends).
Only ``qt`` imports PySide6.
"""

__version__ = "0.1.0"

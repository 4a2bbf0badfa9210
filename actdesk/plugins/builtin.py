"""Plugin modules shipped with the app.

They are registered by module name as well as through their entry points, so a
frozen build (where entry-point metadata may be missing) still has its models.
A listed module that is not installed is skipped without a word.
"""

from __future__ import annotations

BUILTIN_PLUGINS: tuple[str, ...] = (
    "actdesk_c3d_attention",
    "actdesk_r3d",
    "actdesk_cnn3d_lstm_gru",
    "actdesk_lrcn",
    "actdesk_mnasnet_birnn",
    "actdesk_torchvision",
)

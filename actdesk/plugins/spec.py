"""What a model plugin declares about a model: cheap metadata, no torch import."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class ModelSpec:
    """Metadata of one model architecture, registered by a plugin.

    The model built for a spec takes a float tensor ``[batch, 3, clip_len, H, W]``
    (RGB, values ``(x/255 - mean) / std``, then each clip standardised when
    ``standardise_clips`` is set) and returns logits ``[batch, num_classes]``
    for the *centre* frame of the clip. Clips are sampled every ``frame_step``
    source frames, so a clip spans ``(clip_len - 1) * frame_step + 1`` frames.
    """

    name: str
    """Unique model name, lower-case with dashes (``c3d-attention``)."""
    title: str
    """One line for menus (``3D CNN + attention gate``)."""
    clip_len: int
    """Frames per clip fed to the model."""
    size: tuple[int, int]
    """(height, width) of each frame fed to the model."""
    frame_step: int = 1
    """Take every ``frame_step``-th source frame when building a clip."""
    mean: tuple[float, float, float] = (0.45, 0.45, 0.45)
    std: tuple[float, float, float] = (0.225, 0.225, 0.225)
    standardise_clips: bool = False
    """Scale each clip to zero mean and unit variance per colour channel (over its frames and
    pixels) after ``mean``/``std``. Models trained from scratch on footage whose colours vary
    from video to video learn the motion many times faster with it; leave it off for weights
    trained on ``mean``/``std`` input alone (torchvision's)."""
    head: str = "classifier"
    """Dotted attribute path of the final ``nn.Linear``; replaced when fine-tuning changes the label set."""
    supports_amp: bool = True
    """Whether bf16/fp16 autocast is safe for this model on CUDA."""
    channels_last_3d: bool = False
    """Whether ``torch.channels_last_3d`` speeds this model up on CUDA."""
    version: str = "1"
    """Architecture version; stored in checkpoints, bumped when weights stop fitting."""
    seed: str = ""
    """The design document or repository the architecture follows."""
    paper: str = ""
    """Paper reference (title, arXiv id)."""
    description: str = ""
    train_defaults: dict = field(default_factory=dict)
    """Training defaults the trainer honours: ``lr``, ``batch``, ``epochs``, ``weight_decay``."""
    plugin: str = ""
    """Name of the plugin that registered the spec; filled in by the registry."""

    @property
    def span(self) -> int:
        """Source frames covered by one clip."""
        return (self.clip_len - 1) * self.frame_step + 1

"""Video input through PyAV: probe, PTS frame index, exact frame access, streaming clip batches.

Frame ``n`` is defined by the n-th smallest presentation timestamp of the
video stream (:class:`FrameIndex`), so it is the same picture for the player,
the model and every export, on variable-frame-rate video too. Every problem
with a file raises :class:`actdesk.errors.MediaError` naming the file.
"""

from actdesk.media.clips import ClipBatch, ClipSampling, FrameRing, clip_centers, iter_clip_batches
from actdesk.media.index import FrameIndex, frame_index
from actdesk.media.probe import VideoInfo, probe
from actdesk.media.reader import VideoReader, default_decode_threads

__all__ = [
    "ClipBatch",
    "ClipSampling",
    "FrameIndex",
    "FrameRing",
    "VideoInfo",
    "VideoReader",
    "clip_centers",
    "default_decode_threads",
    "frame_index",
    "iter_clip_batches",
    "probe",
]

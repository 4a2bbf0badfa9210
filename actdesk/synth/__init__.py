"""Synthetic action video with exact truth: stick figures performing a random action script.

No real data set can be downloaded where actdesk is built, so it makes its own,
honestly labelled: the truth is the scripted switch frame of every action.
Everything is decided by ``seed`` (script, body, look, noise), so the same seed
gives the same frames and truth. Seeds below :data:`TRAIN_SEED_LIMIT` are for
training, the rest for evaluation (:func:`check_seed`).

- :func:`generate_video`: render and encode a video file; returns the truth.
- :func:`render_frames`: the frames and labels without encoding (training, tests).
- :func:`synth_truth`: the truth alone, without drawing anything.
"""

from __future__ import annotations

import math
import numbers
import os
from collections.abc import Iterable, Iterator
from fractions import Fraction
from pathlib import Path

import numpy as np

from actdesk.core.segments import Segment
from actdesk.core.tasks import ProgressFn, StopFn, never_stop, no_progress
from actdesk.errors import ActdeskError, Cancelled, MediaError
from actdesk.synth.actions import ACTIONS, ALL_ACTIONS, EXTRA_ACTIONS
from actdesk.synth.render import Scene, make_scene, render_script
from actdesk.synth.script import (
    TRAIN_SEED_LIMIT, ScriptItem, check_seed, make_script, script_segments, validate_actions,
)

__all__ = [
    "ACTIONS", "EXTRA_ACTIONS", "ALL_ACTIONS", "TRAIN_SEED_LIMIT", "check_seed",
    "generate_video", "render_frames", "synth_truth", "plan_video", "ENCODERS",
]

MIN_SIDE, MAX_SIDE = 32, 4096
MAX_FPS = 240

# suffix -> (container format, codec, pixel format, codec options)
ENCODERS: dict[str, tuple[str, str, str, dict[str, str]]] = {
    ".mp4": ("mp4", "libx264", "yuv420p", {"crf": "23", "preset": "veryfast"}),
    ".mkv": ("matroska", "libx264", "yuv420p", {"crf": "23", "preset": "veryfast"}),
    ".mov": ("mov", "libx264", "yuv420p", {"crf": "23", "preset": "veryfast"}),
    ".webm": ("webm", "libvpx-vp9", "yuv420p",
              {"crf": "32", "b": "0", "deadline": "realtime", "cpu-used": "8", "row-mt": "1"}),
    # MPEG-4 part 2 at a fixed quantiser (2 is near-lossless, 31 worst).
    ".avi": ("avi", "mpeg4", "yuv420p", {"flags": "+qscale", "global_quality": str(3 * 118)}),
}


def _check_fps(fps: object) -> Fraction:
    if isinstance(fps, bool) or not isinstance(fps, numbers.Real) or not math.isfinite(fps) \
            or not 0 < fps <= MAX_FPS:
        raise ActdeskError(f"fps must be a number in (0, {MAX_FPS}], got {fps!r}")
    return Fraction(fps).limit_denominator(1001)


def _check_size(size: object) -> tuple[int, int]:
    try:
        width, height = size  # type: ignore[misc]
    except (TypeError, ValueError):
        raise ActdeskError(f"size must be (width, height), got {size!r}") from None
    for side in (width, height):
        if isinstance(side, bool) or not isinstance(side, numbers.Integral) or not MIN_SIDE <= side <= MAX_SIDE:
            raise ActdeskError(f"size must be (width, height) with whole sides of {MIN_SIDE}..{MAX_SIDE} pixels, "
                               f"got {size!r}")
    return int(width), int(height)


def _frame_count(seconds: object, fps: Fraction) -> int:
    if isinstance(seconds, bool) or not isinstance(seconds, numbers.Real) or not math.isfinite(seconds) \
            or seconds <= 0:
        raise ActdeskError(f"seconds must be a positive number, got {seconds!r}")
    count = round(seconds * fps)
    if count < 1:
        raise ActdeskError(f"{seconds} s at {float(fps):g} fps is less than one frame")
    return count


def _streams(seed: object) -> list[np.random.Generator]:
    """Independent generators for the script, the scene and per-frame noise of one seed."""
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ActdeskError(f"seed must be a non-negative integer, got {seed!r}")
    return [np.random.default_rng(s) for s in np.random.SeedSequence(int(seed)).spawn(3)]


def synth_truth(*, seconds: float, seed: int, fps: float = 25, actions: Iterable[str] = ACTIONS,
                video: str = "") -> list[Segment]:
    """The truth segments of the video that ``seed`` gives, without drawing anything."""
    fps_q = _check_fps(fps)
    script_rng, _, _ = _streams(seed)
    script = make_script(frame_count=_frame_count(seconds, fps_q), fps=float(fps_q), rng=script_rng,
                         actions=actions)
    return script_segments(script, float(fps_q), video=video)


def plan_video(*, seconds: float, seed: int, size: tuple[int, int] = (320, 240), fps: float = 25,
               actions: Iterable[str] = ACTIONS, figures: int = 1
               ) -> tuple[list[ScriptItem], Scene, np.random.Generator]:
    """The script, scene and per-frame generator of a synthetic video (what the seed decides)."""
    fps_q = _check_fps(fps)
    size = _check_size(size)
    names = validate_actions(actions)
    if figures not in (1, 2):
        raise ActdeskError(f"figures must be 1 or 2, got {figures!r}")
    script_rng, scene_rng, frame_rng = _streams(seed)
    script = make_script(frame_count=_frame_count(seconds, fps_q), fps=float(fps_q), rng=script_rng,
                         actions=names)
    scene = make_scene(scene_rng, size=size, actions=names, figures=figures)
    return script, scene, frame_rng


def render_frames(*, seconds: float, seed: int, size: tuple[int, int] = (320, 240), fps: float = 25,
                  actions: Iterable[str] = ACTIONS, figures: int = 1,
                  should_stop: StopFn = never_stop) -> Iterator[tuple[int, np.ndarray, str]]:
    """Yield ``(frame_index, frame, label)`` for every frame; ``frame`` is RGB uint8 [height, width, 3].

    The frames are exactly those :func:`generate_video` encodes for the same
    arguments. Returns early when ``should_stop()`` is true.
    """
    script, scene, frame_rng = plan_video(seconds=seconds, seed=seed, size=size, fps=fps,
                                          actions=actions, figures=figures)
    yield from render_script(scene, script, float(_check_fps(fps)), frame_rng, should_stop=should_stop)


def generate_video(out: str | os.PathLike, *, seconds: float, seed: int, size: tuple[int, int] = (320, 240),
                   fps: float = 25, actions: Iterable[str] = ACTIONS, figures: int = 1,
                   progress: ProgressFn = no_progress, should_stop: StopFn = never_stop) -> list[Segment]:
    """Render the synthetic video of ``seed`` to ``out`` and return its truth segments.

    The encoder follows the suffix (``.mp4``/``.mkv``/``.mov``: H.264, ``.webm``:
    VP9, ``.avi``: MPEG-4). Frames are streamed to the encoder one at a time;
    the file appears only when complete. Truth segments have
    ``source="truth"``, ``video=<file name>`` and times ``frame / fps``.
    Raises :class:`Cancelled` (removing the partial file) when stopped.
    """
    import av

    out = Path(out)
    encoder = ENCODERS.get(out.suffix.lower())
    if encoder is None:
        raise MediaError(out, f"cannot write this kind of video; use one of {', '.join(ENCODERS)}")
    width, height = _check_size(size)
    if width % 2 or height % 2:
        raise ActdeskError(f"size must have even sides for {encoder[1]} video, got {width}x{height}")
    if not out.parent.is_dir():
        raise MediaError(out, f"folder {out.parent} does not exist")
    fps_q = _check_fps(fps)
    script, scene, frame_rng = plan_video(seconds=seconds, seed=seed, size=size, fps=fps,
                                          actions=actions, figures=figures)
    total = script[-1].end_frame
    container_format, codec, pix_fmt, options = encoder
    partial = out.with_name(out.name + ".partial")
    done = 0
    try:
        with av.open(str(partial), "w", format=container_format) as container:
            stream = container.add_stream(codec, rate=fps_q, options=dict(options))
            stream.width, stream.height, stream.pix_fmt = width, height, pix_fmt
            stream.codec_context.time_base = 1 / fps_q
            progress(0, total, "rendering")
            for index, frame, _label in render_script(scene, script, float(fps_q), frame_rng,
                                                      should_stop=should_stop):
                video_frame = av.VideoFrame.from_ndarray(frame, format="rgb24")
                video_frame.pts = index
                container.mux(stream.encode(video_frame))
                done = index + 1
                if done % 25 == 0:
                    progress(done, total, "rendering")
            if done < total:
                raise Cancelled("synthetic video generation")
            container.mux(stream.encode(None))
        os.replace(partial, out)
    except av.FFmpegError as e:
        raise MediaError(out, f"cannot encode with {codec}: {e}") from None
    except OSError as e:
        raise MediaError(out, f"cannot write: {e.strerror or e}") from None
    finally:
        partial.unlink(missing_ok=True)
    progress(total, total, "done")
    return script_segments(script, float(fps_q), video=out.name)

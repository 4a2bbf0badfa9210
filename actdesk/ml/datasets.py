"""Training data: videos with per-frame labels, decoded once, sampled as clips.

A :class:`LabelledVideo` is a video file and one class index per frame (-1
where nothing is labelled); synthetic videos, exported data sets and project
segments all become lists of them. :class:`ClipDataset` decodes each video
once through the same pipeline as inference (``actdesk.media`` resizing every
frame to the model's input size) into a uint8 array, small at model
resolution, and cuts clips from it by index: no seeking per clip. A clip
centred on frame ``c`` holds frames ``c + (i - clip_len // 2) * frame_step``,
clamped to the video, exactly as ``actdesk.media.iter_clip_batches`` builds
them (:class:`actdesk.media.ClipSampling`), and is labelled with frame ``c``'s class.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from actdesk.core.segments import Segment
from actdesk.core.tasks import ProgressFn, StopFn, never_stop, no_progress
from actdesk.errors import ActdeskError, Cancelled
from actdesk.media import ClipSampling

UNLABELLED = -1
"""Class index of frames no segment covers; never sampled for training."""


@dataclass(frozen=True)
class LabelledVideo:
    """A video file and the class index of each of its frames (``UNLABELLED`` where none)."""

    path: Path
    frame_labels: np.ndarray

    @classmethod
    def from_segments(
        cls,
        path: str | os.PathLike,
        segments: Sequence[Segment],
        labels: Sequence[str],
        frame_count: int,
    ) -> "LabelledVideo":
        """Per-frame classes from segments; a segment whose label is not in ``labels`` raises ActdeskError."""
        index = {name: i for i, name in enumerate(labels)}
        frame_labels = np.full(frame_count, UNLABELLED, dtype=np.int16)
        for s in segments:
            if s.label not in index:
                raise ActdeskError(
                    f"{path}: segment {s.start_frame}..{s.end_frame} has label {s.label!r}, "
                    f"which is not one of the model's labels ({', '.join(labels)})"
                )
            frame_labels[s.start_frame:min(s.end_frame, frame_count)] = index[s.label]
        return cls(Path(path), frame_labels)


class ClipDataset:
    """Decoded frames (uint8 ``[F, H, W, 3]`` per video) and labels, cut into clips on demand.

    Build it with :meth:`decode`; ``frames`` and ``labels`` are parallel lists.
    """

    def __init__(self, frames: list[np.ndarray], labels: list[np.ndarray], sampling: ClipSampling):
        if len(frames) != len(labels):
            raise ValueError(f"{len(frames)} frame arrays for {len(labels)} label arrays")
        for f, lab in zip(frames, labels):
            if len(f) != len(lab):
                raise ValueError(f"a video has {len(f)} decoded frames but {len(lab)} frame labels")
        self.frames = frames
        self.labels = labels
        self.sampling = sampling

    @classmethod
    def decode(
        cls,
        videos: Sequence[LabelledVideo],
        *,
        size: tuple[int, int],
        clip_len: int,
        frame_step: int,
        decode_threads: int = 1,
        progress: ProgressFn = no_progress,
        should_stop: StopFn = never_stop,
    ) -> "ClipDataset":
        """Decode every video at ``size`` (height, width) for clips of ``clip_len`` frames
        ``frame_step`` apart; raises Cancelled when stopped.

        ``progress(done_frames, total_frames, "decoding NAME")``. A video whose
        frame count differs from its labels raises ActdeskError naming it.
        """
        from actdesk.media import VideoReader

        total = sum(len(v.frame_labels) for v in videos)
        done = 0
        frames: list[np.ndarray] = []
        for video in videos:
            with VideoReader(video.path, threads=decode_threads) as reader:
                if reader.frame_count != len(video.frame_labels):
                    raise ActdeskError(
                        f"{video.path}: the video has {reader.frame_count} frames but its labels "
                        f"cover {len(video.frame_labels)}"
                    )
                array = np.empty((reader.frame_count, size[0], size[1], 3), dtype=np.uint8)
                for n, frame in reader.iter_frames(size=size):
                    array[n] = frame
                    if n % 64 == 0:
                        if should_stop():
                            raise Cancelled("decoding training videos")
                        progress(done + n, total, f"decoding {video.path.name}")
            frames.append(array)
            done += len(array)
            progress(done, total, f"decoding {video.path.name}")
        return cls(frames, [np.asarray(v.frame_labels, dtype=np.int64) for v in videos],
                   ClipSampling(clip_len=clip_len, frame_step=frame_step, size=size))

    def __len__(self) -> int:
        """Labelled frames (possible clip centres) over all videos."""
        return sum(int((lab != UNLABELLED).sum()) for lab in self.labels)

    def class_counts(self, num_classes: int) -> np.ndarray:
        """Labelled frames per class."""
        counts = np.zeros(num_classes, dtype=np.int64)
        for lab in self.labels:
            counts += np.bincount(lab[lab != UNLABELLED], minlength=num_classes)[:num_classes]
        return counts

    def centres(self, stride: int = 1) -> tuple[np.ndarray, np.ndarray]:
        """``(video index, frame)`` of every ``stride``-th labelled frame (a fixed evaluation grid)."""
        videos, frames = [], []
        for v, lab in enumerate(self.labels):
            idx = np.flatnonzero(lab != UNLABELLED)[::stride]
            videos.append(np.full(len(idx), v, dtype=np.int64))
            frames.append(idx)
        return np.concatenate(videos), np.concatenate(frames)

    def sample(
        self, rng: np.random.Generator, count: int, *, balance: bool = True
    ) -> tuple[np.ndarray, np.ndarray]:
        """``count`` random ``(video index, frame)`` centres among all labelled frames.

        With ``balance`` every class is drawn equally often (each frame weighted
        by one over its class's frame count), so short classes are not drowned.
        """
        videos, frames = self.centres()
        if len(frames) == 0:
            raise ActdeskError("no labelled frames to train on")
        weights = None
        if balance:
            classes = self.labels_at(videos, frames)
            counts = np.bincount(classes)
            weights = 1.0 / counts[classes]
            weights /= weights.sum()
        pick = rng.choice(len(frames), size=count, replace=True, p=weights)
        return videos[pick], frames[pick]

    def labels_at(self, videos: np.ndarray, frames: np.ndarray) -> np.ndarray:
        """Class index of each centre frame."""
        return np.array([self.labels[v][f] for v, f in zip(videos, frames)], dtype=np.int64)

    def clips(self, videos: np.ndarray, frames: np.ndarray) -> np.ndarray:
        """uint8 clips ``[B, T, H, W, 3]`` centred on the given frames."""
        out = []
        for v, f in zip(videos, frames):
            video = self.frames[v]
            out.append(video[self.sampling.frame_indices(np.array([f]), len(video))[0]])
        return np.stack(out)


VALIDATION_SEEDS_START = 9000
"""Synthetic training seeds from here up to ``actdesk.synth.TRAIN_SEED_LIMIT`` are held out for validation."""


def synthetic_cache_dir() -> Path:
    """Where generated training videos are kept between runs (under the per-user data folder)."""
    from actdesk.paths import user_data_dir

    return user_data_dir() / "synthetic-cache"


def synthetic_videos(
    seeds: Sequence[int],
    *,
    seconds: float,
    size: tuple[int, int] = (320, 240),
    fps: int = 25,
    cache_dir: str | os.PathLike | None = None,
    progress: ProgressFn = no_progress,
    should_stop: StopFn = never_stop,
) -> list[LabelledVideo]:
    """Synthetic training videos for ``seeds`` (training seeds only), labelled by ``synth.ACTIONS``.

    ``size`` is (width, height) as ``actdesk synth`` takes it. Each video and
    its truth CSV are generated once into ``cache_dir`` (default
    :func:`synthetic_cache_dir`) and reused by later runs.
    ``progress(done_videos, total_videos, message)``; raises Cancelled when stopped.
    """
    from actdesk.formats.segments_csv import read_segments_csv, write_segments_csv
    from actdesk.media import probe
    from actdesk.synth import ACTIONS, check_seed, generate_video

    for seed in seeds:
        check_seed(seed, "train")
    folder = Path(cache_dir) if cache_dir is not None else synthetic_cache_dir()
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for done, seed in enumerate(seeds):
        if should_stop():
            raise Cancelled("generating training videos")
        progress(done, len(seeds), f"seed {seed}")
        stem = f"synth-{seed}-{seconds:g}s-{size[0]}x{size[1]}-{fps}fps"
        video, truth = folder / f"{stem}.mp4", folder / f"{stem}.csv"
        if not (video.exists() and truth.exists()):
            # Both writes are atomic and the truth comes last, so its presence means both are complete.
            segments = generate_video(video, seconds=seconds, seed=seed, size=size, fps=fps,
                                      should_stop=should_stop)
            write_segments_csv(truth, segments)
        out.append(LabelledVideo.from_segments(video, read_segments_csv(truth), ACTIONS,
                                               probe(video).frame_count))
    progress(len(seeds), len(seeds), "")
    return out

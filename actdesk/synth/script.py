"""The random action script of a synthetic video, and the seed split.

A script is a list of :class:`ScriptItem` (a motion over a frame range) that
tiles the video exactly. It keeps the figure physically consistent: only a
standing figure starts a standing action; ``sit-down`` leaves it seated, so
``stand-up`` (optionally after an ``idle`` while seated) comes next. Each
segment lasts 2-8 s (sitting and standing up 2-5 s, as in life); only the last
one may be clipped shorter by the end of the video. The next action is drawn
with weights inversely proportional to its mean duration, so that over many
seeds every class gets a similar share of frames.

Seeds below :data:`TRAIN_SEED_LIMIT` are for training, the rest for
evaluation; :func:`check_seed` guards the split.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from actdesk.core.segments import Segment, segments_from_frame_labels
from actdesk.errors import ActdeskError
from actdesk.synth.actions import ALL_ACTIONS, MOTIONS, SEATED_REST, STANDING_REST

TRAIN_SEED_LIMIT = 10000
"""Seeds ``0 .. TRAIN_SEED_LIMIT - 1`` are training data; larger ones are held out for evaluation."""

SEATED_IDLE_PROBABILITY = 0.35
"""Chance that a seated figure idles before standing up (labelled ``idle``)."""

SPEED_RANGE = (0.8, 1.2)
"""Per-segment cadence factor: the same action is done faster or slower."""


@dataclass(frozen=True, slots=True)
class ScriptItem:
    """One scripted segment: ``motion`` (a key of ``MOTIONS``) over frames ``[start_frame, end_frame)``."""

    motion: str
    start_frame: int
    end_frame: int
    speed: float = 1.0
    """Cadence factor of a periodic motion."""
    phase: float = 0.0
    """Where in its cycle (0..1) a periodic motion starts."""

    @property
    def label(self) -> str:
        return MOTIONS[self.motion].label

    @property
    def frames(self) -> int:
        return self.end_frame - self.start_frame


def check_seed(seed: object, purpose: str = "train") -> int:
    """Return ``seed`` if it may be used for ``purpose`` (``train`` or ``eval``), else raise ActdeskError."""
    if purpose not in ("train", "eval"):
        raise ActdeskError(f"seed purpose must be 'train' or 'eval', got {purpose!r}")
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ActdeskError(f"seed must be a non-negative integer, got {seed!r}")
    seed = int(seed)
    if purpose == "train" and seed >= TRAIN_SEED_LIMIT:
        raise ActdeskError(
            f"seed {seed} is reserved for evaluation (seeds >= {TRAIN_SEED_LIMIT}); "
            f"training must use seeds 0..{TRAIN_SEED_LIMIT - 1}")
    if purpose == "eval" and seed < TRAIN_SEED_LIMIT:
        raise ActdeskError(
            f"seed {seed} is a training seed; evaluation must use seeds >= {TRAIN_SEED_LIMIT}")
    return seed


def validate_actions(actions: Iterable[str]) -> tuple[str, ...]:
    """Check an action list (known names, no repeats, sit-down with stand-up); return it as a tuple."""
    if isinstance(actions, str):
        raise ActdeskError(f"actions must be a list of names, got the string {actions!r}")
    names = tuple(actions)
    if not names:
        raise ActdeskError("no actions given; choose from " + ", ".join(ALL_ACTIONS))
    for name in names:
        if name not in ALL_ACTIONS:
            raise ActdeskError(f"unknown action {name!r}; choose from " + ", ".join(ALL_ACTIONS))
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ActdeskError(f"action {repeated[0]!r} is listed more than once")
    if ("sit-down" in names) != ("stand-up" in names):
        raise ActdeskError("sit-down and stand-up must be used together "
                           "(a figure that sits down has to stand up again)")
    return names


def _mean_duration(motion: str) -> float:
    lo, hi = MOTIONS[motion].durations_s
    return (lo + hi) / 2


def make_script(*, frame_count: int, fps: float, rng: np.random.Generator,
                actions: Iterable[str]) -> list[ScriptItem]:
    """A random script tiling ``frame_count`` frames with the given actions.

    Draws the same random numbers per item whatever ``frame_count`` is, so a
    longer video with the same generator state extends a shorter one.
    """
    names = validate_actions(actions)
    standing_choices = [n for n in names if MOTIONS[n].rest == STANDING_REST]
    items: list[ScriptItem] = []
    frame = 0
    rest = STANDING_REST
    previous = ""
    while frame < frame_count:
        if rest == SEATED_REST:
            seated_idle = ("idle" in names and previous == "sit-down"
                           and rng.random() < SEATED_IDLE_PROBABILITY)
            motion = "idle-seated" if seated_idle else "stand-up"
        else:
            choices = [n for n in standing_choices if n != previous] or standing_choices
            weights = np.array([1.0 / _mean_duration(n) for n in choices])
            motion = choices[int(rng.choice(len(choices), p=weights / weights.sum()))]
        lo, hi = MOTIONS[motion].durations_s
        length = max(1, round(float(rng.uniform(lo, hi)) * fps))
        speed = float(rng.uniform(*SPEED_RANGE))
        phase = float(rng.random())
        end = min(frame + length, frame_count)
        items.append(ScriptItem(motion, frame, end, speed, phase))
        frame = end
        rest = MOTIONS[motion].ends
        previous = motion
    return items


def script_segments(script: list[ScriptItem], fps: float, *, video: str = "") -> list[Segment]:
    """The truth of a script: segments with ``source="truth"``, times ``frame / fps``.

    Consecutive items with the same label (possible only with a single action) merge.
    """
    if not script:
        return []
    frame_count = script[-1].end_frame
    labels = [""] * frame_count
    for item in script:
        labels[item.start_frame:item.end_frame] = [item.label] * item.frames
    times = [i / fps for i in range(frame_count)]
    return segments_from_frame_labels(labels, times, end_time_s=frame_count / fps,
                                      source="truth", video=video)

"""Drawing the script: a randomised scene, and frames drawn with Pillow onto numpy arrays.

Everything random about a video's look is drawn once, into a :class:`Scene`,
from one seeded generator: body proportions, line width, colours, figure
height (55-85 % of the frame, less when needed to keep every pose of every
scripted action fully inside the frame), position, facing, background (flat,
gradient or a texture), floor, sensor-noise level and camera shake. Per frame
only the pose changes, plus a random window into a pre-drawn noise field.

The camera follows a walking or running figure, so the background scrolls
(visibly on textures) instead of the figure leaving the frame. Speed matters
(this is training data): the background is drawn once with a horizontal
period and cropped per frame at the scroll and shake offset.
"""

from __future__ import annotations

import math
from fractions import Fraction
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace

import numpy as np
from PIL import Image, ImageDraw

from actdesk.core.tasks import StopFn, never_stop
from actdesk.synth.actions import MOTIONS, Motion, ease, motion_pose, rest_pose
from actdesk.synth.figure import Body, Pose, skeleton
from actdesk.synth.script import ScriptItem

FIGURE_HEIGHT_RANGE = (0.55, 0.85)
"""Standing figure height as a fraction of the frame height."""
BACKGROUNDS = ("flat", "gradient", "texture")
_LUMA = np.array([0.299, 0.587, 0.114])
_ENVELOPE_STEPS = 60  # samples per cycle when measuring how far a figure reaches
_NOISE_MARGIN = 24  # the noise field is this much larger than a frame; each frame reads a random window


@dataclass(frozen=True, slots=True)
class FigureLook:
    """How and where one figure is drawn."""

    body: Body
    colour: tuple[int, int, int]
    far_colour: tuple[int, int, int]
    """Colour of the far arm and leg: a little toward the background, for depth."""
    line_px: int
    head_filled: bool
    scale_px: float
    """Pixels per body unit: the standing figure's height in pixels."""
    anchor_x: float
    """Screen x of the hip when the pose has ``dx = 0``."""
    ground_y: float
    facing: int
    """+1 faces right, -1 faces left (mirrored)."""
    speed: float = 1.0
    """Cadence factor relative to the script (a second figure is not in lockstep)."""
    phase: float = 0.0


@dataclass(frozen=True, eq=False)
class Scene:
    """Everything about a video's look that does not change from frame to frame."""

    width: int
    height: int
    background: np.ndarray
    """uint8 [height + 2 pad, width + 2 pad + period, 3], periodic in x with ``period``."""
    pad: int
    period: int
    figures: tuple[FigureLook, ...]
    noise: np.ndarray | None
    """int16 noise field [height + margin, width + margin, 3], or None for a clean sensor."""
    shake_px: float
    shake_hz: tuple[float, float]
    shake_phase: tuple[float, float, float, float]

    def without_camera_effects(self) -> "Scene":
        """The same scene with no sensor noise and no camera shake (frames depend on the pose only)."""
        return replace(self, noise=None, shake_px=0.0)

    def shake(self, t: float) -> tuple[int, int]:
        """Camera offset in whole pixels at ``t`` seconds: a slow sway plus a faster tremor."""
        if self.shake_px <= 0:
            return 0, 0
        f1, f2 = self.shake_hz
        p = self.shake_phase
        dx = 0.7 * math.sin(math.tau * f1 * t + p[0]) + 0.3 * math.sin(math.tau * f2 * t + p[1])
        dy = 0.7 * math.sin(math.tau * f1 * t + p[2]) + 0.3 * math.sin(math.tau * f2 * t + p[3])
        return round(self.shake_px * dx), round(self.shake_px * dy)

    def draw(self, poses: Sequence[Pose], t: float, scroll_px: float, rng: np.random.Generator) -> np.ndarray:
        """One RGB frame [height, width, 3] uint8: figures in ``poses`` at camera time ``t``."""
        sx, sy = self.shake(t)
        x0 = self.pad + sx + int(round(scroll_px)) % self.period
        y0 = self.pad + sy
        img = Image.fromarray(self.background[y0:y0 + self.height, x0:x0 + self.width])
        draw = ImageDraw.Draw(img)
        for look, pose in zip(self.figures, poses):
            _draw_figure(draw, look, pose, -sx, -sy)
        if self.noise is None:
            return np.array(img)
        ny, nx = rng.integers(0, _NOISE_MARGIN + 1, size=2)
        noisy = np.asarray(img).astype(np.int16)
        noisy += self.noise[ny:ny + self.height, nx:nx + self.width]
        return np.clip(noisy, 0, 255).astype(np.uint8)


def _draw_figure(draw: ImageDraw.ImageDraw, look: FigureLook, pose: Pose, ox: int, oy: int) -> None:
    sk = skeleton(pose, look.body)
    s, f = look.scale_px, look.facing
    ax, gy = look.anchor_x + ox, look.ground_y + oy

    def px(p: tuple[float, float]) -> tuple[float, float]:
        return ax + f * p[0] * s, gy - p[1] * s

    w = look.line_px
    # Far limbs first so the near ones and the torso cover them.
    draw.line([px(sk.shoulder), px(sk.elbow_b), px(sk.hand_b)], fill=look.far_colour, width=w, joint="curve")
    draw.line([px(sk.hip), px(sk.knee_b), px(sk.ankle_b), px(sk.toe_b)], fill=look.far_colour, width=w, joint="curve")
    draw.line([px(sk.hip), px(sk.shoulder)], fill=look.colour, width=w)
    hx, hy = px(sk.head)
    r = look.body.head_r * s
    draw.ellipse([hx - r, hy - r, hx + r, hy + r], fill=look.colour if look.head_filled else None,
                 outline=look.colour, width=w)
    draw.line([px(sk.hip), px(sk.knee_a), px(sk.ankle_a), px(sk.toe_a)], fill=look.colour, width=w, joint="curve")
    draw.line([px(sk.shoulder), px(sk.elbow_a), px(sk.hand_a)], fill=look.colour, width=w, joint="curve")


def scene_motions(actions: Sequence[str]) -> list[Motion]:
    """The motions a script over ``actions`` may use (``idle`` while seated included)."""
    names = list(actions)
    if "idle" in names and "sit-down" in names:
        names.append("idle-seated")
    return [MOTIONS[n] for n in names]


def _pose_samples(motion: Motion, body: Body) -> Iterator[Pose]:
    """Poses covering what ``motion`` can show: its whole cycle (or course), eased in from rest or not."""
    if not motion.periodic:
        for k in range(_ENVELOPE_STEPS + 1):
            yield motion.pose_fn(0.0, k / _ENVELOPE_STEPS, body)
        return
    rest = rest_pose(motion.rest, body)
    for k in range(_ENVELOPE_STEPS):
        pose = motion.pose_fn(k / _ENVELOPE_STEPS, 0.5, body)
        for w in (0.25, 0.5, 0.75, 1.0):
            yield rest.blend(pose, w)


def envelope(body: Body, motions: Sequence[Motion]) -> tuple[float, float, float]:
    """(back, front, top): how far ``body`` reaches behind/in front of its anchor and above the ground.

    In body units, over the poses of every motion (head circle included), so
    a figure placed inside these bounds stays in the frame. Sampled, so the
    placement keeps a small margin on top.
    """
    back, front, top = 0.0, 0.0, 1.0
    for motion in motions:
        for pose in _pose_samples(motion, body):
            sk = skeleton(pose, body)
            xs = [p[0] for p in sk]
            back = min(back, min(xs), sk.head[0] - body.head_r)
            front = max(front, max(xs), sk.head[0] + body.head_r)
            top = max(top, max(p[1] for p in sk), sk.head[1] + body.head_r)
    return back, front, top


def _colour_with_luma(rng: np.random.Generator, luma: float, saturation: float) -> np.ndarray:
    """A random hue at about the given luminance (0..1), as floats 0..1."""
    chroma = rng.uniform(-0.5, 0.5, 3)
    chroma -= chroma @ _LUMA
    return np.clip(luma + saturation * chroma, 0.0, 1.0)


def _rgb(colour: np.ndarray) -> tuple[int, int, int]:
    r, g, b = (int(round(c * 255)) for c in colour)
    return r, g, b


def _texture(rng: np.random.Generator, rows: int, period: int) -> np.ndarray:
    """A pattern in [-1, 1], shape [rows, period], periodic in x so tiles join seamlessly."""
    kind = rng.choice(["waves", "stripes", "checker", "blocks"])
    y = np.arange(rows, dtype=np.float32)[:, None]
    x = np.arange(period, dtype=np.float32)[None, :]
    if kind == "waves":
        out = np.zeros((rows, period), np.float32)
        for _ in range(5):
            n = int(rng.integers(1, 6))
            m = float(rng.uniform(-4, 4)) / rows
            out += np.sin(math.tau * (n * x / period + m * y) + rng.uniform(0, math.tau))
        return out / 5.0 * 1.6
    if kind == "stripes":
        n = int(rng.integers(2, 7))
        return np.broadcast_to(np.sign(np.sin(math.tau * n * x / period + 0.3)), (rows, period)).astype(np.float32)
    if kind == "checker":
        n = int(rng.integers(2, 6))
        cell = period / n
        return np.sign(np.sin(math.tau * n * x / period + 0.3) * np.sin(math.pi * y / cell + 0.3)).astype(np.float32)
    block = period // int(rng.choice([4, 8]))
    grid = rng.uniform(-1, 1, (rows // block + 1, period // block)).astype(np.float32)
    return np.repeat(np.repeat(grid, block, 0), block, 1)[:rows, :period]


def _background(rng: np.random.Generator, rows: int, cols: int, period: int, ground_row: int,
                base_luma: float, figure_brighter: bool) -> np.ndarray:
    kind = BACKGROUNDS[int(rng.integers(len(BACKGROUNDS)))]
    base = _colour_with_luma(rng, base_luma, rng.uniform(0.0, 0.8))
    # Variation stays within a small luminance band, away from the figure's, so it keeps its contrast.
    away = -1.0 if figure_brighter else 1.0
    tile = np.broadcast_to(base, (rows, period, 3)).astype(np.float32)
    if kind == "gradient":
        other = _colour_with_luma(rng, np.clip(base_luma + away * rng.uniform(0.05, 0.15), 0, 1), rng.uniform(0, 0.8))
        w = np.linspace(0.0, 1.0, rows, dtype=np.float32)[:, None, None]
        if rng.random() < 0.5:
            w = w[::-1]
        tile = tile * (1 - w) + other * w
    elif kind == "texture":
        tile = tile + _texture(rng, rows, period)[:, :, None] * rng.uniform(0.04, 0.09) * away
    if rng.random() < 0.6:
        floor_shift = away * rng.uniform(0.06, 0.14)
        floor_top = ground_row + int(rng.integers(-2, 4))
        tile[floor_top:] = tile[floor_top:] + floor_shift
    tile = np.clip(tile * 255.0 + 0.5, 0, 255).astype(np.uint8)
    return np.ascontiguousarray(np.tile(tile, (1, cols // period + 2, 1))[:, :cols])


def make_scene(rng: np.random.Generator, *, size: tuple[int, int], actions: Sequence[str],
               figures: int = 1) -> Scene:
    """Draw a random scene for a ``size`` (width, height) video of the given actions.

    Every figure is placed so that every pose of every motion in ``actions``
    stays inside the frame, camera shake and line width included.
    """
    width, height = size
    motions = scene_motions(actions)
    shake_px = float(rng.uniform(0.0, 0.012)) * height
    pad = int(math.ceil(shake_px)) + 1
    margin = pad + math.ceil(0.03 * height) + 1
    base_luma = float(rng.uniform(0.08, 0.92))
    figure_brighter = base_luma < 0.5
    slot_w = width / figures
    # Figures share a facing: the camera follows them all, so they must walk the same way.
    facing = 1 if rng.random() < 0.5 else -1
    looks, tops = [], []
    for i in range(figures):
        body = Body.random(rng)
        back, front, top = envelope(body, motions)
        lo, hi = FIGURE_HEIGHT_RANGE
        fit = min(hi * height, (height - 2 * margin) / top, (slot_w - 2 * margin) / (front - back))
        scale = float(rng.uniform(min(lo * height, fit), fit))
        left, right = (back, front) if facing > 0 else (-front, -back)
        x_lo = i * slot_w + margin - left * scale
        x_hi = (i + 1) * slot_w - margin - right * scale
        contrast = float(rng.uniform(0.4, 0.7))
        luma = float(np.clip(base_luma + contrast if figure_brighter else base_luma - contrast, 0.02, 0.98))
        colour = _colour_with_luma(rng, luma, rng.uniform(0.0, 1.0))
        looks.append(FigureLook(
            body=body, colour=_rgb(colour), far_colour=_rgb(colour * 0.7 + base_luma * 0.3),
            line_px=max(1, round(scale * float(rng.uniform(0.035, 0.06)))),
            head_filled=bool(rng.random() < 0.5), scale_px=scale,
            anchor_x=float(rng.uniform(x_lo, max(x_lo, x_hi))), ground_y=0.0, facing=facing,
            speed=1.0 if i == 0 else float(rng.uniform(0.9, 1.1)),
            phase=0.0 if i == 0 else float(rng.random())))
        tops.append(scale * top)
    # One floor for all figures: low enough for the tallest reach, high enough for the feet.
    ground_lo = margin + max(tops)
    ground_y = float(rng.uniform(ground_lo, max(ground_lo, height - margin)))
    looks = [replace(look, ground_y=ground_y) for look in looks]
    period = 16 * int(rng.integers(4, 9))
    background = _background(rng, height + 2 * pad, width + 2 * pad + period, period,
                             int(ground_y) + pad, base_luma, figure_brighter)
    sigma = float(rng.uniform(0.0, 7.0))
    noise = None
    if sigma >= 0.5:
        noise = np.round(rng.normal(0.0, sigma, (height + _NOISE_MARGIN, width + _NOISE_MARGIN, 3))).astype(np.int16)
    return Scene(width=width, height=height, background=background, pad=pad, period=period,
                 figures=tuple(looks), noise=noise, shake_px=shake_px,
                 shake_hz=(float(rng.uniform(0.4, 1.5)), float(rng.uniform(3.0, 7.0))),
                 shake_phase=tuple(float(v) for v in rng.uniform(0, math.tau, 4)))


def render_script(scene: Scene, script: Sequence[ScriptItem], fps: float, rng: np.random.Generator, *,
                  should_stop: StopFn = never_stop) -> Iterator[tuple[int, np.ndarray, str]]:
    """Yield ``(frame_index, rgb frame, label)`` for every frame of ``script``; returns early if stopped.

    Frame k of a segment of n frames shows the pose at ``(k + 0.5) / fps``
    seconds into it, so a segment played backwards samples its motion at
    exactly the reversed times.
    """
    world = 0.0  # body units travelled; the camera follows, the background scrolls
    lead = scene.figures[0]
    # Exact segment times, so a reversed motion samples bit-identical poses.
    frame_s = 1 / Fraction(fps).limit_denominator(1001)
    for item in script:
        motion = MOTIONS[item.motion]
        duration = item.frames * frame_s
        for k in range(item.frames):
            if should_stop():
                return
            t = (k + Fraction(1, 2)) * frame_s
            poses = [motion_pose(motion, t, duration, fig.body, speed=item.speed * fig.speed,
                                 phase=item.phase + fig.phase) for fig in scene.figures]
            if motion.travel:
                world += motion.travel * item.speed * ease(float(t), float(duration)) / fps
            frame_index = item.start_frame + k
            frame = scene.draw(poses, frame_index / fps, world * lead.scale_px * lead.facing, rng)
            yield frame_index, frame, item.label


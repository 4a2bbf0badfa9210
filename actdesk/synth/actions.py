"""The action vocabulary: each action is a pose as a function of time.

``ACTIONS`` is the label set of the bundled model, in label-index order;
``EXTRA_ACTIONS`` are classes it was never trained on (for fine-tuning tests).

Periodic actions are functions of ``cycles`` (cadence x time + a phase) and are
eased in from and out to their rest pose over ``EASE_S`` at each end, the way a
person starts and stops moving; so every standing action starts and ends
standing and consecutive segments join without a jump. ``sit-down`` lowers the
body onto an (undrawn) stool over the whole segment, never pausing, and
``stand-up`` is its exact time reverse: :func:`motion_pose` of ``stand-up``
at ``t`` equals that of ``sit-down`` at ``D - t``. ``idle-seated`` is the idle of a seated figure
(labelled ``idle``) that the script may put between the two.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from actdesk.synth.figure import STANDING, Body, Pose, mean_ankle_x

ACTIONS: tuple[str, ...] = (
    "idle", "walk", "run", "jump", "wave", "clap", "jumping-jack", "bend", "sit-down", "stand-up",
)
EXTRA_ACTIONS: tuple[str, ...] = ("kick", "punch")
ALL_ACTIONS: tuple[str, ...] = ACTIONS + EXTRA_ACTIONS

EASE_S = 0.3
"""Seconds a periodic action takes to get going from rest (and to come back to it)."""

STANDING_REST = "standing"
SEATED_REST = "seated"

_TAU = 2.0 * math.pi
# Seated on a knee-high stool: thighs about horizontal, shins about vertical.
_SEATED = Pose(lean=6.0, arm_a=28.0, elbow_a=45.0, arm_b=18.0, elbow_b=45.0,
               hip_a=86.0, knee_a=86.0, hip_b=80.0, knee_b=80.0)

PoseFn = Callable[[float, float, Body], Pose]
"""``(cycles, progress, body) -> Pose``: cycles since the segment start (periodic
actions), progress 0..1 through the segment (non-periodic ones)."""


@dataclass(frozen=True, slots=True)
class Motion:
    """How one scripted segment moves: its label, pose function and timing."""

    name: str
    label: str
    pose_fn: PoseFn
    cadence_hz: float
    """Cycles per second at speed 1; 0 for a motion driven by progress alone."""
    travel: float
    """Forward speed in body heights per second at speed 1 (the camera follows)."""
    durations_s: tuple[float, float]
    """Range the script draws this motion's duration from."""
    rest: str
    """State it starts from, ``standing`` or ``seated`` (a periodic motion also ends in it)."""
    ends: str
    """State it leaves the figure in (differs from ``rest`` for sit-down and stand-up)."""

    @property
    def periodic(self) -> bool:
        return self.cadence_hz > 0


def _plant(pose: Pose, body: Body) -> Pose:
    """Shift the hip so the feet stay where they stood (sitting moves the hip, not the feet)."""
    return pose._replace(dx=-mean_ankle_x(pose, body))


def seated_pose(body: Body) -> Pose:
    """The rest pose of a figure sitting on the stool."""
    return _plant(_SEATED, body)


def _smoothstep(x: float) -> float:
    x = min(max(x, 0.0), 1.0)
    return x * x * (3.0 - 2.0 * x)


def _idle(cycles: float, _u: float, _body: Body) -> Pose:
    # Breathing and weight shift: small, slow, never quite still.
    s = math.sin(_TAU * cycles)
    c = math.sin(_TAU * cycles * 0.5 + 1.0)
    return STANDING.shifted(lean=1.5 * s, arm_a=2.5 * c, arm_b=-2.5 * c, hip_a=1.5 * s, hip_b=1.5 * s)


def _idle_seated(cycles: float, _u: float, body: Body) -> Pose:
    s = math.sin(_TAU * cycles)
    c = math.sin(_TAU * cycles * 0.5 + 1.0)
    return _plant(_SEATED.shifted(lean=2.5 * s, arm_a=3.0 * c, arm_b=-3.0 * c), body)


def _walk(cycles: float, _u: float, _body: Body) -> Pose:
    p = _TAU * cycles
    s, c = math.sin(p), math.cos(p)
    return Pose(lean=4.0, arm_a=-20.0 * s, elbow_a=16.0, arm_b=20.0 * s, elbow_b=16.0,
                hip_a=24.0 * s, knee_a=6.0 + 40.0 * max(0.0, c),
                hip_b=-24.0 * s, knee_b=6.0 + 40.0 * max(0.0, -c))


def _run(cycles: float, _u: float, _body: Body) -> Pose:
    p = _TAU * cycles
    s, c = math.sin(p), math.cos(p)
    return Pose(lean=14.0, arm_a=-42.0 * s + 8.0, elbow_a=95.0, arm_b=42.0 * s + 8.0, elbow_b=95.0,
                hip_a=40.0 * s + 8.0, knee_a=20.0 + 85.0 * max(0.0, c),
                hip_b=-40.0 * s + 8.0, knee_b=20.0 + 85.0 * max(0.0, -c),
                lift=0.05 * abs(math.sin(p + 0.6)))


def _jump(cycles: float, _u: float, _body: Body) -> Pose:
    # One cycle: crouch and swing the arms back, take off with arms up, fly, land softly.
    q = cycles % 1.0
    crouch = flight = 0.0
    if q < 0.4:
        crouch = math.sin(math.pi * q / 0.4)
    elif q < 0.8:
        flight = math.sin(math.pi * (q - 0.4) / 0.4)
    else:
        crouch = 0.45 * math.sin(math.pi * (q - 0.8) / 0.2)
    arms = -45.0 * crouch + 125.0 * flight
    return Pose(lean=32.0 * crouch + 4.0 * flight,
                arm_a=arms + 6.0, elbow_a=10.0, arm_b=arms - 6.0, elbow_b=10.0,
                hip_a=3.0 + 60.0 * crouch + 18.0 * flight, knee_a=105.0 * crouch + 30.0 * flight,
                hip_b=-3.0 + 60.0 * crouch + 18.0 * flight, knee_b=105.0 * crouch + 30.0 * flight,
                lift=0.15 * flight)


def _wave(cycles: float, _u: float, _body: Body) -> Pose:
    forearm = 185.0 + 38.0 * math.sin(_TAU * cycles)
    return STANDING._replace(arm_a=140.0, elbow_a=forearm - 140.0, lean=-2.0)


def _clap(cycles: float, _u: float, body: Body) -> Pose:
    # Facing the camera: upper arms down and out, forearms up and in, so the hands
    # meet in front of the chest; opening swings the forearms up and apart.
    spread = 0.5 - 0.5 * math.cos(_TAU * cycles)
    arm = 35.0 + 20.0 * spread
    # How far from vertical the forearm must lean inward for the hand to reach the midline.
    inward = math.degrees(math.asin(min(1.0, body.upper_arm * math.sin(math.radians(arm)) / body.forearm)))
    forearm = -180.0 + inward * (1.0 - 0.9 * spread)
    elbow = forearm - arm
    return STANDING._replace(arm_a=arm, elbow_a=elbow, arm_b=-arm, elbow_b=-elbow)


def _jumping_jack(cycles: float, _u: float, _body: Body) -> Pose:
    p = _TAU * cycles
    spread = 0.5 - 0.5 * math.cos(p)
    arms = 10.0 + 160.0 * spread
    legs = 3.0 + 20.0 * spread
    return Pose(lean=0.0, arm_a=arms, elbow_a=4.0, arm_b=-arms, elbow_b=-4.0,
                hip_a=legs, knee_a=4.0, hip_b=-legs, knee_b=4.0, lift=0.05 * abs(math.sin(p)))


def _bend(cycles: float, _u: float, body: Body) -> Pose:
    fold = 0.5 - 0.5 * math.cos(_TAU * cycles)
    # Arms hang toward the floor as the torso folds; the hips go back over planted feet.
    pose = Pose(lean=82.0 * fold, arm_a=6.0 + 14.0 * fold, elbow_a=6.0, arm_b=-6.0 + 20.0 * fold, elbow_b=6.0,
                hip_a=3.0 + 12.0 * fold, knee_a=3.0 * fold, hip_b=-3.0 + 12.0 * fold, knee_b=3.0 * fold)
    return _plant(pose, body)


def _sit_down(_cycles: float, u: float, body: Body) -> Pose:
    u = min(max(float(u), 0.0), 1.0)
    # Never slower than half the mean speed, so every clip of it shows motion.
    e = 0.5 * u + 0.5 * _smoothstep(u)
    bump = math.sin(math.pi * u)
    pose = STANDING.blend(_SEATED, e).shifted(lean=26.0 * bump, arm_a=32.0 * bump, arm_b=32.0 * bump)
    return _plant(pose, body)


def _stand_up(cycles: float, u: float, body: Body) -> Pose:
    # With an exact (Fraction) progress, 1 - u is exact too: frames reverse bit for bit.
    return _sit_down(cycles, 1 - u, body)


def _kick(cycles: float, _u: float, _body: Body) -> Pose:
    # Chamber the knee, snap the leg out straight, bring it back down.
    k = math.sin(math.pi * (cycles % 1.0))
    lift = k * k
    return Pose(lean=-12.0 * lift, arm_a=40.0 - 20.0 * lift, elbow_a=100.0, arm_b=-25.0 - 15.0 * lift, elbow_b=90.0,
                hip_a=3.0 + 82.0 * lift, knee_a=110.0 * k * (1.0 - lift ** 3),
                hip_b=-3.0 - 6.0 * lift, knee_b=4.0 * lift)


def _punch(cycles: float, _u: float, _body: Body) -> Pose:
    # Alternating straight punches from a guard at the chin.
    s = math.sin(_TAU * cycles)
    ext_a, ext_b = max(0.0, s) ** 2, max(0.0, -s) ** 2
    return Pose(lean=6.0, arm_a=30.0 + 58.0 * ext_a, elbow_a=115.0 * (1.0 - ext_a),
                arm_b=30.0 + 58.0 * ext_b, elbow_b=115.0 * (1.0 - ext_b),
                hip_a=14.0, knee_a=10.0, hip_b=-12.0, knee_b=6.0)


_STAND = (2.0, 8.0)
_SIT = (2.0, 5.0)  # a real sit-down is short; 8 s would make it nearly static

MOTIONS: dict[str, Motion] = {m.name: m for m in (
    Motion("idle", "idle", _idle, 0.25, 0.0, _STAND, STANDING_REST, STANDING_REST),
    Motion("idle-seated", "idle", _idle_seated, 0.25, 0.0, _SIT, SEATED_REST, SEATED_REST),
    Motion("walk", "walk", _walk, 0.95, 0.55, _STAND, STANDING_REST, STANDING_REST),
    Motion("run", "run", _run, 1.45, 1.5, _STAND, STANDING_REST, STANDING_REST),
    Motion("jump", "jump", _jump, 0.85, 0.0, _STAND, STANDING_REST, STANDING_REST),
    Motion("wave", "wave", _wave, 1.8, 0.0, _STAND, STANDING_REST, STANDING_REST),
    Motion("clap", "clap", _clap, 2.0, 0.0, _STAND, STANDING_REST, STANDING_REST),
    Motion("jumping-jack", "jumping-jack", _jumping_jack, 1.1, 0.0, _STAND, STANDING_REST, STANDING_REST),
    Motion("bend", "bend", _bend, 0.4, 0.0, _STAND, STANDING_REST, STANDING_REST),
    Motion("sit-down", "sit-down", _sit_down, 0.0, 0.0, _SIT, STANDING_REST, SEATED_REST),
    Motion("stand-up", "stand-up", _stand_up, 0.0, 0.0, _SIT, SEATED_REST, STANDING_REST),
    Motion("kick", "kick", _kick, 0.65, 0.0, _STAND, STANDING_REST, STANDING_REST),
    Motion("punch", "punch", _punch, 1.3, 0.0, _STAND, STANDING_REST, STANDING_REST),
)}


def rest_pose(rest: str, body: Body) -> Pose:
    """The pose of the named rest state (``standing`` or ``seated``) for ``body``."""
    return seated_pose(body) if rest == SEATED_REST else STANDING


def ease(t: float, duration: float) -> float:
    """Weight 0..1 of a periodic motion against its rest pose, ``t`` seconds into a segment."""
    ramp = min(EASE_S, duration / 4.0)
    return _smoothstep(min(t, duration - t) / ramp) if ramp > 0 else 1.0


def motion_pose(motion: Motion, t: float, duration: float, body: Body, *,
                speed: float = 1.0, phase: float = 0.0) -> Pose:
    """The pose ``t`` seconds into a segment of ``duration`` seconds of ``motion``.

    ``speed`` scales the cadence (per-segment variation), ``phase`` (cycles)
    shifts where in its cycle a periodic motion starts. ``t`` and ``duration``
    may be :class:`fractions.Fraction`: then ``stand-up`` at ``t`` equals
    ``sit-down`` at ``duration - t`` exactly, not just to rounding.
    """
    if not motion.periodic:
        return motion.pose_fn(0.0, t / duration, body)
    t, duration = float(t), float(duration)
    pose = motion.pose_fn(phase + motion.cadence_hz * speed * t, t / duration, body)
    return rest_pose(motion.rest, body).blend(pose, ease(t, duration))

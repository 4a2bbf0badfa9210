"""The articulated stick figure: body proportions, a pose, and forward kinematics.

Body units: the standing figure is 1.0 tall (feet to top of head); x points the
way the figure faces, y points up, the ground is y = 0. Limb angles are in
degrees, absolute (not relative to the parent limb): 0 points straight down,
+90 points forward, 180 straight up. ``a`` limbs are the near ones (drawn on
top), ``b`` the far ones. In frontal actions (jumping-jack, clap) "forward"
simply reads as "to one side" in the picture.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

# Mean proportions (before normalising to standing height 1.0), roughly adult.
_BASE = {
    "head_r": 0.066, "neck": 0.035, "torso": 0.30, "upper_arm": 0.165, "forearm": 0.15,
    "thigh": 0.235, "shin": 0.235, "foot": 0.06,
}


@dataclass(frozen=True, slots=True)
class Body:
    """Segment lengths of one figure, in body units (standing height is exactly 1)."""

    head_r: float
    neck: float
    torso: float
    upper_arm: float
    forearm: float
    thigh: float
    shin: float
    foot: float

    @classmethod
    def average(cls) -> "Body":
        """The mean body: what envelope checks and tests use as a reference."""
        return cls._normalised(dict(_BASE))

    @classmethod
    def random(cls, rng: np.random.Generator) -> "Body":
        """Proportions varied by up to ±12 % each (big heads, long legs, short arms...)."""
        return cls._normalised({k: v * float(rng.uniform(0.88, 1.12)) for k, v in _BASE.items()})

    @classmethod
    def _normalised(cls, lengths: dict[str, float]) -> "Body":
        height = lengths["thigh"] + lengths["shin"] + lengths["torso"] + lengths["neck"] + 2 * lengths["head_r"]
        return cls(**{k: v / height for k, v in lengths.items()})

    @property
    def hip_height(self) -> float:
        return self.thigh + self.shin


class Pose(NamedTuple):
    """Joint angles (degrees, absolute, see module doc) and root placement of a figure."""

    lean: float = 0.0
    """Torso angle from vertical, + leaning forward."""
    arm_a: float = 6.0
    elbow_a: float = 6.0
    """Elbow flexion: forearm angle = arm + elbow."""
    arm_b: float = -6.0
    elbow_b: float = 6.0
    hip_a: float = 3.0
    """Thigh angle."""
    knee_a: float = 0.0
    """Knee flexion: shin angle = hip - knee (the shin folds backward)."""
    hip_b: float = -3.0
    knee_b: float = 0.0
    lift: float = 0.0
    """Height of the lowest foot above the ground (flight)."""
    dx: float = 0.0
    """Forward offset of the hip from the figure's anchor."""

    def blend(self, other: "Pose", w: float) -> "Pose":
        """The pose a fraction ``w`` (0..1) of the way from this one to ``other``."""
        return Pose(*(a + (b - a) * w for a, b in zip(self, other)))

    def shifted(self, **deltas: float) -> "Pose":
        """This pose with the given fields increased by the given amounts."""
        return self._replace(**{k: getattr(self, k) + v for k, v in deltas.items()})


STANDING = Pose()
"""Relaxed upright stance: every standing action starts and ends here."""


def _down(angle_deg: float) -> tuple[float, float]:
    """Unit vector of a limb at ``angle_deg`` (0 down, 90 forward, 180 up)."""
    r = math.radians(angle_deg)
    return math.sin(r), -math.cos(r)


class Skeleton(NamedTuple):
    """Joint positions in body units (x forward, y up, ground y = 0)."""

    hip: tuple[float, float]
    shoulder: tuple[float, float]
    head: tuple[float, float]
    elbow_a: tuple[float, float]
    hand_a: tuple[float, float]
    elbow_b: tuple[float, float]
    hand_b: tuple[float, float]
    knee_a: tuple[float, float]
    ankle_a: tuple[float, float]
    toe_a: tuple[float, float]
    knee_b: tuple[float, float]
    ankle_b: tuple[float, float]
    toe_b: tuple[float, float]


def skeleton(pose: Pose, body: Body) -> Skeleton:
    """Forward kinematics: the joints of ``body`` in ``pose``, feet resting on the ground.

    The hip height follows from the legs (the lowest ankle or toe touches y = 0)
    plus ``pose.lift``, so crouching, sitting and striding need no separate
    root height.
    """
    tx, ty = math.sin(math.radians(pose.lean)), math.cos(math.radians(pose.lean))
    sx, sy = body.torso * tx, body.torso * ty
    head_d = body.neck + body.head_r
    # Relative to the hip first; the vertical offset is known only once the feet are placed.
    rel: list[tuple[float, float]] = [(0.0, 0.0), (sx, sy), (sx + head_d * tx, sy + head_d * ty)]
    for arm, elbow in ((pose.arm_a, pose.elbow_a), (pose.arm_b, pose.elbow_b)):
        ux, uy = _down(arm)
        fx, fy = _down(arm + elbow)
        ex, ey = sx + body.upper_arm * ux, sy + body.upper_arm * uy
        rel += [(ex, ey), (ex + body.forearm * fx, ey + body.forearm * fy)]
    for hip, knee in ((pose.hip_a, pose.knee_a), (pose.hip_b, pose.knee_b)):
        ux, uy = _down(hip)
        shin = hip - knee
        lx, ly = _down(shin)
        px, py = _down(shin + 90.0)
        kx, ky = body.thigh * ux, body.thigh * uy
        ax, ay = kx + body.shin * lx, ky + body.shin * ly
        rel += [(kx, ky), (ax, ay), (ax + body.foot * px, ay + body.foot * py)]
    lowest = min(rel[8][1], rel[9][1], rel[11][1], rel[12][1])
    oy = pose.lift - lowest
    return Skeleton(*((x + pose.dx, y + oy) for x, y in rel))


def mean_ankle_x(pose: Pose, body: Body) -> float:
    """Forward position of the feet relative to the hip (for keeping feet planted)."""
    total = 0.0
    for hip, knee in ((pose.hip_a, pose.knee_a), (pose.hip_b, pose.knee_b)):
        total += body.thigh * math.sin(math.radians(hip)) + body.shin * math.sin(math.radians(hip - knee))
    return total / 2

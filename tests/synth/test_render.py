"""Rendering: determinism, the time-reversed pair, every action visible and inside the frame."""

from __future__ import annotations

import hashlib
from fractions import Fraction

import numpy as np
import pytest

from actdesk.core.segments import frame_labels
from actdesk.synth import ALL_ACTIONS, render_frames, synth_truth
from actdesk.synth.actions import MOTIONS, motion_pose
from actdesk.synth.figure import Body, skeleton
from actdesk.synth.render import FIGURE_HEIGHT_RANGE, envelope, make_scene, render_script, scene_motions
from actdesk.synth.script import ScriptItem

FPS = 25
SIZE = (96, 72)


def _digest(**kwargs) -> tuple[str, list[str]]:
    h = hashlib.sha256()
    labels = []
    for index, frame, label in render_frames(**kwargs):
        assert frame.shape == (kwargs["size"][1], kwargs["size"][0], 3) and frame.dtype == np.uint8
        h.update(frame.tobytes())
        labels.append(label)
    return h.hexdigest(), labels


def test_same_seed_same_frames_different_seed_different_frames():
    a = _digest(seconds=3, seed=21, size=SIZE)
    assert a == _digest(seconds=3, seed=21, size=SIZE)
    b = _digest(seconds=3, seed=22, size=SIZE)
    assert a[0] != b[0]


@pytest.mark.parametrize("figures", [1, 2])
def test_rendered_labels_are_the_truth(figures):
    truth = synth_truth(seconds=12, seed=8)
    indices, labels = [], []
    for index, _frame, label in render_frames(seconds=12, seed=8, size=SIZE, figures=figures):
        indices.append(index)
        labels.append(label)
    assert indices == list(range(12 * FPS))
    assert labels == frame_labels(truth, 12 * FPS)


def test_stop_ends_rendering_promptly():
    seen = []
    frames = render_frames(seconds=10, seed=1, size=SIZE, should_stop=lambda: len(seen) >= 7)
    for index, _frame, _label in frames:
        seen.append(index)
    assert seen == list(range(7))


@pytest.mark.parametrize("seed", [3, 4])
def test_stand_up_is_sit_down_played_backwards(seed):
    body = Body.random(np.random.default_rng(seed))
    duration = Fraction(3)
    for t in (duration * Fraction(k, 36) for k in range(37)):
        assert motion_pose(MOTIONS["stand-up"], t, duration, body) == \
            motion_pose(MOTIONS["sit-down"], duration - t, duration, body)

    scene = make_scene(np.random.default_rng(seed), size=SIZE, actions=("sit-down", "stand-up"),
                       figures=2).without_camera_effects()
    n = 67
    def frames(motion):
        script = [ScriptItem(motion, 0, n, speed=1.1, phase=0.3)]
        return [f for _, f, _ in render_script(scene, script, FPS, np.random.default_rng(0))]
    sit, stand = frames("sit-down"), frames("stand-up")
    assert all(np.array_equal(a, b) for a, b in zip(sit, reversed(stand)))
    # Not trivially equal: the motion is visible in every 16-frame clip sampled every 2nd frame.
    span = 31
    for start in range(n - span + 1):
        changed = np.any(sit[start] != sit[start + span - 1], axis=2).sum()
        assert changed >= 20, (start, changed)


def _figure_mask(scene, pose_list, t):
    rng = np.random.default_rng(0)
    background = scene.draw([], t, 0.0, rng)
    frame = scene.draw(pose_list, t, 0.0, rng)
    return np.abs(frame.astype(int) - background.astype(int)).max(axis=2) > 25


@pytest.mark.parametrize("seed, size", [(0, SIZE), (1, SIZE), (2, (320, 240)), (3, (320, 240)), (4, (64, 128))])
def test_every_action_draws_a_visible_figure_inside_the_frame(seed, size):
    figures = 1 + seed % 2
    scene = make_scene(np.random.default_rng(seed), size=size, actions=ALL_ACTIONS,
                       figures=figures).without_camera_effects()
    width, height = size
    # The figure at rest: its standing height is in the promised range of the frame height
    # (a portrait frame may be too narrow for the widest poses at the smallest height).
    rest = _figure_mask(scene, [motion_pose(MOTIONS["idle"], 0.0, 8.0, f.body) for f in scene.figures], 0.0)
    rows = np.flatnonzero(rest.any(axis=1))
    lo, hi = FIGURE_HEIGHT_RANGE
    line = max(f.line_px for f in scene.figures)
    assert rows[-1] - rows[0] + 1 <= hi * height + line + 2
    if width >= height:
        assert rows[-1] - rows[0] + 1 >= lo * height - 2
    for name in ("idle-seated",) + ALL_ACTIONS:
        motion = MOTIONS[name]
        duration = motion.durations_s[1]
        for t in np.linspace(0, duration, 29):
            mask = _figure_mask(scene, [motion_pose(motion, t, duration, f.body, phase=f.phase)
                                        for f in scene.figures], t)
            assert mask.sum() >= 0.004 * width * height * figures, (name, t)
            border = np.concatenate([mask[0], mask[-1], mask[:, 0], mask[:, -1]])
            assert not border.any(), (name, t, "figure touches the frame edge")


def test_camera_effects_are_slight():
    scenes = (make_scene(np.random.default_rng(seed), size=(320, 240), actions=ALL_ACTIONS) for seed in range(50))
    scene = next(s for s in scenes if s.noise is not None and s.shake_px >= 2)
    clean = scene.without_camera_effects()
    poses = [motion_pose(MOTIONS["wave"], 1.0, 4.0, scene.figures[0].body)]
    shaken = [scene.draw(poses, t, 0.0, np.random.default_rng(0)).astype(int) for t in np.linspace(0, 2, 9)]
    plain = clean.draw(poses, 1.0, 0.0, np.random.default_rng(0)).astype(int)
    assert all(not np.array_equal(frame, plain) for frame in shaken)
    assert len({scene.shake(t) for t in np.linspace(0, 2, 9)}) > 1
    # Slight: the picture stays the same picture.
    assert all(np.abs(frame - plain).mean() < 25 for frame in shaken)


def test_envelope_bounds_every_pose_a_script_can_produce():
    rng = np.random.default_rng(0)
    motions = scene_motions(ALL_ACTIONS)
    for _ in range(4):
        body = Body.random(rng)
        back, front, top = envelope(body, motions)
        assert back < 0 < front and top > 1.0
        for motion in motions:
            for _ in range(150):
                duration = rng.uniform(*motion.durations_s)
                pose = motion_pose(motion, rng.uniform(0, duration), duration, body,
                                   speed=rng.uniform(0.8, 1.2), phase=rng.random())
                sk = skeleton(pose, body)
                xs = [p[0] for p in sk] + [sk.head[0] - body.head_r, sk.head[0] + body.head_r]
                ys = [p[1] for p in sk] + [sk.head[1] + body.head_r]
                assert back - 0.005 <= min(xs) and max(xs) <= front + 0.005, motion.name
                assert -1e-9 <= min(ys) and max(ys) <= top + 0.005, motion.name

"""Crash safety and locking, with real processes: a SIGKILLed editor loses no committed edit,
a live editor's lock is respected, a dead one's is taken over."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time

import pytest
from videos import make_video

from actdesk.core.commands import AddLabel, CreateSegment
from actdesk.core.project import Project, ProjectLock
from actdesk.errors import ProjectError

# Opens the project for editing, then creates one-frame segments one by one, printing
# each segment's frame after its transaction committed; then idles until killed.
EDITOR = """
import sys, time
from actdesk.core.commands import AddLabel, CreateSegment
from actdesk.core.project import Project
project = Project.open(sys.argv[1])
track = project.human_track(project.videos()[0].id).id
for frame in range(project.videos()[0].frame_count):
    project.execute(CreateSegment(track, frame, frame + 1, "walk"))
    print(frame, flush=True)
time.sleep(120)
"""

# Opens the project for editing, says so, and keeps it open until stdin closes.
HOLDER = """
import sys
from actdesk.core.project import Project
with Project.open(sys.argv[1]):
    print("open", flush=True)
    sys.stdin.read()
"""


def _spawn(script: str, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", script, *map(str, args)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "OMP_NUM_THREADS": "1"})


@pytest.fixture(scope="module")
def long_video(tmp_path_factory):
    return make_video(tmp_path_factory.mktemp("long") / "long.mp4", frames=300)


@pytest.fixture
def long_project(tmp_path, long_video):
    """A closed project whose one video has 300 frames, with the label walk."""
    path = tmp_path / "long.actdesk"
    with Project.create(path) as p:
        p.add_video(long_video)
        p.execute(AddLabel("walk"))
    return path


def test_sigkill_mid_editing_keeps_every_committed_edit(long_project, raw_rows):
    editor = _spawn(EDITOR, long_project)
    acknowledged = []
    try:
        for line in editor.stdout:
            acknowledged.append(int(line))
            if len(acknowledged) == 40:
                break
        os.kill(editor.pid, signal.SIGKILL)
    finally:
        editor.kill()
        editor.wait()
    assert editor.returncode == -signal.SIGKILL, editor.stderr.read()
    assert acknowledged == list(range(40))
    assert ProjectLock.path_for(long_project).exists()  # the killed editor never released it

    assert raw_rows(long_project, "PRAGMA integrity_check") == [("ok",)]
    with Project.open(long_project) as p:  # takes over the dead editor's lock
        track = p.human_track(p.videos()[0].id).id
        frames = [s.start_frame for s in p.segments(track)]
    # Every acknowledged edit is there; at most the edits committed after the last print too.
    assert frames[:40] == acknowledged
    assert frames == list(range(len(frames)))


def test_live_lock_is_refused_and_readonly_still_reads(long_project):
    holder = _spawn(HOLDER, long_project)
    try:
        assert holder.stdout.readline().strip() == "open", holder.stderr.read()
        host = socket.gethostname()
        with pytest.raises(ProjectError, match=rf"is open in another actdesk \(pid {holder.pid} on {host}\)"):
            Project.open(long_project)
        with Project.open(long_project, readonly=True) as ro:
            assert ro.videos()[0].frame_count == 300
        assert ProjectLock.read(ProjectLock.path_for(long_project))["pid"] == holder.pid
    finally:
        holder.stdin.close()
        holder.wait()
    assert holder.returncode == 0, holder.stderr.read()
    assert not ProjectLock.path_for(long_project).exists()
    with Project.open(long_project) as p:
        assert len(p.videos()) == 1


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_stale_lock_of_a_dead_process_is_taken_over(long_project):
    lock = ProjectLock.path_for(long_project)
    lock.write_text(json.dumps({"pid": _dead_pid(), "host": socket.gethostname(), "time": "earlier"}))
    with Project.open(long_project) as p:
        assert ProjectLock.read(lock)["pid"] == os.getpid()
        p.execute(CreateSegment(p.human_track(1).id, 0, 5, "walk"))
    assert not lock.exists()


def test_lock_from_another_host_is_refused_with_what_to_do(long_project):
    lock = ProjectLock.path_for(long_project)
    lock.write_text(json.dumps({"pid": 4242, "host": "other-machine", "time": "2026-01-01T10:00:00+00:00"}))
    with pytest.raises(ProjectError, match=r"pid 4242 on other-machine.*delete .*long\.actdesk\.lock"):
        Project.open(long_project)
    assert ProjectLock.read(lock)["host"] == "other-machine"


def test_unreadable_lock_is_respected_while_young_and_taken_over_when_old(long_project):
    lock = ProjectLock.path_for(long_project)
    lock.write_text("")
    with pytest.raises(ProjectError, match="being opened by another actdesk"):
        Project.open(long_project)
    old = time.time() - 3600
    os.utime(lock, (old, old))
    with Project.open(long_project):
        assert ProjectLock.read(lock)["pid"] == os.getpid()


def test_same_process_cannot_open_twice_for_editing(long_project):
    with Project.open(long_project):
        with pytest.raises(ProjectError, match="already open in this actdesk"):
            Project.open(long_project)

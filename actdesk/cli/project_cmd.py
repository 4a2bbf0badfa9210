"""``actdesk project new P.actdesk VIDEO... [--labels a,b,c]`` and ``actdesk project show P.actdesk``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "project",
        help="create a project file or show what it holds",
        description="Create a project (one SQLite file holding videos, labels, tracks and segments) "
        "or show its contents.",
    )
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    new = actions.add_parser("new", help="create a project with videos and a label set",
                             description="Create a project file; video paths are stored relative to it.")
    new.add_argument("project", metavar="P.actdesk", type=Path, help="the project file to create")
    new.add_argument("videos", metavar="VIDEO", nargs="*", type=Path, help="videos to add")
    new.add_argument("--labels", default="", metavar="a,b,c", help="comma-separated label names, in order")
    new.add_argument("--overwrite", action="store_true", help="replace an existing project file")
    show = actions.add_parser("show", help="list videos, labels, tracks and segment counts",
                              description="Show a project's videos, labels, tracks and segment counts "
                              "(works while the project is open in the app).")
    show.add_argument("project", metavar="P.actdesk", type=Path, help="the project file")
    show.add_argument("--json", action="store_true", help="print as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.action == "new":
        return _new(args)
    return _show(args)


def _new(args: argparse.Namespace) -> int:
    from actdesk.core.commands import AddLabel, Batch
    from actdesk.core.project import Project

    names = [n.strip() for n in args.labels.split(",") if n.strip()]
    add_labels = Batch("Add labels", [AddLabel(n) for n in names])  # validates the names before any file exists
    project = Project.create(args.project, overwrite=args.overwrite)
    try:
        for video in args.videos:
            record = project.add_video(video)
            print(f"added {record.path}: {record.frame_count} frames, {record.avg_fps:.3f} fps"
                  f"{' (variable rate)' if record.is_vfr else ''}")
        project.execute(add_labels)
    except BaseException:
        project.close()
        for leftover in (args.project, Path(f"{args.project}-wal"), Path(f"{args.project}-shm")):
            leftover.unlink(missing_ok=True)
        raise
    project.close()
    print(f"created {args.project}: {len(args.videos)} video(s), {len(names)} label(s)")
    return 0


def project_summary(project) -> dict:
    """Videos (with tracks and segment counts per status) and labels, JSON-ready."""
    videos = []
    for video in project.videos():
        tracks = [{"id": t.id, "name": t.name, "kind": t.kind, "model": t.model, "checkpoint": t.checkpoint,
                   "segments": project.segment_counts(t.id)} for t in project.tracks(video.id)]
        videos.append({"id": video.id, "path": video.path, "missing": not video.abs_path.is_file(),
                       "frame_count": video.frame_count, "avg_fps": video.avg_fps, "is_vfr": video.is_vfr,
                       "duration_s": video.end_time_s, "tracks": tracks})
    labels = [{"name": label.name, "colour": label.colour, "shortcut": label.shortcut}
              for label in project.labels()]
    return {"path": str(project.path), "meta": project.meta(), "labels": labels, "videos": videos}


def _show(args: argparse.Namespace) -> int:
    from actdesk.core.project import Project

    with Project.open(args.project, readonly=True) as project:
        summary = project_summary(project)
    if args.json:
        print(json.dumps(summary, indent=2))
        return 0
    meta = summary["meta"]
    print(f"{summary['path']}  (schema {meta['schema_version']}, made with actdesk {meta.get('app_version', '?')})")
    labels = ", ".join(label["name"] + (f" [{label['shortcut']}]" if label["shortcut"] else "")
                       for label in summary["labels"])
    print(f"labels: {labels or '(none)'}")
    for video in summary["videos"]:
        flags = (" variable rate" if video["is_vfr"] else "") + ("  MISSING" if video["missing"] else "")
        print(f"video #{video['id']} {video['path']}: {video['frame_count']} frames, "
              f"{video['avg_fps']:.3f} fps, {video['duration_s']:.2f} s{flags}")
        for track in video["tracks"]:
            counts = track["segments"]
            what = "human" if track["kind"] == "human" else f"model {track['model']}"
            print(f"  track {track['name']!r} ({what}): {sum(counts.values())} segments "
                  f"({counts['accepted']} accepted, {counts['pending']} pending, {counts['rejected']} rejected)")
    if not summary["videos"]:
        print("no videos")
    return 0

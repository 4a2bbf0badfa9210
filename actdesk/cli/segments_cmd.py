"""``actdesk segments P.actdesk [--video NAME] [--track T] --out OUT.csv``: export a track's segments."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "segments",
        help="write a project's segments to an actdesk segments CSV",
        description="Write the segments of one track (by default the human track) of every project "
        "video, or of one video, to a segments CSV. Rejected segments are left out unless asked for.",
    )
    p.add_argument("project", metavar="P.actdesk", type=Path, help="the project file")
    p.add_argument("--video", metavar="NAME", help="only this video (file name)")
    p.add_argument("--track", metavar="T", default="human", help="track name (default: human)")
    p.add_argument("--include-rejected", action="store_true", help="also write rejected segments")
    p.add_argument("--out", metavar="OUT.csv", type=Path, required=True, help="the CSV to write")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from actdesk.core.project import Project
    from actdesk.errors import ProjectError
    from actdesk.formats.segments_csv import write_segments_csv

    with Project.open(args.project, readonly=True) as project:
        videos = [project.video_named(args.video)] if args.video else project.videos()
        tracks = [t for t in (project.track_named(v.id, args.track) for v in videos) if t is not None]
        if not tracks:
            where = f"video {args.video!r}" if args.video else "any video"
            raise ProjectError(f"{args.project}: {where} has no track named {args.track!r}")
        segments = [s.to_segment() for t in tracks for s in project.segments(t.id)
                    if args.include_rejected or s.status != "rejected"]
    write_segments_csv(args.out, segments)
    print(f"wrote {len(segments)} segments of track {args.track!r} ({len(tracks)} video(s)) to {args.out}")
    return 0

"""``actdesk export P.actdesk --out DIR --format F [--track T]... [--video NAME]... [--split ...] [--seed N]``."""

from __future__ import annotations

import argparse
from pathlib import Path

FORMAT_HELP = ("training sets: clips, mmaction, kinetics-csv, csv; annotations: elan, boris, label-studio, "
               "activitynet, ava; video: overlay (the video with its labels drawn on it); plugins may add more")


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "export",
        help="write a project's segments as a training set, another tool's annotations, or an overlay video",
        description="Export the segments of a track (by default the human track; rejected segments are left "
        "out) of every project video, or of the videos named with --video, into the folder DIR. Training "
        "sets are split by video (a video lies in one split), stratified by label, seeded. A folder that "
        "already holds files is refused unless --overwrite is given; nothing is written outside it.",
    )
    p.add_argument("project", metavar="P.actdesk", type=Path, help="the project file")
    p.add_argument("--out", metavar="DIR", type=Path, required=True, help="the folder to write into")
    p.add_argument("--format", dest="format_name", metavar="F", required=True, help=FORMAT_HELP)
    p.add_argument("--track", dest="tracks", metavar="T", action="append",
                   help="track to export (default: human); elan, label-studio and overlay take several")
    p.add_argument("--video", dest="videos", metavar="NAME", action="append",
                   help="export only this project video (file name); may be given several times")
    p.add_argument("--split", metavar="TRAIN,VAL,TEST", default="0.7,0.15,0.15",
                   help="split fractions for training sets (default: 0.7,0.15,0.15)")
    p.add_argument("--seed", type=int, default=0, help="seed of the split (default: 0)")
    p.add_argument("--overwrite", action="store_true", help="write into a folder that already holds files")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from actdesk.cli.progress import progress_bar
    from actdesk.core.project import HUMAN_TRACK, Project
    from actdesk.formats.export import export_project
    from actdesk.formats.splits import parse_fractions

    fractions = parse_fractions(args.split)
    with Project.open(args.project, readonly=True) as project, progress_bar(f"export {args.format_name}") as bar:
        result = export_project(project, args.out, args.format_name, tracks=args.tracks or [HUMAN_TRACK],
                                videos=args.videos, fractions=fractions, seed=args.seed,
                                overwrite=args.overwrite, progress=bar)
    members = list(result.splits.values()) if result.kind == "dataset" else []
    splits = ", ".join(f"{split} {members.count(split)}" for split in ("train", "val", "test") if split in members)
    print(f"exported {result.segments} segments of {result.videos} video(s) as {result.format} to {result.folder}: "
          f"{len(result.files)} files" + (f"; videos per split: {splits}" if splits else ""))
    return 0

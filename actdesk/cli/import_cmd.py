"""``actdesk import P.actdesk FILE_OR_FOLDER [--format F] [--video NAME] [--track human|NAME]``."""

from __future__ import annotations

import argparse
from pathlib import Path

FORMAT_HELP = ("format (default: recognised from the file or folder): csv, elan, boris, label-studio, activitynet, "
               "mmaction, kinetics-csv, clips, ucf101, ucf50, hmdb51, or one a plugin adds")


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "import",
        help="add segments from an annotation file or a data set to a project (one undoable step)",
        description="Add the segments of an annotation file (actdesk CSV, ELAN, BORIS, Label Studio, "
        "ActivityNet, Kinetics CSV, MMAction2 list) to the project videos it names (or to --video), or add "
        "the videos of a data-set folder (UCF101, UCF50, HMDB51, an exported clips/mmaction folder) with one "
        "segment each and their official splits. Times in seconds become frames through each video's PTS "
        "index. Labels not yet in the project are added; segments that overlap segments already on the "
        "track are refused.",
    )
    p.add_argument("project", metavar="P.actdesk", type=Path, help="the project file")
    p.add_argument("source", metavar="FILE_OR_FOLDER", type=Path, help="annotation file or data-set folder")
    p.add_argument("--video", metavar="NAME", help="put every segment on this project video (file name)")
    p.add_argument("--track", metavar="human|NAME",
                   help="put every segment on this track ('human' or a track name, made if missing); "
                   "default: the file's own tracks (ELAN tiers, BORIS subjects), else human")
    p.add_argument("--format", dest="format_name", metavar="F", help=FORMAT_HELP)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from actdesk.cli.progress import progress_bar
    from actdesk.core.project import Project
    from actdesk.formats.importing import import_into_project, read_source

    imported = read_source(args.source, args.format_name)
    with Project.open(args.project) as project:
        with progress_bar("adding videos", unit="video", quiet=not imported.video_files) as bar:
            plan = import_into_project(project, imported, track=args.track, video=args.video, progress=bar)
        project.execute(plan.command)
    tracks = ", ".join(map(repr, plan.tracks)) or "none"
    print(f"imported {plan.segments} segments ({imported.format}) from {args.source} into track(s) {tracks}"
          + (f"; added {len(plan.videos_added)} videos" if imported.video_files else "")
          + (f"; recorded split sets {', '.join(plan.split_sets)}" if plan.split_sets else ""))
    return 0

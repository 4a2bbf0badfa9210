"""``actdesk info VIDEO [--json]``: what actdesk reads from a video file."""

from __future__ import annotations

import argparse
import json


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "info",
        help="show a video's container, codec, size, rotation, frame rate, duration and exact frame count",
        description="Describe a video as actdesk reads it. The frame count is exact (counted from "
        "the packets), also where the container's header lacks it or is wrong.",
    )
    p.add_argument("video", metavar="VIDEO", help="video file")
    p.add_argument("--json", action="store_true", help="print the description as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from actdesk.media import probe

    info = probe(args.video)
    if args.json:
        print(json.dumps(info.to_dict(), indent=2))
    else:
        print(format_info(info))
    return 0


def format_info(info) -> str:
    """A VideoInfo as aligned ``name  value`` lines."""
    if not info.header_frame_count:
        header = "the header gives no count"
    elif info.header_frame_count == info.frame_count:
        header = "as the header says"
    else:
        header = f"the header says {info.header_frame_count}"
    rows = [
        ("file", info.path),
        ("container", info.container),
        ("codec", info.codec),
        ("size", f"{info.width}x{info.height}" + (" (as displayed)" if info.rotation else "")),
        ("rotation", f"{info.rotation}° clockwise" if info.rotation else "none"),
        ("frame rate", f"{info.avg_fps:.3f} fps average, {'variable' if info.is_vfr else 'constant'}"),
        ("duration", f"{info.duration_s:.3f} s"),
        ("frames", f"{info.frame_count} ({header})"),
    ]
    width = max(len(name) for name, _ in rows)
    return "\n".join(f"{name:<{width}}  {value}" for name, value in rows)

"""``actdesk synth OUT.mp4 --seconds S --seed N --truth TRUTH.csv``: a synthetic action video and its truth."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from actdesk.errors import ActdeskError

_SIZE = re.compile(r"\s*(\d+)\s*[xX]\s*(\d+)\s*")


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "synth", help="generate a synthetic stick-figure action video with exact truth",
        description="Render a random script of actions performed by stick figures to a video, and "
                    "write the exact truth as a segments CSV. Seeds below 10000 are for training, "
                    "seeds from 10000 up for evaluation.")
    p.add_argument("out", metavar="OUT", help="video to write (.mp4, .mkv, .mov: H.264; .webm: VP9; .avi: MPEG-4)")
    p.add_argument("--seconds", type=float, required=True, help="length of the video in seconds")
    p.add_argument("--seed", type=int, required=True, help="decides everything random (script, look, noise)")
    p.add_argument("--truth", metavar="TRUTH.csv", required=True, help="segments CSV to write the truth to")
    p.add_argument("--size", default="320x240", metavar="WxH", help="frame size (default 320x240)")
    p.add_argument("--fps", type=float, default=25.0, help="frame rate (default 25)")
    p.add_argument("--actions", metavar="A,B,...",
                   help="comma-separated actions to use (default: the bundled model's ten); "
                        "sit-down and stand-up go together")
    p.add_argument("--figures", type=int, default=1, choices=(1, 2), help="stick figures in the scene")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def parse_size(text: str, option: str = "--size") -> tuple[int, int]:
    """``"320x240"`` -> ``(320, 240)``; anything else raises ActdeskError naming ``option``.

    Only the form is checked: each caller knows its own range and says it in its own words.
    """
    match = _SIZE.fullmatch(text)
    if not match:
        raise ActdeskError(f"{option} must look like WIDTHxHEIGHT (e.g. 320x240), got {text!r}")
    return int(match.group(1)), int(match.group(2))


def parse_actions(text: str) -> tuple[str, ...]:
    """``"walk,run"`` -> ``("walk", "run")``; names are checked by the generator."""
    names = tuple(name.strip() for name in text.split(","))
    if any(not name for name in names):
        raise ActdeskError(f"--actions must be comma-separated action names, got {text!r}")
    return names


def run(args: argparse.Namespace) -> int:
    from actdesk.cli.progress import progress_bar
    from actdesk.formats.segments_csv import write_segments_csv
    from actdesk.synth import ACTIONS, generate_video

    size = parse_size(args.size)
    actions = parse_actions(args.actions) if args.actions is not None else ACTIONS
    if not Path(args.truth).parent.is_dir():
        raise ActdeskError(f"--truth {args.truth}: folder {Path(args.truth).parent} does not exist")
    with progress_bar(f"synth {args.out}", unit="frame", quiet=args.quiet) as progress:
        truth = generate_video(args.out, seconds=args.seconds, seed=args.seed, size=size, fps=args.fps,
                               actions=actions, figures=args.figures, progress=progress)
    write_segments_csv(args.truth, truth)
    frames = truth[-1].end_frame if truth else 0
    print(f"wrote {args.out} ({frames} frames, {size[0]}x{size[1]}, {args.fps:g} fps) "
          f"and {args.truth} ({len(truth)} segments)")
    return 0

"""``actdesk demo``: the app on a generated action video, labelled by the bundled model.

With no screen (Linux without DISPLAY/WAYLAND_DISPLAY and no QT_QPA_PLATFORM)
or with --screenshot, it runs offscreen to the end, writes a screenshot,
prints the segments and their frame accuracy against the truth, and exits 0.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "demo", help="open the app on a synthetic action video labelled by the bundled model",
        description=__doc__.split("\n\n")[1].replace("\n", " "))
    parser.add_argument("--screenshot", type=Path, metavar="OUT.png",
                        help="run offscreen until the model has finished, write the window to OUT.png, exit")
    parser.add_argument("--seconds", type=float, default=None, help="length of the demo video (default 60)")
    parser.add_argument("--dir", type=Path, default=None,
                        help="where to keep the demo video and project (default: the per-user data folder)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from actdesk.errors import ActdeskError
    from actdesk.qt.demo import DEMO_SECONDS, run_demo

    if args.seconds is not None and not args.seconds > 0:
        raise ActdeskError(f"--seconds must be positive, got {args.seconds}")
    if args.dir is not None:
        args.dir.mkdir(parents=True, exist_ok=True)
    return run_demo(screenshot=args.screenshot, seconds=args.seconds or DEMO_SECONDS, folder=args.dir)

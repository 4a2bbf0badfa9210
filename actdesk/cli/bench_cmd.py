"""``actdesk bench [--json] [--seconds S]``: speed and memory ratios measured in one run."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "bench",
        help="measure decode, overlap, speed-up and memory ratios on a synthetic video",
        description="Generate a synthetic video and measure, in one run: decode speed of the clip "
        "pipeline against raw PyAV, end-to-end labelling against its slower half, the speed-up over "
        "a seed-style baseline (with the same predictions), and peak memory for a 10-minute against "
        "a 1-minute video. Each figure is printed with its goal. Exit status 1 when one misses.",
    )
    p.add_argument("--seconds", type=float, default=20.0, metavar="S",
                   help="length of the benchmark video for the speed figures (default: 20)")
    p.add_argument("--repeats", type=int, default=3, metavar="N", help="time each part N times, keep the best")
    p.add_argument("--workdir", metavar="DIR", help="keep the generated videos here (default: a temporary folder)")
    p.add_argument("--gui", action="store_true", help="also measure the GUI figures (actdesk.qt.bench_gui)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import json

    from actdesk.bench import run_bench
    from actdesk.cli.progress import progress_bar

    with progress_bar("benchmark", unit="step", quiet=args.json) as progress:
        report = run_bench(seconds=args.seconds, repeats=args.repeats, workdir=args.workdir, gui=args.gui,
                           progress=progress)
    print(json.dumps(report.to_dict(), indent=2) if args.json else report.format_table())
    return 0 if report.passed else 1

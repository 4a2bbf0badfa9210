"""``actdesk eval PRED.csv TRUTH.csv [--json]``: segmentation metrics of predictions against the truth."""

from __future__ import annotations

import argparse
import json


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "eval",
        help="score predicted segments against the truth (frame accuracy, edit, F1@10/25/50)",
        description="Score predicted segments against truth segments (both actdesk segments CSV) "
        "with the MS-TCN temporal action segmentation metrics, video by video.",
    )
    p.add_argument("pred", metavar="PRED.csv", help="predicted segments")
    p.add_argument("truth", metavar="TRUTH.csv", help="true segments")
    p.add_argument("--json", action="store_true", help="print the metrics as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from actdesk.formats.segments_csv import read_segments_csv
    from actdesk.ml.metrics import evaluate

    result = evaluate(read_segments_csv(args.pred), read_segments_csv(args.truth))
    if args.json:
        print(json.dumps(result.to_dict(), indent=2))
    else:
        print(format_evaluation(result))
    return 0


def format_evaluation(result) -> str:
    """The metrics and the per-class table as aligned text."""
    f1 = "  ".join(f"F1@{round(k * 100)} {v:.3f}" for k, v in result.f1.items())
    lines = [
        f"frames {result.frames}  videos {len(result.videos)}",
        f"frame accuracy {result.frame_accuracy * 100:.2f} %  edit {result.edit:.2f}  {f1}",
        "",
    ]
    width = max([len("class"), *(len(c.label) for c in result.per_class)])
    lines.append(f"{'class':<{width}}  precision  recall     F1  frames")
    for c in result.per_class:
        lines.append(f"{c.label:<{width}}  {c.precision:9.3f}  {c.recall:6.3f}  {c.f1:5.3f}  {c.support:6d}")
    return "\n".join(lines)

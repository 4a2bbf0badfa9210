"""``actdesk label VIDEO --out PRED.csv``: label a video with a model, write its segments."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    from actdesk.ml.postprocess import DEFAULT_MIN_FRAMES, DEFAULT_SMOOTH_FRAMES

    p = subparsers.add_parser(
        "label",
        help="label a video with a model (segments CSV, window scores, project track)",
        description="Run a model over every clip of a video and cut its scores into action "
        "segments. Without --model or --checkpoint the bundled model is used.",
    )
    p.add_argument("video", metavar="VIDEO", help="the video to label")
    p.add_argument("--model", metavar="NAME",
                   help="model architecture; alone: its bundled or newest user checkpoint; with "
                        "--checkpoint: the model a foreign weight file (.pth) is imported for")
    p.add_argument("--checkpoint", metavar="CKPT", help="checkpoint file (default: the bundled model)")
    p.add_argument("--stride", type=_positive_int, default=2, metavar="K",
                   help="score the clip centred on every K-th frame (default: 2)")
    p.add_argument("--device", default="auto", metavar="auto|cpu|cuda",
                   help="where the model runs: auto, cpu, cuda or cuda:N (default: auto)")
    p.add_argument("--batch", type=_positive_int, default=None, metavar="B",
                   help="clips per forward pass (default: 2 on the CPU, 16 on a GPU)")
    p.add_argument("--timeout", type=_positive_float, default=None, metavar="S",
                   help="give up when one forward pass takes longer than S seconds")
    p.add_argument("--smooth", type=_positive_int, default=DEFAULT_SMOOTH_FRAMES, metavar="FRAMES",
                   help=f"moving-average window over frame probabilities (default: {DEFAULT_SMOOTH_FRAMES})")
    p.add_argument("--min-frames", type=_positive_int, default=DEFAULT_MIN_FRAMES, metavar="N",
                   help=f"shorter segments join a neighbour (default: {DEFAULT_MIN_FRAMES})")
    p.add_argument("--out", required=True, metavar="PRED.csv", help="segments CSV to write")
    p.add_argument("--scores", metavar="SCORES.npz",
                   help="also write window centres and probabilities, frame probabilities and times")
    p.add_argument("--project", metavar="P.actdesk",
                   help="also add the segments, with their confidence curves, as a model track of this project "
                        "(the video is added if new)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be more than 0, got {text}")
    return value


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from actdesk.cli.progress import progress_bar
    from actdesk.formats.segments_csv import write_segments_csv
    from actdesk.ml.checkpoints import find_checkpoint, load_model
    from actdesk.ml.inference import label_video_to_segments

    checkpoint = Path(args.checkpoint) if args.checkpoint else find_checkpoint(args.model)
    loaded = load_model(checkpoint, device=args.device, architecture=args.model)
    with progress_bar(f"labelling {Path(args.video).name}", unit="clip", quiet=args.quiet) as progress:
        result = label_video_to_segments(
            args.video, loaded, stride=args.stride, batch=args.batch, timeout_s=args.timeout,
            smooth_window=args.smooth, min_frames=args.min_frames, progress=progress,
        )
    write_segments_csv(args.out, result.segments)
    if args.scores:
        np.savez_compressed(
            args.scores, centers=result.centers, probs=result.window_probs, frame_probs=result.frame_probs,
            labels=np.array(result.labels), times_s=result.times_s, end_time_s=result.end_time_s,
        )
    if args.project:
        _add_to_project(Path(args.project), Path(args.video), result)
    print(f"{len(result.segments)} segments from {loaded.meta.architecture} ({checkpoint.name}, "
          f"{loaded.device}) written to {args.out}")
    return 0


def _add_to_project(project_path: Path, video: Path, result) -> None:
    """Add the segments, with the confidence curves they were cut from, as a new model track (one undoable
    command). The model's whole label set joins the project, in its order, as a run in the app does."""
    import numpy as np

    from actdesk.core.commands import AddLabel, AddModelTrack, Batch
    from actdesk.core.project import Project, TrackScores

    scores = TrackScores(result.labels, np.arange(len(result.frame_probs)), result.frame_probs)
    model = result.settings["model"]
    with Project.open(project_path) as project:
        record = project.add_video(video)
        known = {label.name for label in project.labels()}
        project.execute(Batch(f"Add {model} predictions", [
            *(AddLabel(name) for name in result.labels if name not in known),
            AddModelTrack(record.id, model, result.settings["checkpoint"], result.segments,
                          params=result.settings, scores=scores)]))

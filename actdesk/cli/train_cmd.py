"""``actdesk train``: train on synthetic videos, or fine-tune on a project or data set.

``actdesk train --synthetic --model NAME --out CKPT`` trains on generated
videos; ``actdesk train DATASET_OR_PROJECT --out CKPT`` fine-tunes (the
engine is :mod:`actdesk.ml.finetune`, shared with the Train dialog).

Training videos come from seeds ``0..N-1`` and validation videos from the
held-out training seeds ``9000..`` (:data:`actdesk.ml.datasets.VALIDATION_SEEDS_START`);
evaluation seeds (10000 and up) are never touched. ``--bundled`` is the recipe
of the bundled model (``make model``, resources/models/README.md).
"""

from __future__ import annotations

import argparse

from actdesk.errors import ActdeskError

# Smaller frames leave the convolution stacks nothing to see; larger ones are the model's business.
MIN_CLIP_SIDE = 16


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "train",
        help="train or fine-tune a model and write a checkpoint",
        description="Fine-tune on a project's corrected segments or a data-set folder, or (--synthetic) "
        "train any registered model on synthetic stick-figure videos from training seeds. Writes a "
        "checkpoint (safetensors + metadata) and, when fine-tuning, a training report beside it.",
    )
    p.add_argument("--synthetic", action="store_true",
                   help="train on generated synthetic videos instead of a project or data set")
    p.add_argument("--model", default="c3d-attention", help="model name (see `actdesk plugins`)")
    p.add_argument("--out", required=True, metavar="CKPT", help="checkpoint file to write")
    p.add_argument("--bundled", action="store_true",
                   help="the bundled model's recipe (other options override single settings)")
    p.add_argument("--videos", type=int, help="training videos (default 24)")
    p.add_argument("--val-videos", type=int, help="validation videos (default 4)")
    p.add_argument("--seconds", type=float, help="length of each video in seconds (default 60)")
    p.add_argument("--epochs", type=int, help="epochs (default: the model's own)")
    p.add_argument("--clips", type=int, help="training clips per epoch (default 4096)")
    p.add_argument("--batch", type=int, help="clips per batch (default: the model's own)")
    p.add_argument("--lr", type=float, help="peak learning rate (default: the model's own)")
    p.add_argument("--seed", type=int, help="seed of initialisation, sampling and augmentation (default 0)")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N (default auto)")
    p.add_argument("--clip-size", metavar="WxH",
                   help="--synthetic: frame size the model sees (default: the model's own; smaller trains faster)")
    p.add_argument("--half", action="store_true", help="store the weights in float16 (half the file size)")
    p.add_argument("--cache", metavar="DIR", help="folder for the generated videos (default: per-user cache)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    from actdesk.ml.finetune import add_finetune_arguments

    add_finetune_arguments(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if not args.synthetic:
        if args.clip_size is not None:
            raise ActdeskError("--clip-size applies to --synthetic training; fine-tuning keeps the input "
                               "of the checkpoint it starts from")
        from actdesk.ml.finetune import run_finetune_command

        return run_finetune_command(args)
    if args.source is not None:
        raise ActdeskError("--synthetic trains on generated videos; drop it to fine-tune on " + args.source)
    return _train_synthetic(args)


def _train_synthetic(args: argparse.Namespace) -> int:
    import json
    import time
    from dataclasses import replace

    import torch

    from actdesk.cli.progress import progress_bar
    from actdesk.cli.synth_cmd import parse_size
    from actdesk.ml.checkpoints import CheckpointMeta, save_checkpoint
    from actdesk.ml.datasets import ClipDataset, synthetic_videos
    from actdesk.ml.device import select_device
    from actdesk.ml.training import BUNDLED_RECIPE, SyntheticRecipe, TrainingConfig, train_model
    from actdesk.plugins import get_plugin_manager
    from actdesk.synth import ACTIONS

    started = time.perf_counter()
    manager = get_plugin_manager()
    spec = manager.spec(args.model)
    if args.clip_size is not None:
        # Only the clips and the checkpoint's metadata change: the shipped models pool adaptively.
        width, height = parse_size(args.clip_size, "--clip-size")
        if min(width, height) < MIN_CLIP_SIDE:
            raise ActdeskError(f"--clip-size {args.clip_size}: width and height must be at least {MIN_CLIP_SIDE} pixels")
        spec = replace(spec, size=(height, width))
    recipe = BUNDLED_RECIPE if args.bundled else SyntheticRecipe()
    recipe = recipe.with_overrides(videos=args.videos, val_videos=args.val_videos, seconds=args.seconds)
    overrides = {"epochs": args.epochs, "clips_per_epoch": args.clips, "batch_size": args.batch,
                 "lr": args.lr, "seed": args.seed}
    config = TrainingConfig.for_spec(spec, **{**recipe.config, **{k: v for k, v in overrides.items() if v is not None}})
    config.validate()
    device = select_device(args.device)

    def videos(seeds: list[int], what: str):
        with progress_bar(f"generating {what} videos", unit="video", quiet=args.quiet) as progress:
            return synthetic_videos(seeds, seconds=recipe.seconds, size=recipe.video_size, fps=recipe.fps,
                                    cache_dir=args.cache, progress=progress)

    def decode(items, what: str) -> ClipDataset:
        with progress_bar(f"decoding {what} videos", unit="frame", quiet=args.quiet) as progress:
            return ClipDataset.decode(items, size=spec.size, clip_len=spec.clip_len,
                                      frame_step=spec.frame_step, progress=progress)

    train = decode(videos(recipe.train_seeds, "training"), "training")
    val = decode(videos(recipe.val_seeds, "validation"), "validation")

    torch.manual_seed(config.seed)
    model = manager.build_model(spec.name, len(ACTIONS))
    history = []
    with progress_bar(f"training {spec.name}", unit="batch", quiet=args.quiet) as progress:
        for report in train_model(model, train, val, labels=ACTIONS, mean=spec.mean, std=spec.std,
                                  standardise=spec.standardise_clips, config=config, device=device,
                                  progress=progress):
            history.append(report)
            print(f"epoch {report.epoch:2d}/{report.epochs}  loss {report.train_loss:.3f}  "
                  f"acc {report.train_acc:.3f}  val loss {report.val_loss:.3f}  val acc {report.val_acc:.3f}  "
                  f"lr {report.lr:.2e}  {report.seconds:.0f} s{'  *' if report.best else ''}", flush=True)
    best = max(history, key=lambda r: (r.val_acc, -r.val_loss))
    wall_s = time.perf_counter() - started
    provenance = {
        "data": "synthetic", "train_seeds": recipe.seed_range(recipe.train_seeds),
        "val_seeds": recipe.seed_range(recipe.val_seeds), "videos": len(recipe.train_seeds),
        "seconds_per_video": recipe.seconds, "video_size": list(recipe.video_size), "fps": recipe.fps,
        "epochs": len(history), "best_epoch": best.epoch, "config": config_dict(config),
        "device": str(device), "wall_time_s": round(wall_s, 1), "recipe": "bundled" if args.bundled else "custom",
    }
    metrics = {"val_clip_accuracy": best.val_acc, "val_loss": best.val_loss,
               "val_per_class_f1": {c.label: round(c.f1, 4) for c in best.per_class}}
    meta = CheckpointMeta.for_spec(spec, ACTIONS, provenance=provenance, metrics=metrics)
    weights = model.state_dict()
    if args.half or recipe.half:
        weights = {k: v.half() if v.is_floating_point() else v for k, v in weights.items()}
    save_checkpoint(args.out, weights, meta)
    print(f"wrote {args.out}: best epoch {best.epoch}, validation clip accuracy {best.val_acc * 100:.2f} %, "
          f"{wall_s / 60:.1f} min")
    if not args.quiet:
        print(json.dumps(metrics, indent=2))
    return 0


def config_dict(config) -> dict:
    """The training settings as JSON-ready values, for the checkpoint's provenance."""
    from dataclasses import asdict

    return asdict(config)

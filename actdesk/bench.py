"""``actdesk bench``: the engine's speed and memory as ratios measured in one run.

Every figure compares two things timed on the same machine, the same
synthetic video (``actdesk.synth``, an evaluation seed) and the same model,
so the ratios hold across machines where absolute numbers do not:

1. decode: frames per second through our clip pipeline (exact frame index,
   resize, clip ring) / a raw threaded PyAV decode of the same file;
2. overlap: end-to-end labelling time / max(decode-only, model-only), which is
   1.0 when decoding hides completely behind the model (or the reverse);
3. speed-up over the seed-style baseline (every frame decoded at full size
   into memory, then one clip at a time through the model), with a check that
   both give the same window predictions;
4. memory: peak RSS labelling a 10-minute video / a 1-minute one, each in a
   fresh process;
5. fine-tune throughput: training clips per second through
   ``actdesk.ml.finetune.finetune`` (sampling, augmentation, the training
   loop) / a bare torch loop (same model, clips, batch and optimizer).

Each time is the best of ``repeats`` runs (the machine may be shared).
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from actdesk.core.tasks import ProgressFn, StopFn, never_stop, no_progress
from actdesk.errors import Cancelled

VIDEO_SIZE = (320, 240)
"""(width, height) of the synthetic benchmark video."""
VIDEO_SEED = 10_000
"""An evaluation seed: the bundled model never saw it."""
STRIDE = 2
RSS_STRIDE = 4
"""Stride for the memory figure (whose two runs decode 16 500 frames between them)."""
RSS_REPEATS = 10
"""The long video is the 1-minute one remuxed this many times back to back."""
FINETUNE_CLIPS = 128
"""Training clips per timed run of the fine-tune figure."""


@dataclass(frozen=True)
class BenchRow:
    """One figure: ``value`` compared with ``goal`` (``">= 0.9"`` or ``"<= 1.1"``)."""

    name: str
    value: float
    goal: str
    passed: bool
    detail: str = ""


@dataclass
class BenchReport:
    machine: dict[str, Any]
    settings: dict[str, Any]
    rows: list[BenchRow] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(row.passed for row in self.rows)

    def to_dict(self) -> dict[str, Any]:
        return {"machine": self.machine, "settings": self.settings, "rows": [asdict(r) for r in self.rows],
                "passed": self.passed}

    def format_table(self) -> str:
        """The report as aligned text: machine, settings, one line per figure."""
        m, s = self.machine, self.settings
        lines = [
            f"machine: {m['cores']} cores ({m['cpu']}), {m['platform']}, Python {m['python']}, "
            f"torch {m['torch']}, PyAV {m['av']}",
            f"run: video {s['video_seconds']:g} s {s['video_size']} @ {s['fps']} fps (seed {s['seed']}), "
            f"model {s['model']} ({s['weights']}), stride {s['stride']}, batch {s['batch']}, "
            f"{s['torch_threads']} torch + {s['decode_threads']} decode thread(s), device {s['device']}, "
            f"best of {s['repeats']}",
            "",
        ]
        width = max(len(r.name) for r in self.rows)
        lines.append(f"{'figure':<{width}}  {'value':>7}  {'goal':<7}  result  detail")
        for r in self.rows:
            lines.append(f"{r.name:<{width}}  {r.value:7.2f}  {r.goal:<7}  {'pass' if r.passed else 'MISS':<6}  "
                         f"{r.detail}")
        return "\n".join(lines)


def _row(name: str, value: float, goal: str, detail: str) -> BenchRow:
    op, limit = goal.split()
    passed = value >= float(limit) if op == ">=" else value <= float(limit)
    return BenchRow(name, round(value, 4), goal, passed, detail)


def run_bench(
    *,
    seconds: float = 20.0,
    repeats: int = 3,
    workdir: str | os.PathLike | None = None,
    gui: bool = False,
    progress: ProgressFn = no_progress,
    should_stop: StopFn = never_stop,
) -> BenchReport:
    """Measure every figure; ``seconds`` is the length of the video for figures 1–3.

    ``workdir`` keeps the generated videos (default: a temporary folder,
    removed afterwards). ``gui`` adds the rows of
    ``actdesk.qt.bench_gui.run_gui_bench()``. Raises :class:`Cancelled` when stopped.
    """
    if workdir is None:
        with tempfile.TemporaryDirectory(prefix="actdesk-bench-") as tmp:
            return run_bench(seconds=seconds, repeats=repeats, workdir=tmp, gui=gui, progress=progress,
                             should_stop=should_stop)
    import torch

    from actdesk.media import ClipSampling, VideoReader
    from actdesk.ml.device import CPU_INFERENCE_BATCH, available_cores, configure_threads
    from actdesk.synth import generate_video

    work = Path(workdir)
    steps = 6 + int(gui)
    step = 0

    def advance(message: str) -> None:
        nonlocal step
        if should_stop():
            raise Cancelled("benchmark")
        progress(step, steps, message)
        step += 1

    advance("generating the synthetic video")
    video = work / "bench.mp4"
    generate_video(video, seconds=seconds, seed=VIDEO_SEED, size=VIDEO_SIZE, should_stop=should_stop)
    loaded, checkpoint, weights = _bench_model(work)
    decode_threads, _ = configure_threads(None)
    meta = loaded.meta
    sampling = ClipSampling(meta.clip_len, meta.frame_step, STRIDE, meta.size)
    with VideoReader(video, threads=decode_threads) as reader:
        frame_count = reader.frame_count
        fps = reader.info.avg_fps
    _label(video, loaded, decode_threads)  # warm-up; leaves torch at the threads labelling chose
    torch_threads = torch.get_num_threads()
    report = BenchReport(_machine(), {
        "video_seconds": seconds, "video_size": f"{VIDEO_SIZE[0]}x{VIDEO_SIZE[1]}", "fps": round(float(fps), 3),
        "seed": VIDEO_SEED, "frames": frame_count, "model": meta.architecture, "weights": weights,
        "stride": STRIDE, "batch": CPU_INFERENCE_BATCH, "decode_threads": decode_threads, "torch_threads": torch_threads,
        "device": str(loaded.device), "repeats": repeats,
    })

    advance("decode, model and end-to-end timings")
    sample, sizes = _one_batch_and_sizes(video, sampling, decode_threads)
    ours: list = []
    best = _interleaved_best(repeats, {
        "bare": lambda: _raw_decode(video, decode_threads, None),
        "raw": lambda: _raw_decode(video, decode_threads, meta.size),
        "pipeline": lambda: _pipeline_decode(video, sampling, decode_threads),
        "model": lambda: _model_only(loaded, sample, sizes, torch_threads),
        "e2e": lambda: ours.append(_label(video, loaded, decode_threads)),
    })
    pipeline_s, model_s, e2e_s = best["pipeline"], best["model"], best["e2e"]
    report.rows.append(_row(
        "decode fps: clip pipeline / raw PyAV", best["raw"] / pipeline_s, ">= 0.9",
        f"pipeline {frame_count / pipeline_s:.0f} fps, raw {frame_count / best['raw']:.0f} fps "
        f"(to RGB {meta.size[1]}x{meta.size[0]}; {frame_count / best['bare']:.0f} fps decoding alone), "
        f"{decode_threads} decode thread(s)"))
    report.rows.append(_row(
        "end-to-end / max(decode, model)", e2e_s / max(pipeline_s, model_s), "<= 1.1",
        f"end-to-end {e2e_s:.2f} s, decode-only {pipeline_s:.2f} s, model-only {model_s:.2f} s"))
    _, ours_probs = ours[-1]

    advance("seed-style baseline")
    baseline_s, baseline_probs = _seed_baseline(video, loaded, available_cores())
    same = float((baseline_probs.argmax(1) == ours_probs.argmax(1)).mean())
    diff = float(abs(baseline_probs - ours_probs).max())
    row = _row("speed-up over seed-style baseline", baseline_s / e2e_s, ">= 3",
               f"baseline {baseline_s:.2f} s vs {e2e_s:.2f} s; same prediction on {same:.1%} of "
               f"{len(ours_probs)} windows (max prob. difference {diff:.3f})")
    if same < 0.99:
        row = BenchRow(row.name, row.value, row.goal, False, row.detail + " — predictions differ")
    report.rows.append(row)

    advance("peak memory, 1 and 10 minutes")
    minute = work / "minute.mp4"
    if seconds == 60:
        minute = video
    else:
        generate_video(minute, seconds=60, seed=VIDEO_SEED, size=VIDEO_SIZE, should_stop=should_stop)
    ten = repeat_video(minute, work / "ten-minutes.mp4", RSS_REPEATS)
    rss_1 = peak_rss_labelling(minute, checkpoint)
    rss_10 = peak_rss_labelling(ten, checkpoint)
    report.rows.append(_row(
        "peak RSS: 10-minute / 1-minute video", rss_10 / rss_1, "<= 1.1",
        f"{rss_10 / 1024:.0f} MiB vs {rss_1 / 1024:.0f} MiB (fresh processes, stride {RSS_STRIDE})"))

    advance("fine-tune throughput")
    report.rows.append(_finetune_throughput(work, video, frame_count, seconds, checkpoint, repeats,
                                            torch_threads))

    if gui:
        advance("GUI figures")
        from actdesk.qt.bench_gui import run_gui_bench

        report.rows.extend(r if isinstance(r, BenchRow) else BenchRow(**r) for r in run_gui_bench())
    progress(steps, steps, "done")
    return report


def _interleaved_best(repeats: int, runs: dict[str, Callable[[], Any]]) -> dict[str, float]:
    """Shortest wall time of each run over ``repeats`` rounds; the runs take turns
    within a round so that a change in the machine's load hits them alike."""
    best = dict.fromkeys(runs, float("inf"))
    for _ in range(max(1, repeats)):
        for name, run in runs.items():
            start = time.perf_counter()
            run()
            best[name] = min(best[name], time.perf_counter() - start)
    return best


def _bench_model(work: Path):
    """The bundled model, or (where it has not been built) a freshly initialised
    c3d-attention saved as a checkpoint: speed does not depend on the weights."""
    from actdesk.ml.checkpoints import CheckpointMeta, load_model, save_checkpoint
    from actdesk.paths import bundled_checkpoint
    from actdesk.plugins import get_plugin_manager

    bundled = bundled_checkpoint()
    if bundled.is_file():
        return load_model(bundled, device="cpu"), bundled, "bundled checkpoint"
    import torch

    from actdesk.synth import ACTIONS

    manager = get_plugin_manager()
    torch.manual_seed(0)
    model = manager.build_model("c3d-attention", len(ACTIONS))
    checkpoint = work / "untrained.safetensors"
    save_checkpoint(checkpoint, model.state_dict(), CheckpointMeta.for_spec(manager.spec("c3d-attention"), ACTIONS))
    return load_model(checkpoint, device="cpu"), checkpoint, "untrained weights: no bundled checkpoint"


def _raw_decode(video: Path, threads: int, size: tuple[int, int] | None) -> int:
    """Decode every frame with PyAV's threaded decoder and, given a ``size``, convert it
    to RGB at that (height, width): the least any reader feeding a model must do."""
    import av

    frames = 0
    with av.open(str(video)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        stream.thread_count = threads
        for frame in container.decode(stream):
            if size is not None:
                frame.to_ndarray(format="rgb24", width=size[1], height=size[0])
            frames += 1
    return frames


def _pipeline_decode(video: Path, sampling, threads: int) -> int:
    """Our decode path as labelling uses it: open (frame index), then every clip batch."""
    from actdesk.media import VideoReader, iter_clip_batches
    from actdesk.ml.device import CPU_INFERENCE_BATCH

    clips = 0
    with VideoReader(video, threads=threads) as reader:
        for batch in iter_clip_batches(reader, sampling, CPU_INFERENCE_BATCH):
            clips += len(batch.centers)
    return clips


def _one_batch_and_sizes(video: Path, sampling, threads: int):
    """A real full batch of clips, and the size of every batch of the video."""
    import torch

    from actdesk.media import VideoReader, iter_clip_batches
    from actdesk.ml.device import CPU_INFERENCE_BATCH

    sample, sizes = None, []
    with VideoReader(video, threads=threads) as reader:
        for batch in iter_clip_batches(reader, sampling, CPU_INFERENCE_BATCH):
            if sample is None:
                sample = torch.from_numpy(batch.clips.copy())
            sizes.append(len(batch.centers))
    return sample, sizes


def _model_only(loaded, sample, sizes: Iterable[int], torch_threads: int) -> None:
    """The model's share of labelling: normalise, forward, softmax for every batch, no decoding,
    with the torch threads labelling settled on."""
    from actdesk.ml.inference import _Forward

    forward = _Forward(loaded, None)
    forward.torch_threads = torch_threads
    for size in sizes:
        forward(sample[:size])


def _label(video: Path, loaded, threads: int):
    import numpy as np

    from actdesk.ml.inference import label_video

    batches = list(label_video(video, loaded, stride=STRIDE, decode_threads=threads))
    return np.concatenate([b.centers for b in batches]), np.concatenate([b.probs for b in batches])


def _seed_baseline(video: Path, loaded, torch_threads: int):
    """The seed repositories' way: read every frame at full size into a list (as a
    ``cv2.VideoCapture.read()`` loop does), then resize and score one clip at a
    time (batch 1). It decodes before it runs the model, so torch gets
    ``torch_threads`` (every core) with nothing beside it. Returns (seconds, probs [n, C])."""
    import av
    import numpy as np
    import torch

    from actdesk.media import clip_centers
    from actdesk.ml.preprocess import normalise_clips

    meta = loaded.meta
    height, width = meta.size
    torch.set_num_threads(torch_threads)
    start = time.perf_counter()
    with av.open(str(video)) as container:
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(container.streams.video[0])]
    probs = []
    for center in clip_centers(len(frames), STRIDE):
        indices = np.clip(center + (np.arange(meta.clip_len) - meta.clip_len // 2) * meta.frame_step,
                          0, len(frames) - 1)
        clip = np.stack([
            av.VideoFrame.from_ndarray(frames[i], format="rgb24").to_ndarray(format="rgb24", width=width,
                                                                            height=height)
            for i in indices
        ])
        x = torch.from_numpy(clip).permute(3, 0, 1, 2)[None].float() / 255
        with torch.no_grad():
            x = normalise_clips(x, meta.mean, meta.std, meta.standardise_clips)
            probs.append(torch.softmax(loaded.model(x), dim=1)[0].numpy())
    return time.perf_counter() - start, np.stack(probs)


def _finetune_throughput(work: Path, video: Path, frame_count: int, seconds: float, checkpoint: Path,
                         repeats: int, threads: int) -> BenchRow:
    """Training clips/s of ``finetune`` (its epoch time) / of a plain loop over the same clips.

    Both start from ``checkpoint`` on the CPU with the same torch threads,
    batch and AdamW settings; the plain loop gets the very clips the run's
    first epoch samples, already normalised float tensors, and does only
    forward, loss, backward and step. The benchmark video has an evaluation
    seed: nothing trained here is kept.
    """
    import numpy as np
    import torch
    import torch.nn.functional as F

    from actdesk.ml.checkpoints import load_model
    from actdesk.ml.finetune import TRAIN, SourceVideo, TrainingSource, decode_training_data, finetune, \
        finetune_config
    from actdesk.ml.preprocess import normalise_clips, to_unit_range
    from actdesk.ml.training import EpochReport
    from actdesk.synth import synth_truth

    loaded = load_model(checkpoint, device="cpu")
    meta = loaded.meta
    truth = tuple(synth_truth(seconds=seconds, seed=VIDEO_SEED, video=video.name))
    used = {s.label for s in truth}
    source = TrainingSource("dataset", video, (SourceVideo(video.name, video, frame_count, truth, "train"),),
                            tuple(label for label in meta.labels if label in used))
    config = finetune_config(loaded.spec, from_checkpoint=True, epochs=1, clips_per_epoch=FINETUNE_CLIPS,
                             patience=0, threads=threads)

    def ours() -> float:
        run = finetune(source, work / "finetuned.safetensors", init=checkpoint, config=config, val_fraction=0.0,
                       device="cpu", register=False)
        epoch = next(item for item in run if isinstance(item, EpochReport))
        run.close()
        return epoch.seconds  # the epoch's own time: sampling, augmentation, steps

    data = decode_training_data(source, meta.labels, meta, splits={video.name: TRAIN}).train
    steps = -(-FINETUNE_CLIPS // config.batch_size)
    videos, frames = data.sample(np.random.default_rng([config.seed, 1]), steps * config.batch_size,
                                 balance=config.balance)
    targets = torch.from_numpy(data.labels_at(videos, frames))
    batches = [(normalise_clips(to_unit_range(data.clips(videos[i:i + config.batch_size],
                                                         frames[i:i + config.batch_size]), torch.device("cpu")),
                                meta.mean, meta.std, meta.standardise_clips),
                targets[i:i + config.batch_size])
               for i in range(0, len(frames), config.batch_size)]
    model = loaded.model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)

    def bare() -> float:
        start = time.perf_counter()
        for x, y in batches:
            loss = F.cross_entropy(model(x), y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        return time.perf_counter() - start

    ours_s, bare_s = float("inf"), float("inf")
    for _ in range(max(1, repeats)):
        ours_s = min(ours_s, ours())
        bare_s = min(bare_s, bare())
    clips = steps * config.batch_size
    return _row("fine-tune clips/s: finetune / bare torch loop", bare_s / ours_s, ">= 0.9",
                f"finetune {clips / ours_s:.1f} clips/s, bare loop {clips / bare_s:.1f} clips/s "
                f"({clips} clips, batch {config.batch_size}, AdamW, {threads} torch thread(s))")


def repeat_video(src: Path, dst: Path, times: int) -> Path:
    """``src`` remuxed ``times`` times back to back (no re-encoding), timestamps shifted."""
    import av

    with av.open(str(src)) as source:
        packets = [p for p in source.demux(source.streams.video[0]) if p.pts is not None]
        length = max(p.pts + (p.duration or 0) for p in packets) - min(p.pts for p in packets)
    with av.open(str(dst), "w") as out:
        for copy in range(times):
            with av.open(str(src)) as source:
                in_stream = source.streams.video[0]
                if copy == 0:
                    out_stream = out.add_stream_from_template(in_stream)
                for packet in source.demux(in_stream):
                    if packet.dts is None:
                        continue  # the demuxer's end-of-stream marker
                    packet.pts += copy * length
                    packet.dts += copy * length
                    packet.stream = out_stream
                    out.mux(packet)
    return dst


def peak_rss_labelling(video: Path, checkpoint: Path) -> int:
    """Peak resident memory (KiB) of a fresh process labelling ``video``."""
    code = (
        "import json, resource, sys; from actdesk.bench import label_for_memory; "
        "label_for_memory(sys.argv[1], sys.argv[2]); "
        "print(json.dumps(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))"
    )
    done = subprocess.run([sys.executable, "-c", code, str(video), str(checkpoint)], capture_output=True,
                          text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"memory benchmark process failed:\n{done.stderr[-2000:]}")
    kib = int(done.stdout.strip().splitlines()[-1])
    return kib // 1024 if sys.platform == "darwin" else kib  # macOS reports bytes


def label_for_memory(video: str, checkpoint: str) -> None:
    """What the memory figure's child process runs: label ``video`` to segments."""
    from actdesk.ml.checkpoints import load_model
    from actdesk.ml.inference import label_video_to_segments

    label_video_to_segments(video, load_model(checkpoint, device="cpu"), stride=RSS_STRIDE)


def _machine() -> dict[str, Any]:
    import av
    import torch

    from actdesk.ml.device import available_cores

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cores": available_cores(), "cpu": cpu, "platform": platform.platform(terse=True),
        "python": platform.python_version(), "torch": torch.__version__, "av": av.__version__,
        "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        "max_rss_unit": "KiB",
    }

"""The training report beside a fine-tuned checkpoint: markdown plus two PNG images.

``NAME.report.md`` says where the data came from, the settings, every
epoch's figures and the best epoch's per-class scores; ``NAME.curves.png``
draws loss and accuracy per epoch for training and validation, and
``NAME.confusion.png`` the best epoch's validation confusion matrix. Images
are drawn with Pillow (no Qt, no plotting library), so the report is
written the same way by the CLI, the app and the tests.
"""

from __future__ import annotations

import math
import os
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from actdesk.errors import ActdeskError

if TYPE_CHECKING:
    from actdesk.ml.finetune import RunPrepared
    from actdesk.ml.training import EpochReport

TRAIN_COLOUR = (31, 119, 180)
VAL_COLOUR = (255, 127, 14)
GRID_COLOUR = (225, 225, 225)
AXIS_COLOUR = (90, 90, 90)
BEST_COLOUR = (150, 150, 150)
FONT_SIZE = 14


@dataclass(frozen=True)
class TrainingReportFiles:
    """The three files of a training report."""

    markdown: Path
    curves: Path
    confusion: Path


def report_files(checkpoint: str | os.PathLike) -> TrainingReportFiles:
    """Where the report of ``checkpoint`` (``NAME.safetensors``) goes: ``NAME.report.md``, ``NAME.curves.png``,
    ``NAME.confusion.png`` beside it."""
    checkpoint = Path(checkpoint)
    return TrainingReportFiles(checkpoint.with_suffix(".report.md"), checkpoint.with_suffix(".curves.png"),
                               checkpoint.with_suffix(".confusion.png"))


def describe_prepared(prepared: "RunPrepared") -> str:
    """One line for a terminal: videos per split, labels (new ones named), device, first epoch,
    and the labels without training frames."""
    from actdesk.ml.finetune import LEFT_OUT, TRAIN, VAL

    counts = Counter(prepared.splits.values())
    new = f" (new: {', '.join(prepared.new_labels)})" if prepared.new_labels else ""
    # A label without training frames is never sampled, so the model may unlearn it: say so.
    unseen = [label for label, frames in prepared.class_frames.items() if not frames]
    return (f"videos: {counts[TRAIN]} training, {counts[VAL]} validation, {counts[LEFT_OUT]} left out; "
            f"{len(prepared.labels)} labels{new}; device {prepared.device}; from epoch {prepared.first_epoch}"
            + (f"; no training frames for {', '.join(unseen)}" if unseen else ""))


def describe_epoch(report: "EpochReport") -> str:
    """One line for a terminal: epoch, losses, accuracies, learning rate, seconds; ``*`` marks the best so far."""
    return (f"epoch {report.epoch:2d}/{report.epochs}  loss {report.train_loss:.3f}  acc {report.train_acc:.3f}  "
            f"val loss {report.val_loss:.3f}  val acc {report.val_acc:.3f}  lr {report.lr:.2e}  "
            f"{report.seconds:.0f} s{'  *' if report.best else ''}")


def write_training_report(
    checkpoint: str | os.PathLike,
    history: Sequence["EpochReport"],
    *,
    labels: Sequence[str],
    provenance: dict[str, Any],
    metrics: dict[str, Any],
    title: str,
) -> TrainingReportFiles:
    """Write the markdown report and its two images beside ``checkpoint``; returns their paths."""
    if not history:
        raise ActdeskError(f"{checkpoint}: no epoch to report")
    files = report_files(checkpoint)
    best = next((r for r in history if r.epoch == metrics.get("best_epoch")), history[-1])
    _save_image(draw_curves(history, best_epoch=best.epoch), files.curves)
    _save_image(draw_confusion(best.confusion, labels), files.confusion)
    write_text_atomically(files.markdown, report_markdown(history, labels=labels, provenance=provenance, best=best,
                                                          title=title, images=files))
    return files


# --------------------------------------------------------------------------- markdown


def report_markdown(history: Sequence["EpochReport"], *, labels: Sequence[str], provenance: dict[str, Any],
                    best: "EpochReport", title: str, images: TrainingReportFiles) -> str:
    """The report's markdown text (images linked by file name, so the folder can move)."""
    p = provenance
    config = p.get("config", {})
    lines = [f"# {title}", "", f"Written {datetime.now(timezone.utc).isoformat(timespec='seconds')}.", ""]
    start = f"`{p['init']}`" if p.get("init") else "a freshly initialised model"
    lines += [f"Started from {start}. Labels, in output order: {', '.join(labels)}."]
    if p.get("new_labels"):
        lines += [f"New labels: {', '.join(p['new_labels'])} (head rows of "
                  f"{len(p.get('kept_head_rows', []))} old labels kept)."]
    lines += ["", "## Data", ""]
    where = f"track `{p['track']}`" if "track" in p else f"format `{p.get('format', '?')}`"
    lines += [f"Source: {p.get('data', '?')} `{p.get('source', '?')}` ({where}); data hash `{p.get('data_hash', '')}`.",
              ""]
    for split, names in p.get("videos", {}).items():
        if names:
            lines.append(f"- {split.replace('_', ' ')}: {len(names)} video(s): {', '.join(names)}")
    segments = p.get("segments_per_class", {})
    frames = p.get("frames_per_class", {})
    lines += ["", "| label | train segments | train frames | val segments | val frames |", "|---|---:|---:|---:|---:|"]
    for label in labels:
        lines.append(f"| {label} | {segments.get('train', {}).get(label, 0)} | {frames.get('train', {}).get(label, 0)}"
                     f" | {segments.get('val', {}).get(label, 0)} | {frames.get('val', {}).get(label, 0)} |")
    lines += ["", "## Training", ""]
    settings = ", ".join(f"{k} {config[k]}" for k in ("epochs", "batch_size", "lr", "clips_per_epoch", "patience",
                                                      "seed") if k in config)
    lines += [f"Settings: {settings}; device {p.get('device', '?')}; {p.get('wall_time_s', 0):.0f} s in all"
              + (" (resumed)" if p.get("resumed") else "") + ".", ""]
    lines += ["| epoch | train loss | train acc | val loss | val acc | lr | seconds | |",
              "|---:|---:|---:|---:|---:|---:|---:|---|"]
    for r in history:
        lines.append(f"| {r.epoch} | {_fmt(r.train_loss)} | {_fmt(r.train_acc)} | {_fmt(r.val_loss)} | "
                     f"{_fmt(r.val_acc)} | {r.lr:.2e} | {r.seconds:.0f} | {'best' if r.epoch == best.epoch else ''} |")
    lines += ["", f"![loss and accuracy per epoch]({images.curves.name})", "",
              f"## Best epoch ({best.epoch}): validation per class", ""]
    if best.per_class:
        lines += [f"Scored on every {config.get('val_stride', 1)}th labelled frame of the validation videos.", "",
                  "| label | precision | recall | F1 | clips |", "|---|---:|---:|---:|---:|"]
        lines += [f"| {c.label} | {c.precision:.3f} | {c.recall:.3f} | {c.f1:.3f} | {c.support} |"
                  for c in best.per_class]
    else:
        lines.append("No validation videos: the best epoch was chosen by its training figures.")
    lines += ["", f"![validation confusion matrix, rows truth, columns prediction]({images.confusion.name})", ""]
    return "\n".join(lines)


def _fmt(value: float) -> str:
    return "–" if math.isnan(value) else f"{value:.3f}"


# --------------------------------------------------------------------------- images


def _font(size: int = FONT_SIZE) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def draw_curves(history: Sequence["EpochReport"], *, best_epoch: int | None = None,
                size: tuple[int, int] = (1000, 440)) -> Image.Image:
    """Two panels, loss and accuracy per epoch, training and validation lines; the best epoch marked."""
    image = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(image)
    font = _font()
    epochs = [r.epoch for r in history]
    width, height = size
    half = width // 2
    panels = (("loss", [r.train_loss for r in history], [r.val_loss for r in history], None),
              ("accuracy", [r.train_acc for r in history], [r.val_acc for r in history], (0.0, 1.0)))
    for i, (name, train, val, fixed) in enumerate(panels):
        box = (i * half + 62, 60, (i + 1) * half - 20, height - 50)
        draw.text((box[0], box[1] - 8), name, fill="black", font=_font(FONT_SIZE + 2), anchor="ls")
        _plot_panel(draw, font, box, epochs, [("train", train, TRAIN_COLOUR), ("validation", val, VAL_COLOUR)],
                    fixed, best_epoch)
    x = 62
    for label, colour in (("train", TRAIN_COLOUR), ("validation", VAL_COLOUR)):
        draw.line((x, 16, x + 24, 16), fill=colour, width=3)
        draw.text((x + 30, 16), label, fill="black", font=font, anchor="lm")
        x += 40 + int(draw.textlength(label, font=font))
    if best_epoch is not None:
        for y in range(10, 22, 6):
            draw.line((x, y, x, y + 3), fill=BEST_COLOUR)
        draw.text((x + 8, 16), f"best epoch ({best_epoch})", fill="black", font=font, anchor="lm")
    return image


def _plot_panel(draw: ImageDraw.ImageDraw, font: Any, box: tuple[int, int, int, int], epochs: list[int],
                series: list[tuple[str, list[float], tuple[int, int, int]]],
                fixed: tuple[float, float] | None, best_epoch: int | None) -> None:
    left, top, right, bottom = box
    values = [v for _, ys, _ in series for v in ys if math.isfinite(v)]
    lo, hi = fixed if fixed is not None else (min(values, default=0.0), max(values, default=1.0))
    if fixed is None:
        lo, hi = _nice_range(lo, hi)
    x_lo, x_hi = (epochs[0] - 0.5, epochs[-1] + 0.5) if len(epochs) > 0 else (0, 1)

    def px(epoch: float, value: float) -> tuple[float, float]:
        return (left + (epoch - x_lo) / (x_hi - x_lo) * (right - left),
                bottom - (value - lo) / (hi - lo) * (bottom - top))

    for tick in np.linspace(lo, hi, 6):
        y = px(x_lo, tick)[1]
        draw.line((left, y, right, y), fill=GRID_COLOUR)
        draw.text((left - 6, y), f"{tick:.2f}", fill=AXIS_COLOUR, font=font, anchor="rm")
    step = max(1, math.ceil(len(epochs) / 12))
    for epoch in epochs[::step]:
        x = px(epoch, lo)[0]
        draw.line((x, bottom, x, bottom + 4), fill=AXIS_COLOUR)
        draw.text((x, bottom + 6), str(epoch), fill=AXIS_COLOUR, font=font, anchor="mt")
    draw.rectangle(box, outline=AXIS_COLOUR)
    draw.text(((left + right) / 2, bottom + 26), "epoch", fill="black", font=font, anchor="mt")
    if best_epoch is not None and best_epoch in epochs:
        x = px(best_epoch, lo)[0]
        for y in range(top, bottom, 8):
            draw.line((x, y, x, min(y + 4, bottom)), fill=BEST_COLOUR)
    for _, ys, colour in series:
        points = [px(e, v) for e, v in zip(epochs, ys) if math.isfinite(v)]
        if len(points) > 1:
            draw.line(points, fill=colour, width=3, joint="curve")
        for x, y in points:
            draw.ellipse((x - 4, y - 4, x + 4, y + 4), fill=colour)


def _nice_range(lo: float, hi: float) -> tuple[float, float]:
    """A little room around the data, never a zero-height range."""
    if hi - lo < 1e-9:
        return lo - 0.5, hi + 0.5
    pad = (hi - lo) * 0.08
    return max(0.0, lo - pad) if lo >= 0 else lo - pad, hi + pad


def draw_confusion(confusion: np.ndarray, labels: Sequence[str], *, cell: int = 44) -> Image.Image:
    """The confusion matrix (rows truth, columns prediction) as coloured cells with counts;
    each row is shaded by its share of the row's frames."""
    confusion = np.asarray(confusion, dtype=np.int64)
    n = len(labels)
    if confusion.shape != (n, n):
        raise ValueError(f"confusion matrix {confusion.shape} does not fit {n} labels")
    font = _font()
    small = _font(max(9, min(FONT_SIZE, cell // 3)))
    probe = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    label_w = int(max((probe.textlength(label, font=font) for label in labels), default=0)) + 12
    left, top = label_w + 30, label_w + 30
    width, height = left + n * cell + 20, top + n * cell + 20
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    rows = confusion.sum(axis=1, keepdims=True)
    share = np.divide(confusion, rows, out=np.zeros(confusion.shape, dtype=np.float64), where=rows > 0)
    for r in range(n):
        for c in range(n):
            x, y = left + c * cell, top + r * cell
            level = share[r, c]
            fill = tuple(int(255 - level * (255 - v)) for v in (8, 69, 148))
            draw.rectangle((x, y, x + cell, y + cell), fill=fill, outline=GRID_COLOUR)
            if confusion[r, c]:
                draw.text((x + cell / 2, y + cell / 2), str(int(confusion[r, c])), font=small, anchor="mm",
                          fill="white" if level > 0.5 else "black")
    for i, label in enumerate(labels):
        draw.text((left - 6, top + i * cell + cell / 2), label, fill="black", font=font, anchor="rm")
        column = Image.new("RGB", (label_w, cell), "white")
        ImageDraw.Draw(column).text((4, cell / 2), label, fill="black", font=font, anchor="lm")
        image.paste(column.rotate(90, expand=True), (left + i * cell, top - 6 - label_w))
    draw.text((left + n * cell / 2, 4), "prediction", fill=AXIS_COLOUR, font=font, anchor="mt")
    truth = Image.new("RGB", (n * cell, 22), "white")
    ImageDraw.Draw(truth).text((n * cell / 2, 11), "truth", fill=AXIS_COLOUR, font=font, anchor="mm")
    image.paste(truth.rotate(90, expand=True), (4, top))
    return image


# --------------------------------------------------------------------------- files


def _save_image(image: Image.Image, path: Path) -> None:
    tmp = path.with_name(path.name + ".tmp")
    try:
        image.save(tmp, format="PNG")
        os.replace(tmp, path)
    except OSError as e:
        raise ActdeskError(f"{path}: cannot write the report image: {e.strerror or e}") from None
    finally:
        tmp.unlink(missing_ok=True)


def write_text_atomically(path: Path, text: str) -> None:
    """Write UTF-8 ``text`` to ``path`` through a temporary file, so a reader never sees half of it."""
    tmp = path.with_name(path.name + ".tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except OSError as e:
        raise ActdeskError(f"{path}: cannot write: {e.strerror or e}") from None
    finally:
        tmp.unlink(missing_ok=True)

"""Temporal action segmentation metrics, as defined by MS-TCN (Farha & Gall, CVPR 2019).

- **frame accuracy**: share of frames whose predicted label equals the truth;
  frames the truth leaves unlabelled are not counted.
- **edit score**: ``(1 - Levenshtein(pred, truth) / max(len(pred), len(truth))) * 100``
  over the *sequences of segment labels*, so it punishes over-segmentation
  (many short spurious segments) that frame accuracy hardly notices.
- **F1@k** (k = 0.10, 0.25, 0.50): a predicted segment is a true positive when
  its IoU with a not yet matched truth segment of the same label is at least k;
  the other predictions are false positives, the unmatched truth segments false
  negatives. Counts are summed over videos before computing F1.

Scales: frame accuracy, precision, recall and F1 lie in [0, 1]; the edit score
in [0, 100] as in the paper. This module is plain numpy (no torch) so the CLI
and the GUI can evaluate without loading a model.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import PurePath

import numpy as np

from actdesk.core.segments import Segment, frame_labels

OVERLAPS: tuple[float, ...] = (0.10, 0.25, 0.50)
"""IoU thresholds of the F1@{10,25,50} scores."""


def frame_accuracy(pred: Sequence[str], truth: Sequence[str], *, background: str = "") -> float:
    """Share of the truth's labelled frames that ``pred`` labels the same (1.0 when none is labelled)."""
    _check_lengths(pred, truth)
    labelled = [(p, t) for p, t in zip(pred, truth) if t != background]
    if not labelled:
        return 1.0
    return sum(p == t for p, t in labelled) / len(labelled)


def label_runs(labels: Sequence[str], *, background: str = "") -> list[tuple[str, int, int]]:
    """Runs of equal labels as ``(label, start, end)`` with ``end`` exclusive; background runs dropped."""
    runs = []
    start = 0
    for i in range(1, len(labels) + 1):
        if i == len(labels) or labels[i] != labels[start]:
            if labels[start] != background:
                runs.append((labels[start], start, i))
            start = i
    return runs


def levenshtein(a: Sequence[str], b: Sequence[str]) -> int:
    """Edit distance (insertions, deletions, substitutions all cost 1)."""
    previous = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        current = [i]
        for j, y in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x != y)))
        previous = current
    return previous[-1]


def edit_score(pred: Sequence[str], truth: Sequence[str], *, background: str = "") -> float:
    """MS-TCN edit score in [0, 100] of two per-frame label sequences."""
    p = [r[0] for r in label_runs(pred, background=background)]
    t = [r[0] for r in label_runs(truth, background=background)]
    longest = max(len(p), len(t))
    if longest == 0:
        return 100.0
    return (1.0 - levenshtein(p, t) / longest) * 100.0


def f1_counts(
    pred: Sequence[str], truth: Sequence[str], overlap: float, *, background: str = ""
) -> tuple[int, int, int]:
    """``(true positives, false positives, false negatives)`` of segments at IoU ``overlap``."""
    _check_lengths(pred, truth)
    truth_runs = label_runs(truth, background=background)
    matched = [False] * len(truth_runs)
    tp = fp = 0
    for label, start, end in label_runs(pred, background=background):
        best_iou, best = 0.0, -1
        for k, (t_label, t_start, t_end) in enumerate(truth_runs):
            if t_label != label:
                continue
            intersection = min(end, t_end) - max(start, t_start)
            if intersection <= 0:
                continue
            iou = intersection / (max(end, t_end) - min(start, t_start))
            if iou > best_iou:
                best_iou, best = iou, k
        if best >= 0 and best_iou >= overlap and not matched[best]:
            tp += 1
            matched[best] = True
        else:
            fp += 1
    return tp, fp, len(truth_runs) - sum(matched)


def f1_from_counts(tp: int, fp: int, fn: int) -> float:
    """F1 in [0, 1]; 1.0 when there was nothing to find and nothing was found."""
    if tp + fp + fn == 0:
        return 1.0
    return 2 * tp / (2 * tp + fp + fn)


def confusion_matrix(
    truth: Sequence[int] | np.ndarray, pred: Sequence[int] | np.ndarray, num_classes: int
) -> np.ndarray:
    """``[num_classes, num_classes]`` counts, rows = truth, columns = prediction."""
    t = np.asarray(truth, dtype=np.int64)
    p = np.asarray(pred, dtype=np.int64)
    if t.shape != p.shape:
        raise ValueError(f"truth and prediction differ in length: {t.shape} vs {p.shape}")
    return np.bincount(t * num_classes + p, minlength=num_classes * num_classes).reshape(
        num_classes, num_classes
    )


@dataclass(frozen=True, slots=True)
class ClassScores:
    """Frame-level scores of one class; ``support`` = frames of that class in the truth."""

    label: str
    precision: float
    recall: float
    f1: float
    support: int


def per_class_scores(confusion: np.ndarray, labels: Sequence[str]) -> list[ClassScores]:
    """Precision, recall and F1 per class from a confusion matrix (rows truth, columns prediction).

    A class never predicted has precision 0; one absent from the truth has recall 0.
    """
    confusion = np.asarray(confusion)
    out = []
    for k, label in enumerate(labels):
        hits = int(confusion[k, k])
        predicted = int(confusion[:, k].sum())
        support = int(confusion[k, :].sum())
        precision = hits / predicted if predicted else 0.0
        recall = hits / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        out.append(ClassScores(label, precision, recall, f1, support))
    return out


@dataclass(frozen=True, slots=True)
class VideoScores:
    """The segmentation scores of one video."""

    video: str
    frames: int
    frame_accuracy: float
    edit: float
    f1: dict[float, float]


@dataclass(frozen=True)
class Evaluation:
    """Scores of predictions against the truth over one or more videos.

    ``frame_accuracy`` pools the frames of every video; ``edit`` is the mean
    over videos; ``f1[k]`` pools the segment counts of every video.
    ``confusion`` has rows = truth, columns = prediction, indexed like
    ``labels`` (which holds the background label when a prediction left a
    labelled frame uncovered).
    """

    frame_accuracy: float
    edit: float
    f1: dict[float, float]
    per_class: list[ClassScores]
    labels: list[str]
    confusion: np.ndarray
    videos: list[VideoScores] = field(default_factory=list)
    frames: int = 0

    def class_accuracy(self, names: Iterable[str]) -> float:
        """Frame accuracy restricted to the truth frames of the classes ``names``."""
        rows = [self.labels.index(n) for n in names if n in self.labels]
        total = int(self.confusion[rows].sum()) if rows else 0
        return float(sum(self.confusion[r, r] for r in rows)) / total if total else 1.0

    def to_dict(self) -> dict:
        """JSON-ready form (F1 keys as ``"F1@10"``...)."""
        return {
            "frame_accuracy": self.frame_accuracy,
            "edit": self.edit,
            "f1": {_f1_key(k): v for k, v in self.f1.items()},
            "frames": self.frames,
            "per_class": [asdict(c) for c in self.per_class],
            "labels": list(self.labels),
            "confusion": self.confusion.tolist(),
            "videos": [
                {**asdict(v), "f1": {_f1_key(k): s for k, s in v.f1.items()}} for v in self.videos
            ],
        }


def _f1_key(overlap: float) -> str:
    return f"F1@{round(overlap * 100)}"


def evaluate(
    pred_segments: Sequence[Segment],
    truth_segments: Sequence[Segment],
    frame_count: int | Mapping[str, int] | None = None,
    *,
    labels: Sequence[str] | None = None,
    background: str = "",
) -> Evaluation:
    """Score predicted segments against truth segments, video by video.

    Segments are grouped by their ``video``. A prediction is paired with the
    truth of the same video name, else of the same file name (``a/b.mp4`` and
    ``b.mp4``), else, when each side holds a single video, with that one.
    Truth videos without predictions count as entirely missed; predictions for
    videos without truth are ignored.

    :param frame_count: frames per video (an int for a single video, or a
        mapping video name -> count); by default the furthest segment end.
    :param labels: class order of the table and confusion matrix (default:
        sorted labels of truth and predictions).
    :param background: the label of frames no segment covers.
    """
    truth_by_video = _group(truth_segments)
    pred_by_video = _pair_predictions(_group(pred_segments), truth_by_video)

    class_names = list(labels) if labels is not None else sorted(
        {s.label for s in truth_segments} | {s.label for s in pred_segments}
    )
    index = {name: i for i, name in enumerate(class_names)}
    truth_idx: list[np.ndarray] = []
    pred_idx: list[np.ndarray] = []
    videos: list[VideoScores] = []
    counts = {k: [0, 0, 0] for k in OVERLAPS}
    correct = labelled = 0

    for video, truth in truth_by_video.items():
        pred = pred_by_video.get(video, [])
        n = _frame_count(frame_count, video, truth, pred)
        t_labels = frame_labels(list(truth), n, background)
        p_labels = frame_labels(list(pred), n, background)
        video_f1 = {}
        for k in OVERLAPS:
            tp, fp, fn = f1_counts(p_labels, t_labels, k, background=background)
            counts[k][0] += tp
            counts[k][1] += fp
            counts[k][2] += fn
            video_f1[k] = f1_from_counts(tp, fp, fn)
        pairs = [(p, t) for p, t in zip(p_labels, t_labels) if t != background]
        correct += sum(p == t for p, t in pairs)
        labelled += len(pairs)
        videos.append(VideoScores(
            video, n, frame_accuracy(p_labels, t_labels, background=background),
            edit_score(p_labels, t_labels, background=background), video_f1,
        ))
        for _, t in pairs:
            if t not in index:
                index[t] = len(class_names)
                class_names.append(t)
        for p, _ in pairs:
            if p not in index:
                index[p] = len(class_names)
                class_names.append(p)
        truth_idx.append(np.array([index[t] for _, t in pairs], dtype=np.int64))
        pred_idx.append(np.array([index[p] for p, _ in pairs], dtype=np.int64))

    confusion = confusion_matrix(
        np.concatenate(truth_idx) if truth_idx else np.zeros(0, np.int64),
        np.concatenate(pred_idx) if pred_idx else np.zeros(0, np.int64),
        len(class_names),
    )
    scored = [name for name in class_names if name != background]
    table = [s for s in per_class_scores(confusion, class_names) if s.label in scored]
    return Evaluation(
        frame_accuracy=correct / labelled if labelled else 1.0,
        edit=float(np.mean([v.edit for v in videos])) if videos else 100.0,
        f1={k: f1_from_counts(*counts[k]) for k in OVERLAPS},
        per_class=table,
        labels=class_names,
        confusion=confusion,
        videos=videos,
        frames=labelled,
    )


def _check_lengths(pred: Sequence[str], truth: Sequence[str]) -> None:
    if len(pred) != len(truth):
        raise ValueError(f"prediction has {len(pred)} frames, truth {len(truth)}")


def _group(segments: Iterable[Segment]) -> dict[str, list[Segment]]:
    groups: dict[str, list[Segment]] = {}
    for s in segments:
        groups.setdefault(s.video, []).append(s)
    return groups


def _pair_predictions(
    pred: dict[str, list[Segment]], truth: dict[str, list[Segment]]
) -> dict[str, list[Segment]]:
    """Re-key predictions by the truth video they belong to."""
    if len(pred) == 1 and len(truth) == 1:
        return {next(iter(truth)): next(iter(pred.values()))}
    by_file_name = {PurePath(v).name: v for v in truth}
    paired: dict[str, list[Segment]] = {}
    for video, segments in pred.items():
        key = video if video in truth else by_file_name.get(PurePath(video).name)
        if key is not None:
            paired.setdefault(key, []).extend(segments)
    return paired


def _frame_count(
    frame_count: int | Mapping[str, int] | None,
    video: str,
    truth: Sequence[Segment],
    pred: Sequence[Segment],
) -> int:
    if isinstance(frame_count, int):
        return frame_count
    if frame_count is not None and video in frame_count:
        return int(frame_count[video])
    return max(s.end_frame for s in [*truth, *pred])

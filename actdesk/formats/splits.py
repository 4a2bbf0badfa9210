"""Train/validation/test splits of a training set: by video, stratified, seeded.

Clips cut from one video look alike, so a video lies in exactly one split;
otherwise validation accuracy measures memory. Videos are assigned by
iterative stratification (Sechidis, Tsoumakas and Vlahavas, 2011), adapted to
videos that carry several labels: the label with the fewest videos left is
placed first, each of its videos going to the split that lacks most of that
label's segments, then most videos. The order among equals comes from the
seed, so one seed always gives the same split.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Mapping, Sequence

from actdesk.errors import ActdeskError

SPLITS = ("train", "val", "test")
DEFAULT_FRACTIONS = (0.7, 0.15, 0.15)


def parse_fractions(text: str) -> tuple[float, float, float]:
    """``"0.7,0.15,0.15"`` (train, val, test; test may be left out) -> fractions summing to 1."""
    parts = [p.strip() for p in str(text).split(",")]
    if len(parts) not in (2, 3):
        raise ActdeskError(f"split {text!r}: expected 2 or 3 comma-separated fractions (train,val[,test])")
    try:
        values = [float(p) for p in parts]
    except ValueError:
        raise ActdeskError(f"split {text!r}: fractions must be numbers like 0.7,0.15,0.15") from None
    values += [0.0] * (3 - len(values))
    if any(not math.isfinite(v) or v < 0 for v in values):
        raise ActdeskError(f"split {text!r}: fractions must be finite and >= 0")
    if abs(sum(values) - 1.0) > 1e-6:
        raise ActdeskError(f"split {text!r}: fractions must add up to 1 (they add up to {sum(values):g})")
    if values[0] == 0:
        raise ActdeskError(f"split {text!r}: the training fraction must be above 0")
    return values[0], values[1], values[2]


def assign_splits(label_counts: Mapping[str, Mapping[str, int]], fractions: Sequence[float] = DEFAULT_FRACTIONS,
                  *, seed: int = 0) -> dict[str, str]:
    """Assign each video to ``train``, ``val`` or ``test``.

    :param label_counts: video name -> {label: number of segments}; videos
        without segments are left out of the result.
    :param fractions: wanted share of each split (train, val, test), adding up to 1.
    :param seed: the same seed gives the same assignment.
    :returns: video name -> split. Every split with a fraction above 0 gets at
        least one video when there are enough videos.
    """
    active = [s for s, f in zip(SPLITS, fractions) if f > 0]
    videos = sorted(v for v, counts in label_counts.items() if any(counts.values()))
    random.Random(seed).shuffle(videos)
    share = dict(zip(SPLITS, fractions))
    totals: Counter[str] = Counter()
    for v in videos:
        totals.update({label: n for label, n in label_counts[v].items() if n})
    lacking = {s: Counter({label: share[s] * n for label, n in totals.items()}) for s in active}
    lacking_videos = {s: share[s] * len(videos) for s in active}
    assigned: dict[str, str] = {}

    def place(video: str, label: str) -> None:
        split = max(active, key=lambda s: (lacking[s][label], lacking_videos[s]))
        assigned[video] = split
        lacking[split].subtract(label_counts[video])
        lacking_videos[split] -= 1

    remaining = list(videos)
    while remaining:
        videos_with = Counter(label for v in remaining for label, n in label_counts[v].items() if n)
        rarest = min(videos_with, key=lambda label: (videos_with[label], label))
        for video in remaining:
            if label_counts[video].get(rarest):
                place(video, rarest)
        remaining = [v for v in remaining if v not in assigned]
    _fill_empty_splits(assigned, active)
    return assigned


def _fill_empty_splits(assigned: dict[str, str], active: Sequence[str]) -> None:
    """Give every active split a video, taken from the largest split, while that one keeps two or more."""
    for split in active:
        members = Counter(assigned.values())
        if members[split]:
            continue
        largest = max(active, key=lambda s: (members[s], -active.index(s)))
        if members[largest] < 2:
            return
        donor = [v for v, s in assigned.items() if s == largest][-1]
        assigned[donor] = split

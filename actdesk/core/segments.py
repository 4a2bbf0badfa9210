"""Action segments: the unit every room passes around.

Boundaries are frame indices (``end_frame`` exclusive) *and* the presentation
times of those frames in seconds, so a segment means the same frames on
variable-frame-rate video however it is displayed or exported.
"""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True, slots=True)
class Segment:
    """One labelled interval of one video.

    ``start_s`` is the presentation time of ``start_frame``; ``end_s`` the
    presentation time of ``end_frame`` (or the video's end for the last frame).
    ``confidence`` is None for human labels. ``source`` is ``human``,
    ``truth`` or a model name.
    """

    start_frame: int
    end_frame: int
    label: str
    start_s: float = 0.0
    end_s: float = 0.0
    confidence: float | None = None
    source: str = "human"
    video: str = ""

    def __post_init__(self) -> None:
        if self.start_frame < 0 or self.end_frame <= self.start_frame:
            raise ValueError(
                f"segment frames must satisfy 0 <= start < end, got {self.start_frame}..{self.end_frame}"
            )

    @property
    def length(self) -> int:
        return self.end_frame - self.start_frame

    def with_(self, **changes) -> "Segment":
        return replace(self, **changes)


def frame_labels(segments: list[Segment], frame_count: int, background: str = "") -> list[str]:
    """Expand segments to one label per frame (``background`` where none covers it).

    Later segments overwrite earlier ones where they overlap.
    """
    labels = [background] * frame_count
    for seg in segments:
        for i in range(max(seg.start_frame, 0), min(seg.end_frame, frame_count)):
            labels[i] = seg.label
    return labels


def segments_from_frame_labels(
    labels: list[str],
    times_s: list[float] | None = None,
    *,
    end_time_s: float | None = None,
    source: str = "human",
    video: str = "",
    background: str = "",
) -> list[Segment]:
    """Collapse per-frame labels into runs; ``background`` runs are dropped.

    ``times_s[i]`` is the presentation time of frame i; ``end_time_s`` is the
    time just after the last frame (its PTS plus duration).
    """
    out: list[Segment] = []
    n = len(labels)

    def t(i: int) -> float:
        if times_s is None:
            return 0.0
        if i < n:
            return float(times_s[i])
        return float(end_time_s if end_time_s is not None else times_s[-1])

    start = 0
    for i in range(1, n + 1):
        if i == n or labels[i] != labels[start]:
            if labels[start] != background:
                out.append(Segment(start, i, labels[start], t(start), t(i), None, source, video))
            start = i
    return out

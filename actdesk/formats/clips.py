"""``clips``: one trimmed video file per segment, a folder per class, split lists, labels.txt.

Layout of an export::

    labels.txt                      class names, line n = class n - 1
    walk/clip_000012-000040.mp4     frames [12, 40) of clip.mp4, exactly
    train.txt  val.txt  test.txt    the clips of each split, one path per line

A clip holds exactly the frames of its segment: they are decoded by PTS
(``actdesk.media.VideoReader``) and re-encoded with their original
timestamps, so clip frame ``k`` is source frame ``start + k`` on any GOP
structure and frame rate. Clip names are ``<video id>_<start>-<end>.mp4``
(frames, end exclusive). Importing such a folder gives one whole-clip
segment per clip, with its split.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from actdesk.core.tasks import ProgressFn, StopFn, never_stop, no_progress
from actdesk.errors import Cancelled, FormatError, MediaError
from actdesk.formats.data import ExportSet, Imported
from actdesk.formats.labels_txt import LABELS_FILE, read_labels_txt, write_labels_txt
from actdesk.formats.registry import Format
from actdesk.formats.safety import OutputFolder, unique_file_names
from actdesk.formats.sources import listed_file, text_lines
from actdesk.formats.splits import SPLITS

CLIP_SUFFIX = ".mp4"


@dataclass(frozen=True)
class ClipFile:
    """A written clip: its file, label and split, and the frames of the source it holds."""

    path: Path
    label: str
    split: str
    video: str
    start_frame: int
    end_frame: int


def class_folders(labels: list[str] | tuple[str, ...], *, spaces: str = " ") -> dict[str, str]:
    """Label -> its folder name (safe, distinct); ``spaces`` replaces blanks (MMAction2 lists split on them)."""
    names = unique_file_names(label.replace(" ", spaces) for label in labels)
    return {label: names[label.replace(" ", spaces)] for label in labels}


def write_clips(data: ExportSet, out: OutputFolder, format_name: str, *, spaces: str = " ",
                progress: ProgressFn = no_progress, should_stop: StopFn = never_stop) -> list[ClipFile]:
    """Cut every segment of the exported track into its own clip under its class folder.

    Frames are decoded in order, one reader per video (no seek between
    segments that follow each other) and streamed to the encoder, so memory
    does not grow with segment length. ``progress`` counts frames.
    """
    from actdesk.formats.video_writer import VideoWriter, even_size, frame_duration
    from actdesk.media import VideoReader

    track = data.single_track(format_name)
    data.ids_unique(format_name)
    folders = class_folders(list(data.labels), spaces=spaces)
    videos = data.labelled(track)
    total = sum(s.length for v in videos for s in v.segments(track))
    done = 0
    clips: list[ClipFile] = []
    progress(0, total, "cutting clips")
    for video in videos:
        with VideoReader(video.path) as reader:
            if reader.frame_count != video.frame_count:
                raise MediaError(video.path, f"has {reader.frame_count} frames, but the project knows "
                                             f"{video.frame_count}: the file changed since it was added")
            index = reader.index
            width, height = even_size(reader.info.width, reader.info.height)
            size = None if (width, height) == (reader.info.width, reader.info.height) else (height, width)
            for seg in sorted(video.segments(track), key=lambda s: s.start_frame):
                path = out.path(folders[seg.label], f"{video.video_id}_{seg.start_frame:06d}-{seg.end_frame:06d}"
                                                    f"{CLIP_SUFFIX}")
                base = int(index.pts[seg.start_frame])
                with VideoWriter(path, width=width, height=height, time_base=index.time_base,
                                 rate=video.avg_fps) as writer:
                    for n, frame in reader.iter_frames(seg.start_frame, seg.end_frame, size=size):
                        if should_stop():
                            raise Cancelled("export")
                        writer.write(frame, int(index.pts[n]) - base, frame_duration(index, n))
                        done += 1
                        if done % 25 == 0:
                            progress(done, total, f"{video.name} {seg.start_frame}..{seg.end_frame}")
                clips.append(ClipFile(path, seg.label, video.split, video.name, seg.start_frame, seg.end_frame))
    progress(total, total, f"{len(clips)} clips")
    return clips


def split_members(clips: list[ClipFile]) -> dict[str, list[ClipFile]]:
    """The clips of each split that has any, in split order."""
    members = {split: [c for c in clips if c.split == split] for split in SPLITS}
    return {split: found for split, found in members.items() if found}


class ClipsFormat(Format):
    name = "clips"
    title = "Trimmed clips, a folder per class"
    kind = "dataset"
    reads_folders = True
    needs_video_files = True
    description = "one MP4 per segment with its exact frames; labels.txt; train/val/test.txt lists"

    def export(self, data: ExportSet, out: OutputFolder, *, progress: ProgressFn = no_progress,
               should_stop: StopFn = never_stop) -> None:
        clips = write_clips(data, out, self.name, progress=progress, should_stop=should_stop)
        write_labels_txt(out, data.labels)
        for split, members in split_members(clips).items():
            out.write_text("".join(f"{out.relative(c.path)}\n" for c in members), f"{split}.txt")

    def detect(self, path: Path) -> bool:
        return path.is_dir() and (path / LABELS_FILE).is_file() and any(
            (path / f"{split}.txt").is_file() for split in SPLITS)

    def import_(self, path: Path) -> Imported:
        if not path.is_dir():
            raise FormatError(path, f"expected a clips folder (with {LABELS_FILE} and train.txt/val.txt/test.txt)")
        labels = read_labels_txt(path / LABELS_FILE)
        label_of_folder = {folder: label for label, folder in class_folders(labels).items()}
        imported = Imported(self.name, path, labels=list(labels))
        lists = [(split, path / f"{split}.txt") for split in SPLITS if (path / f"{split}.txt").is_file()]
        if not lists:
            raise FormatError(path, "no train.txt, val.txt or test.txt split list in the folder")
        for split, list_file in lists:
            for line, relative in text_lines(list_file):
                file = listed_file(path, relative, list_file, line)
                folder = Path(relative).parts[0] if len(Path(relative).parts) > 1 else ""
                label = label_of_folder.get(folder) or (folder if folder in labels else None)
                if label is None:
                    raise FormatError(list_file, f"{relative!r} is not in the folder of a label of "
                                                 f"{LABELS_FILE} (expected <label folder>/<clip>)", line)
                imported.add_video_item(relative, file, label, {"1": split}, listed_in=list_file, line=line)
        return imported

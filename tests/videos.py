"""Small test videos whose frame index can be read back from the pixels.

Every room's tests use these: ``make_video`` writes a real encoded file (any
codec/container PyAV can write) where frame ``i`` shows ``i`` as a 12-bit
binary code in a 4x4 grid of large grey cells, so ``decode_index(frame)``
recovers ``i`` after lossy compression, resizing and seeking. The grid's four
corners are orientation markers (only the top-left is bright), so a frame
shown rotated or flipped is refused rather than misread.

``size`` here is ``(width, height)``, as on a command line (``96x72``);
frames read back from ``actdesk.media`` are numpy arrays ``[height, width, 3]``.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

GRID = 4
"""The code is a GRID x GRID array of cells over the whole frame."""
_CORNERS = ((0, 0), (0, GRID - 1), (GRID - 1, 0), (GRID - 1, GRID - 1))
_DATA_CELLS = [(r, c) for r in range(GRID) for c in range(GRID) if (r, c) not in _CORNERS]
MAX_FRAMES = 2 ** len(_DATA_CELLS)
"""Frames a test video can number (4096: 2 min 43 s at 25 fps)."""
_DARK, _BRIGHT = 24, 232
_GRAIN = 12

CONTAINER_CODECS = {
    ".mp4": "libx264",
    ".mov": "libx264",
    ".mkv": "libx264",
    ".webm": "libvpx-vp9",
    ".avi": "mpeg4",
}
"""The codec ``make_video`` uses for a suffix when none is named."""


def code_frame(index: int, size: tuple[int, int] = (96, 72)) -> np.ndarray:
    """The RGB image ``[height, width, 3]`` that carries ``index``."""
    if not 0 <= index < MAX_FRAMES:
        raise ValueError(f"frame index {index} does not fit the code (0..{MAX_FRAMES - 1})")
    width, height = size
    cells = np.full((GRID, GRID), _DARK, np.uint8)
    cells[0, 0] = _BRIGHT
    for bit, (r, c) in enumerate(_DATA_CELLS):
        if index >> (len(_DATA_CELLS) - 1 - bit) & 1:
            cells[r, c] = _BRIGHT
    rows = np.arange(height) * GRID // height
    cols = np.arange(width) * GRID // width
    grey = cells[rows[:, None], cols[None, :]].astype(np.int16)
    # Mild grain, different in every frame, so encoders produce realistic
    # P/B-frames (and byte sizes) instead of near-empty repeats.
    grey += np.random.default_rng(index).integers(-_GRAIN, _GRAIN + 1, grey.shape, dtype=np.int16)
    return np.repeat(grey.clip(0, 255).astype(np.uint8)[:, :, None], 3, axis=2)


def decode_index(frame: np.ndarray) -> int:
    """The frame index shown by a ``code_frame`` image ``[height, width, 3]``.

    Reads the mean of the central half of each cell, so compression artefacts
    at cell edges and resizing do not matter. Raises ValueError when the corner
    markers are wrong (not a code frame, or rotated/flipped).
    """
    height, width = frame.shape[:2]
    grey = frame.astype(np.float32).mean(axis=2) if frame.ndim == 3 else frame.astype(np.float32)

    def bright(r: int, c: int) -> bool:
        top, bottom = (4 * r + 1) * height // (4 * GRID), (4 * r + 3) * height // (4 * GRID)
        left, right = (4 * c + 1) * width // (4 * GRID), (4 * c + 3) * width // (4 * GRID)
        return float(grey[top:max(bottom, top + 1), left:max(right, left + 1)].mean()) > 128

    if [bright(r, c) for r, c in _CORNERS] != [True, False, False, False]:
        raise ValueError("not a code frame in its upright orientation (corner markers do not match)")
    index = 0
    for r, c in _DATA_CELLS:
        index = index << 1 | bright(r, c)
    return index


def make_video(
    path: str | Path,
    *,
    frames: int,
    size: tuple[int, int] = (96, 72),
    fps: int | Fraction = 25,
    codec: str | None = None,
    gop: int | None = None,
    bframes: int | None = None,
    vfr_pts: Sequence[int] | None = None,
    time_base: Fraction = Fraction(1, 1000),
    rotation: int | None = None,
    open_gop: bool = False,
    faststart: bool = False,
) -> Path:
    """Write a video of ``frames`` code frames (frame i shows ``i``) and return its path.

    The container follows the suffix (.mp4, .mkv, .webm, .avi, .mov); ``codec``
    is a PyAV encoder name (``libx264``, ``mpeg4``, ``libvpx-vp9``, ``mjpeg``,
    ``ffv1``), by default the usual one for the suffix. ``gop`` is the keyframe
    interval, ``bframes`` the maximum consecutive B-frames (encoders that have
    them). ``vfr_pts`` makes a variable-frame-rate video: one strictly
    increasing presentation timestamp per frame in units of ``time_base``
    (milliseconds by default). ``rotation`` is the clockwise display rotation
    in degrees written as display-matrix side data (what phones record).
    ``open_gop`` (libx264) lets B-frames before a keyframe reference the
    previous GOP. ``faststart`` puts an MP4's index before the media data.
    """
    path = Path(path)
    codec = codec or CONTAINER_CODECS.get(path.suffix.lower(), "libx264")
    if vfr_pts is not None:
        if len(vfr_pts) != frames:
            raise ValueError(f"vfr_pts has {len(vfr_pts)} timestamps for {frames} frames")
        if any(b <= a for a, b in zip(vfr_pts, vfr_pts[1:])):
            raise ValueError("vfr_pts must be strictly increasing")
        pts = [int(p) for p in vfr_pts]
        tb = time_base
    else:
        tb = 1 / Fraction(fps)
        pts = list(range(frames))
    width, height = size

    options: dict[str, str] = {}
    x264_params = []
    if gop is not None:
        options["g"] = str(gop)
        # x264 also inserts keyframes at scene cuts; the test wants exactly `gop`.
        x264_params += [f"keyint={gop}", f"min-keyint={gop}", "scenecut=0"]
    if open_gop:
        x264_params.append("open-gop=1")
    if codec == "libx264" and x264_params:
        options["x264-params"] = ":".join(x264_params)
    if bframes is not None:
        options["bf"] = str(bframes)
    container_options = {"movflags": "+faststart"} if faststart else {}

    with av.open(str(path), "w", options=container_options) as container:
        stream = container.add_stream(codec, rate=Fraction(fps), options=options)
        stream.width, stream.height = width, height
        stream.pix_fmt = "yuvj420p" if codec == "mjpeg" else "yuv420p"
        stream.codec_context.time_base = tb
        if rotation:
            # The display matrix is counterclockwise; our rotation is clockwise.
            stream.set_display_rotation(-rotation)
        durations = np.diff(pts, append=pts[-1] + (pts[-1] - pts[-2] if frames > 1 else 1))
        for i in range(frames):
            frame = av.VideoFrame.from_ndarray(code_frame(i, size), format="rgb24")
            frame.pts, frame.time_base, frame.duration = pts[i], tb, int(durations[i])
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


def make_audio_only(path: str | Path, *, seconds: float = 1.0) -> Path:
    """Write a file with one sine-tone audio stream and no video (.m4a, .wav, .mka)."""
    path = Path(path)
    codec = {".wav": "pcm_s16le", ".mka": "libopus", ".ogg": "libopus"}.get(path.suffix.lower(), "aac")
    rate = 48000
    samples = int(seconds * rate)
    tone = (0.2 * np.sin(2 * np.pi * 440 * np.arange(samples) / rate) * 32767).astype(np.int16)
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=rate, layout="mono")
        chunk = 960
        for start in range(0, samples, chunk):
            frame = av.AudioFrame.from_ndarray(tone[None, start:start + chunk], format="s16", layout="mono")
            frame.sample_rate, frame.pts = rate, start
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


def make_undecodable_video(path: str | Path, *, frames: int = 10, size: tuple[int, int] = (96, 72)) -> Path:
    """Write a well-formed AVI whose MPEG-4 video packets are random bytes: it opens, never decodes."""
    path = Path(path)
    rng = np.random.default_rng(0)
    with av.open(str(path), "w", format="avi") as container:
        stream = container.add_stream("mpeg4", rate=25)
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        for i in range(frames):
            packet = av.Packet(rng.integers(0, 256, 500, dtype=np.uint8).tobytes())
            packet.stream = stream
            packet.time_base = Fraction(1, 25)
            packet.pts = packet.dts = i
            packet.is_keyframe = i == 0
            container.mux(packet)
    return path


def truncate_file(path: str | Path, keep: float = 0.5) -> Path:
    """Cut ``path`` in place to the first ``keep`` fraction of its bytes (a copy interrupted midway)."""
    path = Path(path)
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    return path


class VideoFactory:
    """Makes test media inside one folder; the ``video_factory`` fixture gives one per test."""

    decode_index = staticmethod(decode_index)
    code_frame = staticmethod(code_frame)
    truncate = staticmethod(truncate_file)

    def __init__(self, folder: Path):
        self.folder = Path(folder)

    def __call__(self, name: str = "video.mp4", **kwargs) -> Path:
        """``make_video(folder / name, **kwargs)``; ``frames`` defaults to 30."""
        kwargs.setdefault("frames", 30)
        return make_video(self.folder / name, **kwargs)

    def audio_only(self, name: str = "audio.m4a", **kwargs) -> Path:
        return make_audio_only(self.folder / name, **kwargs)

    def undecodable(self, name: str = "undecodable.avi", **kwargs) -> Path:
        return make_undecodable_video(self.folder / name, **kwargs)

    def file(self, name: str, content: bytes = b"") -> Path:
        """A plain file with the given bytes (empty by default)."""
        path = self.folder / name
        path.write_bytes(content)
        return path

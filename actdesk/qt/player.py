"""The video player: exact frames from the engine, decoded ahead in a thread.

:class:`FrameSource` owns a :class:`actdesk.media.VideoReader` in its own
thread. The frame shown for index N is always ``reader.read(N)`` (the engine's
exact access); after serving a request the thread keeps decoding the next
frames into a bounded cache, so playback at the source rate rarely waits.
:class:`PlayerWidget` keeps the playhead: it plays by the frames' presentation
times (so variable-frame-rate video plays at its own pace) and says which
frame it *shows*, never one it merely asked for.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from pathlib import Path

import numpy as np
from PySide6.QtCore import QEvent, QObject, QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QIcon, QImage, QPainter
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSizePolicy,
    QStyle,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from actdesk.errors import ActdeskError
from actdesk.qt.timeline import format_time

SPEEDS = (0.25, 0.5, 1.0, 1.5, 2.0, 4.0)
DEFAULT_CACHE_BYTES = 192 * 1024 * 1024
DECODE_AHEAD = 24
MAX_DISPLAY_PIXELS = 1920 * 1080  # larger sources are decoded scaled down for display
TICK_MS = 8
NO_VIDEO_MESSAGE = "Open a video or project (Ctrl+O), or drop one here"


class FrameSource(QObject):
    """Frames of one video, decoded in a background thread into a bounded LRU cache.

    ``request(n)`` never blocks: a cached frame is returned at once, otherwise
    ``frameReady(n, image)`` follows when it is decoded. Decode errors arrive as
    ``failed(exception)``.
    """

    frameReady = Signal(int, QImage)
    failed = Signal(object)

    def __init__(self, path: str | Path, *, cache_bytes: int = DEFAULT_CACHE_BYTES, ahead: int = DECODE_AHEAD):
        super().__init__()
        from actdesk.media import VideoReader

        self.path = Path(path)
        self._reader = VideoReader(self.path)
        self.frame_count = int(self._reader.frame_count)
        self.size = _display_size(self._reader.info)
        self._cache: OrderedDict[int, QImage] = OrderedDict()
        self._cache_bytes = 0
        self._max_bytes = cache_bytes
        self._ahead = ahead
        self._wanted: int | None = None
        self._horizon = -ahead - 1  # frames [horizon - ahead, horizon] are decoded ahead; none yet
        self._frame_bytes = 0
        self._cond = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name=f"decode {self.path.name}", daemon=True)
        self._thread.start()

    def request(self, n: int) -> QImage | None:
        """The image of frame ``n`` if cached; otherwise schedule it and return None."""
        n = int(np.clip(n, 0, self.frame_count - 1))
        with self._cond:
            image = self._cache.get(n)
            if image is not None:
                self._cache.move_to_end(n)
            self._horizon = n + self._ahead
            if image is None:
                self._wanted = n
            self._cond.notify()
        return image

    def cached(self, n: int) -> QImage | None:
        with self._cond:
            return self._cache.get(n)

    def close(self) -> None:
        """Stop the thread and close the reader."""
        with self._cond:
            self._closed = True
            self._cond.notify()
        self._thread.join(timeout=5)
        self._reader.close()

    def _next_job(self) -> int | None:
        """The frame to decode next: the one asked for, else the next missing one ahead."""
        with self._cond:
            while not self._closed:
                if self._wanted is not None:
                    n, self._wanted = self._wanted, None
                    if n not in self._cache:  # decoded ahead meanwhile: frameReady has gone out
                        return n
                    continue
                ahead = self._first_missing_ahead()
                if ahead is not None:
                    return ahead
                self._cond.wait()
            return None

    def _first_missing_ahead(self) -> int | None:
        # Never plan further ahead than the cache holds, or decoding ahead would evict its own work.
        capacity = self._max_bytes // self._frame_bytes - 1 if self._frame_bytes else 1
        ahead = max(0, min(self._ahead, capacity))
        start = self._horizon - self._ahead
        for n in range(max(start, 0), min(start + ahead, self.frame_count - 1) + 1):
            if n not in self._cache:
                return n
        return None

    def _run(self) -> None:
        while True:
            n = self._next_job()
            if n is None:
                return
            try:
                rgb = self._reader.read(n, size=self.size)
            except ActdeskError as e:
                self.failed.emit(e)
                with self._cond:
                    # Do not retry this frame forever: nothing more is decoded ahead until the next request.
                    self._horizon = -self._ahead - 1
                continue
            image = _to_qimage(rgb)
            with self._cond:
                self._store(n, image)
            self.frameReady.emit(n, image)

    def _store(self, n: int, image: QImage) -> None:
        if n in self._cache:
            return
        self._frame_bytes = image.sizeInBytes()
        self._cache[n] = image
        self._cache_bytes += image.sizeInBytes()
        while self._cache_bytes > self._max_bytes and len(self._cache) > 1:
            _, old = self._cache.popitem(last=False)
            self._cache_bytes -= old.sizeInBytes()


def _display_size(info) -> tuple[int, int] | None:
    """(height, width) to decode at: None (native) unless the frame is larger than a display needs."""
    width, height = int(info.width), int(info.height)
    if width * height <= MAX_DISPLAY_PIXELS:
        return None
    scale = (MAX_DISPLAY_PIXELS / (width * height)) ** 0.5
    w, h = max(2, int(width * scale) // 2 * 2), max(2, int(height * scale) // 2 * 2)
    return (w, h) if int(getattr(info, "rotation", 0)) % 180 else (h, w)


def _to_qimage(rgb: np.ndarray) -> QImage:
    rgb = np.ascontiguousarray(rgb)
    h, w, _ = rgb.shape
    return QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


class FrameView(QWidget):
    """Paints the current frame scaled to fit, keeping its aspect ratio."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.image: QImage | None = None
        self.message = NO_VIDEO_MESSAGE
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(240, 160)

    def sizeHint(self) -> QSize:
        return QSize(640, 400)

    def set_image(self, image: QImage | None) -> None:
        self.image = image
        self.update()

    def image_rect(self) -> QRectF:
        if self.image is None:
            return QRectF()
        w, h = self.image.width(), self.image.height()
        scale = min(self.width() / w, self.height() / h)
        return QRectF((self.width() - w * scale) / 2, (self.height() - h * scale) / 2, w * scale, h * scale)

    def paintEvent(self, event) -> None:  # noqa: ARG002
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor("#101215"))
        if self.image is None:
            painter.setPen(QColor("#8a8f98"))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self.message)
            return
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
        painter.drawImage(self.image_rect(), self.image)


class PlayerWidget(QWidget):
    """Frame view + transport controls; owns the playhead (the frame on screen)."""

    frameChanged = Signal(int)
    playingChanged = Signal(bool)
    speedChanged = Signal(float)
    errorOccurred = Signal(object)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.source: FrameSource | None = None
        self.times_s = np.zeros(0, np.float64)
        self.end_time_s = 0.0
        self.current_frame = 0
        self.speed = 1.0
        self._pending: int | None = None
        self._play_origin: tuple[float, float] | None = None  # (wall clock, media time) at play start
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self._tick)

        self.view = FrameView(self)
        self.play_button = _tool_button(self._icon("SP_MediaPlay"), "Play / pause (Space)")
        self.play_button.clicked.connect(self.toggle_play)
        self.back_button = _tool_button(self._icon("SP_MediaSeekBackward"), "Previous frame (←)")
        self.back_button.clicked.connect(lambda: self.step(-1))
        self.forward_button = _tool_button(self._icon("SP_MediaSeekForward"), "Next frame (→)")
        self.forward_button.clicked.connect(lambda: self.step(1))
        self.speed_box = QComboBox()
        self.speed_box.setToolTip("Playback speed ([ and ])")
        self.speed_box.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        for s in SPEEDS:
            self.speed_box.addItem(f"{s:g}×", s)
        self.speed_box.setCurrentIndex(SPEEDS.index(1.0))
        self.speed_box.currentIndexChanged.connect(lambda i: self.set_speed(SPEEDS[i]))
        self.position_label = QLabel("–")
        self.position_label.setObjectName("positionLabel")
        self.goto_edit = GotoEdit()
        self.goto_edit.setPlaceholderText("go to frame or m:ss")
        self.goto_edit.setToolTip("Type a frame number (1234) or a time (1:02.5, 62.5s) and press Enter (Ctrl+G)")
        self.goto_edit.setMaximumWidth(150)
        self.goto_edit.returnPressed.connect(self._goto_entered)

        bar = QHBoxLayout()
        bar.setContentsMargins(6, 2, 6, 4)
        for w in (self.back_button, self.play_button, self.forward_button, self.speed_box):
            bar.addWidget(w)
        bar.addSpacing(10)
        bar.addWidget(self.position_label, 1)
        bar.addWidget(self.goto_edit)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.view, 1)
        layout.addLayout(bar)
        self._set_controls_enabled(False)

    def _icon(self, name: str) -> QIcon:
        return self.style().standardIcon(getattr(QStyle.StandardPixmap, name))

    # -- video ---------------------------------------------------------------
    def open(self, path: str | Path, times_s: np.ndarray, end_time_s: float) -> None:
        """Show ``path``; ``times_s`` are its frames' presentation times (from the store or index).

        Raises MediaError when the video cannot be opened.
        """
        self.close_video()
        source = FrameSource(path)
        # Frames still queued from a previous video must not reach this one: they carry their source.
        source.frameReady.connect(lambda n, image, source=source: self._frame_ready(source, n, image))
        source.failed.connect(self.errorOccurred)
        self.source = source
        self.times_s = np.asarray(times_s, np.float64)
        self.end_time_s = float(end_time_s)
        self.current_frame = -1
        self._set_controls_enabled(True)
        self.seek(0)

    def close_video(self) -> None:
        self.pause()
        if self.source is not None:
            self.source.close()
            self.source = None
        self.times_s = np.zeros(0, np.float64)
        self._pending = None
        self.view.message = NO_VIDEO_MESSAGE
        self.view.set_image(None)
        self.position_label.setText("–")
        self._set_controls_enabled(False)

    @property
    def frame_count(self) -> int:
        return len(self.times_s)

    # -- transport ---------------------------------------------------------------
    def seek(self, frame: int) -> None:
        """Show exactly ``frame`` (clamped): at once when cached, else when decoded."""
        if self.source is None or not self.frame_count:
            return
        frame = int(np.clip(frame, 0, self.frame_count - 1))
        if self.is_playing:
            self._play_origin = (time.monotonic(), float(self.times_s[frame]))
        self._show(frame)

    def step(self, frames: int) -> None:
        self.pause()
        self.seek(self.current_frame + frames)

    def step_seconds(self, seconds: float) -> None:
        """Move by ``seconds`` of presentation time (exact on variable frame rate)."""
        self.pause()
        if not self.frame_count:
            return
        target = float(self.times_s[max(self.current_frame, 0)]) + seconds
        self.seek(int(np.searchsorted(self.times_s, target + 1e-9, "right")) - 1)

    def goto(self, text: str) -> bool:
        """Seek to a frame number ("1234") or a time ("1:02.5", "62.5s"); False if not understood."""
        frame = parse_position(text, self.times_s)
        if frame is None:
            return False
        self.seek(frame)
        return True

    @property
    def is_playing(self) -> bool:
        return self._timer.isActive()

    def toggle_play(self) -> None:
        if self.is_playing:
            self.pause()
        else:
            self.play()

    def play(self) -> None:
        if self.source is None or self.is_playing:
            return
        if self.current_frame >= self.frame_count - 1:
            self.seek(0)
        self._play_origin = (time.monotonic(), float(self.times_s[max(self.current_frame, 0)]))
        self._timer.start()
        self.play_button.setIcon(self._icon("SP_MediaPause"))
        self.playingChanged.emit(True)

    def pause(self) -> None:
        if not self.is_playing:
            return
        self._timer.stop()
        self.play_button.setIcon(self._icon("SP_MediaPlay"))
        self.playingChanged.emit(False)

    def set_speed(self, speed: float) -> None:
        speed = min(SPEEDS, key=lambda s: abs(s - speed))
        if self.is_playing:
            self._play_origin = (time.monotonic(), float(self.times_s[max(self.current_frame, 0)]))
        self.speed = speed
        if self.speed_box.currentData() != speed:
            self.speed_box.setCurrentIndex(SPEEDS.index(speed))
        self.speedChanged.emit(speed)

    def faster(self) -> None:
        i = SPEEDS.index(self.speed)
        self.set_speed(SPEEDS[min(i + 1, len(SPEEDS) - 1)])

    def slower(self) -> None:
        i = SPEEDS.index(self.speed)
        self.set_speed(SPEEDS[max(i - 1, 0)])

    def _tick(self) -> None:
        if self._play_origin is None or self.source is None:
            return
        wall0, media0 = self._play_origin
        target_time = media0 + (time.monotonic() - wall0) * self.speed
        if target_time >= self.end_time_s:
            self._show(self.frame_count - 1)
            self.pause()
            return
        target = int(np.searchsorted(self.times_s, target_time, "right")) - 1
        if target != self.current_frame and target != self._pending:
            self._show(target)

    def _show(self, frame: int) -> None:
        image = self.source.request(frame)
        if image is None:
            self._pending = frame
            return
        self._pending = None
        self._display(frame, image)

    def _frame_ready(self, source: FrameSource, frame: int, image: QImage) -> None:
        if source is self.source and frame == self._pending:
            self._pending = None
            self._display(frame, image)

    def _display(self, frame: int, image: QImage) -> None:
        self.view.set_image(image)
        changed = frame != self.current_frame
        self.current_frame = frame
        t = float(self.times_s[frame])
        self.position_label.setText(
            f"frame {frame} / {self.frame_count - 1}   {format_time(t, 3)} / {format_time(self.end_time_s, 1)}")
        if changed:
            self.frameChanged.emit(frame)

    def _goto_entered(self) -> None:
        if self.goto(self.goto_edit.text()):
            self.goto_edit.clear()
            self.goto_edit.clearFocus()
        else:
            self.goto_edit.selectAll()

    def _set_controls_enabled(self, enabled: bool) -> None:
        for w in (self.play_button, self.back_button, self.forward_button, self.speed_box, self.goto_edit):
            w.setEnabled(enabled)


class GotoEdit(QLineEdit):
    """The go-to field keeps Enter and Esc for itself (the window binds them to editing)."""

    def event(self, event) -> bool:
        if event.type() == QEvent.Type.ShortcutOverride and event.key() in (
                Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Escape):
            event.accept()
            return True
        return super().event(event)

    def keyPressEvent(self, event) -> None:
        if event.key() == Qt.Key.Key_Escape:
            self.clear()
            self.clearFocus()
            return
        super().keyPressEvent(event)


def parse_position(text: str, times_s: np.ndarray) -> int | None:
    """A frame index from "1234" (frame), "62.5s", "1:02.5" or "1:00:02" (time); None if not understood."""
    text = text.strip().lower()
    if not text or not len(times_s):
        return None
    try:
        if ":" in text or text.endswith("s"):
            parts = text.rstrip("s").split(":")
            seconds = 0.0
            for part in parts:
                seconds = seconds * 60 + float(part)
            frame = int(np.searchsorted(times_s, seconds + 1e-9, "right")) - 1
        else:
            frame = int(text)
    except ValueError:
        return None
    return int(np.clip(frame, 0, len(times_s) - 1))


def _tool_button(icon: QIcon, tip: str) -> QToolButton:
    b = QToolButton()
    b.setIcon(icon)
    b.setToolTip(tip)
    b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    b.setMinimumWidth(34)
    return b

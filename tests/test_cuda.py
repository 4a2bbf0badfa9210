"""The CUDA path of inference: pinned batches, autocast, channels_last_3d, and the same
segments as on the CPU. Skipped where no CUDA device is present."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import torch

pytestmark = [
    pytest.mark.cuda,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device; none is present"),
]

TEST_PLUGINS_DIR = Path(__file__).resolve().parent / "plugins" / "broken"
LABELS = ("idle", "walk", "wave")


@pytest.fixture
def manager(monkeypatch):
    from actdesk.plugins import PluginManager

    monkeypatch.syspath_prepend(str(TEST_PLUGINS_DIR))
    manager = PluginManager(disabled=())
    manager.register_module("actdesk_testplugin_good")
    return manager


@pytest.fixture
def checkpoint(tmp_path, manager) -> Path:
    from actdesk.ml.checkpoints import CheckpointMeta, save_checkpoint

    torch.manual_seed(0)
    net = manager.build_model("test-good", len(LABELS))
    path = tmp_path / "tiny.safetensors"
    save_checkpoint(path, net.state_dict(), CheckpointMeta.for_spec(manager.spec("test-good"), LABELS))
    return path


@pytest.fixture
def video(tmp_path) -> Path:
    from videos import make_video

    return make_video(tmp_path / "clip.mp4", frames=80, gop=10, bframes=2)


def test_cuda_devices_resolve_and_a_missing_index_is_refused():
    from actdesk.errors import ActdeskError
    from actdesk.ml.device import select_device

    assert select_device("auto").type == "cuda"
    assert select_device("cuda:0") == torch.device("cuda", 0)
    with pytest.raises(ActdeskError, match="cuda:99"):
        select_device("cuda:99")


def test_decode_thread_pins_batches_for_cuda(video):
    from actdesk.media import ClipSampling, VideoReader
    from actdesk.ml.inference import _DecodeThread

    with VideoReader(video) as reader:
        decoder = _DecodeThread(reader, ClipSampling(4, 1, 4, (16, 16)), 4, pin=True)
        decoder.start()
        try:
            centers, clips, _busy_s = next(decoder.batches(lambda: False))
        finally:
            decoder.close()
    assert clips.is_pinned() and clips.dtype == torch.uint8 and tuple(clips.shape) == (4, 4, 16, 16, 3)


def test_autocast_dtype_follows_the_device_and_the_spec(manager):
    from actdesk.ml.device import autocast_dtype

    spec = manager.spec("test-good")
    expected = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    assert autocast_dtype(torch.device("cuda"), spec) == expected
    assert autocast_dtype(torch.device("cuda"), dataclasses.replace(spec, supports_amp=False)) is None
    assert autocast_dtype(torch.device("cpu"), spec) is None


def test_channels_last_3d_where_the_spec_asks(checkpoint, manager):
    from actdesk.ml.checkpoints import load_model

    loaded = load_model(checkpoint, manager=manager, device="cpu")
    loaded.spec = dataclasses.replace(loaded.spec, channels_last_3d=True)
    loaded.to(torch.device("cuda"))
    conv = loaded.model.features[0]
    assert conv.weight.is_cuda and conv.weight.is_contiguous(memory_format=torch.channels_last_3d)


@pytest.mark.parametrize("amp, channels_last", [(True, False), (False, True), (True, True)])
def test_cuda_gives_the_cpu_segments(video, checkpoint, manager, amp, channels_last):
    from actdesk.ml.checkpoints import load_model
    from actdesk.ml.inference import label_video_to_segments

    cpu = label_video_to_segments(video, load_model(checkpoint, manager=manager, device="cpu"),
                                  stride=2, batch=8, smooth_window=5, min_frames=4)
    loaded = load_model(checkpoint, manager=manager, device="cpu")
    loaded.spec = dataclasses.replace(loaded.spec, supports_amp=amp, channels_last_3d=channels_last)
    gpu = label_video_to_segments(video, loaded, stride=2, batch=8, device="cuda", smooth_window=5, min_frames=4)
    np.testing.assert_array_equal(gpu.centers, cpu.centers)
    tolerance = 2e-2 if amp else 1e-4  # bf16 keeps about 3 significant digits
    np.testing.assert_allclose(gpu.window_probs, cpu.window_probs, atol=tolerance)
    same = (gpu.frame_probs.argmax(1) == cpu.frame_probs.argmax(1)).mean()
    assert same >= 0.95, f"only {same:.1%} of frames get the CPU's class"
    if not amp:
        assert [(s.start_frame, s.end_frame, s.label) for s in gpu.segments] == [
            (s.start_frame, s.end_frame, s.label) for s in cpu.segments]


def test_label_command_on_cuda(tmp_path, video, checkpoint, manager, monkeypatch):
    import actdesk.cli
    import actdesk.plugins.manager
    from actdesk.formats.segments_csv import read_segments_csv

    monkeypatch.setattr(actdesk.plugins.manager, "_manager", manager)
    monkeypatch.setattr(actdesk.cli, "COMMANDS", {"label": "label_cmd"})
    out = tmp_path / "pred.csv"
    code = actdesk.cli.main(["label", str(video), "--checkpoint", str(checkpoint), "--device", "cuda",
                             "--out", str(out), "--quiet"])
    assert code == 0
    assert read_segments_csv(out)[-1].end_frame == 80

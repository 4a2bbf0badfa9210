"""Inference on a short real video with tiny real models: determinism, invariance to
stride and batch, prompt stopping without stray threads, and containment of broken models."""

from __future__ import annotations

import dataclasses
import sys
import threading

import numpy as np
import pytest
import torch

from actdesk.errors import Cancelled, PluginError
from actdesk.media import VideoReader, clip_centers
from actdesk.ml.checkpoints import load_model
from actdesk.ml.inference import label_video, label_video_to_segments

FRAMES = 60  # of the tiny_video fixture


def actdesk_threads() -> list[threading.Thread]:
    """Live threads started by actdesk (all are named ``actdesk-...``)."""
    return [t for t in threading.enumerate() if t.name.startswith("actdesk-")]


def collect(scores) -> tuple[np.ndarray, np.ndarray]:
    batches = list(scores)
    return np.concatenate([b.centers for b in batches]), np.concatenate([b.probs for b in batches])


@pytest.fixture
def tiny_model(tiny_checkpoint, test_plugins):
    return load_model(tiny_checkpoint, manager=test_plugins, device="cpu")


def test_scores_every_stride_th_frame_deterministically(tiny_video, tiny_model):
    calls = []
    centers, probs = collect(label_video(tiny_video, tiny_model, stride=2, batch=8,
                                         progress=lambda done, total, message="": calls.append((done, total))))
    np.testing.assert_array_equal(centers, clip_centers(FRAMES, 2))
    assert probs.shape == (len(centers), 3) and probs.dtype == np.float32
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    assert calls[0] == (0, 31) and calls[-1] == (31, 31)
    assert np.ptp(probs[:, 0]) > 1e-4  # the model sees different frames, not one constant input
    again_centers, again_probs = collect(label_video(tiny_video, tiny_model, stride=2, batch=8))
    np.testing.assert_array_equal(again_centers, centers)
    np.testing.assert_array_equal(again_probs, probs)


def test_stride_and_batch_do_not_change_window_probabilities(tiny_video, tiny_model):
    centers_a, probs_a = collect(label_video(tiny_video, tiny_model, stride=2, batch=16))
    centers_b, probs_b = collect(label_video(tiny_video, tiny_model, stride=1, batch=5))
    np.testing.assert_array_equal(centers_b, np.arange(FRAMES))
    np.testing.assert_allclose(probs_b[centers_a], probs_a, atol=1e-5)


@pytest.mark.parametrize("standardise", [False, True])
def test_probabilities_match_the_model_on_hand_built_clips(tiny_video, tiny_model, standardise):
    """The pipeline feeds the clip layout, normalisation and frame order the spec describes."""
    tiny_model = dataclasses.replace(tiny_model, meta=dataclasses.replace(tiny_model.meta,
                                                                          standardise_clips=standardise))
    meta = tiny_model.meta
    centers, probs = collect(label_video(tiny_video, tiny_model, stride=7, batch=3))
    mean = torch.tensor(meta.mean).view(1, 3, 1, 1, 1)
    std = torch.tensor(meta.std).view(1, 3, 1, 1, 1)
    with VideoReader(tiny_video) as reader:
        for row, center in enumerate(centers):
            frames = [reader.read(int(np.clip(center + (i - meta.clip_len // 2) * meta.frame_step, 0, FRAMES - 1)),
                                  size=meta.size) for i in range(meta.clip_len)]
            clip = torch.from_numpy(np.stack(frames)).permute(3, 0, 1, 2)[None].float() / 255
            x = (clip - mean) / std
            if standardise:  # each colour channel of the clip to mean 0, standard deviation 1
                flat = x.reshape(3, -1)
                x = (x - flat.mean(1).view(1, 3, 1, 1, 1)) / (flat.std(1).view(1, 3, 1, 1, 1) + 1e-3)
            with torch.no_grad():
                expected = torch.softmax(tiny_model.model(x), dim=1)[0].numpy()
            np.testing.assert_allclose(probs[row], expected, atol=1e-5, err_msg=f"centre {center}")


def test_should_stop_ends_promptly_and_joins_the_decode_thread(tiny_video, tiny_model):
    batches = []
    for scores in label_video(tiny_video, tiny_model, stride=1, batch=4, should_stop=lambda: len(batches) >= 2):
        batches.append(scores)
    assert len(batches) == 2
    assert actdesk_threads() == []


def test_closing_the_generator_joins_the_decode_thread(tiny_video, tiny_model):
    scores = label_video(tiny_video, tiny_model, stride=1, batch=2)
    first = next(scores)
    assert len(first.centers) == 2
    assert [t.name for t in actdesk_threads()] == ["actdesk-decode"]
    scores.close()
    assert actdesk_threads() == []


def test_label_video_to_segments_covers_every_frame(tiny_video, tiny_model):
    result = label_video_to_segments(tiny_video, tiny_model, stride=2, batch=8, smooth_window=5, min_frames=4)
    segments = result.segments
    assert segments[0].start_frame == 0 and segments[-1].end_frame == FRAMES
    assert all(a.end_frame == b.start_frame and a.label != b.label for a, b in zip(segments, segments[1:]))
    assert all(s.length >= 4 for s in segments) or len(segments) == 1
    assert {s.label for s in segments} <= set(result.labels) and result.labels == ("idle", "walk", "wave")
    assert all(s.source == "test-good" and s.video == tiny_video.name for s in segments)
    assert segments[-1].end_s == pytest.approx(FRAMES / 25)
    assert result.frame_probs.shape == (FRAMES, 3)
    assert result.window_probs.shape == (len(result.centers), 3)
    winners = result.frame_probs.argmax(axis=1)
    for s in segments:  # confidence is the mean probability of the segment's own class
        c = result.labels.index(s.label)
        assert s.confidence == pytest.approx(float(result.frame_probs[s.start_frame:s.end_frame, c].mean()), abs=1e-6)
    assert len(set(winners.tolist())) >= 1


def test_label_video_to_segments_raises_cancelled_when_stopped(tiny_video, tiny_model):
    with pytest.raises(Cancelled):
        label_video_to_segments(tiny_video, tiny_model, stride=1, batch=4, should_stop=lambda: True)
    assert actdesk_threads() == []


@pytest.mark.parametrize("model, problem", [
    ("test-nan-output", "non-finite logits"),
    ("test-inf-output", "non-finite logits"),
    ("test-wrong-shape", r"shape \[4, 4\], expected \[4, 3\]"),
    ("test-forward-raises", "failed on a batch of shape.*forward always fails"),
])
def test_broken_model_output_is_the_plugins_error(tiny_video, make_checkpoint, test_plugins, model, problem):
    loaded = load_model(make_checkpoint(model), manager=test_plugins)
    with pytest.raises(PluginError, match=problem) as e:
        list(label_video(tiny_video, loaded, stride=4, batch=4))
    assert e.value.plugin == "actdesk_testplugin_faulty_models"
    assert actdesk_threads() == []
    entry = next(m for m in test_plugins.models() if m.name == model)
    assert entry.status == "error"  # the plugins view shows the failure


def test_hanging_model_times_out_and_its_thread_ends_when_released(tiny_video, make_checkpoint, test_plugins,
                                                                   hang_release):
    loaded = load_model(make_checkpoint("test-hang"), manager=test_plugins)
    with pytest.raises(PluginError, match="model 'test-hang' did not answer within 0.3 s") as e:
        list(label_video(tiny_video, loaded, stride=4, batch=4, timeout_s=0.3))
    assert e.value.plugin == "actdesk_testplugin_faulty_models"
    assert [t.name for t in actdesk_threads()] == ["actdesk-forward"]  # only the abandoned forward
    hang_release.set()
    for thread in actdesk_threads():
        thread.join(timeout=60)
    assert actdesk_threads() == []


def test_timeout_does_not_change_results_of_a_working_model(tiny_video, tiny_model):
    _, plain = collect(label_video(tiny_video, tiny_model, stride=3, batch=4))
    _, guarded = collect(label_video(tiny_video, tiny_model, stride=3, batch=4, timeout_s=60))
    np.testing.assert_array_equal(guarded, plain)
    assert actdesk_threads() == []


def test_media_errors_from_the_decode_thread_reach_the_caller(tmp_path, tiny_model):
    from actdesk.errors import MediaError

    bad = tmp_path / "not-a-video.mp4"
    bad.write_bytes(b"this is text")
    with pytest.raises(MediaError, match="not-a-video.mp4"):
        list(label_video(bad, tiny_model))
    assert actdesk_threads() == []


@pytest.fixture
def cli_plugins(monkeypatch, test_plugins):
    """Make the CLI's process-wide plugin manager the test plugins' one, and its
    command table just ``label`` (so other commands' imports do not matter here)."""
    import actdesk.cli
    import actdesk.plugins.manager

    monkeypatch.setattr(actdesk.plugins.manager, "_manager", test_plugins)
    monkeypatch.setattr(actdesk.cli, "COMMANDS", {"label": "label_cmd"})
    return test_plugins


def test_label_command_writes_segments_scores_and_a_project_track(tmp_path, tiny_video, tiny_checkpoint,
                                                                  cli_plugins, capsys):
    from actdesk.cli import main
    from actdesk.core.project import Project
    from actdesk.formats.segments_csv import read_segments_csv

    project_path = tmp_path / "p.actdesk"
    Project.create(project_path).close()
    out, scores = tmp_path / "pred.csv", tmp_path / "scores.npz"
    code = main(["label", str(tiny_video), "--checkpoint", str(tiny_checkpoint), "--device", "cpu",
                 "--stride", "3", "--batch", "4", "--smooth", "3", "--min-frames", "2", "--out", str(out),
                 "--scores", str(scores), "--project", str(project_path), "--quiet"])
    assert code == 0, capsys.readouterr().err
    assert "written to" in capsys.readouterr().out

    segments = read_segments_csv(out)
    expected = label_video_to_segments(tiny_video, load_model(tiny_checkpoint, manager=cli_plugins),
                                       stride=3, batch=4, smooth_window=3, min_frames=2)
    assert [(s.start_frame, s.end_frame, s.label, s.source) for s in segments] == [
        (s.start_frame, s.end_frame, s.label, s.source) for s in expected.segments]
    assert segments[-1].end_frame == FRAMES

    with np.load(scores) as saved:
        np.testing.assert_array_equal(saved["centers"], clip_centers(FRAMES, 3))
        np.testing.assert_allclose(saved["probs"], expected.window_probs, atol=1e-6)
        assert saved["frame_probs"].shape == (FRAMES, 3)
        assert list(saved["labels"]) == ["idle", "walk", "wave"]

    with Project.open(project_path) as project:
        (video,) = project.videos()
        track = next(t for t in project.tracks(video.id) if t.kind == "model")
        assert (track.model, track.checkpoint) == ("test-good", str(tiny_checkpoint))
        assert track.params["stride"] == 3
        stored = project.segments(track.id)
        assert [(s.start_frame, s.end_frame, s.label, s.status) for s in stored] == [
            (s.start_frame, s.end_frame, s.label, "pending") for s in segments]
        assert [label.name for label in project.labels()] == ["idle", "walk", "wave"]  # all, in model order
        curves = project.track_scores(track.id)  # the timeline's curves, for when the app opens it
        assert curves.labels == ("idle", "walk", "wave")
        np.testing.assert_array_equal(curves.frames, np.arange(FRAMES))
        np.testing.assert_allclose(curves.probs, expected.frame_probs, atol=0.5 / 255 + 1e-6)


def test_label_command_reports_a_bad_checkpoint_without_a_traceback(tmp_path, tiny_video, cli_plugins, capsys):
    from actdesk.cli import main

    bad = tmp_path / "weights.pth"
    torch.save({"w": torch.zeros(1)}, bad)
    code = main(["label", str(tiny_video), "--checkpoint", str(bad), "--out", str(tmp_path / "p.csv"), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("actdesk: error: ") and "weights.pth" in err and "not an actdesk checkpoint" in err
    assert "Traceback" not in err
    assert not (tmp_path / "p.csv").exists()


def test_device_and_thread_settings():
    from actdesk.errors import ActdeskError
    from actdesk.ml.device import autocast_dtype, available_cores, configure_threads, select_device
    from actdesk.plugins import ModelSpec

    assert select_device("cpu") == torch.device("cpu")
    assert select_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    with pytest.raises(ActdeskError, match="unknown device 'tpu'"):
        select_device("tpu")
    before = torch.get_num_threads()
    try:
        decode, torch_threads = configure_threads(1)
        assert (decode, torch_threads) == (1, max(1, available_cores() - 1))
        assert torch.get_num_threads() == torch_threads
    finally:
        torch.set_num_threads(before)
    spec = ModelSpec(name="m", title="m", clip_len=4, size=(16, 16))
    assert autocast_dtype(torch.device("cpu"), spec) is None


def test_torch_gets_every_core_only_while_decoding_stays_hidden_behind_the_model():
    from actdesk.ml.device import torch_threads_beside_decoding

    # 2 cores split 1 + 1: given both, the model takes at least half its time.
    assert torch_threads_beside_decoding(decode_s=0.1, model_s=1.0, torch_threads=1, cores=2) == 2
    assert torch_threads_beside_decoding(decode_s=0.25, model_s=1.0, torch_threads=1, cores=2) == 2
    assert torch_threads_beside_decoding(decode_s=0.3, model_s=1.0, torch_threads=1, cores=2) == 1
    # 16 cores split 8 + 8: the model could become twice as fast.
    assert torch_threads_beside_decoding(decode_s=0.2, model_s=1.0, torch_threads=8, cores=16) == 16
    assert torch_threads_beside_decoding(decode_s=0.3, model_s=1.0, torch_threads=8, cores=16) == 8
    # Nothing to give, or nothing measured.
    assert torch_threads_beside_decoding(decode_s=0.0, model_s=1.0, torch_threads=2, cores=2) == 2
    assert torch_threads_beside_decoding(decode_s=0.0, model_s=0.0, torch_threads=1, cores=2) == 1


def test_labelling_rebalances_threads_from_its_own_timings(tiny_video, tiny_model, monkeypatch):
    import actdesk.ml.inference as inference

    seen = []

    def decide(decode_s, model_s, torch_threads, cores):
        seen.append((decode_s, model_s, torch_threads, cores))
        return 1

    monkeypatch.setattr(inference, "torch_threads_beside_decoding", decide)
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        # stride 1, batch 4: 15 batches; the decision comes after batches 1-4.
        centers, probs = collect(label_video(tiny_video, tiny_model, stride=1, batch=4, decode_threads=1))
        assert torch.get_num_threads() == 1  # the decision holds for the rest of the run
    finally:
        torch.set_num_threads(before)
    assert len(seen) == 1
    decode_s, model_s, torch_threads, cores = seen[0]
    assert decode_s > 0 and model_s > 0 and torch_threads >= 1 and cores >= 1
    assert len(centers) == FRAMES and np.isfinite(probs).all()


def test_default_batch_is_small_on_the_cpu_and_larger_on_a_gpu():
    from actdesk.ml.device import CPU_INFERENCE_BATCH, GPU_INFERENCE_BATCH, default_inference_batch

    assert default_inference_batch(torch.device("cpu")) == CPU_INFERENCE_BATCH == 2
    assert default_inference_batch(torch.device("cuda")) == GPU_INFERENCE_BATCH == 16


def test_label_command_on_a_missing_video_prints_only_the_error(tmp_path, tiny_checkpoint, cli_plugins, capsys):
    # Not --quiet: the progress bar must not be drawn for work that never started.
    from actdesk.cli import main

    missing = tmp_path / "no-such-video.mp4"
    code = main(["label", str(missing), "--checkpoint", str(tiny_checkpoint), "--out", str(tmp_path / "p.csv")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("actdesk: error: ") and "no-such-video.mp4" in err
    assert "labelling" not in err and "Traceback" not in err
    assert not (tmp_path / "p.csv").exists()


@pytest.mark.slow
def test_labelling_memory_does_not_grow_with_the_video(tmp_path):
    """Peak RSS labelling a 5-minute video stays within 10 % of a 1-minute one (issue 2).

    Each runs in a fresh process with the bundled model; the long video is the short one
    remuxed back to back, so only its length differs. Without
    ``keep_large_buffers_off_the_heap`` glibc's heaps grew with every minute (1.6-2.5x).
    """
    from actdesk.bench import peak_rss_labelling, repeat_video
    from actdesk.paths import bundled_checkpoint
    from actdesk.synth import generate_video

    checkpoint = bundled_checkpoint()
    if not checkpoint.is_file():
        pytest.skip(f"the bundled checkpoint {checkpoint} is absent (it is built by `make model`)")
    minute = tmp_path / "minute.mp4"
    generate_video(minute, seconds=60, seed=10000)
    five = repeat_video(minute, tmp_path / "five-minutes.mp4", 5)
    short_kib, long_kib = peak_rss_labelling(minute, checkpoint), peak_rss_labelling(five, checkpoint)
    assert long_kib <= 1.10 * short_kib, (short_kib // 1024, long_kib // 1024)


def test_large_buffers_are_kept_off_the_heap_on_glibc(monkeypatch):
    from actdesk.ml import device

    device.keep_large_buffers_off_the_heap.cache_clear()
    monkeypatch.setenv("MALLOC_MMAP_THRESHOLD_", "131072")
    assert device.keep_large_buffers_off_the_heap() is False  # the user's own setting wins
    device.keep_large_buffers_off_the_heap.cache_clear()
    monkeypatch.delenv("MALLOC_MMAP_THRESHOLD_")
    import platform
    expected = sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc"
    assert device.keep_large_buffers_off_the_heap() is expected

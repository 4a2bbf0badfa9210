"""The release archive: its name, its checksum file, packing and unpacking, and the smoke test's strictness."""

from __future__ import annotations

import json
import os
import re
import subprocess
import tarfile
from pathlib import Path

import pytest

import actdesk


def test_archive_name_has_version_and_platform(bundle):
    assert bundle.archive_name("0.1.0", "linux-x86_64") == "actdesk-0.1.0-linux-x86_64.tar.gz"
    assert re.fullmatch(r"(linux|windows|macos)-(x86_64|arm64|[a-z0-9_]+)", bundle.platform_tag())
    assert bundle.app_version() == actdesk.__version__


def test_checksum_file_is_sha256sum_format_and_verifies(bundle, tmp_path):
    archive = tmp_path / "actdesk-9.9-linux-x86_64.tar.gz"
    archive.write_bytes(b"not really an archive\n" * 1000)
    sums = bundle.write_sha256(archive)
    assert sums.name == archive.name + ".sha256"
    assert re.fullmatch(r"[0-9a-f]{64}  actdesk-9\.9-linux-x86_64\.tar\.gz\n", sums.read_text())
    checked = subprocess.run(["sha256sum", "-c", sums.name], cwd=tmp_path, capture_output=True, text=True)
    assert checked.returncode == 0 and checked.stdout.strip().endswith(": OK")
    bundle.verify_sha256(archive)


def test_verify_sha256_refuses_a_changed_missing_or_foreign_checksum(bundle, tmp_path):
    archive = tmp_path / "a.tar.gz"
    archive.write_bytes(b"payload")
    sums = bundle.write_sha256(archive)
    archive.write_bytes(b"pay1oad")
    with pytest.raises(bundle.PackagingError, match="does not match"):
        bundle.verify_sha256(archive)
    sums.write_text(sums.read_text().replace("a.tar.gz", "b.tar.gz"))
    with pytest.raises(bundle.PackagingError, match="is for 'b.tar.gz'"):
        bundle.verify_sha256(archive)
    sums.write_text("garbage\n")
    with pytest.raises(bundle.PackagingError, match="not a sha256sum line"):
        bundle.verify_sha256(archive)
    sums.unlink()
    with pytest.raises(bundle.PackagingError, match="missing"):
        bundle.verify_sha256(archive)


def _app_folder(root: Path) -> Path:
    app = root / "actdesk"
    (app / "_internal" / "lib").mkdir(parents=True)
    (app / "_internal" / "lib" / "libx.so.1").write_bytes(os.urandom(4096))
    os.symlink("libx.so.1", app / "_internal" / "lib" / "libx.so")
    exe = app / "actdesk"
    exe.write_text("#!/bin/sh\necho hi\n")
    exe.chmod(0o755)
    return app


def test_archive_round_trip_through_the_smoke_tests_unpack(bundle, build_script, smoke_script, tmp_path):
    app = _app_folder(tmp_path / "build")
    archive = build_script.make_archive(app, tmp_path / "dist" / "actdesk-9.9-linux-x86_64.tar.gz",
                                        "actdesk-9.9", compress_level=1)
    bundle.write_sha256(archive)
    assert sorted(p.name for p in archive.parent.iterdir()) == [archive.name, archive.name + ".sha256"]
    with tarfile.open(archive) as tar:
        assert {Path(n).parts[0] for n in tar.getnames()} == {"actdesk-9.9"}

    unpacked = smoke_script.unpack(archive, tmp_path / "out")
    assert unpacked == tmp_path / "out" / "actdesk-9.9"
    assert os.readlink(unpacked / "_internal" / "lib" / "libx.so") == "libx.so.1"
    assert (unpacked / "_internal" / "lib" / "libx.so.1").read_bytes() == \
        (app / "_internal" / "lib" / "libx.so.1").read_bytes()
    assert subprocess.run([unpacked / "actdesk"], capture_output=True, text=True).stdout == "hi\n"


def test_unpack_refuses_a_tampered_archive_or_several_top_folders(bundle, smoke_script, tmp_path):
    archive = tmp_path / "two.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        for name in ("a", "b"):
            (tmp_path / name).write_text(name)
            tar.add(tmp_path / name, arcname=name)
    bundle.write_sha256(archive)
    with pytest.raises(smoke_script.SmokeTestFailure, match="one top-level folder"):
        smoke_script.unpack(archive, tmp_path / "out")
    with open(archive, "ab") as f:
        f.write(b"\0")
    with pytest.raises(bundle.PackagingError, match="does not match"):
        smoke_script.unpack(archive, tmp_path / "out")


def _fake_app(folder: Path, script: str) -> Path:
    """A stand-in app folder whose ``actdesk`` is a shell script: to check the smoke test's own verdicts."""
    folder.mkdir()
    exe = folder / "actdesk"
    exe.write_text("#!/bin/sh\n" + script)
    exe.chmod(0o755)
    return folder


def test_frozen_app_runs_fail_on_stderr_or_exit_status_and_get_a_clean_environment(smoke_script, tmp_path,
                                                                                   monkeypatch):
    monkeypatch.setenv("PYTHONPATH", "/somewhere")
    monkeypatch.setenv("ACTDESK_RESOURCES", "/elsewhere")
    script = ('case "$1" in\n'
              '  env) echo "$PYTHONPATH|$ACTDESK_RESOURCES|$ACTDESK_HOME|$QT_QPA_PLATFORM" ;;\n'
              '  warn) echo fine; echo "QStandardPaths: warning" >&2 ;;\n'
              '  fail) exit 3 ;;\n'
              'esac\n')
    work = tmp_path / "work"
    work.mkdir()
    app = smoke_script.FrozenApp(_fake_app(tmp_path / "app", script), work)
    assert app.run("env", timeout_s=30).strip() == f"||{work / 'home'}|offscreen"
    with pytest.raises(smoke_script.SmokeTestFailure, match=r"(?s)exited 0 and wrote to stderr.*QStandardPaths"):
        app.run("warn", timeout_s=30)
    with pytest.raises(smoke_script.SmokeTestFailure, match="exited 3"):
        app.run("fail", timeout_s=30)


def test_info_check_fails_on_a_plugin_load_error_or_a_missing_model(bundle, smoke_script, tmp_path):
    models = [{"name": f"m{i}", "distribution": d.name, "status": "ok", "error": ""}
              for i, d in enumerate(bundle.builtin_plugin_distributions())]
    info = {"actdesk": bundle.app_version(), "frozen": True, "torch": {"version": "x"}, "torchvision": "x",
            "pyav": {"version": "x"}, "pyside6": "x",
            "plugins": {"models": models, "plugins": [],
                        "load_errors": [{"plugin": "bad", "error": "ImportError: no module named foo"}]}}
    (tmp_path / "info.json").write_text(json.dumps(info))
    app_dir = _fake_app(tmp_path / "app", f'[ "$2" = --json ] && cat "{tmp_path / "info.json"}" || echo text\n')
    work = tmp_path / "work"
    work.mkdir()
    app = smoke_script.FrozenApp(app_dir, work)
    with pytest.raises(smoke_script.SmokeTestFailure) as caught:
        smoke_script.check_info(app, {"smoke-net": "actdesk-smoke-net"})
    assert "load error: plugin 'bad': ImportError" in str(caught.value)
    assert "model 'smoke-net' (actdesk-smoke-net) is not listed" in str(caught.value)

    info["plugins"]["load_errors"] = []
    info["plugins"]["models"].append({"name": "smoke-net", "distribution": "actdesk-smoke-net", "status": "ok",
                                      "error": ""})
    (tmp_path / "info.json").write_text(json.dumps(info))
    assert smoke_script.check_info(app, {"smoke-net": "actdesk-smoke-net"}) == info

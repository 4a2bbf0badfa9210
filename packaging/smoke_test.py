"""Check a packaged actdesk: the frozen app starts, labels, edits, saves, and takes a third-party plugin.

    python packaging/smoke_test.py [ARCHIVE.tar.gz | APP_FOLDER]

Without an argument it tests this version's archive in dist/ (``make package``
made it). An archive is checked against its ``.sha256`` and unpacked into a
temporary folder first, so what is tested is what users download. Every command
of the frozen app must exit 0 and write nothing to stderr. The steps:

1. ``actdesk --info`` (text and ``--json``): this version, frozen, torch,
   torchvision, PyAV and Qt import, every built-in model is there and ok, no
   plugin failed to load.
2. ``actdesk --smoke-test``: offscreen window, generated clip, the bundled model
   to completion in the background worker, an edit, undo, save.
3. A third-party plugin: scaffolded by ``actdesk plugins new`` from the source
   tree and built into a wheel with pip, installed by the FROZEN ``actdesk
   plugins install`` (``ACTDESK_HOME`` in a temporary folder), seen in
   ``--info``, trained for one tiny epoch and run by the frozen ``actdesk
   train`` and ``actdesk label`` on a small synthetic clip.

The frozen app runs with a clean environment: no ``PYTHON*`` variables, no
``ACTDESK_*`` but ``ACTDESK_HOME``, offscreen Qt, and its own runtime folder,
as in a desktop session.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

import bundle

from actdesk.errors import ActdeskError

PLUGIN_MODEL = "smoke-net"
PLUGIN_DISTRIBUTION = f"actdesk-{PLUGIN_MODEL}"


class SmokeTestFailure(Exception):
    """A step failed; the message holds the command and what it printed."""


class FrozenApp:
    """Runs commands of the unpacked app in a clean environment, failing on exit status or stderr."""

    def __init__(self, folder: Path, work: Path):
        self.executable = folder / ("actdesk.exe" if sys.platform == "win32" else "actdesk")
        if not self.executable.is_file():
            raise SmokeTestFailure(f"{self.executable}: no actdesk executable in {folder}")
        self.work = work
        runtime = work / "runtime"
        runtime.mkdir(mode=0o700)
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "ACTDESK_", "VIRTUAL_ENV"))}
        self.env.update(ACTDESK_HOME=str(work / "home"), QT_QPA_PLATFORM="offscreen", XDG_RUNTIME_DIR=str(runtime))

    def run(self, *args: str, timeout_s: float) -> str:
        """Run ``actdesk ARGS`` in the work folder; returns its stdout."""
        command = [str(self.executable), *args]
        started = time.perf_counter()
        try:
            done = subprocess.run(command, cwd=self.work, env=self.env, capture_output=True, text=True,
                                  timeout=timeout_s, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired as e:
            raise SmokeTestFailure(f"`actdesk {' '.join(args)}` did not finish within {timeout_s:.0f} s\n"
                                   f"stdout:\n{_text(e.stdout)}\nstderr:\n{_text(e.stderr)}") from None
        if done.returncode != 0 or done.stderr:
            raise SmokeTestFailure(f"`actdesk {' '.join(args)}` exited {done.returncode}"
                                   f"{' and wrote to stderr' if done.stderr else ''}\n"
                                   f"stdout:\n{done.stdout[-4000:]}\nstderr:\n{done.stderr[-8000:]}")
        print(f"ok  actdesk {' '.join(args)}  ({time.perf_counter() - started:.1f} s)", flush=True)
        return done.stdout


def _text(output: bytes | str | None) -> str:
    if isinstance(output, bytes):
        return output.decode(errors="replace")[-4000:]
    return (output or "")[-4000:]


def unpack(archive: Path, into: Path) -> Path:
    """Check ``archive`` against its checksum, unpack it into ``into``; returns the app folder."""
    bundle.verify_sha256(archive)
    with tarfile.open(archive) as tar:
        tops = {Path(name).parts[0] for name in tar.getnames()}
        if len(tops) != 1:
            raise SmokeTestFailure(f"{archive}: expected one top-level folder, found {sorted(tops)}")
        tar.extractall(into, filter="tar")
    return into / tops.pop()


def check_info(app: FrozenApp, extra_models: dict[str, str] | None = None) -> dict:
    """``--info`` and ``--info --json`` report a sound app; returns the JSON.

    :param extra_models: model name -> distribution that must be listed too.
    """
    text = app.run("--info", timeout_s=300)
    print("    " + text.rstrip().replace("\n", "\n    "))
    info = json.loads(app.run("--info", "--json", timeout_s=300))
    problems = []
    if info.get("actdesk") != bundle.app_version():
        problems.append(f"version {info.get('actdesk')!r}, expected {bundle.app_version()!r}")
    if info.get("frozen") is not True:
        problems.append("not reported as frozen: is this the packaged app?")
    for library in ("torch", "torchvision", "pyav", "pyside6"):
        value = info.get(library)
        if isinstance(value, dict) and "error" in value:
            problems.append(f"{library}: {value['error']}")
    plugins = info.get("plugins", {})
    if "error" in plugins and "models" not in plugins:
        problems.append(f"plugins: {plugins['error']}")
    models = {m["name"]: m for m in plugins.get("models", [])}
    serving = {m["distribution"] for m in models.values()}
    for dist in bundle.builtin_plugin_distributions():
        if dist.name not in serving:
            problems.append(f"no model from the built-in plugin {dist.name}")
    for name, distribution in (extra_models or {}).items():
        model = models.get(name)
        if model is None:
            problems.append(f"model {name!r} ({distribution}) is not listed")
        elif model["distribution"] != distribution:
            problems.append(f"model {name!r} comes from {model['distribution']!r}, expected {distribution!r}")
    problems += [f"model {m['name']}: {m['error']}" for m in models.values() if m["status"] != "ok"]
    problems += [f"load error: plugin {e['plugin']!r}: {e['error']}" for e in plugins.get("load_errors", [])]
    if problems:
        raise SmokeTestFailure("actdesk --info reports problems:\n  " + "\n  ".join(problems))
    return info


def check_third_party_plugin(app: FrozenApp) -> None:
    """Scaffold, build, install with the frozen app, list, train and run a plugin model."""
    from actdesk.formats.segments_csv import read_segments_csv
    from actdesk.plugins.install import build_wheel
    from actdesk.plugins.scaffold import scaffold_plugin

    source = scaffold_plugin(PLUGIN_MODEL, app.work / "plugin-src")
    wheel = build_wheel(source, app.work / "wheels")
    print(f"ok  built {wheel.name} from `actdesk plugins new {PLUGIN_MODEL}`", flush=True)
    app.run("plugins", "install", str(wheel), timeout_s=300)
    check_info(app, {PLUGIN_MODEL: PLUGIN_DISTRIBUTION})
    app.run("synth", "clip.mp4", "--seconds", "3", "--seed", "10001", "--size", "96x72", "--truth", "truth.csv",
            "--quiet", timeout_s=300)
    app.run("train", "--synthetic", "--model", PLUGIN_MODEL, "--videos", "1", "--val-videos", "1", "--seconds", "4",
            "--epochs", "1", "--clips", "32", "--batch", "8", "--device", "cpu", "--cache", "synth-cache",
            "--out", "plugin.safetensors", "--quiet", timeout_s=600)
    out = app.run("label", "clip.mp4", "--model", PLUGIN_MODEL, "--checkpoint", "plugin.safetensors",
                  "--out", "pred.csv", "--device", "cpu", "--quiet", timeout_s=300)
    segments = read_segments_csv(app.work / "pred.csv")
    if not segments or PLUGIN_MODEL not in out:
        raise SmokeTestFailure(f"`actdesk label --model {PLUGIN_MODEL}` wrote {len(segments)} segments; "
                               f"it said: {out.strip()}")
    print(f"    {out.strip()}")


def default_archive() -> Path:
    return bundle.ROOT / "dist" / bundle.archive_name(bundle.app_version(), bundle.platform_tag())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("target", nargs="?", type=Path, default=None,
                        help="the archive (.tar.gz) or an unpacked app folder (default: this version's "
                             "archive in dist/)")
    args = parser.parse_args(argv)
    target = args.target or default_archive()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="actdesk-smoke-") as tmp:
        tmp_path = Path(tmp)
        try:
            if target.is_dir():
                folder = target
            elif target.is_file():
                folder = unpack(target, tmp_path / "unpacked")
                print(f"ok  {target.name}: checksum matches, unpacked", flush=True)
            else:
                raise SmokeTestFailure(f"{target}: no such archive or folder (build it with `make package`)")
            work = tmp_path / "work"
            work.mkdir()
            app = FrozenApp(folder, work)
            check_info(app)
            app.run("--smoke-test", timeout_s=900)
            check_third_party_plugin(app)
        except (SmokeTestFailure, bundle.PackagingError, ActdeskError) as e:
            print(f"smoke_test.py: FAILED: {e}", file=sys.stderr)
            return 1
    print(f"smoke test passed in {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())

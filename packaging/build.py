"""``make package``: build the actdesk one-folder app, archive it, and write the archive's checksum.

    python packaging/build.py [--dist DIR] [--work DIR] [--compress-level N]

PyInstaller builds ``packaging/actdesk.spec`` into ``<work>/dist/actdesk/``; the
folder is then packed as ``<dist>/actdesk-<version>-<platform>.tar.gz`` (one
top-level folder ``actdesk-<version>/``) with ``<archive>.sha256`` beside it. The
build runs in the Python environment that runs this script: the torch build
installed there (CPU-only or CUDA) is the one that ships (see README.md).
"""

from __future__ import annotations

import argparse
import importlib.metadata
import importlib.util
import os
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import bundle

SPEC = bundle.PACKAGING / "actdesk.spec"


def check_prerequisites() -> None:
    """Fail early, with the fix in the message, on what would break the build or the app.

    :raises bundle.PackagingError: PyInstaller missing, a built-in plugin not
        installed (its metadata would be missing), or no bundled checkpoint.
    """
    if importlib.util.find_spec("PyInstaller") is None:
        raise bundle.PackagingError("PyInstaller is not installed here: pip install -e '.[package]' "
                                    "(or run `make package`)")
    for plugin in bundle.builtin_plugin_distributions():
        try:
            importlib.metadata.distribution(plugin.name)
        except importlib.metadata.PackageNotFoundError:
            raise bundle.PackagingError(f"the built-in plugin {plugin.name} is not installed: "
                                        f"pip install -e {plugin.source} (or run `make setup`)") from None
    from actdesk.paths import bundled_checkpoint

    checkpoint = bundle.RESOURCES / "models" / bundled_checkpoint().name
    if not checkpoint.is_file():
        raise bundle.PackagingError(f"{checkpoint}: the bundled model is missing; make it with `make model`")


def run_pyinstaller(work: Path) -> Path:
    """Build the spec into ``<work>/dist/actdesk``; returns that folder."""
    command = [sys.executable, "-m", "PyInstaller", "--noconfirm", "--log-level", "WARN",
               "--distpath", str(work / "dist"), "--workpath", str(work / "build"), str(SPEC)]
    work.mkdir(parents=True, exist_ok=True)
    # Run from the work folder: the repository root holds a `packaging/` folder that is not PyPA's packaging.
    done = subprocess.run(command, cwd=work, check=False)
    if done.returncode != 0:
        raise bundle.PackagingError(f"PyInstaller failed (exit {done.returncode}); its log is above")
    app = work / "dist" / "actdesk"
    if not (app / executable_name()).is_file():
        raise bundle.PackagingError(f"{app}: PyInstaller finished but left no {executable_name()} there")
    return app


def add_desktop_installer(app: Path) -> None:
    """Put ``install-desktop.sh`` at the top of a Linux app folder, where users find it after unpacking.

    It locates ``_internal/resources`` and the ``actdesk`` executable beside itself.
    """
    if sys.platform.startswith("linux"):
        shutil.copy2(bundle.PACKAGING / "install-desktop.sh", app / "install-desktop.sh")


def executable_name() -> str:
    return "actdesk.exe" if sys.platform == "win32" else "actdesk"


def make_archive(app: Path, out: Path, top: str, compress_level: int) -> Path:
    """Pack the folder ``app`` as ``out`` (a .tar.gz) under the top-level folder ``top``.

    The archive is written under a temporary name and renamed when complete, so
    a half-written file never carries the final name.
    """
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    with tarfile.open(partial, "w:gz", compresslevel=compress_level) as tar:
        tar.add(app, arcname=top)
    os.replace(partial, out)
    return out


def folder_size(folder: Path) -> tuple[int, int]:
    """Bytes and number of files under ``folder`` (links not followed)."""
    total = count = 0
    for path in folder.rglob("*"):
        if path.is_file() and not path.is_symlink():
            total += path.stat().st_size
            count += 1
    return total, count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dist", type=Path, default=bundle.ROOT / "dist", help="where the archive goes")
    parser.add_argument("--work", type=Path, default=bundle.ROOT / "build" / "pyinstaller",
                        help="PyInstaller's work and output folders (kept: a rebuild reuses its cache)")
    # Level 1: on torch's and CUDA's libraries higher levels shrink the archive by ~3 % at twice the time.
    parser.add_argument("--compress-level", type=int, default=1, choices=range(1, 10), metavar="1-9",
                        help="gzip level of the archive (default 1)")
    args = parser.parse_args(argv)
    try:
        check_prerequisites()
        version, tag = bundle.app_version(), bundle.platform_tag()
        started = time.perf_counter()
        app = run_pyinstaller(args.work.resolve())
        add_desktop_installer(app)
        built = time.perf_counter()
        archive = make_archive(app, args.dist.resolve() / bundle.archive_name(version, tag),
                               f"actdesk-{version}", args.compress_level)
        sums = bundle.write_sha256(archive)
        done = time.perf_counter()
    except bundle.PackagingError as e:
        print(f"build.py: error: {e}", file=sys.stderr)
        return 2
    size, files = folder_size(app)
    print(f"app folder: {app} ({size / 2**20:.0f} MiB in {files} files)")
    print(f"archive:    {archive} ({archive.stat().st_size / 2**20:.0f} MiB)")
    print(f"checksum:   {sums}")
    print(f"time:       {done - started:.0f} s (PyInstaller {built - started:.0f} s, "
          f"archive and checksum {done - built:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Installing plugin packages into the per-user plugin folder.

The folder (``actdesk.paths.user_plugins_dir()``) holds one sub-folder per
distribution, each an unpacked wheel (packages plus ``*.dist-info``). The plugin
manager puts every sub-folder on ``sys.path`` and reads its entry points, so
this works where the app is not a pip environment (the packaged build). A
package is checked before anything is written: it must declare an ``actdesk``
entry point and accept this app's version.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from actdesk import __version__
from actdesk.errors import PluginError
from actdesk.plugins.manager import ENTRY_POINT_GROUP

APP_DISTRIBUTION = "actdesk"
_REQUIREMENT = re.compile(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*\(?([^;)]*)\)?\s*(?:;(.*))?$")
_SPECIFIER = re.compile(r"\s*(===|~=|==|!=|<=|>=|<|>)\s*([^\s,]+)\s*$")


@dataclass(frozen=True)
class InstalledPlugin:
    """A distribution in the per-user plugin folder."""

    distribution: str
    version: str
    path: Path
    entry_points: tuple[str, ...]
    """``name = module`` for each entry point of the ``actdesk`` group."""


def normalize_name(name: str) -> str:
    """A distribution name as pip compares them (PEP 503): lower case, runs of ``-_.`` as one dash."""
    return re.sub(r"[-_.]+", "-", name).lower()


def install_plugin(source: Path, *, plugins_dir: Path | None = None) -> InstalledPlugin:
    """Install a plugin wheel, or a source folder built into one, into the per-user plugin folder.

    An installed distribution of the same name is replaced. The plugin's own
    dependencies are not installed: the app provides torch, torchvision and numpy.

    :raises PluginError: the file is not a wheel, declares no ``actdesk`` entry
        point, needs a newer actdesk, or the folder cannot be built; nothing is
        left in the plugin folder then.
    """
    source = Path(source)
    plugins_dir = _plugins_dir(plugins_dir)
    if source.is_dir():
        with tempfile.TemporaryDirectory(prefix="actdesk-wheel-") as out:
            return _install_wheel(build_wheel(source, Path(out)), plugins_dir)
    if not source.is_file():
        raise PluginError(source.name, f"{source}: no such file or folder")
    return _install_wheel(source, plugins_dir)


def uninstall_plugin(name: str, *, plugins_dir: Path | None = None) -> InstalledPlugin:
    """Remove the distribution ``name`` (as ``actdesk plugins`` lists it) from the per-user folder.

    :raises PluginError: when it is not installed there (the message lists what is).
    """
    plugins_dir = _plugins_dir(plugins_dir)
    for plugin in installed_plugins(plugins_dir):
        if normalize_name(plugin.distribution) == normalize_name(name):
            shutil.rmtree(plugin.path)
            return plugin
    names = ", ".join(p.distribution for p in installed_plugins(plugins_dir)) or "(none)"
    raise PluginError(name, f"is not installed in {plugins_dir}; installed there: {names}")


def installed_plugins(plugins_dir: Path | None = None) -> list[InstalledPlugin]:
    """The distributions in the per-user plugin folder, sorted by name."""
    plugins_dir = _plugins_dir(plugins_dir)
    if not plugins_dir.is_dir():
        return []
    found = []
    for folder in sorted(p for p in plugins_dir.iterdir() if p.is_dir() and not p.name.startswith(".")):
        for dist in importlib.metadata.distributions(path=[str(folder)]):
            if dist.name:  # a METADATA without a name is no distribution
                found.append(InstalledPlugin(dist.name, dist.version, folder, _actdesk_entry_points(dist)))
    return found


def build_wheel(source_dir: Path, out_dir: Path) -> Path:
    """Build a wheel of the package in ``source_dir`` with pip (no network, no dependencies).

    :raises PluginError: where pip is unavailable (the packaged app accepts
        wheels only) or the build fails (the message carries pip's output).
    """
    if not (source_dir / "pyproject.toml").is_file() and not (source_dir / "setup.py").is_file():
        raise PluginError(source_dir.name, f"{source_dir} has no pyproject.toml or setup.py, so it is not "
                                           "a Python package")
    if getattr(sys, "frozen", False) or importlib.util.find_spec("pip") is None:
        raise PluginError(source_dir.name, "this actdesk cannot build packages (no pip): install a wheel "
                                           "(.whl) instead, made with `python -m pip wheel --no-deps "
                                           f"{source_dir}` where pip is available")
    command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
               "--disable-pip-version-check", "-q", "-w", str(out_dir), str(source_dir)]
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=600)
    except subprocess.TimeoutExpired:
        raise PluginError(source_dir.name, f"building a wheel of {source_dir} took over 10 minutes; "
                                           "stopped") from None
    wheels = sorted(out_dir.glob("*.whl"))
    if result.returncode != 0 or len(wheels) != 1:
        output = "\n".join((result.stdout + result.stderr).strip().splitlines()[-20:])
        raise PluginError(source_dir.name, f"building a wheel of {source_dir} failed:\n{output}")
    return wheels[0]


def _plugins_dir(plugins_dir: Path | None) -> Path:
    if plugins_dir is not None:
        return plugins_dir
    from actdesk.paths import user_plugins_dir

    return user_plugins_dir()


def _install_wheel(wheel: Path, plugins_dir: Path) -> InstalledPlugin:
    label = wheel.name
    if wheel.suffix != ".whl":
        raise PluginError(label, f"{wheel} is not a wheel (.whl) or a package folder")
    try:
        archive = zipfile.ZipFile(wheel)
    except (zipfile.BadZipFile, OSError) as e:
        raise PluginError(label, f"{wheel} is not a readable wheel: {e}") from None
    with archive:
        dist = _wheel_distribution(archive, wheel)
        label, version = dist.name, dist.version
        entry_points = _actdesk_entry_points(dist)
        if not entry_points:
            raise PluginError(label, f"{wheel.name} declares no entry point in the {ENTRY_POINT_GROUP!r} group "
                                     f"([project.entry-points.{ENTRY_POINT_GROUP}] in pyproject.toml), so it "
                                     "is not an actdesk plugin; nothing installed")
        _check_app_version(label, dist.requires or [])
        members = _checked_members(archive, wheel, label)
        plugins_dir.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".installing-", dir=plugins_dir))
        try:
            _extract(archive, members, staging)
            target = plugins_dir / normalize_name(label)
            if target.exists():
                shutil.rmtree(target)
            os.replace(staging, target)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    return InstalledPlugin(label, version, target, entry_points)


def _wheel_distribution(archive: zipfile.ZipFile, wheel: Path) -> importlib.metadata.Distribution:
    infos = {PurePosixPath(n).parts[0] for n in archive.namelist()
             if n.endswith("/METADATA") and len(PurePosixPath(n).parts) == 2
             and PurePosixPath(n).parts[0].endswith(".dist-info")}
    if len(infos) != 1:
        raise PluginError(wheel.name, f"{wheel} is not a wheel: expected one *.dist-info/METADATA, "
                                      f"found {len(infos)}")
    dist = importlib.metadata.PathDistribution(zipfile.Path(archive, next(iter(infos)) + "/"))
    if not dist.name or not dist.version:
        raise PluginError(wheel.name, f"{wheel}: METADATA lacks Name or Version")
    return dist


def _actdesk_entry_points(dist: importlib.metadata.Distribution) -> tuple[str, ...]:
    return tuple(f"{ep.name} = {ep.value}" for ep in dist.entry_points.select(group=ENTRY_POINT_GROUP))


def _check_app_version(plugin: str, requirements: list[str]) -> None:
    """Refuse a plugin whose ``Requires-Dist: actdesk...`` this app's version does not meet."""
    for requirement in requirements:
        match = _REQUIREMENT.match(requirement)
        if not match or normalize_name(match.group(1)) != APP_DISTRIBUTION or "extra" in (match.group(3) or ""):
            continue
        specifiers = [s for s in match.group(2).split(",") if s.strip()]
        if not all(_version_matches(__version__, s) for s in specifiers):
            raise PluginError(plugin, f"needs actdesk{match.group(2).replace(' ', '')} but this is actdesk "
                                      f"{__version__}; update actdesk first; nothing installed")


def _version_matches(version: str, specifier: str) -> bool:
    """Whether ``version`` satisfies one PEP 440 specifier (release numbers only, enough for app versions)."""
    match = _SPECIFIER.match(specifier)
    if not match:
        return True  # not a version specifier we understand; let the plugin's import decide
    op, wanted = match.groups()
    if wanted.endswith(".*"):
        prefix = _release(wanted[:-2])
        same = _release(version)[:len(prefix)] == prefix
        return same if op == "==" else not same if op == "!=" else True
    have, want = _padded(_release(version), _release(wanted))
    if op == "~=":
        prefix = _release(wanted)[:-1]
        return have >= want and _release(version)[:len(prefix)] == prefix
    return {"==": have == want, "===": version == wanted, "!=": have != want, "<=": have <= want,
            ">=": have >= want, "<": have < want, ">": have > want}[op]


def _release(version: str) -> tuple[int, ...]:
    match = re.match(r"v?(\d+(?:\.\d+)*)", version.strip())
    return tuple(int(p) for p in match.group(1).split(".")) if match else ()


def _padded(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[tuple[int, ...], tuple[int, ...]]:
    width = max(len(a), len(b))
    return a + (0,) * (width - len(a)), b + (0,) * (width - len(b))


def _checked_members(archive: zipfile.ZipFile, wheel: Path, plugin: str) -> list[tuple[zipfile.ZipInfo, PurePosixPath]]:
    """Each file with where it goes: ``*.data/purelib|platlib`` at the top, other ``*.data`` skipped.

    :raises PluginError: for a path that would land outside the target folder.
    """
    members = []
    for info in archive.infolist():
        path = PurePosixPath(info.filename)
        if path.is_absolute() or ".." in path.parts or "\\" in info.filename or ":" in path.parts[0]:
            raise PluginError(plugin, f"{wheel.name} contains the unsafe path {info.filename!r}; nothing installed")
        if info.is_dir():
            continue
        if path.parts[0].endswith(".data"):
            if len(path.parts) < 3 or path.parts[1] not in ("purelib", "platlib"):
                continue  # scripts, headers and data files have no place in a plugin folder
            path = PurePosixPath(*path.parts[2:])
        members.append((info, path))
    return members


def _extract(archive: zipfile.ZipFile, members: list[tuple[zipfile.ZipInfo, PurePosixPath]], target: Path) -> None:
    for info, path in members:
        out = target.joinpath(*path.parts)
        out.parent.mkdir(parents=True, exist_ok=True)
        with archive.open(info) as src, open(out, "wb") as dst:
            shutil.copyfileobj(src, dst)

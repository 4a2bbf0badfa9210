"""Linux desktop integration: the desktop entry, the MIME type of projects, the icons, and their installer."""

from __future__ import annotations

import os
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
RESOURCES = ROOT / "resources"
DESKTOP = RESOURCES / "actdesk.desktop"
MIME = RESOURCES / "mime" / "actdesk.xml"
ICONS = RESOURCES / "icons" / "hicolor"
INSTALLER = ROOT / "packaging" / "install-desktop.sh"
MIME_NS = "{http://www.freedesktop.org/standards/shared-mime-info}"
XDG_TOOLS = ("xdg-desktop-menu", "xdg-icon-resource", "xdg-mime")


def desktop_entry(path: Path) -> dict[str, str]:
    """The ``[Desktop Entry]`` group of a desktop file (keys must be unique: that is checked here too)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "[Desktop Entry]"
    entry: dict[str, str] = {}
    for line in lines[1:]:
        if not line or line.startswith("#"):
            continue
        key, _, value = line.partition("=")
        assert key not in entry, f"{path}: {key} appears twice"
        entry[key] = value
    return entry


def exec_program(value: str) -> str:
    """The program of an ``Exec`` value, unescaped as the Desktop Entry spec says."""
    value = value.replace("\\\\", "\\")  # the string-level escape first
    if not value.startswith('"'):
        return value.split(" ")[0]
    out, i = [], 1
    while value[i] != '"':
        if value[i] == "\\":
            i += 1
        out.append(value[i])
        i += 1
    return "".join(out).replace("%%", "%")


def validate_desktop_file(path: Path) -> None:
    """``desktop-file-validate`` (Debian's desktop-file-utils) where installed: no error, no warning."""
    tool = shutil.which("desktop-file-validate")
    if tool is not None:
        done = subprocess.run([tool, str(path)], capture_output=True, text=True)
        assert done.returncode == 0 and done.stdout == "" and done.stderr == "", done.stdout + done.stderr


def test_desktop_file_is_valid_and_names_the_icon_and_the_project_type():
    entry = desktop_entry(DESKTOP)
    assert entry["Type"] == "Application" and entry["Name"] == "actdesk"
    assert entry["Exec"] == "actdesk %f"  # the installer replaces the program with an absolute path
    assert (ICONS / "scalable" / "apps" / f"{entry['Icon']}.svg").is_file()
    assert "application/x-actdesk" in entry["MimeType"].split(";")
    assert entry["Categories"].endswith(";") and entry["MimeType"].endswith(";")
    validate_desktop_file(DESKTOP)


def test_mime_type_matches_actdesk_project_files():
    root = ET.parse(MIME).getroot()
    assert root.tag == f"{MIME_NS}mime-info"
    (mime_type,) = root.findall(f"{MIME_NS}mime-type")
    assert mime_type.get("type") == "application/x-actdesk"
    assert [g.get("pattern") for g in mime_type.findall(f"{MIME_NS}glob")] == ["*.actdesk"]
    assert mime_type.find(f"{MIME_NS}sub-class-of").get("type") == "application/vnd.sqlite3"
    assert mime_type.find(f"{MIME_NS}comment").text


def test_icons_exist_in_every_size_they_claim():
    sizes = sorted(int(d.name.split("x")[0]) for d in ICONS.glob("*x*"))
    assert sizes == [16, 24, 32, 48, 64, 128, 256, 512]
    for size in sizes:
        with Image.open(ICONS / f"{size}x{size}" / "apps" / "actdesk.png") as image:
            assert image.size == (size, size) and image.mode == "RGBA"
    svg = ET.parse(ICONS / "scalable" / "apps" / "actdesk.svg").getroot()
    assert svg.tag == "{http://www.w3.org/2000/svg}svg" and svg.get("viewBox") == "0 0 256 256"


def _path_without_xdg_utils(tmp_path: Path) -> str:
    """A PATH holding the tools the installer uses, but not xdg-utils: its own-copy branch runs."""
    bin_dir = tmp_path / "bin-no-xdg"
    bin_dir.mkdir()
    for tool in ("dirname", "basename", "mktemp", "rm", "install", "update-mime-database",
                 "update-desktop-database", "gtk-update-icon-cache"):
        found = shutil.which(tool)
        if found:
            (bin_dir / tool).symlink_to(found)
    return str(bin_dir)


@pytest.mark.parametrize("with_xdg_utils", [True, False], ids=["xdg-utils-if-installed", "without-xdg-utils"])
def test_installer_installs_entry_icons_and_mime_type_then_removes_them(tmp_path, with_xdg_utils):
    home, prefix = tmp_path / "home", tmp_path / "share"
    home.mkdir()
    program = tmp_path / "my apps" / 'act"desk `$1` \\ 100%'  # every character the Exec quoting must escape
    program.parent.mkdir()
    program.write_text("#!/bin/sh\n")
    program.chmod(0o755)
    env = {"HOME": str(home), "PATH": os.environ["PATH"] if with_xdg_utils else _path_without_xdg_utils(tmp_path)}

    def installer(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([shutil.which("bash"), str(INSTALLER), "--prefix", str(prefix), *args], env=env,
                              capture_output=True, text=True, timeout=120)

    done = installer("--exec", str(program))
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stderr == ""
    installed = prefix / "applications" / "actdesk.desktop"
    entry = desktop_entry(installed)
    assert exec_program(entry["Exec"]) == str(program) and entry["Exec"].endswith(" %f")
    assert {k: v for k, v in entry.items() if k != "Exec"} == \
        {k: v for k, v in desktop_entry(DESKTOP).items() if k != "Exec"}
    validate_desktop_file(installed)
    icons = [prefix / "icons" / "hicolor" / f"{s}x{s}" / "apps" / "actdesk.png" for s in (16, 48, 256, 512)]
    assert all(icon.is_file() for icon in icons)
    assert (prefix / "icons" / "hicolor" / "scalable" / "apps" / "actdesk.svg").is_file()
    assert (prefix / "mime" / "packages" / "actdesk.xml").read_bytes() == MIME.read_bytes()
    if shutil.which("update-mime-database", path=env["PATH"]):  # the MIME database knows *.actdesk
        assert "application/x-actdesk:*.actdesk" in (prefix / "mime" / "globs2").read_text()

    done = installer("--uninstall")
    assert done.returncode == 0 and done.stderr == "", done.stdout + done.stderr
    assert not installed.exists() and not any(icon.exists() for icon in icons)
    assert not (prefix / "mime" / "packages" / "actdesk.xml").exists()


def test_installer_refuses_a_missing_executable(tmp_path):
    done = subprocess.run(["bash", str(INSTALLER), "--prefix", str(tmp_path), "--exec", str(tmp_path / "nope")],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert f"{tmp_path / 'nope'} is not an executable" in done.stderr
    assert not (tmp_path / "applications").exists()

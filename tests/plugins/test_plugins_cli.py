"""`actdesk plugins` (list, --json, new, install, uninstall) and `actdesk --info`."""

from __future__ import annotations

import argparse
import json

import pytest

from actdesk import __version__
from actdesk.cli import plugins_cmd
from actdesk.diagnostics import print_diagnostics
from actdesk.errors import PluginError


def actdesk_plugins(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="actdesk")
    plugins_cmd.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["plugins", *argv])
    return args.func(args)


@pytest.fixture
def user_plugins(user_plugins_dir, make_distribution, test_plugin_source):
    """A working and a broken plugin in the per-user folder."""
    make_distribution(user_plugins_dir, "actdesk-cligood", version="1.2",
                      modules={"actdesk_cligood": test_plugin_source("actdesk_testplugin_good")},
                      entry_points={"cligood": "actdesk_cligood"})
    make_distribution(user_plugins_dir, "actdesk-clibroken", version="0.3",
                      modules={"actdesk_clibroken": test_plugin_source("actdesk_testplugin_import_error")},
                      entry_points={"clibroken": "actdesk_clibroken"})
    return user_plugins_dir


@pytest.mark.parametrize("argv", [("--json",), ("list", "--json")])
def test_json_lists_models_plugins_and_load_errors(user_plugins, capsys, argv):
    assert actdesk_plugins(*argv) == 0
    report = json.loads(capsys.readouterr().out)
    [model] = [m for m in report["models"] if m["name"] == "test-good"]
    assert model == {"name": "test-good", "title": "Test: tiny 3D CNN", "plugin": "cligood",
                     "distribution": "actdesk-cligood", "version": "1.2", "status": "ok", "error": ""}
    [error] = [e for e in report["load_errors"] if e["plugin"] == "clibroken"]
    assert (error["distribution"], error["version"]) == ("actdesk-clibroken", "0.3")
    assert error["error"] == "ModuleNotFoundError: No module named 'actdesk_no_such_dependency'"
    assert "Traceback" in error["traceback"]
    plugins = {p["name"]: p for p in report["plugins"]}
    assert plugins["cligood"]["models"] == ["test-good"] and plugins["cligood"]["formats"] == []
    assert plugins["clibroken"]["status"] == "error"
    assert report["user_plugins_dir"] == str(user_plugins)


def test_text_list_shows_models_formats_disabled_plugins_and_load_errors(user_plugins, capsys, monkeypatch,
                                                                          make_distribution, test_plugin_source):
    make_distribution(user_plugins, "actdesk-cliquiet", modules={"actdesk_cliquiet": ""},
                      entry_points={"cliquiet": "actdesk_cliquiet"})
    make_distribution(user_plugins, "actdesk-cliformat",
                      modules={"actdesk_cliformat": test_plugin_source("actdesk_testplugin_formats")},
                      entry_points={"cliformat": "actdesk_cliformat"})
    monkeypatch.setenv("ACTDESK_DISABLE_PLUGINS", "cliquiet")
    assert actdesk_plugins() == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].split() == ["NAME", "PLUGIN", "DISTRIBUTION", "VERSION", "STATUS"]
    assert ["test-good", "cligood", "actdesk-cligood", "1.2", "ok"] in [line.split() for line in lines]
    assert "formats from plugins: test-lines (cliformat), csv (cliformat)" in out
    assert "disabled (ACTDESK_DISABLE_PLUGINS): cliquiet" in out
    assert ("  clibroken (actdesk-clibroken 0.3): ModuleNotFoundError: No module named "
            "'actdesk_no_such_dependency'") in lines
    assert f"user plugin folder: {user_plugins}" in out


def test_new_install_list_uninstall_round_trip(tmp_path, capsys, user_plugins_dir):
    assert actdesk_plugins("new", "cli-net", "--dir", str(tmp_path)) == 0
    package = tmp_path / "actdesk-cli-net"
    assert f"created {package}" in capsys.readouterr().out

    assert actdesk_plugins("install", str(package)) == 0
    out = capsys.readouterr().out
    assert f"installed actdesk-cli-net 0.1.0 into {user_plugins_dir / 'actdesk-cli-net'}" in out
    assert "plugin cli-net: models cli-net" in out

    assert actdesk_plugins("list", "--json") == 0
    report = json.loads(capsys.readouterr().out)
    assert [m["distribution"] for m in report["models"] if m["name"] == "cli-net"] == ["actdesk-cli-net"]

    assert actdesk_plugins("uninstall", "actdesk-cli-net") == 0
    assert "removed actdesk-cli-net 0.1.0" in capsys.readouterr().out
    assert list(user_plugins_dir.iterdir()) == []


def test_install_warns_when_the_plugin_does_not_load(tmp_path, capsys, test_plugin_source):
    import zipfile

    wheel = tmp_path / "actdesk_cliwarn-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr("actdesk_cliwarn.py", test_plugin_source("actdesk_testplugin_import_error"))
        archive.writestr("actdesk_cliwarn-1.0.dist-info/METADATA",
                         "Metadata-Version: 2.1\nName: actdesk-cliwarn\nVersion: 1.0\n")
        archive.writestr("actdesk_cliwarn-1.0.dist-info/entry_points.txt", "[actdesk]\ncliwarn = actdesk_cliwarn\n")
    assert actdesk_plugins("install", str(wheel)) == 0
    assert ("warning: plugin cliwarn does not load: ModuleNotFoundError: No module named "
            "'actdesk_no_such_dependency'") in capsys.readouterr().out


def test_new_refuses_bad_names_and_existing_folders(tmp_path):
    with pytest.raises(PluginError, match="lower-case letters and digits"):
        actdesk_plugins("new", "My_Net", "--dir", str(tmp_path))
    actdesk_plugins("new", "actdesk-twice", "--dir", str(tmp_path))
    assert (tmp_path / "actdesk-twice" / "actdesk_twice" / "__init__.py").is_file()
    with pytest.raises(PluginError, match="actdesk-twice already exists"):
        actdesk_plugins("new", "twice", "--dir", str(tmp_path))


@pytest.mark.parametrize("json_output", [False, True])
def test_info_reports_versions_plugins_and_load_errors(user_plugins, capsys, json_output):
    import av
    import torch

    assert print_diagnostics(json_output=json_output) == 0
    out = capsys.readouterr().out
    if json_output:
        info = json.loads(out)
        assert info["torch"]["version"] == torch.__version__
        assert info["torch"]["cuda_available"] == torch.cuda.is_available()
        assert info["pyav"] == {"version": av.__version__, "ffmpeg": av.ffmpeg_version_info}
        assert info["frozen"] is False
        assert any(e["plugin"] == "clibroken" for e in info["plugins"]["load_errors"])
        assert any(m["name"] == "test-good" for m in info["plugins"]["models"])
    else:
        assert f"torch: version {torch.__version__}, cuda_available {torch.cuda.is_available()}" in out
        assert "  cligood (actdesk-cligood 1.2): test-good" in out
        assert "load error: plugin 'clibroken': ModuleNotFoundError" in out
        assert f"user_plugins_dir: {user_plugins}" in out


def test_actdesk_main_runs_the_plugins_command_and_info(user_plugins, capsys):
    from actdesk.cli import main

    assert main(["plugins", "--json"]) == 0
    assert any(m["plugin"] == "cligood" for m in json.loads(capsys.readouterr().out)["models"])
    assert main(["--info", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["actdesk"] == __version__
    assert main(["plugins", "uninstall", "actdesk-not-there"]) == 2
    assert "actdesk: error: plugin 'actdesk-not-there': is not installed in" in capsys.readouterr().err

"""The Plugins dialog: a broken plugin's error and traceback, installing a real wheel, refusals, uninstalling."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox

from actdesk.plugins import PluginManager, get_plugin_manager, reset_plugin_manager

pytestmark = pytest.mark.gui

BROKEN_PLUGINS = Path(__file__).resolve().parent.parent / "plugins" / "broken"


@pytest.fixture
def fresh_plugins(monkeypatch):
    """A fresh process-wide manager before and after; sys.path restored (the manager appends plugin folders)."""
    monkeypatch.syspath_prepend(str(BROKEN_PLUGINS))
    monkeypatch.delenv("ACTDESK_DISABLE_PLUGINS", raising=False)
    reset_plugin_manager()
    yield
    reset_plugin_manager()


def message_boxes(name: str) -> list[QMessageBox]:
    return [w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.objectName() == name
            and w.isVisible()]


def wait_idle(qtbot, dialog) -> None:
    qtbot.waitUntil(lambda: dialog.task is None, timeout=120000)


def test_broken_plugin_is_listed_with_its_error_and_traceback(qtbot, fresh_plugins, tmp_path):
    manager = PluginManager(disabled=())
    manager.load_plugins(builtins=(), entry_points=False, user_dir=tmp_path / "none")
    manager.register_module("actdesk_testplugin_good")
    manager.register_module("actdesk_testplugin_import_error")
    from actdesk.qt.plugins_dialog import PluginsDialog

    dialog = PluginsDialog(manager)
    qtbot.addWidget(dialog)
    dialog.show()

    good = dialog.plugin_item("actdesk_testplugin_good")
    assert good.text(4) == "ok"
    assert good.childCount() >= 1 and "test-good" in good.child(0).text(0)
    broken = dialog.plugin_item("actdesk_testplugin_import_error")
    assert broken is not None and broken.text(4) == "error"
    assert "actdesk_no_such_dependency" in broken.toolTip(4)
    # The failed plugin is selected on opening; its details carry the error and the traceback.
    assert dialog.selected_row().name == "actdesk_testplugin_import_error"
    details = dialog.details.toPlainText()
    assert "ModuleNotFoundError" in details and "Traceback (most recent call last)" in details
    assert "1 failed to load" in dialog.summary.text()
    # A model row shows the model's own details; a built-in/registered plugin cannot be uninstalled.
    dialog.tree.setCurrentItem(good.child(0))
    assert "Model:" in dialog.details.toPlainText() and "test-good" in dialog.details.toPlainText()
    assert not dialog.uninstall_button.isEnabled()
    dialog.grab().save("/tmp/actdesk-plugins-dialog.png")


def test_install_a_real_wheel_then_uninstall(qtbot, fresh_plugins, tmp_path):
    from actdesk.plugins.install import build_wheel, installed_plugins
    from actdesk.plugins.scaffold import scaffold_plugin
    from actdesk.qt.plugins_dialog import PluginsDialog

    wheel = build_wheel(scaffold_plugin("qtdlg-net", tmp_path / "src"), tmp_path / "wheels")
    dialog = PluginsDialog()
    qtbot.addWidget(dialog)
    dialog.show()
    assert "qtdlg-net" not in [e.name for e in dialog.manager.models()]

    with qtbot.waitSignal(dialog.pluginsChanged, timeout=120000):
        dialog.install(wheel)
    wait_idle(qtbot, dialog)
    assert [p.distribution for p in installed_plugins()] == ["actdesk-qtdlg-net"]
    # The process-wide manager was reloaded: the new model is there for the rest of the app too.
    assert dialog.manager is get_plugin_manager()
    assert "qtdlg-net" in [e.name for e in get_plugin_manager().models()]
    item = dialog.plugin_item("qtdlg-net")
    assert (item.text(1), item.text(2), item.text(3), item.text(4)) == ("0.1.0", "actdesk-qtdlg-net",
                                                                        "user folder", "ok")
    assert dialog.selected_row().name == "qtdlg-net"
    assert "Installed actdesk-qtdlg-net 0.1.0: models qtdlg-net" in dialog.summary.text()
    assert dialog.uninstall_button.isEnabled()

    box = dialog.uninstall_selected()
    assert box is not None and "actdesk-qtdlg-net" in box.text()
    with qtbot.waitSignal(dialog.pluginsChanged, timeout=60000):
        next(b for b in box.buttons() if b.text() == "Uninstall").click()
    wait_idle(qtbot, dialog)
    assert installed_plugins() == []
    assert dialog.plugin_item("qtdlg-net") is None
    assert "qtdlg-net" not in [e.name for e in get_plugin_manager().models()]
    assert "Removed actdesk-qtdlg-net 0.1.0" in dialog.summary.text()


def test_refused_install_shows_a_dialog_and_installs_nothing(qtbot, fresh_plugins, tmp_path):
    from actdesk.plugins.install import installed_plugins
    from actdesk.qt.plugins_dialog import PluginsDialog

    not_a_wheel = tmp_path / "notes.txt"
    not_a_wheel.write_text("hello")
    no_package = tmp_path / "empty-folder"
    no_package.mkdir()
    dialog = PluginsDialog()
    qtbot.addWidget(dialog)
    dialog.show()

    for source, expected in ((not_a_wheel, "is not a wheel (.whl) or a package folder"),
                             (no_package, "has no pyproject.toml or setup.py")):
        dialog.install(source)
        wait_idle(qtbot, dialog)
        qtbot.waitUntil(lambda: bool(message_boxes("errorDialog")), timeout=10000)
        box = message_boxes("errorDialog")[-1]
        assert expected in box.text() and str(source) in box.text()
        assert box.windowTitle().startswith("Cannot install the plugin")
        box.close()
        assert dialog.install_file_button.isEnabled()
    assert installed_plugins() == []


def test_uninstall_is_only_offered_for_user_folder_plugins(qtbot, fresh_plugins):
    from actdesk.qt.plugins_dialog import PluginsDialog

    dialog = PluginsDialog()
    qtbot.addWidget(dialog)
    for i in range(dialog.tree.topLevelItemCount()):
        dialog.tree.setCurrentItem(dialog.tree.topLevelItem(i))
        assert dialog.uninstall_button.isEnabled() is False
        assert dialog.uninstall_selected() is None
    assert dialog.tree.topLevelItemCount() >= 1
    assert dialog.tree.currentItem().data(0, Qt.ItemDataRole.UserRole) is not None

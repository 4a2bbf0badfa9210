"""``actdesk plugins``: list plugins and their models, scaffold, install and uninstall plugins."""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "plugins", help="list model plugins; create, install or uninstall one",
        description="Without an action: list every model with its plugin, distribution, version and "
                    "status, then the plugins that failed to load. Set ACTDESK_DISABLE_PLUGINS=name,... "
                    "to skip plugins.")
    parser.add_argument("--json", action="store_true", help="print the list as JSON")
    parser.set_defaults(func=run, action="list")
    actions = parser.add_subparsers(dest="action", metavar="ACTION")

    listing = actions.add_parser("list", help="list plugins and models (the default)")
    listing.add_argument("--json", action="store_true", help="print the list as JSON")

    new = actions.add_parser("new", help="create a plugin package that passes its own tests",
                             description="Write the package actdesk-NAME (model NAME, a small 3D CNN, "
                                         "a README and a conformance test) into --dir.")
    new.add_argument("name", metavar="NAME", help="model name: lower-case words joined by dashes (my-net)")
    new.add_argument("--dir", type=Path, default=Path("."), help="folder to create it in (default: here)")

    install = actions.add_parser("install", help="install a plugin wheel or package folder for this user",
                                 description="Install into the per-user plugin folder; a folder is first "
                                             "built into a wheel with pip. The plugin's own dependencies "
                                             "are not installed.")
    install.add_argument("source", metavar="PATH_OR_WHEEL", type=Path)

    uninstall = actions.add_parser("uninstall", help="remove a plugin from the per-user plugin folder")
    uninstall.add_argument("name", metavar="NAME", help="its distribution name (actdesk-my-net)")


def run(args: argparse.Namespace) -> int:
    if args.action == "new":
        return _new(args.name, args.dir)
    if args.action == "install":
        return _install(args.source)
    if args.action == "uninstall":
        return _uninstall(args.name)
    return _list(args.json)


def _list(as_json: bool) -> int:
    from actdesk.diagnostics import plugins_summary
    from actdesk.plugins import get_plugin_manager

    summary = plugins_summary(get_plugin_manager())
    if as_json:
        print(json.dumps(summary, indent=2))
        return 0
    columns = ("name", "plugin", "distribution", "version", "status")
    rows = [[m[c] or "-" for c in columns] for m in summary["models"]]
    widths = [max([len(c)] + [len(r[i]) for r in rows]) for i, c in enumerate(columns)]
    print("  ".join(c.upper().ljust(w) for c, w in zip(columns, widths)).rstrip())
    for row, model in zip(rows, summary["models"]):
        print("  ".join(v.ljust(w) for v, w in zip(row, widths)).rstrip())
        if model["error"]:
            print(f"    error: {model['error']}")
    if not rows:
        print("(no models)")
    formats = [f"{f} ({p['name']})" for p in summary["plugins"] for f in p["formats"]]
    if formats:
        print(f"\nformats from plugins: {', '.join(formats)}")
    disabled = [p["name"] for p in summary["plugins"] if p["status"] == "disabled"]
    if disabled:
        print(f"\ndisabled (ACTDESK_DISABLE_PLUGINS): {', '.join(disabled)}")
    if summary["load_errors"]:
        print("\nplugins that failed to load:")
        for error in summary["load_errors"]:
            where = " ".join(v for v in (error["distribution"], error["version"]) if v)
            print(f"  {error['plugin']}{f' ({where})' if where else ''}: {error['error']}")
    print(f"\nuser plugin folder: {summary['user_plugins_dir']}")
    return 0


def _new(name: str, directory: Path) -> int:
    from actdesk.plugins.scaffold import scaffold_plugin

    root = scaffold_plugin(name, directory)
    print(f"created {root}\n"
          f"next: cd {root} && python -m pytest            (conformance checks)\n"
          f"      python -m pip install -e {root}    or    actdesk plugins install {root}")
    return 0


def _install(source: Path) -> int:
    from actdesk.plugins import PluginManager
    from actdesk.plugins.install import install_plugin

    installed = install_plugin(source)
    print(f"installed {installed.distribution} {installed.version} into {installed.path}")
    # Load it now, so a plugin that cannot import here (a missing dependency) is reported at once.
    manager = PluginManager(disabled=())
    manager.load_plugins(builtins=(), entry_points=False)
    mine = [p for p in manager.plugins() if p.distribution == installed.distribution]
    for plugin in mine:
        if plugin.status == "ok":
            formats = f", formats {', '.join(plugin.formats)}" if plugin.formats else ""
            print(f"  plugin {plugin.name}: models {', '.join(plugin.models) or '(none)'}{formats}")
        else:
            print(f"  warning: plugin {plugin.name} does not load: {plugin.error}")
    return 0


def _uninstall(name: str) -> int:
    from actdesk.plugins.install import uninstall_plugin

    removed = uninstall_plugin(name)
    print(f"removed {removed.distribution} {removed.version} ({removed.path})")
    return 0

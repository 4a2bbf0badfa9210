"""The ``actdesk`` command.

``actdesk`` alone, ``actdesk VIDEO`` or ``actdesk P.actdesk`` open the desktop
app; ``actdesk --info`` prints diagnostics; ``actdesk --smoke-test`` runs the
offscreen self-check; ``actdesk COMMAND ...`` runs a headless command.

Each command lives in its own module of this package and exposes
``register(subparsers)``, which adds its parser and sets ``func`` to a
``run(args) -> int``. Command modules import heavy libraries (torch, av, Qt)
inside ``run`` only, so ``actdesk --help`` stays instant.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from actdesk import __version__
from actdesk.errors import ActdeskError

# command name -> module (in actdesk.cli) that registers it; help order.
COMMANDS: dict[str, str] = {
    "demo": "demo_cmd",
    "info": "info_cmd",
    "synth": "synth_cmd",
    "project": "project_cmd",
    "import": "import_cmd",
    "segments": "segments_cmd",
    "export": "export_cmd",
    "label": "label_cmd",
    "train": "train_cmd",
    "eval": "eval_cmd",
    "plugins": "plugins_cmd",
    "bench": "bench_cmd",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="actdesk",
        description="Label human actions in video with model help. "
        "Run without a command to open the desktop app.",
    )
    parser.add_argument("--version", action="version", version=f"actdesk {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module in COMMANDS.items():
        importlib.import_module(f"actdesk.cli.{module}").register(sub)
    return parser


def _wants_gui(argv: list[str]) -> bool:
    if not argv:
        return True
    first = argv[0]
    if first in COMMANDS or first in ("-h", "--help", "--version"):
        return False
    return True


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if argv[:1] == ["--info"]:
            from actdesk.diagnostics import print_diagnostics

            return print_diagnostics(json_output="--json" in argv)
        if _wants_gui(argv):
            from actdesk.qt.app import run_app

            return run_app(argv)
        args = build_parser().parse_args(argv)
        return int(args.func(args) or 0)
    except ActdeskError as e:
        print(f"actdesk: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("actdesk: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

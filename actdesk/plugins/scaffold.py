"""``actdesk plugins new``: a complete plugin package that passes its own tests out of the box."""

from __future__ import annotations

import string
from pathlib import Path

from actdesk import __version__
from actdesk.errors import PluginError
from actdesk.plugins.registry import MODEL_NAME_PATTERN

TEMPLATE_DIR = Path(__file__).parent / "template"

# template file -> path in the new package ({module} is the import name)
_LAYOUT = {
    "pyproject.toml.tmpl": "pyproject.toml",
    "README.md.tmpl": "README.md",
    "__init__.py.tmpl": "{module}/__init__.py",
    "model.py.tmpl": "{module}/model.py",
    "test_conformance.py.tmpl": "tests/test_{module}.py",
}


def scaffold_plugin(name: str, directory: Path) -> Path:
    """Write the package ``actdesk-NAME`` (model ``NAME``) into ``directory``; returns its folder.

    :param name: the model name, lower-case words joined by dashes (``my-net``);
        a leading ``actdesk-`` is dropped.
    :raises PluginError: for a bad name or a folder that already exists.
    """
    name = name.removeprefix("actdesk-")
    if not MODEL_NAME_PATTERN.fullmatch(name):
        raise PluginError(name, "a plugin name must be lower-case letters and digits in words joined "
                                "by dashes (like 'my-net')")
    words = name.split("-")
    class_name = "".join(w.capitalize() for w in words)
    if not class_name[0].isalpha():
        class_name = "Net" + class_name
    module = "actdesk_" + "_".join(words)
    values = {
        "name": name,
        "dist": f"actdesk-{name}",
        "module": module,
        "class_name": class_name,
        "builder": "_".join(words) if words[0][0].isalpha() else "build_" + "_".join(words),
        "title": f"{' '.join(words).capitalize()} (3D CNN)",
        "actdesk_version": __version__,
        "clip_len": "8",
        "height": "64",
        "width": "64",
    }
    root = Path(directory) / values["dist"]
    if root.exists():
        raise PluginError(values["dist"], f"{root} already exists; choose another name or --dir")
    for template, target in _LAYOUT.items():
        text = string.Template((TEMPLATE_DIR / template).read_text(encoding="utf-8")).substitute(values)
        path = root / target.format(module=module)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root

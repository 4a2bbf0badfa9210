"""torchvision: collect its C++ operator libraries, which it loads by file path, not by import.

torchvision registers its operators (``nms``, ``roi_align``, the image codecs) by
looking for ``_C_stable``/``image_stable`` (``_C``/``image`` before 0.29) next to its
own modules with an ``importlib.machinery.FileFinder`` and passing the file to
``torch.ops.load_library``. PyInstaller's import analysis never sees that load, and
the contributed hook names the libraries as hidden imports ``torchvision._C`` and
``torchvision.image``, which torchvision 0.29 renamed: they are reported "not found"
and left out. The load then fails silently (``extension._has_ops()`` is False) and
``torchvision._meta_registrations`` stops the import with ``RuntimeError: operator
torchvision::nms does not exist``. So every extension library in the package folder
is collected, whatever its name, into the same folder of the bundle, where
``_get_extension_path`` looks. (This hook replaces the contributed one.)
"""

import importlib.machinery
import importlib.util
from pathlib import Path

# Located without importing torchvision (the build process need not load torch).
_package_dir = Path(importlib.util.find_spec("torchvision").submodule_search_locations[0])

binaries = [
    (str(path), "torchvision")
    for path in sorted(_package_dir.iterdir())
    if path.is_file() and path.name.endswith(tuple(importlib.machinery.EXTENSION_SUFFIXES))
]

# TorchScript compiles some torchvision functions from their source, so the .py files ship too.
module_collection_mode = "pyz+py"

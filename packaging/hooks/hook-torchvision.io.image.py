"""torchvision.io.image: nothing to add; replaces the contributed hook.

The contributed hook names the hidden import ``torchvision.image``, a library that
torchvision 0.29 renamed to ``image_stable``. ``hook-torchvision.py`` here collects
it (with every other torchvision extension library), so this hook only keeps the
stale name out of the build log.
"""

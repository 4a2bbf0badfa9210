"""Import and export of segment annotations, training sets and overlay videos.

``registry`` (the formats and their contract), ``export`` (``export_project``)
and ``importing`` (``read_source``, ``import_into_project``) are the entry
points; ``data`` holds what formats exchange with them, ``safety`` the rules
for writing, ``splits`` the train/val/test assignment, ``sources`` the
readers that report file and line. One module per format. docs/formats.md
describes every format.
"""

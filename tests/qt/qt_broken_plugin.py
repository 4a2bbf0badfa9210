"""A GUI-test plugin that cannot even be imported (the app must name it and carry on)."""

raise ImportError("qt_broken_plugin needs a library that is not installed")

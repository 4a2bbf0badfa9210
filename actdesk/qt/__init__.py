"""The desktop app (PySide6 + pyqtgraph). The only package that imports Qt.

``app.run_app`` starts it; ``main_window.MainWindow`` holds the player,
timeline, review queue and model panel around a ``document.ProjectDocument``
(the store plus signals); long work runs in ``workers.Task``.
"""

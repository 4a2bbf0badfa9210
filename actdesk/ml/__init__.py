"""torch side of actdesk: device and threads, checkpoints, inference, scores→segments,
training and metrics.

Import the submodules directly (``actdesk.ml.inference``); this package imports
nothing itself so that ``import actdesk.ml.postprocess`` stays free of torch.
"""

"""Pure-Python core: segments, labels, long-work protocol, project store, edit commands.

Nothing here imports Qt or torch.
"""

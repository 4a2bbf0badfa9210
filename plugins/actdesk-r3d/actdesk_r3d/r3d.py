"""3D ResNet (Hara et al., CVPR 2018) with basic blocks, from torchvision's building blocks.

Hara, Kataoka and Satoh, *Can Spatiotemporal 3D CNNs Retrace the History of 2D
CNNs and ImageNet?*, CVPR 2018 (github.com/kenshohara/3D-ResNets-PyTorch):
ResNets whose convolutions are all 3D. ``r3d_18`` has [2, 2, 2, 2] basic blocks
and ``r3d_34`` [3, 4, 6, 3]. Both use torchvision's ``VideoResNet`` with
``BasicBlock``, ``Conv3DSimple`` and ``BasicStem`` (a 3x7x7 stem, stride 1 in
time, 2 in space, no max pooling), so an ``r3d_18`` state dict has exactly the
keys and shapes of torchvision's ``r3d_18`` and its Kinetics-400 weights load
unchanged. (Hara's own stem is 7x7x7 with max pooling; his checkpoints do not fit.)

The builders zero the scale of each block's closing batch norm (Goyal et al.,
arXiv:1706.02677; torchvision's 2D ResNets call it ``zero_init_residual``, which
``VideoResNet`` lacks), so every block starts as the identity and a model trained
from scratch starts as a shallow network that deepens as it learns. Kinetics
weights, when loaded, replace these values.
"""

from __future__ import annotations

from torch import nn
from torchvision.models.video.resnet import BasicBlock, BasicStem, Conv3DSimple, VideoResNet

__all__ = ["r3d_18", "r3d_34"]


def _r3d(layers: list[int], num_classes: int) -> VideoResNet:
    model = VideoResNet(block=BasicBlock, conv_makers=[Conv3DSimple] * 4, layers=layers,
                        stem=BasicStem, num_classes=num_classes)
    for block in model.modules():
        if isinstance(block, BasicBlock):
            closing_norm = block.conv2[-1]  # conv2 is (Conv3DSimple, BatchNorm3d)
            assert isinstance(closing_norm, nn.BatchNorm3d)
            nn.init.zeros_(closing_norm.weight)
    return model


def r3d_18(*, num_classes: int) -> VideoResNet:
    """3D ResNet-18: basic blocks [2, 2, 2, 2], torchvision ``r3d_18``'s layout (head ``fc``)."""
    return _r3d([2, 2, 2, 2], num_classes)


def r3d_34(*, num_classes: int) -> VideoResNet:
    """3D ResNet-34: basic blocks [3, 4, 6, 3] (head ``fc``)."""
    return _r3d([3, 4, 6, 3], num_classes)

"""Reference CNNs in plain PyTorch, for `cnnplan import` and cnnplan's tests.

Written here rather than imported from torchvision (whose only wheel installable beside the CPU
torch is a CUDA build whose compiled ops do not load), but faithful to torchvision's
architectures: the same modules in the same order, the same qualified names (`layer1.0.conv1`,
`features.denseblock1.denselayer1.conv1`, ...) and the same parameter counts:

    resnet18()       11,689,512    torchvision.models.resnet18
    resnet50()       25,557,032    torchvision.models.resnet50
    mobilenet_v2()    3,504,872    torchvision.models.mobilenet_v2
    densenet121()     7,978,856    torchvision.models.densenet121

a small residual network for the README (`SmallResNet`, 3x32x32 -> 10), and the two U-Nets of
Ronneberger, Fischer & Brox (2015):

    unet()           the original: valid 3x3 convolutions, centre crops of the skips,
                     1x572x572 -> 2x388x388 (31,030,658 parameters)
    unet(padded=True)  the same convolutions padded (p=1), no crops: any input size divisible
                     by 16 gives an output of the same size

Every function takes keyword arguments to make small variants for fast tests (`width`,
`growth`, `blocks`, `base`, `num_classes`), e.g. `resnet18(width=8, num_classes=10)`.

The original U-Net crops each skip to the size of the upsampled map with plain slicing on sizes
read from `.shape` (`center_crop` below). torch.fx traces that symbolically (the sizes become
graph nodes), and `cnnplan import` recognises a centred slice that feeds `torch.cat` as
`concat(crop=true)`.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

# -- ResNet (He et al. 2016; torchvision.models.resnet) -------------------------------------


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        out += x if self.downsample is None else self.downsample(x)
        return self.relu(out)


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        out += x if self.downsample is None else self.downsample(x)
        return self.relu(out)


class ResNet(nn.Module):
    def __init__(self, block, layers, width=64, num_classes=1000):
        super().__init__()
        self.inplanes = width
        self.conv1 = nn.Conv2d(3, width, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        self.layer1 = self._make_layer(block, width, layers[0])
        self.layer2 = self._make_layer(block, width * 2, layers[1], 2)
        self.layer3 = self._make_layer(block, width * 4, layers[2], 2)
        self.layer4 = self._make_layer(block, width * 8, layers[3], 2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(width * 8 * block.expansion, num_classes)

    def _make_layer(self, block, planes, blocks, stride=1):
        downsample = None
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(
                nn.Conv2d(self.inplanes, planes * block.expansion, 1, stride, bias=False),
                nn.BatchNorm2d(planes * block.expansion))
        layers = [block(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes * block.expansion
        layers += [block(self.inplanes, planes) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        x = torch.flatten(self.avgpool(x), 1)
        return self.fc(x)


def resnet18(width=64, num_classes=1000, blocks=(2, 2, 2, 2)):
    """ResNet-18 (11,689,512 parameters)."""
    return ResNet(BasicBlock, blocks, width, num_classes)


def resnet50(width=64, num_classes=1000, blocks=(3, 4, 6, 3)):
    """ResNet-50 (25,557,032 parameters)."""
    return ResNet(Bottleneck, blocks, width, num_classes)


class SmallResNet(nn.Module):
    """A small residual CNN for 3x32x32 images: a stem, one downsampling basic block, a
    classifier (the README's import example)."""

    def __init__(self, width=16, num_classes=10):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, width, 3, padding=1, bias=False),
                                  nn.BatchNorm2d(width), nn.ReLU(inplace=True))
        self.block = BasicBlock(width, 2 * width, 2, nn.Sequential(
            nn.Conv2d(width, 2 * width, 1, 2, bias=False), nn.BatchNorm2d(2 * width)))
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(2 * width, num_classes)

    def forward(self, x):
        x = self.pool(self.block(self.stem(x)))
        return self.fc(torch.flatten(x, 1))


# -- MobileNetV2 (Sandler et al. 2018; torchvision.models.mobilenetv2) ----------------------


def _make_divisible(v, divisor=8):
    new_v = max(divisor, int(v + divisor / 2) // divisor * divisor)
    return new_v + divisor if new_v < 0.9 * v else new_v


class ConvBNReLU6(nn.Sequential):
    """torchvision's Conv2dNormActivation with ReLU6: children 0 (conv), 1 (bn), 2 (relu6)."""

    def __init__(self, inp, out, k=3, stride=1, groups=1):
        super().__init__(nn.Conv2d(inp, out, k, stride, (k - 1) // 2, groups=groups, bias=False),
                         nn.BatchNorm2d(out), nn.ReLU6(inplace=True))


class InvertedResidual(nn.Module):
    def __init__(self, inp, oup, stride, expand_ratio):
        super().__init__()
        hidden = int(round(inp * expand_ratio))
        self.use_res_connect = stride == 1 and inp == oup
        layers = [ConvBNReLU6(inp, hidden, 1)] if expand_ratio != 1 else []
        layers += [ConvBNReLU6(hidden, hidden, 3, stride, groups=hidden),
                   nn.Conv2d(hidden, oup, 1, 1, 0, bias=False), nn.BatchNorm2d(oup)]
        self.conv = nn.Sequential(*layers)

    def forward(self, x):
        return x + self.conv(x) if self.use_res_connect else self.conv(x)


class MobileNetV2(nn.Module):
    SETTINGS = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1),
                (6, 160, 3, 2), (6, 320, 1, 1))

    def __init__(self, width_mult=1.0, num_classes=1000):
        super().__init__()
        inp = _make_divisible(32 * width_mult)
        self.last_channel = _make_divisible(1280 * max(1.0, width_mult))
        features = [ConvBNReLU6(3, inp, stride=2)]
        for t, c, n, s in self.SETTINGS:
            out = _make_divisible(c * width_mult)
            for i in range(n):
                features.append(InvertedResidual(inp, out, s if i == 0 else 1, t))
                inp = out
        features.append(ConvBNReLU6(inp, self.last_channel, 1))
        self.features = nn.Sequential(*features)
        self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(self.last_channel, num_classes))

    def forward(self, x):
        x = F.adaptive_avg_pool2d(self.features(x), (1, 1))
        return self.classifier(torch.flatten(x, 1))


def mobilenet_v2(width_mult=1.0, num_classes=1000):
    """MobileNetV2 (3,504,872 parameters)."""
    return MobileNetV2(width_mult, num_classes)


# -- DenseNet (Huang et al. 2017; torchvision.models.densenet) ------------------------------


class DenseLayer(nn.Module):
    def __init__(self, inp, growth, bn_size):
        super().__init__()
        self.norm1 = nn.BatchNorm2d(inp)
        self.relu1 = nn.ReLU(inplace=True)
        self.conv1 = nn.Conv2d(inp, bn_size * growth, 1, 1, bias=False)
        self.norm2 = nn.BatchNorm2d(bn_size * growth)
        self.relu2 = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(bn_size * growth, growth, 3, 1, 1, bias=False)

    def forward(self, features):
        x = torch.cat(features, 1)
        x = self.conv1(self.relu1(self.norm1(x)))
        return self.conv2(self.relu2(self.norm2(x)))


class DenseBlock(nn.ModuleDict):
    def __init__(self, layers, inp, growth, bn_size):
        super().__init__()
        for i in range(layers):
            self.add_module(f"denselayer{i + 1}", DenseLayer(inp + i * growth, growth, bn_size))

    def forward(self, x):
        features = [x]
        for layer in self.values():
            features.append(layer(features))
        return torch.cat(features, 1)


class Transition(nn.Sequential):
    def __init__(self, inp, out):
        super().__init__()
        self.add_module("norm", nn.BatchNorm2d(inp))
        self.add_module("relu", nn.ReLU(inplace=True))
        self.add_module("conv", nn.Conv2d(inp, out, 1, 1, bias=False))
        self.add_module("pool", nn.AvgPool2d(2, 2))


class DenseNet(nn.Module):
    def __init__(self, growth=32, blocks=(6, 12, 24, 16), init=64, bn_size=4, num_classes=1000):
        super().__init__()
        self.features = nn.Sequential()
        self.features.add_module("conv0", nn.Conv2d(3, init, 7, 2, 3, bias=False))
        self.features.add_module("norm0", nn.BatchNorm2d(init))
        self.features.add_module("relu0", nn.ReLU(inplace=True))
        self.features.add_module("pool0", nn.MaxPool2d(3, 2, 1))
        channels = init
        for i, n in enumerate(blocks):
            self.features.add_module(f"denseblock{i + 1}",
                                     DenseBlock(n, channels, growth, bn_size))
            channels += n * growth
            if i != len(blocks) - 1:
                self.features.add_module(f"transition{i + 1}", Transition(channels, channels // 2))
                channels //= 2
        self.features.add_module("norm5", nn.BatchNorm2d(channels))
        self.classifier = nn.Linear(channels, num_classes)

    def forward(self, x):
        x = F.relu(self.features(x), inplace=True)
        x = torch.flatten(F.adaptive_avg_pool2d(x, (1, 1)), 1)
        return self.classifier(x)


def densenet121(growth=32, blocks=(6, 12, 24, 16), init=64, num_classes=1000):
    """DenseNet-121 (7,978,856 parameters)."""
    return DenseNet(growth, blocks, init, 4, num_classes)


# -- U-Net (Ronneberger, Fischer & Brox 2015) -----------------------------------------------


def center_crop(x, like):
    """The centre of `x` with the spatial size of `like` (the original U-Net's skip crop)."""
    h, w = like.shape[2], like.shape[3]
    top, left = (x.shape[2] - h) // 2, (x.shape[3] - w) // 2
    return x[:, :, top:top + h, left:left + w]


class DoubleConv(nn.Sequential):
    """Two 3x3 convolutions, each followed by ReLU (valid, or padded with p=1)."""

    def __init__(self, inp, out, padding):
        super().__init__(nn.Conv2d(inp, out, 3, padding=padding), nn.ReLU(inplace=True),
                         nn.Conv2d(out, out, 3, padding=padding), nn.ReLU(inplace=True))


class Up(nn.Module):
    """2x2 up-convolution halving the channels, concatenation with the (cropped) skip, and a
    double convolution."""

    def __init__(self, inp, out, padding):
        super().__init__()
        self.up = nn.ConvTranspose2d(inp, inp // 2, 2, stride=2)
        self.conv = DoubleConv(inp, out, padding)
        self.crop = padding == 0

    def forward(self, x, skip):
        x = self.up(x)
        if self.crop:
            skip = center_crop(skip, x)
        return self.conv(torch.cat([skip, x], 1))


class UNet(nn.Module):
    def __init__(self, in_channels=1, num_classes=2, base=64, padded=False):
        super().__init__()
        p = 1 if padded else 0
        c = [base * 2 ** i for i in range(5)]
        self.inc = DoubleConv(in_channels, c[0], p)
        self.down = nn.ModuleList(DoubleConv(c[i], c[i + 1], p) for i in range(4))
        self.pool = nn.MaxPool2d(2)
        self.ups = nn.ModuleList(Up(c[i + 1], c[i], p) for i in reversed(range(4)))
        self.outc = nn.Conv2d(c[0], num_classes, 1)

    def forward(self, x):
        skips = [self.inc(x)]
        for down in self.down:
            skips.append(down(self.pool(skips[-1])))
        x = skips.pop()
        for up in self.ups:
            x = up(x, skips.pop())
        return self.outc(x)


def unet(in_channels=1, num_classes=2, base=64, padded=False):
    """The U-Net: original (valid convolutions, cropped skips; 1x572x572 -> 2x388x388) or
    padded (any size divisible by 16 keeps its size)."""
    return UNet(in_channels, num_classes, base, padded)


def unet_padded(in_channels=1, num_classes=2, base=64):
    """The padded U-Net (`unet(padded=True)`)."""
    return UNet(in_channels, num_classes, base, True)

"""ConnectNet, the ultra-lightweight portrait segmentation model of PP-HumanSeg.

Paper: Chu et al., "PP-HumanSeg: Connectivity-Aware Portrait Segmentation with a Large-Scale
Teleconferencing Video Dataset", WACV 2022 workshops, https://arxiv.org/abs/2112.07146.
PaddleSeg released the same network as PP-HumanSeg-Lite (``PPHumanSegLite``,
``paddleseg/models/pphumanseg_lite.py``); official checkpoints of that class load here through
``pphumanseg.models.weights.load_weights``, which renames their keys with
``ConnectNet.convert_state_dict``.

Layout, top to bottom: channel shuffle and the two ShuffleNetV2-style units, the encoder
(``ConnectNetEncoder``, a BACKBONES component), the decoder, the model (``ConnectNet``, a MODELS
component, with its export helpers ``low_res_logits``/``resize`` and ``channel_aligned``), then
the renaming of release checkpoints.

Differences from the PaddleSeg release, none of which changes what a checkpoint computes:
* 137,466 parameters for two classes instead of 236,178: the release builds a second
  depthwise-separable shortcut in every stride-1 unit that forward never calls; it is not built
  here and is dropped when a release checkpoint is converted.
* Kaiming-normal initialisation of convolutions instead of normal(std=0.001), whose tiny weights
  give near-constant outputs before training.
"""
import re

import numpy as np
import paddle
import paddle.nn as nn
import paddle.nn.functional as F
from paddleseg.cvlibs import manager, param_init
from paddleseg.models import layers

from pphumanseg.models.weights import load_weights
from pphumanseg.utils.registry import register

__all__ = ["ConnectNet", "ConnectNetEncoder", "convert_paddleseg_state_dict"]


def conv_bn_relu(in_channels, out_channels, kernel_size, stride=1):
    """Bias-free convolution + BN + ReLU with symmetric padding, as in the released model.

    Explicit padding matters: paddleseg's default ``padding='same'`` pads stride-2 convolutions
    asymmetrically, which would shift every feature map against the released weights.
    """
    return layers.ConvBNReLU(in_channels, out_channels, kernel_size, padding=kernel_size // 2,
                             stride=stride, bias_attr=False)


def separable_conv_bn_relu(in_channels, out_channels, stride=1):
    """3x3 depthwise conv + BN, then bias-free 1x1 conv + BN + ReLU."""
    return layers.SeparableConvBNReLU(in_channels, out_channels, 3, padding=1, stride=stride,
                                      bias_attr=False, pointwise_bias=False)


class SeparableConvBN(nn.Layer):
    """3x3 depthwise conv + BN, then bias-free 1x1 conv + BN, with no activation at the end.

    The parameters and their names are those of ``separable_conv_bn_relu``'s layer, so the same
    checkpoints load into either.

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels.
    """

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        self.depthwise_conv = layers.ConvBN(in_channels, in_channels, 3, padding=1,
                                            groups=in_channels, bias_attr=False)
        # "piontwise" is paddleseg's spelling in SeparableConvBNReLU, kept for identical names.
        self.piontwise_conv = layers.ConvBN(in_channels, out_channels, 1, padding=0,
                                            bias_attr=False)

    def forward(self, x):
        return self.piontwise_conv(self.depthwise_conv(x))


def channel_shuffle(x, groups=2):
    """Interleaves the channels of ``groups`` equal groups (ShuffleNet).

    Height and width come from ``paddle.shape`` so that a traced graph accepts any input size;
    the channel count stays a constant so that later ops (e.g. the next unit's split) keep a
    static channel dimension in exported graphs.
    """
    channels = x.shape[1]
    shape = paddle.shape(x)
    x = paddle.reshape(x, [0, groups, channels // groups, -1])
    x = paddle.transpose(x, [0, 2, 1, 3])
    return paddle.reshape(x, [0, channels, shape[2], shape[3]])


class ShuffleUnit(nn.Layer):
    """Stride-1 ShuffleNetV2 unit: one half of the channels passes through, the other half goes
    through a 1x1 conv and a depthwise-separable conv; the halves are concatenated and shuffled.

    Args:
        channels (int): Input and output channels (even).
    """

    def __init__(self, channels: int):
        super().__init__()
        half = channels // 2
        self.pointwise = conv_bn_relu(half, half, 1)
        self.separable = separable_conv_bn_relu(half, half)

    def forward(self, x):
        passthrough, branch = paddle.split(x, 2, axis=1)
        branch = self.separable(self.pointwise(branch))
        return channel_shuffle(paddle.concat([passthrough, branch], axis=1))


class ShuffleDownUnit(nn.Layer):
    """Stride-2 ShuffleNetV2 unit: both halves of the output see the whole input, one through a
    strided depthwise-separable conv, the other through a 1x1 conv and a strided
    depthwise-separable conv; the halves are concatenated and shuffled.

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels (even).
    """

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        half = out_channels // 2
        self.shortcut = separable_conv_bn_relu(in_channels, half, stride=2)
        self.pointwise = conv_bn_relu(in_channels, half, 1)
        self.separable = separable_conv_bn_relu(half, half, stride=2)

    def forward(self, x):
        branch = self.separable(self.pointwise(x))
        return channel_shuffle(paddle.concat([self.shortcut(x), branch], axis=1))


@register(manager.BACKBONES)
class ConnectNetEncoder(nn.Layer):
    """ConnectNet's encoder: a stride-2 stem, a max-pool and two ShuffleNetV2 stages.

    ``forward`` returns the stem feature (1/2 of the input size) and each stage's output (1/8,
    1/16, ... with the defaults' two stages: 1/8 and 1/16); their channels are ``feat_channels``.

    Args:
        in_channels (int): Channels of the input image. Default: 3.
        stem_channels (int): Channels of the stride-2 stem convolution. Default: 36.
        stage_channels (tuple[int]): Output channels of each stage (even). Default: (72, 144).
        stage_depths (tuple[int]): Units per stage, the first of which down-samples by 2.
            Default: (4, 8).
    """

    def __init__(self, in_channels: int = 3, stem_channels: int = 36,
                 stage_channels: tuple = (72, 144), stage_depths: tuple = (4, 8)):
        super().__init__()
        if len(stage_channels) != len(stage_depths):
            raise ValueError(f"stage_channels {list(stage_channels)} and stage_depths "
                             f"{list(stage_depths)} must have the same length")
        self.stem = conv_bn_relu(in_channels, stem_channels, 3, stride=2)
        self.pool = nn.MaxPool2D(kernel_size=3, stride=2, padding=1)
        stages = []
        stage_in = stem_channels
        for channels, depth in zip(stage_channels, stage_depths):
            units = [ShuffleDownUnit(stage_in, channels)]
            units += [ShuffleUnit(channels) for _ in range(depth - 1)]
            stages.append(nn.Sequential(*units))
            stage_in = channels
        self.stages = nn.LayerList(stages)
        self.feat_channels = [stem_channels] + list(stage_channels)

    def forward(self, x):
        x = self.stem(x)
        features = [x]
        x = self.pool(x)
        for stage in self.stages:
            x = stage(x)
            features.append(x)
        return features


class ConnectNetDecoder(nn.Layer):
    """Fuses the deepest encoder feature with a projection of the 1/2-scale stem feature.

    The classifier is a depthwise-separable conv. In the released model its pointwise part ends
    in BN + ReLU, so logits are non-negative; see ``ConnectNet``'s ``relu_logits``.

    Args:
        skip_channels (int): Channels of the 1/2-scale feature.
        deep_channels (int): Channels of the deepest feature.
        num_classes (int): Number of output classes.
        align_corners (bool): ``align_corners`` of the bilinear up-sampling.
        relu_logits (bool): Whether the classifier ends in ReLU, as released.
        skip_proj_channels (int): Channels of the projected 1/2-scale feature. Default: 18.
        decoder_channels (int): Channels inside the decoder. Default: 64.
    """

    def __init__(self, skip_channels: int, deep_channels: int, num_classes: int,
                 align_corners: bool, relu_logits: bool, skip_proj_channels: int = 18,
                 decoder_channels: int = 64):
        super().__init__()
        self.align_corners = align_corners
        self.skip_proj_channels = skip_proj_channels
        self.decoder_channels = decoder_channels
        self.skip_proj = conv_bn_relu(skip_channels, skip_proj_channels, 1)
        self.context = separable_conv_bn_relu(deep_channels, decoder_channels)
        self.fuse = separable_conv_bn_relu(skip_proj_channels + decoder_channels, decoder_channels)
        classifier = separable_conv_bn_relu if relu_logits else SeparableConvBN
        self.classifier = classifier(decoder_channels, num_classes)

    def forward(self, skip, deep):
        skip = self.skip_proj(skip)
        deep = F.interpolate(self.context(deep), paddle.shape(skip)[2:], mode="bilinear",
                             align_corners=self.align_corners)
        return self.classifier(self.fuse(paddle.concat([skip, deep], axis=1)))


@register(manager.MODELS)
class ConnectNet(nn.Layer):
    """ConnectNet (PP-HumanSeg-Lite): 137K parameters, 266M FLOPs at 398x224 for two classes.

    Returns a one-element list of logits at the input size, as PaddleSeg models do. Any input
    size works; the graph traces with ``paddle.jit.to_static``.

    Args:
        num_classes (int): Number of classes. Default: 2 (background, person).
        in_channels (int): Channels of the input image. Default: 3.
        align_corners (bool): ``align_corners`` of the bilinear up-sampling. Default: False.
        relu_logits (bool): Whether the classifier ends in BN + ReLU as in the release, which
            official checkpoints need to compute their exact outputs. With non-negative logits a
            class whose channel is 0 everywhere (a "dead" ReLU, seen when training from scratch
            with small batches) never exceeds probability 0.5 and receives no gradient to
            recover; False ends the classifier in BN only (same parameters, same checkpoints).
            Default: True.
        pretrained (str, optional): Weights to load (a file, a checkpoint directory, a URL or
            ``zoo:NAME``; see ``pphumanseg.models.weights``), from this class or from paddleseg's
            ``PPHumanSegLite`` (converted on the fly). A classifier of another shape keeps its
            initial values. Default: None.
    """

    def __init__(self, num_classes: int = 2, in_channels: int = 3, align_corners: bool = False,
                 relu_logits: bool = True, pretrained: str = None):
        super().__init__()
        self.num_classes = num_classes
        self.in_channels = in_channels
        self.align_corners = align_corners
        self.relu_logits = relu_logits
        self.encoder = ConnectNetEncoder(in_channels)
        skip_channels, *_, deep_channels = self.encoder.feat_channels
        self.decoder = ConnectNetDecoder(skip_channels, deep_channels, num_classes, align_corners,
                                         relu_logits)
        self.init_weight()
        if pretrained is not None:
            load_weights(self, pretrained, allow_other_shapes=True)

    def forward(self, x):
        return [self.resize(self.low_res_logits(x), paddle.shape(x)[2:])]

    def low_res_logits(self, x):
        """Logits at half the input size, before ``forward``'s final ``resize``.

        An export head can combine classes here and resize only the result: the resize is
        linear, so e.g. ``resize(l1 - l0) == resize(l)[1] - resize(l)[0]``.
        """
        features = self.encoder(x)
        return self.decoder(features[0], features[-1])

    def resize(self, logit, size):
        """``forward``'s final bilinear resize of ``low_res_logits`` (or of any linear
        combination of their channels) to ``size`` [H, W]."""
        return F.interpolate(logit, size, mode="bilinear", align_corners=self.align_corners)

    def channel_aligned(self, multiple: int = 16):
        """An eval-mode copy that computes the same function with channel counts rounded up to
        ``multiple`` where tensors are concatenated or pooled, for runtimes that compute in
        blocks of channels.

        The stem (36 -> 48 channels) and the decoder's skip projection (18 -> 32, so its concat
        with the 64-channel context has 96) get extra channels whose weights, batch-norm
        statistics and affine parameters are zero: each such channel is exactly 0 after
        BN + ReLU, and the next dense convolution gives it zero weights, so every output is
        unchanged up to float summation order. This costs about 20 % more multiply-adds, which
        ONNX Runtime's NCHWc kernels on x86 (blocks of 16 channels with AVX-512, 8 with AVX2)
        spend anyway; there the unaligned concat and max-pool otherwise fall back to plain
        NCHW kernels and layout conversions (256x144 softmax export, 1 thread: 5.1 -> 3.4 ms).
        It is an export-time form only: its state dict does not load into a ``ConnectNet``.

        Args:
            multiple (int): Channel block size to align to. Default: 16.
        """
        stem = self.encoder.feat_channels[0]
        skip = self.decoder.skip_proj_channels
        deep = self.decoder.decoder_channels
        aligned_stem, aligned_skip = _round_up(stem, multiple), _round_up(skip, multiple)
        aligned = ConnectNet(self.num_classes, self.in_channels, self.align_corners,
                             self.relu_logits)
        aligned.encoder = ConnectNetEncoder(self.in_channels, aligned_stem)
        aligned.decoder = ConnectNetDecoder(aligned_stem, aligned.encoder.feat_channels[-1],
                                            self.num_classes, self.align_corners,
                                            self.relu_logits, aligned_skip, deep)
        # Where each original channel goes along an axis of a given (original, aligned) size.
        placements = {
            (stem, aligned_stem): list(range(stem)),
            (skip, aligned_skip): list(range(skip)),
            (skip + deep, aligned_skip + deep):
                list(range(skip)) + list(range(aligned_skip, aligned_skip + deep)),
        }
        state = self.state_dict()
        aligned_state = {}
        for key, target in aligned.state_dict().items():
            value = state[key].numpy()
            for axis, (size, aligned_size) in enumerate(zip(value.shape, target.shape)):
                if size != aligned_size:
                    grown = np.zeros(value.shape[:axis] + (aligned_size,) + value.shape[axis + 1:],
                                     value.dtype)
                    index = [slice(None)] * value.ndim
                    index[axis] = placements[(size, aligned_size)]
                    grown[tuple(index)] = value
                    value = grown
            aligned_state[key] = value
        aligned.set_state_dict(aligned_state)
        aligned.eval()
        return aligned

    @staticmethod
    def convert_state_dict(state_dict):
        """Release checkpoints' names to this class's (see ``convert_paddleseg_state_dict``);
        the weights loader calls it on every checkpoint it loads into a ConnectNet."""
        return convert_paddleseg_state_dict(state_dict)

    def init_weight(self):
        for layer in self.sublayers():
            if isinstance(layer, nn.Conv2D):
                param_init.kaiming_normal_init(layer.weight)
            elif isinstance(layer, (nn.BatchNorm2D, nn.SyncBatchNorm)):
                param_init.constant_init(layer.weight, value=1.0)
                param_init.constant_init(layer.bias, value=0.0)


def _round_up(value, multiple):
    return -(-value // multiple) * multiple


# Prefixes of paddleseg's PPHumanSegLite parameters and the ConnectNet prefixes they map to.
_PADDLESEG_PREFIXES = (
    (re.compile(r"^conv_bn0\."), "encoder.stem."),
    (re.compile(r"^conv_bn1\."), "decoder.skip_proj."),
    (re.compile(r"^depthwise_separable0\."), "decoder.context."),
    (re.compile(r"^depthwise_separable1\."), "decoder.fuse."),
    (re.compile(r"^depthwise_separable2\."), "decoder.classifier."),
)
_PADDLESEG_UNIT = re.compile(r"^block(?P<stage>[12])\.(?P<unit>\d+)\.(?P<part>_conv|"
                             r"_depthwise_separable_0|_depthwise_separable_1)\.(?P<rest>.+)$")
_UNIT_PARTS = {"_conv": "pointwise", "_depthwise_separable_0": "shortcut",
               "_depthwise_separable_1": "separable"}


def _convert_key(key):
    """ConnectNet name of a PPHumanSegLite parameter; None for the unused stride-1 shortcuts."""
    for pattern, prefix in _PADDLESEG_PREFIXES:
        if pattern.match(key):
            return pattern.sub(prefix, key)
    unit = _PADDLESEG_UNIT.match(key)
    if unit is None:
        return key
    index = int(unit["unit"])
    if unit["part"] == "_depthwise_separable_0" and index > 0:
        return None
    stage = int(unit["stage"]) - 1
    return f"encoder.stages.{stage}.{index}.{_UNIT_PARTS[unit['part']]}.{unit['rest']}"


def convert_paddleseg_state_dict(state_dict):
    """Checkpoint filter: renames a paddleseg ``PPHumanSegLite`` state dict to ConnectNet's names.

    Only the stride-1 units' ``_depthwise_separable_0`` parameters, which the released forward
    never uses, are dropped. Keys already in ConnectNet's naming pass through unchanged, so the
    function can be applied to any checkpoint.
    """
    converted = {}
    for key, value in state_dict.items():
        new_key = _convert_key(key)
        if new_key is not None:
            converted[new_key] = value
    return converted

import re
import subprocess
import sys

import numpy as np
import paddle
import paddle.nn.functional as F
import pytest
from paddleseg.cvlibs import Config, SegBuilder, manager
from paddleseg.models import PPHumanSegLite

import pphumanseg  # noqa: F401  (registers the components)
from pphumanseg.utils.errors import UsageError
from pphumanseg.models import ConnectNet, ConnectNetEncoder, convert_paddleseg_state_dict, load_weights
from pphumanseg.models.connectnet import channel_shuffle

PAPER_PARAMS = 137_466
REFERENCE_FLOPS_398x224 = 266_440_496


def n_params(model):
    return sum(int(np.prod(p.shape)) for p in model.parameters())


def randomize(model, seed):
    """Non-trivial weights and BN statistics, so that a wrong mapping changes the outputs."""
    rng = np.random.default_rng(seed)
    state = {}
    for name, value in model.state_dict().items():
        shape = value.shape
        if name.endswith("_mean"):
            array = rng.normal(0.0, 0.2, shape)
        elif name.endswith("_variance"):
            array = rng.uniform(0.5, 1.5, shape)
        elif name.endswith("_batch_norm.weight"):
            array = rng.uniform(0.5, 1.5, shape)
        elif name.endswith("_batch_norm.bias"):
            array = rng.normal(0.1, 0.2, shape)
        else:
            fan_in = int(np.prod(shape[1:]))
            array = rng.normal(0.0, np.sqrt(2.0 / fan_in), shape)
        state[name] = array.astype("float32")
    model.set_state_dict(state)
    return model


@pytest.fixture(scope="module")
def reference_checkpoint(tmp_path_factory):
    """A paddleseg PPHumanSegLite checkpoint with random weights, and its eval-mode output."""
    paddle.seed(0)
    reference = randomize(PPHumanSegLite(num_classes=2), seed=1)
    reference.eval()
    path = tmp_path_factory.mktemp("ckpt") / "model.pdparams"
    paddle.save(reference.state_dict(), str(path))
    x = paddle.to_tensor(np.random.default_rng(2).normal(size=(2, 3, 97, 131)).astype("float32"))
    with paddle.no_grad():
        expected = reference(x)[0].numpy()
    return path, reference.state_dict(), x, expected


def test_registered_components():
    assert manager.MODELS["ConnectNet"] is ConnectNet
    assert manager.BACKBONES["ConnectNetEncoder"] is ConnectNetEncoder


def test_parameter_count_matches_the_paper():
    assert n_params(ConnectNet(num_classes=2)) == PAPER_PARAMS
    assert n_params(PPHumanSegLite(num_classes=2)) > PAPER_PARAMS  # the reference's dead weights


def test_every_parameter_gets_a_gradient():
    paddle.seed(3)
    model = ConnectNet()
    logit = model(paddle.rand([2, 3, 64, 96]))[0]
    logit.sum().backward()
    trainable = [(name, p) for name, p in model.named_parameters() if not p.stop_gradient]
    without_grad = [name for name, p in trainable
                    if p.grad is None or float(p.grad.abs().sum()) == 0.0]
    assert len(trainable) > 100 and without_grad == []


def test_flops_match_the_reference_at_398x224():
    flops = paddle.flops(ConnectNet(), [1, 3, 224, 398], print_detail=False)
    assert abs(flops - REFERENCE_FLOPS_398x224) <= 0.01 * REFERENCE_FLOPS_398x224


def test_converter_drops_only_the_dead_shortcuts(reference_checkpoint):
    _, reference_state, _, _ = reference_checkpoint
    converted = convert_paddleseg_state_dict(reference_state)
    assert set(converted) == set(ConnectNet().state_dict())
    dead = [k for k in reference_state if re.match(r"block[12]\.[1-9]\d*\._depthwise_separable_0\.", k)]
    assert len(dead) == 10 * 10  # ten stride-1 units, ten tensors each
    assert len(converted) == len(reference_state) - len(dead)
    # already-converted checkpoints pass through unchanged
    assert set(convert_paddleseg_state_dict(converted)) == set(converted)


def test_paddleseg_checkpoint_gives_the_same_outputs(reference_checkpoint, repo_root, tmp_path):
    path, _, x, expected = reference_checkpoint
    assert expected.std() > 0.1 and (expected > 0).mean() > 0.2  # non-trivial reference output
    from_api = load_weights(ConnectNet(), str(path))
    config_file = tmp_path / "finetune.yml"
    config_file.write_text(
        f"_base_: {repo_root / 'configs/connectnet/connectnet_portrait_398x224.yml'}\n"
        f"model:\n  pretrained: {path}\n")
    config = Config(str(config_file))
    from_config = SegBuilder(config).build_component(config.model_cfg)
    for model in (from_api, from_config):
        model.eval()
        with paddle.no_grad():
            actual = model(x)[0].numpy()
        assert np.abs(actual - expected).max() <= 1e-5


def test_checkpoint_with_other_num_classes_keeps_the_classifier_init(reference_checkpoint, caplog):
    path = reference_checkpoint[0]
    model = ConnectNet(num_classes=3)
    before = model.decoder.classifier.piontwise_conv._conv.weight.numpy().copy()
    load_weights(model, str(path), allow_other_shapes=True)
    np.testing.assert_array_equal(model.decoder.classifier.piontwise_conv._conv.weight.numpy(), before)
    assert "classifier" in caplog.text
    reference_stem = reference_checkpoint[1]["conv_bn0._conv.weight"].numpy()
    np.testing.assert_array_equal(model.encoder.stem._conv.weight.numpy(), reference_stem)


def test_load_weights_rejects_other_models_and_missing_files(tmp_path):
    other = tmp_path / "other.pdparams"
    paddle.save({"conv.weight": paddle.zeros([4, 3, 3, 3])}, str(other))
    with pytest.raises(UsageError, match="does not match ConnectNet: parameters 240 missing"):
        load_weights(ConnectNet(), str(other))
    with pytest.raises(UsageError, match="weights file not found"):
        load_weights(ConnectNet(), str(tmp_path / "absent.pdparams"))


def test_other_classifier_shape_is_an_error_unless_allowed(reference_checkpoint):
    with pytest.raises(UsageError, match=r"with other shapes \(e\.g\. decoder\.classifier"):
        load_weights(ConnectNet(num_classes=3), str(reference_checkpoint[0]))


@pytest.mark.parametrize("height,width", [(225, 399), (144, 256), (192, 192), (33, 47)])
def test_output_size_equals_input_size(height, width):
    model = ConnectNet(num_classes=3)
    model.eval()
    logits = model(paddle.rand([1, 3, height, width]))
    assert len(logits) == 1
    assert logits[0].shape == [1, 3, height, width]


def test_to_static_traces_for_any_input_size():
    paddle.seed(4)
    model = ConnectNet()
    model.eval()
    static = paddle.jit.to_static(
        model, input_spec=[paddle.static.InputSpec([None, 3, None, None], "float32")],
        full_graph=True)
    for shape in ([1, 3, 144, 256], [2, 3, 97, 61]):
        x = paddle.rand(shape)
        with paddle.no_grad():
            np.testing.assert_allclose(static(x)[0].numpy(), model(x)[0].numpy(), atol=1e-5)


def test_default_init_gives_varied_outputs_unlike_the_reference():
    paddle.seed(5)
    x = paddle.rand([1, 3, 128, 224])
    ours, reference = ConnectNet(), PPHumanSegLite(num_classes=2)
    ours.eval(), reference.eval()
    with paddle.no_grad():
        spread_ours = float(ours(x)[0].std())
        spread_reference = float(reference(x)[0].std())
    assert spread_ours > 1e-2
    assert spread_reference < 1e-2 * spread_ours


def test_a_few_sgd_steps_reduce_cross_entropy():
    paddle.seed(6)
    model = ConnectNet()
    x = paddle.rand([2, 3, 64, 96])
    # a bright square on a dark background, labelled as the foreground
    x[:, :, 16:48, 24:72] += 1.0
    label = paddle.zeros([2, 64, 96], dtype="int64")
    label[:, 16:48, 24:72] = 1
    optimizer = paddle.optimizer.Momentum(0.05, momentum=0.9, parameters=model.parameters())
    losses = []
    for _ in range(10):
        loss = F.cross_entropy(model(x)[0], label, axis=1)
        loss.backward()
        optimizer.step()
        optimizer.clear_grad()
        losses.append(float(loss))
    assert losses[-1] < 0.8 * losses[0]


def test_encoder_features_and_widths():
    encoder = ConnectNetEncoder(in_channels=4, stem_channels=16, stage_channels=(32, 64, 96),
                                stage_depths=(2, 2, 1))
    features = encoder(paddle.rand([1, 4, 64, 128]))
    assert encoder.feat_channels == [16, 32, 64, 96]
    assert [f.shape for f in features] == [[1, 16, 32, 64], [1, 32, 8, 16], [1, 64, 4, 8],
                                           [1, 96, 2, 4]]
    with pytest.raises(ValueError, match="same length"):
        ConnectNetEncoder(stage_channels=(72, 144), stage_depths=(4,))


def test_channel_shuffle_interleaves_the_two_halves():
    x = paddle.arange(6, dtype="float32").reshape([1, 6, 1, 1]).tile([2, 1, 3, 5])
    shuffled = channel_shuffle(x, groups=2)
    assert shuffled.shape == x.shape
    assert shuffled[0, :, 0, 0].numpy().tolist() == [0, 3, 1, 4, 2, 5]


LEGACY_TRACE = """
import paddle
from pphumanseg.models.connectnet import channel_shuffle
channels = []
def shuffle(x):
    y = channel_shuffle(x)
    channels.append(y.shape[1])
    return y
spec = [paddle.static.InputSpec([None, 6, None, None], "float32")]
paddle.jit.to_static(shuffle, input_spec=spec, full_graph=True)(paddle.rand([1, 6, 5, 7]))
print(channels)
"""


def test_channel_count_stays_static_in_legacy_programs(cli_env, tmp_path):
    # Export writes legacy programs (FLAGS_enable_pir_api=0, set before paddle is imported).
    # There, a channel count taken from paddle.shape becomes a run-time value and paddle2onnx
    # then writes a Split with unknown sections that ONNX Runtime rejects.
    script = tmp_path / "trace.py"  # to_static reads the traced functions' source file
    script.write_text(LEGACY_TRACE)
    env = dict(cli_env, FLAGS_enable_pir_api="0")
    result = subprocess.run([sys.executable, str(script)], env=env, capture_output=True,
                            text=True, check=True)
    assert result.stdout.strip().splitlines()[-1] == "[6]"


def test_both_classifier_endings_have_the_same_parameters():
    with_relu, without_relu = ConnectNet(relu_logits=True), ConnectNet(relu_logits=False)
    shapes = {name: value.shape for name, value in with_relu.state_dict().items()}
    assert shapes == {name: value.shape for name, value in without_relu.state_dict().items()}
    assert n_params(without_relu) == PAPER_PARAMS


def kill_person_channel(model):
    """The classifier's class-1 BN maps every pixel to -1: a dead channel under ReLU."""
    batch_norm = model.decoder.classifier.piontwise_conv._batch_norm
    for parameter, value in ((batch_norm.weight, 0.0), (batch_norm.bias, -1.0)):
        array = parameter.numpy()
        array[1] = value
        parameter.set_value(array)


@pytest.mark.parametrize("relu_logits", [True, False])
def test_dead_person_channel_recovers_only_without_logit_relu(relu_logits):
    paddle.seed(8)
    model = ConnectNet(relu_logits=relu_logits)
    kill_person_channel(model)
    x = paddle.rand([2, 3, 64, 96])
    x[:, :, 16:48, 24:72] += 1.0
    label = paddle.zeros([2, 64, 96], dtype="int64")
    label[:, 16:48, 24:72] = 1
    optimizer = paddle.optimizer.Momentum(0.1, momentum=0.9, parameters=model.parameters())
    for _ in range(15):
        loss = F.cross_entropy(model(x)[0], label, axis=1)
        loss.backward()
        optimizer.step()
        optimizer.clear_grad()
    with paddle.no_grad():
        person = F.softmax(model(x)[0], axis=1)[:, 1].numpy()
    foreground = label.numpy() == 1
    if relu_logits:
        assert person.max() <= 0.5 + 1e-6
    else:
        assert (person[foreground] > 0.5).mean() > 0.5


def test_release_checkpoint_without_logit_relu_differs_only_where_clamped(reference_checkpoint):
    path, _, x, expected = reference_checkpoint
    low_res = []
    for relu_logits in (True, False):
        model = load_weights(ConnectNet(relu_logits=relu_logits), str(path))
        model.eval()
        with paddle.no_grad():
            features = model.encoder(x)
            low_res.append(model.decoder(features[0], features[-1]).numpy())
    released, unclamped = low_res
    positive = released > 0
    assert 0.2 < positive.mean() < 0.95  # both clamped and unclamped pixels
    np.testing.assert_allclose(unclamped[positive], released[positive], atol=1e-5)
    assert (unclamped[~positive] <= 1e-6).all() and (unclamped[~positive] < -1e-3).any()
    # clamping the unclamped logits gives back the reference model's output exactly
    upsampled = F.interpolate(paddle.to_tensor(np.maximum(unclamped, 0.0)), x.shape[2:],
                              mode="bilinear", align_corners=False).numpy()
    assert np.abs(upsampled - expected).max() <= 1e-5


def test_forward_is_the_resize_of_the_low_res_logits_and_resizing_commutes_with_differences():
    paddle.seed(8)
    model = randomize(ConnectNet(), seed=9)
    model.eval()
    x = paddle.rand([1, 3, 97, 131])
    with paddle.no_grad():
        logits = model(x)[0]
        low_res = model.low_res_logits(x)
        difference = model.resize(low_res[:, 1:2] - low_res[:, 0:1], [97, 131])
    assert low_res.shape == [1, 2, 49, 66]
    np.testing.assert_array_equal(model.resize(low_res, [97, 131]).numpy(), logits.numpy())
    expected = (logits[:, 1:2] - logits[:, 0:1]).numpy()
    np.testing.assert_allclose(difference.numpy(), expected, atol=1e-5 * np.abs(expected).max())


@pytest.mark.parametrize("multiple,stem,skip_proj", [(16, 48, 32), (8, 40, 24)])
def test_channel_aligned_copy_computes_the_same_function(multiple, stem, skip_proj):
    model = randomize(ConnectNet(), seed=10)
    model.eval()
    before = {key: value.numpy().copy() for key, value in model.state_dict().items()}
    aligned = model.channel_aligned(multiple)
    assert not aligned.training
    assert aligned.encoder.feat_channels == [stem, 72, 144]
    assert aligned.encoder.stem._conv.weight.shape[0] == stem
    assert aligned.decoder.skip_proj._conv.weight.shape[:2] == [skip_proj, stem]
    assert aligned.decoder.fuse.piontwise_conv._conv.weight.shape[:2] == [64, skip_proj + 64]
    x = paddle.to_tensor(np.random.default_rng(11).normal(size=(2, 3, 97, 131)).astype("float32"))
    with paddle.no_grad():
        expected, got = model(x)[0].numpy(), aligned(x)[0].numpy()
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-5 * np.abs(expected).max())
    # Only zeros were added (weights and BN statistics alike); the original model is untouched.
    assert n_params(aligned) > n_params(model) == PAPER_PARAMS
    nonzero = [sum(np.count_nonzero(value.numpy()) for value in m.state_dict().values()) for m in (model, aligned)]
    assert nonzero[0] == nonzero[1]
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(value.numpy(), before[key])

"""PaddleSeg's released PP-HumanSegV1-Lite checkpoint, given to ``pphumanseg export --model_path``
as it is and exported with every output_op, gives the released ONNX model's person probability
(within 1e-4, decisions on >= 99.99 % of pixels) on photos of real people, through
``Predictor`` with Paddle Inference, ONNX Runtime and Paddle Lite."""
import cv2
import numpy as np
import pytest

from pphumanseg_deploy import Predictor

RUNTIMES = ("paddle", "onnx", "lite")
RELEASE_INPUT_SIZE = (398, 224)  # width, height of the released portrait model


def release_input(image_bgr):
    """The released model's documented input: RGB, resized, (x / 255 - 0.5) / 0.5, NCHW."""
    rgb = cv2.cvtColor(image_bgr, cv2.COLOR_BGR2RGB)
    resized = cv2.resize(rgb, RELEASE_INPUT_SIZE, interpolation=cv2.INTER_LINEAR)
    return ((resized.astype(np.float32) / 255.0 - 0.5) / 0.5).transpose(2, 0, 1)[np.newaxis]


@pytest.fixture(scope="module")
def released_probabilities(released_onnx, real_photos):
    import onnxruntime

    session = onnxruntime.InferenceSession(str(released_onnx), providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    return {photo: session.run(None, {name: release_input(image)})[0][0, 1]
            for photo, image in real_photos.items()}


def test_the_photos_show_people_to_the_released_model(released_probabilities):
    for photo, probability in released_probabilities.items():
        person = (probability > 0.5).mean()
        assert 0.1 < person < 0.9, (photo, person)


@pytest.mark.parametrize("runtime", RUNTIMES)
@pytest.mark.parametrize("export", ["softmax", "foreground", "none", "argmax"])
def test_exported_release_checkpoint_matches_the_released_model(connectnet_exports, real_photos,
                                                                released_probabilities, export,
                                                                runtime):
    predictor = Predictor(str(connectnet_exports[export]), runtime=runtime)
    for photo, image in real_photos.items():
        ours = predictor.predict_low_res(image)
        released = released_probabilities[photo]
        assert ours.shape == released.shape == RELEASE_INPUT_SIZE[::-1], photo
        agreement = np.mean((ours > 0.5) == (released > 0.5))
        assert agreement >= 0.9999, (photo, agreement)
        if export != "argmax":  # argmax exports give class ids, compared by agreement only
            assert np.abs(ours - released).max() <= 1e-4, (photo, np.abs(ours - released).max())

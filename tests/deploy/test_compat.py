"""Inference directories written the way PaddleSeg's own export does (paddleseg's PPHumanSegLite,
its WrappedModel, its deploy.yaml fields) load in Predictor: argmax (1-channel int32), softmax
(2-channel) and raw logits, in the legacy .pdmodel of the official models and in the model.json
paddleseg 2.8 writes on Paddle 3."""
import numpy as np
import yaml

from pphumanseg_deploy import Predictor


def test_paddleseg_exports_load_and_agree(paddleseg_exports, portrait_frame):
    image = portrait_frame[0]
    deploy = yaml.safe_load((paddleseg_exports["argmax"] / "deploy.yaml").read_text())["Deploy"]
    assert deploy["model"] == "model.pdmodel" and deploy["output_dtype"] == "int32"
    assert (paddleseg_exports["argmax"] / "model.json").is_file()
    assert (paddleseg_exports["softmax"] / "model.pdmodel").is_file()
    predictors = {op: Predictor(str(folder)) for op, folder in paddleseg_exports.items()}
    low_res = {op: predictor.predict_low_res(image) for op, predictor in predictors.items()}
    for op, probability in low_res.items():
        assert probability.shape == (224, 398) and probability.dtype == np.float32, op
        assert 0.0 <= probability.min() and probability.max() <= 1.0, op
    # Same weights (seeded) in all three: logits through our softmax equal paddleseg's softmax.
    assert np.abs(low_res["softmax"] - low_res["none"]).max() < 1e-5
    decided = np.abs(low_res["softmax"] - 0.5) > 1e-4
    assert decided.mean() > 0.5
    assert np.mean((low_res["softmax"] > 0.5)[decided] == (low_res["argmax"] > 0.5)[decided]) >= 0.9999
    full = predictors["softmax"].predict(image)
    assert full.shape == image.shape[:2] and full.dtype == np.float32
    assert np.unique(full).size > 2  # upsampled soft probabilities, not a hard mask


def test_paddleseg_preprocessing_is_reproduced(paddleseg_exports, portrait_frame):
    """Our pre-processing equals paddleseg's own transforms built from the same deploy.yaml."""
    from paddleseg.transforms import Compose, Normalize, Resize

    image = portrait_frame[0]
    ours = Predictor(str(paddleseg_exports["softmax"])).preprocess(image)
    reference = Compose([Resize(target_size=(398, 224)), Normalize(mean=(0.5,) * 3, std=(0.5,) * 3)])
    theirs = reference({"img": image.astype("float32")})["img"][np.newaxis]
    assert ours.shape == theirs.shape
    # We resize the uint8 image, paddleseg a float copy: rounding only (< 1 grey level).
    assert np.abs(ours - theirs).max() < 2.0 / 255 / 0.5

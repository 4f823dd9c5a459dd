"""PaddleSeg's released PP-HumanSeg models: what each is, its config here and its official files.

URLs and published mIoU are those of PaddleSeg's PP-HumanSeg model list (contrib/PP-HumanSeg);
mIoU is measured there on PP-HumanSeg14K (portrait) or mini Supervisely Person (general).
Parameters are those of the model as this project builds it from ``config``.
"""
import dataclasses
import difflib

from pphumanseg.utils.errors import UsageError

_BASE = "https://paddleseg.bj.bcebos.com/dygraph/pp_humanseg_v2/"
KINDS = ("checkpoint", "inference")


@dataclasses.dataclass(frozen=True)
class ReleasedModel:
    name: str
    task: str  # "portrait" (half-body, video calls) or "general" (full and half body)
    config: str  # relative to the repository's configs/
    input_size: tuple  # (width, height)
    params: int
    published_miou: float
    checkpoint_url: str
    inference_url: str  # PaddleSeg's inference model with softmax (person probability)

    def url(self, kind):
        return self.checkpoint_url if kind == "checkpoint" else self.inference_url


def _released(name, task, config, input_size, params, miou, stem, folder=""):
    return ReleasedModel(name, task, config, input_size, params, miou,
                         f"{_BASE}{folder}{stem}_pretrained.zip",
                         f"{_BASE}{folder}{stem}_inference_model_with_softmax.zip")


RELEASED_MODELS = {model.name: model for model in (
    _released("pp_humanseg_v1_lite_portrait_398x224", "portrait",
              "connectnet/connectnet_portrait_398x224.yml", (398, 224), 137_466, 93.60,
              "portrait_pp_humansegv1_lite_398x224"),
    _released("pp_humanseg_v2_lite_portrait_256x144", "portrait",
              "pp_humanseg_v2/pp_humanseg_v2_lite_portrait_256x144.yml", (256, 144), 2_981_366,
              96.63, "portrait_pp_humansegv2_lite_256x144",
              "portrait_pp_humansegv2_lite_256x144_smaller/"),
    _released("pp_humanseg_v1_lite_general_192x192", "general",
              "connectnet/connectnet_general_192x192.yml", (192, 192), 137_466, 86.02,
              "human_pp_humansegv1_lite_192x192"),
    _released("pp_humanseg_v2_lite_general_192x192", "general",
              "pp_humanseg_v2/pp_humanseg_v2_lite_general_192x192.yml", (192, 192), 3_043_990, 92.52,
              "human_pp_humansegv2_lite_192x192"),
    _released("pp_humanseg_v1_mobile_general_192x192", "general",
              "pp_humanseg_v1/pp_humanseg_v1_mobile_192x192.yml", (192, 192), 1_543_954, 91.64,
              "human_pp_humansegv1_mobile_192x192"),
    _released("pp_humanseg_v2_mobile_general_192x192", "general",
              "pp_humanseg_v2/pp_humanseg_v2_mobile_192x192.yml", (192, 192), 7_576_596, 93.13,
              "human_pp_humansegv2_mobile_192x192"),
    _released("pp_humanseg_v1_server_general_512x512", "general",
              "pp_humanseg_v1/pp_humanseg_v1_server_512x512.yml", (512, 512), 26_789_874, 96.47,
              "human_pp_humansegv1_server_512x512"),
)}


def released_model(name):
    """The catalogue entry ``name``; an unknown name is a UsageError that suggests close ones."""
    if name in RELEASED_MODELS:
        return RELEASED_MODELS[name]
    close = difflib.get_close_matches(name, RELEASED_MODELS, n=2, cutoff=0.5)
    hint = f"; did you mean {' or '.join(close)}?" if close else "; see 'pphumanseg zoo list'"
    raise UsageError(f"zoo: no released model named {name!r}{hint}")

"""pphumanseg: PP-HumanSeg (Chu et al., WACV 2022 workshops, arXiv:2112.07146) for PaddleSeg.

Importing the package registers every component in ``paddleseg.cvlibs.manager`` and changes
nothing else; the PaddlePaddle 3 fixes for paddleseg 2.8 are applied where they are needed (see
``pphumanseg.utils.paddle3_compat``).
"""
__version__ = "0.1.0"

import warnings

with warnings.catch_warnings():
    # paddle warns at import on every machine without ccache; it only concerns C++ extension builds.
    warnings.filterwarnings("ignore", message="No ccache found", category=UserWarning)
    import paddle  # noqa: F401

# Imported for their registrations in paddleseg.cvlibs.manager.
from . import models, losses, datasets  # noqa: E402,F401

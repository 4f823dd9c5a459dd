"""pphumanseg: PP-HumanSeg (Chu et al., WACV 2022 workshops, arXiv:2112.07146) for PaddleSeg.

Importing the package applies the PaddlePaddle 3 compatibility patches for paddleseg 2.8 and
registers every component in ``paddleseg.cvlibs.manager``.
"""
__version__ = "0.1.0"

import warnings

# paddle warns at import time on every machine without ccache; it only concerns C++ extension builds.
warnings.filterwarnings("ignore", message="No ccache found", category=UserWarning)

from . import paddle3_compat  # noqa: E402

paddle3_compat.apply()

# Imported for their registrations in paddleseg.cvlibs.manager.
from . import models, losses, datasets  # noqa: E402,F401

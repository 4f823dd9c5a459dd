"""Photos of real people that registry packages ship, for checks that need no labels.

scikit-image's astronaut (Eileen Collins) and cameraman, and matplotlib's Grace Hopper; used by
the tests, ``bench_int8.py`` and ``reproduce_paper.py`` (how far training moves a model from the
released one on real people).
"""
import cv2


def real_photos():
    """``{name: BGR uint8 image}``."""
    import matplotlib.cbook
    from skimage import data

    hopper = cv2.imread(str(matplotlib.cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)))
    return {"astronaut": cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR),
            "cameraman": cv2.cvtColor(data.camera(), cv2.COLOR_GRAY2BGR),
            "grace_hopper": hopper}

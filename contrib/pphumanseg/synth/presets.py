"""Difficulty presets: how often each hard case appears in a generated video.

A preset only holds probabilities and ranges; the scene code draws every concrete value from the
video's own random generator, so a preset plus a seed fixes a video completely.
"""
from dataclasses import dataclass


@dataclass(frozen=True)
class Preset:
    """Probabilities (per video unless stated) and value ranges of one difficulty level.

    Args:
        name: the name used on the command line.
        two_participants: probability of a second participant sharing the frame.
        passerby: probability of a person walking through behind the participants.
        occluders: probability of each foreground occluder (cup, microphone, laptop edge).
        arm_poses: relative weights of the arm poses in ``person.ARM_POSES`` order.
        finger_width: finger thickness as a fraction of the head height (thin fingers are hard).
        border_offset: largest sideways offset of a participant, as a fraction of the frame width
            (large offsets push shoulders and arms out of the frame).
        lighting_change: probability of a sudden light change during the video.
        noise_sigma: range of the camera noise standard deviation, in grey levels.
        camera_shake: probability of a camera-shake segment with motion blur.
        jpeg_quality: range of the quality of the simulated video compression.
        hard_negatives: probability of each skin- or clothing-coloured background object.
    """

    name: str
    two_participants: float
    passerby: float
    occluders: float
    arm_poses: tuple
    finger_width: float
    border_offset: float
    lighting_change: float
    noise_sigma: tuple
    camera_shake: float
    jpeg_quality: tuple
    hard_negatives: float


PRESETS = {
    preset.name: preset
    for preset in (
        Preset(name="easy", two_participants=0.0, passerby=0.0, occluders=0.0,
               arm_poses=(6, 2, 1, 0.5, 0.5, 0), finger_width=0.06, border_offset=0.05,
               lighting_change=0.0, noise_sigma=(0.5, 2.0), camera_shake=0.0,
               jpeg_quality=(85, 95), hard_negatives=0.2),
        Preset(name="default", two_participants=0.15, passerby=0.25, occluders=0.25,
               arm_poses=(4, 3, 2, 1.5, 1, 1), finger_width=0.05, border_offset=0.18,
               lighting_change=0.3, noise_sigma=(1.0, 5.0), camera_shake=0.15,
               jpeg_quality=(45, 90), hard_negatives=0.5),
        Preset(name="connectivity-hard", two_participants=0.35, passerby=0.6, occluders=0.8,
               arm_poses=(1, 2, 2, 4, 1, 3), finger_width=0.035, border_offset=0.3,
               lighting_change=0.5, noise_sigma=(2.0, 8.0), camera_shake=0.3,
               jpeg_quality=(30, 70), hard_negatives=0.9),
    )
}


def get_preset(name):
    """The preset called ``name``; raises ValueError naming the valid choices otherwise."""
    try:
        return PRESETS[name]
    except KeyError:
        raise ValueError(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}") from None

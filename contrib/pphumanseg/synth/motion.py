"""Smooth, seeded motion over time: drifting signals and keyframed poses.

Each object draws all of its randomness at construction and is then a pure function of the frame
index, so any frame of a video can be rendered on its own and the result does not depend on the
order frames are rendered in.
"""
import numpy as np


class Drift:
    """A sum of slow sinusoids with random periods and phases, e.g. a head swaying.

    Args:
        rng: the video's ``numpy.random.Generator``.
        amplitude: peak value of the sum (the terms' amplitudes add up to it).
        periods: (shortest, longest) period in frames.
        terms: how many sinusoids are summed.
    """

    def __init__(self, rng, amplitude, periods, terms=2):
        weights = rng.uniform(0.3, 1.0, terms)
        self.amplitudes = amplitude * weights / weights.sum()
        self.frequencies = 2 * np.pi / rng.uniform(periods[0], periods[1], terms)
        self.phases = rng.uniform(0, 2 * np.pi, terms)

    def __call__(self, t):
        return float(np.sum(self.amplitudes * np.sin(self.frequencies * t + self.phases)))


def smoothstep(x):
    x = min(max(x, 0.0), 1.0)
    return x * x * (3 - 2 * x)


class Keyframes:
    """A pose vector that holds, then eases into the next randomly chosen pose.

    Args:
        rng: the video's ``numpy.random.Generator``.
        poses: array (P, D) of pose vectors to choose from.
        weights: relative probability of each pose.
        frames: number of frames the schedule must cover.
        hold: (shortest, longest) frames between two keyframes.
        transition: frames spent easing from one pose to the next.
    """

    def __init__(self, rng, poses, weights, frames, hold=(14, 40), transition=12):
        probabilities = np.asarray(weights, np.float64) / np.sum(weights)
        self.poses = np.asarray(poses, np.float64)
        self.transition = transition
        self.starts, self.choices = [], []
        start = -int(rng.integers(0, hold[1]))
        while start < frames:
            self.starts.append(start)
            self.choices.append(int(rng.choice(len(self.poses), p=probabilities)))
            start += int(rng.integers(hold[0], hold[1] + 1))

    def __call__(self, t):
        index = int(np.searchsorted(self.starts, t, side="right")) - 1
        index = max(index, 0)
        current = self.poses[self.choices[index]]
        if index == 0:
            return current
        previous = self.poses[self.choices[index - 1]]
        weight = smoothstep((t - self.starts[index]) / self.transition)
        return previous + weight * (current - previous)

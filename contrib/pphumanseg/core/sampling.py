"""Reproducible, resumable training batches.

Every batch is a function of (seed, epoch, position) only: the shuffle of each epoch comes from
``RandomState([seed, epoch])`` and every sample's random augmentation is seeded from
(seed, epoch, dataset index). Training that resumes at iteration N therefore sees exactly the
batches and augmentations that an uninterrupted run sees after N iterations, with any
``num_workers`` and on every rank.
"""
import random

import numpy as np
import paddle


class SeededSample:
    """A dataset index together with the seed for its random transforms."""

    __slots__ = ("index", "seed")

    def __init__(self, index, seed):
        self.index = index
        self.seed = seed


class SeededDataset(paddle.io.Dataset):
    """Seeds Python's and numpy's random generators before each sample is transformed.

    Args:
        dataset (paddle.io.Dataset): a map-style dataset whose transforms use ``random``/``np.random``.
    """

    def __init__(self, dataset):
        super().__init__()
        self.dataset = dataset

    def __getitem__(self, sample):
        random.seed(sample.seed)
        np.random.seed(sample.seed)
        return self.dataset[sample.index]

    def __len__(self):
        return len(self.dataset)


class EpochBatchSampler(paddle.io.BatchSampler):
    """Shuffled, rank-sharded batches that can start from any iteration.

    Each rank takes every ``num_ranks``-th sample of the epoch's permutation; incomplete batches
    are dropped so every rank runs the same number of iterations.

    Args:
        dataset_size (int): number of samples in the dataset.
        batch_size (int): samples per batch on each rank.
        seed (int): base seed of the shuffles and augmentations.
        rank (int): this process's rank.
        num_ranks (int): number of data-parallel processes.
    """

    def __init__(self, dataset_size, batch_size, seed, rank=0, num_ranks=1):
        self.dataset_size = dataset_size
        self.batch_size = batch_size
        self.seed = seed
        self.rank = rank
        self.num_ranks = num_ranks
        self.epoch = 0
        self.first_batch = 0

    def __len__(self):
        return self.dataset_size // self.num_ranks // self.batch_size

    def start_at(self, epoch, first_batch=0):
        """The next iteration over the sampler yields ``epoch`` from its ``first_batch``-th batch."""
        self.epoch = epoch
        self.first_batch = first_batch

    def __iter__(self):
        order = np.random.RandomState([self.seed, self.epoch]).permutation(self.dataset_size)
        mine = order[self.rank::self.num_ranks]
        for batch in range(self.first_batch, len(self)):
            indices = mine[batch * self.batch_size:(batch + 1) * self.batch_size]
            yield [SeededSample(int(i), self._sample_seed(int(i))) for i in indices]

    def _sample_seed(self, index):
        return int(np.random.SeedSequence([self.seed, self.epoch, index]).generate_state(1)[0])

import numpy as np

from pphumanseg.core.sampling import EpochBatchSampler, SeededDataset


def indices(batches):
    return [[sample.index for sample in batch] for batch in batches]


def test_starting_mid_epoch_yields_the_rest_of_that_epoch_unchanged():
    sampler = EpochBatchSampler(dataset_size=10, batch_size=3, seed=7)
    sampler.start_at(epoch=2)
    full = list(sampler)
    assert len(full) == len(sampler) == 3  # the incomplete 4th batch is dropped
    sampler.start_at(epoch=2, first_batch=1)
    rest = list(sampler)
    assert indices(rest) == indices(full[1:])
    assert [[s.seed for s in b] for b in rest] == [[s.seed for s in b] for b in full[1:]]
    sampler.start_at(epoch=3)
    assert indices(list(sampler)) != indices(full)  # a new shuffle every epoch


def test_ranks_get_disjoint_shards_of_equal_length():
    ranks = [EpochBatchSampler(11, 2, seed=0, rank=r, num_ranks=2) for r in range(2)]
    shards = [sum(indices(list(s)), []) for s in ranks]
    assert len(ranks[0]) == len(ranks[1]) == 2
    assert not set(shards[0]) & set(shards[1])


class RandomItems:
    def __getitem__(self, index):
        return index, np.random.rand(), np.random.randint(1000)

    def __len__(self):
        return 4


def test_a_sample_is_augmented_the_same_way_whenever_it_is_loaded():
    sampler = EpochBatchSampler(4, 2, seed=3)
    dataset = SeededDataset(RandomItems())
    first = [dataset[sample] for batch in sampler for sample in batch]
    np.random.rand(5)  # disturb the global generator
    again = [dataset[sample] for batch in sampler for sample in batch]
    assert first == again
    assert len({item[1] for item in first}) == 4

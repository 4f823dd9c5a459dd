"""pphumanseg.scratch: per-thread reuse of work arrays."""
import threading

import numpy as np

from pphumanseg.scratch import MAX_KEPT_BYTES, scratch


def test_same_name_shape_and_dtype_reuse_the_array_on_one_thread_only():
    first = scratch("test", (3, 4), np.float32)
    assert scratch("test", (3, 4), np.float32) is first
    assert scratch("test", (3, 5), np.float32).shape == (3, 5)  # a new shape replaces it
    assert scratch("test", (3, 5), np.uint8).dtype == np.uint8
    mine = scratch("test", (3, 5), np.uint8)
    other = []
    thread = threading.Thread(target=lambda: other.append(scratch("test", (3, 5), np.uint8)))
    thread.start()
    thread.join()
    assert other[0] is not mine


def test_large_arrays_are_not_kept():
    shape = (MAX_KEPT_BYTES + 1,)
    assert scratch("test_large", shape, np.uint8) is not scratch("test_large", shape, np.uint8)

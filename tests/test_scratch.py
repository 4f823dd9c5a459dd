"""pphumanseg.scratch: per-thread reuse of work arrays."""
import threading

import numpy as np
import paddle

from pphumanseg.scratch import MAX_KEPT_BYTES, recycled, scratch


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


def test_recycled_array_is_reused_only_once_nothing_else_holds_it():
    first = recycled("test", (3, 4), np.float32)
    second = recycled("test", (3, 4), np.float32)
    assert second is not first  # ``first`` is still referred to here, so it is not handed out
    address = second.ctypes.data
    del first, second
    assert recycled("test", (3, 4), np.float32).ctypes.data == address  # the latest is kept
    assert recycled("test", (3, 5), np.float32).shape == (3, 5)


def test_recycled_array_shared_with_a_paddle_tensor_waits_for_the_tensor():
    array = recycled("test_tensor", (4,), np.float32)
    address = array.ctypes.data
    tensor = paddle.from_dlpack(array)
    del array
    assert recycled("test_tensor", (4,), np.float32).ctypes.data != address  # still shared
    array = recycled("test_released", (4,), np.float32)
    address = array.ctypes.data
    tensor = paddle.from_dlpack(array)
    del array, tensor
    assert recycled("test_released", (4,), np.float32).ctypes.data == address  # freed: reused

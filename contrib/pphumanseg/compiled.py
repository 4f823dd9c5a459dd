"""``kernel``: how pphumanseg compiles its per-pixel loops with numba.

- ``nogil``: kernels run on several images at once from a thread pool.
- ``cache``: compiled once per machine, into ``__pycache__``.
- ``error_model="numpy"``: a float division by zero gives inf/nan instead of raising; numba's
  default ("python") checks every division, which keeps loops with a division from vectorising
  (measured: 12x slower on a 1/(1 + e) loop).
"""
import numba

kernel = numba.njit(nogil=True, cache=True, error_model="numpy")

"""NumPy's legacy random generator (``numpy.random.RandomState(seed)``) in plain Python, draw for draw.

scikit-learn's data sets and its train/test split take their randomness from ``RandomState(seed)``, so a page
running jangrad without NumPy (Pyodide in a browser) needs the very same numbers to give the same data. They are
reachable from the standard library: ``RandomState`` is the Mersenne Twister, MT19937, as ``random.Random`` is, and
differs only in how it is seeded and in what it builds on the raw 32-bit words:

* seeding: an integer seed fills the state by ``init_genrand`` (Python's ``random.seed`` uses ``init_by_array``);
  the state is then handed to a ``random.Random`` with ``setstate``;
* a double in [0, 1) takes two words, 27 and 26 bits, exactly as ``random.random()`` does;
* a normal deviate is the polar (Marsaglia) method, which makes two and keeps the second for the next call;
* shuffling is Fisher-Yates from the end, each index drawn by masking 32-bit words to the smallest power of two
  above the bound and rejecting those beyond it.

Only what scikit-learn's ``make_moons``, ``make_circles`` and ``train_test_split`` use is here; the tests hold every
draw against NumPy's.
"""

from __future__ import annotations

import math
import random
from collections.abc import MutableSequence
from typing import Any

__all__ = ["LegacyRandomState", "MAX_SEED"]

MAX_SEED = 2**32 - 1  # RandomState takes seeds from 0 to 2**32 - 1
_STATE_WORDS = 624


def _init_genrand(seed: int) -> list[int]:
    """MT19937's state from a 32-bit seed (Matsumoto and Nishimura's ``init_genrand``, NumPy's ``mt19937_seed``)."""
    words = [seed]
    for i in range(1, _STATE_WORDS):
        previous = words[-1]
        words.append((1812433253 * (previous ^ (previous >> 30)) + i) & 0xFFFFFFFF)
    return words


class LegacyRandomState:
    """``numpy.random.RandomState(seed)`` for an integer ``seed``: the draws scikit-learn's generators make."""

    def __init__(self, seed: int) -> None:
        if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
            raise ValueError(f"seed must be a whole number from 0 to {MAX_SEED}, got {seed!r}")
        self._twister = random.Random()
        # Python's state is the 624 words and the position in them; 624 means "regenerate before the next word".
        self._twister.setstate((3, (*_init_genrand(seed), _STATE_WORDS), None))
        self._spare_gauss: float | None = None

    def random_sample(self) -> float:
        """A double in [0, 1): ``(a >> 5) * 2**26 + (b >> 6)`` over 2**53, as both libraries make it."""
        return self._twister.random()

    def standard_normal(self) -> float:
        """NumPy's legacy Gaussian: the polar method, the second deviate kept for the next call."""
        if self._spare_gauss is not None:
            spare, self._spare_gauss = self._spare_gauss, None
            return spare
        while True:
            x1 = 2.0 * self.random_sample() - 1.0
            x2 = 2.0 * self.random_sample() - 1.0
            r2 = x1 * x1 + x2 * x2
            if 0.0 < r2 < 1.0:
                break
        f = math.sqrt(-2.0 * math.log(r2) / r2)
        self._spare_gauss = f * x1
        return f * x2

    def normal(self, loc: float, scale: float) -> float:
        return loc + scale * self.standard_normal()

    def interval(self, largest: int) -> int:
        """A whole number from 0 to ``largest`` (NumPy's ``random_interval``, for bounds below 2**32)."""
        if largest == 0:
            return 0
        mask = (1 << largest.bit_length()) - 1  # the smallest all-ones mask that covers largest
        while True:
            value = self._twister.getrandbits(32) & mask
            if value <= largest:
                return value

    def shuffle(self, items: MutableSequence[Any]) -> None:
        """Shuffle ``items`` in place as ``RandomState.shuffle`` shuffles a one-dimensional array."""
        for i in range(len(items) - 1, 0, -1):
            j = self.interval(i)
            items[i], items[j] = items[j], items[i]

    def permutation(self, n: int) -> list[int]:
        """``RandomState.permutation(n)``: 0..n-1, shuffled."""
        order = list(range(n))
        self.shuffle(order)
        return order

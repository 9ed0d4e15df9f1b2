"""Small-sample statistics for comparing two sets of runs, exact where it matters.

Runs are expensive (a VM boot each), so sides have 3-10 samples. The Mann-Whitney U test
is computed exactly (the distribution of the rank sum under the null hypothesis, ties
included, by counting), not by the normal approximation, which is poor at these sizes; the
bootstrap is seeded so the same inputs give the same interval.
"""

from __future__ import annotations

import math
import random
from typing import Sequence
from ktstr.errors import KtstrError


class SampleError(KtstrError, ValueError):
    """Samples a statistic cannot be computed on (none, or one side empty)."""


# Above this many samples in total the exact count gets slow; use the normal approximation.
_EXACT_MAX = 60


def median(xs: Sequence[float]) -> float:
    s = sorted(xs)
    n = len(s)
    if n == 0:
        raise SampleError("median of no samples")
    return s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2


def _midranks(values: Sequence[float]) -> list[float]:
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return ranks


def mann_whitney_greater(a: Sequence[float], b: Sequence[float]) -> float:
    """One-sided p-value of the Mann-Whitney U test that b tends to be larger than a
    (P of a rank sum of b at least as large as observed, if both came from one
    distribution). 1.0 when either side is empty."""
    n, m = len(a), len(b)
    if n == 0 or m == 0:
        return 1.0
    ranks = _midranks(list(a) + list(b))
    doubled = [int(round(2 * r)) for r in ranks]  # midranks are multiples of 1/2
    observed = sum(doubled[n:])
    if n + m <= _EXACT_MAX:
        return _exact_upper_tail(doubled, m, observed)
    return _normal_upper_tail(ranks, n, m, observed / 2)


def _exact_upper_tail(doubled: list[int], m: int, observed: int) -> float:
    """Count the m-subsets of the pooled (doubled) ranks by their sum: the null distribution
    of b's rank sum, exact with ties."""
    total = sum(doubled)
    # ways[k][s]: subsets of size k with sum s, built one pooled value at a time.
    ways = [[0] * (total + 1) for _ in range(m + 1)]
    ways[0][0] = 1
    for v in doubled:
        for k in range(m, 0, -1):
            row, prev = ways[k], ways[k - 1]
            for s in range(total, v - 1, -1):
                if prev[s - v]:
                    row[s] += prev[s - v]
    count = sum(ways[m][observed:])
    return count / math.comb(len(doubled), m)


def _normal_upper_tail(ranks: list[float], n: int, m: int, rank_sum_b: float) -> float:
    N = n + m
    mean = m * (N + 1) / 2
    ties: dict[float, int] = {}
    for r in ranks:
        ties[r] = ties.get(r, 0) + 1
    tie_term = sum(t ** 3 - t for t in ties.values()) / (N * (N - 1))
    var = n * m / 12 * ((N + 1) - tie_term)
    if var <= 0:
        return 1.0
    z = (rank_sum_b - mean - 0.5) / math.sqrt(var)  # continuity correction
    return 0.5 * math.erfc(z / math.sqrt(2))


def bootstrap_median_delta(a: Sequence[float], b: Sequence[float], confidence: float = 0.95,
                           resamples: int = 2000, seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap interval of median(b) - median(a), resampling each side."""
    if not a or not b:
        raise SampleError("bootstrap needs samples on both sides")
    rng = random.Random(seed)
    deltas = sorted(median(rng.choices(b, k=len(b))) - median(rng.choices(a, k=len(a)))
                    for _ in range(resamples))
    tail = (1 - confidence) / 2
    lo = deltas[int(math.floor(tail * (resamples - 1)))]
    hi = deltas[int(math.ceil((1 - tail) * (resamples - 1)))]
    return lo, hi

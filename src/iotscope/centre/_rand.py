"""Agreement between two partitions of the same items: the adjusted Rand index.

Hubert and Arabie (1985), "Comparing partitions", J. Classification 2:193-218: the Rand index
(share of item pairs on which the partitions agree) corrected for chance under the
permutation model, so 1.0 is identical partitions and about 0.0 is chance agreement:

    ARI = (sum_ij C(n_ij, 2) - E) / (0.5 (sum_i C(a_i, 2) + sum_j C(b_j, 2)) - E),
    E   = sum_i C(a_i, 2) sum_j C(b_j, 2) / C(n, 2)

with ``n_ij`` the contingency table and ``a``, ``b`` its margins.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping

import numpy as np


def adjusted_rand(truth: Mapping[Hashable, Hashable], found: Mapping[Hashable, Hashable]) -> float:
    """ARI of ``found`` against ``truth`` over the items both label (item -> cluster label)."""
    items = [k for k in truth if k in found]
    if len(items) < 2:
        return 1.0
    rows = _codes([truth[k] for k in items])
    cols = _codes([found[k] for k in items])
    table = np.zeros((rows.max() + 1, cols.max() + 1), dtype=np.int64)
    np.add.at(table, (rows, cols), 1)
    pairs = float(_pairs(table).sum())
    a = float(_pairs(table.sum(axis=1)).sum())
    b = float(_pairs(table.sum(axis=0)).sum())
    expected = a * b / float(_pairs(np.array([len(items)]))[0])
    top = 0.5 * (a + b) - expected
    if top == 0.0:  # both partitions all-singletons or one cluster: identical by construction
        return 1.0
    return (pairs - expected) / top


def pair_scores(
    truth: Mapping[Hashable, Hashable], found: Mapping[Hashable, Hashable]
) -> tuple[float, float]:
    """Pairwise precision and recall: of the item pairs ``found`` joins, how many ``truth`` joins
    (and the converse). 1.0 where there is no pair to judge."""
    items = [k for k in truth if k in found]
    rows = _codes([truth[k] for k in items])
    cols = _codes([found[k] for k in items])
    if not items:
        return 1.0, 1.0
    table = np.zeros((rows.max() + 1, cols.max() + 1), dtype=np.int64)
    np.add.at(table, (rows, cols), 1)
    both = float(_pairs(table).sum())
    joined = float(_pairs(table.sum(axis=0)).sum())
    true = float(_pairs(table.sum(axis=1)).sum())
    return (both / joined if joined else 1.0), (both / true if true else 1.0)


def _codes(labels: list[Hashable]) -> np.ndarray:
    index: dict[Hashable, int] = {}
    return np.array([index.setdefault(x, len(index)) for x in labels], dtype=np.int64)


def _pairs(x: np.ndarray) -> np.ndarray:
    return x * (x - 1) // 2

"""Graph helpers shared by the rules, coverage, suggestions and diagnostics.

The unit graph is a symmetric CSR matrix (``indptr``, ``indices``) in the order of the
reference's units; questions are answered on integer positions with ``scipy.sparse.csgraph``.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.sparse import csgraph

__all__ = ["components", "groups", "induced", "neighbours_of", "pairs_within_runs"]


def pairs_within_runs(sorted_values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions ``(i, j)``, ``i < j``, of every two equal entries of a sorted array.

    Entries ``d`` places apart, for d = 1, 2, ...: a run is at most a few dozen long (units at
    a vertex, neighbours of a unit), so this is a few vectorised passes over the array.

    >>> pairs_within_runs(np.array([1, 1, 2, 3, 3, 3]))
    (array([0, 3, 4, 3]), array([1, 4, 5, 5]))
    """
    i_parts, j_parts = [np.empty(0, dtype=np.intp)], [np.empty(0, dtype=np.intp)]
    d = 1
    while d < len(sorted_values):
        i = np.flatnonzero(sorted_values[d:] == sorted_values[:-d])
        if not len(i):
            break
        i_parts.append(i)
        j_parts.append(i + d)
        d += 1
    return np.concatenate(i_parts), np.concatenate(j_parts)


def neighbours_of(graph: sp.csr_matrix, positions: np.ndarray) -> np.ndarray:
    """Neighbours of the given nodes, concatenated in node order (with repeats).

    ``graph`` is a CSR matrix, or anything holding its ``indptr`` and ``indices`` arrays.

    >>> g = sp.csr_matrix(np.array([[0, 1, 0], [1, 0, 1], [0, 1, 0]]))
    >>> neighbours_of(g, np.array([0, 2])).tolist()
    [1, 1]
    """
    starts, ends = graph.indptr[positions], graph.indptr[positions + 1]
    lengths = ends - starts
    total = int(lengths.sum())
    if not total:
        return np.empty(0, dtype=graph.indices.dtype)
    offsets = np.repeat(starts - np.r_[0, np.cumsum(lengths)[:-1]], lengths)
    return graph.indices[np.arange(total) + offsets]


def induced(graph: sp.csr_matrix, positions: np.ndarray) -> sp.csr_matrix:
    """The sub-graph induced by ``positions`` (CSR row and column slicing), in their order."""
    positions = np.asarray(positions, dtype=np.int64)
    return graph[positions][:, positions].tocsr()


def components(graph: sp.csr_matrix, positions: np.ndarray | None = None) -> tuple[int, np.ndarray]:
    """Connected components of ``graph`` (or of the sub-graph induced by ``positions``).

    Returns the number of components and the label of each node (of each position).
    """
    g = graph if positions is None else induced(graph, positions)
    if g.shape[0] == 0:
        return 0, np.empty(0, dtype=np.int32)
    k, labels = csgraph.connected_components(g, directed=False)
    return int(k), labels


def groups(labels: np.ndarray, k: int | None = None) -> list[np.ndarray]:
    """Indices of each label ``0..k-1``, in label order (indices increasing within a group).

    >>> [g.tolist() for g in groups(np.array([1, 0, 1, 2]))]
    [[1], [0, 2], [3]]
    """
    labels = np.asarray(labels)
    if k is None:
        k = int(labels.max()) + 1 if len(labels) else 0
    order = np.argsort(labels, kind="stable")
    bounds = np.searchsorted(labels[order], np.arange(k + 1))
    return [order[bounds[i] : bounds[i + 1]] for i in range(k)]

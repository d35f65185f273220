"""Graph helpers shared by the rules, coverage, suggestions and diagnostics.

The unit graph is a symmetric CSR matrix (``indptr``, ``indices``) in the order of the
reference's units; questions are answered on integer positions. Connected components are found
with numpy (:func:`labels_of_edges`), so that checking a territory does not import scipy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import scipy.sparse as sp

__all__ = ["components", "groups", "induced", "labels_of_edges", "neighbours_of", "pairs_within_runs"]


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


def neighbours_of(graph, positions: np.ndarray) -> np.ndarray:
    """Neighbours of the given nodes, concatenated in node order (with repeats).

    ``graph`` is a CSR matrix, or anything holding its ``indptr`` and ``indices`` arrays.

    >>> from types import SimpleNamespace
    >>> path = SimpleNamespace(indptr=np.array([0, 1, 3, 4]), indices=np.array([1, 0, 2, 1]))
    >>> neighbours_of(path, np.array([0, 2])).tolist()
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


def labels_of_edges(n: int, rows: np.ndarray, cols: np.ndarray) -> tuple[int, np.ndarray]:
    """Connected components of the undirected graph of nodes ``0..n-1`` and edges
    ``(rows[e], cols[e])``: their number and the label of each node.

    Components are numbered in the order of their smallest node, as
    ``scipy.sparse.csgraph.connected_components`` numbers them. Each round hooks the root of
    every edge's higher end under the lower one's, then follows the pointers to the roots; a
    root is the smallest node of its tree, so the rounds end when no edge joins two trees.

    >>> k, labels = labels_of_edges(5, np.array([0, 3]), np.array([4, 1]))
    >>> k, labels.tolist()
    (3, [0, 1, 2, 1, 0])
    """
    parent = np.arange(n)
    lo = np.minimum(rows, cols).astype(np.intp, copy=False)
    hi = np.maximum(rows, cols).astype(np.intp, copy=False)
    while len(lo):
        a, b = parent[lo], parent[hi]
        apart = a != b
        if not apart.any():
            break
        np.minimum.at(parent, np.maximum(a, b)[apart], np.minimum(a, b)[apart])
        while True:
            up = parent[parent]
            if np.array_equal(up, parent):
                break
            parent = up
    roots, labels = np.unique(parent, return_inverse=True)
    return len(roots), labels.astype(np.int32)


def components(graph, positions: np.ndarray | None = None) -> tuple[int, np.ndarray]:
    """Connected components of ``graph`` (a symmetric graph in CSR form: anything with
    ``indptr`` and ``indices``, a scipy matrix or :class:`~cpts_geo.reference.units.ReferenceArrays`),
    or of the sub-graph induced by ``positions``.

    Returns the number of components and the label of each node (of each position, in the
    order given), numbered as :func:`labels_of_edges` does.
    """
    n = len(graph.indptr) - 1
    nodes = np.arange(n) if positions is None else np.asarray(positions, dtype=np.int64)
    m = len(nodes)
    if m == 0:
        return 0, np.empty(0, dtype=np.int32)
    nbrs = neighbours_of(graph, nodes)
    rows = np.repeat(np.arange(m), graph.indptr[nodes + 1] - graph.indptr[nodes])
    if positions is None:
        return labels_of_edges(m, rows, nbrs)
    order = np.argsort(nodes, kind="stable")
    at = np.minimum(np.searchsorted(nodes[order], nbrs), m - 1)
    inside = nodes[order][at] == nbrs
    return labels_of_edges(m, rows[inside], order[at[inside]])


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

"""The graph helpers of the kernel (``cpts_geo._graph``): connected components with numpy, the
same as scipy's, so that checking a territory does not import scipy."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.sparse import csgraph

from cpts_geo import _graph


def _csr(n: int, edges: list[tuple[int, int]]) -> sp.csr_matrix:
    rows = [a for a, b in edges] + [b for a, b in edges]
    cols = [b for a, b in edges] + [a for a, b in edges]
    m = sp.coo_matrix((np.ones(len(rows), dtype=np.int8), (rows, cols)), shape=(n, n)).tocsr()
    m.sum_duplicates()
    m.sort_indices()
    return m


@st.composite
def graphs(draw):
    n = draw(st.integers(0, 40))
    if n == 0:
        return 0, []
    edges = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=3 * n))
    return n, edges


@settings(max_examples=300, deadline=None)
@given(graphs())
def test_labels_of_edges_are_scipys(graph):
    n, edges = graph
    rows = np.array([a for a, _ in edges], dtype=np.int64)
    cols = np.array([b for _, b in edges], dtype=np.int64)
    k, labels = _graph.labels_of_edges(n, rows, cols)
    if n == 0:
        assert (k, labels.tolist()) == (0, [])
        return
    k2, labels2 = csgraph.connected_components(_csr(n, edges), directed=False)
    assert k == k2 and labels.tolist() == labels2.tolist()


@settings(max_examples=200, deadline=None)
@given(graphs(), st.data())
def test_components_of_an_induced_subgraph_are_scipys(graph, data):
    n, edges = graph
    if n == 0:
        return
    m = _csr(n, edges)
    positions = np.array(data.draw(st.lists(st.integers(0, n - 1), unique=True, max_size=n)), dtype=np.int64)
    k, labels = _graph.components(m, positions)
    if not len(positions):
        assert (k, labels.tolist()) == (0, [])
        return
    k2, labels2 = csgraph.connected_components(m[positions][:, positions], directed=False)
    assert k == k2 and labels.tolist() == labels2.tolist()


def test_a_path_numbered_backwards_is_one_component():
    n = 1000
    rows, cols = np.arange(1, n), np.arange(n - 1)
    assert _graph.labels_of_edges(n, rows, cols)[0] == 1

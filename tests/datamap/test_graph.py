"""The pure graph logic: reachability, cycles and the order of deletes, over random graphs."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from charter.datamap import graph

NODES = st.integers(min_value=0, max_value=12)
EDGES = st.lists(st.tuples(NODES, NODES), max_size=40)


def closure(nodes: set[int], edges: list[tuple[int, int]], starts: set[int]) -> set[int]:
    seen = set(starts)
    changed = True
    while changed:
        changed = False
        for a, b in edges:
            if a in seen and b not in seen:
                seen.add(b)
                changed = True
    return seen


@given(EDGES, st.sets(NODES, max_size=3))
def test_reachable_is_the_transitive_closure(edges: list[tuple[int, int]], starts: set[int]) -> None:
    nodes = set(range(13))
    adjacency = graph.adjacency(nodes, edges)
    came_from = graph.reachable(adjacency, starts)
    assert set(came_from) == closure(nodes, edges, starts)
    for node in came_from:
        path = graph.path_to(came_from, node)
        assert path[0] in starts and path[-1] == node
        assert all((a, b) in set(edges) for a, b in itertools.pairwise(path))


@given(EDGES)
def test_layers_put_every_node_after_its_predecessors_or_find_a_real_cycle(edges: list[tuple[int, int]]) -> None:
    adjacency = graph.adjacency(range(13), edges)
    try:
        ordered = graph.layers(adjacency)
    except graph.CycleError as exc:
        cycle = exc.cycle
        assert cycle[0] == cycle[-1] and len(cycle) >= 3
        assert all((a, b) in set(edges) for a, b in itertools.pairwise(cycle))
        assert graph.find_cycle(adjacency) is not None
        return
    assert graph.find_cycle(adjacency) is None
    position = {node: index for index, layer in enumerate(ordered) for node in layer}
    assert sorted(position) == list(range(13))
    for a, b in edges:
        if a != b:
            assert position[a] < position[b]


def test_a_long_chain_does_not_exhaust_the_stack() -> None:
    edges = [(i, i + 1) for i in range(20_000)]
    adjacency = graph.adjacency(range(20_001), edges)
    assert graph.find_cycle(adjacency) is None
    with pytest.raises(graph.CycleError):
        graph.layers(graph.adjacency(range(20_001), [*edges, (20_000, 0)]))


def test_self_loops_are_not_cycles() -> None:
    assert graph.find_cycle(graph.adjacency([1, 2], [(1, 1), (1, 2)])) is None
    assert graph.layers(graph.adjacency([1, 2], [(1, 1), (1, 2)])) == [[1], [2]]


@given(EDGES)
def test_components_are_the_mutually_reachable_sets_in_topological_order(edges: list[tuple[int, int]]) -> None:
    """Discovery's order (issue 11, finding 6): every edge between two components goes forward."""
    nodes = {n for e in edges for n in e} | {0}
    found = graph.components(graph.adjacency(nodes, edges))
    assert sorted(n for c in found for n in c) == sorted(nodes)  # a partition
    of = {n: i for i, c in enumerate(found) for n in c}
    for a, b in edges:
        assert of[a] <= of[b]
    for a, b in itertools.product(nodes, repeat=2):
        mutual = b in closure(nodes, edges, {a}) and a in closure(nodes, edges, {b})
        assert mutual == (of[a] == of[b])


def test_preceding_looks_through_the_nodes_not_chosen() -> None:
    """payments go before orders go before customers; a deletion that keeps orders must still erase
    payments before customers (P-RGT-3: no foreign key broken half-way)."""
    before = {"payments": ["orders"], "orders": ["customers"], "customers": []}  # child -> the parents after it
    assert graph.preceding(before, {"customers", "payments"}) == {"customers": {"payments"}, "payments": set()}
    assert graph.preceding(before, {"customers", "orders", "payments"})["customers"] == {"orders"}


def test_ancestors_are_the_wanted_and_everything_they_depend_on() -> None:
    depends = {"a": (), "b": ("a",), "c": ("b",), "d": ("a",)}
    assert graph.ancestors(depends, {"c"}) == {"a", "b", "c"}
    assert graph.ancestors(depends, set()) == set()

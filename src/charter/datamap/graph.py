"""Pure graph logic over collections: reachability, cycles, the order of deletes.

Nodes are opaque hashable keys (the data map uses ``"dataset.collection"``).
Two graphs are drawn from a data map:

* the **traversal** graph: an edge ``a → b`` when b can be queried with
  values found in a (a reference with a direction gives one edge, one without
  gives both). A collection is *reachable* when a path leads to it from a
  collection holding an identity field.
* the **erase-before** graph: an edge ``a → b`` when a's rows must be erased
  before b's (a child before the parent its foreign key points at). A cycle
  there means no order of deletes exists.

No I/O, no data-map types: easy to test exhaustively with hypothesis.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Hashable, Iterable, Mapping, Sequence
from typing import TypeVar

N = TypeVar("N", bound=Hashable)

Adjacency = Mapping[N, Iterable[N]]


def adjacency(nodes: Iterable[N], edges: Iterable[tuple[N, N]]) -> dict[N, list[N]]:
    """Successor lists, with every node present (sorted for stable output)."""
    graph: dict[N, set[N]] = {node: set() for node in nodes}
    for a, b in edges:
        graph.setdefault(a, set()).add(b)
        graph.setdefault(b, set())
    return {node: sorted(successors, key=str) for node, successors in graph.items()}


def reachable(graph: Adjacency[N], starts: Iterable[N]) -> dict[N, N | None]:
    """Every node reachable from ``starts``, mapped to the node it was first reached from (None for a start).

    Breadth-first, so following the map back from a node gives a shortest path.
    """
    came_from: dict[N, N | None] = {}
    queue: deque[N] = deque()
    for start in starts:
        if start not in came_from:
            came_from[start] = None
            queue.append(start)
    while queue:
        node = queue.popleft()
        for successor in graph.get(node, ()):
            if successor not in came_from:
                came_from[successor] = node
                queue.append(successor)
    return came_from


def path_to(came_from: Mapping[N, N | None], node: N) -> list[N]:
    """The path from a start to ``node`` recorded by :func:`reachable`."""
    path = [node]
    while (previous := came_from[path[-1]]) is not None:
        path.append(previous)
    return path[::-1]


def find_cycle(graph: Adjacency[N]) -> list[N] | None:
    """One cycle as ``[a, b, ..., a]``, or None; self-loops are ignored (one statement handles them).

    Iterative depth-first search with three colours, so deep graphs cannot
    exhaust the recursion limit.
    """
    white, grey, black = 0, 1, 2
    colour: dict[N, int] = dict.fromkeys(graph, white)
    for root in graph:
        if colour[root] != white:
            continue
        stack: list[tuple[N, list[N]]] = [(root, [s for s in graph[root] if s != root])]
        colour[root] = grey
        trail = [root]
        while stack:
            node, pending = stack[-1]
            if not pending:
                colour[node] = black
                stack.pop()
                trail.pop()
                continue
            successor = pending.pop()
            state = colour.get(successor, white)
            if state == grey:
                return [*trail[trail.index(successor) :], successor]
            if state == white:
                colour[successor] = grey
                trail.append(successor)
                stack.append((successor, [s for s in graph.get(successor, ()) if s != successor]))
    return None


class CycleError(ValueError):
    def __init__(self, cycle: list[object]) -> None:
        super().__init__(" → ".join(str(n) for n in cycle))
        self.cycle = cycle


def layers(graph: Adjacency[N]) -> list[list[N]]:
    """Nodes in order, as layers: each node comes after all its predecessors (Kahn's algorithm).

    With the erase-before graph this is the order of deletes: children first.
    Nodes in one layer do not depend on each other. Raises CycleError.
    """
    indegree: dict[N, int] = dict.fromkeys(graph, 0)
    for node, successors in graph.items():
        for successor in set(successors):
            if successor != node:
                indegree[successor] = indegree.get(successor, 0) + 1
    current = sorted((n for n, d in indegree.items() if d == 0), key=str)
    result: list[list[N]] = []
    seen = 0
    while current:
        result.append(current)
        seen += len(current)
        following: list[N] = []
        for node in current:
            for successor in set(graph.get(node, ())):
                if successor == node:
                    continue
                indegree[successor] -= 1
                if indegree[successor] == 0:
                    following.append(successor)
        current = sorted(following, key=str)
    if seen < len(indegree):
        cycle = find_cycle(graph)
        raise CycleError(list(cycle or []))
    return result


def components(graph: Adjacency[N]) -> list[list[N]]:
    """The strongly connected components, in a topological order of the graph they condense to: every
    component comes after each one with an edge into it (Tarjan's algorithm, iterative: a map may be deep).

    Discovery uses it: across components values flow along every reference (a collection is searched with
    the values of every collection before it, whatever their distance from the identities); within one,
    whose references loop back, only outward from the identities.
    """
    index: dict[N, int] = {}
    low: dict[N, int] = {}
    on_stack: set[N] = set()
    stack: list[N] = []
    found: list[list[N]] = []
    counter = 0
    for root in sorted(graph, key=str):
        if root in index:
            continue
        work: list[tuple[N, list[N]]] = [(root, sorted(set(graph.get(root, ())), key=str))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, pending = work[-1]
            if pending:
                successor = pending.pop(0)
                if successor not in index:
                    index[successor] = low[successor] = counter
                    counter += 1
                    stack.append(successor)
                    on_stack.add(successor)
                    work.append((successor, sorted(set(graph.get(successor, ())), key=str)))
                elif successor in on_stack:
                    low[node] = min(low[node], index[successor])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component: list[N] = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                found.append(sorted(component, key=str))
    found.reverse()  # Tarjan finds sinks first
    return found


def preceding(before: Mapping[N, list[N]], chosen: set[N]) -> dict[N, set[N]]:
    """For each chosen node, the chosen nodes that must come first, looking through nodes not chosen.

    ``before`` has an edge child → parent when the child goes first (the data map's erase-before order);
    a deletion erases only some collections, and one it skips must not break the order of the others."""
    reverse: dict[N, list[N]] = {}
    for child, parents in before.items():
        for parent in parents:
            reverse.setdefault(parent, []).append(child)
    out: dict[N, set[N]] = {}
    for key in chosen:
        found: set[N] = set()
        seen = {key}
        stack = list(reverse.get(key, ()))
        while stack:
            node = stack.pop()
            if node in seen:
                continue
            seen.add(node)
            if node in chosen:
                found.add(node)
            else:
                stack.extend(reverse.get(node, ()))
        out[key] = found
    return out


def ancestors(depends_on: Mapping[N, Sequence[N]], wanted: Iterable[N]) -> set[N]:
    """``wanted`` and every node they depend on, transitively (a correction keeps only the fetches it needs)."""
    needed: set[N] = set()
    stack = list(wanted)
    while stack:
        current = stack.pop()
        if current in needed:
            continue
        needed.add(current)
        stack.extend(depends_on[current])
    return needed

"""Small-cell suppression for a two-way table published with its totals.

``suppress(table, k)`` takes the *full* table: interior cells, the row totals as
the last column and the column totals as the last row (the grand total in the
bottom-right corner). It returns a mask of cells to withhold.

Primary suppression
    Every cell with ``0 < count < k`` is withheld, totals included. Zeros are
    published: as in ONS and UNICEF practice, an empty cell is not treated as
    identifying anyone, and a withheld zero is no protection once zeros are known
    to be published.

Secondary (complementary) suppression
    The published table carries linear relations: each row of interior cells sums
    to its row total, each column to its column total, and the totals row to the
    grand total. Multiply the totals row and the totals column by -1 and every
    row and every column of the full table sums to zero; the withheld cells are
    then the edges of a bipartite graph whose nodes are the table's rows and
    columns. A withheld cell can be computed exactly from the published cells if
    and only if its edge lies on no cycle of that graph (it is a *bridge*): the
    solutions of the relations differ only by alternating shifts around cycles.
    So while the graph has a bridge, the cheapest path of additional cells that
    closes a cycle through it is withheld too (cost: fewest zero cells, then the
    smallest sum of counts, then the fewest cells; ties broken by position, so
    the result is deterministic). Each round withholds at least one more cell,
    so the loop ends.

Guarantees
    No withheld cell can be recovered exactly by any linear combination of the
    published cells and relations of *this* table. In particular no row or
    column that holds a withheld cell holds only one (a single withheld cell
    would be a bridge), so subtraction from a total never reveals a cell.
    A row or column with a single cell (no relation, e.g. a table without any
    ``--by`` variable has no row relations) is modelled conservatively.

Limitations (stated honestly)
    * Non-negativity is not used by this check: an attacker solving a linear
      programme can still bound a withheld cell, sometimes narrowly (for example
      "between 1 and 4"); no minimum width of that interval is enforced.
    * Only this one table is protected. Publishing several tables from the same
      data (another level, another ``--by`` variable, a subset of records) adds
      relations across tables that this algorithm does not see.
    * The result is a safe pattern, not an optimal one: it may withhold more
      than an integer-programming method (e.g. tau-ARGUS) would.
"""
from __future__ import annotations

import heapq
from typing import Iterable, Sequence

__all__ = ["suppress", "primary_mask"]

Mask = list[list[bool]]
_FREE = -1  # the node standing for "no relation" on a side of the table


def primary_mask(table: Sequence[Sequence[int]], k: int) -> Mask:
    """Cells with a count from 1 to ``k - 1``."""
    return [[0 < value < k for value in row] for row in table]


def suppress(table: Sequence[Sequence[int]], k: int, *,
             withheld: Iterable[tuple[int, int]] = ()) -> Mask:
    """Withheld cells of the full table (margins included): primary, then complementary.

    ``k <= 1`` withholds nothing. The table must be rectangular with non-negative counts.
    ``withheld`` names cells (row, column) to withhold from the start, protected like primary ones:
    a total that another table of the same data withholds must be withheld in this one too.
    """
    rows = [list(r) for r in table]
    width = len(rows[0]) if rows else 0
    if any(len(r) != width for r in rows):
        raise ValueError("the table is not rectangular")
    if any(v < 0 for r in rows for v in r):
        raise ValueError("counts must be non-negative")
    mask = primary_mask(rows, k)
    if k <= 1:
        return mask
    for i, j in withheld:
        mask[i][j] = True
    graph = _Graph(rows)
    while True:
        bridge = graph.first_bridge(mask)
        if bridge is None:
            return mask
        for i, j in graph.cheapest_cycle_path(bridge, mask):
            mask[i][j] = True


class _Graph:
    """Rows and columns as nodes, cells as edges; a side without a relation becomes ``_FREE``."""

    def __init__(self, rows: list[list[int]]):
        self.rows = rows
        n_rows, n_cols = len(rows), len(rows[0]) if rows else 0
        # A row is a relation only when it has interior cells and a total; likewise a column.
        self.row_node = [i if n_cols >= 2 else _FREE for i in range(n_rows)]
        self.col_node = [n_rows + j if n_rows >= 2 else _FREE for j in range(n_cols)]
        self.cells = [(i, j) for i in range(n_rows) for j in range(n_cols)
                      if not (self.row_node[i] == _FREE and self.col_node[j] == _FREE)]

    def ends(self, cell: tuple[int, int]) -> tuple[int, int]:
        i, j = cell
        return self.row_node[i], self.col_node[j]

    def first_bridge(self, mask: Mask) -> tuple[int, int] | None:
        """The first withheld cell (in reading order) that lies on no cycle, or None."""
        edges = [c for c in self.cells if mask[c[0]][c[1]]]
        adjacency: dict[int, list[tuple[int, int]]] = {}
        for e, cell in enumerate(edges):
            u, v = self.ends(cell)
            adjacency.setdefault(u, []).append((v, e))
            adjacency.setdefault(v, []).append((u, e))
        bridges = _bridges(adjacency)
        return min((edges[e] for e in bridges), default=None)

    def cheapest_cycle_path(self, bridge: tuple[int, int], mask: Mask) -> list[tuple[int, int]]:
        """Published cells to withhold so that ``bridge`` lies on a cycle (Dijkstra)."""
        start, goal = self.ends(bridge)
        adjacency: dict[int, list[tuple[int, tuple[int, int]]]] = {}
        for cell in self.cells:
            if cell == bridge:
                continue
            u, v = self.ends(cell)
            adjacency.setdefault(u, []).append((v, cell))
            adjacency.setdefault(v, []).append((u, cell))
        best: dict[int, tuple] = {start: (0, 0, 0)}
        back: dict[int, tuple[int, tuple[int, int]]] = {}
        heap = [((0, 0, 0), start)]
        while heap:
            cost, node = heapq.heappop(heap)
            if node == goal:
                break
            if cost > best[node]:
                continue
            for other, cell in adjacency.get(node, ()):
                step = (0, 0, 0) if mask[cell[0]][cell[1]] else self._cost(cell)
                new = (cost[0] + step[0], cost[1] + step[1], cost[2] + step[2])
                if other not in best or new < best[other]:
                    best[other] = new
                    back[other] = (node, cell)
                    heapq.heappush(heap, (new, other))
        if goal not in back:
            raise ValueError(f"no cells can protect cell {bridge}; is the table additive?")
        path, node = [], goal
        while node != start:
            node, cell = back[node]
            if not mask[cell[0]][cell[1]]:
                path.append(cell)
        return sorted(path)

    def _cost(self, cell: tuple[int, int]) -> tuple[int, int, int]:
        value = self.rows[cell[0]][cell[1]]
        return (1 if value == 0 else 0, value, 1)


def _bridges(adjacency: dict[int, list[tuple[int, int]]]) -> set[int]:
    """Edge ids that lie on no cycle (Tarjan, iterative; parallel edges handled by edge id)."""
    order: dict[int, int] = {}
    low: dict[int, int] = {}
    found: set[int] = set()
    for root in sorted(adjacency):
        if root in order:
            continue
        order[root] = low[root] = len(order)
        stack = [(root, -1, iter(adjacency[root]))]
        while stack:
            node, via, neighbours = stack[-1]
            advanced = False
            for other, edge in neighbours:
                if edge == via:
                    continue
                if other in order:
                    low[node] = min(low[node], order[other])
                else:
                    order[other] = low[other] = len(order)
                    stack.append((other, edge, iter(adjacency[other])))
                    advanced = True
                    break
            if advanced:
                continue
            stack.pop()
            if stack:
                parent = stack[-1][0]
                low[parent] = min(low[parent], low[node])
                if low[node] > order[parent]:
                    found.add(via)
    return found

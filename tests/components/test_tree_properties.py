"""Random sequences of moves never make a cycle, and descendant_ids always agrees with a plain model."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tierline.components import service
from tierline.components.models import Component
from tierline.platform.errors import Conflict
from tests.helpers import SYSTEM

N = 7


def _model_descendants(parents: dict[int, int | None], node: int) -> set[int]:
    out = {node}
    changed = True
    while changed:
        changed = False
        for child, parent in parents.items():
            if parent in out and child not in out:
                out.add(child)
                changed = True
    return out


def _walk_up_ends(parents: dict[int, int | None], node: int) -> bool:
    seen = set()
    while node is not None:
        if node in seen:
            return False
        seen.add(node)
        node = parents[node]
    return True


# Each move: (component index, new parent index or None for the root).
moves = st.lists(st.tuples(st.integers(0, N - 1), st.none() | st.integers(0, N - 1)), min_size=1, max_size=25)
initial = st.lists(st.none() | st.integers(0, N - 1), min_size=N, max_size=N)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(start=initial, steps=moves)
def test_random_moves_never_make_a_cycle(db, start, steps):
    session = db.session(write=True)
    try:
        ids: list[int] = []
        for i in range(N):
            # parents only among already created nodes, so the starting forest is acyclic
            parent = start[i] if start[i] is not None and start[i] < i else None
            ids.append(service.create(session, actor=SYSTEM, name=f"c{i}",
                                      parent_id=ids[parent] if parent is not None else None).id)
        parents = {c.id: c.parent_id for c in session.query(Component)}

        for node_i, parent_i in steps:
            node, parent = ids[node_i], (ids[parent_i] if parent_i is not None else None)
            would_loop = parent is not None and parent in _model_descendants(parents, node)
            try:
                with session.begin_nested():
                    service.update(session, actor=SYSTEM, component_id=node, parent_id=parent)
                moved = True
            except Conflict:
                moved = False
            # Names are unique (c0..c6), so the only refusal is the cycle.
            assert moved is not would_loop
            if moved:
                parents[node] = parent

            stored = {c.id: c.parent_id for c in session.query(Component)}
            assert stored == parents
            for cid in ids:
                assert _walk_up_ends(stored, cid)
                assert service.descendant_ids(session, component_id=cid) == _model_descendants(stored, cid)
    finally:
        session.rollback()
        session.close()

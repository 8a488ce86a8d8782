"""Keyset pagination: pages never repeat or skip rows while others are inserted, and cursors are checked."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select

from tierline.platform import clock
from tierline.platform.errors import Invalid
from tierline.platform.jobs import Job
from tierline.platform.pagination import MAX_LIMIT, SortKey, paginate


def _cursor(values: list) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


def _pages(api, url: str, limit: int, between=None) -> list[list[dict]]:  # noqa: ANN001
    pages, cursor = [], None
    while True:
        params = {"limit": limit} | ({"cursor": cursor} if cursor else {})
        r = api.get(url, params=params)
        assert r.status_code == 200, r.text
        pages.append(r.json()["items"])
        cursor = r.json()["next_cursor"]
        if cursor is None:
            return pages
        if between:
            between()


def test_a_newest_first_list_stays_stable_while_rows_are_inserted(factory, client):
    for _ in range(6):
        factory.user(roles=["agent_l1"])
    auditor = factory.api(client, roles=["auditor"])
    snapshot = [e["seq"] for e in auditor.get("/api/v1/audit", params={"limit": 200}).json()["items"]]

    pages = _pages(auditor, "/api/v1/audit", 4, between=lambda: factory.user(roles=["agent_l1"]))
    seen = [e["seq"] for page in pages for e in page]
    assert seen == snapshot  # nothing repeated, nothing skipped, the newcomers are above the first page
    assert all(len(page) == 4 for page in pages[:-1])


def test_an_oldest_first_list_stays_stable_while_rows_are_inserted(factory, client):
    agent = factory.api(client, roles=["agent_l1"])
    for i in range(5):
        assert agent.post("/api/v1/tokens", json={"name": f"t{i}"}).status_code == 201
    created = []

    def insert() -> None:
        created.append(agent.post("/api/v1/tokens", json={"name": "late"}).json()["id"])

    pages = _pages(agent, "/api/v1/tokens", 2, between=insert)
    seen = [t["id"] for page in pages for t in page]
    assert seen == sorted(seen) and len(seen) == len(set(seen))
    assert set(created) <= set(seen)  # rows appended behind the cursor are reached, never ones before it


def test_a_garbage_cursor_is_a_422_naming_the_cursor(factory, client):
    auditor = factory.api(client, roles=["auditor"])
    for cursor in ["garbage", "!!!", _cursor([1, 2]), _cursor({"seq": 1}), _cursor(["not a number"]),
                   _cursor([[1]]), _cursor([{"t": "yesterday"}]), _cursor([{"t": 5}]), _cursor([{"x": 1}]),
                   _cursor([True]), _cursor([10**30]), _cursor([{"t": "2026-11-23T10:00:00"}])]:
        r = auditor.get("/api/v1/audit", params={"cursor": cursor})
        assert r.status_code == 422, (cursor, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        assert [e["field"] for e in r.json()["errors"]] == ["cursor"]


@pytest.mark.parametrize("url", ["/api/v1/audit", "/api/v1/tokens"])
@pytest.mark.parametrize("limit", [0, -1, MAX_LIMIT + 1, "many"])
def test_a_limit_out_of_bounds_is_a_422_naming_the_limit(admin, url, limit):
    r = admin.get(url, params={"limit": limit})
    assert r.status_code == 422, r.text
    assert [e["field"] for e in r.json()["errors"]] == ["limit"]


@pytest.mark.parametrize("url", ["/api/v1/audit", "/api/v1/tokens"])
@pytest.mark.parametrize("limit", [1, MAX_LIMIT])
def test_a_limit_within_bounds_is_accepted(admin, url, limit):
    r = admin.get(url, params={"limit": limit})
    assert r.status_code == 200, r.text
    assert len(r.json()["items"]) <= limit


def test_paginate_itself_refuses_a_limit_out_of_bounds(db):
    with db.session(write=False) as session:
        with pytest.raises(Invalid) as exc:
            paginate(session, select(Job), keys=[SortKey(Job.id)], limit=MAX_LIMIT + 1, cursor=None)
    assert exc.value.extra["errors"][0]["field"] == "limit"


# -- property: keyset pages equal a brute-force sort ----------------------------------------------------

_COLUMNS = {"kind": Job.kind, "due_at": Job.due_at, "attempts": Job.attempts}
_row = st.tuples(st.text(alphabet="ab", max_size=2), st.integers(0, 3), st.integers(0, 2))
_keys = st.lists(st.sampled_from(sorted(_COLUMNS)), unique=True, max_size=3).flatmap(
    lambda names: st.tuples(st.just(names), st.lists(st.booleans(), min_size=len(names) + 1,
                                                     max_size=len(names) + 1)))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(_row, max_size=14), keys=_keys, limit=st.integers(1, 5))
def test_keyset_pages_equal_a_brute_force_sort(db, rows, keys, limit):
    names, descending = keys
    base = clock.now()
    with db.unit_of_work() as session:
        session.execute(delete(Job))
        for kind, minutes, attempts in rows:
            session.add(Job(kind=kind, payload={}, due_at=base + timedelta(minutes=minutes), attempts=attempts,
                            created_at=base))
    sort_keys = [SortKey(_COLUMNS[n], descending=d) for n, d in zip(names, descending)]
    sort_keys.append(SortKey(Job.id, descending=descending[-1]))

    with db.session(write=False) as session:
        everything = list(session.scalars(select(Job)))
        expected = [j.id for j in everything]
        for key in reversed(sort_keys):  # a stable sort, least significant key first
            everything.sort(key=lambda j: getattr(j, key.column.key), reverse=key.descending)
        expected = [j.id for j in everything]

        seen, cursor, pages = [], None, 0
        while True:
            page, cursor = paginate(session, select(Job), keys=sort_keys, limit=limit, cursor=cursor)
            assert len(page) <= limit
            seen += [j.id for j in page]
            pages += 1
            assert pages <= len(rows) + 1, "pagination does not terminate"
            if cursor is None:
                break
    assert seen == expected


def test_a_forged_cursor_with_a_nul_character_is_a_422_not_a_database_error(db):
    forged = _cursor(["a\x00b", 1])
    with db.session(write=False) as session:
        with pytest.raises(Invalid):
            paginate(session, select(Job), keys=[SortKey(Job.kind), SortKey(Job.id)], limit=5, cursor=forged)

from __future__ import annotations

import pytest

from tierline.components import service
from tierline.components.models import Component
from tierline.platform.audit import AuditEvent


@pytest.fixture
def teams(admin):  # noqa: ANN001, ANN201
    def make(name: str, kind: str) -> int:
        r = admin.post("/api/v1/teams", json={"name": name, "kind": kind})
        assert r.status_code == 201, r.text
        return r.json()["id"]

    return {"eng": make("Payments engineering", "engineering"), "sup": make("Payments support", "support"),
            "prod": make("Payments product", "product")}


def _component(admin, name, **body):  # noqa: ANN001, ANN202
    r = admin.post("/api/v1/components", json={"name": name, **body})
    assert r.status_code == 201, r.text
    return r.json()["id"]


@pytest.fixture
def tree(admin, teams):  # noqa: ANN001, ANN201
    """platform > billing > (invoices, payments > card-processing); platform > auth; mobile."""
    ids = {"platform": _component(admin, "Platform", owner_team_id=teams["eng"])}
    ids["billing"] = _component(admin, "Billing", parent_id=ids["platform"], owner_team_id=teams["eng"],
                                support_team_id=teams["sup"], required_skills=["Billing", "SQL"])
    ids["invoices"] = _component(admin, "Invoices", parent_id=ids["billing"])
    ids["payments"] = _component(admin, "Payments", parent_id=ids["billing"])
    ids["cards"] = _component(admin, "Card processing", parent_id=ids["payments"])
    ids["auth"] = _component(admin, "Auth", parent_id=ids["platform"])
    ids["mobile"] = _component(admin, "Mobile")
    return ids


def test_it_builds_a_tree_and_shows_a_components_path(admin, factory, tree, teams):
    r = admin.get(f"/api/v1/components/{tree['cards']}")
    assert r.status_code == 200, r.text
    assert r.json()["path"] == ["Platform", "Billing", "Payments"]
    billing = admin.get(f"/api/v1/components/{tree['billing']}").json()
    assert billing["required_skills"] == ["billing", "sql"]
    assert (billing["owner_team_id"], billing["support_team_id"]) == (teams["eng"], teams["sup"])
    assert admin.get(f"/api/v1/components/{tree['platform']}").json()["path"] == []
    assert factory.audit_count(action="components.create") == len(tree)


def test_descendant_ids_include_the_component_and_everything_below(db, tree):
    with db.session(write=False) as session:
        assert service.descendant_ids(session, component_id=tree["billing"]) == {
            tree["billing"], tree["invoices"], tree["payments"], tree["cards"]}
        assert service.descendant_ids(session, component_id=tree["cards"]) == {tree["cards"]}
        assert [c.name for c in service.ancestors(session, component_id=tree["cards"])] == \
            ["Platform", "Billing", "Payments"]


@pytest.mark.parametrize(("body", "field"), [
    ({"owner_team_id": "sup"}, "owner_team_id"),
    ({"owner_team_id": "prod"}, "owner_team_id"),
    ({"owner_team_id": 999}, "owner_team_id"),
    ({"support_team_id": "eng"}, "support_team_id"),
    ({"parent_id": 999}, "parent_id"),
    ({"name": ""}, "name"),
    ({"name": "a/b"}, "name"),
    ({"required_skills": ["ok", ""]}, "required_skills.1"),
    ({"required_skills": "sql"}, "required_skills"),
    ({"colour": "red"}, "colour"),
])
def test_it_rejects_a_bad_component_naming_the_field_and_changes_nothing(admin, factory, teams, body, field):
    body = {k: teams.get(v, v) if isinstance(v, str) and k.endswith("team_id") else v
            for k, v in body.items()}
    counts = factory.count(Component), factory.count(AuditEvent)
    r = admin.post("/api/v1/components", json={"name": "Search", **body})
    assert r.status_code == 422, r.text
    assert field in [e["field"] for e in r.json()["errors"]]
    assert (factory.count(Component), factory.count(AuditEvent)) == counts


def test_sibling_names_are_unique_regardless_of_case_roots_included(admin, factory, tree):
    assert admin.post("/api/v1/components", json={"name": "mobile"}).status_code == 409
    r = admin.post("/api/v1/components", json={"name": "INVOICES", "parent_id": tree["billing"]})
    assert r.status_code == 409
    # the same name elsewhere in the tree is fine
    _component(admin, "Invoices", parent_id=tree["mobile"])
    # a move or rename into a clash is refused too
    r = admin.patch(f"/api/v1/components/{tree['auth']}", json={"name": "billing"})
    assert r.status_code == 409
    r = admin.patch(f"/api/v1/components/{tree['invoices']}", json={"parent_id": tree["mobile"]})
    assert r.status_code == 409
    assert factory.count(Component) == len(tree) + 1


def test_it_moves_a_subtree(admin, factory, tree):
    r = admin.patch(f"/api/v1/components/{tree['payments']}", json={"parent_id": tree["mobile"]})
    assert r.status_code == 200, r.text
    assert admin.get(f"/api/v1/components/{tree['cards']}").json()["path"] == ["Mobile", "Payments"]
    assert factory.audit_count(action="components.update", entity_id=str(tree["payments"])) == 1
    r = admin.patch(f"/api/v1/components/{tree['payments']}", json={"parent_id": None})
    assert r.status_code == 200 and r.json()["parent_id"] is None


@pytest.mark.parametrize(("node", "new_parent"), [("billing", "billing"), ("billing", "cards"),
                                                  ("platform", "invoices"), ("payments", "cards")])
def test_a_move_that_would_make_a_cycle_is_409_and_changes_nothing(admin, factory, tree, node, new_parent):
    events = factory.count(AuditEvent)
    before = admin.get(f"/api/v1/components/{tree[node]}").json()
    r = admin.patch(f"/api/v1/components/{tree[node]}",
                    json={"parent_id": tree[new_parent], "name": "Renamed"})
    assert r.status_code == 409, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert admin.get(f"/api/v1/components/{tree[node]}").json() == before
    assert factory.count(AuditEvent) == events


def test_it_changes_teams_skills_and_description_and_clears_teams(admin, teams, tree):
    url = f"/api/v1/components/{tree['billing']}"
    r = admin.patch(url, json={"required_skills": ["Stripe"], "description": "money in",
                               "support_team_id": None})
    assert r.status_code == 200, r.text
    assert (r.json()["required_skills"], r.json()["description"], r.json()["support_team_id"]) == \
        (["stripe"], "money in", None)
    assert admin.patch(url, json={"owner_team_id": teams["sup"]}).status_code == 422
    assert admin.patch(url, json={"name": None}).status_code == 422


def test_deleting_a_component_with_children_is_409(admin, factory, tree):
    r = admin.delete(f"/api/v1/components/{tree['billing']}")
    assert r.status_code == 409
    assert factory.count(Component) == len(tree)


def test_deleting_a_leaf_removes_it_with_an_audit_event(admin, factory, tree):
    assert admin.delete(f"/api/v1/components/{tree['cards']}").status_code == 204
    assert admin.get(f"/api/v1/components/{tree['cards']}").status_code == 404
    assert factory.audit_count(action="components.delete", entity_id=str(tree["cards"])) == 1
    assert admin.delete(f"/api/v1/components/{tree['payments']}").status_code == 204


def test_a_component_tickets_point_at_cannot_be_deleted(admin, factory, tree):
    r = admin.post("/api/v1/tickets", json={"subject": "Card declined", "description": "all cards declined",
                                            "requester_email": "a@customer.example",
                                            "component_id": tree["cards"]})
    assert r.status_code == 201, r.text
    assert admin.delete(f"/api/v1/components/{tree['cards']}").status_code == 409
    assert factory.count(Component) == len(tree)


def test_unknown_components_are_404(admin):
    assert admin.get("/api/v1/components/999").status_code == 404
    assert admin.patch("/api/v1/components/999", json={"name": "x"}).status_code == 404
    assert admin.delete("/api/v1/components/999").status_code == 404


def test_it_lists_components_by_parent_root_team_and_name(admin, teams, tree):
    def ids(**params):  # noqa: ANN003, ANN202
        r = admin.get("/api/v1/components", params=params)
        assert r.status_code == 200, r.text
        return [c["id"] for c in r.json()["items"]]

    assert ids(root=True) == [tree["platform"], tree["mobile"]]
    assert ids(parent_id=tree["billing"]) == [tree["invoices"], tree["payments"]]
    assert ids(owner_team_id=teams["eng"]) == [tree["platform"], tree["billing"]]
    assert ids(support_team_id=teams["sup"]) == [tree["billing"]]
    assert ids(q="PROC") == [tree["cards"]]
    assert len(ids(root=False)) == len(tree) - 2
    first = admin.get("/api/v1/components", params={"limit": 4}).json()
    rest = admin.get("/api/v1/components", params={"limit": 4, "cursor": first["next_cursor"]}).json()
    assert [c["id"] for c in first["items"] + rest["items"]] == ids()
    r = admin.get("/api/v1/components", params={"root": True, "parent_id": tree["billing"]})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "root"


def test_component_permissions(client, factory, agent):
    l3 = factory.api(client, roles=["agent_l3"], email="l3@example.com")
    assert agent.get("/api/v1/components").status_code == 200
    assert agent.post("/api/v1/components", json={"name": "X"}).status_code == 403
    assert l3.post("/api/v1/components", json={"name": "X"}).status_code == 201
    assert client.get("/api/v1/components").status_code == 401


@pytest.mark.committing
def test_two_concurrent_crosswise_moves_cannot_close_a_loop(db):
    """A under B and B under A at the same time: the tree lock lets exactly one through."""
    import threading

    from tests.helpers import SYSTEM
    from tierline.platform.errors import Conflict

    with db.unit_of_work() as session:
        a = service.create(session, actor=SYSTEM, name="A").id
        b = service.create(session, actor=SYSTEM, name="B").id
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def move(node: int, parent: int) -> None:
        barrier.wait()
        try:
            with db.unit_of_work() as session:
                service.update(session, actor=SYSTEM, component_id=node, parent_id=parent)
            outcomes.append("moved")
        except Conflict:
            outcomes.append("conflict")

    threads = [threading.Thread(target=move, args=(a, b)), threading.Thread(target=move, args=(b, a))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(outcomes) == ["conflict", "moved"]
    with db.session(write=False) as session:
        parents = {c.id: c.parent_id for c in session.query(Component)}
    assert parents[a] is None or parents[b] is None

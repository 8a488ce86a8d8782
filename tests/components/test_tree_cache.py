"""The per-process copy of the component tree that intake reads (info, lineage, name_index): it must never
answer with a tree the database no longer holds, even when the row count and timestamps stay the same (the
frozen clock here keeps every updated_at equal)."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from tierline.components import service
from tierline.platform.auth.actor import Actor
from tierline.platform.errors import NotFound

ACTOR = Actor.system("test")


def _tree(db) -> dict[str, int]:
    with db.unit_of_work() as session:
        root = service.create(session, actor=ACTOR, name="Platform")
        billing = service.create(session, actor=ACTOR, name="Billing", parent_id=root.id,
                                 required_skills=["SQL"])
        cards = service.create(session, actor=ACTOR, name="Cards", parent_id=billing.id)
        return {"root": root.id, "billing": billing.id, "cards": cards.id}


def test_it_gives_a_component_and_its_ancestors_from_the_component_up(db) -> None:
    ids = _tree(db)
    with db.unit_of_work() as session:
        assert service.lineage(session, component_id=ids["cards"]) == [ids["cards"], ids["billing"], ids["root"]]
        info = service.info(session, component_id=ids["billing"])
        assert (info.name, info.parent_id, info.required_skills) == ("Billing", ids["root"], ("sql",))
        assert service.name_index(session) == {"platform": ids["root"], "billing": ids["billing"],
                                               "cards": ids["cards"]}
        with pytest.raises(NotFound):
            service.lineage(session, component_id=10**9)
        with pytest.raises(NotFound):
            service.info(session, component_id=10**9)


def test_it_sees_a_move_made_earlier_in_the_same_transaction(db) -> None:
    ids = _tree(db)
    with db.unit_of_work() as session:
        assert service.lineage(session, component_id=ids["cards"])[1] == ids["billing"]
        service.update(session, actor=ACTOR, component_id=ids["cards"], parent_id=ids["root"])
        assert service.lineage(session, component_id=ids["cards"]) == [ids["cards"], ids["root"]]


def test_it_forgets_a_move_rolled_back_with_its_savepoint(db) -> None:
    ids = _tree(db)
    with db.unit_of_work() as session:
        savepoint = session.begin_nested()
        service.update(session, actor=ACTOR, component_id=ids["cards"], parent_id=ids["root"])
        assert service.lineage(session, component_id=ids["cards"]) == [ids["cards"], ids["root"]]
        savepoint.rollback()
        assert service.lineage(session, component_id=ids["cards"]) == [ids["cards"], ids["billing"], ids["root"]]


def test_it_sees_rows_rewritten_behind_its_back_with_the_same_ids_count_and_times(db) -> None:
    ids = _tree(db)
    with db.unit_of_work() as session:
        assert service.lineage(session, component_id=ids["cards"]) == [ids["cards"], ids["billing"], ids["root"]]
    with db.unit_of_work() as session:  # same ids, same updated_at: only the parent and a name differ
        session.execute(text("UPDATE components SET parent_id = :p, name = 'Cards and wallets' WHERE id = :c"),
                        {"p": ids["root"], "c": ids["cards"]})
    with db.unit_of_work() as session:
        assert service.lineage(session, component_id=ids["cards"]) == [ids["cards"], ids["root"]]
        assert service.name_index(session)["cards and wallets"] == ids["cards"]
        assert "cards" not in service.name_index(session)


def test_it_sees_a_deleted_component_as_gone(db) -> None:
    ids = _tree(db)
    with db.unit_of_work() as session:
        service.info(session, component_id=ids["cards"])
        service.delete(session, actor=ACTOR, component_id=ids["cards"])
        with pytest.raises(NotFound):
            service.info(session, component_id=ids["cards"])

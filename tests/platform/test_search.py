"""One full-text interface on both databases; no user input can make it fail."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from tierline.platform import search


def _index(db, docs):  # noqa: ANN001
    with db.unit_of_work() as session:
        for doc_id, (title, body) in docs.items():
            search.index_document(session, "ticket", doc_id, title, body)


def _match(db, query: str, doc_type: str = "ticket") -> set[int]:  # noqa: ANN001
    with db.session(write=False) as session:
        return set(session.scalars(search.matching_ids(session, doc_type, query)))


DOCS = {
    1: ("Login fails with error E1042", "Customers cannot sign in after the password reset."),
    2: ("Invoices are duplicated", "Every invoice export shows each line twice since the upgrade."),
    3: ("Slow dashboard", "The analytics dashboard takes a minute to load for large accounts."),
}


def test_documents_match_on_their_title_and_body_words(db):
    _index(db, DOCS)
    assert _match(db, "invoice") == {2}
    assert _match(db, "dashboard slow") == {3}
    assert _match(db, "password") == {1}
    assert _match(db, "E1042") == {1}
    assert _match(db, "kubernetes") == set()


def test_search_stems_words(db):
    _index(db, DOCS)
    assert _match(db, "loading") == {3}
    assert _match(db, "duplicate") == {2}


def test_documents_of_another_type_do_not_match(db):
    _index(db, DOCS)
    with db.unit_of_work() as session:
        search.index_document(session, "article", 1, "Invoice guide", "How invoices work")
    assert _match(db, "invoice") == {2}
    assert _match(db, "invoice", "article") == {1}


def test_reindexing_a_document_replaces_its_text(db):
    _index(db, DOCS)
    _index(db, {2: ("Refund request", "Please refund the annual plan.")})
    assert _match(db, "invoice") == set()
    assert _match(db, "refund") == {2}
    with db.session(write=False) as session:
        assert len(session.scalars(select(search.SearchDocument)).all()) == 3


def test_a_removed_document_no_longer_matches(db):
    _index(db, DOCS)
    with db.unit_of_work() as session:
        search.remove_document(session, "ticket", 1)
    assert _match(db, "password") == set()
    assert _match(db, "invoice") == {2}


def test_a_rolled_back_index_change_is_not_searchable(db):
    with pytest.raises(RuntimeError):
        with db.unit_of_work() as session:
            search.index_document(session, "ticket", 9, "Phantom", "never committed")
            raise RuntimeError
    assert _match(db, "phantom") == set()


@pytest.mark.parametrize("query", [
    '"', '""', "'", "*", "-", "+", "^", ":", "(", ")", "()", "AND", "OR", "NOT", "NEAR", "NEAR(", "a AND",
    "OR OR", 'title:"x', "body:invoice", "invoice*", "-invoice", '"unterminated', "a & b | !c", "<->", "\\",
    "", "   ", "\x00", "invoice\x00export", "ñandú 😀", "%", "_", "*" * 300, "word " * 200,
])
def test_user_input_with_full_text_syntax_never_errors(db, query):
    _index(db, DOCS)
    assert isinstance(_match(db, query), set)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(query=st.text(max_size=40))
def test_any_text_is_a_query_that_never_errors(db, query):
    if not _match(db, "dashboard"):
        _index(db, DOCS)
    assert isinstance(_match(db, query), set)

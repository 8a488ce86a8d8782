"""One full-text interface for tickets now and the knowledge base later.

Documents live in `search_documents` (doc_type, doc_id, title, body). The index is the database's own:
an FTS5 external-content table kept in step by triggers on SQLite, a generated, weighted `tsvector` column
with a GIN index on PostgreSQL. Both are created by the migration, not by the models.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import Connection, Index, Select, String, Text, delete, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, Session, mapped_column

from tierline.platform.db import Base, BigId

_WORD = re.compile(r"\w+", re.UNICODE)


class SearchDocument(Base):
    __tablename__ = "search_documents"
    __table_args__ = (Index("uq_search_documents_doc", "doc_type", "doc_id", unique=True),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    doc_type: Mapped[str] = mapped_column(String(32), nullable=False)
    doc_id: Mapped[int] = mapped_column(BigId, nullable=False)
    title: Mapped[str] = mapped_column(Text, nullable=False, default="")
    body: Mapped[str] = mapped_column(Text, nullable=False, default="")


def index_document(session: Session, doc_type: str, doc_id: int, title: str, body: str) -> None:
    """Insert or replace one document's text."""
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    title, body = _plain(title), _plain(body)
    stmt = insert(SearchDocument.__table__).values(doc_type=doc_type, doc_id=doc_id, title=title, body=body)
    stmt = stmt.on_conflict_do_update(index_elements=["doc_type", "doc_id"],
                                      set_={"title": title, "body": body})
    session.execute(stmt)


def remove_document(session: Session, doc_type: str, doc_id: int) -> None:
    session.execute(delete(SearchDocument).where(SearchDocument.doc_type == doc_type,
                                                 SearchDocument.doc_id == doc_id))


def _fts5_query(query: str) -> str:
    # Quote every word so user input can never be read as FTS5 syntax; words are ANDed, last one is a prefix.
    words = _WORD.findall(query)
    if not words:
        return ""
    quoted = [f'"{w}"' for w in words]
    quoted[-1] += "*"
    return " ".join(quoted)


def _plain(value: str) -> str:
    # PostgreSQL text cannot hold NUL; it separates nothing a reader would search for.
    return value.replace("\x00", " ")


def matching_ids(session: Session, doc_type: str, query: str) -> Select:
    """A SELECT of doc_id for documents matching `query`, to use as `Model.id.in_(...)`."""
    query = _plain(query)
    if session.get_bind().dialect.name == "postgresql":
        return (
            select(SearchDocument.doc_id)
            .where(SearchDocument.doc_type == doc_type)
            .where(text("search_documents.tsv @@ websearch_to_tsquery('english', :q)").bindparams(q=query))
        )
    fts = _fts5_query(query)
    if not fts:
        return select(SearchDocument.doc_id).where(False)
    return (
        select(SearchDocument.doc_id)
        .where(SearchDocument.doc_type == doc_type)
        .where(SearchDocument.id.in_(
            select(text("rowid")).select_from(text("search_fts"))
            .where(text("search_fts MATCH :q").bindparams(q=fts))
        ))
    )


def insert_document(connection: Connection, doc_type: str, doc_id: int, title: str, body: str) -> None:
    """Insert the document of a row that is new in this transaction (nothing to replace): one plain INSERT."""
    connection.execute(_INSERT, new_document(doc_type, doc_id, title, body))


def new_document(doc_type: str, doc_id: int, title: str, body: str) -> dict[str, Any]:
    """The search_documents row of a row new in this transaction, for a caller that inserts it among others
    (platform.insert_batch)."""
    return {"doc_type": doc_type, "doc_id": doc_id, "title": _plain(title), "body": _plain(body)}


_INSERT = SearchDocument.__table__.insert()

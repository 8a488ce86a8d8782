"""Labelled texts for the classifier: from a CSV export, or from the organisation's own finished tickets."""

from __future__ import annotations

import csv
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from tierline.platform.errors import Invalid
from tierline.tickets import service as tickets_service
from tierline.triage.classifier_records import TARGETS

MAX_TICKETS = 50_000  # the most recent finished tickets are what the next ticket resembles
_TICKET_COLUMNS = {"queue": "queue_id", "component": "component_id", "type": "type", "priority": "priority"}


@dataclass
class LabelledTexts:
    texts: list[str]
    labels: list[str]
    skipped: int  # rows without a label (or without any text)
    source: str


def read_csv(path: Path, *, text_cols: Sequence[str], label_col: str) -> LabelledTexts:
    """Rows of a CSV with a header; the text is the named columns joined by newlines. Rows whose label or text
    is empty are skipped (and counted)."""
    if not text_cols:
        raise Invalid("text_col", "name at least one text column")
    try:
        handle = path.open(newline="", encoding="utf-8-sig")
    except OSError as exc:
        raise Invalid("csv", f"cannot read {path}: {exc.strerror or exc}") from exc
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))  # ticket descriptions with pasted logs are long
    texts, labels, skipped = [], [], 0
    with handle:
        try:
            reader = csv.DictReader(handle)
            header = reader.fieldnames or []
            missing = [(flag, name) for flag, names in (("text_col", text_cols), ("label_col", [label_col]))
                       for name in names if name not in header]
            if missing:
                raise Invalid(errors=[(flag, f"no column {name!r} in {path.name} (columns: "
                                             f"{', '.join(header) or 'none'})") for flag, name in missing])
            for row in reader:
                label = (row.get(label_col) or "").strip()
                text = "\n".join((row.get(c) or "").strip() for c in text_cols).strip()
                if not label or not text:
                    skipped += 1
                    continue
                texts.append(text)
                labels.append(label)
        except (csv.Error, UnicodeDecodeError) as exc:
            raise Invalid("csv", f"{path.name} is not a readable UTF-8 CSV: {exc}") from exc
    if not texts:
        raise Invalid("csv", f"{path.name} has no rows with both a text and a label")
    return LabelledTexts(texts=texts, labels=labels, skipped=skipped, source=f"csv:{path.name}")


def from_tickets(session: Session, *, target: str, limit: int = MAX_TICKETS) -> LabelledTexts:
    """Solved and closed tickets' subject and description, labelled with the target field (ids as text)."""
    if target not in TARGETS:
        raise Invalid("target", f"must be one of {', '.join(TARGETS)}")
    rows = tickets_service.finished_texts(session, label_field=_TICKET_COLUMNS[target], limit=limit)
    texts = [f"{subject}\n{description}" for subject, description, _ in rows]
    labels = [str(value) for _, _, value in rows]
    if not texts:
        raise Invalid("from_db", f"no solved or closed tickets with a {_TICKET_COLUMNS[target]} to learn from")
    return LabelledTexts(texts=texts, labels=labels, skipped=0, source="database")

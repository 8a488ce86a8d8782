"""Reports as CSV: any report route answers `Accept: text/csv` with the same rows, one column per field."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from fastapi import Request, Response

CSV = "text/csv"


def wants_csv(request: Request) -> bool:
    """True when the client asks for CSV before JSON (`Accept: text/csv`)."""
    accept = request.headers.get("accept", "")
    kinds = [part.split(";")[0].strip().lower() for part in accept.split(",")]
    return CSV in kinds and ("application/json" not in kinds or kinds.index(CSV) < kinds.index("application/json"))


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        return str(value)
    return value


def csv_response(rows: Iterable[dict[str, Any]], columns: Sequence[str], *, filename: str) -> Response:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(c)) for c in columns])
    return Response(content=out.getvalue(), media_type=f"{CSV}; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})

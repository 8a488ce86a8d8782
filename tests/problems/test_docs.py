"""docs/problems.md publishes the status transition table; it must match the code."""

from __future__ import annotations

from pathlib import Path

from tierline.problems import service

DOC = Path(__file__).resolve().parents[2] / "docs" / "problems.md"


def test_the_published_transition_table_is_the_one_in_the_code():
    assert service.render_markdown() in DOC.read_text()

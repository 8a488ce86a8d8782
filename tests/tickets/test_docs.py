"""docs/tickets.md publishes the transition table and the default ticket forms; it must match the code."""

from __future__ import annotations

from pathlib import Path

from tierline.tickets import forms, state_machine

DOC = Path(__file__).resolve().parents[2] / "docs" / "tickets.md"


def test_the_published_transition_table_is_the_one_in_the_code():
    assert state_machine.render_markdown() in DOC.read_text()


def test_the_published_default_forms_are_the_ones_in_the_code():
    assert forms.render_markdown() in DOC.read_text()

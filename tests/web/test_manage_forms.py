"""The manager's forms as data: what a form shows for a stored value, posted back unchanged, is that value again
(a save that changes nothing changes nothing), for every kind of control and for a triage rule's rows."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from starlette.datastructures import FormData

from tierline.web import form_fields as ff
from tierline.web import rule_form
from tierline.web.form_fields import FormField

WORD = st.text(alphabet=st.characters(whitelist_categories=("L", "N"), whitelist_characters="-_.@"),
               min_size=1, max_size=20)
TAG = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_", min_size=1, max_size=12)
PRIORITY = st.sampled_from(["P1", "P2", "P3", "P4"])


def _posted(values: dict, fields: list[FormField]) -> FormData:
    """The form a browser posts for `values` as the template prints them."""
    items: list[tuple[str, str]] = []
    for spec in fields:
        value = values[spec.name]
        if spec.kind == ff.ROWS:
            for i, row in enumerate(value):
                for column in spec.columns:
                    cell = row.get(column.name, "")
                    if column.kind == ff.BOOL:
                        if cell:
                            items.append((f"{spec.name}-{i}-{column.name}", "true"))
                    else:
                        items.append((f"{spec.name}-{i}-{column.name}", str(cell)))
        elif spec.kind == ff.CHECKS:
            items += [(spec.name, v) for v in value]
        elif spec.kind == ff.BOOL:
            if value:
                items.append((spec.name, "true"))
        else:
            items.append((spec.name, value))
    return FormData(items)


FIELDS = [FormField("name", "Name"), FormField("skills", "Skills", ff.LIST),
          FormField("roles", "Roles", ff.CHECKS), FormField("active", "Active", ff.BOOL),
          FormField("region", "Region", nullable=True), FormField("match.priority", "Priorities", ff.CHECKS),
          FormField("targets", "Targets", ff.ROWS, columns=(
              FormField("priority", "Priority", ff.SELECT), FormField("minutes", "Minutes", ff.NUMBER),
              FormField("business_hours", "Business hours", ff.BOOL)))]


@given(name=WORD, skills=st.lists(TAG, max_size=5), roles=st.lists(WORD, max_size=4, unique=True),
       active=st.booleans(), region=st.one_of(st.none(), WORD),
       priorities=st.lists(PRIORITY, max_size=4, unique=True),
       targets=st.lists(st.fixed_dictionaries({"priority": PRIORITY, "minutes": st.integers(1, 10_000),
                                               "business_hours": st.booleans()}), max_size=4))
def test_a_record_shown_and_posted_back_unchanged_is_the_same_record(name, skills, roles, active, region,
                                                                      priorities, targets):
    record = {"name": name, "skills": skills, "roles": roles, "active": active, "region": region,
              "match": {"priority": priorities}, "targets": targets}
    shown = ff.values_of(record, FIELDS)
    parsed = ff.parse(_posted(shown, FIELDS), FIELDS)
    assert parsed["name"] == name and parsed["skills"] == skills and parsed["roles"] == roles
    assert parsed["active"] is active and parsed["region"] == region
    assert parsed["match"] == {"priority": priorities}
    assert parsed["targets"] == [{**t, "minutes": str(t["minutes"])} for t in targets]  # the schema reads it


CONDITIONS = st.one_of(
    st.fixed_dictionaries({"field": st.just("error_code"), "op": st.sampled_from(["equals", "starts_with"]),
                           "value": WORD}),
    st.fixed_dictionaries({"field": st.just("error_code"), "op": st.just("in"),
                           "value": st.lists(WORD, min_size=1, max_size=4)}),
    st.fixed_dictionaries({"field": st.just("customer.arr"), "op": st.sampled_from(["gte", "lte"]),
                           "value": st.integers(0, 10**9)}),
    st.fixed_dictionaries({"field": st.just("priority"), "op": st.just("not_in"),
                           "value": st.lists(PRIORITY, min_size=1, max_size=3)}),
    st.fixed_dictionaries({"field": st.just("component"), "op": st.just("equals"), "value": st.integers(1, 999)}),
    st.fixed_dictionaries({"field": st.just("custom_fields.env"), "op": st.just("equals"),
                           "value": st.one_of(st.booleans(), st.integers(-5, 5), TAG.map(lambda t: "x" + t))}),
    st.fixed_dictionaries({"field": st.just("tags"), "op": st.just("is_empty"),
                           "value": st.one_of(st.none(), st.booleans())}),
)
ACTIONS = st.one_of(
    st.fixed_dictionaries({"type": st.just("set_priority"), "value": PRIORITY}),
    st.fixed_dictionaries({"type": st.just("set_priority_from_impact"), "value": st.none()}),
    st.fixed_dictionaries({"type": st.just("add_tags"), "value": st.lists(TAG, min_size=1, max_size=4)}),
    st.fixed_dictionaries({"type": st.sampled_from(["set_queue", "set_team", "assign_to"]),
                           "value": st.integers(1, 999)}),
    st.fixed_dictionaries({"type": st.just("notify"), "value": st.fixed_dictionaries(
        {"team_id": st.integers(1, 9), "message": WORD})}),
    st.fixed_dictionaries({"type": st.just("escalate_to_engineering"), "value": st.one_of(st.none(), WORD)}),
)


@given(all_=st.lists(CONDITIONS, max_size=4), any_=st.lists(CONDITIONS, max_size=3),
       actions=st.lists(ACTIONS, min_size=1, max_size=4), position=st.integers(0, 1_000_000),
       stop=st.booleans())
def test_a_rule_shown_in_the_editor_and_saved_unchanged_is_the_same_rule(all_, any_, actions, position, stop):
    rule = {"name": "A rule", "description": "", "trigger": "create", "position": position, "active": True,
            "stop_processing": stop, "conditions": {"all": all_, "any": any_}, "actions": actions}
    fields = rule_form.fields()
    body = rule_form.from_form(ff.parse(_posted(rule_form.to_form(rule), fields), fields))
    assert body["conditions"] == {"all": all_, "any": any_}
    assert body["actions"] == actions
    assert int(body["position"]) == position and body["stop_processing"] is stop and body["active"] is True

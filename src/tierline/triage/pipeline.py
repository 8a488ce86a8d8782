"""The triage pipeline: what happens to a ticket between "it arrived" and "someone owns it", in order.

    customer profile -> signals -> classifier -> impact -> rules -> tier and queue -> assignment

`triage()` runs those steps on a ticket that is not saved yet (or is being changed) and writes the results
onto it. What needs the saved ticket (recurrence, escalation to engineering, rule notifications) and what
crosses into other engines (SLA, problems) is the flows' part: flows/intake.py reads top to bottom.
Precedence: rules beat predictions; fields the caller set are kept unless a rule sets them; predictions and
defaults only fill empty fields. Every step writes what it did into `ticket.triage`, the same shape as the
explain response.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from tierline.components import service as components_service
from tierline.customers import service as customers_service
from tierline.platform import clock
from tierline.platform.auth.actor import Actor
from tierline.platform.errors import NotFound
from tierline.settings import get_settings
from tierline.tickets import service as tickets_service
from tierline.tickets.signature import component_of, signature_for
from tierline.triage import assignment, classifier, impact, rules, sentiment, signals
from tierline.triage.types import TICKET_FIELDS, Draft, Signals

# Classifier targets and the ticket field each one fills.
PREDICTED_FIELDS = {"queue": "queue_id", "component": "component_id", "type": "type", "priority": "priority"}
_ID_FIELDS = {"queue_id", "component_id"}


def draft_of(ticket: Any, caller_set: set[str]) -> Draft:
    return Draft(**{name: getattr(ticket, name) for name in TICKET_FIELDS},
                 sentiment=ticket.sentiment, frustrated=bool(ticket.frustrated), impact_score=ticket.impact_score,
                 caller_set=set(caller_set))


def _customer(session: Session, draft: Draft, customer_id: int | None) -> None:
    if customer_id is None:
        return
    draft.customer = customers_service.profile(session, customer_id=customer_id)
    draft.customer.open_tickets = tickets_service.open_count(session, customer_id=customer_id,
                                                             at_most=impact.OPEN_TICKETS_COUNTED)


def _signals(session: Session, draft: Draft, message_text: str | None) -> Signals:
    found = signals.extract(subject=draft.subject, description=draft.description,
                            custom_fields=draft.custom_fields, component_index=components_service.name_index(session),
                            with_sentiment=message_text is None)
    if message_text is not None:  # a customer reply: the mood of the latest message is what matters now
        found.sentiment = sentiment.analyse(message_text)
    if found.sentiment is not None:
        draft.sentiment, draft.frustrated = found.sentiment.compound, found.sentiment.frustrated
    if found.error_code and draft.is_free("error_code"):
        draft.error_code = found.error_code
    if found.affected_users is not None and draft.is_free("affected_users"):
        draft.affected_users = found.affected_users
    if found.component_hints and draft.is_free("component_id"):
        draft.component_id = found.component_hints[0]
    return found


def _predict(session: Session, draft: Draft) -> list[dict[str, Any]]:
    threshold = get_settings().classifier_threshold
    out = []
    for prediction in classifier.predict(session, text=f"{draft.subject}\n{draft.description}"):
        field = PREDICTED_FIELDS.get(prediction.target)
        value: Any = prediction.label
        if field in _ID_FIELDS:
            value = int(value) if str(value).isdigit() else None
        if field and value is not None and prediction.confidence >= threshold and draft.is_free(field):
            setattr(draft, field, value)
            prediction.applied = True
        out.append(dict(prediction.__dict__))
    return out


def _route(session: Session, draft: Draft, trigger: str) -> dict[str, Any]:
    """Tier, queue and team. The queue decides the team: a ticket in a queue that belongs to a team belongs to
    that team, however the queue was set (the caller, a rule, a prediction, a follow-up, the default routing).
    A component's support team is only a default and gives way to the queue's. A team someone named (a rule,
    or the caller when no rule named the queue) leads instead: a queue of another team (predicted, or where
    the ticket was) gives way to the team's own queue of the tier, else a queue of no team, else none (the
    team is kept, the record says why). A caller naming both a queue and another team was refused before
    triage (`tickets.service.check_queue_team`)."""
    asked = {"queue_id", "tier", "team_id"} & draft.rule_set or {"queue_id", "team_id"} & draft.caller_set
    if trigger != "create" and not asked:
        return {"queue_id": draft.queue_id, "tier": draft.tier, "team_id": draft.team_id, "changed": False,
                "note": None}
    explicit = draft.caller_set | draft.rule_set
    if draft.component_id is not None and draft.is_free("team_id"):
        try:
            draft.team_id = components_service.info(session, component_id=draft.component_id).support_team_id
        except NotFound:
            pass
    note = None
    team_leads = "team_id" in explicit and "queue_id" not in draft.rule_set and (
        "team_id" in draft.rule_set or "queue_id" not in draft.caller_set)
    if team_leads:
        if draft.queue_id is not None and _queue_team(session, draft.queue_id) not in (None, draft.team_id):
            draft.queue_id = None  # another team's queue: the named team's own is looked for instead
        if draft.queue_id is None:
            draft.queue_id = assignment.team_queue(session, tier=draft.tier, team_id=draft.team_id)
            if draft.queue_id is None and assignment.tier_has_queues(session, tier=draft.tier):
                note = (f"team {draft.team_id} has no {draft.tier or 'L1'} queue and there is none of no team: "
                        "the ticket keeps the team and waits in no queue")
    elif draft.queue_id is None and (trigger == "create" or "queue_id" not in explicit):
        # (a queue a change takes away stays away; a new ticket's null queue is routed)
        draft.queue_id = assignment.default_queue(session, tier=draft.tier or "L1", team_id=draft.team_id,
                                                  component_id=draft.component_id)
    if draft.queue_id is not None:
        queue = tickets_service.queue_info(session, queue_id=draft.queue_id)
        if "tier" not in explicit or "queue_id" in draft.rule_set:
            draft.tier = queue.tier
        if queue.team_id is not None and draft.team_id != queue.team_id:
            if "team_id" in explicit:
                note = f"team {draft.team_id} gave way to team {queue.team_id}, the team of queue {queue.id}"
            draft.team_id = queue.team_id
    return {"queue_id": draft.queue_id, "tier": draft.tier, "team_id": draft.team_id, "changed": True,
            "note": note}


def _queue_team(session: Session, queue_id: int) -> int | None:
    try:
        return tickets_service.queue_info(session, queue_id=queue_id).team_id
    except NotFound:
        return None


def _assign(session: Session, draft: Draft, trigger: str, assign: str) -> dict[str, Any] | None:
    """Who takes the ticket: `claim` picks and claims now (a change inside a write transaction), `rank` only
    ranks the candidates into `draft.ranking` for the caller to claim in its short write (intake), `preview`
    predicts without claiming (explain)."""
    if draft.assignee_id is not None or draft.queue_id is None:
        return None
    if trigger != "create" and not ({"queue_id", "tier"} & draft.rule_set):
        return None
    if assign == "rank":
        draft.ranking = assignment.rank(session, draft=draft, queue_id=draft.queue_id)
        return None
    result = assignment.choose(session, draft=draft, queue_id=draft.queue_id, dry_run=assign == "preview")
    if result.user_id is not None and assign == "claim":
        draft.assignee_id = result.user_id
    return result.as_dict()


def _outage_priority(draft: Draft, found: Signals, score: int) -> dict[str, Any] | None:
    """A new ticket that reads as a full outage is at least as urgent as its impact at high urgency: "Production
    is down" from an enterprise customer is a P1 whatever a classifier guessed or the default said. A priority
    the caller gave stands, and rules (which run next) may still set another. Returns the record's entry."""
    if not found.production_down or "priority" in draft.caller_set:
        return None
    urgency = impact.effective_urgency(draft, found)
    floor = impact.priority_from_impact(score, urgency)
    if floor >= draft.priority:  # "P1" < "P2": only ever more urgent
        return None
    was, draft.priority = draft.priority, floor
    return {"priority": floor, "was": was,
            "reason": f"full outage: impact {score} ({impact.impact_level(score)}) x urgency {urgency}"}


def _signature_component(draft: Draft, previous: str | None, trigger: str) -> int | None:
    """The component a recurrence signature counts: one a person set (the caller, an agent's change), and on
    later runs one that already counted. A classifier's guess, a component merely named in the text and a
    rule's `set_component` are left out: they are read from the same words the signature's base (the error
    code, the fingerprint) already keys on, and whether they apply varies from one ticket to the next (a rule
    that fills an empty component does not fire once a classifier guessed one). So one customer's outage,
    written up twice, is not split into two problems by a guess (docs/problems.md)."""
    if draft.component_id is None:
        return None
    if "component_id" in draft.caller_set and "component_id" not in draft.rule_set:
        return draft.component_id
    if trigger != "create" and component_of(previous) == draft.component_id:
        return draft.component_id
    return None


def triage(session: Session, *, actor: Actor, ticket: Any, trigger: str, caller_set: set[str],
           message_text: str | None = None, dry_run: bool = False,
           assign: str = "claim") -> tuple[dict[str, Any], Draft]:
    """Run the steps on `ticket` and write the outcome onto it; returns the triage record and the draft
    (whose requested side effects the calling flow carries out). `dry_run` writes nothing anywhere (explain);
    `assign` says how the assignee is found (see `_assign`): with "rank" the record's `assignee_candidate` is
    left for the caller, who claims from `draft.ranking`."""
    draft = draft_of(ticket, caller_set)
    _customer(session, draft, ticket.customer_id)
    found = _signals(session, draft, message_text)
    predictions = _predict(session, draft) if trigger == "create" else []
    scored = impact.score(draft=draft, signals=found)
    draft.impact_score = scored.score
    raised = _outage_priority(draft, found, scored.score) if trigger == "create" else None
    matched, actions = rules.evaluate(session, draft=draft, signals=found, trigger=trigger)
    for prediction in predictions:  # rules beat predictions: a field a rule set is no longer predicted
        if prediction["applied"] and PREDICTED_FIELDS[prediction["target"]] in draft.rule_set:
            prediction["applied"], prediction["overridden_by_rule"] = False, True
        elif prediction["applied"] and raised is not None and prediction["target"] == "priority":
            prediction["applied"], prediction["overridden_by_outage"] = False, True
    if "priority" in draft.rule_set or trigger != "create":
        scored = impact.score(draft=draft, signals=found)  # rules may have changed what impact reads
        draft.impact_score = scored.score
    routed = _route(session, draft, trigger)
    candidate = _assign(session, draft, trigger, "preview" if dry_run else assign)
    for name in TICKET_FIELDS:
        if getattr(ticket, name) != getattr(draft, name):
            setattr(ticket, name, getattr(draft, name))
    ticket.impact_score, ticket.impact_explain = scored.score, scored.explain
    ticket.sentiment, ticket.frustrated = draft.sentiment, draft.frustrated
    ticket.signature = signature_for(error_code=ticket.error_code, subject=ticket.subject,
                                     description=ticket.description,
                                     component_id=_signature_component(draft, ticket.signature, trigger))
    if candidate is not None:
        ticket.waiting_reason = None if candidate["user_id"] is not None else candidate["reason"]
    record = {
        "trigger": trigger,
        "at": clock.now().isoformat(),
        "signals": found.as_dict(),
        "prediction": predictions,
        "impact": {"score": scored.score, "explain": scored.explain},
        "outage_priority": raised,
        "matched_rules": [m.as_dict() for m in matched],
        "actions": [a.as_dict() for a in actions],
        "queue": routed["queue_id"],
        "tier": routed["tier"],
        "team": routed["team_id"],
        "routing_note": routed["note"],
        "assignee_candidate": candidate,
        "escalate_to_engineering": draft.escalate_to_engineering,
        "notify": draft.notify,
        "signature": ticket.signature,
    }
    if not dry_run:
        # The intake record stays what the ticket shows; later runs (updates, replies) add their latest.
        ticket.triage = record if trigger == "create" else {**(ticket.triage or {}), "last_run": record}
    return record, draft

"""A new or changed SLA policy applies to the open tickets, not only to tickets that change later.

`sla.policies` queues `REAPPLY_JOB` when a policy is created, changed or deleted; this job reconciles the
unsolved tickets in batches (ids above `after`), each with the same rules as any change of the ticket
(`sla.service.reconcile`): a clock whose target no longer applies is cancelled, not deleted (its breach stays),
one that applies again resumes with the time it had consumed, a new target starts. Every clock change and
ticket change is audited, and each batch writes one `sla_policies.reapply` event naming the tickets it moved.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from tierline.platform import audit, jobs
from tierline.sla import service as sla_service
from tierline.sla.policies import REAPPLY_JOB
from tierline.sla.timers import SLA_ACTOR
from tierline.tickets import state_machine as sm
from tierline.tickets.models import Ticket
from tierline.tickets.service import NOT_AUDITED, flush

BATCH = 200


def reapply_batch(session: Session, *, policy_id: int, after: int) -> int:
    """Reconcile the next batch of unsolved tickets with the active policies; queue the next batch when more
    remain. Returns how many tickets were looked at."""
    ids = list(session.scalars(select(Ticket.id).where(Ticket.status.in_(sm.UNSOLVED), Ticket.id > after)
                               .order_by(Ticket.id).limit(BATCH + 1)))
    moved: list[str] = []
    for ticket_id in ids[:BATCH]:
        ticket = session.get(Ticket, ticket_id, with_for_update=True)
        if ticket is None or ticket.status not in sm.UNSOLVED:
            continue
        before = audit.snapshot(ticket)
        sla_service.reconcile(session, actor=SLA_ACTOR, ticket=ticket)
        if audit.record_update(session, SLA_ACTOR, ticket, before, action="tickets.sla_reapplied",
                               exclude=NOT_AUDITED):
            flush(session, ticket)
            moved.append(ticket.key)
    audit.record(session, SLA_ACTOR, "sla_policies.reapply", entity_type="sla_policies", entity_id=policy_id,
                 changes={"after": after, "tickets_checked": min(len(ids), BATCH), "tickets_changed": moved})
    if len(ids) > BATCH:
        jobs.enqueue(session, REAPPLY_JOB, {"policy_id": policy_id, "after": ids[BATCH - 1]})
    return min(len(ids), BATCH)

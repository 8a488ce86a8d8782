"""Telling a fixed problem's unsolved tickets: a public update on each, a batch per job run.

`problems.service.announce_fix` queues the first batch when a problem is fixed; this job posts the messages
(the message flow: status, SLA clocks) and queues the next batch, so a fix with thousands of tickets holds no
lock while they are told and a failed batch is retried without telling anyone twice.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from tierline.flows import messages
from tierline.platform import jobs
from tierline.platform.auth import service as auth_service
from tierline.platform.auth.actor import Actor
from tierline.problems import service as problems_service
from tierline.problems.models import FIXED, Problem
from tierline.problems.service import ANNOUNCE_JOB
from tierline.tickets.messages import SYSTEM


def announce_batch(session: Session, *, problem_id: int, user_id: int | None, after: int) -> int:
    """Post the fix update to the next batch of unsolved linked tickets (ids above `after`), signed by the
    user who fixed the problem; queue the next batch when more remain. Returns how many were told now."""
    problem = session.get(Problem, problem_id)
    if problem is None or problem.status != FIXED:
        return 0  # reopened (or gone) before its tickets were told: the fix no longer stands
    actor = Actor.system("problems")
    if user_id is not None:
        user = auth_service.get_user(session, user_id=user_id)
        actor = auth_service.actor_for(user, via="system")
    batch = problems_service.ANNOUNCE_BATCH
    ticket_ids = problems_service.unsolved_ticket_ids(session, problem_id=problem.id, after=after, limit=batch + 1)
    body = problems_service.announcement(problem)
    if body is None:
        return 0  # fixing needs a summary; a problem fixed before summaries existed tells nobody rather than leak
    for ticket_id in ticket_ids[:batch]:
        # From the support team (`system`): an automatic message is no response to the customer.
        messages.create(session, actor=actor, ticket_key=f"T-{ticket_id}", body=body, public=True,
                        author_type=SYSTEM)
    if len(ticket_ids) > batch:
        jobs.enqueue(session, ANNOUNCE_JOB, {"problem_id": problem.id, "user_id": user_id,
                                             "after": ticket_ids[batch - 1]})
    return min(len(ticket_ids), batch)

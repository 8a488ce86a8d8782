"""The hash-chained audit trail.

Services call `record()` (or `record_create`, `record_update`, `record_delete`) for every entity they create,
change or delete; the event is prepared at once and appended to the chain in the session's `before_commit`,
inside the same transaction as the change. A write path that works below the ORM prepares its events
before its transaction with `prepare` (holes for the values only the write will know), `fill`s them in the
write, and either `queue`s them in the session (appended at its commit, after the events recorded before
them) or calls `append` last, on its connection.

Chain design: everything about an event that does not depend on its place in the chain (normalising,
canonicalising, the SHA-256 of its body) is computed before the write; appends are serialised, at the end of
the writing transaction only, and inside that lock only the link (seq, previous hash, body hash) is hashed
and the rows written. We chose this over sealing events later into a separate table because the chain is
then complete at every instant: `audit verify` never has an unsealed tail to explain, and there is no sealer
process to run, monitor or fall behind. Every event names the version of its hash definition; `verify`
checks each by its own, so chains written before version 2 stay valid. See docs/architecture.md, "The
audit chain", and the modules:

- models.py      the tables: events, and the chain head's one row
- canonical.py   `jsonable`, `canonical`, `iso`, `Hole`: the one stored and hashed form of a value
- hashing.py     the hash definitions, version 1 (`compute_hash`) and version 2 (body hash, then link)
- prepared.py    `prepare` and `PreparedEvent.fill`: events made ready outside the transaction
- chain.py       `append`: the lock, the link, the inserts and the head, in 2 or 3 statements
- recording.py   `record*`, `queue`, `snapshot`, `diff`: the session path, its commit and rollback hooks
- verify.py      `verify`: every link, every hash by its version, and the head
- reads.py       `list_events` for auditors, `scan` for whoever walks the chain in order
"""

from tierline.platform.audit.canonical import Hole, canonical, iso, jsonable
from tierline.platform.audit.chain import append
from tierline.platform.audit.hashing import (
    CURRENT_HASH_VERSION,
    compute_body_hash,
    compute_hash,
    event_hash,
    link_hash,
)
from tierline.platform.audit.models import GENESIS_HASH, AuditChainHead, AuditEvent
from tierline.platform.audit.prepared import PreparedEvent, prepare
from tierline.platform.audit.reads import list_events, scan
from tierline.platform.audit.recording import (
    diff,
    queue,
    record,
    record_create,
    record_delete,
    record_update,
    snapshot,
)
from tierline.platform.audit.verify import VerifyResult, event_fields, verify

__all__ = [
    "CURRENT_HASH_VERSION",
    "GENESIS_HASH",
    "AuditChainHead",
    "AuditEvent",
    "Hole",
    "PreparedEvent",
    "VerifyResult",
    "append",
    "canonical",
    "compute_body_hash",
    "compute_hash",
    "diff",
    "event_fields",
    "event_hash",
    "iso",
    "jsonable",
    "link_hash",
    "list_events",
    "prepare",
    "queue",
    "record",
    "record_create",
    "record_delete",
    "record_update",
    "scan",
    "snapshot",
    "verify",
]

"""Every table's model, imported in one place so Alembic and the tests see the whole schema."""

from tierline.capacity import models as capacity_models  # noqa: F401
from tierline.components import models as components_models  # noqa: F401
from tierline.customers import models as customers_models  # noqa: F401
from tierline.people import models as people_models  # noqa: F401
from tierline.platform import app_settings, audit, idempotency, jobs, outbox, reference_cache, search  # noqa: F401
from tierline.platform.auth import models as auth_models  # noqa: F401
from tierline.platform.db import Base
from tierline.problems import models as problems_models  # noqa: F401
from tierline.sla import models as sla_models  # noqa: F401
from tierline.tickets import models as tickets_models  # noqa: F401
from tierline.tickets import workloads as tickets_workloads  # noqa: F401
from tierline.triage import classifier_records as triage_classifier_records  # noqa: F401
from tierline.triage import models as triage_models  # noqa: F401

metadata = Base.metadata

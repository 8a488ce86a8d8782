"""Every table's model, imported in one place so Alembic and the tests see the whole schema."""

from tierline.platform import app_settings, audit, idempotency, jobs, outbox, search  # noqa: F401
from tierline.platform.auth import models as auth_models  # noqa: F401
from tierline.platform.db import Base

metadata = Base.metadata

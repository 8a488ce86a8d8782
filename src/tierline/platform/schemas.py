"""API shapes every domain shares: the update body, the id, the time, the email address.

Every value a request carries is bounded where it is declared, so a value no column can hold is a 422 naming
the field and never reaches the database driver (a Python int past 64 bits, a date that overflows on its way
to UTC). A test walks the published OpenAPI to hold every route to it (tests/test_ids.py).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar

import email_validator
from annotated_types import Ge, Le
from email_validator import EmailNotValidError, validate_email
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    PlainSerializer,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
)

# -- ids ----------------------------------------------------------------------------------------------------

MAX_ID = 2**63 - 1  # the largest BIGINT; SQLite's INTEGER holds the same


def _not_a_boolean(value: Any) -> Any:
    # JSON's true would otherwise pass as the id 1.
    if isinstance(value, bool):
        raise ValueError("must be an id (an integer from 1 to 2^63-1), not true or false")
    return value


# The id of a row, wherever a request names one: a path parameter, a query parameter or a body field. Plain
# constraints (not a pydantic Field), so FastAPI takes it for a path or query parameter as well as in a model;
# anything else is a 422 naming the parameter. The published bounds are exact (platform/openapi.py).
Id = Annotated[int, Ge(1), Le(MAX_ID), BeforeValidator(_not_a_boolean)]


# -- times --------------------------------------------------------------------------------------------------

def _utc(value: datetime) -> datetime:
    try:
        return value.astimezone(UTC)
    except OverflowError as exc:  # 0001-01-01T00:00+01:00 is before year 1 in UTC, 9999-12-31T23:00-05:00 too
        raise ValueError("is out of range: a time must fall between the years 1 and 9999 in UTC") from exc


# A timezone-aware instant in a request, given back in UTC: a naive time, or one that falls outside the years
# 1 to 9999 once in UTC, is a 422 naming the field.
UtcDateTime = Annotated[AwareDatetime, AfterValidator(_utc)]


# -- durations in answers ------------------------------------------------------------------------------------

def tenth(minutes: float) -> float:
    """A duration as people read it: to 0.1 of its unit."""
    return round(minutes, 1)


# Minutes in an answer: rounded to 0.1 when serialised (68.43789 reads 68.4), however precisely the row keeps
# them (clocks keep full precision: a sum of rounded segments would drift).
Minutes = Annotated[float, PlainSerializer(tenth, return_type=float)]


# -- email addresses ----------------------------------------------------------------------------------------

# A help desk takes a ticket from any syntactically valid address: corporate mail on `.local`, `.internal`,
# `.lan` or `.corp` domains is common inside enterprises, and nothing here delivers mail by DNS. So syntax
# only: no deliverability check and no special-use or reserved-name check (email-validator's documented switch
# for the latter is this list; every caller in the process validates addresses the same way).
email_validator.SPECIAL_USE_DOMAIN_NAMES.clear()
MAX_EMAIL_LENGTH = 320


def normalise_email(value: str) -> str:
    """The address as stored: syntax checked, domain and local part lower-cased. Raises ValueError."""
    if not isinstance(value, str):
        raise ValueError("must be an email address")
    try:
        checked = validate_email(value.strip(), check_deliverability=False, globally_deliverable=False,
                                 allow_quoted_local=True, allow_domain_literal=True)
    except EmailNotValidError as exc:
        raise ValueError(f"is not a valid email address: {exc}") from exc
    return checked.normalized.lower()


def _email(value: Any) -> str:
    if isinstance(value, str) and len(value) > MAX_EMAIL_LENGTH:
        raise ValueError(f"is not a valid email address: longer than {MAX_EMAIL_LENGTH} characters")
    return normalise_email(value)


# The one email address type (requesters, contacts, users, message authors): stored lower-cased.
Email = Annotated[str, BeforeValidator(_email),
                  WithJsonSchema({"type": "string", "format": "email", "maxLength": MAX_EMAIL_LENGTH})]


# -- names --------------------------------------------------------------------------------------------------

MAX_NAME_LENGTH = 200  # the name columns of users, contacts, teams, queues, components, ...


def name_or(name: str | None, fallback: str) -> str:
    """A name as stored: the one given, stripped, else `fallback` (an address, or its local part), cut to fit
    the name columns: an address may be 254 characters long, a name column holds 200."""
    return ((name or "").strip() or fallback)[:MAX_NAME_LENGTH]


# -- update bodies ------------------------------------------------------------------------------------------

class Patch(BaseModel):
    """An update body: omitted fields keep their value; an explicit null is refused unless the field is
    nullable (list those in `nullable`)."""

    model_config = ConfigDict(extra="forbid")
    nullable: ClassVar[frozenset[str]] = frozenset()

    @field_validator("*", mode="before")
    @classmethod
    def _refuse_null(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None and info.field_name not in cls.nullable:
            raise ValueError("may not be null; leave the field out to keep its value")
        return value


# -- one of several shapes ------------------------------------------------------------------------------------

class _OneOf:
    """Annotated marker: publish a union of response shapes as `oneOf` rather than pydantic's `anyOf`. For
    shapes that no value can match twice (one forbids the keys the other requires), so a client, or the
    fuzzer's response check, knows every answer is exactly one of them."""

    def __get_pydantic_json_schema__(self, core_schema: Any, handler: Any) -> Any:
        schema = handler(core_schema)
        if "anyOf" in schema:
            schema["oneOf"] = schema.pop("anyOf")
        return schema


ONE_OF = _OneOf()

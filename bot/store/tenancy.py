"""One deployment, several schools (issue 10): every school-owned row carries its school, and a session opened for a
school can neither read nor write another school's rows.

How it holds, in one place rather than in every query:
- `SchoolOwned` gives a table its `school_id` column (NOT NULL, indexed).
- A session opened with `Database.session(school=...)` (what a journey gets from `services.db.session()`) carries
  the school in `session.info`. Every ORM SELECT, UPDATE and DELETE it runs gets `school_id = <school>` added to each
  school-owned table in it (SQLAlchemy's `with_loader_criteria`, applied in a `do_orm_execute` hook — the pattern
  the SQLAlchemy docs give for multi-tenant filtering), so `session.get(Model, id)` of another school's row is None
  and a bulk UPDATE cannot touch it.
- New objects are stamped with the session's school before a flush; an object that says another school is refused
  (`CrossSchoolWrite`), as is moving a row to another school. Core inserts go through `bot.store.upsert`, which
  stamps them the same way.
- A session opened without a school is the deployment's own (the outbox worker, migrations, retention over every
  school, tests that inspect the whole store): it sees every row. New rows from it take `Database.default_school`,
  which is only set when the deployment has exactly one school; otherwise they must name their school.

Reference: https://docs.sqlalchemy.org/en/20/orm/session_events.html#adding-global-where-on-criteria
"""

from __future__ import annotations

from contextvars import ContextVar

from sqlalchemy import String, event
from sqlalchemy.orm import Mapped, Session, declared_attr, mapped_column, with_loader_criteria

#: The key of a school configured on its own (a single-school YAML without `school.key`).
DEFAULT_SCHOOL_KEY = "school"
SCHOOL_KEY = "school_id"  # the session.info entry
#: The school an outbox delivery runs for (set by the worker from the row; read by the deployment's handlers).
CURRENT_SCHOOL: ContextVar[str | None] = ContextVar("current_school", default=None)


class CrossSchoolWrite(Exception):
    """A write would put or move a row into a school other than the session's."""


class SchoolOwned:
    """Mixin: the row belongs to one school of the deployment."""

    @declared_attr
    def school_id(cls) -> Mapped[str]:  # noqa: N805 - declared_attr takes the class
        return mapped_column(String(40), nullable=False, index=True)


def session_school(session: Session) -> str | None:
    return session.info.get(SCHOOL_KEY)


@event.listens_for(Session, "do_orm_execute")
def _only_this_school(state) -> None:
    school = state.session.info.get(SCHOOL_KEY)
    if school is None or state.is_column_load or state.is_relationship_load:
        return
    if state.is_select or state.is_update or state.is_delete:
        state.statement = state.statement.options(
            with_loader_criteria(SchoolOwned, lambda cls: cls.school_id == school, include_aliases=True)
        )


@event.listens_for(Session, "before_flush")
def _stamp_new_rows(session: Session, _ctx, _instances) -> None:
    school = session.info.get(SCHOOL_KEY)
    default = session.info.get("default_school")
    for obj in session.new:
        if not isinstance(obj, SchoolOwned):
            continue
        if obj.school_id is None:
            obj.school_id = school if school is not None else default
        elif school is not None and obj.school_id != school:
            raise CrossSchoolWrite(f"a {type(obj).__name__} of another school cannot be written from this school")
    if school is None:
        return
    for obj in session.dirty:
        if isinstance(obj, SchoolOwned) and obj.school_id != school:
            raise CrossSchoolWrite(f"a {type(obj).__name__} cannot be moved to another school")


def stamp_rows(session, model, rows: list[dict]) -> list[dict]:
    """Core-insert rows for a school-owned table, each given the session's school (or refused if it names another)."""
    if not (isinstance(model, type) and issubclass(model, SchoolOwned)):
        return rows
    sync = getattr(session, "sync_session", session)
    school = sync.info.get(SCHOOL_KEY)
    fill = school if school is not None else sync.info.get("default_school")
    out = []
    for r in rows:
        given = r.get("school_id")
        if given is not None and school is not None and given != school:
            raise CrossSchoolWrite(f"a {model.__name__} of another school cannot be written from this school")
        out.append(r if given is not None else {**r, "school_id": fill})
    return out

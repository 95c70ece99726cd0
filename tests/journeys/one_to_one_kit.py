"""Shared set-up for the 1:1 supervision journey tests (record, agreed actions, agreement): no tests of its own.

Priya Raman supervises Tom Hollis; Marcus Fenwick supervises Grace Mensah. Priya and Tom have had two booked
sessions (the latest on 19 Nov) and have one still to come."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import func, select

from bot.store.models_request import Meeting, Pairing
from tests.journeys.test_request_kit import kit  # noqa: F401

SUP, SEE = "priya.raman", "tom.hollis"
NARRATIVE = "Talked about the difficult week in the classroom and feeling stretched at lunchtimes."
REFLECTION = "Noticed that the worry carried home in the evenings."


async def _pair(
    db, supervisor: str, supervisee: str, *, started=dt.datetime(2026, 10, 1, 9, tzinfo=dt.timezone.utc)
) -> int:
    async with db.session() as s:
        p = Pairing(supervisee_id=supervisee, supervisor_id=supervisor, started_at=started)
        s.add(p)
        await s.flush()
        return p.id


async def _meeting(db, pairing_id: int, start: dt.datetime, *, supervisor=SUP, supervisee=SEE) -> None:
    async with db.session() as s:
        n = (await s.execute(select(func.count()).select_from(Meeting))).scalar_one()
        s.add(
            Meeting(
                kind="one_to_one",
                pairing_id=pairing_id,
                supervisor_id=supervisor,
                supervisee_id=supervisee,
                starts_at=start,
                ends_at=start + dt.timedelta(hours=1),
                local_date=start.date(),
                half_term="2026-27 Autumn 2",
                status="booked",
                event_key=f"m{n}",
                offer_nonce=f"o{n}",
                booked_by=supervisor,
                booked_at=start - dt.timedelta(days=3),
            )
        )


@pytest.fixture
async def pairs(kit):  # noqa: F811
    pid = await _pair(kit.db, SUP, SEE)
    await _pair(kit.db, "marcus.fenwick", "grace.mensah")
    await _meeting(kit.db, pid, dt.datetime(2026, 11, 12, 14, tzinfo=dt.timezone.utc))
    await _meeting(kit.db, pid, dt.datetime(2026, 11, 19, 14, tzinfo=dt.timezone.utc))  # the latest that happened
    await _meeting(kit.db, pid, dt.datetime(2026, 12, 3, 14, tzinfo=dt.timezone.utc))  # still to come
    await kit.install(SUP, SEE, "marcus.fenwick", "grace.mensah", "amara.okafor", "isla.brennan")
    return pid


def answers(**extra) -> dict:
    return {
        "sess_date": "2026-11-19",
        "f_previous_actions": "First session, nothing to review.",
        "f_discussion": NARRATIVE,
        "f_wellbeing": "Tired but coping.",
        "f_reflections": REFLECTION,
        "f_confidentiality": "true",
        "f_next_session": "2026-12-03",
        "act_0_text": "Ask for a lunchtime swap",
        "act_0_owner": SEE,
        "act_0_due": "2026-12-01",
        "act_1_text": "Find the wellbeing leaflet",
        "act_1_owner": SUP,
        "act_1_due": "2026-11-27",
        **extra,
    }


async def open_card(k, who=SUP, supervisee=SEE) -> dict:
    start = await k.say(who, "note")
    return await k.press(who, start, "targeted.open", {"supervisee": supervisee})


async def submitted(k, **extra) -> dict:
    card = await open_card(k)
    return await k.press(SUP, card, "targeted.submit", answers(**extra))


async def count(db, model, *where) -> int:
    async with db.session() as s:
        return (await s.execute(select(func.count()).select_from(model).where(*where))).scalar_one()


async def said(k, who: str, words: str) -> str:
    """A typed command that is answered with a sentence."""
    before = len(k.connector.sent)
    await k.teams.say(k.p(who), words)
    return " ".join(s.activity.get("text") or "" for s in k.connector.sent[before:])


async def everything_stored(db) -> str:
    """Every row of every table, as text (to prove no narrative is left anywhere)."""
    from bot.store.base import Base, import_all_models

    import_all_models()
    out = []
    async with db.session() as s:
        for table in Base.metadata.sorted_tables:
            rows = (await s.execute(select(table))).all()
            out.append(json.dumps([list(map(str, r)) for r in rows], ensure_ascii=False))
    return "\n".join(out)

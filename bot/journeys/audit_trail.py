"""Journey: the audit trail (DSL team) — who created, viewed, changed, exported or was refused what, for one
record or one person. Issue 12: records are subject to inspection and audit (seeds 002/003).

The trail holds ids and action names only (bot/store/audit.py); this card puts roster names to the staff ids
for the DSL team, who already see names everywhere else. Looking at a trail is itself audited.
"""

from __future__ import annotations

import re

from bot.journeys import permissions
from bot.journeys.base import Reply, Services, Turn
from bot.journeys.kit import audited, parse_id
from bot.journeys.router import Router
from bot.school import Role
from bot.store import audit
from cards import audit as cards

DSL_ONLY = "Only the DSL team can see the audit trail."
DSL_TEAM = permissions.role(Role.DSL, DSL_ONLY, "DSL team")
SHOWN = 30

KIND_LABELS = {
    audit.PERSON: "person",
    audit.TARGETED_RECORD: "1:1 record",
    audit.GROUP_RECORD: "group record",
    audit.AGREEMENT: "supervision agreement",
    audit.REQUEST: "supervision request",
    audit.MEETING: "1:1 session",
    audit.GROUP_SESSION: "group session",
    audit.EXPORT: "export",
    audit.COMMAND: "command",
    audit.VERB: "card action",
    audit.DASHBOARD: "dashboard",
    audit.AUDIT_TRAIL: "audit trail",
    audit.TRUST_PICTURE: "trust picture",
    audit.HANDOVER: "handover",
    audit.RECORD_ACCESS: "access to a 1:1 record",
}
_STAFF_ID = re.compile(r"^[A-Za-z0-9_.@-]{1,120}$")


def register(router: Router) -> None:
    router.command(
        "audit",
        title="Audit trail",
        description="Who created, viewed, changed or was refused what: one record or one person.",
        handler=show_trail,
        allowed=DSL_TEAM,
        verb=cards.SHOW,
    )


def _who(services: Services, staff_id: str | None, action: str | None = audit.REFUSED) -> str:
    if staff_id is None:
        # No actor: a refusal of someone off the roster, or the bot itself (a request routed by the school's rules,
        # the retention job).
        return "someone not on the staff list" if action == audit.REFUSED else "the bot"
    person = services.school.staff.get(staff_id)
    return person.name if person else staff_id


def _what(event) -> str:
    kind = KIND_LABELS.get(event.object_kind, event.object_kind)
    target = f"{kind} {event.object_id}" if event.object_id else kind
    if event.action == audit.REFUSED:
        return f"was refused: {target}"
    return f"{event.action} {target}"


def _when(services: Services, event) -> str:
    return f"{event.at.astimezone(services.school.tz):%a %d %b %Y, %H:%M}"


def _subject(turn: Turn) -> tuple[str, str] | None:
    """(kind, id) from the card's inputs or the typed words: "audit tom.hollis", "audit targeted_record 12"."""
    if turn.verb:
        kind, raw = str(turn.data.get("audit_kind") or audit.PERSON), str(turn.data.get("audit_id") or "").strip()
    else:
        words = turn.text.split()[1:]
        if not words:
            return None
        kind, raw = (words[0], words[1]) if len(words) > 1 else (audit.PERSON, words[0])
    if kind not in dict(cards.SUBJECTS):
        return None
    if kind == audit.PERSON:
        return (kind, raw) if _STAFF_ID.match(raw) else None
    rid = parse_id(raw)
    return (kind, str(rid)) if rid is not None else None


async def show_trail(services: Services, turn: Turn) -> Reply:
    """Shows the audit trail of the person or record asked for (or the look-up form)."""
    asked = _subject(turn)
    if asked is None:
        error = "Choose what to look up and give its id." if (turn.verb or turn.text.split()[1:]) else None
        return Reply.of(cards.trail_card(cards.TrailView(error=error)))
    kind, object_id = asked
    async with services.db.session() as s:
        if kind == audit.PERSON:
            events = await audit.for_person(s, object_id, limit=SHOWN + 1)
        else:
            events = await audit.for_object(s, kind, object_id, limit=SHOWN + 1)
        await audited(services, turn, s, audit.VIEWED, audit.AUDIT_TRAIL, f"{kind}:{object_id}")
    label = _who(services, object_id) if kind == audit.PERSON else f"{KIND_LABELS[kind]} {object_id}"
    lines = [
        cards.EventLine(_when(services, e), _who(services, e.actor_id, e.action), _what(e)) for e in events[:SHOWN]
    ]
    return Reply.of(
        cards.trail_card(
            cards.TrailView(subject_label=label, lines=lines, kind=kind, object_id=object_id, more=len(events) > SHOWN)
        )
    )

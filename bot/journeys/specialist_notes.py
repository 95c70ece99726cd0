"""Journey: the notes of a specialist group supervision session (seed 001 §3.3: "notes from these sessions will be
kept by the supervisor and shared with the supervisee. There is no requirement to store these notes centrally").

The session's supervisor (its facilitator or another of its leaders) writes the notes once the session has
happened — from the "time to write up" prompt sent when it ends, or the session's own card — on the specialist
template (bot/records/templates/one_to_one/specialist_group.yaml), ticking who came. Drafts, the one-time submit
key and the file's delivery follow the record lifecycle shared with the other records (bot/records/lifecycle.py
`SPECIALIST_NOTES`). Submit is one transaction: the notes' metadata, the .docx queued for the supervisor's
OneDrive and shared with each attendee (bot/records/specialist_notes.py), each attendee's notice chained after
the shares, the draft deleted, and an audit event. Nothing goes to a channel or the DSL team; nothing is logged.
"""

from __future__ import annotations

import dataclasses

from bot import labels
from bot.journeys import permissions
from bot.journeys.base import Reply, Services, Turn
from bot.journeys.kit import audited, parse_id, parse_key, refuse, say, tampered
from bot.journeys.router import Router
from bot.outbox import effects
from bot.outbox.api import withdraw
from bot.records import specialist_notes as notes
from bot.records.lifecycle import SPECIALIST_NOTES
from bot.records.rules import clean_text, draft_values, parse_answers, split_ids
from bot.store import audit, sessions
from bot.store.errors import AlreadySubmitted, NotYours
from bot.store.models_specialist_notes import DELIVERED, FAILED, PENDING, SpecialistNote
from cards import specialist_notes as cards
from cards.request import act
from cards.request import card as plain_card
from cards.request import text as plain_text
from cards.request import title as plain_title

NOT_SUPERVISOR = "Only the supervisor who led this session can write up its notes."
NOT_YOURS = "Those notes aren't shared with you."
TAMPERED = "Sorry, I can't do that with this card. Open the session again to start over."
KIND = "specialist"  # the only kind whose notes the supervisor keeps (the others are recorded centrally)
AUDIT_KIND = "specialist_note"
STATE = {DELIVERED: "shared", PENDING: "sharing", FAILED: "not shared yet"}

STAFF = permissions.on_roster(NOT_SUPERVISOR)


def register(router: Router) -> None:
    router.verb(cards.OPEN, open_notes, allowed=STAFF)
    router.verb(cards.SAVE, save, allowed=STAFF)
    router.verb(cards.SUBMIT, submit, allowed=STAFF)
    router.verb(cards.DISCARD, discard, allowed=STAFF)
    router.verb(cards.FILE, show_file, allowed=permissions.on_roster(NOT_YOURS))
    router.on_delivered(effects.PERSONAL_SHARE, share_delivered)
    router.on_dead_letter(effects.PERSONAL_SHARE, share_dead)


def prompt_key(session_id: int) -> str:
    return f"{SPECIALIST_NOTES.prefix}prompt:{session_id}"


def prompt(session) -> effects.Effect:
    """The supervisor's "time to write up the notes" card, sent when the session ends."""
    card = plain_card(
        [
            plain_title("Time to write up the session notes"),
            plain_text(
                "Your specialist supervision session has ended. The notes are kept by you and shared with the "
                "people who came, as the policy asks."
            ),
        ],
        [act("Write up the notes", cards.OPEN, {"session_id": session.id}, style="positive")],
    )
    return dataclasses.replace(
        effects.notify(session.facilitator_id, card, key=prompt_key(session.id)), not_before=session.ends_at
    )


# ---- helpers ----------------------------------------------------------------------------------------------------
@dataclasses.dataclass
class _Session:
    session: object
    leaders: list[str]
    people: list[str]  # everyone but the leaders who was invited


async def _load(s, session_id: int | None) -> _Session | None:
    sess = await sessions.get(s, session_id) if session_id is not None else None
    if sess is None or sess.kind != KIND:
        return None
    link = await sessions.booking_link(s, sess.id)
    leaders = list(dict.fromkeys([sess.facilitator_id, *((link.supervisor_ids or []) if link else [])]))
    invited = [i for i in await sessions.invitee_ids(s, sess.id) if i not in leaders]
    return _Session(sess, leaders, invited)


def _when(services: Services, sess) -> str:
    return f"{labels.date_label(sess.local_date)} " + labels.time_range(
        sess.starts_at, sess.ends_at, services.school.tz
    )


def _name(services: Services, staff_id: str) -> str:
    return labels.name_of(services.school, staff_id, missing="a former member of staff")


async def _mine(services: Services, s, turn: Turn, what: str) -> _Session | Reply:
    loaded = await _load(s, parse_id(turn.data.get("session_id")))
    if loaded is None or turn.actor.id not in loaded.leaders:
        refuse(turn, f"{what}: not a leader of this specialist session")
        return say(turn, NOT_SUPERVISOR)
    return loaded


def _card(services: Services, loaded: _Session, key: str, values: dict, **kw) -> dict:
    return cards.notes_card(
        cards.NotesView(
            session_id=loaded.session.id,
            draft_key=key,
            template=notes.template(),
            heading=loaded.session.title,
            when=_when(services, loaded.session),
            people=[(i, _name(services, i)) for i in loaded.people],
            values=values,
            **kw,
        )
    )


def _values(data: dict) -> dict[str, str]:
    values = draft_values(notes.template(), data)
    who = clean_text(data.get("sn_attendees"), multiline=False)[:4000]
    if who:
        values["sn_attendees"] = who
    return values


def _done(services: Services, note: SpecialistNote, sess, *, already: bool = False) -> dict:
    return cards.done_card(
        cards.NotesDoneView(
            note_id=note.id,
            heading=sess.title if sess else "Specialist supervision",
            when=_when(services, sess) if sess else labels.date_label(note.session_date),
            shared_with=len(note.shared_with or []),
            state=STATE.get(note.status, note.status),
            web_url=note.web_url if note.status == DELIVERED else None,
            already=already,
        )
    )


# ---- the notes card ---------------------------------------------------------------------------------------------
async def open_notes(services: Services, turn: Turn) -> Reply:
    """Opens the notes of a specialist session for its supervisor (the draft if there is one)."""
    async with services.db.session() as s:
        loaded = await _mine(services, s, turn, "specnotes.open")
        if isinstance(loaded, Reply):
            return loaded
        filed = await _filed_for(s, loaded.session.id)
        if filed is not None:
            return Reply.of(_done(services, filed, loaded.session, already=True))
        if loaded.session.starts_at > turn.now or loaded.session.status == "cancelled":
            return say(turn, "Write the notes up once the session has happened.", "Not yet")
        draft = await SPECIALIST_NOTES.latest_for(s, turn.actor.id, session_id=loaded.session.id)
        if draft is not None:
            return Reply.of(
                _card(
                    services,
                    loaded,
                    draft.draft_key,
                    dict(draft.content),
                    has_draft=True,
                    message="Your draft is back.",
                )
            )
        import uuid

        return Reply.of(_card(services, loaded, uuid.uuid4().hex, {}))


async def _filed_for(s, session_id: int) -> SpecialistNote | None:
    from bot.store.specialist import notes_filed_for

    return await notes_filed_for(s, session_id)


async def save(services: Services, turn: Turn) -> Reply:
    """Saves the half-written notes as the supervisor's own draft."""
    key = parse_key(turn.data.get("draft_key"))
    if key is None:
        return tampered(turn, "specialist notes: draft key", TAMPERED)
    async with services.db.session() as s:
        loaded = await _mine(services, s, turn, "specnotes.save")
        if isinstance(loaded, Reply):
            return loaded
        values = _values(turn.data)
        try:
            await SPECIALIST_NOTES.save(s, key, turn.actor.id, values, now=turn.now, session_id=loaded.session.id)
        except AlreadySubmitted:
            return say(turn, "These notes were submitted already, so there is no draft to save.", "Already submitted")
        except NotYours:
            return tampered(turn, "specialist notes: someone else's draft", TAMPERED)
        saved = f"Draft saved at {turn.now.astimezone(services.school.tz):%H:%M}."
        return Reply.of(_card(services, loaded, key, values, message=saved, good=True, has_draft=True))


async def discard(services: Services, turn: Turn) -> Reply:
    """Deletes the supervisor's draft of the notes."""
    key = parse_key(turn.data.get("draft_key"))
    if key is None:
        return tampered(turn, "specialist notes: draft key", TAMPERED)
    async with services.db.session() as s:
        loaded = await _mine(services, s, turn, "specnotes.discard")
        if isinstance(loaded, Reply):
            return loaded
        try:
            await SPECIALIST_NOTES.discard(s, key, turn.actor.id)
        except NotYours:
            return tampered(turn, "specialist notes: someone else's draft", TAMPERED)
    return say(turn, "Draft deleted. Nothing was shared.", "Draft deleted")


async def submit(services: Services, turn: Turn) -> Reply:
    """Files the notes: to the supervisor's OneDrive, shared with each attendee, who is told once it is there."""
    key = parse_key(turn.data.get("draft_key"))
    if key is None:
        return tampered(turn, "specialist notes: submit key", TAMPERED)
    async with services.db.session() as s:
        done = await SPECIALIST_NOTES.submitted(s, key)
        if done is not None:
            if done.supervisor_id != turn.actor.id:
                return tampered(turn, "specialist notes: someone else's notes", TAMPERED)
            return Reply.of(_done(services, done, await sessions.get(s, done.session_id), already=True))
        loaded = await _mine(services, s, turn, "specnotes.submit")
        if isinstance(loaded, Reply):
            return loaded
        sess = loaded.session
        if sess.starts_at > turn.now or sess.status == "cancelled":
            return say(turn, "Write the notes up once the session has happened.", "Not yet")
        filed = await _filed_for(s, sess.id)
        if filed is not None:  # another leader wrote them up meanwhile
            return Reply.of(_done(services, filed, sess, already=True))
        errors: dict[str, str] = {}
        template = notes.template()
        answers = parse_answers(template, turn.data, errors)
        attendees = split_ids(turn.data.get("sn_attendees"))
        if any(a not in loaded.people for a in attendees):
            return tampered(turn, "specialist notes: attendee not invited", TAMPERED)
        if not attendees:
            errors["sn_attendees"] = "Tick who came: the notes are shared with them."
        if errors:
            return Reply.of(
                _card(
                    services,
                    loaded,
                    key,
                    _values(turn.data),
                    errors=errors,
                    has_draft=await SPECIALIST_NOTES.has(s, key),
                    message="Please check the fields marked below; nothing you typed has been lost.",
                )
            )
        name = notes.file_name(sess.local_date, sess.title)
        note = SpecialistNote(
            session_id=sess.id,
            supervisor_id=turn.actor.id,
            session_date=sess.local_date,
            template_id=template.id,
            submit_key=key,
            file_name=name,
            shared_with=attendees,
            status=PENDING,
            submitted_at=turn.now,
        )
        s.add(note)
        await sessions.flush(s)  # Concurrent if the same submit raced itself: the first one filed
        member = services.school.staff.get(turn.actor.id)
        content = notes.render_docx(
            notes.NotesDocument(
                school_name=services.school.name,
                heading=sess.title,
                local_date=sess.local_date,
                time_label=labels.time_range(sess.starts_at, sess.ends_at, services.school.tz),
                supervisor=f"{member.name}, {member.job_title}".rstrip(", ") if member else turn.actor.name,
                attendees=[_name(services, a) for a in attendees],
                template=template,
                answers=answers,
                recorded_at=turn.now.astimezone(services.school.tz).strftime("%d %b %Y %H:%M"),
            )
        )
        when = _when(services, sess)
        await effects.add(
            s,
            *notes.deliveries(
                note.id,
                name,
                content,
                owner_id=turn.actor.id,
                attendees=attendees,
                notice_for=lambda sid: cards.shared_notice(
                    note_id=note.id, heading=sess.title, when=when, supervisor=turn.actor.name
                ),
            ),
            now=turn.now,
        )
        await withdraw(s, prompt_key(sess.id))
        await SPECIALIST_NOTES.consume(s, key)
        await audited(services, turn, s, audit.CREATED, AUDIT_KIND, note.id)
        services.wake_outbox()
        return Reply.of(_done(services, note, sess))


async def show_file(services: Services, turn: Turn) -> Reply:
    """The link to shared notes, for their supervisor and the attendees they were shared with only."""
    note_id = parse_id(turn.data.get("note_id"))
    async with services.db.session() as s:
        note = await s.get(SpecialistNote, note_id) if note_id is not None else None
        if note is None or turn.actor.id not in {note.supervisor_id, *(note.shared_with or [])}:
            refuse(turn, "specnotes.file not shared with them")
            return say(turn, NOT_YOURS)
        await SPECIALIST_NOTES.sync(s, note, turn.now)
        await audited(services, turn, s, audit.VIEWED, AUDIT_KIND, note.id)
        return Reply.of(_done(services, note, await sessions.get(s, note.session_id)))


# ---- outbox hooks ----------------------------------------------------------------------------------------------
async def share_delivered(services: Services, msg, result) -> None:
    """The notes are in the supervisor's OneDrive (the first share): keep where they are."""
    await SPECIALIST_NOTES.delivered(msg.session, msg.key, result, services.clock())


async def share_dead(services: Services, msg) -> None:
    """A share gave up: that attendee's notice is held back, the notes marked, and the supervisor told once."""
    key = msg.key or ""
    if not key.startswith(SPECIALIST_NOTES.prefix):
        return
    note_id = (msg.payload or {}).get("note_id")
    note = await SPECIALIST_NOTES.filed_row(msg.session, note_id)
    if note is None:
        return
    if SPECIALIST_NOTES.file_id(key) != note.id:
        return
    for who in note.shared_with or []:
        await withdraw(msg.session, notes.told_key(note.id, who))  # chained after the share: still pending
    SPECIALIST_NOTES.mark_failed(note)
    card = plain_card(
        [
            plain_title("Session notes not shared yet"),
            plain_text(
                f"I couldn't share the notes of your session on {labels.date_label(note.session_date)} from your "
                "OneDrive after several tries. They are kept safely and can be retried: please ask whoever looks "
                "after the bot to check the outbox."
            ),
        ]
    )
    await effects.add(
        msg.session,
        effects.notify(note.supervisor_id, card, key=f"{SPECIALIST_NOTES.prefix}failed:{note.id}"),
        now=services.clock(),
    )

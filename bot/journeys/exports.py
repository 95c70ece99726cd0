"""Journey: exports for governors and inspection (issue 12; seeds 002/003: records are subject to inspection and
audit; seed 004 §4: the process is reported to governors in general terms).

`export` → choose a half term (the current one unless changed) and what to export → one transaction: the export
row, its audit event, the files (the attendance register and the compliance summary as .csv and one .xlsx, which
also carry the half term's audit trail, and the governors' one-page .docx) and one outbox upload per file into the
Safeguarding channel's files (folder Exports). Once every file has landed, the person who asked gets the links in
our chat; if an upload gives up, they are told which (and the DSL team is told something failed, as for any
dead-lettered effect).

Who: the DSL team, and the senior leaders the dashboard is for (`school.senior_leaders_group`, bot/dashboard).
Senior leaders see figures, not names (as on the dashboard), so they are offered the governors' summary only; the
register, the summary by group and the audit trail are the DSL team's. The card's choices are checked again here:
a part not offered to this person is a tampered card.
"""

from __future__ import annotations

import datetime as dt
import uuid

from bot import labels
from bot.exports import files, gather
from bot.exports.content import ref
from bot.journeys import permissions
from bot.journeys.base import Reply, Services, Turn
from bot.journeys.kit import audited, parse_index, parse_key, tampered
from bot.journeys.router import Router
from bot.outbox import effects
from bot.reminders import facts
from bot.store import audit
from bot.store import exports as store
from bot.store.errors import AlreadySubmitted
from cards import exports as cards

REFUSAL = "Exports are for the DSL team and senior leaders."
EXPORTERS = permissions.dsl_or_senior_leader(REFUSAL)
KEY_PREFIX = "export:"
FILE_KEY = f"{KEY_PREFIX}file:"
SUBFOLDER = "Exports"
DSL_PARTS = tuple(v for v, _ in cards.PARTS)
SENIOR_PARTS = ("governors",)


def register(router: Router) -> None:
    router.command(
        "export",
        title="Export",
        description="A half term's attendance register, compliance summary and governors' summary, saved to the "
        "Safeguarding channel.",
        handler=start,
        allowed=EXPORTERS,
        verb=cards.START,
    )
    router.verb(cards.RUN, run, allowed=EXPORTERS)
    router.on_delivered(effects.CHANNEL_UPLOAD, upload_delivered)
    router.on_dead_letter(effects.CHANNEL_UPLOAD, upload_dead)


def _offered(services: Services, turn: Turn) -> tuple[str, ...]:
    return DSL_PARTS if permissions.is_dsl(turn.actor) else SENIOR_PARTS


def _default_index(services: Services, now: dt.datetime) -> int:
    """The half term in progress; in a holiday the one just finished; before the year, the first."""
    cal = services.calendar
    today = cal.local_date(now)
    ht = cal.half_term_for(today)
    if ht is None:
        past = [h for h in cal.half_terms if h.end < today]
        ht = past[-1] if past else cal.half_terms[0]
    return ht.index


def _form(
    services: Services,
    turn: Turn,
    *,
    nonce: str | None = None,
    selected: int | None = None,
    chosen: tuple[str, ...] | None = None,
    error: str | None = None,
) -> dict:
    offered = _offered(services, turn)
    today = services.calendar.local_date(turn.now)
    # Half terms that have started (there is nothing to export from one that hasn't); before the year, the first.
    started = [h for h in services.calendar.half_terms if h.start <= today] or services.calendar.half_terms[:1]
    choices = tuple(
        (
            str(h.index),
            f"{h.name} ({labels.day_label(h.start)} \u2013 {labels.day_label(h.end)})",
        )
        for h in started
    )
    return cards.export_form(
        cards.ExportFormView(
            nonce=nonce or uuid.uuid4().hex,
            half_terms=choices,
            selected=str(_default_index(services, turn.now) if selected is None else selected),
            parts=tuple((v, t) for v, t in cards.PARTS if v in offered),
            chosen=offered if chosen is None else chosen,
            error=error,
        )
    )


async def start(services: Services, turn: Turn) -> Reply:
    """Shows the export form: the half term (the current one) and what to export."""
    return Reply.of(_form(services, turn))


def _file_names(label: str, parts: tuple[str, ...], *, inspection: bool) -> list[str]:
    names = []
    if "register" in parts:
        names.append(f"{label} - attendance register.csv")
    if "summary" in parts:
        names.append(f"{label} - compliance summary.csv")
    if inspection:
        names.append(f"{label} - audit trail.csv")
        names.append(f"{label} - supervision export.xlsx")
    if "governors" in parts:
        names.append(f"{label} - governors summary.docx")
    return names


async def run(services: Services, turn: Turn) -> Reply:
    """Builds the chosen files for the half term and queues them for the Safeguarding channel's files."""
    nonce = parse_key(turn.data.get("nonce"))
    if nonce is None:
        return tampered(turn, "export: no form key")
    raw_ht = turn.data.get("ht")
    raw_parts = [p.strip() for p in str(turn.data.get("parts") or "").split(",") if p.strip()]
    offered = _offered(services, turn)
    if any(p not in DSL_PARTS for p in raw_parts):
        return tampered(turn, "export: unknown part")
    if any(p not in offered for p in raw_parts):
        return tampered(turn, "export: part not offered to this person")
    parts = tuple(p for p in DSL_PARTS if p in raw_parts)
    if raw_ht in (None, ""):
        return Reply.of(_form(services, turn, nonce=nonce, chosen=parts, error="Choose a half term."))
    index = parse_index(raw_ht, limit=len(services.calendar.half_terms))
    ctx = facts.context_at(services, index) if index is not None else None
    if ctx is None:
        return tampered(turn, "export: unknown half term")
    if not parts:
        return Reply.of(
            _form(services, turn, nonce=nonce, selected=index, chosen=(), error="Choose at least one thing to export.")
        )
    if ctx.half_term.start > services.calendar.local_date(turn.now):
        return Reply.of(
            _form(
                services,
                turn,
                nonce=nonce,
                selected=index,
                chosen=parts,
                error=f"{ctx.half_term.name} hasn't started yet, so there is nothing to export: choose another.",
            )
        )
    inspection = "register" in parts or "summary" in parts
    async with services.db.session() as s:
        try:
            export = await store.start(s, nonce=nonce, half_term=ctx.label, parts=parts, by=turn.actor.id, now=turn.now)
        except AlreadySubmitted:
            existing = await store.by_nonce(s, nonce)
            names = tuple(f.name for f in await store.files_of(s, existing.id)) if existing else ()
            return Reply.of(cards.queued_card(cards.ExportQueuedView(ctx.label, names, already=True)))
        # Audited first, so the half term's trail in the export includes this export.
        await audited(services, turn, s, audit.EXPORTED, audit.EXPORT, export.id)
        built: list[tuple[str, bytes]] = []
        names = _file_names(ctx.label, parts, inspection=inspection)
        if inspection:
            data = await gather.export_data(
                s, ctx, turn.now, register="register" in parts, summary="summary" in parts, audit_trail=True
            )
            if "register" in parts:
                built.append((names[len(built)], files.register_csv(data)))
            if "summary" in parts:
                built.append((names[len(built)], files.summary_csv(data)))
            built.append((names[len(built)], files.audit_csv(data)))
            built.append(
                (
                    names[len(built)],
                    files.workbook(data, register="register" in parts, summary="summary" in parts, audit=True),
                )
            )
        if "governors" in parts:
            built.append((names[len(built)], files.governors_docx(await gather.governors_view(s, ctx, turn.now))))
        rows = await store.add_files(s, export.id, built)
        await effects.add(
            s,
            *(
                effects.channel_upload(
                    f.name, content_ref=ref(f.id), subfolder=SUBFOLDER, key=f"{FILE_KEY}{f.id}", export_file=f.id
                )
                for f in rows
            ),
            now=turn.now,
        )
    services.wake_outbox()
    return Reply.of(cards.queued_card(cards.ExportQueuedView(ctx.label, tuple(names))))


# ---- delivery hooks (the outbox worker's transaction) ------------------------------------------------------------
def _file_id(key: str | None) -> int | None:
    """The export file's id from an outbox key, or None for another journey's upload."""
    if not key or not key.startswith(FILE_KEY):
        return None
    tail = key[len(FILE_KEY) :]
    return int(tail) if tail.isdigit() else None


async def _settled(services: Services, msg, *, result: dict | None, failed: bool) -> None:
    file_id = _file_id(msg.key)
    if file_id is None:
        return
    now = services.clock()
    done = await store.settle(msg.session, file_id, now=now, result=result, failed=failed)
    if done is None or not done.just_finished:
        return
    card = cards.done_card(
        cards.ExportDoneView(
            half_term=done.export.half_term,
            files=tuple(
                cards.ExportFile(f.delivered_name or f.name, f.web_url) for f in done.files if f.status == "delivered"
            ),
            failed=tuple(f.name for f in done.files if f.status == "failed"),
        )
    )
    await effects.add(
        msg.session,
        effects.notify(done.export.requested_by, card, key=f"{KEY_PREFIX}{done.export.id}:done"),
        now=now,
    )


async def upload_delivered(services: Services, msg, result) -> None:
    """An export file is in the channel's files: keep its link; once all are, send the links to whoever asked."""
    await _settled(services, msg, result=result if isinstance(result, dict) else None, failed=False)


async def upload_dead(services: Services, msg) -> None:
    """An export file's upload gave up: mark it; once the export is settled, say what was and wasn't saved."""
    await _settled(services, msg, result=None, failed=True)


__all__ = ["EXPORTERS", "register"]

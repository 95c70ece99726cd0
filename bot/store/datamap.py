"""The data map: every table, every column and every kind of stored file, classified in code — its data class,
lawful home, who may read it and how long it is kept. `docs/DATA.md` is generated from it:

    python -m bot.store.datamap > docs/DATA.md

tests/store/test_datamap.py fails when a table or column in the models is not classified here (or is classified
but no longer exists), and when docs/DATA.md is not what this module prints. The deletions the retention
periods promise are done by the daily job in bot/store/retention.py (the `rule` of each entry names which).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, replace

# Data classes (UK GDPR): staff safeguarding supervision is special-category data (Art. 9: health, and the
# pupils' circumstances staff bring to supervision); who-supervises-whom and attendance are ordinary personal data.
SPECIAL = "special category"
PERSONAL = "personal"
OPERATIONAL = "operational"
AUDIT = "audit"

# Column classes.
C_ID = "id"  # keys, references, ids of other rows or of Microsoft 365 items
C_PERSON = "person"  # a staff id, email or Teams identity
C_SPECIAL = "special"  # free text or documents about supervision: safeguarding content
C_META = "meta"  # status, dates, counts, settings

DB = "the bot's database in the school's own Azure subscription (SQLite file in local mode)"

DSL = "DSL team"
OWNERS = "the people it is about, and the DSL team"
BOT = "the bot only (no person reads it directly)"

# Retention rules carried out by bot/store/retention.py.
R_DRAFTS = "drafts"
R_OUTBOX = "outbox"
R_AUDIT = "audit"
R_EXPORTS = "exports"


@dataclass(frozen=True)
class Table:
    name: str
    data_class: str
    home: str
    readers: str
    retention: str
    columns: dict[str, str]
    rule: str | None = None  # the retention job's rule that deletes from it, if any


@dataclass(frozen=True)
class FileKind:
    name: str
    data_class: str
    home: str
    readers: str
    retention: str


def _cols(ids: str = "", person: str = "", special: str = "", meta: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    for cls, names in ((C_ID, ids), (C_PERSON, person), (C_SPECIAL, special), (C_META, meta)):
        for n in names.split():
            if n in out:
                raise ValueError(f"column {n} classified twice")
            out[n] = cls
    return out


TABLES: tuple[Table, ...] = (
    Table(
        "audit_events",
        AUDIT,
        DB,
        DSL,
        "the school's `retention.audit_days` (default 7 years), then deleted",
        _cols("id object_kind object_id", "actor_id", "", "at school_time action"),
        R_AUDIT,
    ),
    Table(
        "conversation_refs",
        PERSONAL,
        DB,
        BOT,
        "while the person is on the roster or the channel exists",
        _cols(
            "id key conversation_id service_url tenant_id team_id reference",
            "staff_id",
            "",
            "kind channel_name updated_at",
        ),
    ),
    Table(
        "sent_cards",
        OPERATIONAL,
        DB,
        BOT,
        "while the card may still be updated",
        _cols("id ref activity_id conversation_id", "staff_id", "", "sent_at"),
    ),
    Table(
        "exports",
        PERSONAL,
        DB,
        DSL,
        "the academic year (which half term was exported, by whom, when; the files are in the channel)",
        _cols("id nonce", "requested_by", "", "half_term parts requested_at status finished_at"),
    ),
    Table(
        "export_files",
        PERSONAL,
        DB,
        BOT,
        "content (the attendance register, the compliance summary, the audit trail, the governors' summary): "
        "dropped once the file is in the Safeguarding channel; a file that never got there, after "
        "`retention.dead_letter_grace_days`. Name and link: the academic year",
        _cols("id export_id web_url", "content", "", "name size status delivered_name finished_at"),
        R_EXPORTS,
    ),
    Table(
        "weekly_digests",
        OPERATIONAL,
        DB,
        DSL,
        "the academic year (figures only: counts and a percentage, never names)",
        _cols("id", "", "", "week_of half_term figures created_at"),
    ),
    Table(
        "digest_sends",
        OPERATIONAL,
        DB,
        BOT,
        "the academic year",
        _cols(
            "id activity_id",
            "staff_id lease_owner",
            "",
            "half_term point status lease_until attempts reason created_at finished_at",
        ),
    ),
    Table(
        "reminder_claims",
        OPERATIONAL,
        DB,
        BOT,
        "the academic year",
        _cols(
            "id activity_id",
            "staff_id lease_owner",
            "",
            "half_term point status lease_until attempts reason created_at finished_at",
        ),
    ),
    Table(
        "mop_up_proposals",
        PERSONAL,
        DB,
        DSL,
        "the academic year",
        _cols(
            "id session_id",
            "proposed_to decided_by",
            "",
            "half_term status options calendars_checked outstanding_count created_at decided_at",
        ),
    ),
    Table(
        "group_sessions",
        PERSONAL,
        DB,
        "attendees, facilitator and the DSL team",
        "the academic year and the next (compliance is reported per year)",
        _cols(
            "id group_id",
            "facilitator_id created_by",
            "",
            "kind title starts_at ends_at local_date half_term status external_support created_at",
        ),
    ),
    Table(
        "session_invitees",
        PERSONAL,
        DB,
        "attendees, facilitator and the DSL team",
        "with its session",
        _cols("id session_id", "staff_id", "", "added_at added_via"),
    ),
    Table(
        "attendance",
        PERSONAL,
        DB,
        DSL,
        "the academic year and the next",
        _cols("id session_id", "staff_id recorded_by", "", "local_date half_term recorded_at"),
    ),
    Table(
        "group_records",
        PERSONAL,
        DB,
        DSL,
        "metadata as long as the record file (the record is in the channel)",
        _cols("id session_id template_id", "facilitator_id created_by", "", "created_at current_version"),
    ),
    Table(
        "group_record_versions",
        PERSONAL,
        DB,
        DSL,
        "with its record",
        _cols(
            "id record_id submit_key item_id web_url",
            "submitted_by",
            "",
            "version file_name delivered_name status attendee_count action_count submitted_at delivered_at",
        ),
    ),
    Table(
        "group_record_drafts",
        SPECIAL,
        DB,
        "its author only",
        "until submitted or discarded; abandoned after `retention.abandoned_draft_days`, then deleted",
        _cols("id draft_key session_id record_id", "owner_id", "content adhoc", "created_at updated_at"),
        R_DRAFTS,
    ),
    Table(
        "record_actions",
        SPECIAL,
        DB,
        "the action's owner and the DSL team",
        "with its record",
        _cols("id record_id reviewed_in_id", "owner_id created_by done_by", "text", "due_on status created_at done_at"),
    ),
    Table(
        "group_schedule_requests",
        OPERATIONAL,
        DB,
        BOT,
        "the academic year",
        _cols("id nonce session_id", "created_by", "", "created_at"),
    ),
    Table(
        "supervisor_pool",
        PERSONAL,
        DB,
        "allocators and the DSL team",
        "while the person is a supervisor",
        _cols("id", "staff_id changed_by", "", "trained_on capacity active source changed_at retired_at"),
    ),
    Table(
        "supervision_requests",
        SPECIAL,
        DB,
        "the requester, allocators and the DSL team",
        "the academic year and the next",
        _cols(
            "id draft_id",
            "requester_id preferred_id suggested_id supervisor_id allocated_by colleagues",
            "topics note",
            "kind continue_current urgency times days route status allocated_at created_at updated_at pupil_cases",
        ),
    ),
    Table(
        "supervision_pairings",
        PERSONAL,
        DB,
        OWNERS,
        "while the supervision lasts and a year after",
        _cols("id request_id", "supervisee_id supervisor_id ended_by", "", "started_at ended_at"),
    ),
    Table(
        "slot_offers",
        OPERATIONAL,
        DB,
        "the people offered the slots",
        "until used or the slots are past",
        _cols(
            "id nonce request_id pairing_id meeting_id",
            "bookers attendee_ids created_by",
            "",
            "purpose slots minutes setup created_at used_at",
        ),
    ),
    Table(
        "supervision_meetings",
        PERSONAL,
        DB,
        OWNERS,
        "the academic year and the next",
        _cols(
            "id request_id pairing_id event_key offer_nonce replaces_id",
            "supervisor_id supervisee_id booked_by changed_by",
            "",
            "kind starts_at ends_at local_date half_term status booked_at changed_at",
        ),
    ),
    Table(
        "booked_group_sessions",
        OPERATIONAL,
        DB,
        BOT,
        "with its session",
        _cols("id session_id offer_nonce request_id event_key", "supervisor_ids created_by"),
    ),
    Table(
        "targeted_records",
        PERSONAL,
        DB,
        OWNERS,
        "metadata as long as the record file (the record is in the supervisor's OneDrive)",
        _cols(
            "id pairing_id meeting_id template_id submit_key item_id web_url previous_id superseded_by",
            "supervisor_id supervisee_id",
            "",
            "session_date next_session_on file_name delivered_name status action_count submitted_at delivered_at "
            "version",
        ),
    ),
    Table(
        "specialist_notes",
        PERSONAL,
        DB,
        OWNERS,
        "metadata as long as the notes file (the notes are in the supervisor's OneDrive)",
        _cols(
            "id session_id template_id submit_key item_id web_url",
            "supervisor_id shared_with",
            "",
            "session_date file_name delivered_name status submitted_at delivered_at",
        ),
    ),
    Table(
        "specialist_note_drafts",
        SPECIAL,
        DB,
        "its author only",
        "until submitted or discarded; abandoned after `retention.abandoned_draft_days`, then deleted",
        _cols("id draft_key session_id", "owner_id", "content", "created_at updated_at"),
        R_DRAFTS,
    ),
    Table(
        "record_signatures",
        PERSONAL,
        DB,
        OWNERS,
        "with the record it signs (the same names and times are in the document's sign-off table)",
        _cols("id record_id", "staff_id", "", "record_kind version role signed_at"),
    ),
    Table(
        "record_change_requests",
        PERSONAL,
        DB,
        OWNERS,
        "with the record (that a change was asked and when; the comment itself is never stored)",
        _cols("id record_id", "requested_by", "", "record_kind version requested_at"),
    ),
    Table(
        "escalations",
        PERSONAL,
        DB,
        DSL + " (who raised one, when and its category; never what was discussed)",
        "with the record it was raised on",
        _cols("id record_id", "raised_by", "", "record_kind category raised_at"),
    ),
    Table(
        "targeted_record_drafts",
        SPECIAL,
        DB,
        "its author only",
        "until submitted or discarded; abandoned after `retention.abandoned_draft_days`, then deleted",
        _cols("id draft_key", "owner_id supervisee_id", "content", "created_at updated_at"),
        R_DRAFTS,
    ),
    Table(
        "targeted_actions",
        SPECIAL,
        DB,
        OWNERS,
        "with its record",
        _cols(
            "id record_id reviewed_in_id",
            "supervisor_id supervisee_id owner_id done_by",
            "text",
            "due_on status created_at done_at",
        ),
    ),
    Table(
        "supervision_agreements",
        PERSONAL,
        DB,
        OWNERS,
        "until replaced, and a year after",
        _cols(
            "id nonce pairing_id",
            "supervisor_id supervisee_id proposed_by",
            "",
            "agreed_on review_due frequency minutes status created_at supervisor_confirmed_at supervisee_confirmed_at "
            "file_name file_status web_url item_id",
        ),
    ),
    Table(
        "followup_claims",
        PERSONAL,
        DB,
        BOT,
        "while the bot runs (one row per reminder ever planned, so none is sent twice)",
        _cols("id ref", "staff_id", "", "kind created_at"),
    ),
    Table(
        "supervision_handovers",
        PERSONAL,
        DB,
        DSL,
        "while the pairing's records are kept",
        _cols("id nonce", "supervisee_id from_id to_id by_id", "", "records_since record_count at"),
    ),
    Table(
        "targeted_record_access",
        PERSONAL,
        DB,
        OWNERS,
        "with its record",
        _cols("id record_id handover_id", "staff_id", "", "granted_at revoked_at"),
    ),
    Table(
        "outbox",
        SPECIAL,
        DB,
        BOT,
        "payload: documents removed on delivery, the rest of a delivered payload at "
        "the next daily run; a dead row's payload after `retention.dead_letter_grace_days`. The row (key, kind, "
        "status, times) stays so a side effect is never repeated",
        _cols(
            "id key chain claim_token result",
            "",
            "payload last_error",
            "kind status attempts not_before claimed_until created_at finished_at hook_done hook_attempts",
        ),
        R_OUTBOX,
    ),
    Table(
        "local_m365_meetings",
        PERSONAL,
        DB + " — local mode only",
        OWNERS,
        "the academic year (local mode)",
        _cols(
            "id transaction_id join_url",
            "organizer attendees",
            "",
            "subject start end is_cancelled sequence created_at updated_at",
        ),
    ),
    Table(
        "local_m365_grants",
        PERSONAL,
        DB + " — local mode only",
        BOT,
        "with the file (local mode)",
        _cols("id drive_id item_id", "recipient", "", "role created_at"),
    ),
    Table(
        "local_m365_app_installs",
        OPERATIONAL,
        DB + " — local mode only",
        BOT,
        "local mode only",
        _cols("id", "user", "", "installed_at"),
    ),
    Table(
        "m365_meeting_keys",
        OPERATIONAL,
        DB,
        BOT,
        "with its meeting",
        _cols("key meeting_id join_url", "organizer", "", "created_at"),
    ),
)

#: Issue 10: every school-owned table carries its school (bot/store/tenancy.py: a school's session reads and writes
#: only its own rows); the outbox row says which school's services deliver it. An id, not personal data.
SCHOOL_COLUMN = frozenset(
    """conversation_refs sent_cards audit_events reminder_claims digest_sends mop_up_proposals group_records
    group_record_versions group_record_drafts record_actions group_schedule_requests supervisor_pool
    supervision_requests supervision_pairings slot_offers supervision_meetings booked_group_sessions group_sessions
    session_invitees attendance targeted_records targeted_record_drafts targeted_actions supervision_agreements
    exports export_files weekly_digests followup_claims supervision_handovers targeted_record_access
    specialist_notes specialist_note_drafts record_signatures record_change_requests escalations
    outbox""".split()
)
TABLES = tuple(replace(t, columns={**t.columns, "school_id": C_ID}) if t.name in SCHOOL_COLUMN else t for t in TABLES)

FILE_KINDS: tuple[FileKind, ...] = (
    FileKind(
        "Group supervision record (.docx)",
        SPECIAL,
        "the Safeguarding channel's files (SharePoint, the school's tenant)",
        DSL,
        "the school's records policy (the channel's own retention label)",
    ),
    FileKind(
        "Inspection export: attendance register, compliance summary, audit trail (.csv, .xlsx)",
        PERSONAL,
        "the Safeguarding channel's files, folder Exports (SharePoint, the school's tenant)",
        DSL,
        "the school's records policy (the channel's own retention label)",
    ),
    FileKind(
        "Governors' one-page summary (.docx; figures only, small numbers suppressed)",
        OPERATIONAL,
        "the Safeguarding channel's files, folder Exports (SharePoint, the school's tenant)",
        "the DSL team, senior leaders and governors it is given to",
        "the school's records policy (the channel's own retention label)",
    ),
    FileKind(
        "1:1 supervision record (.docx)",
        SPECIAL,
        "the supervisor's OneDrive, shared with the supervisee only",
        "the supervisor and the supervisee",
        "the school's records policy (OneDrive retention)",
    ),
    FileKind(
        "1:1 supervision agreement (.docx)",
        SPECIAL,
        "the supervisor's OneDrive, shared with the supervisee only",
        "the supervisor and the supervisee",
        "the school's records policy (OneDrive retention)",
    ),
    FileKind(
        "Specialist group supervision notes (.docx)",
        SPECIAL,
        "the session supervisor's OneDrive, shared with the session's attendees only",
        "the supervisor and the attendees",
        "the school's records policy (OneDrive retention)",
    ),
    FileKind(
        "Meeting invitation (.ics), local mode",
        PERSONAL,
        "LOCAL_M365_DIR/calendars/<email>/ on the bot's machine",
        "the people invited",
        "while the local folder is kept (demo and development only)",
    ),
    FileKind(
        "Record copies, local mode",
        SPECIAL,
        "LOCAL_M365_DIR on the bot's machine (stands in for the channel's files and OneDrive)",
        "whoever may read the machine's folder",
        "demo and development only: never real data",
    ),
)


def by_name() -> dict[str, Table]:
    return {t.name: t for t in TABLES}


def render() -> str:
    """docs/DATA.md, from the classification above."""
    out = [
        "# Data map",
        "",
        "Generated by `python -m bot.store.datamap > docs/DATA.md` from bot/store/datamap.py — do not edit by "
        "hand (tests/store/test_datamap.py fails when this file is stale or a table or column is not "
        "classified).",
        "",
        "Data classes: **special category** (safeguarding supervision content, UK GDPR Art. 9), **personal** "
        "(who supervises whom, attendance, meetings), **operational** (the bot's own bookkeeping, staff ids "
        "only), **audit** (who did what, ids and action names only).",
        "",
        "Retention periods that say *deleted* are carried out by the daily job in bot/store/retention.py; "
        "the periods are school settings (`school.retention` in the school config).",
        "",
        "## Tables",
        "",
        "| Table | Data class | Lawful home | Who may read | Retention |",
        "|---|---|---|---|---|",
    ]
    for t in sorted(TABLES, key=lambda t: t.name):
        out.append(f"| `{t.name}` | {t.data_class} | {t.home} | {t.readers} | {t.retention} |")
    out += [
        "",
        "## Columns",
        "",
        "Column classes: **id** (keys and references), **person** (a staff id or identity), **special** "
        "(safeguarding content), **meta** (status, dates, counts).",
        "",
    ]
    for t in sorted(TABLES, key=lambda t: t.name):
        groups = {}
        for col, cls in t.columns.items():
            groups.setdefault(cls, []).append(col)
        parts = [
            f"{cls}: " + ", ".join(f"`{c}`" for c in sorted(cols))
            for cls, cols in sorted(groups.items(), key=lambda kv: (C_ID, C_PERSON, C_SPECIAL, C_META).index(kv[0]))
        ]
        out.append(f"- `{t.name}` — " + "; ".join(parts))
    out += [
        "",
        "## Stored files",
        "",
        "| File | Data class | Lawful home | Who may read | Retention |",
        "|---|---|---|---|---|",
    ]
    for f in FILE_KINDS:
        out.append(f"| {f.name} | {f.data_class} | {f.home} | {f.readers} | {f.retention} |")
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    sys.stdout.write(render())

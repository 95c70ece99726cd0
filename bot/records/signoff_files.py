"""The outbox handler that writes a record's sign-off into its document (effects.SIGNOFF_STAMP).

Seed 003 ("signed by both parties"), seed 004 §5 ("both parties need to agree and sign that they are accurate"):
who confirmed a version, and when, is written into the .docx's sign-off table as well as kept as metadata. The
bot keeps no copy of the document, so when the row runs the handler reads the signatures from the store, the file
from its one home (the supervisor's OneDrive, or the Safeguarding channel's files for a group record), and writes
it back in place (same item, sharing and link; Microsoft 365 keeps the earlier content in the file's version
history). Rows run in their record's outbox chain, and each reads the signatures as they are then, so the last one
always writes every confirmation.
"""

from __future__ import annotations

from bot.journeys.base import Services
from bot.outbox.effects import SIGNOFF_STAMP
from bot.outbox.errors import PermanentFailure
from bot.records import docx_writer
from bot.store import signoff
from bot.store.models_group_record import GroupRecordVersion
from bot.store.models_targeted import TargetedRecord


def signoff_handlers(services: Services) -> dict:
    async def stamp(p: dict) -> dict:
        """Fill in the record's sign-off table with everyone who has confirmed it so far."""
        kind, rid = p.get("record_kind"), p.get("record_id")
        async with services.db.session() as s:
            if kind == signoff.TARGETED:
                row = await s.get(TargetedRecord, rid)
                if row is None or not row.item_id:
                    raise PermanentFailure("the 1:1 record has no file to sign")
                from bot.journeys.one_to_one import signoff_rows

                rows = signoff_rows(services, row, await signoff.signatures(s, kind, row.id))
                owner = services.school.staff.get(row.supervisor_id)
                if owner is None:
                    raise PermanentFailure("the record's supervisor is no longer on the roster")
                where, item_id, version = owner.email, row.item_id, row.version
            elif kind == signoff.GROUP:
                row = await s.get(GroupRecordVersion, rid)
                if row is None or not row.item_id:
                    raise PermanentFailure("the group record version has no file to sign")
                from bot.journeys.group_record_signoff import signoff_rows as group_rows

                rows = await group_rows(services, s, row)
                where, item_id, version = None, row.item_id, row.version
            else:
                raise PermanentFailure("unknown record kind to sign")
        files = services.m365.personal_files if where else services.m365.channel_files
        content = await (files.download(where, item_id) if where else files.download(item_id))
        stamped = docx_writer.stamp_signoff(content, rows, version=version)
        f = await (files.replace(where, item_id, stamped) if where else files.replace(item_id, stamped))
        return {"item_id": f.item_id, "signed": sum(1 for r in rows if r.signed)}

    return {SIGNOFF_STAMP: stamp}

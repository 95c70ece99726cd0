"""1:1 (targeted) supervision records, their drafts and actions, and supervision agreements (seed 001 App. 1–2,
seed 003 "signed by both"): the rows the 1:1 journey and the compliance picture read and write. Metadata only —
the record itself lives in the supervisor's OneDrive.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from bot.store.models_request import Pairing
from bot.store.models_targeted import AGREED, SupervisionAgreement


async def overdue_agreement_items(s, today: dt.date) -> list:
    """Agreements in force for active pairings whose annual review date has passed, as compliance OpenItems
    (kind "agreement_review", staff_id the supervisee, ref "supervisor id"). Dates and people only."""
    from bot.domain.compliance import OpenItem

    rows = (await s.execute(select(SupervisionAgreement).join(Pairing, (
        Pairing.supervisor_id == SupervisionAgreement.supervisor_id) & (
        Pairing.supervisee_id == SupervisionAgreement.supervisee_id)).where(
        SupervisionAgreement.status == AGREED, Pairing.ended_at.is_(None),
        SupervisionAgreement.review_due < today))).scalars().unique().all()
    return [OpenItem(staff_id=r.supervisee_id, kind="agreement_review", due_on=r.review_due, ref=r.supervisor_id)
            for r in rows]

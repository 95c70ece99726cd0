"""The supervision agreement's contract terms, as data: what the policies say an agreement covers, each term's
card label, whether it is required and how long it may be. Each policy pack (bot/records/packs.py) carries its own
terms; the default pack's (templates/packs/framework.yaml) are the ones below. Read by the agreement card
(cards/targeted.py), its checks (bot/journeys/agreements.py) and its document (bot/records/agreement_docx.py).

Traced to the policies (worded our own way):
- frequency and duration: seed 001 App. 1 "Practical arrangements — Frequency …, Duration"; seed 002 "The
  supervisor and supervisee should agree on the duration and frequency"; seed 003 App. 1 §1 "at least six weekly";
- venue: seed 001 App. 1 "Venue"; seed 002 "a confidential space … free from distraction"; seed 004 §5 "a private
  and uninterrupted space during the working day";
- cancelling and rearranging: seed 001 App. 1 "Arrangements if either party needs to cancel"; seed 003 App. 1 §4
  "an alternative date will be agreed at the time of cancellation";
- contact between sessions: seed 001 App. 1 "Availability of the supervisor for ad hoc discussions between
  sessions"; seed 003 App. 1 §6 informal discussion between sessions;
- what each brings: seed 001 App. 1 "What does the supervisee bring …", the supervisee's and the supervisor's
  expectations of each other; seed 002 "Supervisee's Statement" (information and case files);
- confidentiality and its limits: seed 001 App. 1 ("unless … an issue needs to be escalated"); seed 003 App. 1 §8;
  seed 004 §6 (the circumstances in which confidentiality is breached);
- recording and who holds the record: seed 002 "Recording" (recorded and stored securely by the supervisor); seed
  003 App. 1 §5 (notes prepared by the supervisor, signed by both); seed 001 §3.2 (shared with the supervisee);
- review date: seed 001 App. 1 "Date agreement due to be reviewed", "reviewed at least once a year"; seed 002
  "reviewed annually".
The typed terms go only into the agreement's document (the supervisor's OneDrive, shared with the supervisee);
the database keeps the frequency, duration, dates and confirmations.
"""

from __future__ import annotations

from bot.records.packs import DEFAULT_PACK, AgreementDef, TermDef, agreement_terms, load_pack

Term = TermDef


def default_agreement() -> AgreementDef:
    """The default pack's agreement (what a card or document built without a school shows)."""
    return load_pack(DEFAULT_PACK).agreement


_default = default_agreement()
TERMS: tuple[TermDef, ...] = _default.terms
#: The limits of confidentiality every agreement states (seed 004 §6 table, seed 003 App. 1 §8), in our words.
CONFIDENTIALITY_LIMITS = _default.confidentiality_limits
#: Who keeps the record (seed 002 "Recording", seed 003 App. 1 §5, seed 001 §3.2).
RECORD_HOLDER = _default.record_holder

__all__ = [
    "CONFIDENTIALITY_LIMITS",
    "RECORD_HOLDER",
    "TERMS",
    "AgreementDef",
    "Term",
    "agreement_terms",
    "default_agreement",
]

"""The supervision agreement's contract terms, as data: what the policies say an agreement covers, each term's
card label, whether it is required and how long it may be. Read by the agreement card (cards/targeted.py), its
checks (bot/journeys/agreements.py) and its document (bot/records/agreement_docx.py).

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

from dataclasses import dataclass


@dataclass(frozen=True)
class Term:
    id: str
    label: str
    required: bool
    max_length: int
    placeholder: str = ""
    default: str = ""


TERMS: tuple[Term, ...] = (
    Term(
        "ag_venue",
        "Where we meet",
        True,
        200,
        "A private room where we won't be interrupted, during the working day",
    ),
    Term(
        "ag_cancelling",
        "If either of us needs to cancel or rearrange",
        True,
        300,
        default="We tell each other as early as we can and agree another date there and then.",
    ),
    Term(
        "ag_between",
        "Contact between sessions",
        True,
        300,
        "When and how the supervisee can catch the supervisor for a quick word between sessions",
    ),
    Term(
        "ag_supervisee_brings",
        "What the supervisee brings",
        False,
        500,
        "Experience of supervision so far, how they like to learn, a situation to reflect on each time",
    ),
    Term(
        "ag_supervisor_brings",
        "What the supervisor brings",
        False,
        500,
        "A reflective approach, constructive challenge, time kept free, follow-up of agreed actions",
    ),
    Term("ag_confidentiality_note", "Anything we add about confidentiality", False, 300),
    Term(
        "ag_factors",
        "Anything to recognise in how we work together",
        False,
        300,
        "For example culture, religion, a disability or a learning difficulty - only if you both want it noted",
    ),
    Term("ag_other", "Any other points for this agreement", False, 300),
)

#: The limits of confidentiality every agreement states (seed 004 §6 table, seed 003 App. 1 §8), in our words.
CONFIDENTIALITY_LIMITS = (
    "What we discuss stays between us, except when it has to be passed on: a child protection or safeguarding "
    "concern, a risk of harm to the supervisee or to anyone else, something illegal, or serious professional "
    "misconduct. Then it goes to the DSL team or through line management, and we say so at the time."
)
#: Who keeps the record (seed 002 "Recording", seed 003 App. 1 §5, seed 001 §3.2).
RECORD_HOLDER = (
    "The supervisor writes up each session and keeps the record in their own OneDrive, shared with the supervisee "
    "only; agreed actions are reviewed at the start of the next session. This agreement is kept the same way."
)

"""DSL supervision (seed 002 Appendix 2, seed 003 Appendix 1–2): who the policy's DSL frequency applies to, and
which record template their 1:1 supervision is written on.

Seed 002 asks for the DSL's own supervision "at least once every half term, about an hour" on its supervision
record; seed 003 fixes it "at least six weekly for DSLs and other members of staff according to areas of
responsibility" and names pastoral leaders and ELSAs beside the DSLs. The school chooses the frequency
(`dsl_individual_supervision`) and the roles it covers (`dsl_supervision_roles`, the DSL team always included).
Pure look-ups on the school config: no I/O.
"""

from __future__ import annotations

from bot.records.packs import one_to_one_for
from bot.records.templates import RecordTemplate
from bot.school import Role

DSL_TEMPLATE = "dsl"  # bot/records/templates/one_to_one/dsl.yaml (the default pack's DSL record)
ONE_TO_ONE_TEMPLATE = "default"  # the default pack's 1:1 record


def supervised_roles(school) -> frozenset[Role]:
    """The roles whose holders receive DSL supervision (the DSL team always does)."""
    return frozenset(school.settings.dsl_supervision_roles) | {Role.DSL}


def receives_dsl_supervision(school, staff_id: str | None) -> bool:
    """Whether this person's own supervision follows the DSL policy (template and frequency)."""
    member = school.staff.get(staff_id) if staff_id else None
    return member is not None and bool(member.roles & supervised_roles(school))


def dsl_supervisees(school) -> list[str]:
    """Everyone on the roster the DSL frequency applies to, in roster order."""
    roles = supervised_roles(school)
    return [m.id for m in school.data.staff if m.roles & roles]


def record_template(school, supervisee_id: str | None) -> RecordTemplate:
    """The template a 1:1 record with this supervisee is written on: the DSL supervision record for the people
    the policy names, the ordinary 1:1 record for everyone else — each as the school's policy pack says."""
    return one_to_one_for(school, dsl=receives_dsl_supervision(school, supervisee_id))


def template_of_record(school, record) -> RecordTemplate:
    """The template a stored 1:1 record was written on (so an amendment reads it back and asks the same
    questions), or the school's current one when that template is no longer shipped."""
    from bot.records.templates import one_to_one_by_id

    return one_to_one_by_id(record.template_id) or record_template(school, record.supervisee_id)

"""The cross-school matrix (issue 10): in a trust of two schools on one deployment, every command and every card
verb, attempted by every persona of school alpha with card data naming school beta's **real** objects — requests,
meetings, group and 1:1 records, drafts, agreements, actions, the pool, the mop-up proposal — and even stamped
`"school": "beta"` as beta's own cards are. Beta's people made those objects through the journeys (the same seed
as the role matrix). Every attempt must leave beta's rows, its outbox rows and the Microsoft 365 side exactly as
they were, show nothing of beta's (every text the seed typed says "Seeded"), and never answer 5xx.

Beta is alpha's twin (tests/fakes/trust.py): the same staff ids and names, other Teams identities — so a persona's
staff id even matches the owner's id in beta, and only the school tells them apart.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.app import DEPLOYMENT
from tests.fakes import trust as trust_kit
from tests.fakes.teams import person
from tests.security import matrix_kit
from tests.security.test_authorization_matrix import PERSONAS, STRANGER, attempt, card_data, leaked, real_ids

BETA = "beta"


@pytest.fixture
def settings(tmp_path):
    from bot.settings import load_settings
    from graph.settings import GraphSettings

    return load_settings(
        SCHOOL_CONFIG=str(trust_kit.write_trust(tmp_path / "config")),
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}",
        LOCAL_M365_DIR=str(tmp_path / "m365"),
        WORKERS=False,
        graph=GraphSettings(_env_file=None),
    )


async def beta_snapshot(db, m365) -> tuple[dict, dict]:
    """Everything of beta's: its rows in every school-owned table, its outbox rows, the deployment-level tables
    (the local Microsoft 365 backend's calendars and shares) and every file."""
    out = {}
    async with db.engine.connect() as conn:
        for table in matrix_kit.hostile.all_tables():
            q = select(table)
            if "school_id" in table.c:
                q = q.where(table.c.school_id == BETA)
            rows = (await conn.execute(q)).all()
            out[table.name] = sorted(tuple(repr(v) for v in r) for r in rows)
    return out, matrix_kit.files_snapshot(m365)


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
async def test_school_alpha_cannot_reach_school_beta(teams, db, settings):
    from pathlib import Path

    peers = teams.app[DEPLOYMENT]
    alpha, beta = peers["alpha"], peers[BETA]
    router = alpha.router
    harvest = await matrix_kit.seed(teams, db.for_school(BETA), beta.school, router, beta)
    assert await matrix_kit.missing_kinds(db) == [], "beta's seed must hold every kind of object"
    harvested: dict[str, list[dict]] = {}
    for verb, d in harvest.actions:
        harvested.setdefault(verb, []).append(d)
    ids = await real_ids(db)
    people = {p: (STRANGER if p == "stranger" else person(alpha.school, p)) for p in PERSONAS}
    for p in people.values():
        await teams.install(p)
    m365 = Path(settings.local_m365_dir)

    attempts = [(c.words[0], None) for c in router.commands]
    attempts += [(name, {**card_data(name, harvested, ids), "school": BETA}) for name in sorted(router.verbs)]
    failures: list[str] = []
    before = await beta_snapshot(db, m365)
    for what, data in attempts:
        for p in PERSONAS:
            status, answered = await attempt(teams, people[p], what, data)
            if status >= 500 or not answered:
                failures.append(f"{what} as alpha's {p}: HTTP {status}, answered={answered}")
            if leaked(matrix_kit_last_shown()):
                failures.append(f"{what} as alpha's {p} was shown beta's stored text")
        after = await beta_snapshot(db, m365)
        changed = matrix_kit.diff(before, after)
        if changed:
            failures.append(f"{what} by alpha's personas changed beta's: {', '.join(changed)}")
            before = after
    print(f"cross-school matrix: {len(attempts)} verbs and commands × {len(PERSONAS)} personas of alpha")
    assert not failures, "\n".join(failures)

    # The control: beta's own owner, with the same data, does reach the object (so the refusals were the school).
    from tests.security.test_authorization_matrix import owners

    changed_by_owner = 0
    for verb, owner in owners.items():
        before = await beta_snapshot(db, m365)
        status, _ = await attempt(teams, person(beta.school, owner), verb, card_data(verb, harvested, ids))
        changed_by_owner += bool(matrix_kit.diff(before, await beta_snapshot(db, m365)))
    assert changed_by_owner == len(owners)


def matrix_kit_last_shown() -> str:
    from tests.security.test_authorization_matrix import LAST_SHOWN

    return LAST_SHOWN[0]

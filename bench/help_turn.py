"""Per-turn cost of a real bot turn (`help` typed in a personal chat → help card posted to the connector)
against the bare botbuilder echo turn measured in the same run (../shared/bench/sdk_floor.py) and the no-SDK
floor (raw_floor.py). Prints figures; never a pass/fail. Last line: the ratio to the bare-botbuilder turn.

    .venv/bin/python bench/help_turn.py [turns]
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
FLOORS = ROOT.parent / "shared" / "bench"


def floor(script: str, n: int) -> float:
    out = subprocess.run(
        [sys.executable, str(FLOORS / script), str(n), "1"], capture_output=True, text=True, check=True
    ).stdout
    print(f"{script}: {out.strip()}")
    return float(re.search(r"p50_ms=([\d.]+)", out).group(1))


async def ours(n: int) -> float:
    from aiohttp import ClientSession

    from bot.app import create_app
    from bot.settings import load_settings
    from tests.fakes.connector import ConnectorDouble
    from tests.fakes.teams import TeamsDriver, person

    logging.disable(logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(DATABASE_URL=f"sqlite+aiosqlite:///{tmp}/bench.sqlite3", WORKERS=False)
        connector = await ConnectorDouble().start()
        app = create_app(settings, clock=lambda: dt.datetime.now(dt.timezone.utc))
        driver = await TeamsDriver(app, connector).start()
        from bot.app import SERVICES

        tom = person(app[SERVICES].school, "tom.hollis")
        lat = []
        async with ClientSession() as http:

            async def one():
                act = driver._base(tom) | {"type": "message", "text": "help"}
                t = time.perf_counter()
                async with http.post(driver.url, json=act) as r:
                    await r.read()
                    assert r.status in (200, 201), r.status
                lat.append(time.perf_counter() - t)

            for _ in range(50):
                await one()
            lat.clear()
            for _ in range(n):
                await one()
        await driver.stop()
        await connector.stop()
    lat.sort()
    p50 = lat[len(lat) // 2] * 1000
    print(
        f"help_turn: turns={n} p50_ms={p50:.2f} p99_ms={lat[int(len(lat) * 0.99)] * 1000:.2f} "
        f"cards_posted={len(connector.cards())}"
    )
    return p50


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    sdk = floor("sdk_floor.py", max(n, 500))
    raw = floor("raw_floor.py", max(n, 500))
    mine = asyncio.run(ours(n))
    print(
        f"help_turn_p50_ms={mine:.2f} sdk_echo_p50_ms={sdk:.2f} raw_p50_ms={raw:.2f} "
        f"ratio_to_sdk={mine / sdk:.3f} ratio_to_raw={mine / raw:.1f}"
    )


if __name__ == "__main__":
    main()

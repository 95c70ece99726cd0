"""The processes an end-to-end test talks to: the bot (`python -m bot`) and one Agents Playground per person.

Each runs in its own process group (so stopping it leaves no orphans), on a free loopback port, with its own
working directory and log file under the session's temporary folder. Nothing here imports botbuilder.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEMO_SCHOOL = ROOT / "infra" / "demo" / "school.yaml"
PLAYGROUND_DIR = ROOT / "infra" / "playground"
PLAYGROUND_CLI = PLAYGROUND_DIR / "node_modules" / "@microsoft" / "m365agentsplayground" / "cli.js"
OFFLINE_PRELOAD = PLAYGROUND_DIR / "offline.cjs"
PEOPLE_DIR = PLAYGROUND_DIR / "people"
CONFIG_NAME = ".m365agentsplayground.yml"
CHROMIUM = "/usr/bin/chromium"

# Settings a developer's shell (or .env) might carry that would take the bot out of local mode.
_BOT_ENV_DROP = ("MicrosoftAppId", "MicrosoftAppPassword", "MicrosoftAppType", "MicrosoftAppTenantId")


#: The demo school's Monday of week 3 of Autumn 2: every reminder point, the mop-up week and school days for
#: booking are still ahead of it. The e2e bot runs on the real clock, so its school calendar is the demo school's
#: moved by whole weeks until today falls in that same week (weekdays and the terms' shape are kept).
ANCHOR_MONDAY = dt.date(2026, 11, 16)
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def shift_dates(node, days: int):
    """Every date in a parsed school config (ISO strings or dates) moved by `days`."""
    if isinstance(node, dict):
        return {k: shift_dates(v, days) for k, v in node.items()}
    if isinstance(node, list):
        return [shift_dates(v, days) for v in node]
    if isinstance(node, dt.date) and not isinstance(node, dt.datetime):
        return node + dt.timedelta(days=days)
    if isinstance(node, str) and _ISO_DATE.match(node):
        return (dt.date.fromisoformat(node) + dt.timedelta(days=days)).isoformat()
    return node


def school_around(today: dt.date, src: Path = DEMO_SCHOOL, dest_dir: Path | None = None) -> Path:
    """The demo school config with its calendar moved so `today` is in week 3 of Autumn 2 (written once per day).

    So the end-to-end journeys that depend on the date (reminders, recording today's session, booking in the
    next fortnight) run on any day of any year, instead of skipping once the demo year is over."""
    import yaml

    monday = today - dt.timedelta(days=today.weekday())
    days = (monday - ANCHOR_MONDAY).days
    dest = (dest_dir or Path(tempfile.gettempdir())) / f"kestrel-e2e-school-{today.isoformat()}.yaml"
    if not dest.exists():
        data = shift_dates(yaml.safe_load(src.read_text(encoding="utf-8")), days)
        # An INSET day moved onto a bank holiday would be refused (and is meaningless): drop it.
        from bot.domain.calendar import england_bank_holidays

        terms = data["terms"]
        closures = terms.get("closures") or []
        bank = england_bank_holidays({dt.date.fromisoformat(str(c["date"])).year for c in closures} or {today.year})
        terms["closures"] = [c for c in closures if dt.date.fromisoformat(str(c["date"])) not in bank]
        tmp = dest.with_suffix(".tmp")
        tmp.write_text(
            f"# {src.name} moved by {days} days for the end-to-end tests (tests/e2e/processes.py)\n"
            + yaml.safe_dump(data, sort_keys=False, allow_unicode=True),
            encoding="utf-8",
        )
        tmp.replace(dest)
    return dest


def e2e_school() -> Path:
    """The school config the e2e bot runs on (and the tests compute their expectations from)."""
    from zoneinfo import ZoneInfo

    return school_around(dt.datetime.now(ZoneInfo("Europe/London")).date())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(url: str, timeout: float = 2.0) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=timeout) as r:  # noqa: S310 - loopback only
        return r.status, r.read()


def _stop_group(proc: subprocess.Popen, timeout: float = 5.0) -> None:
    """SIGTERM the process group, then SIGKILL what is left."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(timeout=timeout)


def _tail(path: Path, n: int = 40) -> str:
    try:
        return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-n:])
    except OSError:
        return "(no log)"


@dataclass
class BotProcess:
    """`python -m bot` in local mode: temp SQLite database, temp local Microsoft 365 folder, the demo school with
    its calendar moved around today (`e2e_school`)."""

    workdir: Path
    port: int = 0
    school: Path = field(default_factory=lambda: e2e_school())
    extra_env: dict = field(default_factory=dict)
    proc: subprocess.Popen | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def messages_url(self) -> str:
        return f"{self.base_url}/api/messages"

    @property
    def db_path(self) -> Path:
        return self.workdir / "bot.sqlite3"

    @property
    def database_url(self) -> str:
        return f"sqlite+aiosqlite:///{self.db_path}"

    @property
    def m365_dir(self) -> Path:
        return self.workdir / "m365"

    @property
    def log_path(self) -> Path:
        return self.workdir / "bot.log"

    def start(self, timeout: float = 60.0) -> BotProcess:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = self.port or free_port()
        env = {k: v for k, v in os.environ.items() if k not in _BOT_ENV_DROP}
        env.update(
            {
                "PORT": str(self.port),
                "HOST": "127.0.0.1",
                "DATABASE_URL": self.database_url,
                "LOCAL_M365_DIR": str(self.m365_dir),
                "SCHOOL_CONFIG": str(self.school),
                # The working directory is the temp folder (so a developer's .env is not read); the code is on the path.
                "PYTHONPATH": str(ROOT) + os.pathsep + env.get("PYTHONPATH", ""),
                "PYTHONUNBUFFERED": "1",
            }
        )
        env.update(self.extra_env)
        log = open(self.log_path, "wb")  # noqa: SIM115 - closed with the process
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bot"],
            cwd=self.workdir,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the bot exited with {self.proc.returncode}:\n{_tail(self.log_path)}")
            try:
                status, _ = http_get(f"{self.base_url}/healthz", timeout=1.0)
                if status == 200:
                    return self
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"the bot did not answer /healthz within {timeout:.0f}s:\n{_tail(self.log_path)}")

    def stop(self) -> None:
        if self.proc is not None:
            _stop_group(self.proc)

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace") if self.log_path.exists() else ""


@dataclass
class PlaygroundProcess:
    """One Microsoft 365 Agents Playground, as one person, pointed at the bot.

    Started from its own working directory holding a copy of that person's config (the Playground reads
    `.m365agentsplayground.yml` from where it starts), with `--dt` (no telemetry), no browser, loopback only and
    no connection off the machine (infra/playground/offline.cjs). Its mock connector — the `serviceUrl` the bot
    replies to — is `http://127.0.0.1:<port>/_connector`, so every conversation reference says which window it
    belongs to.
    """

    person: str
    bot_messages_url: str
    workdir: Path
    port: int = 0
    config: Path | None = None  # default: infra/playground/people/<person>/.m365agentsplayground.yml
    proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def service_url(self) -> str:
        return f"{self.url}/_connector"

    @property
    def log_path(self) -> Path:
        return self.workdir / "playground.log"

    @property
    def stdout_path(self) -> Path:
        return self.workdir / "stdout.log"

    @staticmethod
    def config_for(person: str) -> Path:
        path = PEOPLE_DIR / person / CONFIG_NAME
        if not path.is_file():
            people = sorted(p.name for p in PEOPLE_DIR.iterdir() if (p / CONFIG_NAME).is_file())
            raise ValueError(f"no Playground config for {person!r}; people: {', '.join(people)}")
        return path

    def start(self, timeout: float = 60.0, attempts: int = 3) -> PlaygroundProcess:
        self.workdir.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(self.config or self.config_for(self.person), self.workdir / CONFIG_NAME)
        for attempt in range(attempts):
            self.port = self.port if (attempt == 0 and self.port) else free_port()
            if self._start_once(timeout):
                return self
        raise RuntimeError(f"Playground for {self.person} did not start:\n{_tail(self.stdout_path)}")

    def _start_once(self, timeout: float) -> bool:
        env = dict(os.environ)
        env.update(
            {
                "TEAMSAPPTESTER_BROWSER": "none",  # do not try to open a browser
                "M365_AGENTS_PLAYGROUND_LOGFILE": str(self.log_path),
                "APPLICATION_INSIGHTS_NO_STATSBEAT": "true",  # belt and braces; offline.cjs blocks it anyway
            }
        )
        env.pop("M365_AGENTS_PLAYGROUND_CONFIG_PATH", None)
        cmd = [
            "node",
            "--require",
            str(OFFLINE_PRELOAD),
            str(PLAYGROUND_CLI),
            "-e",
            self.bot_messages_url,
            "-c",
            "msteams",
            "--dt",
            "-p",
            str(self.port),
            "--su",
            f"http://127.0.0.1:{self.port}/_connector",
        ]
        out = open(self.stdout_path, "wb")  # noqa: SIM115
        self.proc = subprocess.Popen(
            cmd,
            cwd=self.workdir,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        out.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            text = self.stdout_path.read_text(errors="replace")
            if "Listening on " in text:
                actual = text.split("Listening on ", 1)[1].split()[0]
                if actual != str(self.port):
                    # Port taken between our check and its bind: it fell back to a random port, but our --su
                    # names the old one. Start again on another port.
                    self.stop()
                    return False
                try:
                    status, body = http_get(f"{self.url}/_debug/ping", timeout=1.0)
                    if status == 200 and body == b"pong":
                        return True
                except (urllib.error.URLError, OSError):
                    pass
            time.sleep(0.1)
        self.stop()
        return False

    def stop(self) -> None:
        if self.proc is not None:
            _stop_group(self.proc)

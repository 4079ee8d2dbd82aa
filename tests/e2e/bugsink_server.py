"""A real Bugsink server for end-to-end tests: installed into a virtualenv of its own, run on 127.0.0.1.

Bugsink depends on the real sentry-sdk and installs many top-level packages, so it never goes into
the environment under test. The virtualenv and a migrated template database are cached between runs.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

BUGSINK_VERSION = "2.6.2"
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "sentry-python-tests"

_CONF = """\
from bugsink.settings.default import *  # noqa
from bugsink.conf_utils import eat_your_own_dogfood

SECRET_KEY = "e2e-tests-only-not-secret"
DATABASES["default"]["NAME"] = {db!r}
DATABASES["snappea"]["NAME"] = {snappea!r}
SNAPPEA = {{"TASK_ALWAYS_EAGER": True}}
EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"
eat_your_own_dogfood(None)
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
BUGSINK = {{
    "BASE_URL": "http://127.0.0.1:{port}",
    "PHONEHOME": False,
    "SINGLE_USER": True,
    "SINGLE_TEAM": True,
    "INGEST_STORE_BASE_DIR": {ingest!r},
    "KEEP_ENVELOPES": 1000,
    "MAX_EVENTS_PER_PROJECT_PER_5_MINUTES": {quota},
    "MAX_EVENTS_PER_5_MINUTES": {quota},
}}
"""

_CREATE_PROJECT = """\
import django
django.setup()
from django.contrib.auth import get_user_model
from teams.models import Team, TeamMembership
from projects.models import Project, ProjectMembership
user = get_user_model().objects.create_superuser("e2e", "e2e@example.com", "e2e-password")
team = Team.objects.create(name="e2e")
TeamMembership.objects.create(team=team, user=user)
project = Project.objects.create(name="e2e", slug="e2e", team=team)
ProjectMembership.objects.create(project=project, user=user)
print(project.dsn)
"""


class BugsinkUnavailable(RuntimeError):  # noqa: N818 - reads as the condition it reports
    """Bugsink could not be installed or started here."""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _venv() -> Path:
    venv = CACHE / f"bugsink-{BUGSINK_VERSION}"
    python = venv / "bin" / "python"
    if (venv / "bin" / "gunicorn").exists():
        return venv
    shutil.rmtree(venv, ignore_errors=True)
    CACHE.mkdir(parents=True, exist_ok=True)
    base = shutil.which("python3") or sys.executable
    try:
        subprocess.run([base, "-m", "venv", str(venv)], check=True, capture_output=True, timeout=120)
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", f"bugsink=={BUGSINK_VERSION}"],
            check=True,
            capture_output=True,
            timeout=600,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        shutil.rmtree(venv, ignore_errors=True)
        detail = getattr(exc, "stderr", b"") or b""
        reason = f"cannot install bugsink=={BUGSINK_VERSION}: {exc} {detail[-500:]!r}"
        raise BugsinkUnavailable(reason) from exc
    return venv


class BugsinkServer:
    """One Bugsink instance with a fresh database, a user and a project."""

    def __init__(self, data_dir: Path, quota: int = 100_000) -> None:
        self.data_dir = data_dir
        self.quota = quota
        self.port = _free_port()
        self.venv = _venv()
        self.dsn = ""
        self._process: subprocess.Popen[bytes] | None = None
        self._db = data_dir / "db.sqlite3"

    def _env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SENTRY_", "PYTHON"))}
        env["PYTHONPATH"] = str(self.data_dir)
        env["DJANGO_SETTINGS_MODULE"] = "bugsink_conf"
        return env

    def _manage(self, *args: str) -> None:
        result = subprocess.run(
            [str(self.venv / "bin" / "bugsink-manage"), *args],
            env=self._env(),
            cwd=str(self.data_dir),
            capture_output=True,
            timeout=300,
        )
        if result.returncode:
            raise BugsinkUnavailable(f"bugsink-manage {' '.join(args)} failed: {result.stderr[-2000:]!r}")

    def start(self) -> BugsinkServer:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        (self.data_dir / "bugsink_conf.py").write_text(
            _CONF.format(
                db=str(self._db),
                snappea=str(self.data_dir / "snappea.sqlite3"),
                port=self.port,
                ingest=str(self.data_dir / "ingestion"),
                quota=self.quota,
            )
        )
        template = self.venv / "e2e-template"
        if (template / "db.sqlite3").exists():
            # Migrating takes 10-20 s; a migrated empty database from an earlier run is copied instead.
            for name in ("db.sqlite3", "snappea.sqlite3"):
                shutil.copy(template / name, self.data_dir / name)
        else:
            self._manage("migrate", "--noinput")
            self._manage("migrate", "--noinput", "--database=snappea")
            template.mkdir(exist_ok=True)
            for name in ("db.sqlite3", "snappea.sqlite3"):
                shutil.copy(self.data_dir / name, template / name)
        out = subprocess.run(
            [str(self.venv / "bin" / "python"), "-c", _CREATE_PROJECT],
            env=self._env(),
            cwd=str(self.data_dir),
            capture_output=True,
            timeout=120,
        )
        if out.returncode:
            raise BugsinkUnavailable(f"creating the project failed: {out.stderr[-2000:]!r}")
        self.dsn = out.stdout.decode().strip().splitlines()[-1]
        self._log = open(self.data_dir / "server.log", "wb")  # noqa: SIM115 - closed in stop()
        self._process = subprocess.Popen(
            [
                str(self.venv / "bin" / "gunicorn"),
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                "1",
                "--no-control-socket",
                "bugsink.wsgi",
            ],
            env=self._env(),
            stdout=self._log,
            stderr=subprocess.STDOUT,
            cwd=str(self.data_dir),
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                log = (self.data_dir / "server.log").read_text()
                raise BugsinkUnavailable(f"bugsink exited: {log[-2000:]}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/health/ready", timeout=1) as r:
                    if r.read().strip() == b"OK":
                        return self
            except OSError:
                time.sleep(0.1)  # polling a server that is starting up: there is no event to wait on
        raise BugsinkUnavailable("bugsink did not become ready within 60 s")

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            self._log.close()

    def events(self) -> list[dict[str, Any]]:
        """Every event Bugsink stored, as the JSON it received, oldest first."""
        with sqlite3.connect(self._db) as db:
            rows = db.execute("select data from events_event order by digested_at, id").fetchall()
        return [json.loads(row[0]) for row in rows]

    def raw_envelopes(self, after_id: int = 0) -> list[tuple[int, bytes]]:
        """``(id, body)`` of every request body Bugsink kept (decompressed), newer than ``after_id``."""
        with sqlite3.connect(self._db) as db:
            query = "select id, data from ingest_envelope where id > ? order by id"
            return [(int(i), bytes(data)) for i, data in db.execute(query, (after_id,)).fetchall()]

    def event(self, event_id: str) -> dict[str, Any]:
        """The stored event with this id (as sent, without dashes)."""
        with sqlite3.connect(self._db) as db:
            query = "select data from events_event where event_id = ?"
            row = db.execute(query, (event_id.replace("-", ""),)).fetchone()
        if row is None:
            raise AssertionError(f"Bugsink stored no event {event_id}")
        return dict(json.loads(row[0]))

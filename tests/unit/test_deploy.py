"""The deployment recipes in deploy/ are well formed and say what the README promises.

Docker cannot run here (no daemon): the image is checked by reading its Dockerfile; the
compose file is parsed as YAML and its structure checked; the systemd units go through
`systemd-analyze verify` when it is installed (with the interpreter path pointed at this one).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def test_dockerfile_is_multi_stage_non_root_with_a_healthcheck() -> None:
    text = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    assert len(re.findall(r"^FROM ", text, re.M)) == 2
    assert "pip wheel" in text and "--from=build /wheels" in text
    user = re.findall(r"^USER (\S+)", text, re.M)
    assert user and user[-1] not in ("root", "0")
    assert re.search(r'^HEALTHCHECK .*\n?.*"python", "-m", "bot.health"', text, re.M)
    assert re.search(r'^CMD \["python", "-m", "bot"\]', text, re.M)
    assert "postgresql-client" in text  # pg_dump for python -m bot.backup
    assert re.search(r"^VOLUME .*/app/data", text, re.M)


def test_compose_has_postgresql_a_volume_and_the_bot_waits_for_it() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
    services = compose["services"]
    assert services["db"]["image"].startswith("postgres:")
    assert "healthcheck" in services["db"]
    bot = services["bot"]
    assert bot["build"] == {"context": "..", "dockerfile": "deploy/Dockerfile"}
    assert bot["depends_on"]["db"]["condition"] == "service_healthy"
    assert bot["environment"]["DATABASE_URL"].startswith("postgresql://")
    volumes = set(compose["volumes"])
    assert {v.split(":")[0] for v in services["db"]["volumes"]} <= volumes
    assert {v.split(":")[0] for v in bot["volumes"]} <= volumes
    assert bot["restart"] == services["db"]["restart"] == "unless-stopped"


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze missing")
def test_systemd_units_verify(tmp_path: Path) -> None:
    names = ["team-energia.service", "team-energia-backup.service", "team-energia-backup.timer"]
    for name in names:
        text = (DEPLOY / name).read_text(encoding="utf-8")
        (tmp_path / name).write_text(
            text.replace("/opt/team-energia/.venv/bin/python", sys.executable), encoding="utf-8"
        )
    result = subprocess.run(
        ["systemd-analyze", "verify", *(str(tmp_path / n) for n in names)],
        capture_output=True,
        text=True,
        check=False,
    )
    problems = [line for line in result.stderr.splitlines() if "team-energia" in line]
    assert result.returncode == 0 and problems == [], result.stderr


def test_the_unit_does_not_restart_a_configuration_error() -> None:
    text = (DEPLOY / "team-energia.service").read_text(encoding="utf-8")
    assert "ExecStart=/opt/team-energia/.venv/bin/python -m bot" in text
    assert "RestartPreventExitStatus=2 3" in text
    assert "UMask=0077" in text
    assert "LogNamespace=team-energia" in text
    journal = (DEPLOY / "journald@team-energia.conf").read_text(encoding="utf-8")
    assert "MaxRetentionSec=30day" in journal  # the privacy notice's 30 days

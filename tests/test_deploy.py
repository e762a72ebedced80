"""docs/deploy: the docker compose file of the small shared deployment is valid and matches the code.

CI has no docker registry, so the file is parsed and its command lines are checked against the real CLI and
a real `chroma run` here; docs/deploy/README.md says how it was run under docker by hand."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from common.settings import describe_settings

DEPLOY = Path(__file__).resolve().parent.parent / "docs" / "deploy"


def services() -> dict:
    return yaml.safe_load((DEPLOY / "docker-compose.yml").read_text(encoding="utf-8"))["services"]


def test_compose_sets_only_settings_that_exist():
    known = {row["env"] for row in describe_settings()}
    for name, service in services().items():
        unknown = {k for k in service.get("environment", {}) if k.startswith("PAPERS_")} - known
        assert not unknown, f"{name} sets {unknown}"


def test_readers_need_only_the_chroma_server_url():
    all_services = services()
    chroma_port = all_services["chroma"]["command"][all_services["chroma"]["command"].index("--port") + 1]
    for name in ("api", "ui"):
        service = all_services[name]
        assert service["environment"]["PAPERS_CHROMA_URL"] == f"http://chroma:{chroma_port}"
        assert not service.get("volumes"), f"the reader {name} mounts a volume"
    assert all_services["ingest"]["environment"]["PAPERS_CHROMA_URL"] == f"http://chroma:{chroma_port}"


def test_the_image_it_builds_exists():
    for service in services().values():
        build = service.get("build")
        if build:
            assert (DEPLOY / build["context"] / build["dockerfile"]).is_file()


def test_the_app_services_run_real_papers_commands():
    from papers.cli import build_parser

    for name in ("api", "ui", "ingest"):
        command = services()[name]["command"]
        assert command[0] == "papers"
        build_parser().parse_args(command[1:])  # exits (SystemExit) on a command or flag the CLI does not have


@pytest.mark.slow
def test_the_chroma_healthcheck_passes_against_a_real_chroma_run(chroma_server):
    check = services()["chroma"]["healthcheck"]["test"]
    assert check[:2] == ["CMD", "python"]
    port = chroma_server.rsplit(":", 1)[1]
    done = subprocess.run([sys.executable, *(arg.replace("localhost:8000", f"127.0.0.1:{port}") for arg in check[2:])],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr

"""docs/deploy: the docker compose file of the small shared deployment is valid and matches the code
(`docker` itself is not available here, so it is parsed, not run)."""

from __future__ import annotations

from pathlib import Path

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

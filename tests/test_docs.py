"""The README's tables say what the code does."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

from api.app import create_app
from graph.embedded import EmbeddedStore
from graph.model import NodeLabel
from graph.settings import Settings
from graph.ties import DEFAULT_REGISTRY

with warnings.catch_warnings():
    # Starlette 1.x prefers httpx2 for its TestClient; httpx is what this project installs.
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def test_every_tie_type_is_documented_as_the_registry_defines_it() -> None:
    rows = {
        match["type"]: match
        for match in re.finditer(
            r"^\| `(?P<type>[A-Z_]+)` \| (?P<source>\w+) → (?P<target>\w+) \| (?P<symmetric>yes|no) \| "
            r"(?P<category>\w+) \| (?P<weight>[\d.]+|–) \|",
            README,
            flags=re.MULTILINE,
        )
    }
    assert set(rows) == {tie_type.value for tie_type in DEFAULT_REGISTRY}
    for tie_type, spec in DEFAULT_REGISTRY.items():
        row = rows[tie_type.value]
        assert (row["source"], row["target"]) == (spec.source.value, spec.target.value)
        assert (row["symmetric"] == "yes") is spec.symmetric
        assert row["category"] == spec.category.value
        assert row["weight"] == ("–" if not spec.between_customers else f"{spec.weight:g}")


def test_every_label_and_setting_is_documented() -> None:
    for label in NodeLabel:
        assert f"`{label.value}`" in README
    for name in Settings.model_fields:
        prefix = f"CRM_GRAPH_{name.upper()}"
        assert prefix in README or prefix.rsplit("_", 1)[0] in README, f"{prefix} missing from the README"


def readme_addresses() -> set[str]:
    """Every address on the API server the README names: `/a/path` in backticks and the demo's URLs."""
    quoted = re.findall(r"`(/[\w./-]*)`", README)
    linked = re.findall(r"http://127\.0\.0\.1:8000(/[\w./-]*)", README)
    return {address.rstrip(".") for address in quoted + linked}


def test_every_address_in_the_readme_exists(tmp_path: Path) -> None:
    addresses = readme_addresses()
    assert {"/", "/api/v1/docs", "/api/v1/health", "/api/v1/ready", "/api/v1/metrics"} <= addresses
    EmbeddedStore(tmp_path / "store.sqlite").close()
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        embedded_path=tmp_path / "store.sqlite",
        api_tokens_path=tmp_path / "tokens.sqlite",
        api_audit_path=tmp_path / "audit.sqlite",
    )
    app = create_app(settings)
    routes = [getattr(route, "path", "") for route in app.routes]
    with TestClient(app) as client:
        for address in sorted(addresses):
            if address != "/" and address.endswith("/"):
                # A prefix ("every route starts with /api/v1/"): some route must start with it.
                assert any(route.startswith(address) for route in routes), f"no route under {address}"
            else:
                assert client.get(address).status_code != 404, f"the README names {address}, which is a 404"

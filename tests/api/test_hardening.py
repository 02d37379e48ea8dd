"""Smaller protections: one Authorization header, no Host-built redirects, no caching of personal data, failed
authentications slowed per address, no server path on the explorer's install page, Swagger UI without a CDN."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from api import docs_page, explorer
from api.app import create_app
from graph.embedded import EmbeddedStore
from tests.api.conftest import (
    OWN_BOOK_NAMES,
    CheckedClient,
    api_settings_for,
    auth,
    bank_nodes,
    bank_ties,
    issue_tokens,
)

V1 = "/api/v1"
PROBLEM = "application/problem+json"


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[CheckedClient, dict[str, str]]]:
    settings = api_settings_for(tmp_path, api_auth_failure_burst=3, api_auth_failure_per_second=0.01)
    tokens = issue_tokens(settings)
    with EmbeddedStore(tmp_path / "hardening.sqlite") as store:
        store.write(nodes=bank_nodes(), ties=bank_ties())
        with CheckedClient(create_app(settings, store)) as client:
            client.bodies = []
            client.names_in_clear = {tokens["manager"]: OWN_BOOK_NAMES}
            yield client, tokens


def test_two_authorization_headers_are_refused_even_when_one_is_valid(
    served: tuple[CheckedClient, dict[str, str]],
) -> None:
    client, tokens = served
    headers = [("Authorization", f"Bearer {tokens['admin']}"), ("Authorization", "Bearer crmg_someone-elses")]
    response = client.get(f"{V1}/customers/p1", headers=headers)
    assert response.status_code == 401 and response.headers["content-type"].startswith(PROBLEM)
    assert "exactly one Authorization header" in response.json()["detail"]
    assert client.get(f"{V1}/customers/p1", headers=auth(tokens["admin"])).status_code == 200


def test_a_trailing_slash_is_a_404_problem_and_never_a_redirect_built_from_the_host_header(
    served: tuple[CheckedClient, dict[str, str]],
) -> None:
    client, tokens = served
    for path in (f"{V1}/clusters/", f"{V1}/customers/p1/", f"{V1}/health/"):
        response = client.get(path, headers={**auth(tokens["admin"]), "Host": "evil.example"}, follow_redirects=False)
        assert response.status_code == 404 and "location" not in response.headers
        assert response.headers["content-type"].startswith(PROBLEM)
        assert "evil.example" not in response.text


def test_every_api_answer_is_marked_no_store(served: tuple[CheckedClient, dict[str, str]]) -> None:
    client, tokens = served
    answers = [
        client.get(f"{V1}/customers/p1", headers=auth(tokens["admin"])),
        client.get(f"{V1}/customers/p1/network", headers=auth(tokens["admin"])),
        client.get(f"{V1}/clusters", headers=auth(tokens["marketing"])),
        client.get(f"{V1}/products/FUND01/prospects", params={"format": "csv"}, headers=auth(tokens["marketing"])),
        client.get(f"{V1}/managers/m1/portfolio", headers=auth(tokens["manager"])),
        client.get(f"{V1}/audit", headers=auth(tokens["admin"])),
        client.get(f"{V1}/customers/nobody", headers=auth(tokens["admin"])),  # errors too
        client.get(f"{V1}/customers/p1", headers=auth(tokens["marketing"])),
    ]
    assert [answer.status_code for answer in answers] == [200, 200, 200, 200, 200, 200, 404, 403]
    assert all(answer.headers["cache-control"] == "no-store" for answer in answers)
    assert "no-store" not in client.get("/static/explorer.css").headers.get("cache-control", "")


def test_failed_authentications_are_limited_per_address_before_any_token_is_checked(
    served: tuple[CheckedClient, dict[str, str]],
) -> None:
    client, tokens = served
    guesses = [client.get(f"{V1}/me", headers=auth(f"crmg_guess-{number}")) for number in range(4)]
    assert [guess.status_code for guess in guesses] == [401, 401, 401, 429]
    assert int(guesses[-1].headers["retry-after"]) >= 1
    assert guesses[-1].headers["content-type"].startswith(PROBLEM)
    # A right token from the same address is refused as well: the answer must not tell a hit from a miss.
    assert client.get(f"{V1}/me", headers=auth(tokens["admin"])).status_code == 429
    assert client.get(f"{V1}/health").status_code == 200  # no token needed, nothing counted


def test_the_explorer_install_page_names_no_server_path(
    served: tuple[CheckedClient, dict[str, str]], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    client, _ = served
    monkeypatch.setattr(explorer, "CYTOSCAPE", tmp_path / "nowhere" / "cytoscape.esm.min.mjs")
    page = client.get("/")
    assert page.status_code == 503 and "npm ci" in page.text
    assert str(tmp_path) not in page.text and str(Path(explorer.__file__).parents[1]) not in page.text
    assert not re.search(r"(^|[\s(>])/(home|root|usr|opt|srv|tmp|var|work)/", page.text)


def test_swagger_ui_is_served_from_the_installed_package_without_any_outside_address(
    served: tuple[CheckedClient, dict[str, str]],
) -> None:
    client, _ = served
    page = client.get(f"{V1}/docs")
    assert page.status_code == 200 and "SwaggerUIBundle" in page.text
    assert not re.search(r"(src|href)=[\"']?(https?:)?//", page.text), "the page loads something from outside"
    assets = re.findall(r"(?:src|href)=[\"']([^\"']+)[\"']", page.text)
    assert {f"{docs_page.ASSETS_PATH}/{name}" for name in docs_page.ASSETS} <= set(assets)
    for asset in assets:
        assert client.get(asset).status_code == 200, asset
    assert client.get(f"{V1}/openapi.json").json()["info"]["title"] == "crm-graph"


def test_without_swagger_ui_installed_the_docs_page_says_so_naming_no_path(
    served: tuple[CheckedClient, dict[str, str]], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    client, _ = served
    monkeypatch.setattr(docs_page, "SWAGGER_UI", tmp_path / "nowhere")
    page = client.get(f"{V1}/docs")
    assert page.status_code == 503 and "npm ci" in page.text and str(tmp_path) not in page.text

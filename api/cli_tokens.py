"""``crm-graph token``: issue, list, revoke and rotate API bearer tokens (only their hashes are kept)."""

from __future__ import annotations

import json
from contextlib import closing
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from api.cli_support import BackendOption, console, fail, settings_for
from api.terminal import CommandConsole
from graph.errors import ConfigurationError, CrmGraphError
from graph.factory import open_store
from graph.settings import Settings

if TYPE_CHECKING:
    from api.tokens import TokenInfo, TokenRegistry

token_app = typer.Typer(help="API bearer tokens: issue, list, rotate, revoke.", no_args_is_help=True)

DaysOption = Annotated[
    int | None,
    typer.Option("--days", min=1, max=3650, help="Days the token is valid for; default CRM_GRAPH_API_TOKEN_DAYS (90)."),
]


def open_registry(settings: Settings) -> TokenRegistry:
    from api.tokens import TokenRegistry

    return TokenRegistry(settings.api_tokens_path, token_days=settings.api_token_days)


def check_manager_exists(settings: Settings, manager_id: str | None) -> None:
    """Refuse a token acting as a manager the store does not know (a typo would give an empty book)."""
    if manager_id is None:
        return
    from graph.model import NodeLabel

    with open_store(settings, read_only=True) as store:
        if store.get_node(NodeLabel.MANAGER, manager_id) is None:
            raise ConfigurationError(
                f"no manager {manager_id!r} in the {settings.backend.value} store; check the id (GET /managers)"
            )


def print_issued(token: str, info: TokenInfo) -> None:
    console.print(
        f"token {info.id} for {info.name} ({info.role}), valid until {info.expires_at}: "
        f"{' '.join(info.permissions) or 'no permissions'}"
    )
    typer.echo(token)


@token_app.command("issue")
def token_issue(
    role: Annotated[str, typer.Option("--role", help="manager, marketing, risk, admin or service.")],
    manager: Annotated[str | None, typer.Option("--manager", help="Manager id the token acts as.")] = None,
    unmask: Annotated[bool, typer.Option("--unmask", help="Grant pii:unmask (admin and risk only).")] = False,
    name: Annotated[str | None, typer.Option("--name", help="Who holds the token; shown in the audit log.")] = None,
    permission: Annotated[
        list[str] | None, typer.Option("--permission", help="Extra permission (service role); repeatable.")
    ] = None,
    days: DaysOption = None,
    backend: BackendOption = None,
) -> None:
    """Issue an API token and print it once; only its SHA-256 hash is kept."""
    from api.access import Permission, Role

    try:
        chosen = Role(role)
        grants = {Permission(p) for p in permission or []}
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None
    if unmask:
        grants.add(Permission.UNMASK)
    settings = settings_for(backend)
    try:
        check_manager_exists(settings, manager)
        with closing(open_registry(settings)) as registry:
            token, info = registry.issue(
                chosen, name=name or f"{chosen}-{manager or 'token'}", manager_id=manager, grants=grants, days=days
            )
    except CrmGraphError as error:
        raise fail(error) from None
    print_issued(token, info)


@token_app.command("list")
def token_list(
    show_all: Annotated[bool, typer.Option("--all", help="Also list revoked and expired tokens.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """The tokens in the registry (never the tokens themselves): holder, role, expiry, last use."""
    with closing(open_registry(Settings())) as registry:
        tokens = [info for info in registry.list() if show_all or info.state == "active"]
    if as_json:
        typer.echo(json.dumps([{**info.model_dump(mode="json"), "state": info.state} for info in tokens], indent=2))
        return
    table = Table(title=f"API tokens ({len(tokens)}{'' if show_all else ' active; --all shows every one'})")
    table.add_column("id", no_wrap=True, min_width=16)
    for header in ("name", "role", "manager", "permissions", "expires", "last used", "state"):
        table.add_column(header, overflow="fold")
    for info in tokens:
        table.add_row(
            info.id,
            info.name,
            info.role.value,
            info.manager_id or "",
            " ".join(info.permissions),
            info.expires_at,
            info.last_used_at or "never",
            info.state,
        )
    CommandConsole().print(table)


@token_app.command("revoke")
def token_revoke(
    token_ids: Annotated[list[str], typer.Argument(help="Id(s) of the token(s), as token list shows them.")],
) -> None:
    """Revoke tokens at once: a running server refuses them (401) from its next request."""
    try:
        with closing(open_registry(Settings())) as registry:
            for token_id in token_ids:
                info = registry.get(token_id)
                if registry.revoke(token_id):
                    console.print(f"token {token_id} of {info.name} revoked")
                else:
                    console.print(f"token {token_id} of {info.name} was already revoked")
    except CrmGraphError as error:
        raise fail(error) from None


@token_app.command("rotate")
def token_rotate(
    token_id: Annotated[str, typer.Argument(help="Id of the token to replace, as token list shows it.")],
    days: DaysOption = None,
    backend: BackendOption = None,
) -> None:
    """Replace a token by a new one for the same holder, role and permissions; the old one stops working."""
    settings = settings_for(backend)
    try:
        with closing(open_registry(settings)) as registry:
            check_manager_exists(settings, registry.get(token_id).manager_id)
            token, info = registry.rotate(token_id, days=days)
    except CrmGraphError as error:
        raise fail(error) from None
    console.print(f"token {token_id} revoked; its replacement:")
    print_issued(token, info)

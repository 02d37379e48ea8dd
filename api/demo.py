"""``crm-graph demo``: a generated bank on the embedded store, analysed, with tokens, served on localhost.

Everything lives in one folder (``data/demo`` by default). A second run reuses the bank already there,
so the demo restarts in seconds; ``--rebuild`` starts over. The demo is the one server allowed to run on
the public development PII key: its bank is generated, not real.
"""

from __future__ import annotations

import shutil
import socket
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console

from api.access import Role
from api.progress import stage_bars
from api.tokens import TokenRegistry
from graph.embedded import EmbeddedStore
from graph.errors import ConfigurationError
from graph.settings import Backend, Settings


@dataclass(frozen=True)
class DemoTokens:
    manager_id: str
    manager: str
    marketing: str
    admin: str


def check_port_free(host: str, port: int) -> None:
    """Fail before minutes of loading, not after, when the port is taken."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, port))
        except OSError as error:
            raise ConfigurationError(
                f"cannot listen on {host}:{port} ({error.strerror}); choose another --port"
            ) from None


def demo_settings(base: Settings, folder: Path) -> Settings:
    """Settings that keep every file of the demo inside ``folder`` and use the embedded store."""
    return base.model_copy(
        update={
            "backend": Backend.EMBEDDED,
            "embedded_path": folder / "crm-graph",
            "review_path": folder / "review.json",
            "api_tokens_path": folder / "tokens.sqlite",
            "api_audit_path": folder / "audit.sqlite",
            "model_card_path": folder / "model-card.json",
        }
    )


def build_demo_store(
    settings: Settings, customers: int, seed: int, console: Console, *, rebuild: bool
) -> EmbeddedStore:
    """Open the demo store, first generating, loading and analysing a bank when there is none yet."""
    folder = settings.embedded_path.parent
    ready = folder / "READY"
    if rebuild or not ready.exists() or not settings.embedded_path.is_dir():
        # An earlier run that stopped half-way leaves a partial bank, and one of an earlier version a store of
        # the earlier format: start those over too.
        shutil.rmtree(folder, ignore_errors=True)
    store = EmbeddedStore(settings.embedded_path)
    if ready.exists():
        console.print(f"reusing the demo bank in {folder} (--rebuild starts over)")
        return store
    from loaders.generator import generate
    from loaders.load import load_mapping
    from queries.analytics import analyze

    try:
        with stage_bars(console) as progress:
            summary = generate(customers, seed, folder / "bank", progress)
            report = load_mapping(
                store,
                folder / "bank" / "mapping.yaml",
                folder / "load-report",
                progress,
                settings=settings,
                review_path=settings.review_path,
            )
            analyzed = analyze(store, settings, progress)
    except BaseException:
        store.close()
        raise
    console.print(
        f"generated {summary.customers:,} customers, loaded {report.rows_read:,} source rows "
        f"({report.quarantined:,} quarantined, see {folder / 'load-report'}), analysed {analyzed.customers:,}"
    )
    ready.write_text("generated, loaded and analysed\n", encoding="utf-8")
    return store


DEMO_TOKEN_NAMES = ("demo-manager", "demo-marketing", "demo-admin")


def issue_demo_tokens(settings: Settings, store: EmbeddedStore) -> DemoTokens:
    """Fresh tokens for the manager with the largest book, a marketing user and an administrator.

    Only the hashes of tokens are kept, so an earlier run's tokens cannot be printed again: they are
    revoked instead, and each run leaves exactly three valid demo tokens.
    """
    from queries.portfolio import list_managers

    managers = list_managers(store)
    manager = max(managers, key=lambda summary: (summary.book_size, summary.id))
    registry = TokenRegistry(settings.api_tokens_path, token_days=settings.api_token_days)
    try:
        for earlier in registry.list():
            if earlier.name in DEMO_TOKEN_NAMES and earlier.revoked_at is None:
                registry.revoke(earlier.id)
        manager_token, _ = registry.issue(Role.MANAGER, name="demo-manager", manager_id=manager.id)
        marketing_token, _ = registry.issue(Role.MARKETING, name="demo-marketing")
        admin_token, _ = registry.issue(Role.ADMIN, name="demo-admin")
    finally:
        registry.close()
    return DemoTokens(manager.id, manager_token, marketing_token, admin_token)


def print_welcome(console: Console, tokens: DemoTokens, base_url: str) -> None:
    api = f"{base_url}/api/v1"
    console.print(
        f"""
[bold green]crm-graph demo is ready[/bold green]: open [link={base_url}/]{base_url}/[/link] and sign in with a token.

  manager {tokens.manager_id} (his own book): {tokens.manager}
  marketing:                       {tokens.marketing}
  admin:                           {tokens.admin}

Try:
  curl -H "Authorization: Bearer {tokens.manager}" "{api}/managers/{tokens.manager_id}/portfolio"
  curl -G -H "Authorization: Bearer {tokens.manager}" "{api}/customers" --data-urlencode "q=王"   (name, id, phone tail)
  curl -H "Authorization: Bearer {tokens.marketing}" "{api}/clusters"
  curl -H "Authorization: Bearer {tokens.admin}" "{api}/guarantee-circles"

Press Ctrl+C to stop.""",
        soft_wrap=True,
        highlight=False,
    )

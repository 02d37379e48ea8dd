"""``crm-graph eval`` and ``crm-graph backtest``: does the network help, on generated banks and on the loaded one."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated

import typer

from api.cli_support import BackendOption, WorldOption, console, fail, settings_for
from api.progress import stage_bars
from api.terminal import CommandConsole
from graph.errors import ConfigurationError, CrmGraphError
from graph.factory import open_store
from graph.settings import Settings
from loaders.generator.effects import WorldName


def evaluate(
    customers: Annotated[int, typer.Option("--customers", min=200, help="Customers to simulate.")] = 5_000,
    seed: Annotated[int, typer.Option("--seed", help="Generator seed.")] = 2025,
    seeds: Annotated[
        str | None, typer.Option("--seeds", help="Several seeds, comma-separated (e.g. 11,12,13); overrides --seed.")
    ] = None,
    world: WorldOption = WorldName.MIXED,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")] = False,
) -> None:
    """Backtest the fitted models on freshly generated banks: does the network help, and by how much?"""
    from api.backtest_tables import backtest_table, summary_table
    from loaders.generator.oracle import true_risk
    from queries.analytics.evaluate import evaluate as run_evaluation
    from queries.analytics.evaluate import summarise

    try:
        chosen = [int(part) for part in seeds.split(",") if part.strip()] if seeds else [seed]
    except ValueError:
        raise fail(ConfigurationError(f"--seeds must be whole numbers separated by commas, not {seeds!r}")) from None
    settings = Settings()
    runs = []
    try:
        for number in chosen:
            with stage_bars(console) as progress:
                runs.append(
                    run_evaluation(
                        customers, number, world.value, settings.analytics, progress=progress, oracle=true_risk
                    )
                )
    except CrmGraphError as error:
        raise fail(error) from None
    if as_json:
        result = runs[0] if len(runs) == 1 else summarise(world.value, customers, runs)
        typer.echo(json.dumps(result.model_dump(), indent=2))
        return
    out = CommandConsole()
    for run in runs:
        title = f"{run.world} world, {customers:,} customers, seed {run.seed}, cut {run.cut}"
        out.print(backtest_table(title, run.churn, run.cross_sell))
    if len(runs) > 1:
        summary = summarise(world.value, customers, runs).summary
        out.print(summary_table(f"{world.value} world over seeds {seeds}", summary))


def backtest(
    cut: Annotated[
        str | None,
        typer.Option(
            "--cut",
            help="Month whose month-end the models predict from (YYYY-MM); default: keep the "
            "last third of the history for scoring.",
        ),
    ] = None,
    backend: BackendOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")] = False,
) -> None:
    """On the loaded bank: own signals alone against own plus network, for churn and for cross-selling."""
    from api.backtest_tables import backtest_table
    from queries.analytics.backtest import backtest as run_backtest
    from queries.analytics.features import month_index
    from queries.analytics.frames import read_frames

    settings = settings_for(backend)
    try:
        month = datetime.strptime(cut, "%Y-%m").date() if cut else None
    except ValueError:
        raise fail(ConfigurationError(f"--cut must be a month as YYYY-MM, not {cut!r}")) from None
    try:
        with open_store(settings, read_only=True) as store:
            frames = read_frames(store, settings.analytics.as_of)
        report = run_backtest(frames, settings.analytics, month_index(frames, month) if month else None)
    except CrmGraphError as error:
        raise fail(error) from None
    if as_json:
        typer.echo(json.dumps(report.model_dump(), indent=2))
        return
    title = (
        f"Backtest of {report.customers:,} customers: trained as of {report.train_cut}, "
        f"scored as of {report.cut} on the next {report.horizon_months} months"
    )
    CommandConsole().print(backtest_table(title, report.churn, report.cross_sell))

"""The ``crm-graph`` command line."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from api.cli_bench import bench_loaded_store
from api.cli_evaluate import backtest, evaluate
from api.cli_export import export
from api.cli_spark import Engine, SparkOptions, analyze_on_spark_engine, bench_spark, pair_scorer
from api.cli_store import check, migrate
from api.cli_support import BackendOption, WorldOption, check_quarantine_share, console, fail, settings_for
from api.cli_tokens import token_app
from api.progress import stage_bars
from api.terminal import CommandConsole
from graph.errors import ConfigurationError, CrmGraphError
from graph.factory import open_store
from graph.settings import Settings
from loaders.bulk import LoadPath
from loaders.generator.effects import WorldName

app = typer.Typer(help="crm-graph: the bank's customer relationship graph.", no_args_is_help=True)
app.add_typer(token_app, name="token")
app.command()(export)
app.command()(check)
app.command()(migrate)


@app.callback()
def main() -> None:
    """Settings come from CRM_GRAPH_* environment variables or a .env file."""


@app.command()
def stats(
    backend: BackendOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")] = False,
) -> None:
    """Node counts by label and relationship counts by type."""
    settings = settings_for(backend)
    try:
        with open_store(settings, read_only=True) as store:
            counts = store.counts()
    except CrmGraphError as error:
        raise fail(error) from None
    if as_json:
        typer.echo(json.dumps({"backend": settings.backend.value, **counts.model_dump()}, indent=2))
        return
    out = CommandConsole()
    for title, values in (("Nodes by label", counts.nodes), ("Ties by type", counts.ties)):
        table = Table(title=f"{title} ({settings.backend.value})")
        table.add_column("name")
        table.add_column("count", justify="right")
        for name, count in values.items():
            table.add_row(name, f"{count:,}")
        out.print(table)


@app.command()
def load(
    mapping: Annotated[Path, typer.Argument(help="The mapping file (YAML or TOML) naming the source files.")],
    backend: BackendOption = None,
    report_dir: Annotated[
        Path | None, typer.Option("--report-dir", help="Where report.json and quarantine.csv go.")
    ] = None,
    data_dir: Annotated[
        Path | None, typer.Option("--data-dir", help="Folder the mapping's paths are relative to (default: its own).")
    ] = None,
    max_quarantine_share: Annotated[
        float,
        typer.Option(
            "--max-quarantine-share",
            min=0.0,
            max=1.0,
            help="Exit non-zero when a source quarantines more than this share of its rows (what passed is loaded).",
        ),
    ] = 0.05,
    initial: Annotated[
        bool,
        typer.Option(
            "--initial",
            help="A first load of a big bank into a stopped Neo4j database through neo4j-admin import "
            "(a server the launcher serves from --neo4j-home is stopped and started again).",
        ),
    ] = False,
    neo4j_home: Annotated[
        Path | None, typer.Option("--neo4j-home", help="With --initial: the folder of the Neo4j database.")
    ] = None,
    replace: Annotated[
        bool, typer.Option("--replace", help="With --initial: overwrite a database that holds data.")
    ] = False,
    load_path: Annotated[
        LoadPath,
        typer.Option(
            "--path",
            help="How node and tie sources are read: columns (whole columns, where a source allows it) or rows.",
        ),
    ] = LoadPath.COLUMNS,
    engine: Annotated[
        Engine,
        typer.Option(
            "--engine", help="Where entity resolution compares customer records: in this process, or on Spark."
        ),
    ] = Engine.LOCAL,
    master: Annotated[str, typer.Option("--master", help="Spark master, with --engine spark.")] = "local[*]",
    spark_memory: Annotated[str, typer.Option("--spark-memory", help="Heap of Spark's driver JVM.")] = "2g",
) -> None:
    """Load the source files a mapping names: validate, resolve customers, write, report, quarantine."""
    from loaders.load import load_mapping
    from loaders.report import render

    settings = settings_for(backend)
    report_dir = report_dir or Path("reports") / f"load-{datetime.now():%Y%m%d-%H%M%S}"
    try:
        score_pairs = pair_scorer(engine, settings, master, spark_memory)
    except CrmGraphError as error:
        raise fail(error) from None
    if initial:
        from api.cli_initial import load_initial

        report = load_initial(
            settings,
            mapping,
            report_dir,
            data_dir,
            neo4j_home,
            replace=replace,
            path=load_path,
            score_pairs=score_pairs,
        )
        check_quarantine_share(report, max_quarantine_share)
        return
    if neo4j_home is not None or replace:
        raise fail(ConfigurationError("--neo4j-home and --replace go with --initial"))
    try:
        with open_store(settings) as store, stage_bars(console) as progress:
            report = load_mapping(
                store,
                mapping,
                report_dir,
                progress,
                settings=settings,
                data_dir=data_dir,
                review_path=settings.review_path,
                path=load_path,
                score_pairs=score_pairs,
            )
    except CrmGraphError as error:
        raise fail(error) from None
    render(report, CommandConsole())
    console.print(f"report: {report_dir / 'report.json'}")
    check_quarantine_share(report, max_quarantine_share)


@app.command()
def review(
    backend: BackendOption = None,
    merge: Annotated[str | None, typer.Option("--merge", help="Merge the two customers of this pair.")] = None,
    separate: Annotated[
        str | None, typer.Option("--separate", help="Keep the two customers of this pair apart.")
    ] = None,
) -> None:
    """List customer pairs entity resolution was unsure about, or record a decision on one."""
    from loaders import review as reviews

    settings = settings_for(backend)
    try:
        if merge and separate:
            raise typer.BadParameter("give --merge or --separate, not both")
        if separate:
            pair = reviews.separate(settings.review_path, separate)
            CommandConsole().print(f"pair {pair.id}: {pair.left_customer} and {pair.right_customer} kept apart")
            return
        if merge:
            with open_store(settings) as store:
                pair = reviews.merge(store, settings.review_path, merge)
            CommandConsole().print(f"pair {pair.id}: {pair.right_customer} merged into {pair.left_customer}")
            return
        pending = reviews.ReviewList.read(settings.review_path).pending()
    except CrmGraphError as error:
        raise fail(error) from None
    table = Table(title=f"Pairs to review ({len(pending)}) — {settings.review_path}")
    table.add_column("id", no_wrap=True, min_width=12)
    for header in ("why", "probability", "left customer", "right customer", "left records", "right records"):
        table.add_column(header, overflow="fold")
    for pair in pending:
        table.add_row(
            pair.id,
            f"same ID number; differs: {', '.join(pair.differs)}" if pair.differs else "similar records",
            f"{pair.probability:.3f}",
            pair.left_customer,
            pair.right_customer,
            ", ".join(pair.left_records),
            ", ".join(pair.right_records),
        )
    CommandConsole().print(table)


@app.command("export-import-files")
def export_import_files(
    out: Annotated[Path, typer.Argument(help="New or empty folder for the CSV files.")],
    backend: BackendOption = None,
    database: Annotated[str, typer.Option("--database", help="Database the printed command imports into.")] = "neo4j",
) -> None:
    """Write the store as neo4j-admin import files (a first Neo4j load done offline) and print the command."""
    from graph.neo4j_import import write_import_files

    settings = settings_for(backend)
    try:
        with open_store(settings, read_only=True) as store, stage_bars(console) as progress:
            files = write_import_files(store, out, progress, database=database)
    except CrmGraphError as error:
        raise fail(error) from None
    rate = (files.nodes + files.ties) / max(files.seconds, 1e-9)
    console.print(
        f"{files.nodes:,} nodes and {files.ties:,} ties in {len(files.sources)} file pairs under {files.directory} "
        f"({files.seconds:.1f} s, {rate:,.0f} rows/s). With Neo4j stopped and the database absent or empty, run:"
    )
    typer.echo(files.command)
    if files.after_import is not None:
        console.print(
            f"Then, with Neo4j serving the imported database, write the {files.after_import_rows:,} rows the CSV "
            f"cannot carry (empty lists): crm-graph finish-import {files.directory} --backend neo4j"
        )


@app.command("finish-import")
def finish_import(
    folder: Annotated[Path, typer.Argument(help="The folder export-import-files wrote.")],
    backend: BackendOption = None,
) -> None:
    """After neo4j-admin imported the files, write the values CSV cannot carry (empty lists) through the store."""
    from graph.neo4j_import import finish_import as write_rest

    try:
        with open_store(settings_for(backend)) as store:
            rows = write_rest(store, folder)
    except CrmGraphError as error:
        raise fail(error) from None
    console.print(f"{rows:,} rows written from {folder}")


@app.command()
def serve(
    host: Annotated[str, typer.Option("--host", help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8000,
    backend: BackendOption = None,
    insecure_dev_key: Annotated[
        bool,
        typer.Option("--insecure-dev-key", help="Serve with the development PII key (never on real data)."),
    ] = False,
) -> None:
    """Serve the HTTP API over the configured store."""
    from api.app import create_app
    from api.serving import serve as serve_api

    settings = settings_for(backend)
    # Opened here, not in the app's start-up, so that a store held by a load or a damaged file is one line
    # and exit 1 instead of uvicorn's "Application startup failed" traceback. A read-only snapshot of a store
    # a load is writing would serve a half-loaded bank that never catches up, and refuse logged interactions.
    try:
        check_keys(settings, allow_dev_pii_key=insecure_dev_key)
        store = open_store(settings)
    except CrmGraphError as error:
        raise fail(error) from None
    weak_key = settings.pii_key_problem()
    if weak_key:  # allowed by --insecure-dev-key; say so, so that nobody mistakes it for a real deployment
        console.print(f"[yellow]warning:[/yellow] {weak_key}; serving anyway (--insecure-dev-key): never on real data")
    with store:
        serve_api(create_app(settings, store), host=host, port=port, log_level="info")


def check_keys(settings: Settings, *, allow_dev_pii_key: bool) -> None:
    """Refuse keys that would let anyone holding the source code invert the hashes, stub ids or cursors."""
    from graph.settings import MIN_SECRET_BYTES, NEW_SECRET_HINT

    problem = settings.pii_key_problem()
    if problem and not allow_dev_pii_key:
        raise ConfigurationError(
            f"{problem}: set it to a random secret of at least {MIN_SECRET_BYTES} bytes ({NEW_SECRET_HINT}) "
            "before the first load, or pass --insecure-dev-key on a development machine"
        )
    problem = settings.api_secret_problem()
    if problem:
        raise ConfigurationError(f"{problem}; make one with {NEW_SECRET_HINT}")


@app.command()
def generate(
    customers: Annotated[int, typer.Option("--customers", min=20, help="Number of customers to simulate.")] = 10_000,
    seed: Annotated[int, typer.Option("--seed", help="Random seed; the same seed gives byte-identical files.")] = 1,
    out: Annotated[
        Path, typer.Option("--out", help="Directory for the exports, mapping.yaml and ground truth.")
    ] = Path("bank-data"),
    world: WorldOption = WorldName.MIXED,
) -> None:
    """Write a synthetic bank's source-system exports, mapping file and ground truth."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from loaders.generator import generate as generate_bank

    with Progress(TextColumn("{task.description:<40}"), BarColumn(), TimeElapsedColumn(), console=console) as bar:
        task = bar.add_task("simulating", total=None)

        def progress(stage: str, done: int, total: int) -> None:
            bar.update(task, description=stage, completed=done, total=total)

        summary = generate_bank(customers, seed, out, progress, world.value)
    table = Table(
        title=f"Generated {summary.customers:,} customers ({summary.world} world) into {out} in {summary.seconds:.1f} s"
    )
    table.add_column("file")
    table.add_column("rows", justify="right")
    for path, rows in summary.files.items():
        table.add_row(path, f"{rows:,}")
    for label, value in (
        ("accounts", summary.accounts),
        ("churned customers", summary.churned),
        ("products taken up in the window", summary.taken_up_in_window),
        ("bad rows", summary.bad_rows),
        ("full-width (valid) rows", summary.normalised),
        ("bytes", summary.bytes),
    ):
        table.add_row(f"[bold]{label}[/bold]", f"{value:,}")
    CommandConsole().print(table)


@app.command()
def analyze(
    backend: BackendOption = None,
    engine: Annotated[
        Engine, typer.Option("--engine", help="In this process (local), or on Spark over a Parquet export.")
    ] = Engine.LOCAL,
    master: Annotated[str, typer.Option("--master", help="Spark master: local[*], local[N], spark://host:port.")] = (
        "local[*]"
    ),
    spark_memory: Annotated[str, typer.Option("--spark-memory", help="Heap of Spark's driver JVM.")] = "2g",
    parquet: Annotated[
        Path | None,
        typer.Option("--parquet", help="With --engine spark: read this export instead of exporting the store first."),
    ] = None,
) -> None:
    """Compute balances, tiers, lifecycle, lifetime value, churn risk, clusters and PageRank; write them back."""
    from queries.analytics import analyze as run_analytics

    settings = settings_for(backend)
    if parquet is not None and engine is not Engine.SPARK:
        raise fail(ConfigurationError("--parquet is read by the Spark engine only; add --engine spark"), code=2)
    try:
        with open_store(settings) as store, stage_bars(console) as progress:
            if engine is Engine.SPARK:
                report = analyze_on_spark_engine(store, settings, progress, master, spark_memory, parquet)
            else:
                report = run_analytics(store, settings, progress)
    except CrmGraphError as error:
        raise fail(error) from None
    where = f"{settings.backend.value}, {engine.value} engine"
    table = Table(title=f"Analysed {report.customers:,} customers as of {report.as_of} ({where})")
    table.add_column("result")
    table.add_column("value", justify="right")
    for name, count in (*report.tiers.items(), *report.stages.items()):
        table.add_row(name, f"{count:,}")
    table.add_row("referral clusters", f"{report.clusters:,}")
    table.add_row("churn model", f"{report.churn_model.model}: {report.churn_model.reason}")
    for step, seconds in report.seconds.items():
        table.add_row(f"[dim]{step} (s)[/dim]", f"{seconds:.2f}")
    CommandConsole().print(table)


app.command(name="eval")(evaluate)
app.command()(backtest)


@app.command()
def demo(
    customers: Annotated[int, typer.Option("--customers", min=200, help="Customers in the generated bank.")] = 20_000,
    seed: Annotated[int, typer.Option("--seed", help="Generator seed.")] = 1,
    host: Annotated[str, typer.Option("--host", help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8000,
    folder: Annotated[Path, typer.Option("--dir", help="Folder of the demo's store, exports and tokens.")] = Path(
        "data/demo"
    ),
    rebuild: Annotated[
        bool, typer.Option("--rebuild", help="Generate and load a new bank even if one is there.")
    ] = False,
) -> None:
    """Generate a bank, load it into the embedded store, analyse it, print tokens and serve the API and explorer."""
    from api.app import create_app
    from api.demo import build_demo_store, check_port_free, demo_settings, issue_demo_tokens, print_welcome
    from api.serving import serve as serve_api

    settings = demo_settings(Settings(), folder)
    try:
        check_keys(settings, allow_dev_pii_key=True)  # a generated bank: the development key is fine
        check_port_free(host, port)
        store = build_demo_store(settings, customers, seed, console, rebuild=rebuild)
    except CrmGraphError as error:
        raise fail(error) from None
    with store:
        print_welcome(CommandConsole(), issue_demo_tokens(settings, store), f"http://{host}:{port}")
        serve_api(create_app(settings, store), host=host, port=port, log_level="warning")


@app.command()
def bench(
    customers: Annotated[int, typer.Option("--customers", min=100, help="Customers in the generated bank.")] = 100_000,
    queries: Annotated[
        int, typer.Option("--queries", min=10, help="Sampled customers each query is timed on.")
    ] = 1_000,
    as_json: Annotated[bool, typer.Option("--json", help="Also print the JSON report to stdout.")] = False,
    out: Annotated[Path, typer.Option("--out", help="Folder for the JSON and markdown results.")] = Path(
        "bench/results"
    ),
    skip_neo4j: Annotated[bool, typer.Option("--skip-neo4j", help="Measure the embedded store only.")] = False,
    seed: Annotated[int, typer.Option("--seed", help="Generator and sampling seed.")] = 7,
    engine: Annotated[
        Engine,
        typer.Option("--engine", help="local: both backends side by side; spark: analyze --engine spark alone."),
    ] = Engine.LOCAL,
    master: Annotated[str, typer.Option("--master", help="Spark master, with --engine spark.")] = "local[*]",
    spark_memory: Annotated[str, typer.Option("--spark-memory", help="Heap of Spark's driver JVM.")] = "2g",
    loaded: Annotated[
        bool,
        typer.Option(
            "--loaded",
            help="Measure the bank already in the store (--backend): the embedded store's own figures, queries and "
            "API; with --engine spark, its analyze.",
        ),
    ] = False,
    backend: BackendOption = None,
    parquet: Annotated[
        Path | None, typer.Option("--parquet", help="With --loaded: read this export of the store, made beforehand.")
    ] = None,
) -> None:
    """Benchmark load, queries, analytics and the API on the embedded store and Neo4j, side by side; or, with
    --engine spark, the Spark engine's analyze on Neo4j (time, Python driver and Spark JVM peak memory).

    Neo4j is started locally for the run unless CRM_GRAPH_BENCH_NEO4J_URI names an empty server.
    """
    from bench.harness import BenchConfig, run_bench, write_results
    from bench.report import render_markdown

    if parquet is not None and not loaded:
        raise fail(ConfigurationError("--parquet is an export of a loaded store; add --loaded"), code=2)
    checkpoint = out / f"bench-{customers}-partial.json"
    config = BenchConfig(customers=customers, queries=queries, seed=seed, skip_neo4j=skip_neo4j, checkpoint=checkpoint)
    if engine is Engine.SPARK:
        options = SparkOptions(master=master, memory=spark_memory, parquet=parquet)
        bench_spark(config, options, out, as_json, settings_for(backend) if loaded else None)
        return
    if loaded:
        bench_loaded_store(config, settings_for(backend), out, as_json)
        return
    try:
        with stage_bars(console, width=44) as progress:
            report = run_bench(config, progress)
    except CrmGraphError as error:
        raise fail(error) from None
    json_path, markdown_path = write_results(report, out)
    checkpoint.unlink(missing_ok=True)
    console.print(render_markdown(report))
    console.print(f"results: {json_path} and {markdown_path}")
    if as_json:
        typer.echo(report.model_dump_json(indent=2))


@app.command("bench-growth")
def bench_growth(
    smaller: Annotated[Path, typer.Argument(help="JSON result of the run on the smaller bank.", exists=True)],
    larger: Annotated[Path, typer.Argument(help="JSON result of the run on the larger bank.", exists=True)],
    out: Annotated[Path | None, typer.Option("--out", help="Also write the markdown table to this file.")] = None,
) -> None:
    """How load time, query latency, analytics and memory grew from one benchmark run to a larger one."""
    from pydantic import ValidationError

    from bench.growth import read_report, render_growth

    try:
        table = render_growth(read_report(smaller), read_report(larger))
    except (ValidationError, ValueError) as error:
        raise fail(ConfigurationError(f"cannot compare {smaller} and {larger}: {error}")) from None
    if out is not None:
        out.write_text(table, encoding="utf-8")
    console.print(table)


if __name__ == "__main__":
    app()

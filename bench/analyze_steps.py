"""``python -m bench.analyze_steps STORE_FOLDER``: run ``analyze`` on the embedded store there (it writes its
results into it: give it a copy) and print, as one JSON object, the wall and CPU seconds of each step and of the
whole run, and the process's peak resident memory, also as it stood at the end of each step (the step where it
grows is the one that set it). CPU seconds count every thread of the process, so a figure
taken on a busy machine still compares with one taken on a quiet one; wall seconds do not."""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path

from bench.store_figures import clocks
from graph.factory import open_store
from graph.settings import Backend, Settings
from queries.analytics import analyze


def main(argv: list[str] | None = None) -> None:
    """Analyse the store in the one argument (settings from the environment); print the figures as JSON."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or args[0] in ("-h", "--help"):
        raise SystemExit("usage: python -m bench.analyze_steps STORE_FOLDER (a copy: analyze writes into it)")
    if not Path(args[0]).is_dir():  # the store would be created empty, and an empty bank analysed
        raise SystemExit(f"no embedded store at {args[0]}: load a bank into it first (crm-graph load)")
    settings = Settings(backend=Backend.EMBEDDED, embedded_path=Path(args[0]))
    step_cpu: dict[str, float] = {}
    peak_after: dict[str, int] = {}
    started: dict[str, float] = {}

    def progress(step: str, done: int, total: int) -> None:
        # (step, 0, total) when a step starts, (step, total, total) when it ends: "write" may say so twice, the
        # last time when it really ends
        if done == 0:
            started[step] = time.process_time()
        elif done == total:
            step_cpu[step] = round(time.process_time() - started[step], 2)
            peak_after[step] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024

    with clocks() as measured, open_store(settings) as store:
        report = analyze(store, settings, progress)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(
        json.dumps(
            {
                "customers": report.customers,
                "threads": settings.analytics.threads,
                "seconds": round(measured[0], 1),
                "cpu_seconds": round(measured[1], 1),
                "peak_rss_mib": usage.ru_maxrss // 1024,
                "step_cpu_seconds": step_cpu,
                "peak_rss_mib_after_step": peak_after,
                "step_seconds": report.seconds,
                "churn_model": report.churn_model.model,
            }
        )
    )


if __name__ == "__main__":
    main()

"""``python -m bench.api_load``: the API's figures alone on a bank already in the store. No timing is asserted."""

from __future__ import annotations

import re

import pytest

from bench.api_load import main
from tests.bench.conftest import BenchRun


def test_each_run_reports_its_requests_and_cpu(
    embedded_bench: BenchRun, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CRM_GRAPH_BACKEND", "embedded")
    monkeypatch.setenv("CRM_GRAPH_EMBEDDED_PATH", str(embedded_bench.work / "embedded"))
    main(["--runs", "2", "--seconds", "5", "--requests", "12", "--clients", "2", "--sample", "4"])
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in lines] == ["run 1", "run 2"]
    for line in lines:
        assert line.startswith(("run 1: 12 requests", "run 2: 12 requests"))
        assert re.search(r"server CPU [\d.]+ ms/request", line)
        assert "'200': 12" in line


def test_a_chosen_path_replaces_the_mix(
    embedded_bench: BenchRun, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CRM_GRAPH_BACKEND", "embedded")
    monkeypatch.setenv("CRM_GRAPH_EMBEDDED_PATH", str(embedded_bench.work / "embedded"))
    main(
        ["--runs", "1", "--requests", "6", "--clients", "1", "--sample", "3", "--path", "/api/v1/customers/nobody-{id}"]
    )
    assert "statuses {'404': 6}" in capsys.readouterr().out

"""The README's tables say what the code does."""

from __future__ import annotations

import re
from pathlib import Path

from graph.model import NodeLabel
from graph.settings import Settings
from graph.ties import DEFAULT_REGISTRY

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

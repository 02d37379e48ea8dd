"""Settings, read from the environment with the prefix ``CRM_GRAPH_`` (or a ``.env`` file)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Backend(StrEnum):
    EMBEDDED = "embedded"
    NEO4J = "neo4j"


class Settings(BaseSettings):
    """Everything that differs between a laptop and a bank's servers."""

    model_config = SettingsConfigDict(env_prefix="CRM_GRAPH_", env_file=".env", extra="ignore")

    backend: Backend = Backend.EMBEDDED
    embedded_path: Path = Field(
        default=Path("data/crm-graph.sqlite"),
        description="File of the embedded store; created on first use.",
    )
    neo4j_uri: str = "bolt://localhost:7687"
    neo4j_user: str = "neo4j"
    neo4j_password: SecretStr = SecretStr("")
    neo4j_database: str = "neo4j"
    neo4j_timeout_seconds: float = Field(default=30.0, gt=0)
    batch_size: int = Field(default=5000, ge=1, le=100_000)
    pii_hash_key: SecretStr = Field(
        default=SecretStr("crm-graph-development-key-not-for-production"),
        description=(
            "Key of the keyed hashes (HMAC) that replace resident ids, phones and card numbers. The default is for "
            "development only: production MUST set CRM_GRAPH_PII_HASH_KEY to a long random secret, keep it out of "
            "the repository, and never change it after a load (customer ids and matching derive from these hashes)."
        ),
    )
    review_path: Path = Field(
        default=Path("data/review.json"),
        description="Entity-resolution pairs waiting for a person to merge or separate them (crm-graph review).",
    )
    tie_weights_path: Path | None = Field(
        default=None,
        description="Optional YAML file overriding the default influence weight of tie types.",
    )

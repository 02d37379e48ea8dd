"""Settings, read from the environment with the prefix ``CRM_GRAPH_`` (or a ``.env`` file)."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEVELOPMENT_PII_KEY = "crm-graph-development-key-not-for-production"
MIN_SECRET_BYTES = 32
NEW_SECRET_HINT = "python -c 'import secrets; print(secrets.token_urlsafe(48))'"
DEFAULT_UNMASK_PURPOSES = (
    "complaint",
    "customer_request",
    "fraud_investigation",
    "kyc_review",
    "legal_request",
    "regulatory_report",
)


class Backend(StrEnum):
    EMBEDDED = "embedded"
    NEO4J = "neo4j"


class Settings(BaseSettings):
    """Everything that differs between a laptop and a bank's servers."""

    model_config = SettingsConfigDict(env_prefix="CRM_GRAPH_", env_file=".env", extra="ignore")

    backend: Backend = Backend.EMBEDDED
    embedded_path: Path = Field(
        default=Path("data/crm-graph"),
        description="Folder of the embedded store; created on first use.",
    )
    embedded_write_thread: bool = Field(
        default=True,
        description=(
            "Whether a load hands its bulk writes into the embedded store to a writer thread, so that the store "
            "writes one batch while the loader makes the next; false writes each batch before the next is made."
        ),
    )
    neo4j_uri: str = "bolt://localhost:7687"
    neo4j_user: str = "neo4j"
    neo4j_password: SecretStr = SecretStr("")
    neo4j_database: str = "neo4j"
    neo4j_timeout_seconds: float = Field(default=30.0, gt=0)
    neo4j_write_sessions: int = Field(
        default=2,
        ge=1,
        le=8,
        description=(
            "Batches a load writes into Neo4j at once, each in its own session and transaction; 1 writes each "
            "batch before the next is made."
        ),
    )
    batch_size: int = Field(default=5000, ge=1, le=100_000)
    table_batch_size: int = Field(
        default=100_000,
        ge=1,
        le=10_000_000,
        description=(
            "Source rows per atomic write of the column-wise load into the embedded store, which takes whole tables, "
            "and customers per write of the Spark engine's results (batch_size applies to the row path and to Neo4j; "
            "the in-process analyze writes all its results into the embedded store at once)."
        ),
    )
    pii_hash_key: SecretStr = Field(
        default=SecretStr(DEVELOPMENT_PII_KEY),
        description=(
            "Key of the keyed hashes (HMAC) that replace resident ids, phones and card numbers. The default is for "
            "development only (crm-graph serve refuses it): production MUST set CRM_GRAPH_PII_HASH_KEY to a random "
            "secret of at least 32 bytes, keep it out of the repository, and never change it after a load "
            "(customer ids and matching derive from these hashes)."
        ),
    )
    api_secret_key: SecretStr | None = Field(
        default=None,
        description=(
            "Secret the API's stub ids and cursor signatures derive from (at least 32 bytes), apart from the PII "
            "key so that it can be rotated: a new value invalidates old cursors and stub ids, nothing else. "
            "Unset: a random secret per server start. Servers behind one address must share one."
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
    model_card_path: Path = Field(
        default=Path("data/model-card.json"),
        description="The churn model card crm-graph analyze writes (fitted or defaults, window, weights, backtest).",
    )
    resolution_model_path: Path = Field(
        default=Path("data/resolution-model.json"),
        description=(
            "The entity-resolution model crm-graph load --engine spark scores with (splink JSON): written from the "
            "documented weights when missing, then only read, so reruns score alike."
        ),
    )
    analytics: AnalyticsSettings = Field(
        default_factory=lambda: AnalyticsSettings(),
        description="Thresholds, margins and weights of crm-graph analyze (JSON in CRM_GRAPH_ANALYTICS).",
    )
    api_tokens_path: Path = Field(
        default=Path("data/api-tokens.sqlite"),
        description="Registry of API bearer tokens (only SHA-256 hashes of the tokens are kept).",
    )
    api_audit_path: Path = Field(
        default=Path("data/api-audit.sqlite"),
        description="Append-only audit log of every read of customer data through the API.",
    )
    api_rate_per_second: float = Field(default=20.0, gt=0, description="Requests per second a token may sustain.")
    api_rate_burst: int = Field(default=40, ge=1, description="Requests a token may send at once before throttling.")
    api_auth_failure_burst: int = Field(
        default=10, ge=1, description="Failed authentications a client address may make before it is refused (429)."
    )
    api_auth_failure_per_second: float = Field(
        default=0.1, gt=0, description="Failed authentications per second a client address may sustain."
    )
    api_costly_per_token: int = Field(
        default=2,
        ge=1,
        description="Costly requests (clusters, prospects, portfolios, circles) a token may run at once.",
    )
    api_costly_total: int = Field(
        default=4, ge=1, description="Costly requests all tokens together may run at once (503 above it)."
    )
    api_max_body_bytes: int = Field(default=1_048_576, ge=1, description="Largest request body accepted (413 above).")
    api_max_page_size: int = Field(default=200, ge=1, le=200, description="Largest page a list endpoint returns.")
    api_store_timeout_seconds: float = Field(
        default=15.0, gt=0, description="A store call taking longer than this answers 503."
    )
    api_store_threads: int = Field(
        default=4,
        ge=1,
        le=64,
        description="Worker threads that run the quick store work of requests on Neo4j (one customer and its "
        "neighbourhood) at once; more threads than this contend for the interpreter's lock and answer fewer requests.",
    )
    api_token_days: int = Field(
        default=90, ge=1, le=3650, description="Days an API token is valid for, unless issued with --days."
    )
    api_unmask_purposes: list[str] = Field(
        default_factory=lambda: list(DEFAULT_UNMASK_PURPOSES),
        min_length=1,
        description="Purposes an unmasking request may name (?purpose=); JSON list in CRM_GRAPH_API_UNMASK_PURPOSES.",
    )
    api_unmask_reason_min_chars: int = Field(
        default=12, ge=1, le=200, description="Fewest characters (spaces not counted) of an unmasking reason."
    )

    def pii_key_problem(self) -> str | None:
        """Why the PII hash key is not fit for serving real customer data, or None when it is."""
        key = self.pii_hash_key.get_secret_value()
        if key == DEVELOPMENT_PII_KEY:
            return "CRM_GRAPH_PII_HASH_KEY is the public development key"
        if len(key.encode()) < MIN_SECRET_BYTES:
            return f"CRM_GRAPH_PII_HASH_KEY is shorter than {MIN_SECRET_BYTES} bytes"
        return None

    def api_secret_problem(self) -> str | None:
        """Why the API secret is not fit for use, or None when it is (or unset: then a random one is used)."""
        if self.api_secret_key is None:
            return None
        secret = self.api_secret_key.get_secret_value()
        if len(secret.encode()) < MIN_SECRET_BYTES:
            return f"CRM_GRAPH_API_SECRET_KEY is shorter than {MIN_SECRET_BYTES} bytes"
        if secret == self.pii_hash_key.get_secret_value():
            return "CRM_GRAPH_API_SECRET_KEY must differ from CRM_GRAPH_PII_HASH_KEY"
        return None


def _default_tiers() -> dict[str, float]:
    return {
        "private_banking": 6_000_000.0,
        "diamond": 1_000_000.0,
        "platinum": 500_000.0,
        "gold": 100_000.0,
        "silver": 50_000.0,
    }


def _default_margins() -> dict[str, float]:
    # Annual contribution per CNY of month-end balance, by product category: net interest margin on deposits
    # and loans, fee yield on investment, insurance and card products. A bank replaces these with its own.
    return {
        "deposit": 0.012,
        "investment": 0.008,
        "insurance": 0.015,
        "loan": 0.022,
        "credit": 0.030,
        "payroll": 0.004,
        "fx": 0.005,
    }


class AnalyticsSettings(BaseModel):
    """Every tunable number of ``crm-graph analyze`` and of the request-time recommendations."""

    as_of: date | None = Field(
        default=None, description="Analysis date; default: the latest date found in the data (never after today)."
    )
    tier_thresholds: dict[str, float] = Field(
        default_factory=_default_tiers,
        description="Minimum aum (CNY) of each tier; customers below every threshold are 'standard'.",
    )
    margins: dict[str, float] = Field(default_factory=_default_margins)
    discount_rate: float = Field(default=0.08, ge=0, le=1, description="Annual discount rate of potential value.")
    expected_tenure_years: float = Field(default=12.0, gt=0, description="Expected total tenure of a customer.")
    max_growth: float = Field(default=0.2, ge=0, description="Cap on the annual growth used for potential value.")
    acquisition_months: int = Field(default=12, ge=0, description="Tenure below which a customer is acquired.")
    trend_months: int = Field(default=12, ge=2, le=24, description="Months of balances the trend is fitted on.")
    growth_trend: float = Field(default=0.15, description="Relative change over the trend window meaning growth.")
    decline_trend: float = Field(default=-0.15, description="Relative change over the trend window meaning decline.")
    own_weights: dict[str, float] = Field(
        default_factory=lambda: {"decline": 0.55, "closed": 0.25, "inactivity": 0.05, "stage": 0.15},
        description="Weights of the own churn signals (each in [0, 1]); their sum is clipped to 1.",
    )
    inactivity_days: int = Field(default=365, ge=1, description="Days without contact meaning inactive.")
    network_method: str = Field(
        default="spreading", pattern="^(spreading|relational_neighbour)$", description="How churn spreads over ties."
    )
    spreading_factor: float = Field(default=0.8, gt=0, le=1, description="Share of energy a node passes on.")
    spreading_threshold: float = Field(default=0.01, gt=0, description="Energy below which spreading stops.")
    spreading_max_steps: int = Field(default=10, ge=1)
    leaving_risk: float = Field(
        default=0.6, ge=0, le=1, description="Own risk from which a still-active customer also spreads churn energy."
    )
    network_weight: float = Field(default=0.6, ge=0, le=1, description="Weight of the network score in churn_risk.")
    cross_sell_weights: dict[str, float] = Field(default_factory=lambda: {"network": 0.6, "similar": 0.4})
    hop_decay: float = Field(default=0.5, ge=0, le=1, description="Factor on second-hop evidence in cross-selling.")
    cluster_seed: int = 42
    cluster_resolution: float = Field(default=1.0, gt=0)
    cluster_match_jaccard: float = Field(default=0.5, ge=0, le=1, description="Overlap that keeps a cluster id.")
    pagerank_damping: float = Field(default=0.85, gt=0, lt=1)
    threads: int = Field(
        default=1,
        ge=1,
        description="Threads scikit-learn, OpenMP and BLAS may use in analyze, backtest and eval; more than 1 "
        "pays only on cores nothing else uses (see queries/analytics/threads.py).",
    )

    @field_validator("tier_thresholds")
    @classmethod
    def _known_tiers(cls, value: dict[str, float]) -> dict[str, float]:
        unknown = set(value) - set(_default_tiers())
        if unknown:
            raise ValueError(f"unknown tiers {sorted(unknown)}; known: {', '.join(_default_tiers())}")
        return value


Settings.model_rebuild()  # the analytics field refers to AnalyticsSettings, defined after Settings

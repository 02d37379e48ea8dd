"""Customer analytics: balances, tiers, lifecycle, lifetime value, churn risk, clusters, key persons
(computed by ``crm-graph analyze`` and written back), and cross-selling answered at request time."""

from queries.analytics.analyze import ANALYTICS_VERSION, AnalyzeReport, analyze
from queries.analytics.churn import ChurnRisk, Contributor, churn_risk
from queries.analytics.community import ClusterSummary, cluster, clusters
from queries.analytics.crosssell import EvidencePath, Prospect, Recommendation, cross_sell, prospects

__all__ = [
    "ANALYTICS_VERSION",
    "AnalyzeReport",
    "ChurnRisk",
    "ClusterSummary",
    "Contributor",
    "EvidencePath",
    "Prospect",
    "Recommendation",
    "analyze",
    "churn_risk",
    "cluster",
    "clusters",
    "cross_sell",
    "prospects",
]

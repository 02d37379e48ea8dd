"""Customer analytics: balances, tiers, lifecycle, lifetime value, churn risk, clusters, key persons
(computed by ``crm-graph analyze`` and written back), and cross-selling answered at request time."""

from queries.analytics.analyze import ANALYTICS_VERSION, AnalyzeReport, analyze
from queries.analytics.churn import ChurnRisk, Contributor, churn_risk
from queries.analytics.community import ClusterGraph, ClusterSummary, cluster, cluster_graph, clusters
from queries.analytics.crosssell import EvidencePath, Prospect, Recommendation, cross_sell, prospects

__all__ = [
    "ANALYTICS_VERSION",
    "AnalyzeReport",
    "ChurnRisk",
    "ClusterGraph",
    "ClusterSummary",
    "Contributor",
    "EvidencePath",
    "Prospect",
    "Recommendation",
    "analyze",
    "churn_risk",
    "cluster",
    "cluster_graph",
    "clusters",
    "cross_sell",
    "prospects",
]

"""The functions of ``queries/`` the API delegates to, found lazily by their documented names.

The query and analytics modules are written alongside the API; an endpoint whose function is not there
yet answers 501 (``NotWired``) instead of inventing a result. :func:`missing` lists them.

Expected calls (the store first, the customer or other key second, options as keywords; a keyword the
function does not declare is not passed):

==================  ===========================================================================
name                call
==================  ===========================================================================
customer_360        ``customer_360(store, customer_id)`` -> one mapping/model of the customer
related_customers   ``related_customers(store, customer_id, depth=, types=, limit=)`` -> related
household           ``household(store, customer_id)`` -> members (+ totals)
corporate_group     ``corporate_group(store, customer_id)`` -> members (+ totals)
guarantee_circles   ``guarantee_circles(store)`` -> circles (each a list of customer ids)
manager_portfolio   ``manager_portfolio(store, manager_id)`` -> the manager's customers (+ totals)
list_managers       ``list_managers(store)`` -> managers
cross_sell          ``cross_sell(store, customer_id, limit=)`` -> recommended products
churn_risk          ``churn_risk(store, customer_id)`` -> score and contributors
clusters            ``clusters(store)`` -> clusters
cluster             ``cluster(store, cluster_id)`` -> one cluster and its members
prospects           ``prospects(store, product_code, limit=)`` -> customers likely to take the product
product_catalogue   ``product_catalogue(store)`` -> products (id, name, category)
cluster_graph       ``cluster_graph(store, cluster_id, limit=)`` -> a cluster's central members and their ties
==================  ===========================================================================
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
from collections.abc import Callable, Mapping
from typing import Any

from pydantic import BaseModel

from api.errors import NotWired

RELATIONSHIP_MODULES = (
    "queries.customers",
    "queries.network",
    "queries.groups",
    "queries.portfolio",
    "queries.accounts",
    "queries",
)
ANALYTICS_MODULES = ("queries.analytics",)

SOURCES: dict[str, tuple[str, ...]] = {
    "customer_360": RELATIONSHIP_MODULES,
    "related_customers": RELATIONSHIP_MODULES,
    "household": RELATIONSHIP_MODULES,
    "corporate_group": RELATIONSHIP_MODULES,
    "guarantee_circles": RELATIONSHIP_MODULES,
    "manager_portfolio": RELATIONSHIP_MODULES,
    "list_managers": RELATIONSHIP_MODULES,
    "cross_sell": ANALYTICS_MODULES,
    "churn_risk": ANALYTICS_MODULES,
    "clusters": ANALYTICS_MODULES,
    "cluster": ANALYTICS_MODULES,
    "prospects": ANALYTICS_MODULES,
    "product_catalogue": RELATIONSHIP_MODULES,
    "cluster_graph": ANALYTICS_MODULES,
}
"""Where each function may live: a module of the list, or a submodule of it named like the function."""


def _candidates(name: str) -> list[str]:
    found = []
    for module in SOURCES[name]:
        found.extend([module, f"{module}.{name}"])
    return found


_RESOLVED: dict[str, tuple[Callable[..., Any], frozenset[str] | None]] = {}
"""Functions found, with the keywords they accept (None: any). Only hits are kept: a function written
later is found on the next call, while a found one costs no import machinery (a missing candidate module
is a file-system search) and no signature inspection per request."""


def resolve(name: str) -> Callable[..., Any] | None:
    """The function called ``name`` in its modules, or None when none of them has it yet."""
    if name in _RESOLVED:
        return _RESOLVED[name][0]
    for module_name in _candidates(name):
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as error:
            # Only a missing candidate module means "not written yet"; a broken import inside it is a bug.
            if error.name and module_name.startswith(error.name):
                continue
            raise
        function = getattr(module, name, None)
        if callable(function) and not inspect.ismodule(function):
            _RESOLVED[name] = (function, _keywords(function))
            return function
    return None


def _keywords(function: Callable[..., Any]) -> frozenset[str] | None:
    try:
        parameters: Mapping[str, inspect.Parameter] = inspect.signature(function).parameters
    except (TypeError, ValueError):  # pragma: no cover - builtins only
        return frozenset()
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
        return None
    return frozenset(parameters)


def missing() -> list[str]:
    """Names of the functions the API expects that do not exist yet."""
    return [name for name in SOURCES if resolve(name) is None]


def call(name: str, *args: Any, **options: Any) -> Any:
    """Call ``name`` with the options it declares; raise ``NotWired`` when it does not exist."""
    if resolve(name) is None:
        raise NotWired(f"{name} is not available in this version of crm-graph")
    function, keywords = _RESOLVED[name]
    accepted = {key: value for key, value in options.items() if keywords is None or key in keywords}
    return function(*args, **accepted)


def plain(value: Any) -> Any:
    """Models, dataclasses and records turned into dicts and lists, so endpoints read one shape."""
    if isinstance(value, BaseModel):
        return plain(value.model_dump())
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return plain(dataclasses.asdict(value))
    if isinstance(value, Mapping):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [plain(item) for item in value]
    if hasattr(value, "value") and isinstance(getattr(value, "value", None), str):
        return value.value  # enums
    return value


def flatten(record: Mapping[str, Any]) -> dict[str, Any]:
    """A node-like mapping (``id``, ``label``, ``properties``) as one flat mapping of fields."""
    flat = dict(record.get("properties") or {})
    flat.update({key: value for key, value in record.items() if key != "properties"})
    return flat


def items_of(value: Any, *keys: str) -> list[Any]:
    """The list in ``value`` itself, or under the first of ``keys`` it has."""
    value = plain(value)
    if isinstance(value, list):
        return value
    if isinstance(value, Mapping):
        for key in keys:
            if isinstance(value.get(key), list):
                return list(value[key])
    return []

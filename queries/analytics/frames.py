"""The graph as arrays: every node and tie the analytics need, read once through the store interface.

Customers are numbered 0..n-1 in id order; accounts 0..m-1 likewise. Balances sit in one matrix, right-aligned
so that the last column is the latest month-end for every account. :meth:`GraphFrames.cut` rewinds the whole
picture to an earlier month-end, which is how ``crm-graph eval`` scores predictions without peeking.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

from graph.embedded.columns import is_json, one_array, plain_values
from graph.model import NodeLabel, TieType
from graph.store import GraphStore
from graph.ties import TieRegistry

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]
ReadProgress = Callable[[str], None]

# Roles whose holder counts the account as their own; an authorized signatory does not own the money.
OWNING_ROLES = ("owner", "joint")


@dataclass(frozen=True)
class GraphFrames:
    """Customers, accounts, holdings, customer-to-customer ties and interactions as aligned arrays."""

    as_of: date
    customers: pd.DataFrame
    """Index 0..n-1; columns id, kind, segment, status, customer_since, birth_date, consent_marketing, cluster_id."""
    accounts: pd.DataFrame
    """Index 0..m-1; columns id, category, product_id, closed (bool), opened, closed_on."""
    balances: FloatArray
    """(m, months) month-end balances, right-aligned; the last column is the month-end of ``as_of``."""
    owner_customer: IntArray
    owner_account: IntArray
    tie_source: IntArray
    tie_target: IntArray
    tie_type: NDArray[np.str_]
    tie_weight: FloatArray
    interaction_customer: IntArray
    interaction_at: NDArray[np.datetime64]
    products: pd.DataFrame
    """Index product id; columns name, category, min_age, segments, exclusive_with (as stored)."""

    @property
    def size(self) -> int:
        return len(self.customers)

    @property
    def months(self) -> int:
        return int(self.balances.shape[1])

    @property
    def ids(self) -> list[str]:
        return list(self.customers["id"])

    def month_ends(self) -> list[date]:
        """Month-end date of each balance column, oldest first."""
        ends = pd.date_range(end=pd.Timestamp(self.as_of) + pd.offsets.MonthEnd(0), periods=self.months, freq="ME")
        return [stamp.date() for stamp in ends]

    def cut(self, months: int) -> GraphFrames:
        """The bank as it looked at the end of balance column ``months - 1``: later months, accounts opened
        later, closures, interactions and churn are forgotten. Customers who joined later are kept but hold
        nothing yet."""
        end = self.month_ends()[months - 1]
        end_stamp = np.datetime64(end, "D")
        # Shallow: copy-on-write (always on since pandas 3) keeps the columns a cut does not change shared with
        # the whole picture; a deep copy of the accounts and customers per cut held some 300 bytes a customer.
        accounts = self.accounts.copy(deep=False)
        closed_on = accounts["closed_on"].to_numpy(dtype="datetime64[D]")
        accounts["closed"] = ~np.isnat(closed_on) & (closed_on <= end_stamp)
        opened = accounts["opened"].to_numpy(dtype="datetime64[D]")
        existed = (np.isnat(opened) | (opened <= end_stamp))[self.owner_account]
        owner_customer, owner_account = self.owner_customer[existed], self.owner_account[existed]
        customers = self.customers.copy(deep=False)
        churned_by_accounts = _all_closed(self.size, owner_customer, accounts["closed"].to_numpy()[owner_account])
        customers["status"] = np.where(churned_by_accounts, "churned", "active")
        keep = self.interaction_at <= end_stamp
        # A view, read only: a copy per cut cost 560 MB at a million customers, and nothing writes into balances.
        balances = self.balances[:, :months]
        balances.flags.writeable = False
        return replace(
            self,
            as_of=end,
            customers=customers,
            accounts=accounts,
            balances=balances,
            owner_customer=owner_customer,
            owner_account=owner_account,
            interaction_customer=self.interaction_customer[keep],
            interaction_at=self.interaction_at[keep],
        )


def weighted_sum(index: IntArray, weights: np.ndarray, size: int) -> FloatArray:
    """Sum of ``weights`` per value of ``index`` (0..size-1), as floats."""
    return np.bincount(index, weights=weights, minlength=size).astype(np.float64)


def _all_closed(size: int, owner: IntArray, closed: BoolArray) -> BoolArray:
    held = np.bincount(owner, minlength=size)
    open_count = np.bincount(owner, weights=(~closed).astype(np.float64), minlength=size)
    return (held > 0) & (open_count == 0)


def customer_tie_types(registry: TieRegistry) -> list[TieType]:
    return [tie_spec.type for tie_spec in registry.customer_ties()]


CUSTOMER_PROPERTIES = ("segment", "status", "customer_since", "birth_date", "consent_marketing", "cluster_id")
PRODUCT_PROPERTIES = ("name", "category", "min_age", "segments", "exclusive_with")
ACCOUNT_PROPERTIES = ("balances", "opened", "closed", "status")


def read_frames(store: GraphStore, as_of: date | None = None, progress: ReadProgress | None = None) -> GraphFrames:
    """Read customers, accounts, products, holdings, customer ties and interaction dates from ``store``.

    Through :meth:`GraphStore.columns`: only the properties analytics uses, as columns, and ties as row
    numbers, so that the embedded store makes no Python object per node or tie (a record per customer,
    with every property analyze wrote on it, was most of this step's time and memory)."""
    step = progress or (lambda _name: None)
    registry = store.registry
    tie_types = sorted(customer_tie_types(registry), key=lambda tie_type: tie_type.value)
    step("customers")
    nodes, ties = store.columns(
        {
            NodeLabel.CUSTOMER: CUSTOMER_PROPERTIES,
            NodeLabel.PRODUCT: PRODUCT_PROPERTIES,
            NodeLabel.ACCOUNT: ACCOUNT_PROPERTIES,
            NodeLabel.INTERACTION: ("at",),
        },
        {
            TieType.OF_PRODUCT: (),
            TieType.OWNS: ("role",),
            TieType.WITH: (),
            **{tie_type: () for tie_type in tie_types},
        },
    )
    customer_table = nodes.pop(NodeLabel.CUSTOMER)
    customers = pd.DataFrame(
        {
            "id": _objects(customer_table, "id"),
            "kind": _objects(customer_table, "kind"),
            "segment": _objects(customer_table, "segment"),
            "status": _or(_objects(customer_table, "status"), "active"),
            "customer_since": _objects(customer_table, "customer_since"),
            "birth_date": _objects(customer_table, "birth_date"),
            "consent_marketing": _is_true(customer_table, "consent_marketing"),
            "cluster_id": _objects(customer_table, "cluster_id"),
        }
    )
    del customer_table

    step("products")
    product_table = nodes.pop(NodeLabel.PRODUCT)
    product_ids = _objects(product_table, "id")
    # Row by row, as before: a handful of products, whose columns pandas types from their values.
    products = pd.DataFrame(
        list(zip(product_ids, *(_objects(product_table, name) for name in PRODUCT_PROPERTIES), strict=True)),
        columns=["product_id", *PRODUCT_PROPERTIES],
    ).set_index("product_id")
    del product_table

    step("accounts")
    account_table = nodes.pop(NodeLabel.ACCOUNT)
    balance_values, balance_counts = _float_lists(account_table, "balances")
    balances = right_aligned(balance_values, balance_counts)
    del balance_values
    closed_on = _objects(account_table, "closed")
    closed = (_objects(account_table, "status") == "closed") | np.array([bool(value) for value in closed_on], bool)

    step("holdings")
    of_product = ties.pop(TieType.OF_PRODUCT)
    # An account of two products keeps the one of the larger id, as reading its ties in order did.
    account_rows, product_rows = _ends(of_product)
    last = np.ones(len(account_rows), dtype=bool)
    last[:-1] = account_rows[1:] != account_rows[:-1]
    product_of = np.full(account_table.num_rows, "", dtype=object)
    product_of[account_rows[last]] = product_ids[product_rows[last]]
    categories = products["category"].to_dict()
    accounts = pd.DataFrame(
        {
            "id": _objects(account_table, "id"),
            "product_id": product_of,
            "category": [categories.get(product) or "" for product in product_of],
            "closed": closed,
            "opened": _days(_objects(account_table, "opened")),
            "closed_on": _days(closed_on),
        }
    )
    del account_table
    owns = ties.pop(TieType.OWNS)
    owner_customer, owner_account = _ends(owns)
    owning = np.array([(role or "owner") in OWNING_ROLES for role in _objects(owns, "role")], dtype=bool)
    owner_customer, owner_account = owner_customer[owning], owner_account[owning]

    step("ties")
    weights = registry.weights()
    present = [tie_type for tie_type in tie_types if ties[tie_type].num_rows]
    parts = [_ends(ties.pop(tie_type)) for tie_type in present]
    sources = np.concatenate([part[0] for part in parts]) if parts else np.zeros(0, np.int64)
    targets = np.concatenate([part[1] for part in parts]) if parts else np.zeros(0, np.int64)
    codes = np.repeat(np.arange(len(present)), [len(part[0]) for part in parts])
    type_array = np.array([tie_type.value for tie_type in present], dtype=str)[codes]
    tie_weight = np.array([weights[tie_type.value] for tie_type in present], dtype=np.float64)[codes]

    step("interactions")
    interaction_rows, interaction_customer = _ends(ties.pop(TieType.WITH))
    interaction_dates = _objects(nodes.pop(NodeLabel.INTERACTION), "at")[interaction_rows]
    at = pd.to_datetime(pd.Series(interaction_dates, dtype="object"), errors="coerce", utc=True)
    at_days = at.dt.tz_localize(None).to_numpy(dtype="datetime64[D]")
    valid = ~np.isnat(at_days)

    frames_as_of = as_of or _data_date(customers, accounts, at_days[valid])
    return GraphFrames(
        as_of=frames_as_of,
        customers=customers,
        accounts=accounts,
        balances=balances,
        owner_customer=owner_customer,
        owner_account=owner_account,
        tie_source=sources,
        tie_target=targets,
        tie_type=type_array,
        tie_weight=tie_weight,
        interaction_customer=interaction_customer[valid],
        interaction_at=at_days[valid],
        products=products,
    )


def _ends(ties: pa.Table) -> tuple[IntArray, IntArray]:
    """The (source, target) rows of a :meth:`GraphStore.columns` tie table, as int64."""
    return tuple(  # type: ignore[return-value]
        np.asarray(ties.column(end).to_numpy(), dtype=np.int64) for end in ("source", "target")
    )


def _objects(table: pa.Table, name: str) -> NDArray[np.object_]:
    """A column's values as Python objects (None where a row lacks it), as reading each node's properties
    gave them; a dictionary-encoded column's rows share its few words."""
    field, column = table.schema.field(name), one_array(table.column(name))
    if pa.types.is_dictionary(column.type) and not is_json(field):
        words = np.empty(len(column.dictionary) + 1, dtype=object)
        words[:-1] = column.dictionary.to_pylist()
        codes = column.indices.fill_null(len(column.dictionary)).to_numpy(zero_copy_only=False)
        return words[codes]
    values = np.empty(len(column), dtype=object)
    values[:] = plain_values(field, column)
    return values


def _or(values: NDArray[np.object_], default: str) -> NDArray[np.object_]:
    """``value or default`` for each value."""
    return np.array([value or default for value in values], dtype=object)


def _is_true(table: pa.Table, name: str) -> BoolArray:
    """Whether each row's value is ``True`` itself (not merely truthy)."""
    column = one_array(table.column(name))
    if pa.types.is_boolean(column.type):
        return np.asarray(column.fill_null(False).to_numpy(zero_copy_only=False), dtype=bool)
    return np.array([value is True for value in _objects(table, name)], dtype=bool)


def _float_lists(table: pa.Table, name: str) -> tuple[FloatArray, IntArray]:
    """A column of number lists as their values end to end and each row's count (a missing list: none)."""
    field, column = table.schema.field(name), one_array(table.column(name))
    if (
        not is_json(field)
        and pa.types.is_list(column.type)
        and (pa.types.is_floating(column.type.value_type) or pa.types.is_integer(column.type.value_type))
        and not pc.list_flatten(column).null_count
    ):
        counts = pc.list_value_length(column).fill_null(0).to_numpy(zero_copy_only=False).astype(np.int64)
        values = pc.list_flatten(column).cast(pa.float64()).to_numpy(zero_copy_only=False)
        return np.asarray(values, dtype=np.float64), counts
    # Lists mixing ints and floats (kept as JSON) or anything else: value by value, as a record gave them.
    lists = [value or [] for value in _objects(table, name)]
    counts = np.array([len(value) for value in lists], dtype=np.int64)
    return np.array([float(item) for value in lists for item in value], dtype=np.float64), counts


def _days(values: NDArray[np.object_]) -> NDArray[np.datetime64]:
    return pd.to_datetime(pd.Series(values, dtype="object"), errors="coerce").to_numpy(dtype="datetime64[D]")


def right_aligned(values: FloatArray, counts: IntArray) -> FloatArray:
    """(rows, months) matrix of rows given end to end (``counts[i]`` values for row ``i``), each right-aligned
    so that every row's last value is in the last column; zeros before it. At least one column."""
    months = max(int(counts.max()) if len(counts) else 1, 1)
    matrix = np.zeros((len(counts), months))
    ends = np.cumsum(counts)
    for row, (count, end) in enumerate(zip(counts.tolist(), ends.tolist(), strict=True)):
        if count:
            matrix[row, months - count :] = values[end - count : end]
    return matrix


def _data_date(customers: pd.DataFrame, accounts: pd.DataFrame, interactions: NDArray[np.datetime64]) -> date:
    """The latest date the data mention, never after today: the day the data describe."""
    today = np.datetime64(date.today(), "D")
    since = pd.to_datetime(customers["customer_since"], errors="coerce").to_numpy(dtype="datetime64[D]")
    candidates = [since, accounts["opened"].to_numpy(), accounts["closed_on"].to_numpy(), interactions]
    latest = [np.nanmax(values[~np.isnat(values)]) for values in candidates if (~np.isnat(values)).any()]
    if not latest:
        return date.today()
    return min(max(latest), today).astype("datetime64[D]").item()

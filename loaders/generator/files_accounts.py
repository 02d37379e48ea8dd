"""Product and account files: core deposits (GBK), card accounts, wealth holdings (xlsx), loans, guarantees.

Every account file feeds three mapping sources: the Account nodes, OWNS (customer -> account) and
OF_PRODUCT (account -> product). A bad account row therefore also leaves its two ties without an end:
those sources must report it as ``orphan``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from graph.model import TieType
from loaders.generator import bank
from loaders.generator.badrows import Defect, Fault, KeyMaker, inject, set_cell, with_fresh_keys, wrong_check
from loaders.generator.common import compact_dates, iso_dates, padded, take
from loaders.generator.export import Row, SourceFile
from loaders.generator.files_customers import card_keys, col
from loaders.generator.people import digits_of
from loaders.generator.population import Bank
from loaders.identifiers import Reason

CATEGORY_CODES = {
    "deposit": "01",
    "investment": "02",
    "insurance": "03",
    "credit": "04",
    "loan": "05",
    "payroll": "06",
    "fx": "07",
}
PRODUCT_ID_PREFIX = "product:"  # Product node ids; OF_PRODUCT ends and exclusive_with items use it
ISO_NUMERIC = ("156", "840", "978", "344", "392")
_LUHN_DOUBLE = np.array([0, 2, 4, 6, 8, 1, 3, 5, 7, 9])


def products() -> SourceFile:
    header = ["prod_cd", "prod_nm", "prod_cat_cd", "min_age", "apl_cust_seg", "excl_prod_cd"]
    exclusive: dict[str, list[str]] = {}
    for first, second in bank.EXCLUSIVE_WITH:
        exclusive.setdefault(first, []).append(second)
        exclusive.setdefault(second, []).append(first)
    rows = [
        [
            p.code,
            p.name,
            CATEGORY_CODES[p.category],
            str(p.min_age),
            "|".join(p.segments),
            "|".join(exclusive.get(p.code, [])),
        ]
        for p in bank.PRODUCTS
    ]
    mapping = {
        "name": "core_products",
        "system": "core",
        "path": "core/products.csv",
        "format": "csv",
        "encoding": "gbk",
        "node": "Product",
        "key": ["prod_cd"],
        "id_prefix": PRODUCT_ID_PREFIX,
        "columns": {
            "code": col("prod_cd"),
            "name": col("prod_nm", required=True),
            "category": col("prod_cat_cd", map={code: name for name, code in CATEGORY_CODES.items()}),
            "min_age": col("min_age", type="integer"),
            "segments": col("apl_cust_seg", type="text_list", format="|"),
            "exclusive_with": col("excl_prod_cd", type="text_list", format="|", prefix=PRODUCT_ID_PREFIX),
        },
    }
    return SourceFile("core/products.csv", header, rows, len(rows), [mapping], "csv", "gbk")


@dataclass(frozen=True)
class Layout:
    """How one system writes its accounts."""

    system: str
    name: str  # mapping source name stem, e.g. core_accounts
    path: str
    format: str
    encoding: str
    prefix: str  # node id prefix
    key_prefix: str  # account numbers start with it
    header: tuple[str, ...]  # key, owner, ..., opened, [maturity], closed, status, [principal], balances
    opened: str
    currency: str
    date_format: str
    status: tuple[str, str]  # codes for active, closed
    separator: str  # of the balance list

    @property
    def key(self) -> str:
        return self.header[0]

    @property
    def owner(self) -> str:
        return self.header[1]


LAYOUTS = {
    "core": Layout(
        "core",
        "core_accounts",
        "core/accounts.csv",
        "csv",
        "gbk",
        "core:",
        "6217",
        ("acct_no", "cust_no", "own_typ_cd", "prod_cd", "ccy_cd", "open_dt", "clos_dt", "acct_stat_cd", "mon_end_bal"),
        "open_dt",
        "ccy_cd",
        "%Y%m%d",
        ("0", "1"),
        ";",
    ),
    "cards": Layout(
        "cards",
        "card_accounts",
        "cards/card_acct.tsv",
        "tsv",
        "utf-8",
        "cards:",
        "CA",
        (
            "card_acct_no",
            "card_cust_id",
            "card_no",
            "prod_cd",
            "crd_lmt",
            "ccy",
            "actv_dt",
            "clos_dt",
            "card_stat_cd",
            "stmt_bal_hist",
        ),
        "actv_dt",
        "ccy",
        "%Y-%m-%d",
        ("N", "C"),
        "|",
    ),
    "wealth": Layout(
        "wealth",
        "wealth_holdings",
        "wealth/holdings.xlsx",
        "xlsx",
        "utf-8",
        "wealth:",
        "WM",
        ("posn_id", "cust_no", "prod_cd", "ccy", "buy_date", "redeem_date", "status", "mkt_val_hist"),
        "buy_date",
        "ccy",
        "%Y/%m/%d",
        ("持有", "已赎回"),
        ";",
    ),
    "loans": Layout(
        "loans",
        "loan_contracts",
        "loans/loan_contract.csv",
        "csv",
        "utf-8",
        "loans:",
        "LN",
        (
            "loan_acct_no",
            "cust_no",
            "prod_cd",
            "ccy_cd",
            "disb_dt",
            "mtr_dt",
            "clos_dt",
            "loan_stat_cd",
            "prin_amt",
            "os_bal_hist",
        ),
        "disb_dt",
        "ccy_cd",
        "%Y-%m-%d",
        ("10", "40"),
        ";",
    ),
}
SYSTEM_OF = np.array([list(LAYOUTS).index(p.system) for p in bank.PRODUCTS])
_CURRENCY_TEXT = {"core": ISO_NUMERIC, "wealth": ("人民币", "美元", "欧元", "港币", "日元")}


def _dates(layout: Layout, days: np.ndarray) -> list[str]:
    if layout.date_format == "%Y%m%d":
        return compact_dates(days)
    text = iso_dates(days)
    return [t.replace("-", "/") for t in text] if layout.date_format == "%Y/%m/%d" else text


def card_numbers(rng: np.random.Generator, count: int) -> list[str]:
    """Distinct 16-digit UnionPay credit card numbers (BIN 625906) with a valid Luhn digit."""
    # Distinct without drawing from a billion: one random number inside each of ``count`` equal slots.
    slot = 10**9 // max(count, 1)
    body = 625906 * 10**9 + rng.permutation(count).astype(np.int64) * slot + rng.integers(0, slot, count)
    digits = digits_of(body)[:, 2:]  # the 15 digits of the body
    # Luhn: from the right of the body, every first, third, ... digit is doubled (the check digit follows).
    doubled = _LUHN_DOUBLE[digits[:, ::-1][:, 0::2]].sum(axis=1) + digits[:, ::-1][:, 1::2].sum(axis=1)
    check = (10 - doubled % 10) % 10
    return [f"{b}{c}" for b, c in zip(body.tolist(), check.tolist(), strict=True)]


def account_file(data: Bank, system: str, rng: np.random.Generator) -> SourceFile:
    """The accounts of one system, with their bad rows, feeding nodes, OWNS and OF_PRODUCT."""
    layout = LAYOUTS[system]
    rows_of = np.flatnonzero(SYSTEM_OF[data.accounts.product] == list(LAYOUTS).index(system))
    accounts = data.accounts.subset(rows_of)
    n = len(accounts)
    owner_key: list[str]
    if system == "cards":
        holders, keys = card_keys(data)
        lookup = dict(zip(holders.tolist(), keys, strict=True))
        owner_key = [lookup[o] for o in accounts.owner.tolist()]
    else:
        owner_key = take(data.cust_no, accounts.owner)
    keys = padded(rng.permutation(n) + 10**11, 15 if system == "core" else 12, layout.key_prefix)
    product = take(bank.CODES, accounts.product)
    opened, closed = _dates(layout, accounts.opened), _dates(layout, accounts.closed)
    is_closed = ~np.isnat(accounts.closed)
    status = [layout.status[1] if c else layout.status[0] for c in is_closed.tolist()]
    currency = take(list(_CURRENCY_TEXT.get(system, bank.CURRENCIES)), accounts.currency)
    middle: list[list[str]]
    if system == "core":
        middle = [["1"] * n, product, currency]
    elif system == "cards":
        limit = [f"{v:.2f}" for v in np.round(accounts.level * 5, -3).clip(5000).tolist()]
        middle = [card_numbers(rng, n), product, limit, currency]
    elif system == "wealth":
        middle = [product, currency]
    else:
        middle = [product, currency]
    columns: list[list[str]] = [keys, owner_key, *middle, opened]
    if system == "loans":
        term_years = np.select(
            [accounts.product == bank.INDEX["L601"]], [rng.integers(20, 31, n)], rng.integers(3, 6, n)
        )
        columns.append(_dates(layout, accounts.opened + (term_years * 365).astype("m8[D]")))
    columns += [closed, status]
    if system == "loans":
        columns.append([f"{v:.2f}" for v in accounts.level.tolist()])
    stream = bank.balance_rows(data.seed, system, accounts)
    separator = layout.separator

    def rows() -> Iterator[Row]:
        for row, balances in zip(zip(*columns, strict=True), stream, strict=True):
            yield [*row, balances if separator == ";" else balances.replace(";", separator)]

    sample_balance = separator.join(["1000.0"] * 24)
    bad = inject(rng, n, lambda i: [column[i] for column in columns] + [sample_balance], _defects(layout, data.n))
    return SourceFile(
        layout.path,
        list(layout.header),
        rows(),
        n,
        _mapping(layout),
        layout.format,
        layout.encoding,
        bad,
        sheet="持仓明细" if system == "wealth" else "Sheet1",
    )


def _defects(layout: Layout, customers: int) -> list[Defect]:
    node, owners, of_product = layout.name, f"{layout.name}_owners", f"{layout.name}_products"
    at = list(layout.header).index
    cards = layout.system == "cards"
    orphan_owner = KeyMaker(2 * 10**9 + customers, 10 if cards else 12, "KH" if cards else "")
    cascade = {owners: Fault.ORPHAN, of_product: Fault.ORPHAN}
    status, balances = layout.header[-2] if layout.system != "loans" else "loan_stat_cd", layout.header[-1]
    unknown = "冻结" if layout.system == "wealth" else "9"
    bad_day = "20230230" if layout.date_format == "%Y%m%d" else "2023-02-30"
    defects = [
        Defect(layout.owner, set_cell(1, lambda _k: orphan_owner()), {owners: Fault.ORPHAN}, "owner does not exist"),
        Defect(
            status, set_cell(at(status), unknown), {node: Fault.UNKNOWN_CODE, **cascade}, "status code not in the map"
        ),
        Defect(layout.opened, set_cell(at(layout.opened), bad_day), {node: Fault.BAD_DATE, **cascade}, "30 February"),
        Defect(
            balances,
            set_cell(at(balances), layout.separator.join(["12.50", "n/a"] * 12)),
            {node: Fault.BAD_NUMBER, **cascade},
            "balance list element 'n/a'",
        ),
    ]
    if cards:
        defects.append(
            Defect(
                "card_no",
                lambda row, _k: row.__setitem__(2, wrong_check(row[2])),
                {node: Reason.BAD_CHECK_DIGIT, **cascade},
                "card number failing Luhn",
            )
        )
    fresh = KeyMaker(9 * 10**10, 15 if layout.system == "core" else 12, layout.key_prefix)
    return with_fresh_keys(defects, 0, fresh)


_CURRENCY_MAPS = {
    "core": dict(zip(ISO_NUMERIC, bank.CURRENCIES, strict=True)),
    "wealth": dict(zip(_CURRENCY_TEXT["wealth"], bank.CURRENCIES, strict=True)),
}


def _mapping(layout: Layout) -> list[dict[str, Any]]:
    """Three sources over the file: the account nodes, OWNS and OF_PRODUCT."""
    h = list(layout.header)
    common = {"system": layout.system, "path": layout.path, "format": layout.format, "encoding": layout.encoding}
    if layout.format == "xlsx":
        common["sheet"] = "持仓明细"
    date = {"type": "date", "format": layout.date_format}
    columns: dict[str, Any] = {
        "opened": col(layout.opened, required=True, **date),
        "closed": col(h[h.index(layout.opened) + (2 if layout.system == "loans" else 1)], **date),
        "status": col(
            h[h.index(layout.opened) + (3 if layout.system == "loans" else 2)],
            map={layout.status[0]: "active", layout.status[1]: "closed"},
            required=True,
        ),
        "currency": col(layout.currency, map=_CURRENCY_MAPS.get(layout.system, {c: c for c in bank.CURRENCIES})),
        "balances": col(h[-1], type="float_list", format=layout.separator),
    }
    if layout.system == "cards":
        columns["card_number"] = col("card_no", type="card_number", required=True)
        columns["credit_limit"] = col("crd_lmt", type="amount")
    if layout.system == "loans":
        columns["maturity"] = col("mtr_dt", **date, expect_future=True)
        columns["principal"] = col("prin_amt", type="amount")
    # Wealth and loans keep the core customer number; the card system has its own customer key.
    owner_end: dict[str, Any] = {"from": layout.owner, "system": "cards" if layout.system == "cards" else "core"}
    account_end = {"from": layout.key, "prefix": layout.prefix}
    owns: dict[str, Any] = {
        "name": f"{layout.name}_owners",
        **common,
        "tie": {"type": "OWNS"},
        "source": owner_end,
        "target": account_end,
    }
    if layout.system == "core":
        owns["columns"] = {"role": col("own_typ_cd", map={"1": "owner", "2": "joint", "3": "authorized"})}
    return [
        {
            "name": layout.name,
            **common,
            "node": "Account",
            "key": [layout.key],
            "id_prefix": layout.prefix,
            "columns": columns,
        },
        owns,
        {
            "name": f"{layout.name}_products",
            **common,
            "tie": {"type": "OF_PRODUCT"},
            "source": account_end,
            "target": {"from": "prod_cd", "prefix": PRODUCT_ID_PREFIX},
        },
    ]


def guarantees(data: Bank, rng: np.random.Generator) -> SourceFile:
    """Guarantee contracts between customers (loans system), including circles."""
    ties = data.ties[TieType.GUARANTEES]
    n = len(ties)
    header = ["grnt_ctr_no", "grntr_cust_no", "borr_cust_no", "grnt_amt", "sign_dt"]
    signed = data.since[ties.target] + rng.integers(30, 900, n).astype("m8[D]")
    signed = np.minimum(signed, np.datetime64("2024-12-01"))
    columns = [
        padded(rng.permutation(n) + 10**9, 12, "DB"),
        take(data.cust_no, ties.source),
        take(data.cust_no, ties.target),
        ties.props["amount"],
        iso_dates(signed),
    ]
    name = "loan_guarantees"
    orphan = KeyMaker(2 * 10**9 + data.n + 900_000)
    defects = [
        Defect(
            "grntr_cust_no",
            lambda row, _k: row.__setitem__(1, row[2]),
            {name: Fault.SELF_TIE},
            "guarantor is the borrower",
        ),
        Defect("borr_cust_no", set_cell(2, lambda _k: orphan()), {name: Fault.ORPHAN}, "borrower does not exist"),
    ]
    bad = inject(rng, n, lambda i: [c[i] for c in columns], with_fresh_keys(defects, 0, KeyMaker(9 * 10**9, 12, "DB")))
    mapping = {
        "name": name,
        "system": "loans",
        "path": "loans/guarantee.csv",
        "format": "csv",
        "encoding": "utf-8",
        "tie": {"type": "GUARANTEES"},
        "source": {"from": "grntr_cust_no", "system": "core"},
        "target": {"from": "borr_cust_no", "system": "core"},
        "columns": {
            "amount": col("grnt_amt", type="amount"),
            "signed": col("sign_dt", type="date", format="%Y-%m-%d"),
            "contract_no": col("grnt_ctr_no"),
        },
    }
    return SourceFile("loans/guarantee.csv", header, zip(*columns, strict=True), n, [mapping], "csv", "utf-8", bad)

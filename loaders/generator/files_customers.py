"""Customer files: the core system's person and company masters (GBK) and the card system's customer file.

The card system keeps its own key and formats: names with a space, +86 phones, lowercase x or legacy
15-digit IDs, YYMMDD birth dates, and some records without any ID number (a few with typos in the name).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from loaders.generator import bank, people
from loaders.generator.badrows import (
    Defect,
    Fault,
    KeyMaker,
    full_width,
    inject,
    set_cell,
    with_fresh_keys,
    wrong_check,
)
from loaders.generator.common import AS_OF, child_rng, compact_dates, iso_dates, padded, take, yyyymmdd_int
from loaders.generator.companies import INDUSTRIES
from loaders.generator.export import Normalised, SourceFile
from loaders.generator.population import Bank
from loaders.identifiers import Reason

SEGMENT_CODES = ("01", "02", "03", "04")  # retail, private, corporate, sme
NORMALISED_SHARE = 0.003


def col(source: str, **options: Any) -> dict[str, Any]:
    """A mapping column entry."""
    return {"from": source, **options}


CONSENT = col("mkt_consent_flg", map={"Y": True, "N": False})
STATUS = col("cust_stat_cd", map={"A": "active", "C": "churned"})


def core_persons(data: Bank, rng: np.random.Generator) -> SourceFile:
    n = data.n_person
    header = [
        "cust_no",
        "cust_nm",
        "cert_type_cd",
        "cert_no",
        "gender_cd",
        "birth_dt",
        "mobile_no",
        "city_nm",
        "addr",
        "cust_seg_cd",
        "mkt_consent_flg",
        "open_dt",
        "cust_stat_cd",
    ]
    address = people.Address(take(people.CITY_NAMES, data.city[:n]), data.district[:n], data.street[:n])
    columns = [
        data.cust_no[:n],
        data.name[:n],
        ["101"] * n,
        list(data.resident_id),
        ["1" if m else "2" for m in data.male],
        compact_dates(data.born),
        list(data.mobile),
        address.city,
        address.core(data.city[:n]),
        take(list(SEGMENT_CODES), data.segment[:n]),
        ["Y" if c else "N" for c in data.consent[:n]],
        compact_dates(data.since[:n]),
        ["C" if c else "A" for c in data.churn.churned[:n]],
    ]
    name = "core_customers_person"
    normalised = []
    for field in ("cert_no", "mobile_no"):
        index = header.index(field)
        for row in np.sort(rng.choice(n, size=max(1, int(n * NORMALISED_SHARE)), replace=False)).tolist():
            columns[index][row] = full_width(columns[index][row])
            normalised.append(Normalised(row, name, field, "full-width digits; valid after half-width normalisation"))
    keys = KeyMaker(10**9 + data.n + 1000)
    at = header.index
    defects = [
        Defect(
            "cert_no",
            set_cell(at("cert_no"), lambda k: wrong_check(data.resident_id[k % n])),
            {name: Reason.BAD_CHECK_DIGIT},
            "resident id check digit changed",
        ),
        Defect(
            "mobile_no",
            set_cell(at("mobile_no"), lambda k: f"2{k % 10**10:010d}"),
            {name: Reason.BAD_PREFIX},
            "mobile starting with 2",
        ),
        Defect(
            "mobile_no",
            set_cell(at("mobile_no"), lambda k: f"13{k % 10**8:08d}"),
            {name: Reason.BAD_LENGTH},
            "mobile of 10 digits",
        ),
        Defect(
            "cust_seg_cd",
            set_cell(at("cust_seg_cd"), "07"),
            {name: Fault.UNKNOWN_CODE},
            "segment code 07 is not in the map",
        ),
        Defect(
            "birth_dt",
            set_cell(at("birth_dt"), lambda k: f"{1960 + k % 40}0230"),
            {name: Fault.BAD_DATE},
            "30 February",
        ),
        Defect("cust_nm", set_cell(at("cust_nm"), ""), {name: Fault.MISSING_VALUE}, "empty required name"),
    ]
    bad = inject(rng, n, lambda i: [column[i] for column in columns], with_fresh_keys(defects, 0, keys))
    mapping = {
        "name": name,
        "system": "core",
        "path": "core/cust_person.csv",
        "format": "csv",
        "encoding": "gbk",
        "node": "Person",
        "key": ["cust_no"],
        "columns": {
            "name": col("cust_nm", required=True),
            "resident_id": col("cert_no", type="resident_id", required=True),
            "gender": col("gender_cd", map={"1": "M", "2": "F"}),
            "birth_date": col("birth_dt", type="date", format="%Y%m%d"),
            "phone": col("mobile_no", type="mobile"),
            "city": col("city_nm"),
            "address": col("addr"),
            "segment": col("cust_seg_cd", map={"01": "retail", "02": "private"}),
            "consent_marketing": CONSENT,
            "customer_since": col("open_dt", type="date", format="%Y%m%d"),
            "status": STATUS,
        },
    }
    return SourceFile(
        "core/cust_person.csv", header, zip(*columns, strict=True), n, [mapping], "csv", "gbk", bad, normalised
    )


def core_companies(data: Bank, rng: np.random.Generator) -> SourceFile:
    n0, n = data.n_person, data.n - data.n_person
    firms = data.firms
    header = [
        "cust_no",
        "cust_nm",
        "uscc_cd",
        "indus_cd",
        "reg_cap_amt",
        "estb_dt",
        "city_nm",
        "reg_addr",
        "cust_seg_cd",
        "mkt_consent_flg",
        "open_dt",
        "cust_stat_cd",
    ]
    address = people.Address(take(people.CITY_NAMES, data.city[n0:]), data.district[n0:], data.street[n0:])
    columns = [
        data.cust_no[n0:],
        firms.name,
        firms.credit_code,
        take([i.code for i in INDUSTRIES], firms.industry),
        [f"{c:.2f}" for c in firms.capital.tolist()],
        compact_dates(firms.established),
        address.city,
        address.core(data.city[n0:]),
        take(list(SEGMENT_CODES), data.segment[n0:]),
        ["Y" if c else "N" for c in data.consent[n0:]],
        compact_dates(data.since[n0:]),
        ["C" if c else "A" for c in data.churn.churned[n0:]],
    ]
    name = "core_customers_company"
    keys = KeyMaker(10**9 + data.n + 500_000)
    at = header.index
    defects = [
        Defect(
            "uscc_cd",
            set_cell(at("uscc_cd"), lambda k: wrong_check(firms.credit_code[k % n])),
            {name: Reason.BAD_CHECK_DIGIT},
            "credit code check character changed",
        ),
        Defect(
            "indus_cd", set_cell(at("indus_cd"), "Z"), {name: Fault.UNKNOWN_CODE}, "industry code Z is not in the map"
        ),
        Defect(
            "reg_cap_amt", set_cell(at("reg_cap_amt"), "五百万"), {name: Fault.BAD_NUMBER}, "capital written in words"
        ),
    ]
    bad = inject(rng, n, lambda i: [column[i] for column in columns], with_fresh_keys(defects, 0, keys))
    mapping = {
        "name": name,
        "system": "core",
        "path": "core/cust_corp.csv",
        "format": "csv",
        "encoding": "gbk",
        "node": "Company",
        "key": ["cust_no"],
        "columns": {
            "name": col("cust_nm", required=True),
            "credit_code": col("uscc_cd", type="credit_code", required=True),
            "industry": col("indus_cd", map={i.code: i.name for i in INDUSTRIES}),
            "registered_capital": col("reg_cap_amt", type="amount"),
            "established": col("estb_dt", type="date", format="%Y%m%d"),
            "city": col("city_nm"),
            "address": col("reg_addr"),
            "segment": col("cust_seg_cd", map={"03": "corporate", "04": "sme"}),
            "consent_marketing": CONSENT,
            "customer_since": col("open_dt", type="date", format="%Y%m%d"),
            "status": STATUS,
        },
    }
    return SourceFile("core/cust_corp.csv", header, zip(*columns, strict=True), n, [mapping], "csv", "gbk", bad)


def card_holders(data: Bank) -> np.ndarray:
    """Persons with a credit card account (these are the card system's customers), in customer order."""
    return np.unique(data.accounts.owner[data.accounts.product == bank.INDEX["C501"]])


def card_keys(data: Bank) -> tuple[np.ndarray, list[str]]:
    """Card holders (internal indices) and their card-system customer keys."""
    holders = card_holders(data)
    return holders, padded(child_rng(data.seed, "card-keys").permutation(len(holders)) + 3 * 10**9, 10, "KH")


def card_customers(data: Bank, rng: np.random.Generator) -> tuple[SourceFile, list[dict[str, Any]]]:
    """The card system's customers and the truth of which core customer each one is."""
    holders, card_ids = card_keys(data)
    n = len(holders)
    ids = take(data.resident_id, holders)
    surnames_len = [1 + (data.name[h][:2] in people.SURNAMES) for h in holders.tolist()]
    no_id = rng.random(n) < 0.15
    typo = no_id & (rng.random(n) < 0.2)
    legacy = (data.born[holders] < np.datetime64("2000-01-01")) & (rng.random(n) < 0.2)
    name_style = rng.random(n)
    phone_style = rng.random(n)
    names, id_nos, phones, truth = [], [], [], []
    for i, h in enumerate(holders.tolist()):
        name = data.name[h]
        if typo[i]:
            name = people.typo(rng, name)
        cut = surnames_len[i]
        if name_style[i] < 0.25:
            name = f"{name[:cut]} {name[cut:]}"
        elif name_style[i] < 0.30:
            name = f"{name[:cut]}\u3000{name[cut:]}"
        names.append(name)
        id_nos.append("" if no_id[i] else people.legacy_id(ids[i]) if legacy[i] else ids[i].replace("X", "x"))
        mobile = data.mobile[h]
        phones.append(
            f"+86 {mobile[:3]} {mobile[3:7]} {mobile[7:]}"
            if phone_style[i] < 0.4
            else f"+86{mobile}"
            if phone_style[i] < 0.7
            else mobile
        )
        truth.append(
            {
                "card_cust_id": card_ids[i],
                "cust_no": data.cust_no[h],
                "no_id": bool(no_id[i]),
                "name_typo": bool(typo[i]),
                "legacy_id": bool(legacy[i] and not no_id[i]),
            }
        )
    opened = data.accounts.opened[data.accounts.product == bank.INDEX["C501"]]
    first_card = np.full(data.n, AS_OF)
    np.minimum.at(first_card, data.accounts.owner[data.accounts.product == bank.INDEX["C501"]], opened)
    header = ["card_cust_id", "cust_name", "id_no", "sex", "dob", "mobile", "addr", "open_date"]
    columns = [
        card_ids,
        names,
        id_nos,
        ["M" if data.male[h] else "F" for h in holders.tolist()],
        [f"{v % 1000000:06d}" for v in yyyymmdd_int(data.born[holders]).tolist()],
        phones,
        [f"{people.CITY_NAMES[data.city[h]]}市 {data.district[h]}{data.street[h]}" for h in holders.tolist()],
        iso_dates(first_card[holders]),
    ]
    name = "card_customers"
    normalised = []
    for row in np.sort(rng.choice(n, size=min(n, max(1, int(n * NORMALISED_SHARE))), replace=False)).tolist():
        columns[5][row] = full_width(columns[5][row])
        normalised.append(Normalised(row, name, "mobile", "full-width digits and plus sign"))
    keys = KeyMaker(4 * 10**9, 10, "KH")
    spoil_id = set_cell(2, lambda k: wrong_check(ids[k % n]))
    defects = [Defect("id_no", spoil_id, {name: Reason.BAD_CHECK_DIGIT}, "resident id check digit changed")]
    bad = inject(rng, n, lambda i: [column[i] for column in columns], with_fresh_keys(defects, 0, keys))
    mapping = {
        "name": name,
        "system": "cards",
        "path": "cards/card_cust.tsv",
        "format": "tsv",
        "encoding": "utf-8",
        "node": "Person",
        "key": ["card_cust_id"],
        "columns": {
            "name": col("cust_name", required=True),
            "resident_id": col("id_no", type="resident_id"),
            "gender": col("sex", map={"M": "M", "F": "F"}),
            "birth_date": col("dob", type="date", format="YYMMDD"),
            "phone": col("mobile", type="mobile"),
            "address": col("addr"),
            "customer_since": col("open_date", type="date", format="%Y-%m-%d"),
        },
    }
    return SourceFile(
        "cards/card_cust.tsv", header, zip(*columns, strict=True), n, [mapping], "tsv", "utf-8", bad, normalised
    ), truth

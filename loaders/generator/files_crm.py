"""CRM files: branches, relationship managers and their books, contact logs, referrals, family and corporate ties.

Relations between customers are code-mapped (``rel_cd``) as a CRM keeps them; all refer to core customer
numbers.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from graph.model import TieType
from loaders.generator.badrows import Defect, Fault, KeyMaker, inject, set_cell, with_fresh_keys
from loaders.generator.common import AS_OF, MONTH_ENDS, WINDOW_START, Ties, iso_dates, padded, take
from loaders.generator.export import SourceFile
from loaders.generator.files_customers import col
from loaders.generator.people import CITY_NAMES
from loaders.generator.population import Bank

FAMILY_CODES = {"01": TieType.SPOUSE_OF, "02": TieType.PARENT_OF, "03": TieType.SIBLING_OF, "09": TieType.RELATIVE_OF}
CORPORATE_CODES = {
    "11": TieType.SHAREHOLDER_OF,
    "12": TieType.LEGAL_REP_OF,
    "13": TieType.DIRECTOR_OF,
    "14": TieType.EMPLOYED_BY,
    "15": TieType.SUBSIDIARY_OF,
    "16": TieType.SUPPLIES,
}
CHANNELS = {"01": "phone", "02": "visit", "03": "wechat", "04": "sms", "05": "branch"}
OUTCOMES = {"1": "interested", "2": "declined", "3": "follow_up", "4": "completed"}
SUMMARIES = [
    "客户咨询大额存单利率",
    "推荐理财产品到期续作",
    "介绍信用卡分期优惠",
    "回访贷款使用情况",
    "客户反映手机银行转账问题",
    "沟通代发工资业务",
    "客户有购房意向，介绍按揭贷款",
    "提醒定期存款到期",
    "推荐基金定投",
    "生日关怀问候",
    "了解企业经营及流水情况",
    "协助办理外汇结汇",
    "介绍保险保障方案",
]
LEAVING = "客户表示资金将转至他行"
SYSTEM = {"system": "crm", "format": "csv", "encoding": "utf-8"}


def _keys(prefix: str, count: int, width: int = 8) -> list[str]:
    return padded(np.arange(count) + 1, width, prefix)


def staff_files(data: Bank) -> list[SourceFile]:
    staff = data.staff
    branch_no = _keys("", len(staff.branch_name), 6)
    emp_no = _keys("", len(staff.manager_name), 8)
    branches = SourceFile(
        "crm/branch.csv",
        ["brch_no", "brch_nm", "city_nm"],
        zip(branch_no, staff.branch_name, take(CITY_NAMES, staff.branch_city), strict=True),
        len(branch_no),
        [
            {
                "name": "crm_branches",
                **SYSTEM,
                "path": "crm/branch.csv",
                "node": "Branch",
                "key": ["brch_no"],
                "id_prefix": "branch:",
                "columns": {"name": col("brch_nm", required=True), "city": col("city_nm")},
            }
        ],
    )
    managers = SourceFile(
        "crm/cust_mgr.csv",
        ["emp_no", "emp_nm", "brch_no"],
        zip(emp_no, staff.manager_name, take(branch_no, staff.manager_branch), strict=True),
        len(emp_no),
        [
            {
                "name": "crm_managers",
                **SYSTEM,
                "path": "crm/cust_mgr.csv",
                "node": "Manager",
                "key": ["emp_no"],
                "id_prefix": "manager:",
                "columns": {"name": col("emp_nm", required=True), "employee_no": col("emp_no")},
            },
            {
                "name": "crm_manager_branches",
                **SYSTEM,
                "path": "crm/cust_mgr.csv",
                "tie": {"type": "WORKS_AT"},
                "source": {"from": "emp_no", "prefix": "manager:"},
                "target": {"from": "brch_no", "prefix": "branch:"},
            },
        ],
    )
    book = staff.manages
    # The branch a book is kept at (the manager's) is where its customers bank: the simulation's branch shocks
    # hit them there, and the explorer draws it (BANKED_AT).
    book_branch = take(branch_no, staff.manager_branch[book.source])
    manages = SourceFile(
        "crm/mgr_cust_rel.csv",
        ["emp_no", "cust_no", "asgn_dt", "brch_no"],
        zip(take(emp_no, book.source), take(data.cust_no, book.target), book.props["since"], book_branch, strict=True),
        len(book),
        [
            {
                "name": "crm_manages",
                **SYSTEM,
                "path": "crm/mgr_cust_rel.csv",
                "tie": {"type": "MANAGES"},
                "source": {"from": "emp_no", "prefix": "manager:"},
                "target": {"from": "cust_no", "system": "core"},
                "columns": {"since": col("asgn_dt", type="date", format="%Y-%m-%d")},
            },
            {
                "name": "crm_customer_branches",
                **SYSTEM,
                "path": "crm/mgr_cust_rel.csv",
                "tie": {"type": "BANKED_AT"},
                "source": {"from": "cust_no", "system": "core"},
                "target": {"from": "brch_no", "prefix": "branch:"},
            },
        ],
    )
    return [branches, managers, manages]


def interactions(data: Bank, rng: np.random.Generator) -> SourceFile:
    """Contact logs of managers with their customers over the whole window (up to leaving, for churners).

    Spread over the window the balances cover, not only its last year: a log that starts a year before the
    export would make "any contact at all" mean "leaves soon" for every month-end before that year."""
    book = data.staff.manages
    is_company = book.target >= data.n_person
    count = rng.poisson(np.where(is_company, 2.5, 1.2))
    entry = np.repeat(np.arange(len(book)), count)
    customer, manager = book.target[entry], book.source[entry]
    n = len(entry)
    month = data.churn.month[customer]
    end = np.where(month < len(MONTH_ENDS), MONTH_ENDS[np.minimum(month, len(MONTH_ENDS) - 1)] - 20, AS_OF)
    start = np.maximum(WINDOW_START, data.since[customer])
    span = np.maximum((end - start).astype(np.int64), 1)
    day = end - (rng.random(n) * span).astype(np.int64).astype("m8[D]")
    seconds = rng.integers(9 * 3600, 18 * 3600, n)
    at = [
        f"{d} {s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}"
        for d, s in zip(iso_dates(day), seconds.tolist(), strict=True)
    ]
    summary = take(SUMMARIES, rng.integers(0, len(SUMMARIES), n))
    # Half of the churners' managers heard it coming: their latest note says the money is moving.
    leaving = (month < len(MONTH_ENDS)) & (rng.random(n) < 0.5)
    for i in np.flatnonzero(leaving).tolist():
        summary[i] = LEAVING
    outcome_code = rng.choice(["", "1", "2", "3", "4"], size=n, p=[0.2, 0.2, 0.2, 0.25, 0.15])
    due = np.where(outcome_code == "3", day + rng.integers(7, 31, n).astype("m8[D]"), np.datetime64("NaT"))
    header = ["cntct_id", "cust_no", "emp_no", "cntct_chnl_cd", "cntct_tm", "cntct_smry", "cntct_rslt_cd", "fllw_up_dt"]
    columns = [
        padded(rng.permutation(n) + 10**9, 12, "CT"),
        take(data.cust_no, customer),
        take(_keys("", len(data.staff.manager_name), 8), manager),
        rng.choice(list(CHANNELS), size=n).tolist(),
        at,
        summary,
        outcome_code.tolist(),
        iso_dates(due.astype("M8[D]")),
    ]
    name, with_customer, with_manager = "crm_interactions", "crm_interaction_customers", "crm_interaction_managers"
    cascade = {with_customer: Fault.ORPHAN, with_manager: Fault.ORPHAN}
    defects = [
        Defect(
            "cntct_chnl_cd", set_cell(3, "99"), {name: Fault.UNKNOWN_CODE, **cascade}, "channel code not in the map"
        ),
        Defect("fllw_up_dt", set_cell(7, "2024-13-01"), {name: Fault.BAD_DATE, **cascade}, "month 13"),
    ]
    bad = inject(rng, n, lambda i: [c[i] for c in columns], with_fresh_keys(defects, 0, KeyMaker(9 * 10**9, 12, "CT")))
    common = {**SYSTEM, "path": "crm/contact_log.csv"}
    interaction = {"from": "cntct_id", "prefix": "interaction:"}
    mapping = [
        {
            "name": name,
            **common,
            "node": "Interaction",
            "key": ["cntct_id"],
            "id_prefix": "interaction:",
            "columns": {
                "channel": col("cntct_chnl_cd", map=CHANNELS, required=True),
                "summary": col("cntct_smry"),
                "outcome": col("cntct_rslt_cd", map=OUTCOMES),
                "due": col("fllw_up_dt", type="date", format="%Y-%m-%d", expect_future=True),
                "at": col("cntct_tm", type="datetime", format="%Y-%m-%d %H:%M:%S", required=True),
            },
        },
        {
            "name": with_customer,
            **common,
            "tie": {"type": "WITH"},
            "source": interaction,
            "target": {"from": "cust_no", "system": "core"},
        },
        {
            "name": with_manager,
            **common,
            "tie": {"type": "LOGGED_BY"},
            "source": interaction,
            "target": {"from": "emp_no", "prefix": "manager:"},
        },
    ]
    return SourceFile("crm/contact_log.csv", header, zip(*columns, strict=True), n, mapping, bad=bad)


def _relation_file(
    data: Bank, rng: np.random.Generator, name: str, path: str, codes: dict[str, TieType], extra: dict[str, str]
) -> SourceFile:
    """Customer-to-customer ties of several types in one code-mapped file; ``extra`` maps property -> column."""
    parts: list[tuple[str, Ties]] = [(code, data.ties[tie_type]) for code, tie_type in codes.items()]
    source = np.concatenate([tie.source for _, tie in parts])
    target = np.concatenate([tie.target for _, tie in parts])
    code = np.concatenate([np.full(len(tie), c, dtype=object) for c, tie in parts]).tolist()
    extra_columns = [[value for _, tie in parts for value in tie.props.get(prop, [""] * len(tie))] for prop in extra]
    header = ["cust_no", "rel_cust_no", "rel_cd", *extra.values()]
    columns = [take(data.cust_no, source), take(data.cust_no, target), code, *extra_columns]
    n = len(source)
    orphan = KeyMaker(2 * 10**9 + data.n + 800_000)
    defects = [
        Defect(
            "rel_cust_no",
            lambda row, _k: row.__setitem__(1, row[0]),
            {name: Fault.SELF_TIE},
            "a customer related to itself",
        ),
        Defect("rel_cd", set_cell(2, "99"), {name: Fault.UNKNOWN_CODE}, "relation code not in the map"),
        Defect(
            "rel_cust_no", set_cell(1, lambda _k: orphan()), {name: Fault.ORPHAN}, "related customer does not exist"
        ),
    ]
    bad = inject(rng, n, lambda i: [c[i] for c in columns], defects)
    columns_map = {prop: col(column) for prop, column in extra.items()}
    if "ratio" in columns_map:
        columns_map["ratio"] = col("shr_ratio", type="number")
    if "payroll" in columns_map:
        columns_map["payroll"] = col("payroll_flg", map={"Y": True, "N": False})
    mapping: dict[str, Any] = {
        "name": name,
        **SYSTEM,
        "path": path,
        "tie": {"type_from": "rel_cd", "map": {c: t.value for c, t in codes.items()}},
        "source": {"from": "cust_no", "system": "core"},
        "target": {"from": "rel_cust_no", "system": "core"},
    }
    if columns_map:
        mapping["columns"] = columns_map
    return SourceFile(path, header, zip(*columns, strict=True), n, [mapping], bad=bad)


def relation_files(data: Bank, rng: np.random.Generator) -> list[SourceFile]:
    family = _relation_file(data, rng, "crm_family", "crm/family_rel.csv", FAMILY_CODES, {})
    corporate = _relation_file(
        data,
        rng,
        "crm_corporate",
        "crm/corp_rel.csv",
        CORPORATE_CODES,
        {"ratio": "shr_ratio", "payroll": "payroll_flg"},
    )
    referrals = data.ties[TieType.REFERRED]
    columns = [take(data.cust_no, referrals.source), take(data.cust_no, referrals.target), referrals.props["at"]]
    name = "crm_referrals"
    defects = [
        Defect("rfd_cust_no", lambda row, _k: row.__setitem__(1, row[0]), {name: Fault.SELF_TIE}, "referred themself")
    ]
    referral = SourceFile(
        "crm/referral.csv",
        ["rfr_cust_no", "rfd_cust_no", "rfr_dt"],
        zip(*columns, strict=True),
        len(referrals),
        [
            {
                "name": name,
                **SYSTEM,
                "path": "crm/referral.csv",
                "tie": {"type": "REFERRED"},
                "source": {"from": "rfr_cust_no", "system": "core"},
                "target": {"from": "rfd_cust_no", "system": "core"},
                "columns": {"at": col("rfr_dt", type="date", format="%Y-%m-%d")},
            }
        ],
        bad=inject(rng, len(referrals), lambda i: [c[i] for c in columns], defects),
    )
    return [family, corporate, referral]

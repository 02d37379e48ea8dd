"""Companies' attributes: names like 杭州华信科技有限公司, unified social credit codes, industry, capital."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from loaders.generator.common import AS_OF, Days, FloatArray, IntArray, pick, take
from loaders.generator.people import CITY_NAMES
from loaders.identifiers import CREDIT_CODE_ALPHABET


@dataclass(frozen=True)
class Industry:
    code: str  # GB/T 4754 section letter
    name: str
    suffixes: tuple[str, ...]
    weight: float


INDUSTRIES: tuple[Industry, ...] = (
    Industry("C", "制造业", ("机械制造", "电子", "新材料", "纺织", "食品", "精密机械"), 30),
    Industry("F", "批发和零售业", ("贸易", "商贸", "百货", "进出口"), 25),
    Industry("I", "信息传输、软件和信息技术服务业", ("科技", "网络科技", "信息技术", "软件"), 15),
    Industry("E", "建筑业", ("建筑工程", "建设工程", "装饰工程"), 10),
    Industry("K", "房地产业", ("房地产开发", "置业"), 4),
    Industry("G", "交通运输、仓储和邮政业", ("物流", "运输", "供应链管理"), 8),
    Industry("H", "住宿和餐饮业", ("餐饮管理", "酒店管理"), 5),
    Industry("M", "科学研究和技术服务业", ("生物科技", "检测技术", "工程技术"), 3),
)
INDUSTRY_CODES = [industry.code for industry in INDUSTRIES]
BRAND_CHARS = list(
    "华信恒达东方金桥天成宏远新源博鼎盛汇通正泰嘉禾瑞丰永中科海纳联创德润和万邦安明众诚蓝星辰云帆锦程富隆基立"
)

_CC_WEIGHTS = np.array([1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28], dtype=np.int64)
_ORG_WEIGHTS = np.array([3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)


@dataclass
class Companies:
    name: list[str]
    credit_code: list[str]
    industry: IntArray
    capital: FloatArray  # registered capital in yuan
    established: Days
    region: IntArray


def credit_codes(rng: np.random.Generator, region: IntArray) -> list[str]:
    """GB 32100 codes: '91' (enterprise), region, a GB 11714 organisation code with its check, check char."""
    n = len(region)
    org = rng.integers(0, 10, (n, 8))
    org_check = 11 - (org @ _ORG_WEIGHTS) % 11
    org_check_char = np.where(org_check == 11, 0, org_check)  # 10 stays 10: the letter X in the alphabet below
    region_digits = (region[:, None] // 10 ** np.arange(5, -1, -1)) % 10
    head = np.column_stack([np.full(n, 9), np.full(n, 1), region_digits, org, np.zeros(n, dtype=np.int64)])
    # Alphabet values: digits are themselves; X (for an organisation check of 10) is value 28.
    head[:, 16] = np.where(org_check_char == 10, CREDIT_CODE_ALPHABET.index("X"), org_check_char)
    check = (31 - (head @ _CC_WEIGHTS) % 31) % 31
    codes = np.column_stack([head, check])
    alphabet = np.array(list(CREDIT_CODE_ALPHABET))
    return ["".join(row) for row in alphabet[codes].tolist()]


def companies(rng: np.random.Generator, n: int, city: IntArray, region: IntArray) -> Companies:
    """``n`` companies registered in the given cities and districts."""
    industry = pick(rng, INDUSTRY_CODES, n, [industry.weight for industry in INDUSTRIES])
    brand_a, brand_b = pick(rng, BRAND_CHARS, n), pick(rng, BRAND_CHARS, n)
    suffix_choice = rng.integers(0, 100, n)
    listed = rng.random(n) < 0.06
    cities = take(CITY_NAMES, city)
    names = []
    for c, i, a, b, s, is_listed in zip(
        cities,
        industry.tolist(),
        brand_a.tolist(),
        brand_b.tolist(),
        suffix_choice.tolist(),
        listed.tolist(),
        strict=True,
    ):
        suffixes = INDUSTRIES[i].suffixes
        form = "股份有限公司" if is_listed else "有限公司"
        names.append(f"{c}{BRAND_CHARS[a]}{BRAND_CHARS[b]}{suffixes[s % len(suffixes)]}{form}")
    # Registered capital: 10 thousand to 500 million yuan, log-normal around one million.
    capital = np.clip(np.round(rng.lognormal(14, 1.4, n), -4), 1e4, 5e8)
    established = AS_OF - rng.integers(400, 30 * 365, n).astype("m8[D]")
    return Companies(names, credit_codes(rng, region), industry, capital, established, region)

"""Persons' attributes: cities and districts, Chinese names, resident ID numbers, mobile numbers, addresses.

Every function works on whole numpy arrays: one call makes a million values.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from loaders.generator.common import BoolArray, Days, IntArray, pick, take, yyyymmdd_int


@dataclass(frozen=True)
class City:
    name: str  # without 市
    province: str  # '' for the four municipalities
    districts: tuple[tuple[int, str], ...]  # (GB/T 2260 region code, district name)
    weight: float


# The bank is a Zhejiang city commercial bank: most customers live in Zhejiang, some in other big cities.
CITIES: tuple[City, ...] = (
    City("杭州", "浙江省", ((330106, "西湖区"), (330105, "拱墅区"), (330108, "滨江区"), (330110, "余杭区")), 30),
    City("宁波", "浙江省", ((330203, "海曙区"), (330212, "鄞州区")), 12),
    City("温州", "浙江省", ((330302, "鹿城区"), (330304, "瓯海区")), 9),
    City("绍兴", "浙江省", ((330602, "越城区"),), 5),
    City("嘉兴", "浙江省", ((330402, "南湖区"),), 4),
    City("上海", "", ((310104, "徐汇区"), (310115, "浦东新区"), (310112, "闵行区")), 8),
    City("北京", "", ((110105, "朝阳区"), (110108, "海淀区")), 4),
    City("南京", "江苏省", ((320106, "鼓楼区"), (320104, "秦淮区")), 4),
    City("苏州", "江苏省", ((320505, "虎丘区"), (320508, "姑苏区")), 4),
    City("深圳", "广东省", ((440304, "福田区"), (440305, "南山区")), 4),
    City("广州", "广东省", ((440106, "天河区"), (440105, "海珠区")), 3),
    City("合肥", "安徽省", ((340104, "蜀山区"),), 3),
    City("武汉", "湖北省", ((420106, "武昌区"),), 2),
    City("成都", "四川省", ((510107, "武侯区"),), 2),
    City("西安", "陕西省", ((610113, "雁塔区"),), 2),
    City("郑州", "河南省", ((410105, "金水区"),), 2),
    City("长沙", "湖南省", ((430104, "岳麓区"),), 2),
)
CITY_NAMES = [city.name for city in CITIES]
CITY_WEIGHTS = [city.weight for city in CITIES]

SURNAMES = [
    *"王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦傅方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤",
    "欧阳",
    "司马",
    "诸葛",
]
# Roughly Zipfian, as surname frequencies are; compound surnames are rare.
SURNAME_WEIGHTS = [1.0 / (rank + 8) for rank in range(len(SURNAMES) - 3)] + [0.002, 0.001, 0.001]

MALE_CHARS = list("伟强磊军勇杰涛斌超明刚平辉鹏华飞鑫波宇浩凯健俊帆帅旭宁龙林阳建国峰志文东海亮成博晨睿哲轩")
FEMALE_CHARS = list("芳娜敏静丽艳娟霞燕玲英红梅琳雪慧颖婷倩洁佳欣怡萍兰凤晶月瑶璐琴云莉茜悦婧蕾薇雅")
# Look-alike or sound-alike characters: the typos a clerk makes when keying a name into another system.
TYPOS = {
    "伟": "玮",
    "静": "婧",
    "丽": "莉",
    "杰": "洁",
    "明": "铭",
    "华": "桦",
    "敏": "民",
    "涛": "韬",
    "娜": "那",
    "军": "君",
    "磊": "垒",
    "斌": "彬",
    "芳": "方",
    "红": "宏",
    "玲": "琳",
    "婷": "亭",
    "勇": "永",
    "峰": "锋",
}
ROADS = list(
    [
        "文三路",
        "解放路",
        "中山路",
        "人民路",
        "建设路",
        "延安路",
        "学院路",
        "滨江大道",
        "湖滨路",
        "长江路",
        "黄河路",
        "新华路",
        "和平路",
        "东风路",
        "凤起路",
        "庆春路",
        "莫干山路",
        "天目山路",
        "江南大道",
        "钱江路",
        "环城北路",
        "体育场路",
        "古翠路",
        "丰潭路",
    ]
)
MOBILE_PREFIXES = [
    "130",
    "131",
    "132",
    "133",
    "135",
    "136",
    "137",
    "138",
    "139",
    "150",
    "151",
    "152",
    "155",
    "156",
    "157",
    "158",
    "159",
    "166",
    "176",
    "177",
    "180",
    "181",
    "182",
    "185",
    "186",
    "187",
    "188",
    "189",
    "199",
]

_ID_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
_ID_CHECK = "10X98765432"
_POW10 = 10 ** np.arange(16, -1, -1, dtype=np.int64)


def districts(rng: np.random.Generator, city: IntArray) -> tuple[IntArray, list[str]]:
    """A random district of each person's city: its region code and name."""
    codes = np.zeros(len(city), dtype=np.int64)
    names = np.empty(len(city), dtype=object)
    for index, spec in enumerate(CITIES):
        rows = np.flatnonzero(city == index)
        chosen = rng.integers(0, len(spec.districts), len(rows))
        codes[rows] = np.array([code for code, _ in spec.districts], dtype=np.int64)[chosen]
        names[rows] = np.array([name for _, name in spec.districts], dtype=object)[chosen]
    return codes, names.tolist()


def digits_of(first17: IntArray) -> IntArray:
    """The 17 decimal digits of each number, most significant first, as an (n, 17) matrix."""
    return (first17[:, None] // _POW10[None, :]) % 10


def resident_id_checks(first17: IntArray) -> list[str]:
    """GB 11643 check characters for 17-digit numbers (vectorised)."""
    remainder = (digits_of(first17) @ _ID_WEIGHTS) % 11
    return [_ID_CHECK[r] for r in remainder.tolist()]


def resident_ids(rng: np.random.Generator, region: IntArray, born: Days, male: BoolArray) -> list[str]:
    """Valid 18-character resident IDs: region, birth date, a sequence whose parity is the gender, check."""
    sequence = rng.integers(0, 500, len(region)) * 2 + male.astype(np.int64)
    stem = region * 10**11 + yyyymmdd_int(born) * 1000
    first17 = stem + sequence
    # Two persons must never share an ID: redraw the sequence of later duplicates until all differ.
    while len(repeats := _repeats(first17)):
        first17[repeats] = stem[repeats] + rng.integers(0, 500, len(repeats)) * 2 + male[repeats].astype(np.int64)
    checks = resident_id_checks(first17)
    return [f"{number:017d}{check}" for number, check in zip(first17.tolist(), checks, strict=True)]


def _repeats(values: IntArray) -> IntArray:
    """Positions holding a value already seen earlier in the array."""
    first = np.zeros(len(values), dtype=bool)
    first[np.unique(values, return_index=True)[1]] = True
    return np.flatnonzero(~first)


def legacy_id(id18: str) -> str:
    """The 15-digit form issued before 1999: no century, no check digit (only for 19xx births)."""
    return id18[:6] + id18[8:17]


def given_names(rng: np.random.Generator, male: BoolArray) -> list[str]:
    """One or two characters chosen from the gender's usual name characters."""
    n = len(male)
    two = rng.random(n) < 0.7
    first_m, second_m = pick(rng, MALE_CHARS, n), pick(rng, MALE_CHARS, n)
    first_f, second_f = pick(rng, FEMALE_CHARS, n), pick(rng, FEMALE_CHARS, n)
    names = []
    for is_male, is_two, a_m, b_m, a_f, b_f in zip(
        male.tolist(),
        two.tolist(),
        first_m.tolist(),
        second_m.tolist(),
        first_f.tolist(),
        second_f.tolist(),
        strict=True,
    ):
        chars = MALE_CHARS if is_male else FEMALE_CHARS
        a, b = (a_m, b_m) if is_male else (a_f, b_f)
        names.append(chars[a] + chars[b] if is_two else chars[a])
    return names


def surnames(rng: np.random.Generator, size: int) -> IntArray:
    return pick(rng, SURNAMES, size, SURNAME_WEIGHTS)


def typo(rng: np.random.Generator, name: str) -> str:
    """The name with its last character replaced by a look-alike (or a random name character)."""
    last = name[-1]
    replacement = TYPOS.get(last) or FEMALE_CHARS[int(rng.integers(len(FEMALE_CHARS)))]
    return name[:-1] + (replacement if replacement != last else "一")


def mobiles(rng: np.random.Generator, size: int) -> list[str]:
    """Mainland mobile numbers: a carrier prefix and eight digits."""
    prefixes = np.array([int(p) for p in MOBILE_PREFIXES], dtype=np.int64)
    numbers = prefixes[pick(rng, MOBILE_PREFIXES, size)] * 10**8 + rng.integers(0, 10**8, size)
    while len(repeats := _repeats(numbers)):  # one number, one person
        numbers[repeats] = prefixes[pick(rng, MOBILE_PREFIXES, len(repeats))] * 10**8 + rng.integers(
            0, 10**8, len(repeats)
        )
    return [str(number) for number in numbers.tolist()]


@dataclass(frozen=True)
class Address:
    """The parts of a street address, kept apart so each source system can write it its own way."""

    city: list[str]
    district: list[str]
    street: list[str]  # road, number, building, room

    def core(self, city_index: IntArray) -> list[str]:
        provinces = [CITIES[i].province for i in city_index.tolist()]
        return [f"{p}{c}市{d}{s}" for p, c, d, s in zip(provinces, self.city, self.district, self.street, strict=True)]


def addresses(rng: np.random.Generator, city: IntArray, district: list[str]) -> Address:
    """Street addresses in each person's city and district."""
    n = len(city)
    road = take(ROADS, pick(rng, ROADS, n))
    number = rng.integers(1, 999, n).tolist()
    building = rng.integers(1, 30, n).tolist()
    room = (rng.integers(1, 33, n) * 100 + rng.integers(1, 5, n)).tolist()
    street = [f"{r}{num}号{b}幢{rm}室" for r, num, b, rm in zip(road, number, building, room, strict=True)]
    return Address(take(CITY_NAMES, city), district, street)

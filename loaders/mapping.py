"""The declarative mapping file: which source file feeds which nodes or ties, and how columns become properties.

A mapping is YAML (or TOML) validated by :class:`Mapping`. Nothing about a particular bank lives in
Python: a new bank is a new mapping file. Example::

    version: 1
    name: demo-bank
    sources:
      - name: core_customers            # unique; used in reports and quarantine
        system: core                    # the source system; lineage and key space
        path: core/customers.csv        # relative to the mapping file; globs allowed
        format: csv                     # csv | tsv | xlsx | parquet | jsonl
        encoding: gbk                   # utf-8 | gbk | gb18030; strict decoding
        node: Person                    # this source feeds nodes of this label ...
        key: [cust_no]                  # columns whose values make the record key
        columns:
          name: {from: cust_name}
          resident_id: {from: id_no, type: resident_id}    # validated; stored hashed + masked
          birth_date: {from: birth, type: date, format: "YYMMDD"}
          segment: {from: seg_cd, map: {"01": retail, "02": private}}
      - name: core_family
        system: core
        path: core/family.csv
        tie: {type_from: rel_cd, map: {"10": SPOUSE_OF, "20": PARENT_OF}}   # ... or ties
        source: {from: cust_a, system: core}
        target: {from: cust_b, system: core}

Loading order follows dependencies: customers, then other nodes, then ties (see ``loaders.load``).
"""

from __future__ import annotations

import re
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from graph.model import NodeLabel, TieType


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class SourceFormat(StrEnum):
    CSV = "csv"
    TSV = "tsv"
    XLSX = "xlsx"
    PARQUET = "parquet"
    JSONL = "jsonl"


class Encoding(StrEnum):
    UTF8 = "utf-8"
    UTF8_SIG = "utf-8-sig"
    GBK = "gbk"
    GB18030 = "gb18030"


class ValueType(StrEnum):
    """How a column's text is parsed and checked. Personal identifiers are never stored in clear."""

    TEXT = "text"
    INTEGER = "integer"
    NUMBER = "number"  # thousands separators and full-width digits accepted
    AMOUNT = "amount"  # a number of money, two decimals
    BOOLEAN = "boolean"
    DATE = "date"  # ``format`` gives the pattern, e.g. YYMMDD or %Y-%m-%d
    DATETIME = "datetime"
    RESIDENT_ID = "resident_id"  # GB 11643; stored as <name>_hash and <name>_masked
    CREDIT_CODE = "credit_code"  # GB 32100 unified social credit code; public, stored in clear
    CARD_NUMBER = "card_number"  # Luhn; stored as <name>_hash and <name>_masked
    MOBILE = "mobile"  # mainland mobile; stored as <name>_hash and <name>_masked
    FLOAT_LIST = "float_list"  # separated numbers, e.g. month-end balances "1.0;2.5"
    TEXT_LIST = "text_list"  # separated texts, e.g. segments "retail|private"; ``format`` = separator, default |


PERSONAL_TYPES = frozenset({ValueType.RESIDENT_ID, ValueType.CARD_NUMBER, ValueType.MOBILE})


class Lookup(Strict):
    """A code looked up in another file: the row's cell is a ``key`` of ``file``; its ``value`` is stored.

    Read before anything is written and used as a ``map``: a key the file lacks quarantines the row
    (``unknown_code``); a key given twice with different values refuses the load.
    """

    file: str  # csv (tsv by suffix) or parquet, utf-8, relative to the mapping file like a source's path
    key: str
    value: str
    delimiter: str | None = None  # default: "," (tab for .tsv)


class Column(Strict):
    """One property, taken from one source column (``from``) or the same for every row (``constant``)."""

    from_: str | None = Field(default=None, alias="from")
    constant: Any = None  # the property's value for every row of the source (a segment, a consent flag)
    type: ValueType = ValueType.TEXT
    format: str | None = None  # date pattern, or list separator for float_list / text_list
    map: dict[str, Any] | None = None  # code -> value; unknown codes are quarantined
    lookup: Lookup | None = None  # code -> value read from another file; unknown codes are quarantined
    default: Any = None  # used when the cell is empty
    required: bool = False  # an empty cell quarantines the row
    half_width: bool = False  # full-width to half-width before parsing (identifiers always are)
    trim: bool = True
    prefix: str = ""  # text / text_list: put before the value (each item), e.g. the id_prefix of referenced nodes
    null_values: list[str] | None = None  # cells meaning "no value" here (after trimming), besides the source's
    expect_future: bool = False  # dates after today are normal here (a follow-up date): no warning for them
    century_pivot: int | None = Field(default=None, ge=1000, le=9899)
    """For a two-digit year (``YY``, ``%y``): the first year of the hundred it falls in (1930: 30 -> 1930,
    29 -> 2029). Without it a two-digit year is put in the last hundred years before today."""

    @model_validator(mode="after")
    def _consistent(self) -> Column:
        if (self.from_ is None) == (self.constant is None):
            raise ValueError("a column needs either from (a source column) or constant (a value for every row)")
        if self.constant is not None and self.type in PERSONAL_TYPES:
            raise ValueError(f"a {self.type} column cannot be a constant")
        if self.lookup is not None and (self.map is not None or self.from_ is None):
            raise ValueError("a lookup reads the code from a source column (from) and replaces map")
        if self.prefix and self.type not in (ValueType.TEXT, ValueType.TEXT_LIST):
            raise ValueError("prefix applies to text and text_list columns only")
        if self.century_pivot is not None and not (
            self.type in (ValueType.DATE, ValueType.DATETIME) and has_two_digit_year(self.format)
        ):
            raise ValueError("century_pivot applies to date and datetime columns whose format has a two-digit year")
        return self


def validation_problems(error: Any) -> str:
    """A pydantic ``ValidationError`` as ``where: what`` per problem, without pydantic's links and input dumps."""
    problems = []
    for item in error.errors(include_url=False):
        where = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in item["loc"]).lstrip(".")
        message = str(item["msg"]).removeprefix("Value error, ")
        problems.append(f"{where}: {message}" if where else message)
    return "; ".join(problems)


def has_two_digit_year(pattern: str | None) -> bool:
    """Whether a date pattern (``YYMMDD``-style or strftime) holds a two-digit year."""
    if pattern is None:
        return False
    if "%" in pattern:
        return "%y" in pattern
    return "YY" in pattern.replace("YYYY", "")


class EndRef(Strict):
    """One end of a tie: a column holding the other record's key in a source system."""

    from_: str = Field(alias="from")
    system: str | None = None  # key space of customers; default is this source's system
    prefix: str = ""  # for non-customer ends: the id_prefix of the source that made those nodes


class TieSpec(Strict):
    """Which tie type a row makes: fixed, or read from a column through a code map.

    A code may map to a list of types: the row then makes one tie of each (e.g. a guarantee between
    siblings is both ``GUARANTEES`` and ``SIBLING_OF``).
    """

    type: TieType | None = None
    type_from: str | None = None
    map: dict[str, TieType | list[TieType]] | None = None

    def types_for(self, code: str | None) -> list[TieType] | None:
        """The tie types a row with this code makes; None when the code is not in the map."""
        if self.type is not None:
            return [self.type]
        found = (self.map or {}).get(code or "")
        if found is None:
            return None
        return list(found) if isinstance(found, list) else [found]

    @model_validator(mode="after")
    def _one_way(self) -> TieSpec:
        if (self.type is None) == (self.type_from is None):
            raise ValueError("give either type or type_from")
        if self.type_from is not None and not self.map:
            raise ValueError("type_from needs a map from codes to tie types")
        return self


class Link(Strict):
    """A tie made by every row of a node source, from or to the row's node.

    The other end is a key read from a column (``from``) or a constant (``value``); customers are
    looked up in ``system``'s key space, other nodes get ``prefix`` + key as id. The direction comes
    from the tie type: on an ``Account`` source, ``OWNS`` points from the other end (the customer) to
    the account. A row whose required link end does not exist is quarantined as ``orphan`` and its
    node is not written. With ``create``, a missing non-customer end is created (``name`` = the key).
    """

    type: TieType
    from_: str | None = Field(default=None, alias="from")
    value: str | None = None
    system: str | None = None
    prefix: str = ""
    create: bool = False
    required: bool = True

    @model_validator(mode="after")
    def _one_end(self) -> Link:
        if (self.from_ is None) == (self.value is None):
            raise ValueError("a link needs either from (a column) or value (a constant key)")
        return self


class Query(Strict):
    """A source made by SQL over other files (run by DuckDB): joins, lookups, unions, derived columns.

    ``files`` names each file as a table of the query (csv, tsv or parquet by suffix; every column read
    as text, so ids keep their digits). The query's output rows are the source's rows: row n is line
    n + 1, as if the output had a header line. A line of a file that cannot be parsed is quarantined
    with its own file and line.
    """

    files: Annotated[dict[str, str], Field(min_length=1)]
    sql: str = Field(min_length=1)

    @model_validator(mode="after")
    def _table_names(self) -> Query:
        bad = [name for name in self.files if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name)]
        if bad:
            raise ValueError(f"query table names must be plain identifiers: {', '.join(bad)}")
        return self


class Pairs(Strict):
    """Ties between the rows of one file that share a key: the members of one account, by role.

    Rows with equal ``group_by`` values form a group; each member (``member``: the column holding a
    customer key, in ``system``'s key space) whose role is ``from_role`` is tied to each member whose
    role is ``to_role`` (the owner and the disponent of an account are a household). Without roles,
    every two different members of a group are tied once. The source's rows are the pairs: see
    :func:`loaders.query.pairs_query`.
    """

    group_by: list[str] = Field(min_length=1)
    member: str
    system: str | None = None  # key space of the members; default is this source's system
    role_from: str | None = None
    from_role: str | None = None
    to_role: str | None = None

    @model_validator(mode="after")
    def _roles_together(self) -> Pairs:
        roles = (self.role_from, self.from_role, self.to_role)
        if any(role is not None for role in roles) and not all(role is not None for role in roles):
            raise ValueError("pairs by role need role_from, from_role and to_role together")
        return self


class ResolveMode(StrEnum):
    """How records of a customer source become customers.

    ``auto``: the same resident ID / credit code joins records into one customer; records without a
    usable ID are matched by the scored comparison of ``loaders.resolve``. ``key_only``: every record
    is its own customer, with id ``id_prefix`` + key (for synthetic or already-mastered data, where
    equal names must not merge).
    """

    AUTO = "auto"
    KEY_ONLY = "key_only"


class Source(Strict):
    """One source: a file (or glob) feeding one kind of node or tie."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    system: str = Field(pattern=r"^[A-Za-z0-9_-]+$")
    path: str | None = None
    query: Query | None = None  # instead of path: rows made by SQL over other files (mapping version 2)
    format: SourceFormat = SourceFormat.CSV
    encoding: Encoding = Encoding.UTF8
    delimiter: str | None = None  # default: "," for csv, tab for tsv
    quotechar: str = '"'
    sheet: str | int = 0  # xlsx only
    node: NodeLabel | None = None
    kind_from: str | None = None  # column saying person or company, for node: Customer
    kind_map: dict[str, Literal["Person", "Company"]] | None = None
    key: list[str] = Field(default_factory=list)
    id_prefix: str = ""
    tie: TieSpec | None = None
    pairs: Pairs | None = None  # a tie source: ties between rows sharing a key, instead of source and target
    source: EndRef | None = None
    target: EndRef | None = None
    columns: dict[str, Column] = Field(default_factory=dict)
    refuse_columns: list[str] = Field(default_factory=list)  # extra names of authentication columns
    null_values: list[str] = Field(default_factory=list)  # cells meaning "no value" in every column, e.g. ["?", "NA"]
    resolve: ResolveMode = ResolveMode.AUTO  # customer sources only
    links: list[Link] = Field(default_factory=list)  # node sources only: ties made with each row's node

    @model_validator(mode="after")
    def _node_or_tie(self) -> Source:
        if (self.path is None) == (self.query is None):
            raise ValueError(f"source {self.name!r}: give either path or query")
        if self.query is not None and self.encoding not in (Encoding.UTF8, Encoding.UTF8_SIG):
            raise ValueError(f"source {self.name!r}: the files of a query must be utf-8")
        if (self.node is None) == (self.tie is None):
            raise ValueError(f"source {self.name!r}: give either node or tie")
        if self.node is not None and not self.key:
            raise ValueError(f"source {self.name!r}: a node source needs key columns")
        if self.pairs is not None and (self.tie is None or self.query is not None or self.source or self.target):
            raise ValueError(f"source {self.name!r}: pairs make ties from a path, without source and target")
        if self.tie is not None and self.pairs is None and (self.source is None or self.target is None):
            raise ValueError(f"source {self.name!r}: a tie source needs source and target (or pairs)")
        if self.node is NodeLabel.CUSTOMER and not self.kind_from:
            raise ValueError(f"source {self.name!r}: node Customer needs kind_from (or use Person / Company)")
        if self.links and self.node is None:
            raise ValueError(f"source {self.name!r}: links belong to node sources")
        return self

    @property
    def feeds_customers(self) -> bool:
        return self.node is not None and self.node.primary is NodeLabel.CUSTOMER

    @property
    def uses_version_two(self) -> bool:
        return (
            self.query is not None
            or self.pairs is not None
            or any(column.lookup is not None for column in self.columns.values())
        )

    @property
    def separator(self) -> str:
        if self.delimiter is not None:
            return self.delimiter
        return "\t" if self.format is SourceFormat.TSV else ","


class Resolution(Strict):
    """Entity resolution: thresholds for customers without a usable ID number (match probabilities), and
    which record's values survive when records merge (``loaders.survivorship``).

    ``source_priority`` names customer sources, most trusted first: a merged customer takes each value
    from the best-ranked record that has one. Unlisted sources rank after the listed ones; among equals
    the record read last wins (the default when the list is empty: the most recent record).
    """

    merge_above: float = Field(default=0.95, gt=0, le=1)
    review_above: float = Field(default=0.70, gt=0, le=1)
    source_priority: tuple[str, ...] = ()


class Mapping(Strict):
    """A whole mapping file."""

    version: Literal[1, 2] = 1
    name: str
    sources: Annotated[list[Source], Field(min_length=1)]
    resolution: Resolution = Resolution()
    base_dir: Path = Field(default=Path("."), exclude=True)

    @classmethod
    def from_file(cls, path: Path, *, data_dir: Path | None = None) -> Mapping:
        """Read and validate a mapping file (YAML, or TOML by suffix); paths resolve against ``data_dir``
        when given, else against the mapping file's folder. Raises ``ConfigurationError``."""
        import tomllib

        import yaml
        from pydantic import ValidationError

        from graph.errors import ConfigurationError

        try:
            text = Path(path).read_text(encoding="utf-8")
            raw = tomllib.loads(text) if Path(path).suffix == ".toml" else yaml.safe_load(text)
        except (OSError, yaml.YAMLError, tomllib.TOMLDecodeError) as error:
            raise ConfigurationError(f"cannot read mapping {path}: {error}") from error
        if not isinstance(raw, dict):
            raise ConfigurationError(f"mapping {path} must be a mapping of keys to values")
        try:
            mapping = cls.model_validate(raw)
        except ValidationError as error:
            raise ConfigurationError(f"mapping {path} is invalid: {validation_problems(error)}") from None
        base = Path(data_dir) if data_dir is not None else Path(path).resolve().parent
        return mapping.model_copy(update={"base_dir": base})

    @model_validator(mode="after")
    def _unique_names(self) -> Mapping:
        names = [source.name for source in self.sources]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"source names must be unique; repeated: {', '.join(duplicates)}")
        return self

    @model_validator(mode="after")
    def _version_two_features(self) -> Mapping:
        if self.version == 1 and any(source.uses_version_two for source in self.sources):
            raise ValueError("query, lookup and pairs need version: 2")
        return self

    @model_validator(mode="after")
    def _priority_names_customer_sources(self) -> Mapping:
        priority = self.resolution.source_priority
        customer_sources = {source.name for source in self.sources if source.feeds_customers}
        unknown = [name for name in priority if name not in customer_sources]
        if unknown:
            raise ValueError(f"resolution.source_priority names no customer source: {', '.join(unknown)}")
        if len(set(priority)) != len(priority):
            raise ValueError("resolution.source_priority lists a source twice")
        return self

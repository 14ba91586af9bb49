"""A reform office's own counties: the county table a config's ``geography.table`` names.

One row per county (CSV or Parquet). The columns, with what each cell must hold, are ``COLUMNS``; ``base``
and ``pilot`` may be left out. ``read_county_table`` reads and checks a table and returns its rows as plain
dicts (what the config's resolved form holds, so a run, a sweep or a worker process never reads the file
again) with the file's SHA-256. Every bad cell is reported, each as ``file:line: row N, column 'c': ...``
(the line of the CSV file; a Parquet file has no lines, so only its row number is given).

In a CSV file, lines starting with ``#`` and blank lines are comments (a table can say where its numbers
come from); the first other line is the header. A cell is read as written: numbers as numbers (``1,200``
with a thousands separator is refused: write ``1200``), the pilot flag as true/false, yes/no or 1/0.
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
import os
from pathlib import Path

from .loader import ConfigError, Location, Problem

REGION_NAMES = ("east", "central", "west")
TYPES = ("rural", "urban")
MAX_ROWS = 5000  # the schema's limit on geography.counties
MAX_TABLE_BYTES = 50_000_000
MIN_RESIDENTS_PER_COMMITTEE = 50  # as the synthesis's smallest committee

# column -> (required, kind, what the cell must hold)
COLUMNS: dict[str, tuple[bool, str, str]] = {
    "name": (True, "name", "the county's name (unique in the table)"),
    "region": (True, "region", "east, central or west"),
    "type": (True, "type", "rural (a county: villages) or urban (a city district: communities)"),
    "townships": (True, "count", "townships/streets in the county, a whole number of at least 1"),
    "committees": (True, "count", "village/residents' committees, a whole number of at least the townships"),
    "committee_posts": (True, "count", "establishment posts in all its committees, at least one per committee"),
    "township_posts": (True, "count", "posts in all its townships (staff, service stations), at least one each"),
    "residents": (True, "count", f"resident population, at least {MIN_RESIDENTS_PER_COMMITTEE} per committee"),
    "base": (False, "real", "a fiscal-capacity or 'good base' score, any scale (e.g. revenue per head)"),
    "pilot": (False, "flag", "true if the county pilots the reform (true/false, yes/no, 1/0)"),
}
_FLAGS = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}


def read_county_table(path: str | os.PathLike, display: str | None = None,
                      max_agents: tuple[int, int] | None = None) -> tuple[list[dict], str]:
    """The rows of a county table (one dict per county, columns as in ``COLUMNS``) and the file's SHA-256.

    Raises ConfigError listing every problem, located by the file as ``display`` shows it and the CSV line.
    ``max_agents`` = (sampled residents per committee, most agents a run may create): a table that would
    create more is refused here, naming the file."""
    path = Path(path)
    display = display or os.fspath(path)
    raw = _read_bytes(path, display)
    digest = hashlib.sha256(raw).hexdigest()
    if path.suffix.lower() == ".parquet":
        header, records, header_line = *_parquet_records(raw, display), None
    elif path.suffix.lower() in (".csv", ".txt", ""):
        header, records, header_line = _csv_records(raw, display)
    else:
        raise _error(display, None, f"a county table is a .csv or .parquet file, not {path.suffix!r}")

    problems = [Problem(Location(display, header_line), (), message) for message in _header_problems(header)]
    if problems:
        raise ConfigError(display, problems, what="county table")
    if not records:
        raise _error(display, None, "the table has a header but no counties")
    if len(records) > MAX_ROWS:
        raise _error(display, None, f"the table has {len(records):,} counties; a geography has at most {MAX_ROWS:,}")

    rows, seen = [], {}
    for number, (line, cells) in enumerate(records, start=1):
        row, where = {}, f"row {number}"
        for column, (required, kind, expected) in COLUMNS.items():
            if column not in header:
                continue
            value, problem = _cell(cells.get(column), kind, expected)
            if problem:
                problems.append(Problem(Location(display, line), (), f"{where}, column {column!r}: {problem}"))
            row[column] = value
        name = row.get("name")
        if isinstance(name, str):
            if name in seen:
                problems.append(Problem(Location(display, line), (), f"{where}, column 'name': {name!r} is "
                                        f"already the name of row {seen[name]}; county names must differ"))
            seen.setdefault(name, number)
        problems += [Problem(Location(display, line), (), f"{where}, column {c!r}: {m}")
                     for c, m in _row_problems(row)]
        rows.append(row)
    if not problems and max_agents is not None:
        sample, limit = max_agents
        posts = sum(r["committee_posts"] + r["township_posts"] for r in rows)
        residents = sum(r["committees"] for r in rows) * sample
        if posts + residents > limit:
            problems.append(Problem(Location(display), (), (
                f"the table's counties would create {(posts + residents) / 1e6:,.1f} million agents ({posts:,} "
                f"cadre posts + {residents:,} sampled residents, {sample} per committee); a run holds at most "
                f"{limit / 1e6:g} million: use fewer counties or a smaller resident_sample_per_committee")))
    if problems:
        raise ConfigError(display, problems, what="county table")
    for row in rows:
        for column in ("base", "pilot"):
            row.setdefault(column, None)
    return rows, digest


def _error(display: str, line: int | None, message: str) -> ConfigError:
    return ConfigError(display, [Problem(Location(display, line), (), message)], what="county table")


def _read_bytes(path: Path, display: str) -> bytes:
    try:
        if path.is_file() and path.stat().st_size > MAX_TABLE_BYTES:
            raise _error(display, None, f"file is {path.stat().st_size / 1e6:,.0f} MB; a county table may be at "
                                        f"most {MAX_TABLE_BYTES / 1e6:g} MB")
        return path.read_bytes()
    except FileNotFoundError:
        message = "county table not found"
    except IsADirectoryError:
        message = "is a directory, not a county table"
    except OSError as exc:
        message = f"cannot read the county table: {exc.strerror or exc}"
    raise _error(display, None, message)


def _csv_records(raw: bytes, display: str) -> tuple[list[str], list[tuple[int, dict]], int]:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _error(display, raw.count(b"\n", 0, exc.start) + 1, "not UTF-8 text; save the table as UTF-8 CSV")
    kept = [(n, line) for n, line in enumerate(text.splitlines(), start=1)
            if line.strip() and not line.lstrip().startswith("#")]
    if not kept:
        raise _error(display, None, "the table is empty: it needs a header line naming its columns")
    try:
        parsed = list(csv.reader(io.StringIO("\n".join(line for _, line in kept)), strict=True))
    except csv.Error as exc:
        raise _error(display, None, f"not a valid CSV file: {exc}")
    if len(parsed) != len(kept):  # a quoted cell ran over a line end
        raise _error(display, None, "a quoted cell spans several lines; keep each county on one line")
    (header_line, _), *body = kept
    header = [h.strip() for h in parsed[0]]
    records = []
    for (line, _), cells in zip(body, parsed[1:]):
        if len(cells) != len(header):
            raise _error(display, line, f"{len(cells)} cells but the header names {len(header)} columns "
                                        f"({', '.join(header)})")
        records.append((line, {h: c.strip() for h, c in zip(header, cells)}))
    return header, records, header_line


def _parquet_records(raw: bytes, display: str) -> tuple[list[str], list[tuple[int | None, dict]]]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(pa.BufferReader(raw))
    except (pa.ArrowException, OSError) as exc:
        raise _error(display, None, f"not a readable Parquet file: {exc}")
    header = [str(c) for c in table.column_names]
    columns = table.to_pylist()
    return header, [(None, row) for row in columns]


def _header_problems(header: list[str]) -> list[str]:
    out = []
    missing = [c for c, (required, _, _) in COLUMNS.items() if required and c not in header]
    if missing:
        out.append(f"missing column{'s' if len(missing) > 1 else ''} {', '.join(map(repr, missing))} "
                   f"(a county table has columns {', '.join(COLUMNS)}; base and pilot may be left out)")
    unknown = [c for c in header if c not in COLUMNS]
    if unknown:
        out.append(f"unknown column{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))} "
                   f"(allowed: {', '.join(COLUMNS)})")
    twice = sorted({c for c in header if header.count(c) > 1})
    if twice:
        out.append(f"column{'s' if len(twice) > 1 else ''} {', '.join(map(repr, twice))} named twice")
    return out


def _cell(value, kind: str, expected: str):
    """(value, None) or (None, what is wrong) for one cell."""
    text = value.strip() if isinstance(value, str) else value
    if text is None or text == "" or (isinstance(text, float) and math.isnan(text)):
        if kind == "real":
            return None, None  # an empty base: the county's base is drawn
        return None, f"empty; expected {expected}"
    if kind == "name":
        return str(text), None
    if kind in ("region", "type"):
        allowed = REGION_NAMES if kind == "region" else TYPES
        word = str(text).lower()
        if word not in allowed:
            return None, f"{text!r} is not {' or '.join(allowed) if len(allowed) == 2 else 'east, central or west'}"
        return word, None
    if kind == "flag":
        if isinstance(text, bool):
            return text, None
        word = str(text).lower()
        if word not in _FLAGS:
            return None, f"{text!r} is not true or false (also yes/no, 1/0)"
        return _FLAGS[word], None
    if isinstance(text, bool):
        return None, f"{text!r} is not a number; expected {expected}"
    try:
        number = float(text)
    except (TypeError, ValueError):
        return None, f"{text!r} is not a number; expected {expected}"
    if not math.isfinite(number):
        return None, f"{text!r} is not a finite number; expected {expected}"
    if kind == "real":
        return number, None
    if not number.is_integer():
        return None, f"{text!r} is not a whole number; expected {expected}"
    if number < 1:
        what = "negative" if number < 0 else "zero"
        return None, f"{text!r} is {what}; expected {expected}"
    return int(number), None


def _row_problems(row: dict) -> list[tuple[str, str]]:
    """Cells that are each fine but do not fit together (every township has a committee, and so on)."""
    t, c = row.get("townships"), row.get("committees")
    out = []
    if isinstance(t, int) and isinstance(c, int) and c < t:
        out.append(("committees", f"{c} committees for {t} townships; every township has at least one"))
    if isinstance(c, int):
        p, r = row.get("committee_posts"), row.get("residents")
        if isinstance(p, int) and p < c:
            out.append(("committee_posts", f"{p} posts for {c} committees; every committee has at least one"))
        if isinstance(r, int) and r < MIN_RESIDENTS_PER_COMMITTEE * c:
            out.append(("residents", f"{r} residents for {c} committees; at least "
                                     f"{MIN_RESIDENTS_PER_COMMITTEE} per committee ({MIN_RESIDENTS_PER_COMMITTEE * c})"))
    if isinstance(t, int):
        p = row.get("township_posts")
        if isinstance(p, int) and p < t:
            out.append(("township_posts", f"{p} posts for {t} townships; every township has at least one"))
    return out

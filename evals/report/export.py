"""leaderboard.csv and leaderboard.json: machine-readable rows with stable column names.

Both are written from the same rows as the page, in the default order, with no generation date,
so regenerating a report from the same runs leaves the files byte-identical.
"""

from __future__ import annotations

import csv
import io
import json

from ..aggregations import clean
from .tables import LEADERBOARD_COLUMNS, PATTERN_COLUMNS

SCHEMA = "fanout.leaderboard/1"


def _csv_value(v: object) -> str:
    v = clean(v)
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return repr(v)
    return str(v)


def to_csv(rows: list[dict]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(LEADERBOARD_COLUMNS)
    for r in rows:
        w.writerow([_csv_value(r.get(k)) for k in LEADERBOARD_COLUMNS])
    return buf.getvalue()


def to_json(rows: list[dict], pattern_rows: list[dict], widths: list[dict[int, int]]) -> str:
    doc = {
        "schema": SCHEMA,
        "columns": LEADERBOARD_COLUMNS,
        "rows": [
            {k: clean(r.get(k)) for k in LEADERBOARD_COLUMNS}
            | {"fan_out_widths": {str(n): c for n, c in w.items()}}
            for r, w in zip(rows, widths, strict=True)
        ],
        "pattern_columns": PATTERN_COLUMNS,
        "by_pattern": [{k: clean(p.get(k)) for k in PATTERN_COLUMNS} for p in pattern_rows],
    }
    return json.dumps(doc, indent=2, ensure_ascii=False, allow_nan=False) + "\n"

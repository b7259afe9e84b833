"""Answer values by kind (DESIGN 4.3): an answer check judges the value, not its spelling.

A fixture's answer check renders values from the ground-truth outputs. Each rendered value is an
`Expected`: its canonical text plus a **kind** that decides which renderings in a model's final
answer count as that value. The rules, with examples, are in docs/scoring.md ("Answer checks");
this module is their one implementation.

- text      case, runs of whitespace, and hyphen-or-space between words are ignored; the value is
            a whole token (`rain` is not in `drain`, `9` is not in `19`), but a unit or affix
            attached to a digit edge keeps it whole (`v1.33.7`, `11,144km`)
- number    the rendering must round, on its decimal string, to the expected value at the
            precision it shows (a tie may go either way), show at least three significant digits
            (or all of the value's, when it has fewer), never be zero for a non-zero value, and
            use an exponent only when the value itself is written with one
- money     a number, also accepted to the cent ("0.92" euros per dollar); a currency marker
            next to it must be the expected currency
- quantity  a number; a unit next to it is the expected one, or one of its family it is converted to
- time      a time of day: `09:00` = `9:00` = `9 am` = `9:00 AM`; `21:29` = `9:29pm` = `9:29`
- date      an ISO date: `2026-06-11` = `June 11, 2026` = `11 June 2026` = `Jun 11`
- duration  an amount of time, in any unit and compound form (`1134 s` = `18m 54s` = `18:54` =
            `19 min`), rounded to a unit no coarser than a tenth of it (`digits: 1`: than itself)
- entity    a name, its aliases (ids, emails), or the name without words it `may_omit`
- person    a person: full name, given name, email, or the email's local part
- state     an enumerated state with its synonyms, and negations that imply it (`open` =
            "hasn't been merged" for a pull request); a negated mention never counts

The matchers are pure functions of the expected value and the answer text, so a check is
deterministic and cheap (patterns and vocabularies are compiled once per distinct value).
"""

from __future__ import annotations

import bisect
import functools
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from .errors import UsageError

if TYPE_CHECKING:  # pragma: no cover
    from .groundtruth import GroundTruth

KINDS = ("text", "number", "money", "quantity", "time", "date", "duration", "entity", "person", "state")
NUMERIC_KINDS = ("number", "money", "quantity")
DEFAULT_DIGITS = 3  # significant digits a rounded number must keep (or all of the value's, if fewer)
CENT = Decimal("0.01")  # money given to the cent is precise enough, whatever its significant digits


class AnswerValueError(UsageError, ValueError):
    """A rendered value that its declared kind cannot hold (`time: "soon"`), or a state outside
    its vocabulary. Raised while resolving the ground truth, so it names the task."""


# ---------------------------------------------------------------------------------------------
# Expected values


class Expected(str):
    """A rendered answer value: its canonical text (what `str()` gives, what `fanout tasks show`
    prints and what a reference policy restates) with the kind and options that decide which
    renderings count. A `str` subclass so every consumer of rendered answers keeps working."""

    kind: str
    aliases: tuple[str, ...]
    options: tuple[tuple[str, Any], ...]
    parts: tuple[Expected, ...]

    def __new__(
        cls,
        text: str,
        kind: str = "text",
        aliases: Iterable[str] = (),
        options: Mapping[str, Any] | None = None,
        parts: Sequence[Expected] = (),
    ) -> Expected:
        self = super().__new__(cls, text)
        self.kind = kind
        self.aliases = tuple(a for a in aliases if a.strip())
        self.options = tuple(sorted((options or {}).items(), key=lambda kv: kv[0]))
        self.parts = tuple(parts)
        return self

    def option(self, name: str, default: Any = None) -> Any:
        for k, v in self.options:
            if k == name:
                return v
        return default

    def describe(self) -> str:
        """`'21:29' (time)`: the value and its kind, for `fanout tasks show` (plain text values
        print as plain strings)."""
        if self.kind == "all":
            return "all of [" + ", ".join(p.describe() for p in self.parts) + "]"
        notes = [] if self.kind == "text" else [self.kind]
        notes += [f"{k} {v!r}" for k, v in self.options]
        if self.aliases:
            notes.append(f"aliases {list(self.aliases)}")
        return str.__repr__(self) + (f" ({', '.join(notes)})" if notes else "")

    def __repr__(self) -> str:
        return self.describe()


def canonical_text(value: Any) -> str:
    """How a ground-truth value is written: a whole float as an integer (13.0 -> "13"; the number
    kind still accepts "13.0"), booleans in lower case, anything else as `str()`."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None else str(value)


_PLAIN_NUMBER = re.compile(r"^[-+]?(?:\d+(?:\.\d+)?|\.\d+)(?:[eE][-+]?\d+)?$")
_HHMM = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


def infer_kind(value: Any, text: str) -> str:
    """The kind of a value given as a plain string or scalar: a number, an HH:MM time, an ISO date
    where that is unambiguous, else text."""
    if isinstance(value, bool):
        return "text"
    if isinstance(value, (int, float)):
        return "number"
    t = text.strip()
    if _PLAIN_NUMBER.match(t):
        return "number"
    if _HHMM.match(t):
        return "time"
    if _ISO_DATE.match(t):
        return "date"
    return "text"


def render(
    value: Any,
    kind: str | None = None,
    aliases: Iterable[Any] = (),
    options: Mapping[str, Any] | None = None,
) -> list[Expected]:
    """The expected values one answer item renders to. A list renders to each of its elements (a
    `contains` item that lists every report's name wants all of them); an empty rendering (an
    inactive branch's `''`) stays empty and asks for nothing. Aliases render with the value."""
    if isinstance(value, (list, tuple)):
        # An alias that renders to a list as long as the value pairs with it element by element
        # (incident ids with their titles); any other alias applies to every element.
        alias_items = list(aliases)
        out: list[Expected] = []
        for i, v in enumerate(value):
            own = [a[i] if isinstance(a, (list, tuple)) and len(a) == len(value) else a for a in alias_items]
            out.extend(render(v, kind, own, options))
        return out
    text = canonical_text(value)
    opts = {k: v for k, v in (options or {}).items() if v is not None and v != [] and v != {}}
    alias_texts = [canonical_text(a) for a in _flatten(aliases)]
    if not text.strip():
        return [Expected("", kind or "text")]
    k = kind or infer_kind(value, text)
    _validate(k, text.strip(), opts)
    if k == "duration":  # written with its unit, so the canonical text reads as the duration it is
        text = f"{text.strip()} {str(opts.get('unit', 's')).strip()}"
    return [Expected(text.strip(), k, alias_texts, opts)]


def all_of(values: Sequence[Expected]) -> Expected:
    """One alternative of a `contains_any` group that rendered to a list: met when all are found."""
    vals = [v for v in values if v.strip()]
    if not vals:
        return values[0] if values else Expected("")
    if len(vals) == 1:
        return vals[0]
    return Expected("; ".join(vals), "all", parts=vals)


def _flatten(values: Iterable[Any]) -> Iterator[Any]:
    for v in values:
        if isinstance(v, (list, tuple)):
            yield from _flatten(v)
        elif v is not None:
            yield v


def _validate(kind: str, text: str, opts: Mapping[str, Any]) -> None:
    if kind not in KINDS:
        raise AnswerValueError(f"unknown answer kind {kind!r}")
    if kind in NUMERIC_KINDS or kind == "duration":
        if _decimal(text) is None:
            raise AnswerValueError(f"{kind} value {text!r} is not a number")
    elif kind == "time":
        if not _HHMM.match(text):
            raise AnswerValueError(f"time value {text!r} is not a 24-hour HH:MM time")
    elif kind == "date":
        m = _ISO_DATE.match(text)
        if not m or not (1 <= int(m.group(2)) <= 12 and 1 <= int(m.group(3)) <= 31):
            raise AnswerValueError(f"date value {text!r} is not an ISO date YYYY-MM-DD")
    elif kind == "state":
        vocab = opts.get("of")
        if vocab is not None:
            if vocab not in VOCABULARIES:
                raise AnswerValueError(f"unknown state vocabulary {vocab!r}")
            states = set(VOCABULARIES[vocab]) | set(opts.get("synonyms") or {})
            if _state_key(text) not in {_state_key(s) for s in states}:
                raise AnswerValueError(
                    f"state {text!r} is not in vocabulary {vocab!r} ({', '.join(sorted(states))})"
                )
    if kind == "duration":
        unit = opts.get("unit", "s")
        if _DURATION_UNITS.get(str(unit).strip().lower()) is None:
            raise AnswerValueError(f"duration unit {unit!r} is not one of s, min, h, d")


_MAX_EXPECTED_EXPONENT = 10_000


def _decimal(text: str) -> Decimal | None:
    try:
        d = Decimal(text.strip())
    except InvalidOperation:
        return None
    # 1e999999999 is finite but past what Decimal's context can normalise (an Overflow
    # traceback): no value a task checks is written so.
    return d if d.is_finite() and abs(d.adjusted()) <= _MAX_EXPECTED_EXPONENT else None


# ---------------------------------------------------------------------------------------------
# The answer text, prepared once per check


def _fold(text: str) -> str:
    """Case-folded, NFKC-normalised text with one kind of apostrophe, hyphen and space."""
    t = unicodedata.normalize("NFKC", text)
    t = t.translate(_TRANSLATE).casefold()
    return _WS.sub(" ", t)


_TRANSLATE = str.maketrans(
    {"\u2019": "'", "\u2018": "'", "\u2212": "-", "\u2010": "-", "\u2011": "-", "\u2013": "-", "\u2014": "-"}
)
_WS = re.compile(r"\s+")


class AnswerText:
    """A model's final answer, folded once; number, time, date and duration mentions are parsed
    on first use and shared by every check of the answer."""

    def __init__(self, text: str):
        self.raw = unicodedata.normalize("NFKC", text).translate(_TRANSLATE)
        self.folded = _fold(text)
        self._numbers: list[NumberMention] | None = None
        self._times: list[tuple[int, int, str | None]] | None = None
        self._dates: list[tuple[int | None, int, int]] | None = None
        self._durations: list[tuple[Decimal, Decimal]] | None = None

    @property
    def numbers(self) -> list[NumberMention]:
        if self._numbers is None:
            self._numbers = list(_number_mentions(self.raw))
        return self._numbers

    @property
    def times(self) -> list[tuple[int, int, str | None]]:
        if self._times is None:
            self._times = list(_time_mentions(self.folded))
        return self._times

    @property
    def dates(self) -> list[tuple[int | None, int, int]]:
        if self._dates is None:
            self._dates = list(_date_mentions(self.folded))
        return self._dates

    @property
    def durations(self) -> list[tuple[Decimal, Decimal]]:
        if self._durations is None:
            self._durations = list(_duration_mentions(self.folded))
        return self._durations


# ---------------------------------------------------------------------------------------------
# Whole-token boundaries. A value's edge that is a letter may not touch a letter or digit; an
# edge that is a digit may not touch a digit or continue a number (`9` is not in `19`, `9.5` or
# `1,900`), but may touch a unit or affix from the lists below (`v1.33.7`, `11,144km`, `15.3C`).

# Words that may be written directly before a number (versions, currency codes).
PREFIXES = frozenset(
    "v ver version no nr us usd eur gbp jpy inr cad aud chf cny sek nok mxn aed sgd krw brl ngn egp try "
    "ils vnd rs".split()
)
# Words that may be written directly after a number (units, scales, meridiems, ordinals, codes).
SUFFIXES = frozenset(
    "k m mn b bn km kms mi mph kmh kph c f h hr hrs min mins s sec secs ms d am pm x st nd rd th pct "
    "pts kg g l gb mb usd eur gbp jpy inr cad aud chf cny sek nok mxn aed sgd krw brl ngn egp try ils "
    "vnd".split()
)


def _letters_before(s: str, i: int) -> tuple[str, int]:
    k = i
    while k > 0 and s[k - 1].isalpha():
        k -= 1
    return s[k:i], k


def _letters_after(s: str, j: int) -> tuple[str, int]:
    k = j
    while k < len(s) and s[k].isalpha():
        k += 1
    return s[j:k], k


def _left_ok(s: str, i: int, first: str) -> bool:
    if i == 0 or not first.isalnum():
        return True
    c = s[i - 1]
    if c.isdigit() or c == "_":
        return False
    if first.isdigit():
        if c in ".," and i >= 2 and s[i - 2].isdigit():
            return False
        if c.isalpha():
            word, k = _letters_before(s, i)
            return word.casefold() in PREFIXES and (k == 0 or not s[k - 1].isalnum())
        return True
    return not c.isalnum()


def _right_ok(s: str, j: int, last: str, plural: bool = False) -> bool:
    if j >= len(s) or not last.isalnum():
        return True
    c = s[j]
    if c.isdigit() or c == "_":
        return False
    if last.isdigit():
        if c in ".," and j + 1 < len(s) and s[j + 1].isdigit():
            return False
        if c.isalpha():
            word, k = _letters_after(s, j)
            return word.casefold() in SUFFIXES and (k == len(s) or not s[k].isalnum())
        return True
    if c.isalpha() and plural:
        word, k = _letters_after(s, j)
        return word in ("s", "es") and (k == len(s) or not s[k].isalnum())
    return not c.isalnum()


# Where a code turns from letters to digits or back ("UA538", "12B"), the answer may put one space
# or hyphen: "UA 538" and "UA-538" are the same flight.
_LETTER_DIGIT = re.compile(r"(?<=[^\W\d_])(?=\d)|(?<=\d)(?=[^\W\d_])")


@functools.lru_cache(maxsize=65536)
def _form_regex(form: str) -> re.Pattern[str]:
    """A folded form as a pattern: runs of spaces or hyphens between words match each other
    ("noise-cancelling" = "noise cancelling"), and a code may be split where letters meet digits.
    A lookahead, so overlapping starts are all seen."""
    parts = [
        r"[\s\-]?".join(re.escape(q) for q in _LETTER_DIGIT.split(p)) for p in re.split(r"[\s\-]+", form) if p
    ]
    body = r"[\s\-]+".join(parts) if parts else re.escape(form)
    if form[:1] in "- " and parts:
        body = re.escape(form[:1]) + body
    return re.compile(f"(?=({body}))")


_fold_form = functools.lru_cache(maxsize=65536)(_fold)


def find_form(text: AnswerText, form: str, plural: bool = False) -> Iterator[tuple[int, int]]:
    """Spans where `form` occurs in the answer as a whole token."""
    f = _fold_form(str(form)).strip()
    if not f:
        return
    s = text.folded
    for m in _form_regex(f).finditer(s):
        i, j = m.start(1), m.end(1)
        if _left_ok(s, i, f[0]) and _right_ok(s, j, f[-1], plural):
            yield i, j


def has_form(text: AnswerText, form: str, plural: bool = False) -> bool:
    return next(find_form(text, form, plural), None) is not None


# ---------------------------------------------------------------------------------------------
# Numbers


@dataclass(frozen=True)
class NumberMention:
    value: Decimal
    quantum: Decimal  # the precision the rendering shows: 0.01 for "2.68", 10_000 for "2.31M"
    digits: int  # significant digits shown
    exponent: bool  # written with an exponent ("1.23e+06")
    signed: bool  # written with an explicit sign
    before: str  # the marker written just before (currency symbol or code), folded
    after: str  # the marker written just after (unit, currency), folded


_NUM = re.compile(r"([-+]?)(\d[\d,]*(?:\.\d+)?|\.\d+)(?:[eE]([-+]?\d+))?")
_GROUPED = re.compile(r"^[1-9]\d{0,2}(?:,\d{3})+(?:\.\d+)?$|^\d+(?:\.\d+)?$|^\.\d+$")
# Scale words after a number: a letter is written against the digits ("1.22M", "12k"), a word may
# follow a space ("2.31 million"). Lower-case "m" is metres or minutes, except against an amount
# after a currency symbol ("€2.31m", `_money_millions`).
_SCALE_AFTER = re.compile(r"(?:(k|K|M|B|mn|bn)|\s?(thousand|millions?|billions?|mn|bn))(?![^\W\d_])")
_SCALES = {"k": 3, "thousand": 3, "m": 6, "mn": 6, "million": 6, "millions": 6, "b": 9, "bn": 9}
_SCALES |= {"billion": 9, "billions": 9}
_MARK_BEFORE = re.compile(r"([A-Za-z]{1,3}[$¥]|[^\w\s]|[A-Za-z]+)\s?$")
_MARK_AFTER = re.compile(r"\s?(°\s?[cfCF]|[A-Za-z°%]+)")
_NUMBER_WORDS = {
    w: i
    for i, w in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
        "sixteen seventeen eighteen nineteen twenty".split()
    )
}
_TENS = {
    w: 10 * i for i, w in enumerate("twenty thirty forty fifty sixty seventy eighty ninety".split(), start=2)
}
_UNITS_WORDS = "one two three four five six seven eight nine".split()
_WORD = re.compile(
    r"(?<![\w-])(?:("
    + "|".join(_TENS)
    + r")[- ]("
    + "|".join(_UNITS_WORDS)
    + r")|("
    + "|".join([*_NUMBER_WORDS, *_TENS])
    + r"))(?![\w-])",
    re.I,
)


# Calendar dates written with digits: their parts are no counts, so a number check must not find
# the month of "2026-12-21" as the 12 it expects (a date is judged by the `date` kind).
_DIGIT_DATE = re.compile(
    r"(?<![\w.,/-])(?:\d{4}([-/.])\d{1,2}\1\d{1,2}|\d{1,2}([-/.])\d{1,2}\2\d{4})(?!(?!T\d)[\w/-]|[.,]\d)"
)
_MAX_EXPONENT = 100  # "1e999999": no count, amount or quantity a task checks is written so
_MAX_DIGITS = 100_000  # a number written out in more digits is no mention either


def _money_millions(raw: str, start: int, end: int) -> bool:
    """A lower-case "m" written against an amount after a currency symbol is millions ("€2.31m",
    "$5m"): after a symbol it cannot be metres or minutes."""
    return (
        start > 0
        and raw[start - 1] in "$€£¥₹"
        and raw.startswith("m", end)
        and (end + 1 == len(raw) or not raw[end + 1].isalpha())
    )


def _inside(spans: list[tuple[int, int]], starts: list[int], pos: int) -> bool:
    """Whether `pos` is inside one of `spans` (in order, disjoint; `starts` their starts)."""
    k = bisect.bisect_right(starts, pos) - 1
    return k >= 0 and pos < spans[k][1]


def _number_mentions(raw: str) -> Iterator[NumberMention]:
    # Dates do not overlap and come in order: the one that could hold a number is found by
    # bisection (testing every date for every number was quadratic in a long answer).
    dates = [m.span() for m in _DIGIT_DATE.finditer(raw)] if any(c in raw for c in "-/.") else []
    date_starts = [a for a, _ in dates]
    for m in _NUM.finditer(raw):
        sign, body, exp = m.group(1), m.group(2), m.group(3)
        start = m.start(2)
        if dates and _inside(dates, date_starts, start):
            continue
        if sign and m.start(1) > 0 and raw[m.start(1) - 1].isalnum():
            sign = ""  # "SKU-1001", "06-11": a separator, not a sign
        body = body.rstrip(",")
        end = start + len(body)
        if len(body) > _MAX_DIGITS:
            continue  # past what Decimal's context can subtract (an Overflow): no count a task checks
        if not _GROUPED.match(body):
            continue  # "12,15" is not one number
        if not _left_ok(raw, start, "0"):
            continue  # inside a longer number or an identifier ("19", "HB35459")
        if start >= 2 and raw[start - 1] == ":" and raw[start - 2].isdigit():
            continue  # the minutes of "21:29"
        scale, after_end = 0, (m.end() if exp is not None else end)
        if exp is None:
            if end < len(raw) and raw[end] == ":" and end + 1 < len(raw) and raw[end + 1].isdigit():
                continue  # the hour of "21:29"
            sm = _SCALE_AFTER.match(raw, end)
            if sm is not None:
                scale, after_end = _SCALES[(sm.group(1) or sm.group(2)).lower()], sm.end()
            elif _money_millions(raw, m.start(1), end):
                scale, after_end = 6, end + 1
            elif not _right_ok(raw, end, "0"):
                continue  # "1.33.7", "35459C54": not a whole number
        else:
            if len(exp.lstrip("+-0")) > 3 or abs(int(exp)) > _MAX_EXPONENT:
                continue
            scale = int(exp)
        plain = body.replace(",", "")
        value = Decimal(plain)
        decimals = len(plain.split(".")[1]) if "." in plain else 0
        quantum = Decimal(1).scaleb(-decimals + scale)
        digits = len(plain.replace(".", "").lstrip("0")) or 1
        if scale:
            value = value.scaleb(scale)
        if sign == "-":
            value = -value
        before = _MARK_BEFORE.search(raw, max(0, m.start(1) - 8), m.start(1))
        after = _MARK_AFTER.match(raw, after_end)
        yield NumberMention(
            value,
            quantum,
            digits,
            exp is not None,
            bool(sign),
            (before.group(1) if before else "").casefold(),
            (after.group(1) if after else "").replace(" ", "").casefold(),
        )
    for w in _WORD.finditer(raw):
        n = _word_value(w)
        yield NumberMention(Decimal(n), Decimal(1), len(str(n)), False, False, "", "")


def _word_value(w: re.Match[str]) -> int:
    if w.group(1):  # "forty-two", "forty two"
        return _TENS[w.group(1).lower()] + _UNITS_WORDS.index(w.group(2).lower()) + 1
    word = w.group(3).lower()
    return _NUMBER_WORDS[word] if word in _NUMBER_WORDS else _TENS[word]


def _significant(d: Decimal) -> int:
    """Significant digits of the expected value's decimal string (trailing zeros of an integer
    do not count: 390000 has 2)."""
    if d == 0:
        return 1
    return len(d.normalize().as_tuple().digits)


def number_matches(e: Expected, m: NumberMention) -> bool:
    """The rounding rule of docs/scoring.md, on decimal strings (never on binary floats)."""
    expected = _decimal(e)
    if expected is None:
        return False
    if m.exponent and "e" not in e.lower():
        return False  # "1.23457e+06" is not how 1234567 is shown
    shown = _in_mentioned_unit(e, m, expected) if e.kind == "quantity" else expected
    if shown is None:
        return False
    if shown == 0:
        return m.value == 0
    if m.value == 0:
        return False  # "0.00" is not a rounding of 0.0042
    if e.option("signed") and not m.signed:
        return False
    want = min(int(e.option("digits", DEFAULT_DIGITS)), _significant(expected))
    if m.digits < want and not (e.kind == "money" and m.quantum <= CENT):
        return False  # "$1.2M" is too coarse for 1,221,456.78; "0.92" euros is given to the cent
    return abs(m.value - shown) * 2 <= m.quantum and _unit_agrees(e, m)


# Markers of currencies and units: a currency marker next to a number that names another currency
# (dollars where euros are expected) rejects that mention; a unit of the expected unit's family
# (miles for km) has the expected value converted to it (`_in_mentioned_unit`).
_CURRENCY_MARKS = {
    "$": "usd",
    "us$": "usd",
    "usd": "usd",
    "dollar": "usd",
    "dollars": "usd",
    "€": "eur",
    "eur": "eur",
    "euro": "eur",
    "euros": "eur",
    "£": "gbp",
    "gbp": "gbp",
    "pound": "gbp",
    "pounds": "gbp",
    "jp¥": "jpy",
    "jpy": "jpy",
    "yen": "jpy",
    "₹": "inr",
    "inr": "inr",
    "rupees": "inr",
    "chf": "chf",
    "cad": "cad",
    "c$": "cad",
    "aud": "aud",
    "a$": "aud",
    "cny": "cny",
    "cn¥": "cny",
    "rmb": "cny",
    "renminbi": "cny",
    "yuan": "cny",
    "sek": "sek",
    "nok": "nok",
    "sgd": "sgd",
    "s$": "sgd",
}
_UNIT_MARKS = {
    "km": "km",
    "kms": "km",
    "kilometres": "km",
    "kilometers": "km",
    "mi": "mi",
    "miles": "mi",
    "mile": "mi",
    "°c": "c",
    "c": "c",
    "celsius": "c",
    "°f": "f",
    "f": "f",
    "fahrenheit": "f",
    "%": "%",
    "percent": "%",
    "ms": "ms",
    "s": "s",
    "sec": "s",
    "seconds": "s",
}


# Marks shared by several currencies: the yen and the yuan are both written "¥".
_SHARED_MARKS = {"¥": frozenset({"jpy", "cny"})}


def _unit_agrees(e: Expected, m: NumberMention) -> bool:
    if e.kind == "money":
        want = str(e.option("currency", "")).strip().casefold()
        want = _CURRENCY_MARKS.get(want, want)
        for mark in (m.before, m.after):
            shared = _SHARED_MARKS.get(mark)
            if want and shared is not None and want not in shared:
                return False
            got = _CURRENCY_MARKS.get(mark)
            if want and got and got != want:
                return False
    return True


# A quantity written in another unit of its family is the same value (DESIGN 4.3: the value, not
# its spelling): it is converted to the unit the answer shows, then judged by the rounding rule
# at the precision shown ("1.69 s" is 1686 ms; "6,925 miles" is 11,144 km; "59.5°F" is 15.3 °C).
_MILE_KM = Decimal("1.609344")  # the international mile, exactly
_CONVERT: dict[tuple[str, str], Callable[[Decimal], Decimal]] = {
    ("ms", "s"): lambda v: v / 1000,
    ("s", "ms"): lambda v: v * 1000,
    ("km", "mi"): lambda v: v / _MILE_KM,
    ("mi", "km"): lambda v: v * _MILE_KM,
    ("c", "f"): lambda v: v * 9 / 5 + 32,
    ("f", "c"): lambda v: (v - 32) * 5 / 9,
}


def _in_mentioned_unit(e: Expected, m: NumberMention, expected: Decimal) -> Decimal | None:
    """The expected quantity in the unit marked next to the mention (itself when no other unit of
    its family is marked); None when a unit is marked that it cannot be converted to."""
    want = str(e.option("unit", "")).strip().casefold().replace(" ", "")
    want = _UNIT_MARKS.get(want, want)
    for mark in (m.before, m.after):
        got = _UNIT_MARKS.get(mark)
        if want and got and got != want:
            convert = _CONVERT.get((want, got))
            return None if convert is None else convert(expected)
    return expected


# ---------------------------------------------------------------------------------------------
# Times of day

_TIME = re.compile(
    r"(?<![\d:.,])(\d{1,2})(?:(?::|h)(\d{2})(?::\d{2})?|\.(\d{2}))?(?![\d])"
    r"(?:\s?([ap])\.?\s?m\b\.?)?"
)


def _time_mentions(s: str) -> Iterator[tuple[int, int, str | None]]:
    for m in _TIME.finditer(s):
        h = int(m.group(1))
        minute = m.group(2) or m.group(3)
        mer = m.group(4)
        if minute is None and mer is None:
            continue  # a bare number is not a time
        if m.group(3) is not None and mer is None:
            continue  # "9.29" is a number unless it says am/pm
        mm = int(minute or 0)
        if mm > 59:
            continue
        if mer is not None and not 1 <= h <= 12:
            continue
        if mer is None and h > 23:
            continue
        yield h, mm, mer
    for m in re.finditer(r"(?<!\w)(noon|midday|midnight)(?!\w)", s):
        yield (12, 0, "p") if m.group(1) != "midnight" else (12, 0, "a")


def time_matches(e: Expected, mention: tuple[int, int, str | None]) -> bool:
    m = _HHMM.match(e)
    if m is None:
        return False
    hh, mm = int(m.group(1)), int(m.group(2))
    h, minute, mer = mention
    if minute != mm:
        return False
    if mer is not None:
        return (h % 12) + (12 if mer == "p" else 0) == hh
    return h == hh or (1 <= h <= 12 and h == (hh % 12 or 12))


# ---------------------------------------------------------------------------------------------
# Dates

_MONTHS = {
    "january": 1,
    "february": 2,
    "march": 3,
    "april": 4,
    "may": 5,
    "june": 6,
    "july": 7,
    "august": 8,
    "september": 9,
    "october": 10,
    "november": 11,
    "december": 12,
    "jan": 1,
    "feb": 2,
    "mar": 3,
    "apr": 4,
    "jun": 6,
    "jul": 7,
    "aug": 8,
    "sep": 9,
    "sept": 9,
    "oct": 10,
    "nov": 11,
    "dec": 12,
}
_MONTH = "(" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_ORD = r"(?:st|nd|rd|th)?"
_DATE_ISO = re.compile(r"(?<![\d\-/])(\d{4})[-/](\d{1,2})[-/](\d{1,2})(?![\d\-/])")
_DATE_MDY = re.compile(r"(?<![\w])" + _MONTH + r"\s(\d{1,2})" + _ORD + r"(?:,?\s(\d{4}))?(?![\w])")
_DATE_DMY = re.compile(r"(?<![\w])(\d{1,2})" + _ORD + r"(?:\sof)?\s" + _MONTH + r"(?:,?\s(\d{4}))?(?![\w])")


def _date_mentions(s: str) -> Iterator[tuple[int | None, int, int]]:
    for m in _DATE_ISO.finditer(s):
        yield int(m.group(1)), int(m.group(2)), int(m.group(3))
    for m in _DATE_MDY.finditer(s):
        yield (int(m.group(3)) if m.group(3) else None), _MONTHS[m.group(1)], int(m.group(2))
    for m in _DATE_DMY.finditer(s):
        yield (int(m.group(3)) if m.group(3) else None), _MONTHS[m.group(2)], int(m.group(1))


def date_matches(e: Expected, mention: tuple[int | None, int, int]) -> bool:
    m = _ISO_DATE.match(e)
    if m is None:
        return False
    y, mo, d = mention
    return mo == int(m.group(2)) and d == int(m.group(3)) and y in (None, int(m.group(1)))


# ---------------------------------------------------------------------------------------------
# Durations

_DURATION_UNITS = {
    "s": Decimal(1),
    "sec": Decimal(1),
    "secs": Decimal(1),
    "second": Decimal(1),
    "seconds": Decimal(1),
    "m": Decimal(60),
    "min": Decimal(60),
    "mins": Decimal(60),
    "minute": Decimal(60),
    "minutes": Decimal(60),
    "h": Decimal(3600),
    "hr": Decimal(3600),
    "hrs": Decimal(3600),
    "hour": Decimal(3600),
    "hours": Decimal(3600),
    "d": Decimal(86400),
    "day": Decimal(86400),
    "days": Decimal(86400),
}
_DUR_UNIT = r"(seconds?|secs?|s|minutes?|mins?|m|hours?|hrs?|hr|h|days?|d)"
# Starts only where `_left_ok` could keep a part (not after a digit, `_`, or a digit's `.`/`,`):
# tried at every digit of a long run, the digits were re-read each time, quadratic in the run
# (100,000 digits in an answer: minutes). The parts it finds are the same.
_DUR_PART = re.compile(
    r"(?<![\d_])(?<!\d[.,])(\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)\s?" + _DUR_UNIT + r"(?![a-z])"
)
_DUR_JOIN = re.compile(r"^(?:,?\s?(?:and\s)?)$")
_CLOCK = re.compile(r"(?<![\d:.])(\d{1,3})(:|h\s?)(\d{2})(?![\d:])")


def _words_to_digits(s: str) -> str:
    return _WORD.sub(lambda m: str(_word_value(m)), s)


def _duration_mentions(s: str) -> Iterator[tuple[Decimal, Decimal]]:
    """(total seconds, precision in seconds) for each compound mention ("3h 25m", "18 min and
    54 s"), and both readings of a clock-style one ("18:54" as m:ss and as h:mm)."""
    s = _words_to_digits(s)
    parts: list[re.Match[str]] = []
    for m in _DUR_PART.finditer(s):
        # "18m54s": a part written straight after the previous one's unit continues it.
        if _left_ok(s, m.start(), "0") or (parts and parts[-1].end() == m.start()):
            parts.append(m)
    i = 0
    while i < len(parts):
        total, quantum = Decimal(0), Decimal(0)
        j = i
        while True:
            m = parts[j]
            num, unit = m.group(1).replace(",", ""), _DURATION_UNITS[m.group(2)]
            decimals = len(num.split(".")[1]) if "." in num else 0
            total += Decimal(num) * unit
            quantum = unit.scaleb(-decimals)
            if j + 1 < len(parts) and _DUR_JOIN.match(s[m.end() : parts[j + 1].start()]):
                j += 1
                continue
            break
        yield total, quantum
        i = j + 1
    for m in _CLOCK.finditer(s):
        a, b = int(m.group(1)), int(m.group(3))
        if b < 60:
            if m.group(2) == ":":  # "18:54" may be m:ss; "3h25" is only h:mm
                yield Decimal(a * 60 + b), Decimal(1)
            yield Decimal(a * 3600 + b * 60), Decimal(60)


def duration_matches(e: Expected, mention: tuple[Decimal, Decimal]) -> bool:
    value = _decimal(str(e).split()[0])
    if value is None:
        return False
    unit = _DURATION_UNITS[str(e.option("unit", "s")).strip().lower()]
    expected = value * unit
    exponent = value.as_tuple().exponent
    resolution = unit.scaleb(exponent if isinstance(exponent, int) and exponent < 0 else 0)
    total, quantum = mention
    if expected != 0 and total == 0:
        return False
    coarsest = abs(expected) / Decimal(10) ** (int(e.option("digits", 2)) - 1)
    if quantum > max(resolution, coarsest):
        return False  # "3 hours" is too coarse for 3 h 25 min
    return abs(total - expected) * 2 <= quantum


# ---------------------------------------------------------------------------------------------
# States: vocabularies of synonyms and of negations that imply a state


@dataclass(frozen=True)
class State:
    forms: tuple[str, ...] = ()
    denies: tuple[str, ...] = ()  # states whose negated mention asserts this one


def _vocab(spec: Mapping[str, tuple[Sequence[str], Sequence[str]]]) -> dict[str, State]:
    return {k: State(tuple(forms), tuple(denies)) for k, (forms, denies) in spec.items()}


VOCABULARIES: dict[str, dict[str, State]] = {
    "weather": _vocab(
        {
            "sunny": (["sun", "sunshine", "clear skies"], []),
            "cloudy": (["clouds", "overcast"], []),
            "rain": (["rainy", "raining", "showers"], []),
            "windy": (["wind", "breezy", "gusty"], []),
            "snow": (["snowy", "snowing"], []),
            "fog": (["foggy", "mist", "misty"], []),
        }
    ),
    "pull_request": _vocab(
        {
            "open": (["still open", "unmerged"], ["merged"]),
            "merged": ([], []),
            "closed": (["closed without merging"], ["merged"]),
        }
    ),
    "build": _vocab(
        {
            "passed": (["passing", "succeeded", "successful", "success", "green"], []),
            "failed": (["failing", "failure", "broken", "red"], []),
            "running": (["in progress", "still running", "building"], []),
            "queued": (["pending", "waiting to run"], []),
        }
    ),
    "flight": _vocab(
        {
            "on_time": (["on schedule", "punctual"], ["delayed"]),
            "delayed": (["running late", "late", "behind schedule"], []),
            "cancelled": (["canceled"], []),
        }
    ),
    "ticket": _vocab(
        {
            "open": ([], []),
            "pending": (["on hold", "waiting"], []),
            "resolved": (["solved", "fixed"], []),
            "closed": (["shut", "closed out"], []),
        }
    ),
    "priority": _vocab(
        {"low": ([], []), "normal": (["medium", "standard"], []), "high": ([], []), "urgent": ([], [])}
    ),
    "order": _vocab(
        {
            "processing": (["being processed", "being prepared"], ["shipped"]),
            "shipped": (["dispatched", "in transit", "on its way", "on the way"], []),
            "delivered": (["arrived"], []),
        }
    ),
    "health": _vocab(
        {
            "healthy": (["operational", "up and running"], []),
            "degraded": ([], []),
            "down": (["outage", "offline", "unavailable"], []),
        }
    ),
    "incident": _vocab(
        {
            "investigating": (["under investigation", "being investigated"], []),
            "identified": ([], []),
            "monitoring": (["being monitored"], []),
            "resolved": ([], []),
        }
    ),
    "severity": _vocab({"warning": (["warn"], []), "critical": (["crit"], [])}),
    "stage": _vocab(
        {
            "prospect": ([], []),
            "negotiation": (["negotiating", "in negotiations"], []),
            "customer": ([], []),
            "renewal due": (["due for renewal", "up for renewal"], []),
        }
    ),
    "change": _vocab(
        {
            "up": (
                [
                    "higher",
                    "rise",
                    "rose",
                    "risen",
                    "rising",
                    "gain",
                    "gained",
                    "gaining",
                    "climbed",
                    "increased",
                ]
                + ["in the green"],
                ["down"],
            ),
            "down": (
                ["lower", "fall", "fell", "fallen", "falling", "drop", "dropped", "decline", "declined"]
                + ["decreased", "slipped", "in the red"],
                ["up"],
            ),
            "unchanged": (["flat"], []),
        }
    ),
    "rain": _vocab(
        {
            "rain": (["raining", "rainy", "showers"], []),
            "dry": (["no rain"], ["rain", "raining", "rainy"]),
        }
    ),
    "stock": _vocab(
        {
            "in_stock": (["available"], ["out of stock"]),
            "out_of_stock": (["sold out", "none left", "unavailable"], ["in stock", "available"]),
        }
    ),
    "acknowledgement": _vocab(
        {
            "acknowledged": (["acked"], []),
            "not_acknowledged": (["unacknowledged"], ["acknowledged", "acked"]),
        }
    ),
    "alert": _vocab(
        {
            "firing": (["still firing", "active"], []),
            "not_firing": (["no longer firing", "cleared", "inactive"], ["firing"]),
        }
    ),
}


def _state_key(value: str) -> str:
    return _fold(value).replace("_", " ").replace("-", " ").strip()


def _state_forms(value: str) -> tuple[str, ...]:
    base = value.strip()
    out = [base, base.replace("_", " "), base.replace("_", "-")]
    return tuple(dict.fromkeys(f for f in out if f))


@functools.lru_cache(maxsize=4096)
def _resolve_state(
    value: str, vocab: str | None, synonyms: tuple[tuple[str, tuple[str, ...]], ...]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(forms asserting the state, forms whose negation asserts it)."""
    key = _state_key(value)
    states: dict[str, State] = dict(VOCABULARIES.get(vocab or "", {}))
    forms = list(_state_forms(value))
    denied: list[str] = []
    for name, st in states.items():
        if _state_key(name) == key:
            forms += st.forms
            for d in st.denies:
                denied += _state_forms(d) + states.get(d, State()).forms
    for name, extra in synonyms:
        if _state_key(name) == key:
            forms += extra
    return tuple(dict.fromkeys(forms)), tuple(dict.fromkeys(denied))


_NEGATION = re.compile(
    r"(?:^|\s)(?:not|no|never|nor|without|cannot|isn't|aren't|wasn't|weren't|hasn't|haven't|hadn't|"
    r"doesn't|don't|didn't|won't|wouldn't|can't|couldn't|shouldn't|neither|\S+n't)$"
)
# Clause ends: punctuation, dashes used as punctuation, and "but"/"while"/"whereas", which turn a
# negated clause into an affirmed one ("isn't healthy — it's degraded", "not merged but open").
_CLAUSE = re.compile(r"[.;:!?,()\[\]\n|—–]|\s-\s|\b(?:but|while|whereas)\b")


def negated(text: AnswerText, start: int) -> bool:
    """Whether a mention starting at `start` is negated: a negation among the three words before
    it, in the same clause ("hasn't been merged", "not yet merged", "no rain")."""
    before = text.folded[max(0, start - 60) : start]
    cut = max((m.end() for m in _CLAUSE.finditer(before)), default=0)
    words = [w.strip("*_`\"'") for w in before[cut:].split()[-3:]]
    return any(_NEGATION.search(" " + w) for w in words if w)


def state_negated_only(e: Expected, text: AnswerText) -> bool:
    """A state's forms are written, but only negated: why a check that looks satisfied fails."""
    synonyms = e.option("synonyms") or {}
    syn = tuple(sorted((str(k), tuple(str(x) for x in v)) for k, v in synonyms.items()))
    forms, _ = _resolve_state(str(e), e.option("of"), syn)
    hits = [i for f in forms for i, _ in find_form(text, f)]
    return bool(hits) and all(negated(text, i) for i in hits)


def state_found(e: Expected, text: AnswerText) -> bool:
    synonyms = e.option("synonyms") or {}
    syn = tuple(sorted((str(k), tuple(str(x) for x in v)) for k, v in synonyms.items()))
    forms, denied = _resolve_state(str(e), e.option("of"), syn)
    for f in forms:
        for i, _ in find_form(text, f):
            if not negated(text, i):
                return True
    for f in denied:
        for i, _ in find_form(text, f):
            if negated(text, i):
                return True
    return False


# ---------------------------------------------------------------------------------------------
# Entities and people


def entity_forms(e: Expected) -> tuple[str, ...]:
    """The name, and the name without any of the leading or trailing parts it may omit ("Harbour
    View Madrid" without "Madrid", "LH168-2026-12-05" without "2026-12-05")."""
    forms = [str(e)]
    omit = [str(w).strip() for w in (e.option("may_omit") or ()) if str(w).strip()]
    for w in omit:
        for f in list(forms):
            low, part = f.casefold(), w.casefold()
            shorter = f
            if low.endswith(part):
                shorter = f[: len(f) - len(w)]
            elif low.startswith(part):
                shorter = f[len(w) :]
            shorter = shorter.strip(" ,-")
            if shorter and shorter != f:
                forms.append(shorter)
    return tuple(dict.fromkeys(forms))


def person_forms(e: Expected) -> tuple[str, ...]:
    """A name: itself and its given name. An email: itself, its local part as a name
    (`jamie.novak@` -> "jamie novak") and the given name it starts with."""
    v = str(e).strip()
    if "@" in v:
        local = v.split("@", 1)[0]
        words = [w for w in re.split(r"[._\-+]+", local) if w]
        out = [v, " ".join(words)] + ([words[0]] if words else [])
    else:
        words = v.split()
        out = [v] + ([words[0]] if len(words) > 1 else [])
    return tuple(dict.fromkeys(o for o in out if o))


# ---------------------------------------------------------------------------------------------
# Checking


def found(e: Expected, text: AnswerText) -> bool:
    """Whether the answer contains the expected value in any rendering its kind accepts."""
    if e.kind == "all":
        return all(found(p, text) for p in e.parts)
    if not e.strip():
        return True  # an empty rendering (an inactive branch) asks for nothing
    if any(has_form(text, a, plural=e.kind == "entity") for a in e.aliases):
        return True  # an entity's alias may be plural too ("3 Yoga Mats")
    k = e.kind
    if k in NUMERIC_KINDS:
        return any(number_matches(e, m) for m in text.numbers)
    if k == "time":
        return any(time_matches(e, m) for m in text.times)
    if k == "date":
        return any(date_matches(e, m) for m in text.dates) or has_form(text, e)
    if k == "duration":
        return any(duration_matches(e, m) for m in text.durations)
    if k == "state":
        return state_found(e, text)
    if k == "entity":
        return any(has_form(text, f, plural=True) for f in entity_forms(e))
    if k == "person":
        return any(has_form(text, f) for f in person_forms(e))
    return has_form(text, e)


def check_values(
    contains: Sequence[Expected],
    any_groups: Sequence[Sequence[Expected]],
    nots: Sequence[Expected],
    text: str | None,
) -> bool:
    """Every `contains` value found, one value of each `contains_any` group, no `not_contains`."""
    if not (contains or any_groups or nots):
        return True
    if text is None:
        return False
    t = AnswerText(text)
    if not all(found(as_expected(v), t) for v in contains):
        return False
    if not all(any(found(as_expected(v), t) for v in group) for group in any_groups):
        return False
    return not any(v.strip() and found(as_expected(v), t) for v in nots)


def check_answer(gt: GroundTruth, text: str | None) -> bool:
    """The task's answer check on a final answer (None: the episode ended without one), memoised
    per text by the ground truth (`GroundTruth.answer_ok`)."""
    return gt.answer_ok(text)


def expand(value: Expected) -> list[Expected]:
    """The values an all-of value stands for in `contains` and `not_contains` (each one wanted, or
    each one forbidden); any other value stands for itself."""
    return list(value.parts) if value.kind == "all" else [value]


def as_expected(value: Any) -> Expected:
    """A value already rendered (an `Expected`) or a plain string from older code: the latter gets
    its kind inferred, as a plain string in a fixture does."""
    if isinstance(value, Expected):
        return value
    return render(value)[0]

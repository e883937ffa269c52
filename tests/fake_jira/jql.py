"""The subset of JQL the fake Jira understands: enough for what the live source sends and for
what users commonly configure.

    clause   := field op value | field [NOT] IN (value, ...)
    query    := [expr] [ORDER BY field [ASC|DESC], ...]
    expr     := term (OR term)*
    term     := factor (AND factor)*
    factor   := NOT factor | (expr) | clause

Fields: project, key/issuekey, id, status, type/issuetype, updated, created. Dates are read as
Jira reads them: `yyyy/MM/dd HH:mm` (or with dashes, or a bare date) in the user's time zone.
Errors use Jira's own wording, in a 400 with `errorMessages`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

Issue = dict[str, Any]
Predicate = Callable[[Issue], bool]


class JqlError(ValueError):
    """A query Jira would reject with 400; the message is Jira's `errorMessages` text."""


_TOKEN = re.compile(
    r"""\s*(?:(?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')|(?P<op>>=|<=|!=|=|>|<|~)|"""
    r"""(?P<punct>[(),])|(?P<word>[^\s(),=<>!~"']+))"""
)
_DATE_FORMATS = ("%Y/%m/%d %H:%M", "%Y-%m-%d %H:%M", "%Y/%m/%d", "%Y-%m-%d")
_OFFSET = re.compile(r"([+-]\d{2})(\d{2})$")
FIELDS = ("project", "key", "issuekey", "id", "status", "type", "issuetype", "updated", "created")


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    position: int


def tokenize(jql: str) -> list[Token]:
    tokens: list[Token] = []
    position = 0
    while position < len(jql):
        if jql[position:].strip() == "":
            break
        match = _TOKEN.match(jql, position)
        if not match or match.end() == position:
            raise JqlError(
                f"Error in the JQL Query: The character '{jql[position]}' is a reserved JQL "
                f"character. (line 1, character {position + 1})"
            )
        kind = match.lastgroup or "word"
        text = match.group(kind)
        if kind == "string":
            text = re.sub(r"\\(.)", r"\1", text[1:-1])
        tokens.append(Token(kind, text, match.start(kind) + 1))
        position = match.end()
    return tokens


def jira_instant(text: str) -> datetime:
    return datetime.fromisoformat(_OFFSET.sub(r"\1:\2", text.replace("Z", "+00:00")))


def _key_order(issue: Issue) -> tuple[str, int]:
    project, _, number = str(issue.get("key", "")).rpartition("-")
    return project, int(number) if number.isdigit() else 0


def _field_value(issue: Issue, field: str) -> Any:
    fields = issue.get("fields") or {}
    if field == "project":
        project = fields.get("project") or {}
        return {str(project.get("key", "")).upper(), str(project.get("id", ""))}
    if field in ("key", "issuekey"):
        return {str(issue.get("key", "")).upper()}
    if field == "id":
        return {str(issue.get("id"))}
    if field == "status":
        status = fields.get("status") or {}
        return {str(status.get("name", "")).upper(), str(status.get("id", ""))}
    if field in ("type", "issuetype"):
        kind = fields.get("issuetype") or {}
        return {str(kind.get("name", "")).upper(), str(kind.get("id", ""))}
    raise AssertionError(field)


class _Parser:
    def __init__(self, jql: str, time_zone: ZoneInfo) -> None:
        self.tokens = tokenize(jql)
        self.index = 0
        self.zone = time_zone

    def peek(self) -> Token | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def peek_word(self, *words: str) -> bool:
        token = self.peek()
        return token is not None and token.kind == "word" and token.text.lower() in words

    def take(self) -> Token:
        token = self.peek()
        if token is None:
            raise JqlError("Error in the JQL Query: Expecting more of the query at its end.")
        self.index += 1
        return token

    def expect(self, kind: str, text: str | None = None) -> Token:
        token = self.take()
        if token.kind != kind or (text is not None and token.text.lower() != text):
            raise JqlError(
                f"Error in the JQL Query: Expecting '{text or kind}' but got '{token.text}'. "
                f"(line 1, character {token.position})"
            )
        return token

    def parse(self) -> tuple[Predicate, list[tuple[str, bool]]]:
        predicate: Predicate = lambda issue: True  # noqa: E731
        if self.peek() is not None and not self.peek_word("order"):
            predicate = self.expression()
        order: list[tuple[str, bool]] = []
        if self.peek_word("order"):
            self.take()
            self.expect("word", "by")
            while True:
                field = self.take().text.lower()
                if field not in ("key", "issuekey", "id", "created", "updated", "rank"):
                    raise JqlError(
                        f"Field '{field}' does not exist or you do not have permission to view it."
                    )
                descending = False
                if self.peek_word("asc", "desc"):
                    descending = self.take().text.lower() == "desc"
                order.append((field, descending))
                if not (self.peek() and self.peek().kind == "punct" and self.peek().text == ","):
                    break
                self.take()
        if self.peek() is not None:
            token = self.peek()
            raise JqlError(
                f"Error in the JQL Query: Expecting either 'OR' or 'AND' but got '{token.text}'. "
                f"(line 1, character {token.position})"
            )
        return predicate, order

    def expression(self) -> Predicate:
        terms = [self.term()]
        while self.peek_word("or"):
            self.take()
            terms.append(self.term())
        return terms[0] if len(terms) == 1 else lambda issue: any(t(issue) for t in terms)

    def term(self) -> Predicate:
        factors = [self.factor()]
        while self.peek_word("and"):
            self.take()
            factors.append(self.factor())
        return factors[0] if len(factors) == 1 else lambda issue: all(f(issue) for f in factors)

    def factor(self) -> Predicate:
        if self.peek_word("not"):
            self.take()
            inner = self.factor()
            return lambda issue: not inner(issue)
        token = self.peek()
        if token is not None and token.kind == "punct" and token.text == "(":
            self.take()
            inner = self.expression()
            self.expect("punct", ")")
            return inner
        return self.clause()

    def clause(self) -> Predicate:
        field_token = self.take()
        field = field_token.text.lower()
        if field_token.kind not in ("word", "string") or field not in FIELDS:
            raise JqlError(
                f"Field '{field_token.text}' does not exist or you do not have permission to "
                "view it."
            )
        negated = False
        if self.peek_word("not"):
            self.take()
            negated = True
        if self.peek_word("in"):
            self.take()
            self.expect("punct", "(")
            values = [self.value_text()]
            while self.peek() is not None and self.peek().text == ",":
                self.take()
                values.append(self.value_text())
            self.expect("punct", ")")
            wanted = {value.upper() for value in values}
            return lambda issue: bool(_field_value(issue, field) & wanted) != negated
        operator = self.take()
        if operator.kind != "op":
            raise JqlError(
                f"Error in the JQL Query: Expecting operator but got '{operator.text}'. The valid "
                "operators are '=', '!=', '<', '>', '<=', '>=', '~', '!~', 'IN', 'NOT IN', 'IS' "
                f"and 'IS NOT'. (line 1, character {operator.position})"
            )
        value = self.value_text()
        if field in ("updated", "created"):
            return self.date_clause(field, operator.text, value)
        if operator.text not in ("=", "!="):
            raise JqlError(
                f"The operator '{operator.text}' is not supported by the '{field}' field."
            )
        wanted_one = value.upper()
        matches_equal = operator.text == "="
        return lambda issue: (wanted_one in _field_value(issue, field)) == matches_equal

    def value_text(self) -> str:
        token = self.take()
        if token.kind not in ("word", "string"):
            raise JqlError(
                f"Error in the JQL Query: Expecting a value but got '{token.text}'. "
                f"(line 1, character {token.position})"
            )
        return token.text

    def date_clause(self, field: str, operator: str, value: str) -> Predicate:
        for pattern in _DATE_FORMATS:
            try:
                local = datetime.strptime(value, pattern).replace(tzinfo=self.zone)
                break
            except ValueError:
                continue
        else:
            raise JqlError(
                f"Date value '{value}' for field '{field}' is invalid. Valid formats include: "
                "'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd', or a period "
                "format e.g. '-5d', '4w 2d'."
            )
        bound = local.astimezone(UTC)
        compare: dict[str, Callable[[datetime], bool]] = {
            ">=": lambda instant: instant >= bound,
            ">": lambda instant: instant > bound,
            "<=": lambda instant: instant <= bound,
            "<": lambda instant: instant < bound,
            "=": lambda instant: instant == bound,
            "!=": lambda instant: instant != bound,
        }
        if operator not in compare:
            raise JqlError(f"The operator '{operator}' is not supported by the '{field}' field.")
        test = compare[operator]

        def predicate(issue: Issue) -> bool:
            stamp = (issue.get("fields") or {}).get(field)
            return bool(stamp) and test(jira_instant(str(stamp)).astimezone(UTC))

        return predicate


def compile_jql(jql: str, time_zone: str = "UTC") -> Callable[[list[Issue]], list[Issue]]:
    """The issues (filtered and ordered) a query selects from a list, or JqlError."""
    predicate, order = _Parser(jql or "", ZoneInfo(time_zone)).parse()

    def select(issues: list[Issue]) -> list[Issue]:
        chosen = [issue for issue in issues if predicate(issue)]
        for field, descending in reversed(order):
            if field == "rank":
                continue
            if field in ("key", "issuekey"):
                chosen.sort(key=_key_order, reverse=descending)
            elif field == "id":
                chosen.sort(key=lambda issue: int(issue.get("id", 0)), reverse=descending)
            else:
                chosen.sort(
                    key=lambda issue, name=field: jira_instant(issue["fields"][name]),
                    reverse=descending,
                )
        return chosen

    return select

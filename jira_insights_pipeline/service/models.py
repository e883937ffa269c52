"""The service's request and response bodies, as pydantic models: FastAPI validates every
request against them and publishes them in the OpenAPI description (`/openapi.json`).

The insight models follow insight.schema.json (the feed is validated against that schema when
it is read); they allow extra fields, so a later minor version of the schema passes through.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from jira_insights_pipeline.ask import MAX_QUESTION_CHARS
from jira_insights_pipeline.service.feedback import NOTE_MAX_CHARS, Verdict

Severity = Literal["info", "warning", "error"]
Change = Literal["new", "worse", "better", "open"]


class BoardRef(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: int
    name: str


class SprintRef(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: int
    name: str


class Evidence(BaseModel):
    model_config = ConfigDict(extra="allow")
    issue_key: str
    reason: str


class Insight(BaseModel):
    """One insight as the feed has it (docs/insights.md, "One insight")."""

    model_config = ConfigDict(extra="allow")
    id: str = Field(description="Changes with every snapshot; see `subject`.")
    subject: str = Field(description="What the insight is about, the same on every day.")
    type: str = Field(description="The use case.")
    severity: Severity
    change: Change | None
    title: str
    message: str
    recommendations: list[str]
    facts: dict[str, Any]
    evidence: list[Evidence]
    board: BoardRef
    sprint: SprintRef | None
    as_of: str
    generated_by: Literal["model", "template"]
    model: dict[str, Any] | None


class ResolvedInsight(BaseModel):
    """A problem of the previous day's feed that is no longer raised."""

    model_config = ConfigDict(extra="allow")
    subject: str
    id: str
    type: str
    severity: Severity
    title: str
    board: BoardRef
    sprint: SprintRef | None


class FeedHeader(BaseModel):
    as_of: str = Field(description="The instant (UTC) the Jira data describes.")
    compared_with: str | None = Field(description="The day changes are judged against.")
    schema_version: str


class InsightList(FeedHeader):
    """The current insights, most severe first, then by the team's helpfulness per use case,
    then in the feed's order; dismissed ones left out unless asked for."""

    status: Literal["current"] = "current"
    count: int
    hidden_by_dismissal: int = Field(description="Matching insights left out as dismissed.")
    helpfulness: dict[str, int] = Field(
        description="Per use case, helpful minus not-helpful verdicts (the second sort key)."
    )
    insights: list[Insight]


class ResolvedList(FeedHeader):
    """The feed's `resolved` list: problems no longer raised since `compared_with`."""

    status: Literal["resolved"] = "resolved"
    count: int
    resolved: list[ResolvedInsight]


class SeverityCounts(BaseModel):
    error: int = 0
    warning: int = 0
    info: int = 0


class BoardSummary(BaseModel):
    id: int
    name: str
    counts: SeverityCounts = Field(description="The feed's insights of the board, by severity.")
    dismissed: int = Field(description="How many of them are hidden as dismissed.")


class BoardList(FeedHeader):
    boards: list[BoardSummary]


class KeyFigure(BaseModel):
    """A board's key figure of one use case, as the report shows it."""

    label: str
    value: str
    detail: str
    alert: bool | None = Field(description="Crossed its rule; null: nothing to judge yet.")


class BoardDetail(BoardSummary):
    as_of: str
    compared_with: str | None
    figures: list[KeyFigure] = Field(description="The key figures of the published report.")
    insights: list[Insight]
    resolved: list[ResolvedInsight]


class Health(BaseModel):
    ok: bool = Field(description="True when a valid published feed is there to serve.")
    data_folder: str
    feed_exists: bool
    as_of: str | None
    schema_version: str | None
    problem: str | None = Field(description="Why the feed cannot be served, and what to do.")
    feedback_store: str


class Version(BaseModel):
    version: str = Field(description="Changes whenever the feed or the report is replaced.")
    as_of: str | None
    feed_mtime_ns: int | None


class FeedbackIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    verdict: Verdict
    note: str = Field(default="", max_length=NOTE_MAX_CHARS)


class FeedbackOut(BaseModel):
    feedback_id: int
    subject: str
    insight_id: str
    use_case: str
    board_id: int
    severity: Severity
    facts_fingerprint: str
    verdict: Verdict
    note: str
    recorded_at: str
    hidden: bool = Field(description="Whether the insight is now hidden as dismissed.")


class Problem(BaseModel):
    detail: str


class AskIn(BaseModel):
    """A question in plain words (ask.py), not blank, at most MAX_QUESTION_CHARS long."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    question: str = Field(min_length=1, max_length=MAX_QUESTION_CHARS)


class AnalysisRef(BaseModel):
    use_case: str
    use_case_label: str
    board: BoardRef
    sprint: str | None
    insight_id: str


class AskAnswer(BaseModel):
    """The answer: the analysis's insight as validated (`answered`), or what can be asked."""

    model_config = ConfigDict(extra="allow")
    question: str
    answered: bool
    message: str
    analysis: AnalysisRef | None = None
    chosen_because: str | None = None
    severity: Severity | None = None
    title: str | None = None
    recommendations: list[str] = Field(default_factory=list)
    facts: dict[str, Any] = Field(default_factory=dict)
    evidence: list[Evidence] = Field(default_factory=list)
    link: str | None = None
    reason: str | None = None
    examples: list[str] = Field(default_factory=list)

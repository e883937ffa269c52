"""Words for the sample site: teams, people, and the summaries, user stories and acceptance
criteria their tickets carry. Only text; no decisions about what happens to a ticket."""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class Team:
    """A team and what it works on. `areas` groups its things into Jira components (name,
    things); a team without areas files everything under one component named after its board."""

    name: str
    key: str
    things: tuple[str, ...]
    persona: str
    areas: tuple[tuple[str, tuple[str, ...]], ...] = ()


TEAMS: tuple[Team, ...] = (
    Team(
        "Checkout",
        "CHK",
        (
            "cart summary",
            "discount codes",
            "gift cards",
            "shipping options",
            "payment step",
            "order confirmation",
            "guest checkout",
            "address form",
            "tax calculation",
            "saved cards",
            "delivery estimate",
            "basket recovery email",
        ),
        "shopper",
    ),
    Team(
        "Mobile App",
        "MOB",
        (
            "onboarding flow",
            "push notifications",
            "offline mode",
            "login screen",
            "deep links",
            "settings page",
            "app rating prompt",
            "dark mode",
            "biometric login",
            "image cache",
            "order tracking screen",
            "in-app messages",
        ),
        "app user",
    ),
    Team(
        "Payments",
        "PAY",
        (
            "refund flow",
            "payment gateway client",
            "invoice export",
            "3-D Secure challenge",
            "chargeback report",
            "currency conversion",
            "payout schedule",
            "ledger reconciliation",
            "webhook retries",
            "fraud rules",
            "card tokenization",
            "SEPA mandates",
        ),
        "finance analyst",
        (
            (
                "Gateway",
                (
                    "payment gateway client",
                    "3-D Secure challenge",
                    "webhook retries",
                    "fraud rules",
                    "card tokenization",
                ),
            ),
            ("Payouts", ("refund flow", "currency conversion", "payout schedule", "SEPA mandates")),
            ("Finance reports", ("invoice export", "chargeback report", "ledger reconciliation")),
        ),
    ),
    Team(
        "Platform",
        "PLAT",
        (
            "CI pipeline",
            "service mesh",
            "log retention",
            "alerting rules",
            "database backups",
            "secrets rotation",
            "Kubernetes upgrade",
            "API gateway",
            "feature flags",
            "cost dashboard",
            "on-call runbook",
            "TLS certificates",
        ),
        "service owner",
    ),
    Team(
        "Search",
        "SRCH",
        (
            "search ranking",
            "autocomplete",
            "synonym list",
            "search filters",
            "zero-result page",
            "index rebuild",
            "spelling suggestions",
            "facet counts",
        ),
        "shopper",
    ),
    Team(
        "Identity",
        "IAM",
        (
            "single sign-on",
            "password reset",
            "MFA enrolment",
            "session timeout",
            "account recovery",
            "role editor",
            "audit log",
            "SCIM sync",
        ),
        "administrator",
        (
            ("Login", ("single sign-on", "MFA enrolment", "session timeout", "SCIM sync")),
            ("Accounts", ("password reset", "account recovery", "role editor", "audit log")),
        ),
    ),
    Team(
        "Catalog",
        "CAT",
        (
            "product import",
            "variant editor",
            "price history",
            "image pipeline",
            "category tree",
            "bulk edit",
            "stock badge",
            "product feed",
        ),
        "merchandiser",
    ),
    Team(
        "Analytics",
        "ANA",
        (
            "sales dashboard",
            "event tracking",
            "cohort report",
            "data export",
            "funnel chart",
            "KPI alerts",
            "attribution model",
            "warehouse loader",
        ),
        "business analyst",
    ),
)

FIRST_NAMES = (
    "Anna",
    "Ben",
    "Chiara",
    "David",
    "Elif",
    "Felix",
    "Grace",
    "Hugo",
    "Ines",
    "Jonas",
    "Karin",
    "Lukas",
    "Maya",
    "Nico",
    "Olga",
    "Pablo",
    "Rosa",
    "Sven",
    "Tara",
    "Umar",
    "Vera",
    "Wen",
    "Yusuf",
    "Zoe",
)
LAST_NAMES = (
    "Albers",
    "Brandt",
    "Costa",
    "Dietrich",
    "Eriksen",
    "Fischer",
    "Garcia",
    "Hoffmann",
    "Ivanova",
    "Jansen",
    "Kowalski",
    "Lindqvist",
    "Meyer",
    "Nowak",
    "Okafor",
    "Petrov",
    "Quinn",
    "Rossi",
    "Schmidt",
    "Tanaka",
    "Urban",
    "Vogel",
    "Weber",
    "Yilmaz",
)

_STORY_VERBS = ("Add", "Improve", "Support", "Redesign", "Validate", "Speed up", "Simplify", "Show")
_QUALIFIERS = (
    "for returning customers",
    "on mobile web",
    "for EU customers",
    "with clear error messages",
    "behind a feature flag",
    "for large accounts",
    "in the admin view",
    "without a page reload",
    "for screen reader users",
    "in all supported languages",
)
_BENEFITS = (
    "I can finish my task without calling support",
    "I save time every day",
    "mistakes are caught before they cost money",
    "I trust the numbers I see",
    "I am not surprised by what happens next",
    "the team can see problems early",
)
_AC_LINES = (
    "Given a signed-in user, when they open the {thing}, then it loads in under 2 seconds",
    "Errors on the {thing} are shown inline and logged with a correlation id",
    "An analytics event is sent each time the {thing} is used",
    "The {thing} is covered by an end-to-end test in the nightly run",
    "Copy on the {thing} is reviewed by the content team",
    "The {thing} works on the latest two versions of Chrome, Safari and Firefox",
    "Screen readers announce every change on the {thing}",
    "The {thing} respects the user's language and currency settings",
    "Existing data is migrated without downtime",
    "The old {thing} stays available behind a flag for one release",
    "Given an expired session, when the user acts on the {thing}, then they are asked to sign in",
    "p95 latency of the {thing} stays below 300 ms under peak load",
    "The {thing} is documented in the team's runbook",
    "Audit entries are written for every change made through the {thing}",
    "The {thing} handles an empty state with a helpful message",
    "Rollout starts with 5% of traffic and is monitored for a day",
)
_BUG_SYMPTOMS = (
    "fails with HTTP 500",
    "shows the wrong total",
    "times out under load",
    "crashes on Android 14",
    "charges twice on retry",
    "loses its state after a refresh",
    "renders blank in Safari",
    "returns stale data",
    "ignores the user's language",
    "sends duplicate emails",
    "rounds amounts incorrectly",
    "is missing for some accounts",
)
_TASK_TEMPLATES = (
    "Upgrade the {thing} dependencies",
    "Write a runbook for the {thing}",
    "Remove the old feature flag of the {thing}",
    "Add monitoring for the {thing}",
    "Spike: evaluate options for the {thing}",
    "Clean up logs of the {thing}",
    "Load test the {thing}",
)
_SUBTASK_TEMPLATES = (
    "Backend changes",
    "Frontend changes",
    "Write tests",
    "Update documentation",
    "Review fixes",
    "Migration script",
)
_EPIC_TEMPLATES = ("{Thing} revamp", "{Thing} reliability", "Next-generation {thing}", "{Thing} v2")
_GOAL_TEMPLATES = (
    "Ship the new {thing}",
    "Make the {thing} reliable",
    "Finish the {thing} work",
    "Get the {thing} ready for the holiday season",
)


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


def story_summary(rng: random.Random, thing: str) -> str:
    return f"{rng.choice(_STORY_VERBS)} {thing} {rng.choice(_QUALIFIERS)}"


def user_story(rng: random.Random, persona: str, summary: str) -> str:
    want = summary[:1].lower() + summary[1:]
    return f"As a {persona}, I want to {want} so that {rng.choice(_BENEFITS)}."


def acceptance_criteria(rng: random.Random, thing: str, count: int) -> list[str]:
    lines = rng.sample(_AC_LINES, k=min(count, len(_AC_LINES)))
    return [line.format(thing=thing) for line in lines]


def more_acceptance_criteria(
    rng: random.Random, thing: str, existing: list[str], count: int
) -> list[str]:
    unused = [line.format(thing=thing) for line in _AC_LINES]
    unused = [line for line in unused if line not in existing]
    return rng.sample(unused, k=min(count, len(unused)))


def bug_summary(rng: random.Random, thing: str) -> str:
    return f"{_capitalised(thing)} {rng.choice(_BUG_SYMPTOMS)}"


def bug_text(rng: random.Random, thing: str, environment: str | None) -> list[str]:
    where = f" on {environment}" if environment else ""
    return [
        f"Steps to reproduce{where}: open the {thing} and repeat the last action twice.",
        f"Expected: the {thing} behaves as before. Actual: {rng.choice(_BUG_SYMPTOMS)}.",
    ]


def task_summary(rng: random.Random, thing: str) -> str:
    return rng.choice(_TASK_TEMPLATES).format(thing=thing)


def subtask_summary(rng: random.Random) -> str:
    return rng.choice(_SUBTASK_TEMPLATES)


def epic_summary(rng: random.Random, thing: str) -> str:
    template = rng.choice(_EPIC_TEMPLATES)
    return template.format(thing=thing, Thing=_capitalised(thing))


def sprint_goal(rng: random.Random, thing: str) -> str:
    return rng.choice(_GOAL_TEMPLATES).format(thing=thing)

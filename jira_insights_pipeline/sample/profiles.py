"""What each board of the sample site is planted with, sprint by sprint.

A board's `Profile` names the trouble its team is in (or none, for the healthy team), and with
it the board's workflow. `sprint_knobs` turns a profile into numbers for one sprint: how much of
the commitment gets finished, how long work takes, how many stories grow after the start, how
many bugs reach production, what is left stuck when the site is exported. The simulation reads
only these numbers; PLANTED.md lists what they add up to on the shipped site.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum

from jira_insights_pipeline.sample.jira_shapes import (
    QA_WORKFLOW,
    SELECTED_WORKFLOW,
    SIMPLE_WORKFLOW,
    Workflow,
)


class Profile(Enum):
    """What a board's team struggles with; the healthy profile struggles with nothing."""

    GROWING_STORIES = "stories grow after the active sprint starts; work got slower to finish"
    OVERCOMMITTED = "commits to more than it finishes: heavy spillover, fewer points completed"
    LEAKY_TESTING = "bugs slip through testing to production; tickets left stale or stuck"
    HEALTHY = "healthy"


# Board n (from 0) has the profile PROFILE_CYCLE[n % 4], so bigger sites repeat the four boards.
PROFILE_CYCLE = (
    Profile.GROWING_STORIES,
    Profile.OVERCOMMITTED,
    Profile.LEAKY_TESTING,
    Profile.HEALTHY,
)
WORKFLOWS: dict[Profile, Workflow] = {
    Profile.GROWING_STORIES: SIMPLE_WORKFLOW,
    Profile.OVERCOMMITTED: SELECTED_WORKFLOW,
    Profile.LEAKY_TESTING: QA_WORKFLOW,
    Profile.HEALTHY: SIMPLE_WORKFLOW,
}


@dataclass(frozen=True)
class SprintKnobs:
    """What one sprint of a board looks like; `r` counts sprints back from the active one."""

    completion: float  # share of the committed work finished by the sprint's end
    cycle_days: float  # median days from In Progress to Done of what is finished
    cycle_spread: float  # sigma of the log of that duration
    committed_stories: int | None  # stories in the sprint at its start; None: the usual number
    grown_stories: int  # committed stories re-estimated upwards by more than 30% after start
    small_to_large: int  # of those, stories of at most 3 points that end with at least 8
    shrunk_stories: int  # committed stories re-estimated downwards after start
    extra_ac_growth: int  # committed stories whose acceptance criteria grow without re-estimate
    added_after_start: int  # issues put into the sprint after it started
    production_bugs: int  # bugs found in production while the sprint ran
    qa_bugs: int  # bugs found on QA or staging while the sprint ran
    unclassified_bugs: int  # bugs with no environment at all
    unfinished_started_share: float  # share of unfinished work that was started
    leftover_bugs: int  # bugs of this sprint left in the backlog for good
    frozen_in_progress: int = 0  # unfinished started work that then stops moving
    flagged_now: int = 0  # work flagged as an impediment in the active sprint, never cleared
    blocked_now: int = 0  # work moved to Blocked in the active sprint and left there
    unestimated_stories: int = 0  # planned stories nobody estimates
    # Of the bugs added after the start, how many the team drops committed work to fix at once.
    urgent_bugs: int = 0
    # Of finished work, the share of its time from start to done within which every move but the
    # last falls (below 1: the rest is spent in its last step before done, waiting in review).
    work_share: float = 1.0


def sprint_knobs(profile: Profile, r: int, story_count: int, bug_count: int) -> SprintKnobs:
    """The sprint `r` sprints before the active one (r = 0: the active sprint)."""
    if profile is Profile.GROWING_STORIES:
        # The active sprint's stories grow; the last closed sprint's work took over twice as long,
        # the extra time spent waiting in review: its moves before review take as long as in
        # the ordinary sprints (3.5 of 8 days), the rest waits there.
        planted = r == 0
        return SprintKnobs(
            completion=0.88 if r == 1 else 0.9,
            cycle_days=8.0 if r == 1 else 3.5,
            cycle_spread=0.3,
            committed_stories=story_count + 2 if planted else None,
            grown_stories=math.ceil(0.4 * (story_count + 2)) if planted else int(r % 3 == 2),
            small_to_large=2 if planted else 0,
            shrunk_stories=int(r % 4 == 3),
            extra_ac_growth=1 if planted else 0,
            added_after_start=3 if planted else 1,
            production_bugs=int(r == 5),
            qa_bugs=bug_count,
            unclassified_bugs=1,
            unfinished_started_share=0.5,
            leftover_bugs=int(r % 3 == 0),
            work_share=3.5 / 8.0 if r == 1 else 1.0,
        )
    if profile is Profile.OVERCOMMITTED:
        # The last three closed sprints finish less and less of their commitment, and the active
        # sprint is heading the same way. In the last closed sprint the team also took in every
        # bug found on QA and fixed three of them at once, while committed stories waited.
        return SprintKnobs(
            completion={0: 0.55, 1: 0.4, 2: 0.58, 3: 0.68}.get(r, 0.92),
            cycle_days=4.0,
            cycle_spread=0.3,
            committed_stories=None,
            grown_stories=int(r % 3 == 1),
            small_to_large=0,
            shrunk_stories=0,
            extra_ac_growth=0,
            added_after_start=6 if r == 1 else 2 if r <= 3 else 1,
            production_bugs=int(r == 6),
            qa_bugs=bug_count,
            unclassified_bugs=1,
            unfinished_started_share=0.25,
            leftover_bugs=int(r % 2 == 0),
            urgent_bugs=3 if r == 1 else 0,
        )
    if profile is Profile.LEAKY_TESTING:
        # About two classified bugs in five reach production, every sprint; work started in the
        # last closed sprint stops moving, and the active sprint has stuck and unestimated work.
        production = round(0.4 * bug_count)
        return SprintKnobs(
            completion=0.8 if r == 1 else 0.86,
            cycle_days=4.5,
            cycle_spread=0.3,
            committed_stories=None,
            grown_stories=int(r % 3 == 0),
            small_to_large=0,
            shrunk_stories=0,
            extra_ac_growth=0,
            added_after_start=production,
            production_bugs=production,
            qa_bugs=bug_count - production,
            unclassified_bugs=1,
            unfinished_started_share=0.6,
            leftover_bugs=1,
            frozen_in_progress=3 if r == 1 else 0,
            flagged_now=2 if r == 0 else 0,
            blocked_now=1 if r == 0 else 0,
            unestimated_stories=1 if r == 0 else 0,
        )
    return SprintKnobs(
        completion=0.94 if r % 2 == 1 else 1.0,
        cycle_days=2.8 if r == 1 else 3.0,
        cycle_spread=0.2,
        committed_stories=None,
        grown_stories=int(r % 4 == 2),
        small_to_large=0,
        shrunk_stories=int(r % 4 == 0 and r > 0),
        extra_ac_growth=0,
        added_after_start=int(r % 3 == 1),
        production_bugs=0,
        qa_bugs=bug_count,
        unclassified_bugs=1,
        unfinished_started_share=0.0,
        leftover_bugs=0,
    )

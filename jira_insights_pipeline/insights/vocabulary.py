"""The words a model-written insight may use, outside placeholders.

The grammar only lets the model spell words from this list (plus an optional "'s"), so it cannot
invent words, spell out a number ("zero", "twenty"), name a person or product, or talk about
itself ("model", "prompt", "AI"): none of those are here. Numbers, keys and names reach the text
only as placeholders. Add a word here when a useful sentence needs it; never add a number word,
a name or a word about how the text was written (the validator rejects those anyway).
"""

from __future__ import annotations


def _split(text: str) -> list[str]:
    return text.split()


_FUNCTION_WORDS = _split(
    """
a an the this that these those it its they them their there here which who whose what when
where why how than then so if because since while until unless though although as at by for
from in into of on onto over under out up down off with without within about above below
after before during between through across against along around toward towards per via
and or but nor not no yet also too very only just still even again already rather quite
much more most less least many few fewer some any each both either neither other others
another such same own is are was were be been being am has have had having do does did done
doing can could may might must shall should will would let lets
"""
)

_SCRUM_NOUNS = _split(
    """
team teams sprint sprints story stories point points scope board boards bug bugs defect defects
issue issues ticket tickets task tasks item items work backlog epic epics estimate estimates
estimation commitment commitments target targets goal goals plan plans planning refinement
review reviews retrospective retro standup scrum daily demo velocity trend trends forecast
forecasts capacity throughput pace flow cycle time times lead rate rates share ratio limit
limits threshold score scores hygiene health production release releases test tests testing
tester testers quality criteria acceptance definition owner owners product stakeholder
stakeholders customer customers user users change changes growth size sizes risk risks
problem problems cause causes reason reasons root pattern patterns signal signals concern
concerns blocker blockers dependency dependencies progress status update updates comment
comments detail details requirement requirements design code coding reviewer reviewers
developer developers process practice practices habit habits step steps meeting meetings
conversation conversations feedback focus priority priorities deadline deadlines week weeks
day days start end middle rest part parts half-way mean average median range number amount
level levels escape escapes leak leakage spillover carryover rework slip slips overrun
commitment slice slices split splits swarm swarming environment qa check checks gate gates
note notes action actions improvement improvements fix fixes habit context history
estimate chance odds expectation expectations result results outcome outcomes
"""
)

_VERBS = _split(
    """
add adds added adding grow grows grew grown growing increase increases increased increasing
decrease decreases decreased decreasing drop drops dropped dropping fall falls fell fallen
falling rise rises rose risen rising slow slows slowed slowing finish finishes finished
finishing complete completes completed completing deliver delivers delivered delivering
commit commits committed committing plan planned planning move moves moved moving spill
spills spilled spilling carry carries carried carrying miss misses missed missing meet meets
met meeting reach reaches reached reaching stay stays stayed staying keep keeps kept keeping
hold holds held holding block blocks blocked blocking wait waits waited waiting need needs
needed review reviewed reviewing refine refines refined refining split splitting size sized
sizing estimate estimated estimating test tested check checked checking find finds found
finding escape escaped escaping leak leaked leaking trace traces traced tracing come comes
came coming link links linked linking cause caused causing show shows showed shown showing
suggest suggests suggested point pointed look looks looked looking watch watched track
tracked tracking limit limited limiting protect protected agree agreed agreeing discuss
discussed discussing raise raised raising ask asked asking clarify clarified clarifying
write written writing break broke broken breaking stop stopped stopping start started
starting begin began begun change changed changing improve improved improving reduce reduced
reducing avoid avoided avoiding prevent prevented preventing fix fixed fixing close closed
closing update updated updating remove removed removing accept accepted accepting expect
expected expecting help helped helping make makes made making take takes took taken taking
get gets got getting give gives gave given giving set sets setting put puts go goes went gone
going use used using try tried trying focus focused focusing swarm swarmed limit aim aimed
aiming bring brought build built land landed ship shipped shipping release released lose
lost losing lower lowered raise become becomes became becoming remain remains remained seem
seems seemed appear appears appeared tend tends tended happen happens happened mean means
meant explain explains explained count counted consider considered plan prioritize
prioritized prioritizing schedule scheduled pair paired pairing document documented learn
learned learning share shared sharing name named own owned slip slipped slipping
overcommit overcommitted underestimate underestimated underestimating stabilize stabilized
recover recovered recovering return returned returning continue continues continued
"""
)

_ADJECTIVES_AND_ADVERBS = _split(
    """
new old large larger largest big bigger small smaller smallest high higher highest low lower
lowest long longer short shorter good better best bad worse worst healthy unhealthy stable
steady unstable clear unclear vague ready unready done open closed stale blocked late early
recent recently last next previous current whole full partial main key common frequent
likely unlikely possible probably often rarely sometimes usually always never again soon
later earlier well poorly strong weak safe risky realistic unrealistic reliable predictable
unpredictable consistent inconsistent visible hidden unplanned planned unexpected expected
extra additional missing wrong right careful carefully quickly slowly early late overdue
idle active ongoing unfinished finished complete incomplete enough too above below behind
ahead under over fewer sharp sharply slight slightly clearly mostly mainly largely together
each every own same different similar realistic honest explicit small-scale upfront up-front
first final before after within outside inside acceptable unacceptable
manageable high-risk low-risk critical important useful helpful simple hard easy difficult
"""
)

_EXTRA = _split(
    """
please consider try keep make sure instead rather than so that in order to enter enters
entered entering really back away care caution attention regular regularly
"""
)

BANNED_FROM_VOCABULARY = frozenset(
    {"all", "none", "every", "model", "prompt", "ai", "llm", "one", "zero", "half", "half-way"}
)

VOCABULARY: tuple[str, ...] = tuple(
    sorted(
        {
            word
            for word in (
                *_FUNCTION_WORDS,
                *_SCRUM_NOUNS,
                *_VERBS,
                *_ADJECTIVES_AND_ADVERBS,
                *_EXTRA,
            )
            if word.isascii() and word.replace("-", "").isalpha()
        }
        - BANNED_FROM_VOCABULARY
    )
)

"""Evidence rules: everything about an indication that can be computed is computed, never drafted.

The TxGNN pipelines let an LLM assign the evidence level, and the seed report states three different
levels for one indication. Here the level, the counts, the decision stage and the decision ceiling
come from a *rule table*: data (a JSON file a user can replace), applied by pure functions, with a
reason that names the pack items that decided it ("L2: NCT01821560 is a completed Phase 2
interventional trial"). The verifier compares what a draft says against these figures.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from importlib import resources
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from drafter.errors import UserError
from drafter.pack.models import (
    Article,
    EvidencePack,
    OutcomeResult,
    Phase,
    PredictedIndication,
    QueryTopic,
    Relevance,
    StudyKind,
    StudyType,
    Trial,
    TrialStatus,
)

DEFAULT_RULES_RESOURCE = "rules_txgnn.json"


class Decision(StrEnum):
    """The four decisions of the TxGNN pipelines, strongest first."""

    GO = "Go"
    PROCEED_WITH_GUARDRAILS = "Proceed with Guardrails"
    RESEARCH_QUESTION = "Research Question"
    HOLD = "Hold"

    @property
    def strength(self) -> int:
        """Higher is stronger: Go 3 ... Hold 0."""
        return len(_DECISION_ORDER) - 1 - _DECISION_ORDER.index(self)

    def allowed_by(self, ceiling: Decision) -> bool:
        return self.strength <= ceiling.strength


_DECISION_ORDER = list(Decision)


# --- the rule table (data) --------------------------------------------------------------------------


class _RuleModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TrialCriterion(_RuleModel):
    """Trials that count: every listed filter must hold; an omitted filter admits everything."""

    min_count: Annotated[int, Field(ge=1)] = 1
    phases: list[Phase] | None = None
    statuses: list[TrialStatus] | None = None
    study_types: list[StudyKind] | None = None
    randomised: list[bool | None] | None = Field(
        default=None, description="Allowed values of design.randomised (null = not recorded)"
    )
    relevance: list[Relevance] | None = Field(
        default=None, description="Allowed relevance grades (the default table leaves out 'unrelated')"
    )

    def admits(self, trial: Trial) -> bool:
        randomised = trial.design.randomised if trial.design else None
        return (
            (self.phases is None or trial.phase in self.phases)
            and (self.statuses is None or trial.status in self.statuses)
            and (self.study_types is None or trial.study_type in self.study_types)
            and (self.randomised is None or randomised in self.randomised)
            and (self.relevance is None or trial.relevance in self.relevance)
        )


class ArticleCriterion(_RuleModel):
    min_count: Annotated[int, Field(ge=1)] = 1
    study_types: list[StudyType] | None = None
    relevance: list[Relevance] | None = Field(
        default=None, description="Allowed relevance grades (the default table leaves out 'unrelated')"
    )

    def admits(self, article: Article) -> bool:
        return ((self.study_types is None or article.study_type in self.study_types)
                and (self.relevance is None or article.relevance in self.relevance))


class Criterion(_RuleModel):
    """One way to reach a level: enough matching trials, or enough matching articles."""

    trials: TrialCriterion | None = None
    articles: ArticleCriterion | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Criterion:
        if (self.trials is None) == (self.articles is None):
            raise ValueError("a criterion names exactly one of 'trials' or 'articles'")
        return self


class LevelRule(_RuleModel):
    level: Annotated[str, Field(pattern=r"^L\d$")]
    label: str
    ceiling: Decision
    any_of: list[Criterion] = Field(description="The level holds when any criterion holds; empty = always holds")


StagePredicate = Literal["safety_core", "mechanism", "evidence", "monitoring_data", "safety_queries"]

# What each predicate means, in the words a ceiling reason uses when a stage is not reached.
_PREDICATE_WORDS: dict[str, str] = {
    "safety_core": "warnings, contraindications or interactions",
    "mechanism": "a mechanism of action",
    "evidence": "a trial or article",
    "monitoring_data": "adverse effects and special populations",
    "safety_queries": "successful safety and interaction queries in the query log",
}


class ResultCap(_RuleModel):
    """A ceiling the registered results impose: a level counts trials, the decision reads what they found.

    ``fewer_met``: the cap holds when fewer than ``min_met`` of the selected trials report a met primary
    outcome (results not met, mixed or unknown do not support the decision above the cap).
    ``negative_only``: the cap holds when at least one selected trial missed its primary outcome and
    none met it.
    """

    name: str
    trials: TrialCriterion = Field(description="Which trials' results are read (min_count is ignored)")
    when: Literal["fewer_met", "negative_only"]
    min_met: Annotated[int, Field(ge=1)] = 1
    ceiling: Decision


class StageRule(_RuleModel):
    stage: Annotated[str, Field(pattern=r"^S\d$")]
    label: str
    requires: list[StagePredicate]
    ceiling: Decision


class RuleTable(_RuleModel):
    name: str
    version: str
    description: str = ""
    levels: list[LevelRule] = Field(min_length=1)
    stages: list[StageRule] = Field(min_length=1)
    result_caps: list[ResultCap] = Field(default_factory=list, description="Ceilings read from trial results")

    @model_validator(mode="after")
    def _last_level_always_holds(self) -> RuleTable:
        if self.levels[-1].any_of:
            raise ValueError("the last level must have an empty any_of, so that every indication gets a level")
        if self.stages[0].requires:
            raise ValueError("the first stage must require nothing, so that every indication gets a stage")
        return self


def load_rule_table(path: str | os.PathLike[str] | None = None) -> RuleTable:
    """The packaged TxGNN rule table, or a user's replacement; a bad file is a UserError naming the field."""
    if path is None:
        return _default_rule_table()
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError) as exc:
        raise UserError(f"{os.fspath(path)}: cannot read the rule table ({exc})") from None
    try:
        return RuleTable.model_validate(data)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top level)"
        raise UserError(f"{os.fspath(path)}: {where}: {first['msg']}") from None


@lru_cache(maxsize=1)
def _default_rule_table() -> RuleTable:
    text = resources.files("drafter").joinpath("data", DEFAULT_RULES_RESOURCE).read_text(encoding="utf-8")
    return RuleTable.model_validate_json(text)


# --- assessment (pure) ------------------------------------------------------------------------------


@dataclass(frozen=True)
class IndicationAssessment:
    """What the rules say about one predicted indication; every figure a report states comes from here."""

    rank: int
    disease_name: str
    score: float | None  # None: the pack holds no model score for this indication
    level: str
    level_label: str
    level_reason: str
    deciding_keys: tuple[str, ...]
    trial_count: int
    article_count: int
    trial_breakdown: str
    stage: str
    stage_label: str
    level_ceiling: Decision
    stage_ceiling: Decision
    decision_ceiling: Decision
    stage_gap: str = ""  # why the next stage is not reached, '' at the last stage
    result_caps: tuple[tuple[Decision, str], ...] = ()  # (ceiling, reason) for each result cap that holds

    @property
    def level_explanation(self) -> str:
        """The reason without its leading 'L2: ' (for tables that print the level beside it)."""
        return self.level_reason.split(": ", 1)[-1]

    @property
    def ceiling_reason(self) -> str:
        """Why the ceiling is what it is: every rule that holds it down, in the order level, stage, results."""
        ceiling = self.decision_ceiling
        if ceiling == self.level_ceiling:
            return f"{ceiling.value}: the strongest decision evidence level {self.level} allows"
        causes = []
        if self.stage_ceiling == ceiling:
            stage = f"stage {self.stage} ({self.stage_label}) caps it"
            causes.append(f"{stage}; {self.stage_gap}" if self.stage_gap else stage)
        causes.extend(reason for cap, reason in self.result_caps if cap == ceiling)
        return (f"{ceiling.value}: evidence level {self.level} would allow {self.level_ceiling.value}, "
                f"but {'; and '.join(causes)}")


@dataclass(frozen=True)
class PackAssessment:
    rule_table: str
    indications: tuple[IndicationAssessment, ...]

    def for_rank(self, rank: int) -> IndicationAssessment:
        for item in self.indications:
            if item.rank == rank:
                return item
        raise KeyError(rank)

    def for_disease(self, disease_name: str) -> IndicationAssessment:
        for item in self.indications:
            if item.disease_name == disease_name:
                return item
        raise KeyError(disease_name)


def assess_pack(pack: EvidencePack, rules: RuleTable | None = None) -> PackAssessment:
    """Assess every predicted indication of a pack, in rank order."""
    table = rules or _default_rule_table()
    return PackAssessment(
        rule_table=f"{table.name} {table.version}",
        indications=tuple(assess_indication(pack, ind, table) for ind in pack.ranked_indications()),
    )


def counted_trials(indication: PredictedIndication) -> list[Trial]:
    """The indication's trials, each counted once (ICTRP copies of another record are left out)."""
    ids = {t.registry_id for t in indication.trials}
    return [t for t in indication.trials if t.duplicate_of is None or t.duplicate_of not in ids]


def assess_indication(pack: EvidencePack, indication: PredictedIndication, rules: RuleTable) -> IndicationAssessment:
    trials = counted_trials(indication)
    articles = indication.articles
    level_rule, deciding = _first_level(rules.levels, trials, articles)
    stage_rule, stage_gap = _stage(rules.stages, pack, trials, articles)
    caps = tuple((cap.ceiling, reason) for cap in rules.result_caps
                 if (reason := result_cap_reason(cap, trials)) is not None)
    ceiling = min([level_rule.ceiling, stage_rule.ceiling, *(c for c, _ in caps)], key=lambda d: d.strength)
    return IndicationAssessment(
        rank=indication.rank,
        disease_name=indication.disease_name,
        score=indication.score,
        level=level_rule.level,
        level_label=level_rule.label,
        level_reason=f"{level_rule.level}: {_explain(deciding)}",
        deciding_keys=tuple(item.key for item in deciding),
        trial_count=len(trials),
        article_count=len(articles),
        trial_breakdown=trial_breakdown(trials),
        stage=stage_rule.stage,
        stage_label=stage_rule.label,
        level_ceiling=level_rule.ceiling,
        stage_ceiling=stage_rule.ceiling,
        decision_ceiling=ceiling,
        stage_gap=stage_gap,
        result_caps=caps,
    )


def _outcome(trial: Trial) -> OutcomeResult:
    return trial.results.primary_outcome if trial.results else OutcomeResult.UNKNOWN


_OUTCOME_WORDS = {OutcomeResult.MET: "met its primary outcome", OutcomeResult.NOT_MET: "missed its primary outcome",
                  OutcomeResult.MIXED: "has mixed primary-outcome results",
                  OutcomeResult.UNKNOWN: "has no primary-outcome result in the pack"}


def result_cap_reason(cap: ResultCap, trials: Sequence[Trial]) -> str | None:
    """The reason a result cap holds for these trials, or None when it does not hold."""
    selected = [t for t in trials if cap.trials.admits(t)]
    met = [t for t in selected if _outcome(t) is OutcomeResult.MET]
    if cap.when == "fewer_met":
        if len(met) >= cap.min_met or not selected:
            return None
        kind = "trials" if len(selected) != 1 else "trial"
        return (f"{len(met)} of the {len(selected)} counted {describe_selection(cap.trials)} {kind} met the "
                f"primary outcome and {cap.min_met} must ({_outcomes_named(selected)})")
    missed = [t for t in selected if _outcome(t) is OutcomeResult.NOT_MET]
    if met or not missed:
        return None
    return (f"the completed trials' results are negative: {_outcomes_named(missed)}, "
            f"and no counted {describe_selection(cap.trials)} trial met its primary outcome")


def _outcomes_named(trials: Sequence[Trial]) -> str:
    shown = [f"{t.key} {_OUTCOME_WORDS[_outcome(t)]}" for t in trials[:3]]
    more = len(trials) - len(shown)
    return "; ".join(shown) + (f"; and {more} more" if more else "")


def describe_selection(criterion: TrialCriterion) -> str:
    """'completed Phase 3/Phase 4' — the words for the trials a criterion admits."""
    words = []
    if criterion.statuses:
        words.append("/".join(s.label.lower() for s in criterion.statuses))
    if criterion.phases:
        labels = [p.label.removeprefix("Phase ") for p in criterion.phases]
        listed = labels[0] if len(labels) == 1 else f"{', '.join(labels[:-1])} or {labels[-1]}"
        words.append(f"Phase {listed}" if criterion.phases[0].label.startswith("Phase ") else listed)
    if criterion.randomised == [True, None] or criterion.randomised == [True]:
        words.append("randomised")
    return " ".join(words)


def _first_level(
    levels: Sequence[LevelRule], trials: list[Trial], articles: list[Article]
) -> tuple[LevelRule, list[Trial | Article]]:
    for rule in levels:
        if not rule.any_of:
            return rule, []
        for criterion in rule.any_of:
            matched: list[Trial | Article]
            if criterion.trials is not None:
                matched = [t for t in trials if criterion.trials.admits(t)]
                needed = criterion.trials.min_count
            else:
                assert criterion.articles is not None
                matched = [a for a in articles if criterion.articles.admits(a)]
                needed = criterion.articles.min_count
            if len(matched) >= needed:
                return rule, matched
    raise AssertionError("the rule table's last level always holds")  # guaranteed by RuleTable's validator


def _stage(stages: Sequence[StageRule], pack: EvidencePack, trials: list[Trial],
           articles: list[Article]) -> tuple[StageRule, str]:
    """The highest stage whose requirements hold, and what the next stage lacks (in words)."""
    safety = pack.safety
    queries_ok, query_gap = safety_queries(pack)
    facts: dict[str, bool] = {
        "safety_core": safety is not None and bool(safety.warnings or safety.contraindications or safety.interactions),
        "mechanism": pack.drug.mechanism_of_action is not None,
        "evidence": bool(trials or articles),
        "monitoring_data": safety is not None and bool(safety.adverse_effects and safety.special_populations),
        "safety_queries": queries_ok,
    }
    reached = stages[0]
    for rule in stages:
        if all(facts[p] for p in rule.requires):
            reached = rule
    following = stages.index(reached) + 1
    if following >= len(stages):
        return reached, ""
    nxt = stages[following]
    missing = [p for p in nxt.requires if not facts[p]]
    words = [query_gap if p == "safety_queries" and query_gap else _PREDICATE_WORDS[p] for p in missing]
    return reached, f"{nxt.stage} needs " + " and ".join(words)


def safety_queries(pack: EvidencePack) -> tuple[bool, str]:
    """Whether the query log shows that the safety and the interaction queries ran, and what is wrong if not.

    Deny by default: a pack with no such query, or one whose query has no success status, has not shown
    that its safety data are complete, however many items it lists.
    """
    problems = []
    for topic, article, noun in ((QueryTopic.SAFETY, "a", "safety"), (QueryTopic.INTERACTIONS, "an", "interaction")):
        entries = [q for q in pack.meta.query_log if q.resolved_topic is topic]
        failed = [q for q in entries if not q.succeeded]
        if not entries:
            problems.append(f"{article} {noun} query in the query log (none recorded)")
        elif failed:
            named = ", ".join(f"{q.source}: {q.result_status or 'no status'}" for q in failed)
            problems.append(f"the {noun} query to have succeeded ({named})")
    return not problems, " and ".join(problems)


def describe_trial(trial: Trial) -> str:
    """'a completed Phase 2 interventional trial' — the words a reason and a summary use."""
    words = [trial.status.label.lower() if trial.status is not TrialStatus.UNKNOWN else "",
             trial.phase.label if trial.phase not in (Phase.UNKNOWN, Phase.NOT_APPLICABLE) else "",
             "randomised" if trial.design and trial.design.randomised else "",
             trial.study_type.value.replace("_", " ") if trial.study_type is not StudyKind.UNKNOWN else ""]
    return " ".join(w for w in words if w) + " trial"


def _explain(items: Sequence[Trial | Article]) -> str:
    if not items:
        return "no trial or article in the pack supports this indication; model prediction only"
    shown = list(items[:3])
    more = len(items) - len(shown)
    parts = []
    for item in shown:
        if isinstance(item, Trial):
            parts.append(f"{item.key} is a {describe_trial(item)}")
        else:
            label = item.study_type.label.lower() if item.study_type else "article"
            parts.append(f"{item.key} is a {label}")
    text = "; ".join(parts)
    if more:
        text += f"; and {more} more"
    return text


def trial_breakdown(trials: Sequence[Trial]) -> str:
    """'1 completed Phase 2, 2 terminated Phase 2' — counts by status and phase, largest groups first."""
    groups: dict[tuple[str, str], int] = {}
    for trial in trials:
        key = (trial.status.label.lower(), trial.phase.label if trial.phase is not Phase.UNKNOWN else "phase unknown")
        groups[key] = groups.get(key, 0) + 1
    ordered = sorted(groups.items(), key=lambda kv: (-kv[1], kv[0]))
    return ", ".join(f"{n} {status} {phase}" for (status, phase), n in ordered)

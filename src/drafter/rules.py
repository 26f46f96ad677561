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
    Phase,
    PredictedIndication,
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


StagePredicate = Literal["safety_core", "mechanism", "evidence", "monitoring_data"]


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

    @property
    def level_explanation(self) -> str:
        """The reason without its leading 'L2: ' (for tables that print the level beside it)."""
        return self.level_reason.split(": ", 1)[-1]

    @property
    def ceiling_reason(self) -> str:
        if self.decision_ceiling == self.level_ceiling:
            return f"{self.decision_ceiling.value}: the strongest decision evidence level {self.level} allows"
        return (f"{self.decision_ceiling.value}: evidence level {self.level} would allow {self.level_ceiling.value}, "
                f"but stage {self.stage} ({self.stage_label}) caps it")


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
    stage_rule = _stage(rules.stages, pack, trials, articles)
    ceiling = min(level_rule.ceiling, stage_rule.ceiling, key=lambda d: d.strength)
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
    )


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


def _stage(stages: Sequence[StageRule], pack: EvidencePack, trials: list[Trial], articles: list[Article]) -> StageRule:
    safety = pack.safety
    facts: dict[str, bool] = {
        "safety_core": safety is not None and bool(safety.warnings or safety.contraindications or safety.interactions),
        "mechanism": pack.drug.mechanism_of_action is not None,
        "evidence": bool(trials or articles),
        "monitoring_data": safety is not None and bool(safety.adverse_effects and safety.special_populations),
    }
    reached = stages[0]
    for rule in stages:
        if all(facts[p] for p in rule.requires):
            reached = rule
    return reached


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

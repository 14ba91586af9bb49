"""The scenario schema: what a config may say, with types and ranges.

This module owns the *shape* of a scenario. It holds no behavioural numbers:
every value lives in a YAML file under ``configs/`` next to its unit and source
(``configs/defaults.yaml`` for the 2023 world, the scenario files for reforms).
A field here only says what kind of value is allowed and within what bounds,
so that a wrong config is refused before anything runs.

Vocabulary (EMA Workbench's XLRM): ``levers`` are the reform design that a
reform office controls; ``implementation`` and ``parameters`` are uncertainties
(behaviour, fidelity, resistance) that nobody controls; outcomes are the
metrics the model reports.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

REGIONS = ("east", "central", "west")
PHASES = ("baseline", "pilot", "rollout", "consolidation")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")

Share = float  # documented 0-1 quantities are bounded field by field below


def month_index(text: str) -> int:
    """'2024-03' -> months since year 0 (a plain integer, easy to compare)."""
    m = _MONTH.match(text)
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise ValueError(f"not a month in YYYY-MM form: {text!r}")
    return int(m.group(1)) * 12 + int(m.group(2)) - 1


class Strict(BaseModel):
    """Base for every config block: unknown keys are errors, values are checked."""

    model_config = ConfigDict(extra="forbid", validate_default=True, frozen=True)


# --------------------------------------------------------------------------- geography


class ByType(Strict):
    """A quantity that differs between rural (villages) and urban (communities)."""

    rural: float = Field(ge=0)
    urban: float = Field(ge=0)


class ByRegion(Strict):
    east: float
    central: float
    west: float


class ShareByRegion(Strict):
    east: float = Field(ge=0, le=1)
    central: float = Field(ge=0, le=1)
    west: float = Field(ge=0, le=1)


class Geography(Strict):
    """Which counties exist and how big their parts are (policy-facts §1)."""

    scope: Literal["county", "province", "national"]
    counties: int = Field(ge=1, le=5000)
    region_shares: ShareByRegion
    urban_county_share: float = Field(ge=0, le=1)
    townships_per_county: float = Field(gt=0, le=100)
    committees_per_township: ByType
    committee_posts: ByType  # establishment posts per committee
    township_posts: ByType  # establishment posts per township (staff and service units)
    residents_per_committee: ByType
    resident_sample_per_committee: int = Field(ge=1, le=500)
    elderly_share: ByType = Field(description="share of residents aged 60+")
    size_dispersion: float = Field(ge=0, le=1, description="coefficient of variation of unit sizes")

    @model_validator(mode="after")
    def _shares_sum_to_one(self) -> "Geography":
        s = self.region_shares
        total = s.east + s.central + s.west
        if abs(total - 1) > 1e-6:
            raise ValueError(f"@region_shares: east + central + west must be 1 (got {total:g})")
        return self


# --------------------------------------------------------------------------- timeline


class Timeline(Strict):
    """Phase start months; a phase runs until the next one starts (policy-facts §4, §8)."""

    start: str = Field(description="first simulated month, YYYY-MM")
    end: str = Field(description="last simulated month, YYYY-MM")
    spin_up_months: int = Field(ge=0, le=240, description="months run at 2023 values before start, not recorded")
    phases: dict[Literal["baseline", "pilot", "rollout", "consolidation"], str]

    @model_validator(mode="after")
    def _possible(self) -> "Timeline":
        for key in ("start", "end"):
            try:
                month_index(getattr(self, key))
            except ValueError as exc:
                raise ValueError(f"@{key}: {exc}") from None
        start, end = month_index(self.start), month_index(self.end)
        if end < start:
            raise ValueError(f"@end: the run ends ({self.end}) before it starts ({self.start})")
        missing = [p for p in PHASES if p not in self.phases]
        if missing:
            raise ValueError(f"@phases: missing phase(s) {', '.join(missing)}")
        previous = None
        for phase in PHASES:
            try:
                m = month_index(self.phases[phase])
            except ValueError as exc:
                raise ValueError(f"@phases.{phase}: {exc}") from None
            if previous is not None and m <= previous[1]:
                raise ValueError(
                    f"@phases.{phase}: starts {self.phases[phase]}, not after "
                    f"{previous[0]} ({self.phases[previous[0]]}); phases must be in order "
                    + " < ".join(PHASES)
                )
            previous = (phase, m)
        if month_index(self.phases["baseline"]) != start:
            raise ValueError(f"@phases.baseline: must start with the run ({self.start})")
        if month_index(self.phases["consolidation"]) > end:
            raise ValueError(f"@phases.consolidation: starts after the run ends ({self.end})")
        return self


class PilotDesign(Strict):
    """Which counties pilot the reform in the pilot phase (policy-facts §4, §8.1)."""

    counties: int = Field(ge=0, description="number of pilot counties in this geography")
    central_west_min_share: float = Field(ge=0, le=1)
    selection: Literal["random", "good_base"]
    good_base_pool: float = Field(
        gt=0, le=1, description="with good_base: pilots are drawn from this top share of counties by base"
    )


# --------------------------------------------------------------------------- levers

LEVER_GROUPS = ("burden", "pay", "careers", "devolution", "data", "participation")

# name -> (group, lower bound, upper bound, unit). The reform design space.
LEVERS: dict[str, tuple[str, float, float, str]] = {
    "assessment_items_cut": ("burden", 0, 1, "share of the 2023 items"),
    "veto_items_cap": ("burden", 0, 136, "items"),
    "inspections_cut": ("burden", 0, 1, "share of the 2023 inspections"),
    "task_access_control": ("burden", 0, 1, "strength 0-1"),
    "grid_integration": ("burden", 0, 1, "share of the 13 function categories merged"),
    "power_list_coverage": ("burden", 0, 1, "share of townships with a standard list"),
    "devolved_power_share": ("devolution", 0, 1, "share of the 28 powers"),
    "data_sharing_target": ("data", 0, 1, "share of the 12 data departments"),
    "committee_pay_ratio": ("pay", 0.2, 2, "ratio to the same post in the county seat"),
    "township_pay_ratio": ("pay", 0.2, 2, "ratio to county organs"),
    "career_ladder": ("pay", 0, 1, "share of committee workers on the 5-grade scale"),
    "occupational_annuity": ("pay", 0, 1, "0 = none, 1 = portable annuity"),
    "social_insurance_coverage": ("pay", 0, 1, "share of contract staff insured"),
    "recognition": ("pay", 0, 1, "strength 0-1"),
    "promotion_rate_3y": ("careers", 0, 1, "share promoted within three years"),
    "training_coverage": ("careers", 0, 1, "trainings per cadre per year (1: once a year on average)"),
    "training_mentoring": ("careers", 0, 1, "strength 0-1"),
    "recruitment_drive": ("careers", 0, 1, "strength 0-1"),
    "deliberation_share": ("participation", 0, 1, "share of major decisions put to residents"),
    "disclosure": ("participation", 0, 1, "share of decisions whose result is made public"),
    "councils": ("participation", 0, 1, "share of committees with residents' councils"),
    "online_voting": ("participation", 0, 1, "share of committees with online voting"),
    "points_system": ("participation", 0, 1, "share of committees with a points system"),
    "supervision_platform": ("participation", 0, 1, "strength 0-1"),
    "evaluation_service_weight": ("participation", 0, 1, "share of evaluation rewarding service"),
}


class LeverSpec(Strict):
    """A lever's value over time: a value per phase (or per YYYY-MM month), with its source.

    A value applies from the start of its phase (or month) until the next one.
    Months before the first key keep the 2023 value from ``defaults.yaml``.
    """

    values: dict[str, float]
    unit: str | None = None
    source: str | None = None
    note: str | None = None


LeverValue = float | LeverSpec


class Levers(Strict):
    """The reform design: every lever of policy-facts §5 the mechanisms can express."""

    assessment_items_cut: LeverValue
    veto_items_cap: LeverValue
    inspections_cut: LeverValue
    task_access_control: LeverValue
    grid_integration: LeverValue
    power_list_coverage: LeverValue
    devolved_power_share: LeverValue
    data_sharing_target: LeverValue
    committee_pay_ratio: LeverValue
    township_pay_ratio: LeverValue
    career_ladder: LeverValue
    occupational_annuity: LeverValue
    social_insurance_coverage: LeverValue
    recognition: LeverValue
    promotion_rate_3y: LeverValue
    training_coverage: LeverValue
    training_mentoring: LeverValue
    recruitment_drive: LeverValue
    deliberation_share: LeverValue
    disclosure: LeverValue
    councils: LeverValue
    online_voting: LeverValue
    points_system: LeverValue
    supervision_platform: LeverValue
    evaluation_service_weight: LeverValue

    @field_validator("*")
    @classmethod
    def _in_range(cls, value, info: ValidationInfo):
        """Each lever's values within its own range, keyed by phase or month (checked lever by lever,
        so every bad lever is reported at once)."""
        name = info.field_name
        _, lo, hi, unit = LEVERS[name]
        items = value.values.items() if isinstance(value, LeverSpec) else [(None, value)]
        for key, v in items:
            where = f"@values.{key}: " if key is not None else ""
            if key is not None and key not in PHASES:
                try:
                    month_index(key)
                except ValueError:
                    raise ValueError(
                        f"@values: {key!r} is neither a phase ({', '.join(PHASES)}) nor a YYYY-MM month") from None
            if not lo <= v <= hi:
                raise ValueError(f"{where}must be within [{lo:g}, {hi:g}] {unit} (got {v:g})")
        return value


class Implementation(Strict):
    """How faithfully counties carry out the reform, and how departments resist (§6)."""

    fidelity: dict[Literal["default", "burden", "pay", "careers", "devolution", "data", "participation"], ShareByRegion]
    good_base_fidelity_bonus: float = Field(ge=0, le=1)
    rebound_share: float = Field(ge=0, le=1)
    rebound_months: float = Field(gt=0, le=120)
    data_refusal_share: float = Field(ge=0, le=1)
    refuser_join_factor: float = Field(ge=0, le=1)
    rebound_logit_sd: float = Field(ge=0, le=5)
    access_control_effectiveness: float = Field(ge=0, le=1)
    power_list_effectiveness: float = Field(ge=0, le=1)
    devolution_months: float = Field(gt=0, le=120)
    data_join_months: float = Field(gt=0, le=120)
    insurance_enrol_months: float = Field(gt=0, le=120)

    @model_validator(mode="after")
    def _has_default(self) -> "Implementation":
        if "default" not in self.fidelity:
            raise ValueError("@fidelity: needs a 'default' entry (east/central/west shares)")
        return self


# --------------------------------------------------------------------------- parameters


class Workload(Strict):
    """What pushed-down work costs in cadre hours (policy-facts §2; calibrated)."""

    assessment_items_per_year: float = Field(ge=0)
    veto_items: float = Field(ge=0)
    inspections_per_committee_year: float = Field(ge=0)
    adhoc_tasks_per_township_day: float = Field(ge=0)
    working_days_per_month: float = Field(gt=0, le=31)
    item_hours_per_township_month: float = Field(ge=0)
    veto_hours_multiplier: float = Field(ge=1)
    item_share_to_committees: float = Field(ge=0, le=1)
    inspection_hours: float = Field(ge=0)
    adhoc_task_hours: float = Field(ge=0)
    adhoc_share_to_committees: float = Field(ge=0, le=1)
    grid_efficiency: float = Field(ge=0, le=1)
    data_departments: int = Field(ge=0, le=23)
    departments_per_county: int = Field(ge=1, le=100)
    duplicate_entry_hours_per_department: float = Field(ge=0)
    contract_hours_per_month: float = Field(gt=0)
    max_hours_ratio: float = Field(ge=1, le=2)
    compliance_trimming: float = Field(ge=0, le=1)


class CadreParams(Strict):
    """Cadres' pay, careers, burnout, quitting and hiring (policy-facts §1.3.2, §2.2, §2.3.2)."""

    county_pay_yuan: ByRegion
    college_pay_premium: float = Field(ge=0, le=2)
    ladder_pay_min_yuan: float = Field(gt=0)
    ladder_pay_max_yuan: float = Field(gt=0)
    contract_share: ByType  # committee workers on contracts (not establishment posts)
    township_contract_share: float = Field(ge=0, le=1)
    grade_pay_step: float = Field(ge=0, le=1)
    initial_vacancy_rate: float = Field(ge=0, lt=1)
    initial_age_sd: float = Field(gt=0)
    initial_tenure_years: float = Field(gt=0)
    initial_burnout: float = Field(ge=0, le=1)
    initial_grade_max: int = Field(ge=0, le=4)
    skill_logit_sd: float = Field(ge=0, le=5)
    young_age: float = Field(ge=18, le=60)
    tenure_cap_years: float = Field(gt=0, le=40)
    intention_months: float = Field(gt=0, le=60)
    hire_college_reference_pay: float = Field(gt=0, le=2)
    base_social_insurance: float = Field(ge=0, le=1)
    retirement_age: float = Field(ge=50, le=70)
    initial_share_over_45: float = Field(ge=0, le=1)
    initial_share_college: float = Field(ge=0, le=1)
    initial_share_professional: float = Field(ge=0, le=1)
    hire_age_mean: float = Field(ge=18, le=60)
    hire_age_sd: float = Field(gt=0)
    hire_age_min: float = Field(ge=16, le=60)
    hire_age_max: float = Field(ge=16, le=70)
    hire_college_base: float = Field(ge=0, le=1)
    hire_college_pay_slope: float = Field(ge=0)
    hire_professional_base: float = Field(ge=0, le=1)
    hire_professional_drive: float = Field(ge=0, le=1)
    quit_intercept: float
    quit_pay: float = Field(ge=0)
    quit_burnout: float = Field(ge=0)
    quit_insurance: float = Field(ge=0)
    quit_promotion: float = Field(ge=0)
    quit_recognition: float = Field(ge=0)
    quit_annuity: float = Field(ge=0)
    quit_young: float = Field(ge=0)
    quit_college: float = Field(ge=0)
    quit_contract: float = Field(ge=0)
    quit_tenure: float = Field(ge=0)
    burnout_intercept: float
    burnout_overtime: float = Field(ge=0)
    burnout_compliance: float = Field(ge=0)
    burnout_months: float = Field(gt=0)
    fill_intercept: float
    fill_pay: float = Field(ge=0)
    fill_drive: float = Field(ge=0)
    fill_base_quality: float = Field(ge=0)
    training_skill_gain: float = Field(ge=0, le=1)
    application_rate: float = Field(ge=0, le=1)
    application_rate_mentored: float = Field(ge=0, le=1)
    skill_decay_per_year: float = Field(ge=0, le=1)
    initial_skill_mean: float = Field(ge=0, le=1)
    county_promotion_rate_3y: float = Field(ge=0, le=1)


class ResidentParams(Strict):
    """Residents' needs, service, satisfaction, complaints and participation (§2.3)."""

    need_rate_per_month: float = Field(ge=0, le=1)
    elderly_need_multiplier: float = Field(ge=1)
    authority_share: float = Field(ge=0, le=1)
    hours_per_case: float = Field(gt=0)
    township_hours_per_case: float = Field(gt=0)
    service_capacity_cap: float = Field(ge=0, le=1)
    outreach_satisfaction: float = Field(ge=0)
    base_local_authority: float = Field(ge=0, le=1)
    referral_resolution_per_month: float = Field(ge=0, le=1)
    satisfaction_served: float = Field(ge=0, le=100)
    satisfaction_unserved: float = Field(ge=0, le=100)
    satisfaction_waiting: float = Field(ge=0, le=100)
    satisfaction_no_need: float = Field(ge=0, le=100)
    satisfaction_skill: float = Field(ge=0, le=100)
    satisfaction_burnout: float = Field(ge=0, le=100)
    satisfaction_memory_months: float = Field(gt=0)
    complaint_probability: float = Field(ge=0, le=1)
    rectification_base: float = Field(ge=0, le=1)
    rectification_supervision: float = Field(ge=0, le=1)
    rectification_capacity: float = Field(ge=0, le=1)
    trust_learning: float = Field(ge=0, le=1)
    efficacy_learning: float = Field(ge=0, le=1)
    decision_probability_per_month: float = Field(ge=0, le=1)
    execution_base: float = Field(ge=0, le=1)
    execution_capacity: float = Field(ge=0, le=1)
    execution_supervision: float = Field(ge=0, le=1)
    attend_intercept: float
    attend_trust: float = Field(ge=0)
    attend_efficacy: float = Field(ge=0)
    attend_cost: float = Field(ge=0)
    attend_age: float = Field(ge=0)
    attend_points: float = Field(ge=0)
    cost_rural: float = Field(ge=0)
    cost_urban: float = Field(ge=0)
    council_cost_reduction: float = Field(ge=0, le=1)
    online_participation: float = Field(ge=0, le=1)
    threshold_mean: float = Field(ge=0, le=1)
    threshold_sd: float = Field(ge=0, le=1)
    social_boost: float = Field(ge=0, le=1)
    initial_trust_mean: float = Field(ge=0, le=1)
    initial_efficacy_mean: float = Field(ge=0, le=1)
    initial_satisfaction: float = Field(ge=0, le=100)
    opinion_logit_sd: float = Field(ge=0, le=5)
    adult_age: float = Field(ge=14, le=30)
    elderly_age: float = Field(ge=50, le=80)
    oldest_age: float = Field(ge=80, le=110)
    cost_spread: float = Field(ge=0, lt=1)
    participation_window_months: int = Field(ge=1, le=60)


class CountyParams(Strict):
    """County heterogeneity: the 'base' a county starts from (§2.4, §8.1)."""

    base_sd: float = Field(ge=0)
    base_trust_effect: float = Field(ge=0)
    initial_data_shared: float = Field(ge=0, le=1)


class Parameters(Strict):
    """Behavioural parameters: uncertainties calibrated to 2023 (docs/ODD.md)."""

    workload: Workload
    cadres: CadreParams
    residents: ResidentParams
    counties: CountyParams


# --------------------------------------------------------------------------- scenario


class Labels(Strict):
    """A design's name on figures and in reports, per language (``grassroots report --lang``)."""

    en: str | None = Field(None, min_length=1)
    zh: str | None = Field(None, min_length=1)


class Scenario(Strict):
    """One simulated world: geography, timeline, reform design and behaviour."""

    name: str = Field(min_length=1)
    description: str = ""
    labels: Labels = Field(default_factory=Labels, description=(
        "the design's name on figures, per language; not inherited: a config that extends this one "
        "is another design and names itself (its `name` is used where it gives no label)"))
    engine: Literal["columnar", "agents"] = Field(
        "columnar", description="columnar (numpy columns, fast) or agents (one mesa.Agent each, for small runs)")
    geography: Geography
    timeline: Timeline
    pilot: PilotDesign
    levers: Levers
    implementation: Implementation
    parameters: Parameters

    @model_validator(mode="after")
    def _pilot_fits(self) -> "Scenario":
        if self.pilot.counties > self.geography.counties:
            raise ValueError(
                f"@pilot.counties: {self.pilot.counties} pilot counties but the geography has "
                f"only {self.geography.counties}"
            )
        return self

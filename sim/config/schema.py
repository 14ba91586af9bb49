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
from typing import Annotated, Any, Literal

from pydantic import (AllowInfNan, BaseModel, BeforeValidator, ConfigDict, Field, ValidationInfo, field_validator,
                      model_validator)

REGIONS = ("east", "central", "west")
PHASES = ("baseline", "pilot", "rollout", "consolidation")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def _not_a_bool(value: Any) -> Any:
    """Numbers are numbers: pydantic's lax mode would read YAML ``true`` as 1 (or 1.0)."""
    if isinstance(value, bool) or type(value).__name__ in ("bool_", "bool"):  # bool, numpy.bool_ (numpy 2: bool)
        raise ValueError("must be a number, not true/false (YAML reads unquoted true/false, yes/no, on/off "
                         "as booleans)")
    return value


# Every number in a config: finite (no .nan / .inf: each quantity here has a finite meaning) and not a boolean.
# ``Strict`` also refuses inf/nan for any plain float, so both hold whatever annotation a subclass uses.
Real = Annotated[float, BeforeValidator(_not_a_bool), AllowInfNan(False)]
Count = Annotated[int, BeforeValidator(_not_a_bool)]

# Logit-scale coefficients: beyond +-100 a one-unit change moves a probability from ~0 to ~1, so larger
# values only mean "a step function" and, summed over terms, could overflow to inf - inf = nan.
COEFFICIENT_MAX = 100.0
# Intercepts of the logistic rules: at +-20 the probability is within 2e-9 of 0 or 1 already.
INTERCEPT_BOUND = 20.0
# Time constants in months: a century is "never" for a 2023-2030 model.
MONTHS_MAX = 1200.0
# Hours of one piece of work or one unit's monthly load: a township's staff work ~17,000 hours a month.
HOURS_MAX = 10_000.0
# Monthly pay in yuan (2023: ~5,000 in a county seat).
YUAN_MIN, YUAN_MAX = 100.0, 1_000_000.0
# Agents one run creates (cadre posts + sampled residents). The national config creates ~17 million and
# peaks at 4.4 GiB (docs/performance.md: ~270 bytes per agent); 50 million would need ~13 GiB, and beyond
# that a run's arrays (e.g. 8 bytes x 6 uniforms per resident) cannot be allocated on an ordinary machine.
MAX_AGENTS = 50_000_000
BYTES_PER_AGENT = 270
# Simulated calendar: pandas dates hold 1678-2262; the plan's horizon is 2023-2030.
YEAR_MIN, YEAR_MAX = 1900, 2200
RUN_MONTHS_MAX = 600  # start to end; the record holds months x metrics x counties


def month_index(text: str) -> int:
    """'2024-03' -> months since year 0 (a plain integer, easy to compare)."""
    m = _MONTH.match(text)
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise ValueError(f"not a month in YYYY-MM form: {text!r}")
    return int(m.group(1)) * 12 + int(m.group(2)) - 1


class Strict(BaseModel):
    """Base for every config block: unknown keys are errors, values are checked, numbers are finite."""

    model_config = ConfigDict(extra="forbid", validate_default=True, frozen=True, allow_inf_nan=False)


# --------------------------------------------------------------------------- geography


class ByType(Strict):
    """A quantity that differs between rural (villages) and urban (communities); bounds are set per use."""

    rural: Real = Field(ge=0)
    urban: Real = Field(ge=0)


class ShareByType(Strict):
    rural: Real = Field(ge=0, le=1)
    urban: Real = Field(ge=0, le=1)


class ByRegion(Strict):
    """Monthly pay in yuan by region: positive (it divides relative pay) and of a plausible size."""

    east: Real = Field(ge=YUAN_MIN, le=YUAN_MAX)
    central: Real = Field(ge=YUAN_MIN, le=YUAN_MAX)
    west: Real = Field(ge=YUAN_MIN, le=YUAN_MAX)


class ShareByRegion(Strict):
    east: Real = Field(ge=0, le=1)
    central: Real = Field(ge=0, le=1)
    west: Real = Field(ge=0, le=1)


# Upper bounds of the geography's unit sizes (means per unit; 2023 values in configs/defaults.yaml):
# each is about a hundred times the largest real unit, and keeps rounded sizes within integer range.
_SIZE_BOUNDS = {
    "committees_per_township": (1_000, "committees (2023: 15.2 on average)"),
    "committee_posts": (1_000, "posts per committee (2023: 6-9)"),
    "township_posts": (10_000, "posts per township (2023: 85-110)"),
    "residents_per_committee": (1_000_000, "residents per committee (2023: 2,400 on average)"),
}


def expected_agents(g: "Geography") -> tuple[float, float]:
    """About how many cadre posts and sampled residents ``synthesise_places`` creates for a geography
    (means; every unit has at least one township, committee and post)."""
    townships = g.counties * max(1.0, g.townships_per_county)
    posts = residents = 0.0
    for kind, share in (("rural", 1 - g.urban_county_share), ("urban", g.urban_county_share)):
        committees = max(1.0, getattr(g.committees_per_township, kind))
        posts += share * townships * (committees * max(1.0, getattr(g.committee_posts, kind))
                                      + max(1.0, getattr(g.township_posts, kind)))
        residents += share * townships * committees * g.resident_sample_per_committee
    return posts, residents


class Geography(Strict):
    """Which counties exist and how big their parts are (policy-facts §1)."""

    scope: Literal["county", "province", "national"]
    counties: Count = Field(ge=1, le=5000)
    region_shares: ShareByRegion
    urban_county_share: Real = Field(ge=0, le=1)
    townships_per_county: Real = Field(gt=0, le=100)
    committees_per_township: ByType
    committee_posts: ByType  # establishment posts per committee
    township_posts: ByType  # establishment posts per township (staff and service units)
    residents_per_committee: ByType
    resident_sample_per_committee: Count = Field(ge=1, le=500)
    elderly_share: ShareByType = Field(description="share of residents aged 60+")
    size_dispersion: Real = Field(ge=0, le=1, description="coefficient of variation of unit sizes")

    @field_validator(*_SIZE_BOUNDS)
    @classmethod
    def _size_bounds(cls, value: ByType, info: ValidationInfo) -> ByType:
        high, unit = _SIZE_BOUNDS[info.field_name]
        for kind in ("rural", "urban"):
            v = getattr(value, kind)
            if v > high:
                raise ValueError(f"@{kind}: must be at most {high:,} {unit} (got {v:g})")
        return value

    @model_validator(mode="after")
    def _shares_sum_to_one(self) -> "Geography":
        s = self.region_shares
        total = s.east + s.central + s.west
        if abs(total - 1) > 1e-6:
            raise ValueError(f"@region_shares: east + central + west must be 1 (got {total:g})")
        return self

    @model_validator(mode="after")
    def _fits_in_memory(self) -> "Geography":
        posts, residents = expected_agents(self)
        total = posts + residents
        if total > MAX_AGENTS:
            raise ValueError(
                f"this geography would create about {total / 1e6:,.1f} million agents ({posts:,.0f} cadre posts "
                f"+ {residents:,.0f} sampled residents, about {total * BYTES_PER_AGENT / 2**30:,.0f} GiB); a run "
                f"holds at most {MAX_AGENTS / 1e6:g} million (the national config has about 17 million): lower counties, "
                "townships_per_county, committees_per_township, committee_posts, township_posts or "
                "resident_sample_per_committee")
        return self


# --------------------------------------------------------------------------- timeline


class Timeline(Strict):
    """Phase start months; a phase runs until the next one starts (policy-facts §4, §8)."""

    start: str = Field(description="first simulated month, YYYY-MM")
    end: str = Field(description="last simulated month, YYYY-MM")
    spin_up_months: Count = Field(ge=0, le=240, description="months run at 2023 values before start, not recorded")
    phases: dict[Literal["baseline", "pilot", "rollout", "consolidation"], str]

    @model_validator(mode="after")
    def _possible(self) -> "Timeline":
        for key in ("start", "end"):
            try:
                month_index(getattr(self, key))
            except ValueError as exc:
                raise ValueError(f"@{key}: {exc}") from None
        for key in ("start", "end"):
            year = month_index(getattr(self, key)) // 12
            if not YEAR_MIN <= year <= YEAR_MAX:
                raise ValueError(f"@{key}: the year must be within {YEAR_MIN}-{YEAR_MAX} (got {year})")
        start, end = month_index(self.start), month_index(self.end)
        if end - start + 1 > RUN_MONTHS_MAX:
            raise ValueError(f"@end: the run spans {end - start + 1} months; at most {RUN_MONTHS_MAX} "
                             f"({RUN_MONTHS_MAX // 12} years) are simulated")
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

    counties: Count = Field(ge=0, le=5000, description="number of pilot counties in this geography")
    central_west_min_share: Real = Field(ge=0, le=1)
    selection: Literal["random", "good_base"]
    good_base_pool: Real = Field(
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

    values: dict[str, Real] = Field(min_length=1)  # at least one value: the lever has none otherwise
    unit: str | None = None
    source: str | None = None
    note: str | None = None


LeverValue = Real | LeverSpec


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
            # a plain value's message gets "(got ...)" from the loader; a keyed one says it here
            where, got = (f"@values.{key}: ", f" (got {v:g})") if key is not None else ("", "")
            if key is not None and key not in PHASES:
                try:
                    month_index(key)
                except ValueError:
                    raise ValueError(
                        f"@values: {key!r} is neither a phase ({', '.join(PHASES)}) nor a YYYY-MM month") from None
            if not lo <= v <= hi:
                raise ValueError(f"{where}must be within [{lo:g}, {hi:g}] {unit}{got}")
        return value


class Implementation(Strict):
    """How faithfully counties carry out the reform, and how departments resist (§6)."""

    fidelity: dict[Literal["default", "burden", "pay", "careers", "devolution", "data", "participation"], ShareByRegion]
    good_base_fidelity_bonus: Real = Field(ge=0, le=1)
    rebound_share: Real = Field(ge=0, le=1)
    rebound_months: Real = Field(gt=0, le=120)
    data_refusal_share: Real = Field(ge=0, le=1)
    refuser_join_factor: Real = Field(ge=0, le=1)
    rebound_logit_sd: Real = Field(ge=0, le=5)
    access_control_effectiveness: Real = Field(ge=0, le=1)
    power_list_effectiveness: Real = Field(ge=0, le=1)
    devolution_months: Real = Field(gt=0, le=120)
    data_join_months: Real = Field(gt=0, le=120)
    insurance_enrol_months: Real = Field(gt=0, le=120)

    @model_validator(mode="after")
    def _has_default(self) -> "Implementation":
        if "default" not in self.fidelity:
            raise ValueError("@fidelity: needs a 'default' entry (east/central/west shares)")
        return self


# --------------------------------------------------------------------------- parameters


class Workload(Strict):
    """What pushed-down work costs in cadre hours (policy-facts §2; calibrated)."""

    # Counts of tasks (2023: 136 items, 18 veto items, 110 inspections, 3.5 tasks a day) bounded at about a
    # hundred times those: monthly counts are drawn by tabulating the Poisson CDF up to the largest rate.
    assessment_items_per_year: Real = Field(ge=0, le=10_000)
    veto_items: Real = Field(ge=0, le=10_000)
    inspections_per_committee_year: Real = Field(ge=0, le=10_000)
    adhoc_tasks_per_township_day: Real = Field(ge=0, le=100)
    working_days_per_month: Real = Field(gt=0, le=31)
    item_hours_per_township_month: Real = Field(ge=0, le=HOURS_MAX)
    veto_hours_multiplier: Real = Field(ge=1, le=100)
    item_share_to_committees: Real = Field(ge=0, le=1)
    inspection_hours: Real = Field(ge=0, le=HOURS_MAX)
    adhoc_task_hours: Real = Field(ge=0, le=HOURS_MAX)
    adhoc_share_to_committees: Real = Field(ge=0, le=1)
    grid_efficiency: Real = Field(ge=0, le=1)
    data_departments: Count = Field(ge=0, le=23)
    departments_per_county: Count = Field(ge=1, le=100)
    duplicate_entry_hours_per_department: Real = Field(ge=0, le=HOURS_MAX)
    contract_hours_per_month: Real = Field(ge=1, le=744, description="at most 24 x 31 hours")
    max_hours_ratio: Real = Field(ge=1, le=2)
    compliance_trimming: Real = Field(ge=0, le=1)

    # Checks of two keys at once are reported at the block (in the last file that writes it): either key
    # may be the one to change.
    @model_validator(mode="after")
    def _consistent(self) -> "Workload":
        if self.veto_items > self.assessment_items_per_year:
            raise ValueError(f"veto items are among the assessment items: veto_items ({self.veto_items:g}) is more "
                             f"than assessment_items_per_year ({self.assessment_items_per_year:g})")
        if self.data_departments > self.departments_per_county:
            raise ValueError(f"the data departments are among the county's departments: data_departments "
                             f"({self.data_departments}) is more than departments_per_county "
                             f"({self.departments_per_county})")
        return self


class CadreParams(Strict):
    """Cadres' pay, careers, burnout, quitting and hiring (policy-facts §1.3.2, §2.2, §2.3.2)."""

    county_pay_yuan: ByRegion
    college_pay_premium: Real = Field(ge=0, le=2)
    ladder_pay_min_yuan: Real = Field(ge=YUAN_MIN, le=YUAN_MAX)
    ladder_pay_max_yuan: Real = Field(ge=YUAN_MIN, le=YUAN_MAX)
    contract_share: ShareByType  # committee workers on contracts (not establishment posts)
    township_contract_share: Real = Field(ge=0, le=1)
    grade_pay_step: Real = Field(ge=0, le=1)
    initial_vacancy_rate: Real = Field(ge=0, lt=1)
    initial_age_sd: Real = Field(gt=0, le=50)
    initial_tenure_years: Real = Field(gt=0, le=50)
    initial_burnout: Real = Field(ge=0, le=1)
    initial_grade_max: Count = Field(ge=0, le=4)
    skill_logit_sd: Real = Field(ge=0, le=5)
    young_age: Real = Field(ge=18, le=60)
    tenure_cap_years: Real = Field(gt=0, le=40)
    intention_months: Real = Field(gt=0, le=60)
    hire_college_reference_pay: Real = Field(gt=0, le=2)
    base_social_insurance: Real = Field(ge=0, le=1)
    retirement_age: Real = Field(ge=50, le=70)
    initial_share_over_45: Real = Field(ge=0, le=1)
    initial_share_college: Real = Field(ge=0, le=1)
    initial_share_professional: Real = Field(ge=0, le=1)
    hire_age_mean: Real = Field(ge=18, le=60)
    hire_age_sd: Real = Field(gt=0, le=50)
    hire_age_min: Real = Field(ge=16, le=60)
    hire_age_max: Real = Field(ge=16, le=70)
    hire_college_base: Real = Field(ge=0, le=1)
    hire_college_pay_slope: Real = Field(ge=0, le=COEFFICIENT_MAX)
    hire_professional_base: Real = Field(ge=0, le=1)
    hire_professional_drive: Real = Field(ge=0, le=1)
    quit_intercept: Real = Field(ge=-INTERCEPT_BOUND, le=INTERCEPT_BOUND)
    quit_pay: Real = Field(ge=0, le=COEFFICIENT_MAX)
    quit_burnout: Real = Field(ge=0, le=COEFFICIENT_MAX)
    quit_insurance: Real = Field(ge=0, le=COEFFICIENT_MAX)
    quit_promotion: Real = Field(ge=0, le=COEFFICIENT_MAX)
    quit_recognition: Real = Field(ge=0, le=COEFFICIENT_MAX)
    quit_annuity: Real = Field(ge=0, le=COEFFICIENT_MAX)
    quit_young: Real = Field(ge=0, le=COEFFICIENT_MAX)
    quit_college: Real = Field(ge=0, le=COEFFICIENT_MAX)
    quit_contract: Real = Field(ge=0, le=COEFFICIENT_MAX)
    quit_tenure: Real = Field(ge=0, le=COEFFICIENT_MAX)
    burnout_intercept: Real = Field(ge=-INTERCEPT_BOUND, le=INTERCEPT_BOUND)
    burnout_overtime: Real = Field(ge=0, le=COEFFICIENT_MAX)
    burnout_compliance: Real = Field(ge=0, le=COEFFICIENT_MAX)
    burnout_months: Real = Field(gt=0, le=MONTHS_MAX)
    fill_intercept: Real = Field(ge=-INTERCEPT_BOUND, le=INTERCEPT_BOUND)
    fill_pay: Real = Field(ge=0, le=COEFFICIENT_MAX)
    fill_drive: Real = Field(ge=0, le=COEFFICIENT_MAX)
    fill_base_quality: Real = Field(ge=0, le=COEFFICIENT_MAX)
    training_skill_gain: Real = Field(ge=0, le=1)
    application_rate: Real = Field(ge=0, le=1)
    application_rate_mentored: Real = Field(ge=0, le=1)
    skill_decay_per_year: Real = Field(ge=0, le=1)
    initial_skill_mean: Real = Field(ge=0, le=1)
    # the lever promotion_rate_3y is compared with it (a ratio): a rate of 0 would divide by zero
    county_promotion_rate_3y: Real = Field(ge=0.01, le=1)

    # Checks of two keys at once are reported at the block (in the last file that writes it): either key
    # may be the one to change.
    @model_validator(mode="after")
    def _possible(self) -> "CadreParams":
        if self.ladder_pay_min_yuan > self.ladder_pay_max_yuan:
            raise ValueError(f"the career ladder's lowest pay, ladder_pay_min_yuan ({self.ladder_pay_min_yuan:g}), "
                             f"is above its highest, ladder_pay_max_yuan ({self.ladder_pay_max_yuan:g})")
        # New hires' ages are a normal truncated to [hire_age_min, hire_age_max]; incumbents' to
        # [hire_age_min, retirement_age]. A mean outside its range would leave no probability to draw from.
        if not self.hire_age_min < self.hire_age_max:
            raise ValueError(f"hire_age_min ({self.hire_age_min:g}) must be below hire_age_max "
                             f"({self.hire_age_max:g})")
        if self.hire_age_max > self.retirement_age:
            raise ValueError(f"hire_age_max ({self.hire_age_max:g}) is above retirement_age "
                             f"({self.retirement_age:g}): hires that old would retire at once")
        if not self.hire_age_min <= self.hire_age_mean <= self.hire_age_max:
            raise ValueError(f"hire_age_mean ({self.hire_age_mean:g}) must be within hire_age_min and hire_age_max "
                             f"[{self.hire_age_min:g}, {self.hire_age_max:g}]: hires' ages are drawn around it "
                             "within that range")
        if self.hire_age_min >= 45 and self.initial_share_over_45 < 1:
            raise ValueError(f"initial_share_over_45 is {self.initial_share_over_45:g}, but incumbents are aged "
                             f"hire_age_min ({self.hire_age_min:g}) to retirement_age, so all are over 45: "
                             "lower hire_age_min below 45 or set the share to 1")
        return self


class ResidentParams(Strict):
    """Residents' needs, service, satisfaction, complaints and participation (§2.3)."""

    need_rate_per_month: Real = Field(ge=0, le=1)
    elderly_need_multiplier: Real = Field(ge=1, le=100)
    authority_share: Real = Field(ge=0, le=1)
    hours_per_case: Real = Field(gt=0, le=HOURS_MAX)
    township_hours_per_case: Real = Field(gt=0, le=HOURS_MAX)
    service_capacity_cap: Real = Field(ge=0, le=1)
    outreach_satisfaction: Real = Field(ge=0, le=100)
    base_local_authority: Real = Field(ge=0, le=1)
    referral_resolution_per_month: Real = Field(ge=0, le=1)
    satisfaction_served: Real = Field(ge=0, le=100)
    satisfaction_unserved: Real = Field(ge=0, le=100)
    satisfaction_waiting: Real = Field(ge=0, le=100)
    satisfaction_no_need: Real = Field(ge=0, le=100)
    satisfaction_skill: Real = Field(ge=0, le=100)
    satisfaction_burnout: Real = Field(ge=0, le=100)
    satisfaction_memory_months: Real = Field(gt=0, le=MONTHS_MAX)
    complaint_probability: Real = Field(ge=0, le=1)
    rectification_base: Real = Field(ge=0, le=1)
    rectification_supervision: Real = Field(ge=0, le=1)
    rectification_capacity: Real = Field(ge=0, le=1)
    trust_learning: Real = Field(ge=0, le=1)
    efficacy_learning: Real = Field(ge=0, le=1)
    decision_probability_per_month: Real = Field(ge=0, le=1)
    execution_base: Real = Field(ge=0, le=1)
    execution_capacity: Real = Field(ge=0, le=1)
    execution_supervision: Real = Field(ge=0, le=1)
    attend_intercept: Real = Field(ge=-INTERCEPT_BOUND, le=INTERCEPT_BOUND)
    attend_trust: Real = Field(ge=0, le=COEFFICIENT_MAX)
    attend_efficacy: Real = Field(ge=0, le=COEFFICIENT_MAX)
    attend_cost: Real = Field(ge=0, le=COEFFICIENT_MAX)
    attend_age: Real = Field(ge=0, le=COEFFICIENT_MAX)
    attend_points: Real = Field(ge=0, le=COEFFICIENT_MAX)
    cost_rural: Real = Field(ge=0, le=COEFFICIENT_MAX)
    cost_urban: Real = Field(ge=0, le=COEFFICIENT_MAX)
    council_cost_reduction: Real = Field(ge=0, le=1)
    online_participation: Real = Field(ge=0, le=1)
    threshold_mean: Real = Field(ge=0, le=1)
    threshold_sd: Real = Field(ge=0, le=1)
    social_boost: Real = Field(ge=0, le=1)
    initial_trust_mean: Real = Field(ge=0, le=1)
    initial_efficacy_mean: Real = Field(ge=0, le=1)
    initial_satisfaction: Real = Field(ge=0, le=100)
    opinion_logit_sd: Real = Field(ge=0, le=5)
    adult_age: Real = Field(ge=14, le=30)
    elderly_age: Real = Field(ge=50, le=80)
    oldest_age: Real = Field(ge=80, le=110)
    cost_spread: Real = Field(ge=0, lt=1)
    participation_window_months: Count = Field(ge=1, le=60)


class CountyParams(Strict):
    """County heterogeneity: the 'base' a county starts from (§2.4, §8.1)."""

    base_sd: Real = Field(ge=0, le=10, description="sd of the latent base score (its effects are per unit)")
    base_trust_effect: Real = Field(ge=0, le=1, description="trust (0-1) per unit of base")
    initial_data_shared: Real = Field(ge=0, le=1)


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

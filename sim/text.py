"""The words on figures and in reports, in English and Chinese (``grassroots report --lang en|zh``).

Indicator names follow the plan's own wording (``sim/data/plan_indicators.yaml``, copied from
policy-facts §3); phase names follow the plan's phases (试点启动, 全面推进, 巩固提升).
Names a table lacks fall back to the key itself, so a new metric or lever still appears (in English)
rather than disappearing; the tests check every name the shipped outputs use has both languages.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

import yaml

LANGS = ("en", "zh")

METRIC_NAMES: dict[str, tuple[str, str]] = {
    "turnover_rate": ("Cadre turnover (per year)", "基层干部流失率（每年）"),
    "service_time_share": ("Cadre time serving residents", "干部服务群众时间占比"),
    "participation_rate": ("Residents taking part in decisions", "群众参与决策率"),
    "meeting_attendance_rate": ("Meeting attendance", "村民（居民）会议参会率"),
    "participation_12m_share": ("Residents who took part in the last 12 months", "近12个月参与过决策的居民占比"),
    "quit_rate": ("Voluntary quits (per year)", "主动离职率（每年）"),
    "compliance_heavy_share": ("Cadres mostly on compliance work", "主要精力用于应付检查的干部占比"),
    "burnout": ("Cadre burnout (0-1)", "干部职业倦怠（0-1）"),
    "vacancy_rate": ("Vacant posts", "岗位空缺率"),
    "talent_gap_filled": ("Talent gap filled", "人才缺口填补率"),
    "recruitment_fill_rate": ("Vacancies filled (per year)", "空缺岗位补充率（每年）"),
    "share_under_45": ("Cadres under 45", "45岁以下人员占比"),
    "share_college": ("Junior college or above", "大专以上学历占比"),
    "share_professional": ("Professionals", "专业人才占比"),
    "social_insurance_coverage": ("Contract staff insured", "合同制人员五险一金覆盖率"),
    "pay_match": ("Pay matched to workload", "薪酬匹配度"),
    "mean_skill": ("Cadre skill (0-1)", "干部能力（0-1）"),
    "promotion_rate_3y": ("Promoted within 3 years", "三年内晋升比例"),
    "satisfaction": ("Residents' satisfaction (0-100)", "群众满意度（0-100）"),
    "complaint_rectification_rate": ("Complaints rectified", "服务投诉整改率"),
    "needs_served_share": ("Residents' needs settled", "群众诉求办结率"),
    "local_resolution_share": ("Issues settled in the township", "乡镇就地解决率"),
    "committee_decision_share": ("Decisions taken by the two committees alone", "两委直接决策占比"),
    "trust": ("Residents' trust (0-1)", "群众信任度（0-1）"),
    "authority_devolved_share": ("Powers held by townships", "下放乡镇权力占比"),
    "data_shared_share": ("Cross-department data sharing", "跨部门数据共享率"),
    "assessment_items_cut": ("Assessment items cut (vs 2023)", "考核事项精简率"),
    "assessment_items_actual": ("Assessment items pushed down (per township)", "实际下派考核事项（每乡镇）"),
    "veto_items": ("One-vote veto items (per township)", "一票否决事项（每乡镇）"),
    "rebound_share": ("Cut work pushed back (rebound)", "减负反弹比例"),
    "inspections_per_committee": ("Inspections per committee (per year)", "每个村（社区）接受检查次数（每年）"),
}

LEVER_NAMES: dict[str, tuple[str, str]] = {
    "assessment_items_cut": ("Assessment items cut", "考核事项精简"),
    "veto_items_cap": ("Veto items cap", "一票否决事项上限"),
    "inspections_cut": ("Inspections cut", "督查检查压减"),
    "task_access_control": ("Task access control", "事项准入"),
    "grid_integration": ("Grid integration", "网格整合"),
    "power_list_coverage": ("Power lists", "权责清单覆盖"),
    "devolved_power_share": ("Powers devolved", "下放权力占比"),
    "data_sharing_target": ("Data sharing", "数据共享"),
    "committee_pay_ratio": ("Committee pay (ratio to county seat)", "村（社区）干部薪酬（与县城之比）"),
    "township_pay_ratio": ("Township pay (ratio to county)", "乡镇干部薪酬（与县直之比）"),
    "career_ladder": ("Career ladder", "职业晋升阶梯"),
    "occupational_annuity": ("Occupational annuity", "职业年金"),
    "social_insurance_coverage": ("Social insurance", "五险一金覆盖"),
    "recognition": ("Recognition", "表彰激励"),
    "promotion_rate_3y": ("Promotion within 3 years", "三年晋升比例"),
    "training_coverage": ("Training coverage", "培训覆盖率"),
    "training_mentoring": ("Mentoring", "导师带教"),
    "recruitment_drive": ("Recruitment drive", "人才招引"),
    "deliberation_share": ("Decisions put to residents", "提交群众议决的事项占比"),
    "disclosure": ("Disclosure", "决策公开"),
    "councils": ("Residents' councils", "居民议事会"),
    "online_voting": ("Online voting", "线上表决"),
    "points_system": ("Points system", "积分制"),
    "supervision_platform": ("Supervision platform", "监督平台"),
    "evaluation_service_weight": ("Service weight in evaluation", "考核中服务实绩权重"),
}

# Config paths that sweeps vary besides levers (calibrated parameters and uncertainties).
PARAMETER_NAMES: dict[str, tuple[str, str]] = {
    "parameters.cadres.quit_intercept": ("Quit propensity (intercept)", "离职倾向（截距）"),
    "parameters.cadres.quit_pay": ("Quit response to pay", "离职对薪酬的敏感度"),
    "parameters.cadres.fill_intercept": ("Vacancy filling (intercept)", "岗位补充（截距）"),
    "parameters.cadres.hire_age_mean": ("Mean age of new hires", "新进人员平均年龄"),
    "parameters.cadres.hire_college_base": ("College share of new hires", "新进人员大专以上比例"),
    "parameters.cadres.hire_professional_base": ("Professional share of new hires", "新进人员专业人才比例"),
    "parameters.workload.item_hours_per_township_month": ("Hours per assessment item", "每项考核事项耗时"),
    "parameters.workload.inspection_hours": ("Hours per inspection", "每次检查耗时"),
    "parameters.residents.attend_intercept": ("Attendance (intercept)", "参会倾向（截距）"),
    "parameters.residents.attend_efficacy": ("Attendance response to efficacy", "参会对效能感的敏感度"),
    "parameters.residents.rectification_base": ("Base rectification rate", "基础整改率"),
    "parameters.residents.satisfaction_no_need": ("Satisfaction without a need", "无诉求居民满意度"),
    "implementation.rebound_share": ("Rebound of cut work", "减负反弹比例"),
}

PHASE_NAMES = {"baseline": ("baseline", "基期"), "pilot": ("pilot", "试点启动"),
               "rollout": ("full rollout", "全面推进"), "consolidation": ("consolidation", "巩固提升")}

SELECTION_NAMES = {"random": ("random", "随机选点"), "good_base": ("good base", "选基础好的县")}

WORDS: dict[str, tuple[str, str]] = {
    "bands": ("median, 50% and 90% bands", "中位数及50%、90%区间"),
    "paired_band": ("mean, paired 90% band", "均值及配对90%区间"),
    "target_2027": ("2027 target {value} ({source})", "2027年目标 {value}（{source}）"),
    "share_axis": ("share of cadres / residents", "占干部 / 居民比例"),
    "per_year_axis": ("share per year", "每年比例"),
    "pp_axis": ("difference, percentage points", "差值（百分点）"),
    "difference_axis": ("difference", "差值"),
    "difference_from": ("{metric}: difference from {reference}", "{metric}：与{reference}之差"),
    "minus": ("{design} - {reference}", "{design}减{reference}"),
    "fan_caption": ("{metric}: median and 50%/90% bands", "{metric}：中位数及50%/90%区间"),
    "targets_title": ("Chance of meeting the plan's 2027 targets", "实现规划2027年目标的概率"),
    "targets_bar": ("probability of meeting the 2027 target", "实现2027年目标的概率"),
    "design": ("design", "方案"),
    "year": ("year", "年份"),
    "provenance": ("grassroots {version} | {replicates} replicates, seed {seed} | {scenarios} | report {date}",
                   "grassroots {version} | {replicates}次重复，随机种子{seed} | {scenarios} | 报告日期{date}"),
    "provenance_sweep": ("grassroots {version} | sweep {name}: {points} points x {replicates} replicates, seed {seed}"
                         " | config {hash} | report {date}",
                         "grassroots {version} | 实验{name}：{points}个设计点 x {replicates}次重复，随机种子{seed}"
                         " | 配置{hash} | 报告日期{date}"),
    "provenance_pilot": ("grassroots {version} | pilot evaluation from {source} | report {date}",
                         "grassroots {version} | 试点评估，数据来自{source} | 报告日期{date}"),
    "report_title": ("grassroots report: {designs}", "grassroots 报告：{designs}"),
    "sweep_title": ("grassroots sweep report: {name}", "grassroots 实验报告：{name}"),
    "pilot_title": ("grassroots pilot evaluation", "grassroots 试点评估报告"),
    "indicator_table": ("The plan's indicators in 2027: each design's mean [90% interval over replicates]",
                        "规划指标（2027年）：各方案均值［各次重复的90%区间］"),
    "indices_table": ("Indices", "敏感性指数"),
    "factorial_table": ("Design points: mean and 90% interval", "各设计点：均值及90%区间"),
    "pilot_table": ("Pilot evaluation: estimates, truths, bias and power", "试点评估：估计值、真实效应、偏差与检验效能"),
    "col_indicator": ("indicator", "指标"),
    "col_dimension": ("dimension", "维度"),
    "col_baseline": ("baseline", "基期值"),
    "col_target": ("target", "目标值"),
    "col_source": ("source", "出处"),
    "col_note": ("note", "说明"),
    "not_produced": ("not produced by the model", "模型不产生该指标"),
    "sobol_first": ("first order (S1)", "一阶指数 S1"),
    "sobol_total": ("total order (ST)", "总效应指数 ST"),
    "sobol_axis": ("Sobol index (share of variance), 95% interval", "Sobol指数（方差贡献），95%区间"),
    "morris_x": ("mu* (mean absolute elementary effect)", "μ*（基本效应绝对值的均值）"),
    "morris_y": ("sigma (interaction / non-linearity)", "σ（交互作用 / 非线性）"),
    "sobol_caption": ("Sobol sensitivity: {metric}, {year}", "Sobol敏感性分析：{metric}，{year}年"),
    "morris_caption": ("Morris screening: {metric}, {year}", "Morris筛选：{metric}，{year}年"),
    "metric_year": ("{metric}, {year}", "{metric}，{year}年"),
    "factorial_caption": ("{metric} in {year} over {x} and {y}", "{year}年{metric}：{x} × {y}"),
    "factorial_panel": ("{name} = {value}", "{name} = {value}"),
    "factorial_mean_over": ("mean over {names}", "对{names}取平均"),
    "factorial_bold": ("bold: meets the 2027 target", "粗体：达到2027年目标"),
    "factorial_cbar": ("{metric}, mean over replicates", "{metric}（各次重复均值）"),
    "pilot_caption": ("Pilot evaluation: estimated vs true effect in 2024", "试点评估：2024年估计效应与真实效应"),
    "pilot_did": ("difference-in-differences estimate (mean, 90% of replicates)", "双重差分估计（均值，90%重复区间）"),
    "pilot_true_pilots": ("true effect on the pilot counties", "对试点县的真实效应"),
    "pilot_true_rollout": ("true effect of rolling out everywhere", "全面推开的真实效应"),
    "pilot_axis": ("effect in 2024", "2024年效应"),
    "pilot_axis_pp": ("effect in 2024, percentage points", "2024年效应（百分点）"),
    "pilot_power": ("power {value}", "检验效能 {value}"),
    "pilots_n": ("{n} pilots", "{n}个试点"),
    "quota": ("central/west >= {value}", "中西部 ≥ {value}"),
    "sweep_needs_analysis": ("run `grassroots analyze` on the spec first", "请先对实验运行 `grassroots analyze`"),
}


COLUMNS: dict[str, tuple[str, str]] = {
    "point": ("point", "设计点"), "metric": ("outcome", "结果指标"), "year": ("year", "年份"),
    "mean": ("mean", "均值"), "low_90": ("5%", "5%分位"), "high_90": ("95%", "95%分位"),
    "replicates": ("replicates", "重复次数"), "factor": ("factor", "因素"),
    "S1": ("S1", "一阶指数 S1"), "S1_conf": ("S1 95% half-width", "S1 95%区间半宽"),
    "ST": ("ST", "总效应指数 ST"), "ST_conf": ("ST 95% half-width", "ST 95%区间半宽"),
    "mu_star": ("mu*", "μ*"), "mu_star_conf": ("mu* 95% half-width", "μ* 95%区间半宽"), "mu": ("mu", "μ"),
    "sigma": ("sigma", "σ"), "selection": ("selection rule", "选点方式"),
    "central_west_quota": ("central/west quota", "中西部最低比例"), "pilots": ("pilots", "试点数"),
    "did_estimate": ("DiD estimate", "双重差分估计"), "did_spread": ("estimate s.d.", "估计标准差"),
    "true_effect_pilots": ("true effect on pilots", "对试点县的真实效应"),
    "true_effect_rollout": ("true rollout effect", "全面推开的真实效应"), "power": ("power", "检验效能"),
    "bias_vs_pilots": ("bias vs pilots", "相对试点效应的偏差"),
    "bias_vs_rollout": ("bias vs rollout", "相对推开效应的偏差"),
}


def table_in(frame, lang: str):
    """A results table for a report page: column names in ``lang``; outcome and factor names in words."""
    frame = frame.copy()
    if "metric" in frame:
        frame["metric"] = [metric_name(m, lang) for m in frame["metric"]]
    if "factor" in frame:
        frame["factor"] = [factor_name(f, lang) for f in frame["factor"]]
    if "selection" in frame:
        frame["selection"] = [selection_name(v, lang) for v in frame["selection"]]
    names = {c: pick(COLUMNS[c], lang) if c in COLUMNS else factor_name(c, lang) for c in frame.columns}
    return frame.rename(columns=names)


def pick(pair: tuple[str, str], lang: str) -> str:
    return pair[LANGS.index(lang)]


def word(key: str, lang: str, **fields) -> str:
    return pick(WORDS[key], lang).format(**fields)


def metric_name(metric: str, lang: str) -> str:
    return pick(METRIC_NAMES[metric], lang) if metric in METRIC_NAMES else metric


def phase_name(phase: str, lang: str) -> str:
    return pick(PHASE_NAMES[phase], lang) if phase in PHASE_NAMES else phase


def selection_name(selection: str, lang: str) -> str:
    return pick(SELECTION_NAMES[selection], lang) if selection in SELECTION_NAMES else selection


_PHASE_KEY = {"baseline": ("2023", "2023年"), "pilot": ("pilot", "试点期"), "rollout": ("rollout", "推进期"),
              "consolidation": ("consolidation", "巩固期")}


def factor_name(path: str, lang: str) -> str:
    """A sweep factor (config key path) in words: ``levers.inspections_cut.values.rollout`` ->
    "Inspections cut (rollout)"."""
    m = re.fullmatch(r"levers\.([a-z0-9_]+)\.values\.([A-Za-z0-9_-]+)", path)
    if m and m.group(1) in LEVER_NAMES:
        when = _PHASE_KEY.get(m.group(2), (m.group(2), m.group(2)))
        return f"{pick(LEVER_NAMES[m.group(1)], lang)} ({pick(when, lang)})" if lang == "en" else \
            f"{pick(LEVER_NAMES[m.group(1)], lang)}（{pick(when, lang)}）"
    if path in PARAMETER_NAMES:
        return pick(PARAMETER_NAMES[path], lang)
    return path


def design_label(name: str, labels: dict | None, lang: str) -> str:
    """A design's label in ``lang`` (the config's ``labels``), or its name."""
    return (labels or {}).get(lang) or name


@functools.cache
def plan_indicators() -> tuple[dict, ...]:
    """The plan's indicators (id, en, zh, dimension, baseline, target, year, direction, source, note)."""
    path = Path(__file__).with_name("data") / "plan_indicators.yaml"
    return tuple(yaml.safe_load(path.read_text(encoding="utf-8"))["indicators"])


DIMENSIONS = {"organisation": ("organisation", "组织"), "talent": ("talent", "人才"),
              "mechanism": ("mechanism", "机制"), "resources": ("resources", "资源")}

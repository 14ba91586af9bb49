"""The words on figures and in reports, in English and Chinese (``grassroots report --lang en|zh``).

Indicator names follow the plan's own wording (``sim/data/plan_indicators.yaml``, copied from
policy-facts §3); phase names follow the plan's phases (试点启动, 全面推进, 巩固提升).
The names of metrics, levers and parameters come from the registry (``sim/registry/``), which
requires both languages; this module holds the other words. A name no table has falls back to the key
itself, so an unknown outcome still appears rather than disappearing.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

import yaml

from . import registry

LANGS = ("en", "zh")


def _names(entries: dict) -> dict[str, tuple[str, str]]:
    """(English, Chinese) per registry entry that has a label."""
    return {key: (e.label.en, e.label.zh) for key, e in entries.items() if e.label is not None}


# Names of metrics, levers and the parameters sweeps vary (calibrated parameters and uncertainties): from
# the registry (sim/registry/*.yaml), where each is defined with its labels in both languages.
METRIC_NAMES = _names(registry.METRICS)
LEVER_NAMES = _names(registry.LEVERS)
PARAMETER_NAMES = _names(registry.PARAMETERS)  # keyed by config path, e.g. parameters.cadres.quit_pay

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
    "reading_of": ("{indicator}: {reading}", "{indicator}：{reading}"),
    "counties_meeting_row": ("{indicator} — share of counties meeting the target", "{indicator}——达标县占比"),
    "counties_meeting_note": ("each county's own value against the target", "按各县自身数值对照目标"),
    "notes_title": ("Reading the indicators", "指标解读"),
    "set_at_target": (
        "{design}: {lever} is set exactly at the plan's target ({target}), so the value pooled over counties "
        "meets the target only if every county implements it in full: {lever} set exactly at the target misses it "
        "under imperfect fidelity. In 2027 {counties} of counties meet it themselves (the others do not implement "
        "it, or have not finished their ramp), and {indicator} pooled over counties is {value}, meeting the target "
        "in {probability} of replicates.",
        "{design}：{lever}恰好设定在规划目标值（{target}），因此只有所有县都完全落实，全部县汇总值才能达标。"
        "恰好设定在目标值的{lever}在落实不完全时达不到目标。2027年{counties}的县自身达标（其余县未落实，或尚未完成逐步推进），"
        "全部县汇总的{indicator}为{value}，达标的重复占比为{probability}。"),
    "reading_value": ("{reading} {value}", "{reading}{value}"),
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

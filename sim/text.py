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
    "bands": ("mean, 50% and 90% bands over replicates", "均值及各次重复的50%、90%区间"),
    "paired_band": ("mean difference and paired 90% band over replicates", "差值均值及配对90%区间"),
    "target_2027": ("2027 target {value} ({source})", "2027年目标 {value}（{source}）"),
    "target_legend": ("2027 target {sign} {value} ({source})", "2027年目标 {sign}{value}（{source}）"),
    "share_axis": ("share", "比例"),
    "target_short": ("2027 target (value in each title)", "2027年目标（数值见各图标题）"),
    "per_year_axis": ("share per year", "比例（每年）"),
    "pp_axis": ("difference, percentage points", "差值（百分点）"),
    "difference_axis": ("difference", "差值"),
    "difference_from": ("{metric}\neach design minus the reference, {reference}",
                        "{metric}\n各方案与参照方案“{reference}”之差"),
    "fan_caption": ("{metric}: mean and 50%/90% bands over replicates", "{metric}：均值及各次重复的50%、90%区间"),
    "targets_title": ("Chance of meeting the plan's 2027 targets", "实现规划2027年目标的概率"),
    "targets_bar": ("chance\n(share of\nreplicates)", "实现概率\n（占重复\n次数比例）"),
    "design": ("design", "方案"),
    "year": ("year", "年份"),
    "provenance": ("grassroots {version} | {replicates} replicates, seed {seed} | {scenarios} | report {date}",
                   "grassroots {version} | {replicates}次重复，随机种子{seed} | {scenarios} | 报告日期{date}"),
    "provenance_sweep": ("grassroots {version} | sweep {name}: {points} points x {replicates} replicates, seed {seed}"
                         " | config {hash} | report {date}",
                         "grassroots {version} | 参数扫描{name}：{points}个设计点×{replicates}次重复，随机种子{seed}"
                         " | 配置{hash} | 报告日期{date}"),
    "provenance_pilot": ("grassroots {version} | pilot evaluation from {source} | report {date}",
                         "grassroots {version} | 试点评估，数据来自{source} | 报告日期{date}"),
    "report_title": ("grassroots report: {designs}", "grassroots 报告：{designs}"),
    "sweep_title": ("grassroots sweep report: {name}", "grassroots 参数扫描报告：{name}"),
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
        "{design}：{lever}恰好设定在规划目标值（{target}），只有各县全部完全落实，各县汇总值才能达标，"
        "落实稍有不足即达不到目标。2027年有{counties}的县自身达标（其余县未落实，或尚未完成逐步推进），"
        "各县汇总的{indicator}为{value}，达标的重复占比为{probability}。"),
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
    "pilot_did": ("difference-in-differences estimate (mean, 90% of replicates)", "双重差分估计（均值及各次重复的90%区间）"),
    "pilot_true_pilots": ("true effect on the pilot counties", "对试点县的真实效应"),
    "pilot_true_rollout": ("true effect of rolling out everywhere", "全面推开的真实效应"),
    "pilot_axis": ("effect in 2024", "2024年效应"),
    "pilot_axis_pp": ("effect in 2024, percentage points", "2024年效应（百分点）"),
    "pilot_power": ("power {value}", "检验效能 {value}"),
    "pilots_n": ("{n} pilots", "{n}个试点"),
    "quota": ("central/west >= {value}", "中西部 ≥ {value}"),
    # --- the story of a run or comparison report (sim/story.py)
    "s_intro": ("This report compares {n} designs of the reform: {designs}. The reference is {reference}: "
                "differences are each design minus it, replicate by replicate ({replicates} replicates each, on "
                "common random numbers).",
                "本报告比较{n}个改革方案：{designs}。参照方案为{reference}：差值均为各方案减去参照方案，"
                "逐次重复配对计算（每个方案{replicates}次重复，使用相同的随机数）。"),
    "s_intro_one": ("This report shows one design, {design}, over {replicates} replicates.",
                    "本报告展示一个方案{design}，共{replicates}次重复。"),
    "s_value": ("{name} ({value} against {threshold}{chance})", "{name}（{value}，目标{threshold}{chance}）"),
    "s_chance": ("; met in {p} of replicates", "，{p}的重复达到"),
    "s_more": ("{n} more (table below)", "另有{n}项（见下表）"),
    "s_more_contrasts": ("They differ on {n} more targets (table below).", "另有{n}项目标的达标情况不同（见下表）。"),
    "s_meets": ("{design} meets {k} of the {total} 2027 targets the model measures: {met}.",
                "{design}在模型可测算的{total}项2027年目标中达到{k}项：{met}。"),
    "s_meets_none": ("{design} meets none of the {total} 2027 targets the model measures; among those it misses are "
                     "{missed}.", "{design}在模型可测算的{total}项2027年目标中均未达到，其中包括{missed}。"),
    "s_misses": ("It misses {n}, among them {missed}.", "未达到{n}项，其中包括{missed}。"),
    "s_contrast": ("{first} meets the target for {name} ({v1} against {threshold}, met in {p1} of replicates); "
                   "{second} misses it ({v2}, met in {p2}).",
                   "{first}达到{name}目标（{v1}，目标{threshold}，{p1}的重复达到）；"
                   "{second}未达到（{v2}，{p2}的重复达到）。"),
    "s_same_targets": ("{design} and {reference} meet the same 2027 targets.",
                       "{design}与{reference}达到的2027年目标相同。"),
    "s_diff": ("{name} {value} (paired 90% interval {low} to {high})", "{name}{value}（配对90%区间{low}至{high}）"),
    "s_largest": ("The largest differences of {design} from {reference} in {year}: {parts}.",
                  "{year}年{design}与{reference}差别最大的指标：{parts}。"),
    "s_bands": ("The bands and intervals show simulation noise only: the spread of outcomes over {replicates} "
                "replicates, the model's random draws with its behavioural parameters fixed at their calibrated "
                "values. They do not include uncertainty about those parameters, so the real range is wider. A year's value "
                "(for 2027, say) is the mean of its twelve months, averaged over the replicates.",
                "图表中的区间仅反映模拟的随机波动，即在行为参数固定为校准值的条件下，{replicates}次重复之间的差异；"
                "不包括参数本身的不确定性，因此实际可能的范围更宽。某年（如2027年）的数值为该年12个月的平均值，再对各次重复取均值。"),
    "n_year": ("A year's value (e.g. 2027) is the mean of its twelve monthly values (January to December), not "
               "the value in December.",
               "某一年的数值（如2027年）是该年1月至12月各月数值的平均，而非12月的数值。"),
    "n_mean": ("Figures and tables show the mean over the {replicates} replicates; bands and intervals in "
               "brackets are 90% ranges over them (5th to 95th percentile), the darker band 50%.",
               "图表中的数值为{replicates}次重复的均值；方括号内及图中浅色区间为各次重复的90%范围（第5至第95百分位），"
               "深色区间为50%范围。"),
    "n_likely": ("A design meets a target when the target is met in more than {likely} of the replicates; the "
                 "chance of meeting it is the share of replicates in which it is met.",
                 "某项目标在超过{likely}的重复中达到，即视为该方案达到这项目标；实现概率为达到该目标的重复所占比例。"),
    "n_paired": ("Differences are paired: each replicate of a design is compared with the same replicate of the "
                 "reference (the same simulated world), which is why their intervals are narrower than the "
                 "designs' own.",
                 "差值为配对差值：每个方案的第k次重复与参照方案的第k次重复（同一模拟情境）相比较，"
                 "因此其区间比各方案自身的区间更窄。"),
    "sec_summary": ("Summary", "摘要"),
    "sec_contents": ("Contents", "目录"),
    "sec_designs": ("The designs", "各方案"),
    "sec_ranking": ("Ranking by the plan's 2027 targets", "按规划2027年目标排序"),
    "sec_attainment": ("Meeting the 2027 targets", "2027年目标实现情况"),
    "sec_differences": ("Differences from the reference", "与参照方案的差值"),
    "sec_figures": ("Figures", "图"),
    "sec_indicators": ("The plan's indicators", "规划指标"),
    "sec_notes": ("How to read the numbers", "数据说明"),
    "sec_files": ("Files", "文件"),
    "files_note": ("Beside this page: each figure as {formats}, its data as CSV with the same name, and every "
                   "table of this report in {workbook}.",
                   "本页同一文件夹中：各图的{formats}文件、与图同名的CSV数据文件，以及汇总本报告全部表格的{workbook}。"),
    "levers_caption": ("Levers by phase (a value holds until the next phase sets another): {design}",
                       "各阶段政策杠杆取值（某阶段未设定则沿用上一阶段）：{design}"),
    "no_levers": ("No lever moves from its 2023 value.", "所有政策杠杆均保持2023年取值。"),
    "no_description": ("(no description in the config)", "（配置中无说明）"),
    "col_lever": ("lever", "政策杠杆"),
    "col_unit": ("unit", "单位"),
    "phase_col_baseline": ("2023", "2023年"),
    "phase_col_pilot": ("pilot (2024)", "试点启动（2024年）"),
    "phase_col_rollout": ("full rollout (2025-26)", "全面推进（2025—2026年）"),
    "phase_col_consolidation": ("consolidation (2027-30)", "巩固提升（2027—2030年）"),
    "design_year": ("{design}, {year}", "{design}（{year}年）"),
    "tied_rank": ("{rank} (tie)", "并列{rank}"),
    "rk_rank": ("rank", "排名"),
    "rk_design": ("design", "方案"),
    "rk_met": ("targets met", "达到目标数"),
    "rk_mean": ("mean chance of meeting a target", "各目标平均实现概率"),
    "rk_missed": ("targets missed", "未达到的目标"),
    "ranking_caption": ("Designs ranked by the number of 2027 targets they meet (in more than {likely} of the "
                        "{replicates} replicates), then by their mean chance of meeting a target; designs equal on "
                        "both share a rank.",
                        "各方案先按达到的2027年目标项数排序（在{replicates}次重复中超过{likely}达到方计为达到），再按各目标平均"
                        "实现概率排序；两项均相同的方案名次并列。"),
    "attainment_caption": ("Chance of meeting each {year} target (share of the {replicates} replicates in which "
                           "the {year} value meets it), with the mean {year} value in brackets.",
                           "各项{year}年目标的实现概率（{replicates}次重复中{year}年数值达到目标的比例），"
                           "方括号内为{year}年均值。"),
    "differences_caption": ("Each design minus {reference}: mean over the {replicates} replicates [paired 90% "
                            "interval]; shares in percentage points (pp).",
                            "各方案减去{reference}：{replicates}次重复的均值［配对90%区间］；比例类指标单位为百分点。"),
    "figure_caption_fan": ("{metric}. Lines: the mean over {replicates} replicates; bands: 50% (dark) and 90% "
                           "(light) of replicates. Shaded: the reform's phases. Dashed: the plan's 2027 target.",
                           "{metric}。线为{replicates}次重复的均值；深色、浅色区间分别为50%、90%的重复所在范围；"
                           "灰色底纹为改革各阶段；虚线为规划2027年目标。"),
    "figure_caption_difference": ("{metric}: each design minus {reference}, replicate by replicate. Lines: the "
                                  "mean difference; bands: 90% of the paired differences.",
                                  "{metric}：各方案逐次重复减去{reference}。线为差值均值，区间为90%的配对差值所在范围。"),
    "figure_caption_targets": ("Chance of meeting each 2027 target: the share of the {replicates} replicates in "
                               "which the design's 2027 value meets it.",
                               "各项2027年目标的实现概率：{replicates}次重复中该方案2027年数值达到目标的比例。"),
    "indicator_caption": ("The plan's indicator system: baseline, 2027 target and source (policy-facts §3), and "
                          "each design's 2027 mean [90% interval over replicates].",
                          "规划指标体系：基期值、2027年目标及出处（policy-facts §3），以及各方案2027年均值"
                          "［各次重复的90%区间］。"),
    "sweep_needs_analysis": ("run `grassroots analyze` on the spec first", "请先对实验运行 `grassroots analyze`"),
    # --- the same words for runs under parameter draws (--draws N: N posterior parameter sets x R replicates
    # each; word_runs picks these when the manifest records draws). Fields: runs (N x R), draws (N), per_draw (R).
    "s_intro_draws": ("This report compares {n} designs of the reform: {designs}. The reference is {reference}: "
                      "differences are each design minus it, run by run ({runs} runs each: {draws} posterior "
                      "parameter draws x {per_draw} replicates; run k is the same parameters and random numbers "
                      "in every design).",
                      "本报告比较{n}个改革方案：{designs}。参照方案为{reference}：差值均为各方案减去参照方案，"
                      "逐次模拟配对计算（每个方案{runs}次模拟：{draws}组后验参数抽样×每组{per_draw}次重复；"
                      "同一编号的模拟在各方案中使用相同的参数和随机数）。"),
    "s_intro_one_draws": ("This report shows one design, {design}, over {runs} runs ({draws} posterior parameter "
                          "draws x {per_draw} replicates).",
                          "本报告展示一个方案{design}，共{runs}次模拟（{draws}组后验参数抽样×每组{per_draw}次重复）。"),
    "s_bands_draws": ("The bands and intervals include parameter uncertainty ({draws} posterior draws of the "
                      "behavioural parameters, fitted to the 2023 baseline) and simulation noise ({per_draw} "
                      "replicates per draw): {runs} runs per design. They do not include uncertainty about the "
                      "model's structure. A year's value (for 2027, say) is the mean of its twelve months, "
                      "averaged over the runs.",
                      "图表中的区间同时反映参数不确定性（行为参数的{draws}组后验抽样，依据2023年基期拟合）和模拟的随机波动"
                      "（每组参数{per_draw}次重复），每个方案共{runs}次模拟；不包括模型结构本身的不确定性。"
                      "某年（如2027年）的数值为该年12个月的平均值，再对各次模拟取均值。"),
    "n_mean_draws": ("Figures and tables show the mean over the {runs} runs ({draws} parameter draws x {per_draw} "
                     "replicates); bands and intervals in brackets are 90% ranges over them (5th to 95th "
                     "percentile), the darker band 50%.",
                     "图表中的数值为{runs}次模拟（{draws}组参数抽样×每组{per_draw}次重复）的均值；方括号内及图中浅色"
                     "区间为各次模拟的90%范围（第5至第95百分位），深色区间为50%范围。"),
    "ranking_caption_draws": ("Designs ranked by the number of 2027 targets they meet (in more than {likely} of the "
                              "{runs} runs: {draws} parameter draws x {per_draw} replicates), then by their mean "
                              "chance of meeting a target; designs equal on both share a rank.",
                              "各方案先按达到的2027年目标项数排序（在{runs}次模拟中超过{likely}达到方计为达到；{draws}组参数抽样×"
                              "每组{per_draw}次重复），再按各目标平均实现概率排序；两项均相同的方案名次并列。"),
    "attainment_caption_draws": ("Chance of meeting each {year} target (share of the {runs} runs, {draws} parameter "
                                 "draws x {per_draw} replicates, in which the {year} value meets it), with the mean "
                                 "{year} value in brackets.",
                                 "各项{year}年目标的实现概率（{runs}次模拟中{year}年数值达到目标的比例；{draws}组参数抽样×"
                                 "每组{per_draw}次重复），方括号内为{year}年均值。"),
    "differences_caption_draws": ("Each design minus {reference}: mean over the {runs} runs ({draws} parameter draws "
                                  "x {per_draw} replicates) [paired 90% interval]; shares in percentage points (pp).",
                                  "各方案减去{reference}：{runs}次模拟（{draws}组参数抽样×每组{per_draw}次重复）的均值"
                                  "［配对90%区间］；比例类指标单位为百分点。"),
    "figure_caption_fan_draws": ("{metric}. Lines: the mean over {runs} runs ({draws} parameter draws x {per_draw} "
                                 "replicates); bands: 50% (dark) and 90% (light) of the runs, parameter uncertainty "
                                 "and simulation noise. Shaded: the reform's phases. Dashed: the plan's 2027 target.",
                                 "{metric}。线为{runs}次模拟（{draws}组参数抽样×每组{per_draw}次重复）的均值；深色、浅色区间"
                                 "分别为50%、90%的模拟所在范围，包括参数不确定性和随机波动；灰色底纹为改革各阶段；"
                                 "虚线为规划2027年目标。"),
    "figure_caption_targets_draws": ("Chance of meeting each 2027 target: the share of the {runs} runs ({draws} "
                                     "parameter draws x {per_draw} replicates) in which the design's 2027 value "
                                     "meets it.",
                                     "各项2027年目标的实现概率：{runs}次模拟（{draws}组参数抽样×每组{per_draw}次重复）中"
                                     "该方案2027年数值达到目标的比例。"),
    "provenance_draws": ("grassroots {version} | {draws} posterior parameter draws x {replicates} replicates, "
                         "seed {seed}, ensemble {ensemble} | {scenarios} | report {date}",
                         "grassroots {version} | {draws}组后验参数抽样×{replicates}次重复，随机种子{seed}，"
                         "参数集{ensemble} | {scenarios} | 报告日期{date}"),

    # --- the page of `grassroots explore` (sim/explore_app.py)
    "x_title": ("grassroots explore: a reform design against the baseline", "grassroots 方案探索：改革方案与基准情景对比"),
    "x_mode_explore": ("Explore a design", "探索方案"),
    "x_mode_open": ("Open stored results", "打开已保存的结果"),
    "x_start": ("starting design", "起始方案"),
    "x_geography": ("geography", "地域范围"),
    "x_replicates": ("replicates", "重复次数"),
    "x_seed": ("seed", "随机种子"),
    "x_horizon": ("shown to", "显示至"),
    "x_horizon_2027": ("2027 (faster)", "2027年（更快）"),
    "x_horizon_end": ("the config's end", "配置设定的结束年份"),
    "x_draws": ("posterior parameter draws (0: none; each draw runs the replicates)",
                "后验参数抽样组数（0为不抽样；每组参数运行上述重复次数）"),
    "x_run": ("Run", "运行"),
    "x_cancel": ("Cancel", "取消"),
    "x_running": ("running {done} of {total} replicate runs", "已完成{done}次运行，共{total}次"),
    "x_drawing": ("drawing the figures", "正在绘图"),
    "x_cancelled": ("cancelled; the runs already finished are kept", "已取消；已完成的运行结果予以保留"),
    "x_ran": ("{replicates} replicates on common random numbers: run in {run:.1f} s, drawn in {draw:.1f} s",
              "{replicates}次重复（相同随机数）：运行{run:.1f}秒，绘图{draw:.1f}秒"),
    "x_ran_draws": ("{draws} posterior parameter draws x {replicates} replicates, paired: run in {run:.1f} s, "
                    "drawn in {draw:.1f} s",
                    "{draws}组后验参数抽样×每组{replicates}次重复（配对）：运行{run:.1f}秒，绘图{draw:.1f}秒"),
    "x_stale": ("the levers have changed since this run: press Run", "政策杠杆已改动，请点击“运行”"),
    "x_press_run": ("Move a lever, then press Run: the design is compared with the baseline (every lever at its "
                    "2023 value, same world), replicate by replicate.",
                    "调整政策杠杆后点击“运行”：方案与基准情景（同一情境，各政策杠杆保持2023年取值）逐次重复配对比较。"),
    "x_levers": ("Levers by phase", "各阶段政策杠杆"),
    "x_changed": ("{n} lever value(s) changed from the starting design", "相对起始方案改动了{n}个杠杆取值"),
    "x_reset": ("Undo the changes", "撤销改动"),
    "x_save": ("Save the design", "保存方案"),
    "x_name": ("design name", "方案名称"),
    "x_saved": ("saved {design} and {baseline}", "已保存{design}和{baseline}"),
    "x_validated": ("grassroots validate: {line}", "grassroots validate：{line}"),
    "x_download": ("download", "下载"),
    "x_differences": ("Difference from the baseline in 2027 (paired by replicate)", "2027年与基准情景的差值（逐次重复配对）"),
    "x_targets": ("Chance of meeting each 2027 target [mean 2027 value]", "实现各项2027年目标的概率［2027年均值］"),
    "x_figures": ("Figures", "图"),
    "x_indicators": ("The plan's indicators in 2027", "2027年规划指标"),
    "x_folder": ("results folder (run, compare, sweep or evaluate-pilot)", "结果文件夹（run、compare、sweep或evaluate-pilot）"),
    "x_open": ("Open", "打开"),
    "x_opened": ("{folder}: {kind} results, read-only", "{folder}：{kind}结果（只读）"),
    "x_error": ("error: {message}", "错误：{message}"),
}


COLUMNS: dict[str, tuple[str, str]] = {
    "point": ("point", "设计点"), "metric": ("outcome", "结果指标"), "year": ("year", "年份"),
    "mean": ("mean", "均值"), "low_90": ("5%", "5%分位数"), "high_90": ("95%", "95%分位数"),
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


def draws_fields(manifest: dict | None) -> dict | None:
    """``draws``, ``per_draw`` and ``runs`` of a run under parameter draws (its manifest's ``draws``), else None."""
    record = (manifest or {}).get("draws")
    if not record:
        return None
    return {"draws": record["draws"], "per_draw": record["replicates_per_draw"], "runs": record["runs_per_scenario"]}


def word_runs(key: str, lang: str, manifest: dict | None, **fields) -> str:
    """``word(key)``, or for a run under parameter draws its ``key_draws`` form, which says that the bands
    include parameter uncertainty and how many runs (draws x replicates) they pool."""
    draws = draws_fields(manifest)
    if draws is None:
        return word(key, lang, **fields)
    return word(f"{key}_draws", lang, **{**fields, **draws})


def metric_name(metric: str, lang: str) -> str:
    """A metric's name in reports: the plan's own wording for a metric measuring one of its indicators
    (``sim/data/plan_indicators.yaml``), so that an indicator has one term in headings, figures and tables;
    else the registry's label."""
    indicator = _PLAN_WORDING.get(metric)
    if indicator is not None:
        return pick(indicator, lang)
    return pick(METRIC_NAMES[metric], lang) if metric in METRIC_NAMES else metric


# What a metric's share is of, on the axis of its figures (the denominator of sim/registry/metrics.yaml's
# `share_of`, in words); metrics not listed get "share" or "share per year".
AXES: dict[str, tuple[str, str]] = {
    "turnover_rate": ("share of cadres in post who leave, per year", "离岗人数占在岗干部的比例（每年）"),
    "service_time_share": ("share of cadres' working hours", "占干部工作时间的比例"),
    "participation_rate": ("share of residents asked to take part that month", "占当月被征询居民的比例"),
    "meeting_attendance_rate": ("share of residents asked to take part that month", "占当月被征询居民的比例"),
    "recent_participation_share": ("share of all residents", "占全体居民的比例"),
    "voluntary_quit_rate": ("share of cadres in post who quit, per year", "主动离职人数占在岗干部的比例（每年）"),
    "vacancy_rate": ("share of all posts", "占全部岗位的比例"),
    "share_under_45": ("share of cadres in post", "占在岗干部的比例"),
    "share_college": ("share of cadres in post", "占在岗干部的比例"),
    "share_professional": ("share of cadres in post", "占在岗干部的比例"),
}


def axis_name(metric: str, lang: str) -> str | None:
    """What ``metric``'s share is of, for an axis label, or None if this module does not say."""
    return pick(AXES[metric], lang) if metric in AXES else None


def phase_name(phase: str, lang: str) -> str:
    return pick(PHASE_NAMES[phase], lang) if phase in PHASE_NAMES else phase


def selection_name(selection: str, lang: str) -> str:
    return pick(SELECTION_NAMES[selection], lang) if selection in SELECTION_NAMES else selection


# a sweep factor's phase: short in English, the plan's phase names in Chinese (as everywhere else)
_PHASE_KEY = {"baseline": ("2023", "2023年"), **{k: (k, PHASE_NAMES[k][1]) for k in ("pilot", "rollout", "consolidation")}}


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


# The plan's wording of each indicator, keyed by the metric measuring it (sim/registry/metrics.yaml).
_PLAN_WORDING: dict[str, tuple[str, str]] = {
    registry.INDICATOR_METRIC[ind["id"]]: (ind["en"], ind["zh"])
    for ind in plan_indicators() if ind["id"] in registry.INDICATOR_METRIC}


DIMENSIONS = {"organisation": ("organisation", "组织"), "talent": ("talent", "人才"),
              "mechanism": ("mechanism", "机制"), "resources": ("resources", "资源")}


def source_in(source: str, lang: str) -> str:
    """A source ("§3.2.1, §3.4") in ``lang``: Chinese lists take the enumeration comma."""
    return source.replace(", ", "、") if lang == "zh" else source


def description_in(description, lang: str) -> str:
    """A design's description (a config's ``description``: one text, or ``{en: ..., zh: ...}``) in ``lang``,
    falling back to the other language, or ""."""
    if isinstance(description, dict):
        return description.get(lang) or next((v for v in description.values() if v), "")
    return description or ""


# Lever units (sim/registry/levers.yaml) in Chinese.
LEVER_UNITS_ZH = {
    "items": "项", "ratio to county organs": "与县直机关之比", "ratio to the same post in the county seat": "与县城同类岗位之比",
    "strength 0-1": "强度（0—1）", "0 = none, 1 = portable annuity": "0=无，1=可转移年金",
    "trainings per cadre per year (1: once a year on average)": "每人每年培训次数",
    "strength 0-1 of the execute step in committees with a council": "强度（0—1，设有议事会的村（社区）决议落实环节）",
    "working days to handle a complaint or answer a waiting case": "办理投诉或答复待办事项的工作日数",
}


def lever_unit(unit: str, lang: str) -> str:
    """A lever's unit in ``lang``: shares are shown in percent, the rest as the registry says."""
    if unit.startswith("share"):
        if lang == "en":
            return unit.replace("share", "% ", 1).replace("%  ", "% ")
        return "%"
    return unit if lang == "en" else LEVER_UNITS_ZH.get(unit, unit)

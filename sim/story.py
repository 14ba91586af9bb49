"""The story of a run or comparison report, in English or Chinese: what a director reads before the figures.

:func:`story` computes, from the stored series alone, the tables a comparison rests on (each design's 2027
target attainment, the ranking, the paired differences from the reference; :mod:`sim.compare`) and writes
the summary's sentences from them: for each design, which 2027 targets it meets and misses with the numbers,
where it differs from the reference on a target, its largest differences, and what the bands include. The
tables come back twice: formatted for the page (:class:`Story` ``tables``) and as numbers for the workbook
(``sheets``).

Conventions stated on the page: a year's value is the mean of its twelve monthly values; a design "meets"
a target when it is met in more than :data:`LIKELY` of the replicates; intervals are 90% ranges over the
replicates (simulation noise only: the model's random draws with the behavioural parameters fixed), or, for a
run under parameter draws (``--draws N``), over its N x R runs: parameter uncertainty and simulation noise.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .compare import (LIKELY, TARGET_YEAR, TARGETS_2027, differences, levels, likely_met, ranking,
                      replicate_values, target_attainment)
from .config.schema import PHASES
from .figures.style import design_labels, design_order, fmt_value, is_share
from .registry import HEADLINE, LEVERS
from .text import (LEVER_NAMES, description_in, source_in, lever_unit, metric_name, phase_name, pick, word,
                   word_runs)

__all__ = ["LIKELY", "Story", "story"]


@dataclass
class Story:
    summary: list[str]  # the summary's paragraphs
    notes: list[str]  # what the numbers mean
    designs: list[tuple[str, str, pd.DataFrame]]  # (label, description, levers by phase) per design
    tables: dict[str, tuple[str, pd.DataFrame]] = field(default_factory=dict)  # key -> (caption, cells)
    sheets: dict[str, pd.DataFrame] = field(default_factory=dict)  # the numbers, for the workbook
    reference: str = ""


def _pct_points(metric: str, value: float, lang: str = "en", unit: bool = True) -> str:
    """A difference: shares in percentage points, signed, with a true minus sign."""
    if is_share(metric):
        text = f"{100 * value:+.1f}" if round(100 * value, 1) != 0 else "0.0"
        if unit:
            text += " pp" if lang == "en" else "个百分点"
    else:
        text = f"{value:+.3g}" if round(value, 3) != 0 else "0"
    return text.replace("-", "−")


def _series_list(items: list[str], lang: str) -> str:
    if lang == "zh":
        return "、".join(items)
    if len(items) <= 2:
        return " and ".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _name(metric: str, lang: str) -> str:
    """A metric's name inside a sentence: "annual cadre turnover" (an acronym keeps its capitals)."""
    name = metric_name(metric, lang)
    if lang == "en" and len(name) > 1 and not name[1].isupper():
        return name[0].lower() + name[1:]
    return name


def _design(name: str, lang: str) -> str:
    """A design's label inside a sentence, quoted as a name."""
    return f"“{name}”"


def _threshold(t, lang: str = "en") -> str:
    shown = f"{100 * t.value:g}%" if is_share(t.metric) else f"{t.value:g}"
    return ("≥" if t.direction == "at_least" else "≤") + (" " if lang == "en" else "") + shown


def _chance(p: float, lang: str) -> str:
    """The share of replicates meeting a target, where it is neither all nor none."""
    return word("s_chance", lang, p=f"{100 * p:.0f}%") if 0 < p < 1 else ""


def _join(sentences: list[str], lang: str) -> str:
    return ("" if lang == "zh" else " ").join(sentences)


SHOWN = 4  # at most this many targets named in a sentence, headline outcomes first


def _some(metrics: list[str], lang: str, cell) -> str:
    first = [m for m in metrics if m in HEADLINE] + [m for m in metrics if m not in HEADLINE]
    shown = [cell(m) for m in first[:SHOWN]]
    if len(first) > SHOWN:
        shown.append(word("s_more", lang, n=len(first) - SHOWN))
    return _series_list(shown, lang)


def story(series: pd.DataFrame, manifest: dict, lang: str = "en") -> Story:
    designs = design_order(manifest, series)
    labels = design_labels(manifest, lang)
    label = lambda d: _design(labels.get(d, d), lang)  # noqa: E731  (in sentences)
    plain = lambda d: labels.get(d, d)  # noqa: E731  (in headings and tables)
    reference = manifest.get("reference") if manifest.get("reference") in designs else designs[0]
    values = replicate_values(series, years=(TARGET_YEAR, 2030))
    replicates = int(values.groupby("scenario")["replicate"].nunique().max()) if len(values) else 0
    att = target_attainment(values)
    targets = {t.metric: t for t in TARGETS_2027}
    out = Story(summary=[], notes=[], designs=[], reference=reference)

    # --- the summary's sentences
    if len(designs) > 1:
        out.summary.append(word_runs("s_intro", lang, manifest, n=len(designs),
                                     designs=_series_list([label(d) for d in designs], lang),
                                     reference=label(reference), replicates=replicates))
    else:
        out.summary.append(word_runs("s_intro_one", lang, manifest, design=label(designs[0]), replicates=replicates))
    measured = sorted(set(att["metric"]), key=list(targets).index) if len(att) else []
    for design in designs:
        block = att[att["design"] == design].set_index("metric")
        if block.empty:
            continue
        met = [m for m in measured if m in block.index and likely_met(block.at[m, "probability"])]
        missed = [m for m in measured if m in block.index and not likely_met(block.at[m, "probability"])]
        cell = lambda m: word("s_value", lang, name=_name(m, lang),  # noqa: E731
                              value=fmt_value(m, block.at[m, "mean"]), threshold=_threshold(targets[m], lang),
                              chance=_chance(block.at[m, "probability"], lang))
        if not met:
            out.summary.append(word("s_meets_none", lang, design=label(design), total=len(measured),
                                    missed=_some(missed, lang, cell)))
            continue
        text = word("s_meets", lang, design=label(design), k=len(met), total=len(measured), met=_some(met, lang, cell))
        if missed:
            text += ("" if lang == "zh" else " ") + word("s_misses", lang, n=len(missed), missed=_some(missed, lang, cell))
        out.summary.append(text)
    if len(designs) > 1:
        ref_block = att[att["design"] == reference].set_index("metric")
        for design in [d for d in designs if d != reference]:
            block = att[att["design"] == design].set_index("metric")
            contrasts, c_metrics = [], []
            for m in measured:
                if m not in block.index or m not in ref_block.index:
                    continue
                ref_met, met = likely_met(ref_block.at[m, "probability"]), likely_met(block.at[m, "probability"])
                if ref_met == met:
                    continue
                c_metrics.append(m)
                first, second = (reference, design) if ref_met else (design, reference)
                b1, b2 = (ref_block, block) if ref_met else (block, ref_block)
                contrasts.append(word("s_contrast", lang, first=label(first), second=label(second),
                                      name=_name(m, lang), threshold=_threshold(targets[m], lang),
                                      v1=fmt_value(m, b1.at[m, "mean"]), v2=fmt_value(m, b2.at[m, "mean"]),
                                      p1=f"{100 * b1.at[m, 'probability']:.0f}%",
                                      p2=f"{100 * b2.at[m, 'probability']:.0f}%"))
            if contrasts:  # headline outcomes first
                order = [i for i, m in enumerate(c_metrics) if m in HEADLINE] + \
                    [i for i, m in enumerate(c_metrics) if m not in HEADLINE]
                shown = [contrasts[i] for i in order[:SHOWN - 1]]
                if len(contrasts) > len(shown):
                    shown.append(word("s_more_contrasts", lang, n=len(contrasts) - len(shown)))
                out.summary.append(_join(shown, lang))
            else:
                out.summary.append(word("s_same_targets", lang, design=label(design), reference=label(reference)))
        diff = differences(values, reference)
        for design in [d for d in designs if d != reference]:
            d = diff[(diff["design"] == design) & (diff["year"] == TARGET_YEAR) & diff["metric"].isin(measured)
                     & diff["metric"].map(is_share)].copy()
            if d.empty:
                continue
            d["size"] = d["difference"].abs()
            top = d.sort_values("size", ascending=False).head(3)
            parts = [word("s_diff", lang, name=_name(r.metric, lang), value=_pct_points(r.metric, r.difference, lang),
                          low=_pct_points(r.metric, r.paired_low, lang, False),
                          high=_pct_points(r.metric, r.paired_high, lang, False))
                     for r in top.itertuples()]
            out.summary.append(word("s_largest", lang, design=label(design), reference=label(reference),
                                    year=TARGET_YEAR, parts=_series_list(parts, lang)))
    out.summary.append(word_runs("s_bands", lang, manifest, replicates=replicates))

    out.notes = [word("n_year", lang), word_runs("n_mean", lang, manifest, replicates=replicates),
                 word("n_likely", lang, likely=f"{100 * LIKELY:.0f}%"), word("n_paired", lang)]

    # --- the designs: description and levers by phase
    lever_rows = _levers_by_phase(manifest, designs, lang)
    for design in designs:
        scenario = next((s for s in manifest.get("scenarios", []) if s["name"] == design), {})
        text = description_in(scenario.get("resolved_config", {}).get("description"), lang)
        out.designs.append((plain(design), text, lever_rows.get(design, pd.DataFrame())))

    # --- the tables
    if len(att):
        ranks = ranking(att, order=designs)
        out.sheets["ranking"] = ranks
        out.tables["ranking"] = (word_runs("ranking_caption", lang, manifest, likely=f"{100 * LIKELY:.0f}%",
                                      replicates=replicates), _ranking_cells(ranks, plain, lang))
        out.sheets["attainment"] = att
        out.tables["attainment"] = (word_runs("attainment_caption", lang, manifest, replicates=replicates,
                                              year=TARGET_YEAR),
                                    _attainment_cells(att, designs, measured, targets, plain, lang))
    if len(designs) > 1:
        diff = differences(values, reference)
        out.sheets["differences"] = diff
        out.tables["differences"] = (word_runs("differences_caption", lang, manifest, reference=label(reference),
                                          replicates=replicates),
                                     _difference_cells(diff, designs, reference, measured, plain, lang))
    out.sheets["levels"] = levels(values)
    return out


def _levers_by_phase(manifest: dict, designs, lang: str) -> dict[str, pd.DataFrame]:
    """Per design, each lever that any design moves from its 2023 value: its value in each phase (a value
    holds until the next one is set); values set by month are listed after the phases."""
    configs = {s["name"]: s.get("resolved_config", {}).get("levers", {}) for s in manifest.get("scenarios", [])}
    moved = []
    for name, lever in LEVERS.items():
        for design in designs:
            values = (configs.get(design, {}).get(name) or {}).get("values", {})
            if any(v != lever.default for v in values.values()):
                moved.append(name)
                break
    phases = [p for p in PHASES]
    heads = [word("col_lever", lang), word("col_unit", lang)] + [word(f"phase_col_{p}", lang) for p in phases]
    out = {}
    for design in designs:
        rows = []
        for name in moved:
            lever = LEVERS[name]
            values = (configs.get(design, {}).get(name) or {}).get("values", {})
            current, cells = lever.default, []
            for p in phases:
                current = values.get(p, current)
                cells.append(_lever_value(lever, current))
            dated = [f"{k}: {_lever_value(lever, v)}" for k, v in values.items() if k not in PHASES]
            if dated:
                cells[-1] += " (" + "; ".join(dated) + ")"
            rows.append([pick(LEVER_NAMES[name], lang) if name in LEVER_NAMES else name, lever_unit(lever.unit, lang),
                         *cells])
        out[design] = pd.DataFrame(rows, columns=heads)
    return out


def _lever_value(lever, value) -> str:
    if lever.unit.startswith("share"):
        return f"{100 * float(value):.0f}%"
    return f"{float(value):g}"


def _ranking_cells(ranks: pd.DataFrame, label, lang: str) -> pd.DataFrame:
    rows = []
    for r in ranks.itertuples():
        rank = word("tied_rank", lang, rank=r.rank) if r.tied else str(r.rank)
        rows.append([rank, label(r.design), str(r.targets_likely_met), f"{100 * r.mean_probability:.0f}%",
                     ("、" if lang == "zh" else "; ").join(metric_name(m, lang) for m in r.missed_metrics.split(";")
                                                            if m) or "—"])
    return pd.DataFrame(rows, columns=[word(f"rk_{k}", lang) for k in ("rank", "design", "met", "mean", "missed")])


def _attainment_cells(att, designs, measured, targets, label, lang: str) -> pd.DataFrame:
    rows = []
    for m in measured:
        row = [metric_name(m, lang), _threshold(targets[m], lang), source_in(targets[m].source, lang)]
        for design in designs:
            b = att[(att["design"] == design) & (att["metric"] == m)]
            row.append(f"{100 * b['probability'].iloc[0]:.0f}% [{fmt_value(m, b['mean'].iloc[0])}]" if len(b) else "—")
        rows.append(row)
    cols = [word("col_indicator", lang), word("col_target", lang), word("col_source", lang)] + [label(d) for d in designs]
    return pd.DataFrame(rows, columns=cols)


def _difference_cells(diff, designs, reference, measured, label, lang: str) -> pd.DataFrame:
    rows = []
    metrics = [m for m in HEADLINE if m in set(diff["metric"])] + [m for m in measured if m not in HEADLINE]
    others = [d for d in designs if d != reference]
    years = [y for y in (TARGET_YEAR, 2030) if y in set(diff["year"])]
    for m in metrics:
        row = [metric_name(m, lang)]
        for design in others:
            for year in years:
                b = diff[(diff["design"] == design) & (diff["metric"] == m) & (diff["year"] == year)]
                row.append(f"{_pct_points(m, b['difference'].iloc[0], lang)} "
                           f"[{_pct_points(m, b['paired_low'].iloc[0], lang, False)}, "
                           f"{_pct_points(m, b['paired_high'].iloc[0], lang, False)}]"
                           if len(b) else "—")
        rows.append(row)
    cols = [word("col_indicator", lang)] + [word("design_year", lang, design=label(d), year=y)
                                            for d in others for y in years]
    return pd.DataFrame(rows, columns=cols)


def _finite(x) -> bool:
    return x is not None and np.isfinite(x)

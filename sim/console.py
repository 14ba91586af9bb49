"""What ``grassroots run`` and ``grassroots compare`` print: aligned plain-text tables in percent that fit a
100-column terminal, and where the files are.

:func:`headline_text` shows the headline outcomes per design and year (the mean over replicates on one
line, the 90% interval under it); :func:`compare_text` adds the ranking by the plan's 2027 targets (ties
shown as ties) and the chance of meeting each target. Long names are shortened with "…" so that no line is
longer than ``width``.
"""

from __future__ import annotations

import pandas as pd

from .summary import SUMMARY_YEARS, interval_summary
from .registry import HEADLINE

WIDTH = 100


def _fit(text: str, width: int) -> str:
    text = str(text)
    return text if len(text) <= width else text[: width - 1] + "…"


def _pct(value: float, digits: int = 1) -> str:
    return f"{100 * value:.{digits}f}"


def _name(metric: str) -> str:
    from .text import metric_name

    return metric_name(metric, "en")


def headline_text(series: pd.DataFrame, designs=None, labels: dict | None = None, metrics=HEADLINE,
                  years=SUMMARY_YEARS, width: int = WIDTH) -> str:
    """Per headline outcome, a block: one row per design, one column per year, the mean over replicates in
    percent and the 90% interval on the line below."""
    summary = interval_summary(series, metrics=metrics, years=years)
    n = int(summary["n"].max()) if len(summary) else 0
    designs = list(designs or dict.fromkeys(summary["scenario"].astype(str)))
    labels = labels or {}
    years = [y for y in years if y in set(summary["year"])]
    cell = 12
    first = max(16, min(width - cell * len(years), max([len(labels.get(d, d)) for d in designs] + [6]) + 2))
    over = f"{n} replicates"
    if "draw" in series.columns:  # runs under parameter draws (sim.run.run_scenarios(draws=...))
        over = f"{n} runs ({series['draw'].nunique()} parameter draws x replicates)"
    lines = [f"Headline outcomes, all counties: mean over {over}, 90% interval below; in percent", ""]
    for metric in [m for m in metrics if m in set(summary["metric"])]:
        lines.append(_fit(_name(metric), width))
        lines.append(f"{'':{first}}" + "".join(f"{y:>{cell}}" for y in years))
        block = summary[summary["metric"] == metric].set_index(["scenario", "year"])
        for design in designs:
            means, spans = [], []
            for y in years:
                if (design, y) in block.index:
                    r = block.loc[(design, y)]
                    means.append(f"{_pct(r['mean']):>{cell}}")
                    spans.append(f"{_pct(r['low']) + '-' + _pct(r['high']):>{cell}}")
                else:
                    means.append(f"{'—':>{cell}}")
                    spans.append(" " * cell)
            lines.append(f"{_fit(labels.get(design, design), first - 2):<{first}}" + "".join(means))
            lines.append(f"{'':{first}}" + "".join(spans))
        lines.append("")
    return "\n".join(line.rstrip() for line in lines).rstrip() + "\n"


def compare_text(result: dict, width: int = WIDTH) -> str:
    """What ``grassroots compare`` prints: the ranking, the chance of meeting each 2027 target, and the
    headline outcomes (:func:`headline_text`)."""
    from .compare import LIKELY

    ranks, att = result["ranking"], result["attainment"]
    designs = list(ranks["design"]) if len(ranks) else []
    run = [s["name"] for s in result["manifest"].get("scenarios", [])]
    present = set(att["design"]) if len(att) else set(designs)
    order = [d for d in run if d in present] + sorted(present - set(run))
    replicates = result["manifest"].get("replicates")
    draws = result["manifest"].get("draws")
    if draws:  # parameter draws x replicates: the runs pool both kinds of uncertainty
        lines = [f"Ranking by the plan's 2027 targets over {draws['runs_per_scenario']} runs ({draws['draws']} "
                 f"posterior parameter draws x {replicates} replicates:",
                 "parameter uncertainty and simulation noise). A design meets a target if it does in more than "
                 f"{100 * LIKELY:.0f}% of the runs;",
                 "ranked by targets met, then by the mean chance of meeting a target; designs equal on both share a "
                 "rank (=).", ""]
    else:
        lines = [f"Ranking by the plan's 2027 targets over {replicates} replicates. A design meets a target if it",
                 f"does in more than {100 * LIKELY:.0f}% of the replicates; ranked by targets met, then by the mean chance",
                 "of meeting a target; designs equal on both share a rank (=).", ""]
    name_w = max(12, min(40, max(len(d) for d in designs) + 2)) if designs else 12
    lines.append(f"{'rank':<8}{'design':<{name_w}}{'targets met':>12}{'mean chance':>13}")
    for r in ranks.itertuples():
        rank = f"{r.rank}=" if r.tied else str(r.rank)
        lines.append(f"{rank:<8}{_fit(r.design, name_w - 2):<{name_w}}{r.targets_likely_met:>12}"
                     f"{100 * r.mean_probability:>12.0f}%")
    lines += ["", "Chance of meeting each 2027 target (% of replicates), and the mean 2027 value", ""]
    col = 16
    shown = order[: max(1, (width - 30) // col)]
    first = width - col * len(shown)
    lines.append(f"{'target':<{first}}" + "".join(f"{_fit(d, col - 1):>{col}}" for d in shown))
    for target in dict.fromkeys(att["target"]):
        block = att[att["target"] == target].set_index("design")
        cells = []
        for d in shown:
            if d not in block.index:
                cells.append(f"{'—':>{col}}")
                continue
            r = block.loc[d]
            value = f"{100 * r['mean']:.1f}%" if str(target).endswith("%") else f"{r['mean']:.3g}"
            cells.append(f"{f'{100 * r.probability:.0f}% ({value})':>{col}}")
        lines.append(f"{_fit(target, first - 1):<{first}}" + "".join(cells))
    if len(shown) < len(order):
        lines.append(f"(and {len(order) - len(shown)} more designs: see attainment.csv)")
    lines.append("")
    return "\n".join(lines) + "\n" + headline_text(result["series"], order, width=width)

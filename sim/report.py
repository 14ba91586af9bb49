"""A self-contained report from stored results, in English or Chinese: the document around the figures.

``build_report(folder, lang=, layout=, formats=)`` reads what a command stored and never runs the model; what
it holds decides the report (:func:`kind_of`):

- a run or a comparison (``series.parquet``): fan charts of the headline outcomes (median, 50% and 90%
  bands over replicates, phases shaded and named, the plan's 2027 target as a line; designs overlaid or
  one panel each), difference charts (each design minus the reference, paired by replicate), a heat map
  of the chance of meeting each 2027 target, and the plan's indicator table;
- a sweep (``design.csv`` and ``parts/``): Sobol bars or Morris mu*-sigma plots from ``analysis.csv``, and
  for factorial designs heat maps of each outcome over two levers (one panel per level of a third), for
  sampled designs (Latin hypercube, listed scenarios) each outcome against each factor;
- a pilot evaluation (``pilot_replicates.csv``): the office's estimate beside the true effects, by
  selection rule.

The figures come from :mod:`sim.figures` (one style: seaborn "whitegrid", colour-blind palette, units or
percentages on the axes, provenance in small print) and are saved as PNG at 300 dpi plus SVG and/or PDF.
``report.html`` embeds the figures; ``report.md`` links them.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import html as html_lib
import io
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from . import html as H
from .compare import replicate_values, target_attainment
from .figures.fans import LAYOUTS, fan_chart, fan_data
from .figures.differences import difference_chart, difference_data
from .figures.fonts import rc_for
from .figures.pilot import pilot_chart
from .figures.style import (FORMATS, design_labels, design_order, distinct, fmt_value, provenance, save,
                            sweep_provenance)
from .figures.sweeps import factor_scatter, factorial_heatmaps, point_means, sensitivity_figures
from .figures.targets import attainment_heatmap
from .store import ResultsError, atomic_write, atomic_write_text, check_writable, read_json, read_run
from .story import Story, story
from .registry import COUNTIES_MEETING, HEADLINE, INDICATOR_READINGS, METRICS, PLAN_TARGETS, meets
from .summary import markdown_table
from .text import DIMENSIONS, LANGS, metric_name, pick, plan_indicators, source_in, table_in, word, word_runs

__all__ = ["FORMATS", "LAYOUTS", "build_report", "indicator_table", "kind_of", "run_figures", "set_at_target_notes"]


# --------------------------------------------------------------------------- runs and comparisons


def indicator_table(series: pd.DataFrame, manifest: dict | None = None, lang: str = "en") -> pd.DataFrame:
    """The plan's indicators (policy-facts §3): baseline, 2027 target and source, then each design's 2027 mean
    and 90% interval; indicators the model does not produce are listed as such."""
    labels = design_labels(manifest or {}, lang)
    values = replicate_values(series, years=(2027,))
    designs = [d for d in design_order(manifest or {}, series) if d in set(values["scenario"])]
    produced = set(values["metric"])
    col = {k: word(f"col_{k}", lang) for k in ("indicator", "dimension", "baseline", "target", "source", "note")}
    counties_met = {source: name for name, source in COUNTIES_MEETING.items()}
    rows = []
    for ind in plan_indicators():
        readings = INDICATOR_READINGS.get(ind["id"], (ind["id"],))
        share = "unit" not in ind
        target = fmt_value(readings[0], ind["target"], share) if ind.get("target") is not None else "—"
        if ind.get("year", 2027) != 2027:
            target += f" ({ind['year']})" if lang == "en" else f"（{ind['year']}年）"
        # one row per reading of the indicator (its main measure first), then the share of counties meeting
        # the target where the plan states it per county
        lines = []
        for metric in readings:
            reading = METRICS[metric].reading if len(readings) > 1 and metric in METRICS else None
            name = word("reading_of", lang, indicator=ind[lang], reading=reading.pick(lang)) if reading else ind[lang]
            lines.append((name, metric, share, target, ""))
            if metric in counties_met:
                lines.append((word("counties_meeting_row", lang, indicator=name), counties_met[metric], True, "—",
                              word("counties_meeting_note", lang)))
        for k, (name, metric, is_share, target_text, note) in enumerate(lines):
            row = {col["indicator"]: name, col["dimension"]: pick(DIMENSIONS[ind["dimension"]], lang),
                   col["baseline"]: fmt_value(metric, ind.get("baseline"), is_share) if k == 0 else "",
                   col["target"]: target_text, col["source"]: source_in(ind["source"], lang)}
            for design in designs:
                v = values.loc[(values["scenario"] == design) & (values["metric"] == metric), "value"]
                row[labels.get(design, design)] = (
                    f"{fmt_value(metric, v.mean(), is_share)} [{fmt_value(metric, v.quantile(0.05), is_share)}, "
                    f"{fmt_value(metric, v.quantile(0.95), is_share)}]" if len(v) else "—")
            row[col["note"]] = note if metric in produced else word("not_produced", lang)
            rows.append(row)
    return pd.DataFrame(rows)


def _lever_extreme(resolved: dict, lever: str, direction: str) -> float | None:
    """The furthest value a design's resolved config gives ``lever`` towards a target (its highest for an
    at-least target, lowest for an at-most one), or None if the config does not say."""
    spec = (resolved or {}).get("levers", {}).get(lever)
    values = list(spec.get("values", {}).values()) if isinstance(spec, dict) else [spec]
    values = [float(v) for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
    if not values:
        return None
    return max(values) if direction == "at_least" else min(values)


def set_at_target_notes(series: pd.DataFrame, manifest: dict | None = None, lang: str = "en") -> list[str]:
    """A sentence per design and indicator whose lever (``set_by`` in sim/registry/metrics.yaml) the design
    sets exactly at the plan's target while some counties do not meet it in 2027 (imperfect fidelity, or a
    ramp not yet done): such a target is missed by the value pooled over counties."""
    from .compare import target_attainment
    from .text import LEVER_NAMES

    manifest = manifest or {}
    labels = design_labels(manifest, lang)
    values = replicate_values(series, years=(2027,))
    if values.empty:
        return []
    attainment = target_attainment(values)
    resolved = {s["name"]: s.get("resolved_config", {}) for s in manifest.get("scenarios", [])}
    names = {ind["id"]: ind for ind in plan_indicators()}
    notes = []
    for design in [d for d in design_order(manifest, series) if d in set(values["scenario"])]:
        for metric, m in METRICS.items():
            target = PLAN_TARGETS.get(m.indicator) if m.indicator else None
            if m.set_by is None or target is None:
                continue
            extreme = _lever_extreme(resolved.get(design), m.set_by, target.direction)
            row = attainment[(attainment["design"] == design) & (attainment["metric"] == metric)]
            if extreme is None or row.empty or abs(extreme - target.value) > 1e-9 or not meets(extreme, target):
                continue
            row = row.iloc[0]
            counties = row["share_of_counties_meeting"]
            if not counties < 1.0 - 1e-12:  # every county meets it (or no per-county reading): nothing to say
                continue
            ind = names[m.indicator]
            share = "unit" not in ind
            readings = []
            for other in INDICATOR_READINGS[m.indicator]:
                v = values.loc[(values["scenario"] == design) & (values["metric"] == other), "value"]
                reading = METRICS[other].reading
                if len(v):
                    shown = fmt_value(other, v.mean(), share)
                    readings.append(word("reading_value", lang, reading=reading.pick(lang), value=shown)
                                    if reading is not None else shown)
            notes.append(word("set_at_target", lang, design=labels.get(design, design),
                              lever=pick(LEVER_NAMES[m.set_by], lang), target=fmt_value(metric, target.value, share),
                              counties=fmt_value(metric, counties, True), indicator=ind[lang],
                              value=("，" if lang == "zh" else ", ").join(readings),
                              probability=fmt_value(metric, row["probability"], True)))
    return notes


def run_figures(series: pd.DataFrame, manifest: dict, lang: str = "en", layout: str = "auto"):
    """(file name, caption, figure) for a run or comparison."""
    designs = design_order(manifest, series)
    labels = design_labels(manifest, lang)
    reference = manifest.get("reference") if manifest.get("reference") in designs else designs[0]
    metrics = set(distinct(series["metric"]))
    drawn = [m for m in HEADLINE if m in metrics]
    figures = [(f"fan_{m}", word("fan_caption", lang, metric=metric_name(m, lang)),
                fan_chart(series, manifest, m, lang, layout)) for m in drawn]
    if len(designs) > 1:
        ref = labels.get(reference, reference)
        figures += [(f"difference_{m}", word("difference_from", lang, metric=metric_name(m, lang), reference=ref),
                     difference_chart(series, manifest, m, reference, lang)) for m in drawn]
    if (pd.DatetimeIndex(series["date"]).year == 2027).any():
        figures.append(("targets_2027", word("targets_title", lang), attainment_heatmap(series, manifest, lang)))
    return figures



# --------------------------------------------------------------------------- sweeps


def _sweep_report(folder: Path, formats, out_dir: Path, lang: str) -> Path:
    title, signature, figures, tables, data = sweep_figures(folder, lang)
    return _write_pages(out_dir, title, signature, figures, formats, tables, lang, data=data)


def sweep_figures(folder: Path, lang: str = "en"):
    """A sweep folder's report, not written: ``(title, signature, figures, tables, data)``; figures are
    (name, caption, figure), tables (caption, frame), data the CSV of each figure by name."""
    from .experiments import read_design, read_sweep

    manifest_file = folder / "manifest.json"
    manifest = read_json(manifest_file, "sweep manifest") if manifest_file.exists() else {}
    spec = manifest.get("spec", {})
    analysis = _read_csv(folder / "analysis.csv", "sensitivity indices") if (folder / "analysis.csv").exists() \
        else None
    kind = spec.get("design", {}).get("kind")
    if kind is None and analysis is not None:  # parts and analysis without a manifest (copied results)
        kind = "sobol" if "S1" in analysis else "morris" if "mu_star" in analysis else None
    signature = sweep_provenance(manifest, lang)
    figures, tables = [], []
    if kind in ("sobol", "morris"):
        if analysis is None or not ({"S1", "mu_star"} & set(analysis.columns)):
            raise ValueError(f"{folder}: no sensitivity indices yet; {word('sweep_needs_analysis', 'en')} "
                             f"(`grassroots analyze {manifest.get('spec_file', 'SPEC')}`)")
        figures = sensitivity_figures(analysis, lang, signature)
        tables.append((word("indices_table", lang), table_in(analysis, lang)))
    else:
        design = read_design(folder, manifest or None)
        table = read_sweep(folder)
        if table.empty:
            raise ValueError(f"{folder}: the sweep has no finished runs yet; run `grassroots sweep` on its spec")
        means = point_means(table, design)
        factors = [c for c in design.columns if design[c].nunique() > 1]
        outcomes = spec.get("outcomes", sorted(means["metric"].unique()))
        years = spec.get("years", sorted(means["year"].unique()))
        if kind == "factorial" and len(factors) >= 2:
            figures = factorial_heatmaps(means, factors, outcomes, years, lang, signature)
        elif factors:
            figures = factor_scatter(means, factors, outcomes, years, lang, signature)
        summary = (table[table["region"] == "all"].groupby(["point", "metric", "year"])["value"]
                   .agg(mean="mean", low_90=lambda v: v.quantile(0.05), high_90=lambda v: v.quantile(0.95))
                   .reset_index().join(design, on="point"))
        tables.append((word("factorial_table", lang), table_in(summary, lang)))
    figure_data = analysis if kind in ("sobol", "morris") else means
    return (word("sweep_title", lang, name=spec.get("name", folder.name)), signature, figures, tables,
            {name: figure_data for name, _, _ in figures})



# --------------------------------------------------------------------------- pilot evaluations


PILOT_COLUMNS = ("selection", "central_west_quota", "pilots", "metric", "replicate", "did_estimate", "did_low",
                 "did_high", "true_effect_pilots", "true_effect_rollout", "detected")


def _read_csv(path: Path, what: str) -> pd.DataFrame:
    """A stored table, or a ResultsError naming the file if it cannot be read."""
    try:
        return pd.read_csv(path)
    except (OSError, ValueError) as exc:  # pandas' parser errors and bad encodings are ValueErrors
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ResultsError(f"{path}: corrupt {what} ({detail}); run the command that wrote it again") from None


def _pilot_report(folder: Path, formats, out_dir: Path, lang: str) -> Path:
    title, signature, figures, tables, data = pilot_figures(folder, lang)
    return _write_pages(out_dir, title, signature, figures, formats, tables, lang, data=data)


def pilot_figures(folder: Path, lang: str = "en"):
    """A pilot evaluation folder's report, not written: ``(title, signature, figures, tables, data)``."""
    from .pilot import pilot_summary

    path = folder / "pilot_replicates.csv"
    table = _read_csv(path, "pilot evaluation")
    missing = [c for c in PILOT_COLUMNS if c not in table.columns]
    if missing or table.empty:
        what = "no rows" if table.empty else "no column " + ", ".join(missing)
        raise ResultsError(f"{path}: not a pilot evaluation ({what}); run `grassroots evaluate-pilot` again")
    signature = word("provenance_pilot", lang, version=_version(), source=folder.name,
                     date=dt.date.today().isoformat())
    summary = table_in(pilot_summary(table), lang)
    return (word("pilot_title", lang), signature,
            [("pilot_evaluation", word("pilot_caption", lang), pilot_chart(table, lang, signature))],
            [(word("pilot_table", lang), summary)], {"pilot_evaluation": table})


def stored_figures(folder: Path, kind: str, lang: str = "en"):
    """A sweep's or pilot evaluation's figures and tables, read as its report reads them and nothing written
    (``grassroots explore`` browses them): ``(title, figures, tables)``."""
    with plt.rc_context():
        title, _, figures, tables, _ = (sweep_figures if kind == "sweep" else pilot_figures)(Path(folder), lang)
    return title, figures, tables


def _version() -> str:
    from . import __version__

    return __version__


# --------------------------------------------------------------------------- pages


def _png(fig: plt.Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=150)
    return buffer.getvalue()


WORKBOOK = "report_tables.xlsx"


def _write_workbook(path: Path, sheets: dict[str, pd.DataFrame]) -> None:
    """The report's tables as one workbook, a sheet each (written atomically)."""
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as book:
        for name, frame in sheets.items():
            frame.to_excel(book, sheet_name=name[:31], index=False)
            sheet = book.sheets[name[:31]]
            for i, column in enumerate(frame.columns, start=1):
                width = max([len(str(column))] + [len(str(v)) for v in frame[column].head(200)])
                sheet.column_dimensions[sheet.cell(1, i).column_letter].width = min(60, max(8, width + 2))
            sheet.freeze_panes = "A2"
    atomic_write(path, lambda tmp: Path(tmp).write_bytes(buffer.getvalue()))


def _markdown_cells(frame: pd.DataFrame) -> str:
    return markdown_table(frame.astype(str).replace({"nan": "—"}))


def _write_pages(out_dir: Path, title: str, subtitle: str, figures, formats, tables=(), lang: str = "en",
                 told: Story | None = None, data: dict | None = None, captions: dict | None = None,
                 indicator: pd.DataFrame | None = None, notes=()) -> Path:
    """Save the figures (each with its data as CSV beside it) and write report.html (self-contained: styles,
    font and figures inside), report.md and the tables' workbook.

    ``figures``: (file name, title, figure); ``tables``: (caption, table) shown after the figures; ``told``: the
    story of a run or comparison (summary, designs, ranking, attainment, differences) shown before them;
    ``data``: each figure's data by file name; ``captions``: each figure's caption by file name;
    ``indicator``: the plan's indicator table; ``notes``: paragraphs on reading the indicators, after it."""
    data, captions = data or {}, captions or {}
    out_dir.mkdir(parents=True, exist_ok=True)
    # the small print breaks between its pieces, never inside a date ("2026-12-" / "01"): non-breaking hyphens
    blocks = [H.heading(title, 1), H.paragraph(subtitle.replace("-", "\u2011"), "provenance")]
    md = [f"# {title}", "", subtitle, ""]
    sections: list[tuple[str, str]] = []
    sheets: dict[str, pd.DataFrame] = {}

    def section(anchor: str, key: str) -> None:
        sections.append((anchor, word(key, lang)))
        blocks.append(H.heading(word(key, lang), 2, anchor))
        md.extend([f"## {word(key, lang)}", ""])

    def add_table(caption: str, frame: pd.DataFrame, short=(), ident=None) -> None:
        blocks.append(H.table(frame, caption, short, ident))
        md.extend([caption, "", _markdown_cells(frame), ""])

    toc = None
    if told is not None:
        blocks.append(H.raw("<section id='summary'>"))
        blocks.append(H.heading(word("sec_summary", lang), 2))
        md.extend([f"## {word('sec_summary', lang)}", ""])
        for text in told.summary:
            blocks.append(H.paragraph(text))
            md.extend([text, ""])
        blocks.append(H.raw("</section>"))
        toc = len(blocks)
        section("designs", "sec_designs")
        for label, description, levers in told.designs:
            blocks.append(H.heading(label, 3))
            blocks.append(H.paragraph(description or word("no_description", lang)))
            md.extend([f"### {label}", "", description or word("no_description", lang), ""])
            if levers.empty:
                blocks.append(H.paragraph(word("no_levers", lang), "note"))
            else:
                add_table(word("levers_caption", lang, design=label), levers, short=[levers.columns[-4]])
        levers = [frame.assign(**{word("design", lang): label}) for label, _, frame in told.designs if len(frame)]
        if levers:
            sheets["levers"] = pd.concat(levers, ignore_index=True)
        for key, anchor, heading in (("ranking", "ranking", "sec_ranking"), ("attainment", "attainment", "sec_attainment"),
                                     ("differences", "differences", "sec_differences")):
            if key in told.tables:
                section(anchor, heading)
                caption, frame = told.tables[key]
                add_table(caption, frame, short=list(frame.columns[:2]) if key == "ranking" else [])
        sheets.update(told.sheets)
    linked = "png" if "png" in formats else formats[0]
    if figures:
        if toc is None:
            toc = len(blocks)
        section("figures", "sec_figures")
    for name, fig_title, fig in figures:
        save(fig, out_dir, name, formats)
        if name in data and data[name] is not None:
            atomic_write_text(out_dir / f"{name}.csv", data[name].to_csv(index=False))
        caption = captions.get(name, fig_title)
        md.extend([f"### {fig_title}", "", f"![{fig_title}]({name}.{linked})", "", caption, ""])
        blocks.append(H.figure(_png(fig), caption, anchor=f"fig-{name}", title=fig_title))
        plt.close(fig)
    if indicator is not None:
        section("indicators", "sec_indicators")
        add_table(word("indicator_caption", lang), indicator,
                  short=[word("col_dimension", lang), word("col_baseline", lang), word("col_target", lang)])
        sheets["indicators"] = indicator
        for note in notes:  # how to read an indicator (e.g. a cut set exactly at its target)
            blocks.append(H.paragraph(note, "note"))
            md.extend([note, ""])
    for i, (caption, frame) in enumerate(tables):
        if toc is None:
            toc = len(blocks)
        anchor = f"table-{i + 1}"
        sections.append((anchor, caption))
        blocks.append(H.heading(caption, 2, anchor))
        cells = frame.map(lambda v: f"{v:.3g}" if isinstance(v, float) else v)
        blocks.append(H.table(cells))
        md.extend([f"## {caption}", "", markdown_table(frame, digits=3), ""])
        sheets[f"table {i + 1}"] = frame
    if told is not None:
        section("notes", "sec_notes")
        blocks.append(H.bullets(told.notes))
        md.extend([f"- {n}" for n in told.notes] + [""])
    section("files", "sec_files")
    shown = [("PNG (300 dpi)" if lang == "en" else "PNG（300 dpi）") if f == "png" else f.upper() for f in formats]
    files = word("files_note", lang, formats=("、" if lang == "zh" else ", ").join(shown), workbook=WORKBOOK)
    blocks.append(H.paragraph(files, "note"))
    md.extend([files, ""])
    if toc is not None:
        blocks.insert(toc, H.contents([a for a in sections if a[0] != "files"], word("sec_contents", lang)))
    sheets = {k: v for k, v in sheets.items() if len(v.columns)}
    if sheets:
        _write_workbook(out_dir / WORKBOOK, sheets)
    atomic_write_text(out_dir / "report.md", "\n".join(md))
    atomic_write_text(out_dir / "report.html", H.page(title, blocks, lang))
    return out_dir


def kind_of(folder: Path) -> str:
    """What a results folder holds: ``run`` (a run or comparison), ``sweep`` or ``pilot``; a ResultsError
    (a ValueError) naming the folder and what was expected if none of them."""
    if not folder.is_dir():
        raise ResultsError(f"{folder}: no such results folder")
    if (folder / "series.parquet").exists():
        return "run"
    if (folder / "design.csv").exists() or (folder / "parts").is_dir():
        return "sweep"
    if (folder / "pilot_replicates.csv").exists():
        return "pilot"
    if (folder / "manifest.json").exists():
        return "run"  # the series is missing: read_run says so
    raise ResultsError(f"{folder}: no stored results to report on; expected a run or compare folder "
                       "(series.parquet + manifest.json), a sweep folder (design.csv + parts/) or a pilot "
                       "evaluation folder (pilot_replicates.csv)")


def build_report(results_dir: str | Path, formats=("png", "svg"), out: str | Path | None = None, lang: str = "en",
                 layout: str = "auto") -> Path:
    """Figures and a report (HTML with embedded figures, and Markdown) from a run, comparison, sweep or pilot
    evaluation folder. Written to ``out`` (default ``RESULTS_DIR/report``, or ``report_zh`` in Chinese)."""
    if lang not in LANGS:
        raise ValueError(f"unknown language {lang!r}; choose from {', '.join(LANGS)}")
    unknown = set(formats) - set(FORMATS)
    if unknown:
        raise ValueError(f"unknown figure format(s) {', '.join(sorted(unknown))}; choose from {', '.join(FORMATS)}")
    folder = Path(results_dir)
    out_dir = Path(out) if out else folder / ("report" if lang == "en" else f"report_{lang}")
    kind = kind_of(folder)
    rc_for(lang)  # fail early, before any figure, if Chinese has no font
    fresh = not out_dir.exists()
    check_writable(out_dir)  # and if the report cannot be written (a file in the way, read-only, full disk)
    try:
        with plt.rc_context():  # the report's style and fonts do not outlive the call
            return _build(folder, kind, formats, out_dir, lang, layout)
    except BaseException:
        if fresh:  # stored results that cannot be read: leave no empty report folder behind
            with contextlib.suppress(OSError):
                out_dir.rmdir()
        raise


def _build(folder: Path, kind: str, formats, out_dir: Path, lang: str, layout: str) -> Path:
    if kind == "sweep":
        return _sweep_report(folder, formats, out_dir, lang)
    if kind == "pilot":
        return _pilot_report(folder, formats, out_dir, lang)
    series, manifest = read_run(folder)
    labels = design_labels(manifest, lang)
    designs = [labels.get(d, d) for d in design_order(manifest, series)]
    told = story(series, manifest, lang)
    figures = run_figures(series, manifest, lang, layout)
    data, captions = run_figure_data(series, manifest, lang, told.reference, [name for name, _, _ in figures])
    return _write_pages(out_dir, word("report_title", lang, designs=_joined(designs, lang)), provenance(manifest, lang),
                        figures, formats, lang=lang, told=told, data=data, captions=captions,
                        indicator=indicator_table(series, manifest, lang),
                        notes=set_at_target_notes(series, manifest, lang))


def _joined(items, lang: str) -> str:
    return ("、" if lang == "zh" else ", ").join(items)


def run_figure_data(series: pd.DataFrame, manifest: dict, lang: str, reference: str, names) -> tuple[dict, dict]:
    """Each run figure's data (the CSV beside it) and caption, by file name."""
    replicates = int(series.groupby("scenario", observed=True)["replicate"].nunique().max())
    labels = design_labels(manifest, lang)
    data, captions = {}, {}
    for name in names:
        if name.startswith("fan_"):
            metric = name[4:]
            data[name] = fan_data(series, metric)
            captions[name] = word_runs("figure_caption_fan", lang, manifest, metric=metric_name(metric, lang),
                                       replicates=replicates)
        elif name.startswith("difference_"):
            metric = name[len("difference_"):]
            data[name] = difference_data(series, metric, reference)
            captions[name] = word("figure_caption_difference", lang, metric=metric_name(metric, lang),
                                  reference=labels.get(reference, reference))
        elif name == "targets_2027":
            data[name] = target_attainment(replicate_values(series, years=(2027,)))
            captions[name] = word_runs("figure_caption_targets", lang, manifest, replicates=replicates)
    return data, captions

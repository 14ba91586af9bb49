"""The page of ``grassroots explore``: a Solara app over :mod:`sim.explore` (which does all the work).

``grassroots explore [CONFIG ...]`` serves it; ``solara run sim.explore_app`` does too. The configs given on the
command line arrive in ``$GRASSROOTS_EXPLORE_CONFIGS`` (a JSON list), the worker count in
``$GRASSROOTS_EXPLORE_WORKERS``, the folder designs are saved into in ``$GRASSROOTS_EXPLORE_SAVE``.

Every run and every figure is made in a background task (``solara.lab.task``) on the runner's worker
processes, so the page never freezes; a bad input (an out-of-range value typed into a field, a config that
fails validation, a results folder of the wrong kind) is a message on the page, never a traceback.
"""

from __future__ import annotations

import functools
import itertools
import html
import json
import os
import threading
import time
from pathlib import Path

import solara
from solara.lab import task

from . import explore as X
from .registry import GROUP_LABELS, HEADLINE
from .text import lever_unit, phase_name, word

# --------------------------------------------------------------------------- the server's state (all sessions)

def _shown_path(path: str) -> str:
    """A config's path relative to the working folder where it is inside it (as a user would type it)."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return path


STARTS = [_shown_path(p) for p in
          X.starting_designs(json.loads(os.environ.get("GRASSROOTS_EXPLORE_CONFIGS", "[]") or "[]"))]
SAVE_DIR = Path(os.environ.get("GRASSROOTS_EXPLORE_SAVE", "results/explore/designs"))
_RUNNER: X.Runner | None = None
_RUNNER_LOCK = threading.Lock()


def runner() -> X.Runner:
    """The one runner of this server process (its worker processes and its cache of replicates)."""
    global _RUNNER
    with _RUNNER_LOCK:
        if _RUNNER is None:
            _RUNNER = X.Runner(int(os.environ.get("GRASSROOTS_EXPLORE_WORKERS", "2")))
            threading.Thread(target=_RUNNER.warm, daemon=True).start()
        return _RUNNER


def one_line(exc: BaseException) -> str:
    """A user error as the page shows it: the message, never a traceback."""
    from .cli import describe

    text = describe(exc)
    return text[len("error: "):] if text.startswith("error: ") else text


# --------------------------------------------------------------------------- a session's state

lang = solara.reactive("en")
mode = solara.reactive("explore")
design = solara.reactive(X.Design(STARTS[0] if STARTS else "", geography="county"))  # one county: quick
group = solara.reactive(next(iter(GROUP_LABELS)))
message = solara.reactive("")  # a bad input, in one line (or a config's few lines)
result = solara.reactive(None)  # the Comparison shown
# the figures, one reactive each (a figure coming in draws only its own place again):
# name -> {(number of the result shown, lang): PNG}
_SHOWN = itertools.count(1)
FIGURES = {name: solara.reactive({}) for name in X.FIGURE_NAMES}
progress = solara.reactive((0, 0))
status = solara.reactive("")
saved = solara.reactive("")
stored = solara.reactive(None)  # a Stored sweep or pilot evaluation
folder = solara.reactive("")
timing = solara.reactive({})  # run and draw seconds of the last run


def _set_progress(done: int, total: int) -> None:
    progress.set((done, total))


def show_figure(language: str, name: str, png: bytes, of) -> None:
    """Keep a figure of the comparison ``of``, under its number: the page shows only the figures of the
    result shown (a drawing for an earlier result, still coming in, is dropped)."""
    if result.value is of:
        FIGURES[name].set({**FIGURES[name].value, (of.shown_as, language): png})


def show_result(comparison) -> None:
    """Show a comparison (None: none), numbered so that figures of an earlier one are not shown with it."""
    if comparison is not None:
        comparison.shown_as = next(_SHOWN)
    for each in FIGURES.values():
        if each.value:
            each.set({})
    result.set(comparison)


def stop_drawing() -> None:
    """Cancel ``draw_task`` if it is drawing (Solara refuses to cancel a task that never ran)."""
    if draw_task.pending:
        draw_task.cancel()


def drawn_in(language: str) -> bool:
    shown = result.value
    return shown is not None and any((shown.shown_as, language) in each.value for each in FIGURES.values())


@task
def run_task(chosen: X.Design, language: str):
    """Run the design against its baseline, show the tables, then draw the figures."""
    r = runner()
    stopped = lambda: not run_task.is_current()  # noqa: E731 (Cancel, or a newer Run)
    started = time.perf_counter()
    try:
        status.set("running")
        series, manifest = X.run_series(chosen, r, _set_progress, stopped)
        drawing = r.start_drawing(series, manifest, language)  # the workers draw while the tables are made
        try:
            comparison = X.tables_of(series, manifest)
            ran = comparison.seconds = time.perf_counter() - started
            comparison.design = chosen
            page_tables(comparison, language)  # here, not while the page is drawn
        except BaseException:
            for future in drawing:
                future.cancel()
            raise
        stop_drawing()  # the figures of the result shown before, in another language
        stored.set(None)
        show_result(comparison)
        status.set("drawing")
        r.drawn(drawing, stopped=stopped, each=lambda name, png: show_figure(language, name, png, comparison))
        timing.set({"run": ran, "draw": time.perf_counter() - started - ran, "replicates": chosen.replicates,
                    "draws": chosen.draws})
        status.set("done")
        if lang.value != language:  # the language was switched while this ran
            draw_task(comparison, lang.value)
    except X.Cancelled:
        status.set("cancelled")
    except Exception as exc:  # a user error (a bad config, a folder that cannot be written) or a worker dying
        message.set(one_line(exc))
        status.set("")


@task
def draw_task(comparison, language: str):
    """The figures of the result shown, in another language."""
    try:
        runner().draw(comparison.series, comparison.manifest, language, stopped=lambda: not draw_task.is_current(),
                      each=lambda name, png: show_figure(language, name, png, comparison))
    except X.Cancelled:
        pass
    except Exception as exc:
        message.set(one_line(exc))


@task
def open_task(path: str, language: str):
    """Open a stored results folder read-only and show it with the same tables and figures."""
    message.set("")
    try:
        found = X.open_results(path, language)
    except Exception as exc:
        message.set(one_line(exc))
        return
    message.set("")
    stop_drawing()
    if found.comparison is not None:
        show_result(found.comparison)
        stored.set(found)
        try:
            runner().draw(found.comparison.series, found.comparison.manifest, language,
                          stopped=lambda: not open_task.is_current(),
                          each=lambda name, png: show_figure(language, name, png, found.comparison))
        except X.Cancelled:
            pass
    else:
        show_result(None)
        stored.set(found)


# --------------------------------------------------------------------------- actions


def change_design(**fields) -> None:
    """Apply a setting (starting design, geography, replicates...) if the design it makes is valid."""
    candidate = design.value.replace(**fields)
    if "start" in fields:
        candidate = candidate.replace(changes=())  # the lever values of another design start afresh
    try:
        X.build(candidate)
    except Exception as exc:
        message.set(one_line(exc))
        if "start" in fields:  # shown as chosen, so that the message names what was chosen
            design.set(candidate)
        return
    message.set("")
    design.set(candidate)


def change_lever(lever: str, phase: str, value) -> None:
    if value is None:
        return
    try:
        current = X.lever_controls(X.build(design.value).design_saved)
        now = next(c for cs in current.values() for c in cs if c.name == lever).values[phase]
    except Exception:
        now = None
    if now is not None and abs(float(value) - now) < 1e-12:
        return  # a control echoing the value already in force (a later phase's slider following an earlier one)
    candidate = design.value.with_change(lever, phase, value)
    try:
        X.build(candidate)
    except Exception as exc:
        message.set(lever_problem(exc, lever, phase))
        return
    message.set("")
    design.set(candidate)


def lever_problem(exc: BaseException, lever: str, phase: str) -> str:
    """A refused lever value in words: the lever's label and phase, then what the config check says
    (``levers.committee_pay_ratio.values.rollout: must be within [0.2, 2] ... (got 5)``)."""
    from .config import ConfigError
    from .registry import LEVERS

    if not isinstance(exc, ConfigError) or not exc.problems:
        return one_line(exc)
    label = LEVERS[lever].label.pick(lang.value)
    from .config.loader import format_path

    return f"{label} ({phase_name(phase, lang.value)}): " + "; ".join(
        f"{format_path(p.path)}: {p.message}" if p.path else p.message for p in exc.problems)


def set_mode(value: str) -> None:
    message.set("")
    mode.set(value)


def start_run() -> None:
    message.set("")
    try:
        X.build(design.value)
    except Exception as exc:
        message.set(one_line(exc))
        return
    run_task(design.value, lang.value)


def save() -> None:
    from .config import load_scenario

    try:
        paths = X.save_design(design.value, SAVE_DIR)
        checked = [load_scenario(str(p)) for p in paths]  # what `grassroots validate` does with them
    except Exception as exc:
        message.set(one_line(exc))
        return
    message.set("")
    lines = [f"{ls.path}: ok (scenario '{ls.scenario.name}', {len(ls.files)} file(s), hash {ls.hash})" for ls in checked]
    saved.set("\n".join([word("x_saved", lang.value, design=paths[0], baseline=paths[1]),
                         *(word("x_validated", lang.value, line=line) for line in lines)]))


def set_lang(value: str) -> None:
    lang.set(value)
    shown = result.value
    if shown is not None and not drawn_in(value):
        draw_task(shown, value)


# --------------------------------------------------------------------------- components


def heading(text: str, tag: str = "h3") -> None:
    solara.HTML(tag=tag, unsafe_innerHTML=html.escape(str(text)), style="margin: 10px 0 4px 0")


@functools.cache
def font_css(lang: str) -> str:
    """The page's font: the packaged Noto Sans SC, reduced to the Chinese characters the page can show
    (the report's embedded font, ``sim.html.font_face``), after the reader's Latin sans-serif on an English
    page, so that Chinese shows without Chinese system fonts."""
    from . import registry, text
    from .html import families, font_face
    from .text import plan_indicators

    texts = [pair[1] for table in vars(text).values() if isinstance(table, dict)  # every (en, zh) word table
             for pair in table.values() if isinstance(pair, tuple) and len(pair) == 2]
    texts += list(text.LEVER_UNITS_ZH.values())
    texts += [e.label.zh for table in (registry.LEVERS, registry.METRICS) for e in table.values() if e.label]
    texts += [g.zh for g in registry.GROUP_LABELS.values()] + [g.zh for g in X.GEOGRAPHIES.values()]
    texts += [str(ind.get("zh", "")) for ind in plan_indicators()] + ["中文英文"]
    texts += [str(v) for path in STARTS for v in _zh_labels(path)]
    face = font_face("".join(c for c in "".join(texts) if ord(c) >= 0x2E80))
    return f"{face}\n.v-application, .v-application * {{ font-family: {families(lang)} !important; }}"


def _zh_labels(path: str):
    try:
        data = X.loaded(path).resolved
    except Exception:
        return []
    return [(data.get("labels") or {}).get("zh") or "", X._text(data.get("description"), "zh")]


def _table(frame, ident: str) -> str:
    if frame is None or len(frame) == 0:
        return ""
    return frame.to_html(index=False, border=0, classes=["gr-table"], table_id=ident, escape=True, na_rep="—")


CSS = """
.gr-table { border-collapse: collapse; font-size: 13px; margin: 4px 0 12px 0; }
.gr-table th, .gr-table td { border-bottom: 1px solid #ddd; padding: 3px 8px; text-align: left; }
.gr-table th { background: #f4f4f4; }
.gr-message { white-space: pre-wrap; font-family: monospace; font-size: 12px; }
.gr-lever { border-bottom: 1px solid #eee; padding: 6px 0 2px 0; }
.gr-groups { flex-wrap: wrap; }
.gr-groups .v-btn { font-size: 11px !important; padding: 0 6px !important; }
.gr-fig img { max-width: 100%; }
"""


@solara.component
def LeverRow(control: X.LeverControl, language: str):
    unit = lever_unit(control.unit, language)
    scale = 100.0 if control.share else 1.0  # shares are shown in percent, as in the report
    with solara.Column(classes=["gr-lever", f"lever-{control.name}"], gap="2px"):
        solara.HTML(style="margin-bottom: 16px; line-height: 1.35",
                    unsafe_innerHTML=f"<b>{html.escape(control.label[language])}</b> ({html.escape(unit)}; "
                    f"{control.low * scale:g}–{control.high * scale:g}, 2023: {control.values['baseline'] * scale:.3g})")
        if control.dated:
            solara.Text(", ".join(f"{k}: {v * scale:g}" for k, v in control.dated.items()),
                        style={"font-size": "11px", "color": "#777"})
        with solara.Row(gap="8px"):
            for phase in X.SHOWN_PHASES:
                value = control.values[phase]
                with solara.Column(gap="0px", style={"min-width": "100px", "flex": "1"}):
                    solara.InputFloat(phase_name(phase, language), value=round(value * scale, 6), dense=True,
                                      on_value=lambda v, p=phase: change_lever(control.name, p,
                                                                               None if v is None else v / scale),
                                      classes=[f"lever-{control.name}-{phase}"])
                    Slider(value * scale, control.low * scale, control.high * scale, control.step * scale,
                           lambda v, p=phase: change_lever(control.name, p, v / scale),
                           f"slider-{control.name}-{phase}")


@solara.component
def Slider(value: float, low: float, high: float, step: float, on_change, ident: str):
    """A slider that reports a value when the user lets go of it (Vuetify's ``change`` event), not each time
    its value is set: a value typed into the field beside it then never comes back from the slider."""
    slider = solara.v.Slider(v_model=value, min=low, max=high, step=step, dense=True, hide_details=True,
                             class_=ident)
    solara.v.use_event(slider, "change", lambda widget, event, data: on_change(float(data)))
    return slider


@solara.component
def Levers(language: str):
    chosen = design.value
    try:
        built = X.build(chosen)
    except Exception as exc:  # a starting config that fails validation: what is wrong with it, in its words
        solara.Error(word("x_error", language, message=one_line(exc)), classes=["gr-error", "gr-message"])
        return
    controls = X.lever_controls(built.design_saved)
    names = {g: GROUP_LABELS[g].pick(language) for g in GROUP_LABELS}
    heading(word('x_levers', language))
    solara.ToggleButtonsSingle(value=names[group.value], values=list(names.values()),
                               on_value=lambda v: group.set(next(g for g, n in names.items() if n == v)),
                               classes=["gr-groups"])
    if chosen.changes:
        with solara.Row(style={"align-items": "center"}):
            solara.Text(word("x_changed", language, n=len(chosen.changes)), classes=["gr-changed"])
            solara.Button(word("x_reset", language), on_click=lambda: design.set(chosen.replace(changes=())),
                          text=True)
    for control in controls[group.value]:
        LeverRow(control, language)


@solara.component
def RunStatus(language: str):
    """The progress of a run (a component of its own: each replicate done draws only this again)."""
    if run_task.pending:
        done, total = progress.value
        if status.value == "drawing":
            solara.Text(word("x_drawing", language))
        else:
            solara.ProgressLinear(100 * done / total if total else True)
            solara.Text(word("x_running", language, done=done, total=total), classes=["gr-progress"])
    elif status.value == "cancelled":
        solara.Info(word("x_cancelled", language))


@solara.component
def Controls(language: str):
    chosen = design.value
    running = run_task.pending
    solara.ToggleButtonsSingle(value={"en": "English", "zh": "中文"}[language], values=["English", "中文"],
                               on_value=lambda v: set_lang("zh" if v == "中文" else "en"), classes=["gr-lang"])
    modes = {"explore": word("x_mode_explore", language), "open": word("x_mode_open", language)}
    solara.ToggleButtonsSingle(value=modes[mode.value], values=list(modes.values()),
                               on_value=lambda v: set_mode(next(k for k, n in modes.items() if n == v)),
                               classes=["gr-mode"])
    if mode.value == "open":
        solara.InputText(word("x_folder", language), value=folder.value, on_value=folder.set,
                         classes=["gr-folder"])
        solara.Button(word("x_open", language), on_click=lambda: open_task(folder.value, language),
                      disabled=open_task.pending, color="primary", classes=["gr-open"])
        if open_task.pending:
            solara.ProgressLinear(True)
        return
    solara.Select(word("x_start", language), values=STARTS, value=chosen.start,
                  on_value=lambda v: change_design(start=v), classes=["gr-start"])
    places = {k: (g.zh if language == "zh" else g.en) for k, g in X.GEOGRAPHIES.items()}
    solara.Select(word("x_geography", language), values=list(places.values()), value=places[chosen.geography],
                  on_value=lambda v: change_design(geography=next(k for k, n in places.items() if n == v)),
                  classes=["gr-geography"])
    with solara.Row():
        solara.InputInt(word("x_replicates", language), value=chosen.replicates, dense=True,
                        on_value=lambda v: change_design(replicates=v), classes=["gr-replicates"])
        solara.InputInt(word("x_seed", language), value=chosen.seed, dense=True,
                        on_value=lambda v: change_design(seed=v), classes=["gr-seed"])
    horizons = {"2027": word("x_horizon_2027", language), "end": word("x_horizon_end", language)}
    solara.Select(word("x_horizon", language), values=list(horizons.values()), value=horizons[chosen.horizon],
                  on_value=lambda v: change_design(horizon=next(k for k, n in horizons.items() if n == v)))
    if X.draws_available():  # posterior parameter draws (`--draws`): the bands then include parameter uncertainty
        solara.InputInt(word("x_draws", language), value=chosen.draws, dense=True,
                        on_value=lambda v: change_design(draws=v), classes=["gr-draws"])
    with solara.Row():
        solara.Button(word("x_run", language), on_click=start_run, disabled=running, color="primary",
                      classes=["gr-run"])
        solara.Button(word("x_cancel", language), on_click=run_task.cancel, disabled=not running,
                      classes=["gr-cancel"])
    RunStatus(language)
    heading(word('x_save', language), "b")
    solara.InputText(word("x_name", language), value=chosen.name, on_value=lambda v: change_design(name=v),
                     classes=["gr-name"])
    with solara.Row():
        solara.Button(word("x_save", language), on_click=save, classes=["gr-save"])
        try:
            built = X.build(chosen)
            solara.FileDownload(lambda: X.design_yaml(chosen, built), filename=f"{chosen.name}.yaml",
                                label=f"{word('x_download', language)} YAML")
        except Exception:
            pass
    if saved.value:
        solara.Success(saved.value, classes=["gr-saved", "gr-message"])


@solara.component
def Results(language: str):
    shown = result.value
    if stored.value is not None:
        s = stored.value
        solara.Info(word("x_opened", language, folder=str(s.folder), kind=s.kind), classes=["gr-opened"])
        if shown is None:  # a sweep or a pilot evaluation: its report's figures and tables
            heading(html.escape(s.title))
            for name, caption, png in s.figures:
                with solara.Column(classes=["gr-fig", f"fig-{name}"]):
                    solara.Image(png)
                    solara.Text(caption, style={"font-size": "12px"})
                    solara.FileDownload(png, filename=f"{name}.png", label=f"{word('x_download', language)} PNG")
            for caption, frame in s.tables:
                heading(caption, "b")
                solara.HTML(unsafe_innerHTML=_table(frame, "stored-table"))
                solara.FileDownload(frame.to_csv(index=False), filename="table.csv",
                                    label=f"{word('x_download', language)} CSV")
            return
    if shown is None:
        if mode.value == "explore":
            solara.Info(word("x_press_run", language))
        return
    explored = getattr(shown, "design", None)  # None for stored results
    Stale(explored, language)
    if explored is not None:
        Timing(language)
    tables = page_tables(shown, language)
    heading(word('x_differences', language))
    solara.HTML(unsafe_innerHTML=tables["differences"])
    heading(word('x_figures', language))
    Figures(shown, language)
    heading(word('x_targets', language))
    solara.HTML(unsafe_innerHTML=tables["targets"])
    with solara.Row():
        for name in ("differences", "attainment"):
            frame = getattr(shown, name)
            if len(frame):
                solara.FileDownload(lambda f=frame: f.to_csv(index=False), filename=f"{name}.csv",
                                    label=f"{word('x_download', language)} {name}.csv")
        solara.FileDownload(lambda: shown.all_levels().to_csv(index=False), filename="levels.csv",
                            label=f"{word('x_download', language)} levels.csv")
    heading(word('x_indicators', language))
    solara.HTML(unsafe_innerHTML=tables["indicators"])
    solara.FileDownload(tables["indicators_csv"], filename="indicators.csv",
                        label=f"{word('x_download', language)} CSV")


@solara.component
def Stale(explored, language: str):
    """A warning when the levers have moved since the result shown was run (a component of its own: a
    lever moving draws only this part of the results again)."""
    if explored is not None and explored != design.value and mode.value == "explore":
        solara.Warning(word("x_stale", language), classes=["gr-stale"])


@solara.component
def Timing(language: str):
    ran = timing.value
    if ran:
        key = "x_ran_draws" if ran.get("draws") else "x_ran"
        solara.Text(word(key, language, replicates=ran["replicates"], draws=ran.get("draws"), run=ran["run"],
                         draw=ran["draw"]), classes=["gr-timing"], style={"font-size": "12px"})


@solara.component
def Figures(shown, language: str):
    """The figures of the result shown, each in its own place as it comes."""
    with solara.Row(style={"flex-wrap": "wrap"}):
        for name in X.figure_names(shown.series):
            Figure(shown, name, language)


@solara.component
def Figure(shown, name: str, language: str):
    png = FIGURES[name].value.get((shown.shown_as, language))
    with solara.Column(classes=["gr-fig", f"fig-{name}"],
                       style={"width": "100%" if name in ("headline", "targets_2027") else "48%"}):
        if png is None:  # still text, not an animation: a page that moves costs the browser a core
            solara.Text(word("x_drawing", language), classes=["gr-fig-waiting"],
                        style={"color": "#777", "font-size": "12px", "padding": "40px 0"})
        else:
            solara.Image(png)
            with solara.Row():
                solara.FileDownload(png, filename=f"{name}.png", label="PNG")
                solara.FileDownload(lambda: figure_csv(shown, name), filename=f"{name}.csv", label="CSV")


def page_tables(shown, language: str) -> dict:
    """The tables of a result in ``language``, as HTML (and the indicator table as CSV); made once per
    result and language (the page is drawn again at every step of the progress bar)."""
    made = shown.__dict__.setdefault("_page_tables", {})
    if language not in made:
        made[language] = _page_tables(shown, language)
    return made[language]


def _page_tables(shown, language: str) -> dict:
    from .report import indicator_table

    indicators = indicator_table(shown.series, shown.manifest, language)
    return {"differences": _table(X.difference_rows(shown, language), "differences"),
            "targets": _table(X.attainment_rows(shown, language), "targets"),
            "indicators": _table(indicators, "indicators"), "indicators_csv": indicators.to_csv(index=False)}


def figure_csv(comparison, name: str) -> str:
    """A figure's data, as the report writes it beside the figure."""
    import pandas as pd

    from .figures.differences import difference_data
    from .figures.fans import fan_data

    if name == "headline":
        return pd.concat([fan_data(comparison.series, m) for m in HEADLINE]).to_csv(index=False)
    if name.startswith("difference_"):
        return difference_data(comparison.series, name[len("difference_"):], comparison.reference).to_csv(index=False)
    return comparison.attainment.to_csv(index=False)


@solara.component
def Page():
    language = lang.value
    solara.Style(CSS + font_css(language))
    solara.Title("grassroots explore")
    runner()  # start the workers as the first page opens
    with solara.Sidebar():
        Controls(language)
    with solara.Column(style={"padding": "4px 12px"}):
        heading(word("x_title", language), "h2")
        if message.value:
            solara.Error(word("x_error", language, message=message.value), classes=["gr-error", "gr-message"])
        if mode.value == "explore":
            with solara.Row(style={"align-items": "flex-start", "flex-wrap": "nowrap"}):
                with solara.Column(style={"width": "40%", "min-width": "360px"}):
                    Levers(language)
                with solara.Column(style={"width": "60%"}):
                    Results(language)
        else:
            Results(language)


if os.environ.get("GRASSROOTS_EXPLORE_WORKERS"):  # served by `grassroots explore`: start the workers now
    runner()
    threading.Thread(target=lambda: [font_css(x) for x in ("en", "zh")], daemon=True).start()

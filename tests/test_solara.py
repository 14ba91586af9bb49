"""Mesa's SolaraViz drives the model as a Mesa user sets it up: model_params with a config choice and a slider
on a lever's key path, Step, Play/Pause and Reset, and a plot of a DataCollector metric. Rendered headlessly
as Mesa's own tests do (``solara.render(..., handle_error=False)`` and reacton's finder), on mesa 3.3 and 3.4+
(3.4+ passes a Mesa Scenario on Reset; 3.3 draws its tabs with Vuetify 2 widgets)."""

from __future__ import annotations

import functools
import re
import time

import ipyvuetify as v
import numpy as np
import solara
import solara.widgets
from mesa.visualization import Slider, SolaraViz, make_plot_component

from helpers import CONFIGS, ROOT
from sim import GrassrootsModel

COUNTY = str(CONFIGS / "county.yaml")
PAY = "levers__committee_pay_ratio__values__rollout"


def model_params(*configs: str) -> dict:
    configs = configs or (COUNTY,)
    return {"config": {"type": "Select", "value": configs[0], "values": list(configs), "label": "Config"},
            PAY: Slider("Committee pay / county seat (rollout)", 0.9, 0.5, 1.3, 0.1),
            "rng": 1}


def render(page_or_model, params: dict | None = None, backend: str = "altair", **viz):
    """Render SolaraViz (or a page built with it) inside an app layout, as `solara run` does: the controls sit in
    the layout's sidebar. Returns the reactive model (Reset replaces its value) and the render context."""
    if isinstance(page_or_model, GrassrootsModel):
        model = solara.reactive(page_or_model)
        element = SolaraViz(model, components=[make_plot_component("turnover_rate", backend=backend)],
                            model_params=params, **viz)
    else:
        model, element = None, page_or_model

    _, rc = solara.render(solara.AppLayout(children=[element]), handle_error=False)
    return model, rc


def button(rc, label: str) -> v.Btn:
    return rc.find(v.Btn, children=[label]).widget


def plotted(rc, measure: str) -> list:
    """The values in the Altair plot of ``measure``, by step."""
    spec = rc.find(solara.widgets.VegaLite).widget.spec
    rows = next(iter(spec["datasets"].values()))
    return [row["Value"] for row in sorted(rows, key=lambda r: r["Step"]) if row["Measure"] == measure]


def test_step_reset_with_a_slider_and_the_plot_of_a_metric():
    model, rc = render(GrassrootsModel(COUNTY, rng=1), model_params())
    first = model.value
    start = first.calendar.spin_up_start
    button(rc, "Step").click()
    assert (first.steps, first.month) == (1, start + 1)

    rc.find(v.Slider, label="Committee pay / county seat (rollout)").widget.v_model = 1.2
    button(rc, "Reset").click()
    reset = model.value
    assert reset is not first and reset.steps == 0 and reset.month == start
    assert reset.config.levers.committee_pay_ratio.values["rollout"] == 1.2  # the slider's value, not the config's 0.9
    assert first.config.levers.committee_pay_ratio.values["rollout"] == 0.9

    spin_up = reset.calendar.start - start
    for _ in range(spin_up + 3):
        button(rc, "Step").click()
    assert reset.steps == spin_up + 3 and reset.month == reset.calendar.start + 3
    # Reset built the model the constructor builds from the same model_params, and the plot shows its DataCollector
    direct = GrassrootsModel(COUNTY, rng=1, **{PAY: 1.2})
    for _ in range(spin_up + 3):
        direct.step()
    collected = reset.datacollector.get_model_vars_dataframe()["turnover_rate"].to_numpy()
    expected = direct.datacollector.get_model_vars_dataframe()["turnover_rate"].to_numpy()
    assert np.array_equal(collected, expected, equal_nan=True) and np.isfinite(collected[-3:]).all()
    values = plotted(rc, "turnover_rate")
    assert len(values) == spin_up + 3 and all(x is None for x in values[:spin_up])
    assert np.allclose(values[spin_up:], collected[-3:], rtol=1e-12, atol=0)


def settled(read, quiet: float = 1.0, timeout: float = 60.0):
    """``read()`` once it has stopped changing for ``quiet`` seconds (fails after ``timeout``)."""
    deadline = time.monotonic() + timeout
    value = read()
    while time.monotonic() < deadline:
        time.sleep(quiet)
        if (now := read()) == value:
            return value
        value = now
    raise AssertionError(f"still changing after {timeout} s: {value}")


def test_play_and_pause_run_the_model_then_hold_it():
    # matplotlib: Play re-renders in its own thread, and Altair's renderer switch is global, not thread-safe
    model, rc = render(GrassrootsModel(COUNTY, rng=1), model_params(), backend="matplotlib", play_interval=1)
    button(rc, "▶").click()
    deadline = time.monotonic() + 60
    while model.value.steps < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    button(rc, "❚❚").click()
    held = settled(lambda: model.value.steps)  # a step under way when paused finishes, then none follows
    assert held >= 3 and model.value.month == model.value.calendar.spin_up_start + held
    time.sleep(1.0)
    assert model.value.steps == held


def test_reset_builds_the_config_chosen(tmp_path):
    other = tmp_path / "county_copy.yaml"
    other.write_text(f"extends: {COUNTY}\nname: county_copy\n")
    model, rc = render(GrassrootsModel(COUNTY, rng=1), model_params(COUNTY, str(other)))
    assert model.value.config.name == "county_plan"
    rc.find(v.Select, label="Config").widget.v_model = str(other)
    button(rc, "Reset").click()
    assert model.value.config.name == "county_copy" and model.value.steps == 0


def test_after_the_last_month_step_and_play_are_off_and_the_model_stays_put():
    model, rc = render(GrassrootsModel(COUNTY, rng=1), model_params())
    model.value.run()
    end = model.value.month
    button(rc, "Step").click()  # SolaraViz learns from `running` that the run is over
    assert model.value.month == end == model.value.calendar.end + 1 and not model.value.running
    assert button(rc, "Step").disabled and button(rc, "▶").disabled
    button(rc, "Reset").click()
    assert model.value.running and model.value.steps == 0 and not button(rc, "Step").disabled


def readme_app() -> str:
    """The SolaraViz example in README.md (the Python block that ends in `page = SolaraViz(`...)."""
    blocks = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(encoding="utf-8"), re.S)
    apps = [block for block in blocks if "SolaraViz(" in block]
    assert len(apps) == 1, "README.md should have one SolaraViz example"
    return apps[0]


def shown_steps(rc) -> float:
    """The step count SolaraViz shows ("Step: 3" on mesa 3.3, "Time: 3.0" on 3.4+)."""
    texts = [w.children[0] for w in rc.find(v.Html, tag="span").widgets if w.children]
    shown = [re.fullmatch(r"(?:Step|Time): ([0-9.]+)", str(t)) for t in texts]
    (value,) = [float(m.group(1)) for m in shown if m]
    return value


def test_the_readme_example_runs(monkeypatch):
    monkeypatch.chdir(ROOT)  # its paths are relative to the project folder, as for `solara run` there
    namespace: dict = {}
    exec(compile(readme_app(), "README.md", "exec"), namespace)
    made = []  # the models Reset builds (SolaraViz keeps them to itself)
    monkeypatch.setattr(GrassrootsModel, "__init__", record(GrassrootsModel.__init__, made))
    _, rc = render(namespace["page"])
    model = namespace["model"]
    button(rc, "Step").click()
    assert model.steps == 1 and shown_steps(rc) == 1
    slider = rc.find(v.Slider, label="Committee pay / county seat (rollout)").widget
    slider.v_model = 1.1
    button(rc, "Reset").click()
    (reset,) = made
    assert reset.config.levers.committee_pay_ratio.values["rollout"] == 1.1 and reset.config.name == "county_plan"
    assert shown_steps(rc) == 0 and model.steps == 1  # the page's model was replaced, not changed
    button(rc, "Step").click()
    assert reset.steps == 1 and shown_steps(rc) == 1


def record(init, made: list):
    @functools.wraps(init)  # SolaraViz reads the constructor's signature
    def recording_init(self, *args, **kwargs):
        init(self, *args, **kwargs)
        made.append(self)
    return recording_init

"""Report figures are built from stored results: files exist as valid images of the expected size, the axes
carry their labels, and the target line sits at the target value."""

from __future__ import annotations

import struct

import pytest

from helpers import scenario
from sim.report import build_report, fan_chart
from sim.run import run_scenarios
from sim.store import read_run, write_run


@pytest.fixture(scope="module")
def stored(tmp_path_factory):
    base = scenario("baseline.yaml", geography={"counties": 2}, pilot={"counties": 1})
    plan = scenario("plan.yaml", geography={"counties": 2}, pilot={"counties": 1})
    result = run_scenarios([base, plan], replicates=2, seed=1)
    folder = tmp_path_factory.mktemp("run")
    write_run(folder, result.series, result.manifest)
    return folder


def png_size(path):
    with open(path, "rb") as fh:
        head = fh.read(24)
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", head[16:24])


def test_report_writes_every_figure_as_valid_png_svg_and_the_pages(stored):
    out = build_report(stored, formats=("png", "svg", "pdf"))
    names = [f"fan_{m}" for m in ("turnover_rate", "service_time_share", "participation_rate")]
    names += [f"difference_{m}" for m in ("turnover_rate", "service_time_share", "participation_rate")]
    names += ["targets_2027"]
    for name in names:
        assert (out / f"{name}.svg").read_text().lstrip().startswith("<?xml")
        assert (out / f"{name}.pdf").read_bytes()[:5] == b"%PDF-"
    assert png_size(out / "fan_turnover_rate.png") == (1920, 1140)  # 6.4 x 3.8 inches at 300 dpi
    html = (out / "report.html").read_text()
    assert html.count("data:image/png;base64,") == len(names)
    md = (out / "report.md").read_text()
    assert "not produced by the model" in md and "Annual cadre turnover" in md


def test_fan_chart_has_labels_and_the_target_line_at_the_target(stored):
    series, manifest = read_run(stored)
    fig = fan_chart(series, manifest, "service_time_share")
    ax = fig.axes[0]
    assert ax.get_title() == "Cadre time serving residents"
    assert ax.get_ylabel() == "share of cadres / residents"
    target = [line for line in ax.get_lines() if line.get_gid() == "target"]
    assert len(target) == 1 and set(target[0].get_ydata()) == {0.60}
    assert {t.get_text() for t in ax.get_legend().get_texts()} == {"Baseline (no reform)", "The plan as written"}
    assert "replicates" in fig.texts[-1].get_text()


def test_sensitivity_report_from_a_sobol_sweep(tmp_path):
    """Sobol bars from a stored sweep analysis (the Ishigami sweep of test_experiments)."""
    from test_experiments import spec, stored_sweep

    from SALib.test_functions import Ishigami
    from sim.experiments import analyze_sweep

    body = ("levers:\n" + "".join(f"  x{i}: {{range: [-3.141592653589793, 3.141592653589793]}}\n" for i in (1, 2, 3))
            + "design: {kind: sobol, samples: 256, seed: 2}\n")
    path = spec(tmp_path, body, "ishigami")
    stored_sweep(tmp_path, path, "ishigami", Ishigami.evaluate)
    analyze_sweep(path, out_root=tmp_path / "results")
    out = build_report(tmp_path / "results" / "ishigami", formats=("png", "svg"))
    figures = sorted(p.name for p in out.glob("sobol_*.png"))
    assert figures == ["sobol_service_time_share_2024.png", "sobol_service_time_share_2027.png",
                       "sobol_turnover_rate_2024.png", "sobol_turnover_rate_2027.png"]
    assert png_size(out / figures[0])[0] == 1920
    assert "Indices" in (out / "report.md").read_text()

"""The command line never answers misuse with a traceback: one clear line on stderr, exit code 2.

Each case is a way a user can get a command wrong (a bad option value, a path that cannot be used, designs
that cannot be compared, a folder that holds no results...). The answer must be exit code 2, no traceback,
a message of one line (a click usage error, or a few lines for a config with several problems) that names
the offending thing, and, where the case says so, nothing computed or written before the refusal.
"""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from helpers import CONFIGS, ROOT
from sim.cli import main

SMALL = ("geography: {counties: 3, townships_per_county: 6}\n"
         "pilot: {counties: 1, selection: random}\n"
         "timeline: {spin_up_months: 12}\n")


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """Small configs, specs and results folders, some of them broken on purpose."""
    d = tmp_path_factory.mktemp("misuse")

    def write(name: str, text: str):
        path = d / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path

    write("a.yaml", f"extends: {CONFIGS / 'baseline.yaml'}\nname: a\n{SMALL}")
    write("b.yaml", f"extends: {CONFIGS / 'plan.yaml'}\nname: b\n{SMALL}")
    write("a_again.yaml", f"extends: {CONFIGS / 'plan.yaml'}\nname: a\n{SMALL}")  # another file, same name
    write("no_pilots.yaml", f"extends: {d / 'a.yaml'}\nname: no_pilots\npilot: {{counties: 0}}\n")
    write("not_a_spec.yaml", "hello: 1\n")
    write("bad_future.yaml", f"name: bad_future\nconfig: {CONFIGS / 'plan.yaml'}\n"
                             "uncertainties:\n  parameters.no_such.thing: {range: [0.0, 0.6]}\n"
                             "design: {kind: latin_hypercube, samples: 2, seed: 1}\n"
                             "replicates: 1\nseed: 1\ncounties: 3\noutcomes: [turnover_rate]\nyears: [2027]\n")
    write("a_file", "not a folder\n")
    (d / "empty").mkdir()
    write("no_manifest/series.parquet", "PAR1")
    write("bad_manifest/series.parquet", "PAR1")
    write("bad_manifest/manifest.json", "{not json")
    write("bad_pilot/pilot_replicates.csv", "a,b\n1,2\n")
    return d


def F(name: str) -> str:
    """A placeholder for a file of the ``files`` fixture, filled in when the case runs."""
    return "{d}/" + name


FUTURES = str(ROOT / "experiments" / "futures.yaml")
TCP_CLOSED = "tcp://127.0.0.1:1"

# id, arguments, words the message must contain, paths (in the fixture's folder) that must not exist after
CASES = [
    # the same scenario name twice
    ("run-same-file-twice", ["run", F("a.yaml"), F("a.yaml"), "-n", "1", "-o", F("out")],
     ["a.yaml is given 2 times", "'a'"], ["out"]),
    ("run-two-files-one-name", ["run", F("a.yaml"), F("a_again.yaml"), "-n", "1", "-o", F("out")],
     ["a.yaml and", "a_again.yaml", "share the scenario name 'a'"], ["out"]),
    ("compare-two-files-one-name", ["compare", F("a.yaml"), F("a_again.yaml"), "-n", "2", "-o", F("out")],
     ["a_again.yaml", "share the scenario name 'a'"], ["out"]),
    # designs that cannot be compared: refused before running
    ("compare-one-design", ["compare", F("a.yaml"), "-n", "2", "-o", F("out")],
     ["at least two designs", "(a)"], ["out"]),
    ("compare-unknown-reference", ["compare", F("a.yaml"), F("b.yaml"), "--reference", "unknown", "-n", "2",
                                   "-o", F("out")],
     ["'unknown'", "a, b"], ["out"]),
    ("compare-uncertainty-not-a-spec", ["compare", F("a.yaml"), F("b.yaml"), "--uncertainty",
                                        F("not_a_spec.yaml"), "-n", "2", "-o", F("out")],
     ["not_a_spec.yaml is not an experiment spec"], ["out"]),
    ("compare-uncertainty-wrong-key", ["compare", F("a.yaml"), F("b.yaml"), "--uncertainty",
                                       F("bad_future.yaml"), "-n", "2", "-o", F("out")],
     ["bad_future.yaml", "parameters.no_such"], ["out"]),
    # --dask
    ("run-dask-junk", ["run", F("a.yaml"), "--dask", "foo", "-n", "1", "-o", F("out")],
     ["--dask", "'foo'", "tcp://"], ["out"]),
    ("run-dask-no-host", ["run", F("a.yaml"), "--dask", "tcp://", "-n", "1", "-o", F("out")],
     ["--dask", "'tcp://'"], ["out"]),
    ("compare-dask-junk", ["compare", F("a.yaml"), F("b.yaml"), "--dask", "foo", "-n", "2", "-o", F("out")],
     ["--dask", "'foo'"], ["out"]),
    ("sweep-dask-junk", ["sweep", FUTURES, "--dask", "foo", "-o", F("out")], ["--dask", "'foo'"], ["out"]),
    ("run-dask-unreachable", ["run", F("a.yaml"), "--dask", TCP_CLOSED, "-n", "1", "--no-progress",
                              "-o", F("out")],
     [f"cannot reach the Dask scheduler at {TCP_CLOSED} within 2 s"], ["out/series.parquet"]),
    ("run-dask-timeout-junk", ["run", F("a.yaml"), "--dask", TCP_CLOSED, "-n", "1", "--no-progress",
                               "-o", F("out")],
     ["GRASSROOTS_DASK_TIMEOUT", "'soon'"], ["out/series.parquet"]),
    # evaluate-pilot: lists of pilots, selections and quotas, checked against the schema before running
    ("pilot-pilots-word", ["evaluate-pilot", F("a.yaml"), "--pilots", "abc", "-o", F("out")],
     ["--pilots", "'abc'", "whole number"], ["out"]),
    ("pilot-pilots-fraction", ["evaluate-pilot", F("a.yaml"), "--pilots", "1.5", "-o", F("out")],
     ["--pilots", "'1.5'"], ["out"]),
    ("pilot-pilots-empty-item", ["evaluate-pilot", F("a.yaml"), "--pilots", "1,,2", "-o", F("out")],
     ["--pilots", "empty item"], ["out"]),
    ("pilot-pilots-zero", ["evaluate-pilot", F("a.yaml"), "--pilots", "0", "-n", "2", "-o", F("out")],
     ["number of pilots (0)", "at least 1"], ["out"]),
    ("pilot-pilots-negative", ["evaluate-pilot", F("a.yaml"), "--pilots", "-1", "-n", "2", "-o", F("out")],
     ["number of pilots (-1)", "at least 1"], ["out"]),
    ("pilot-config-has-no-pilots", ["evaluate-pilot", F("no_pilots.yaml"), "-n", "2", "-o", F("out")],
     ["number of pilots (0)"], ["out"]),
    ("pilot-selection-unknown", ["evaluate-pilot", F("a.yaml"), "--selections", "foo", "-n", "2", "-o", F("out")],
     ["pilot.selection", "'foo'", "random"], ["out"]),
    ("pilot-selection-empty-item", ["evaluate-pilot", F("a.yaml"), "--selections", "random,,", "-n", "2",
                                    "-o", F("out")],
     ["--selections", "empty item"], ["out"]),
    ("pilot-quota-above-one", ["evaluate-pilot", F("a.yaml"), "--quotas", "2", "-n", "2", "-o", F("out")],
     ["pilot.central_west_min_share", "2.0"], ["out"]),
    ("pilot-quota-negative", ["evaluate-pilot", F("a.yaml"), "--quotas", "-0.5", "-n", "2", "-o", F("out")],
     ["pilot.central_west_min_share", "-0.5"], ["out"]),
    ("pilot-quota-word", ["evaluate-pilot", F("a.yaml"), "--quotas", "abc", "-n", "2", "-o", F("out")],
     ["--quotas", "'abc'"], ["out"]),
    ("pilot-out-under-a-file", ["evaluate-pilot", F("a.yaml"), "--pilots", "1", "-n", "2", "-o", F("a_file/x")],
     ["a_file"], []),
    # report: folders without results, broken results, an unusable output folder
    ("report-empty-folder", ["report", F("empty")],
     ["empty", "series.parquet + manifest.json", "design.csv + parts/", "pilot_replicates.csv"], ["empty/report"]),
    ("report-no-manifest", ["report", F("no_manifest")], ["no_manifest/manifest.json"], ["no_manifest/report"]),
    ("report-corrupt-manifest", ["report", F("bad_manifest")], ["bad_manifest/manifest.json", "corrupt"],
     ["bad_manifest/report"]),
    ("report-corrupt-pilot-table", ["report", F("bad_pilot")], ["bad_pilot/pilot_replicates.csv"],
     ["bad_pilot/report"]),
    # experiment specs that are not specs
    ("sweep-a-scenario-config", ["sweep", F("a.yaml"), "-o", F("out")],
     ["a.yaml is a scenario config, not an experiment spec"], ["out"]),
    ("sweep-not-a-spec", ["sweep", F("not_a_spec.yaml"), "-o", F("out")],
     ["not_a_spec.yaml is not an experiment spec"], ["out"]),
    ("analyze-a-scenario-config", ["analyze", F("a.yaml"), "-o", F("out")],
     ["a.yaml is a scenario config"], ["out"]),
    # outputs that cannot be written: refused before a long computation
    ("run-out-under-a-file", ["run", F("a.yaml"), "-n", "1", "--no-progress", "-o", F("a_file/x")], ["a_file"], []),
    ("calibrate-write-under-a-file", ["calibrate", F("a.yaml"), "--counties", "3", "-n", "1", "--max-evaluations",
                                      "2", "--report-replicates", "2", "-w", "1", "-o", F("cal_out"),
                                      "--write", F("a_file/x.yaml"), "--report", ""],
     ["a_file"], []),
    ("patterns-report-under-a-file", ["patterns", "--baseline", F("a.yaml"), "--plan", F("b.yaml"), "-n", "2",
                                      "-w", "1", "--report", F("a_file/x.md")],
     ["a_file"], []),
]

ENV = {"run-dask-unreachable": {"GRASSROOTS_DASK_TIMEOUT": "2"},
       "run-dask-timeout-junk": {"GRASSROOTS_DASK_TIMEOUT": "soon"}}


def _message_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.strip()]


@pytest.mark.parametrize("case, args, words, absent", CASES, ids=[c[0] for c in CASES])
def test_misuse_ends_in_one_clear_line(files, case, args, words, absent):
    filled = [a.replace("{d}", str(files)) for a in args]
    result = CliRunner().invoke(main, filled, env=ENV.get(case, {}))
    output = result.output
    assert "Traceback" not in output, output
    assert result.exit_code == 2, (result.exit_code, output, result.exception)
    lines = _message_lines(result.stderr)
    if lines and lines[0].startswith(("invalid config ", "invalid experiment spec ")):  # a header, then problems
        assert len(lines) <= 4, output
        message = "\n".join(lines)
    else:
        assert len(lines) == 1, output
        message = lines[0]
    for word in words:
        assert word in message, (word, message)
    for path in absent:  # refused before anything was computed or written
        assert not (files / path).exists(), f"{path} was written before the refusal"
    if (files / "out").exists():  # a case that may write refuses with an empty folder at most
        assert not any((files / "out").rglob("*.parquet"))


def test_a_bug_is_not_hidden_as_a_one_line_error(files, monkeypatch):
    """An unexpected exception (not a user error) keeps its traceback and asks to be reported."""
    import sim.report

    def broken(*args, **kwargs):
        raise KeyError("a bug")

    monkeypatch.setattr(sim.report, "build_report", broken)
    result = CliRunner().invoke(main, ["report", str(files / "empty")])
    assert result.exit_code == 1
    assert "Traceback" in result.stderr and "KeyError: 'a bug'" in result.stderr
    assert "please report it" in result.stderr


def test_user_errors_show_their_traceback_on_request(files):
    result = CliRunner().invoke(main, ["compare", str(files / "a.yaml")], env={"GRASSROOTS_DEBUG": "1"})
    assert result.exit_code != 0 and isinstance(result.exception, ValueError)
    assert "at least two designs" in str(result.exception)


def test_a_dask_address_is_checked_before_anything_is_loaded():
    from sim.run import DaskUnavailable, check_dask_address

    for good in ("local", "tcp://scheduler:8786", "tls://10.0.0.1:8786", "tcp://[::1]:8786", "ucx://host:13337",
                 "inproc://10.0.0.1/1234/1"):
        assert check_dask_address(good) == good
    for bad in ("foo", "", "tcp://", "tcp://host", "http://host:8786", "scheduler:8786", "tcp://a b:1"):
        with pytest.raises(DaskUnavailable):
            check_dask_address(bad)

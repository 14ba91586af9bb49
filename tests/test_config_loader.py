"""Tests for sim.config.loader: parsing, provenance, `extends`, and error messages.

Every error test asserts on the rendered text (file, line, key path, wording),
because the messages are the product here.
"""

from __future__ import annotations

import pickle
import textwrap
from pathlib import Path
from typing import Literal, Optional, Union

import pytest
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from sim.config.loader import (
    ConfigError,
    Location,
    Problem,
    format_path,
    load,
    load_yaml,
    resolve,
    validate,
)

# --------------------------------------------------------------------------- #
# Small models shaped like the real scenario config
# --------------------------------------------------------------------------- #


class Values(BaseModel):
    model_config = ConfigDict(extra="forbid")
    pilot: float = Field(ge=0, le=1)
    control: float = Field(0.0, ge=0, le=1)


class Lever(BaseModel):
    model_config = ConfigDict(extra="forbid")
    description: str = ""
    values: Values


class Phase(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    start: int
    end: int

    @field_validator("name")
    @classmethod
    def no_spaces(cls, v: str) -> str:
        if " " in v:
            raise ValueError("phase names may not contain spaces")
        return v


class Timeline(BaseModel):
    model_config = ConfigDict(extra="forbid")
    phases: list[Phase]

    @model_validator(mode="after")
    def phases_in_order(self) -> "Timeline":
        for i in range(1, len(self.phases)):
            prev, cur = self.phases[i - 1], self.phases[i]
            if cur.start < prev.end:
                raise ValueError(
                    f"@phases.{i}.start: phase {cur.name!r} starts in {cur.start}, "
                    f"before phase {prev.name!r} ends in {prev.end}"
                )
        return self


class FileOutput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["file"] = "file"
    path: str


class DbOutput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["db"] = "db"
    url: str
    table: str


class Plan(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    seed: int = 0
    start: str = "2023-01"
    levers: dict[str, Lever] = {}
    timeline: Optional[Timeline] = None
    output: Union[FileOutput, DbOutput, None] = None
    targets: dict[int, float] = {}


# --------------------------------------------------------------------------- #
# Helpers
# --------------------------------------------------------------------------- #


@pytest.fixture
def write(tmp_path, monkeypatch):
    """Write dedented YAML under a temporary cwd; return the relative path as a user would type it."""
    monkeypatch.chdir(tmp_path)

    def _write(name: str, text: str) -> str:
        path = Path(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"))
        return name

    return _write


def report(fn, *args, **kwargs) -> list[str]:
    """Run fn, expect ConfigError, return its message lines (header first)."""
    with pytest.raises(ConfigError) as info:
        fn(*args, **kwargs)
    return str(info.value).splitlines()


PLAN = """
name: pilot-2025
levers:
  assessment_items_cut:
    description: fewer assessment items
    values:
      pilot: 0.3
      control: 0.0
timeline:
  phases:
    - name: pilot
      start: 2023
      end: 2025
    - name: rollout
      start: 2025
      end: 2030
"""


# --------------------------------------------------------------------------- #
# load_yaml: parsing and provenance
# --------------------------------------------------------------------------- #


def test_provenance_lines_for_nested_keys_and_list_items(write):
    path = write("configs/plan.yaml", PLAN)
    data, prov = load_yaml(path)

    assert data["levers"]["assessment_items_cut"]["values"]["pilot"] == 0.3
    f = "configs/plan.yaml"
    assert prov[("name",)] == Location(f, 1)
    assert prov[("levers", "assessment_items_cut")] == Location(f, 3)
    assert prov[("levers", "assessment_items_cut", "values", "pilot")] == Location(f, 6)
    assert prov[("timeline", "phases")] == Location(f, 9)
    assert prov[("timeline", "phases", 0)] == Location(f, 10)
    assert prov[("timeline", "phases", 1)] == Location(f, 13)
    assert prov[("timeline", "phases", 1, "end")] == Location(f, 15)
    assert prov.files == [f]


def test_scalar_types_follow_yaml_1_1_and_dates_become_strings(write):
    path = write(
        "s.yaml",
        """
        month: 2024-01
        day: 2024-01-01
        stamp: 2024-01-01 10:30:00
        forced: !!str 2024-01-01
        i: 42
        f: 0.25
        b: yes
        n: ~
        s: hello
        2025: year key
        """,
    )
    data, _ = load_yaml(path)
    assert data == {
        "month": "2024-01",
        "day": "2024-01-01",
        "stamp": "2024-01-01T10:30:00",
        "forced": "2024-01-01",
        "i": 42,
        "f": 0.25,
        "b": True,
        "n": None,
        "s": "hello",
        2025: "year key",
    }


def test_empty_file_is_empty_dict(write):
    assert load_yaml(write("empty.yaml", ""))[0] == {}
    assert load_yaml(write("comments.yaml", "# nothing here\n"))[0] == {}


def test_top_level_must_be_a_mapping(write):
    path = write("list.yaml", "- a\n- b\n")
    lines = report(load_yaml, path)
    assert lines == [
        "invalid config list.yaml (1 problem):",
        "list.yaml:1: the top level must be a mapping of keys to values, not a list",
    ]


def test_duplicate_key_reports_second_occurrence(write):
    path = write(
        "dup.yaml",
        """
        levers:
          cut:
            values: {pilot: 0.1}
          cut:
            values: {pilot: 0.2}
        """,
    )
    lines = report(load_yaml, path)
    assert lines[1] == "dup.yaml:4: levers.cut: duplicate key 'cut' (first defined at line 2)"


def test_python_tags_are_refused_and_nothing_runs(write, tmp_path):
    marker = tmp_path / "pwned"
    path = write(
        "evil.yaml",
        f"""
        name: x
        payload: !!python/object/apply:os.system ["touch {marker}"]
        other: !!python/name:os.system
        """,
    )
    lines = report(load_yaml, path)
    assert not marker.exists()
    assert lines[0] == "invalid config evil.yaml (2 problems):"
    assert lines[1].startswith("evil.yaml:2: payload: tag !!python/object/apply:os.system is not allowed")
    assert lines[2].startswith("evil.yaml:3: other: tag !!python/name:os.system is not allowed")


def test_custom_tag_on_a_mapping_is_refused(write):
    lines = report(load_yaml, write("t.yaml", "a:\n  b: !secret {k: v}\n"))
    assert lines[1].startswith("t.yaml:2: a.b: tag !secret is not allowed")


def test_yaml_syntax_error_has_file_and_line(write):
    path = write(
        "bad.yaml",
        """
        name: x
        levers:
          cut:
            values: [0.1, 0.2
          other: 1
        """,
    )
    lines = report(load_yaml, path)
    assert len(lines) == 2
    assert lines[1].startswith("bad.yaml:5: YAML syntax error:")
    assert "while parsing a flow sequence started at line 4" in lines[1]


def test_bad_indentation_points_at_offending_line(write):
    lines = report(load_yaml, write("indent.yaml", "a: 1\nb: 2\n c: 3\n"))
    assert lines[1] == "indent.yaml:3: YAML syntax error: mapping values are not allowed here"


def test_merge_keys_work_and_explicit_keys_win(write):
    path = write(
        "m.yaml",
        """
        defaults: &d
          pilot: 0.1
          control: 0.0
        levers:
          cut:
            values:
              <<: *d
              pilot: 0.5
        """,
    )
    data, prov = load_yaml(path)
    assert data["levers"]["cut"]["values"] == {"pilot": 0.5, "control": 0.0}
    assert prov[("levers", "cut", "values", "pilot")] == Location("m.yaml", 8)
    # an inherited-by-merge key points at where it was written: the anchor
    assert prov[("levers", "cut", "values", "control")] == Location("m.yaml", 3)


def test_missing_file(write):
    lines = report(load_yaml, "nope.yaml")
    assert lines == ["invalid config nope.yaml (1 problem):", "nope.yaml: file not found"]


# --------------------------------------------------------------------------- #
# resolve: extends
# --------------------------------------------------------------------------- #


def test_extends_chain_of_three_files_with_overrides(write):
    write(
        "configs/base.yaml",
        """
        name: base
        seed: 1
        levers:
          cut:
            description: base lever
            values:
              pilot: 0.1
              control: 0.0
        """,
    )
    write(
        "configs/regional/mid.yaml",
        """
        extends: ../base.yaml
        seed: 2
        levers:
          cut:
            values:
              pilot: 0.2
        """,
    )
    child = write(
        "configs/regional/plan.yaml",
        """
        extends: mid.yaml
        name: plan
        levers:
          cut:
            values:
              control: 0.05
        """,
    )
    data, prov = resolve(child)

    assert "extends" not in data
    assert data == {
        "name": "plan",
        "seed": 2,
        "levers": {"cut": {"description": "base lever", "values": {"pilot": 0.2, "control": 0.05}}},
    }
    assert prov.files == ["configs/base.yaml", "configs/regional/mid.yaml", "configs/regional/plan.yaml"]
    assert prov[("name",)] == Location("configs/regional/plan.yaml", 2)
    assert prov[("seed",)] == Location("configs/regional/mid.yaml", 2)
    assert prov[("levers", "cut", "description")] == Location("configs/base.yaml", 5)
    assert prov[("levers", "cut", "values", "pilot")] == Location("configs/regional/mid.yaml", 6)
    assert prov[("levers", "cut", "values", "control")] == Location("configs/regional/plan.yaml", 6)
    assert ("extends",) not in prov


def test_extends_list_applies_in_order_and_lists_replace(write):
    write("a.yaml", "x: 1\nitems: [1, 2, 3]\nnested: {p: 1, q: 1}\n")
    write("b.yaml", "x: 2\nitems: [9]\nnested: {q: 2}\n")
    child = write("c.yaml", "extends: [a.yaml, b.yaml]\nnested: {r: 3}\n")
    data, prov = resolve(child)
    assert data == {"x": 2, "items": [9], "nested": {"p": 1, "q": 2, "r": 3}}
    assert prov.files == ["a.yaml", "b.yaml", "c.yaml"]
    # the replaced list's extra items must not keep stale locations
    assert ("items", 0) in prov and ("items", 1) not in prov
    assert prov[("items", 0)] == Location("b.yaml", 2)


def test_scalar_replacing_a_mapping_drops_parent_locations(write):
    write("base.yaml", "output:\n  kind: file\n  path: out.csv\n")
    data, prov = resolve(write("child.yaml", "extends: base.yaml\noutput: null\n"))
    assert data == {"output": None}
    assert prov[("output",)] == Location("child.yaml", 2)
    assert ("output", "path") not in prov


def test_extends_cycle_shows_the_chain(write):
    write("configs/a.yaml", "extends: b.yaml\nx: 1\n")
    write("configs/b.yaml", "x: 0\nextends: c.yaml\n")
    write("configs/c.yaml", "extends:\n  - a.yaml\n")
    lines = report(resolve, "configs/a.yaml")
    assert lines == [
        "invalid config configs/a.yaml (1 problem):",
        "configs/c.yaml:2: extends[0]: cycle: configs/a.yaml -> configs/b.yaml -> configs/c.yaml -> configs/a.yaml",
    ]


def test_self_extends_is_a_cycle(write):
    lines = report(resolve, write("self.yaml", "extends: self.yaml\n"))
    assert lines[1] == "self.yaml:1: extends: cycle: self.yaml -> self.yaml"


def test_missing_parent_names_referencing_file_and_line(write):
    write("configs/base.yaml", "seed: 1\nextends: shared/common.yaml\n")
    child = write("configs/plan.yaml", "name: x\nextends: base.yaml\n")
    lines = report(resolve, child)
    assert lines == [
        "invalid config configs/plan.yaml (1 problem):",
        "configs/base.yaml:2: extends: file not found: configs/shared/common.yaml",
    ]


def test_parent_outside_the_cwd_is_shown_absolute(write, tmp_path, monkeypatch):
    write("configs/plan.yaml", "extends: ../shared/base.yaml\n")
    (tmp_path / "work").mkdir()
    monkeypatch.chdir(tmp_path / "work")
    lines = report(resolve, "../configs/plan.yaml")
    missing = tmp_path / "shared" / "base.yaml"
    assert lines[1] == f"../configs/plan.yaml:1: extends: file not found: {missing}"


def test_syntax_error_in_parent_is_reported_under_the_requested_config(write):
    write("base.yaml", "a: [1\n")
    lines = report(resolve, write("child.yaml", "extends: base.yaml\n"))
    assert lines[0] == "invalid config child.yaml (1 problem):"
    assert lines[1].startswith("base.yaml:2: YAML syntax error:")


def test_extends_must_be_paths(write):
    lines = report(resolve, write("x.yaml", "extends: {a: 1}\n"))
    assert lines[1] == "x.yaml:1: extends: must be a file path or a list of file paths (got {'a': 1})"


# --------------------------------------------------------------------------- #
# validate / load: error messages
# --------------------------------------------------------------------------- #


def test_valid_config_loads(write):
    model, data, files = load(write("configs/plan.yaml", PLAN), Plan)
    assert isinstance(model, Plan)
    assert model.levers["assessment_items_cut"].values.pilot == 0.3
    assert data["timeline"]["phases"][1]["name"] == "rollout"
    assert files == ["configs/plan.yaml"]


def test_range_error_on_inherited_key_points_at_parent_file(write):
    write(
        "configs/base.yaml",
        """
        name: base
        levers:
          assessment_items_cut:
            values:
              pilot: 1.3
        """,
    )
    child = write("configs/plan.yaml", "extends: base.yaml\nname: plan\n")
    lines = report(load, child, Plan)
    assert lines == [
        "invalid config configs/plan.yaml (1 problem):",
        "configs/base.yaml:5: levers.assessment_items_cut.values.pilot: "
        "Input should be less than or equal to 1 (got 1.3)",
    ]


def test_unknown_key_did_you_mean(write):
    path = write(
        "configs/plan.yaml",
        """
        name: x
        levers:
          cut:
            values:
              pilto: 0.3
        """,
    )
    lines = report(load, path, Plan)
    assert "configs/plan.yaml:5: levers.cut.values.pilto: unknown key 'pilto' (did you mean 'pilot'?)" in lines
    # the correctly spelled key is then missing, reported at its parent's line
    assert "configs/plan.yaml:4: levers.cut.values.pilot: required key 'pilot' is missing" in lines


def test_unknown_top_level_key_did_you_mean(write):
    lines = report(load, write("p.yaml", "name: x\nlevres: {}\n"), Plan)
    assert lines[1] == "p.yaml:2: levres: unknown key 'levres' (did you mean 'levers'?)"


def test_unknown_key_lists_allowed_keys_when_nothing_is_close(write):
    path = write(
        "p.yaml",
        """
        name: x
        timeline:
          phases: []
          budget: 3
        """,
    )
    lines = report(load, path, Plan)
    assert lines[1] == "p.yaml:4: timeline.budget: unknown key 'budget' (allowed: phases)"


def test_unknown_key_inside_union_member_uses_that_members_keys(write):
    path = write("p.yaml", "name: x\noutput:\n  kind: db\n  url: sqlite://\n  tabel: runs\n")
    lines = report(load, path, Plan)
    # one message, not one per union member
    assert lines == [
        "invalid config p.yaml (2 problems):",
        "p.yaml:2: output.table: required key 'table' is missing",
        "p.yaml:5: output.tabel: unknown key 'tabel' (did you mean 'table'?)",
    ]


def test_union_with_no_matching_member_gives_one_message(write):
    lines = report(load, write("p.yaml", "name: x\noutput: results.csv\n"), Plan)
    assert lines == [
        "invalid config p.yaml (1 problem):",
        "p.yaml:2: output: Input should be a valid dictionary or instance of FileOutput, "
        "or a valid dictionary or instance of DbOutput (got 'results.csv')",
    ]


def test_type_error_shows_the_input(write):
    lines = report(load, write("p.yaml", "name: x\nseed: lots\n"), Plan)
    assert lines[1] == "p.yaml:2: seed: Input should be a valid integer, unable to parse string as an integer (got 'lots')"


def test_wrong_kind_of_collection_is_named(write):
    lines = report(load, write("p.yaml", "name: x\nlevers: [a, b]\n"), Plan)
    assert lines[1] == "p.yaml:2: levers: Input should be a valid dictionary (got a list)"


def test_invalid_mapping_key(write):
    lines = report(load, write("p.yaml", "name: x\ntargets:\n  year2030: 0.5\n"), Plan)
    assert lines[1] == (
        "p.yaml:3: targets.year2030: invalid key 'year2030': "
        "Input should be a valid integer, unable to parse string as an integer"
    )


def test_missing_top_level_key_uses_root_file_without_line(write):
    lines = report(load, write("p.yaml", "seed: 3\n"), Plan)
    assert lines[1] == "p.yaml: name: required key 'name' is missing"


def test_validator_sub_path_convention_points_at_the_offending_item(write):
    path = write(
        "configs/plan.yaml",
        """
        name: x
        timeline:
          phases:
            - name: pilot
              start: 2023
              end: 2026
            - name: rollout
              start: 2025
              end: 2030
        """,
    )
    lines = report(load, path, Plan)
    assert lines == [
        "invalid config configs/plan.yaml (1 problem):",
        "configs/plan.yaml:8: timeline.phases[1].start: "
        "phase 'rollout' starts in 2025, before phase 'pilot' ends in 2026",
    ]


def test_field_validator_error_is_located_at_the_field(write):
    path = write("p.yaml", "name: x\ntimeline:\n  phases:\n    - name: scale up\n      start: 1\n      end: 2\n")
    lines = report(load, path, Plan)
    assert lines[1] == "p.yaml:4: timeline.phases[0].name: phase names may not contain spaces (got 'scale up')"


def test_validator_errors_in_dict_of_models_and_bracket_sub_paths(write):
    class Checked(BaseModel):
        model_config = ConfigDict(extra="forbid")
        phases: list[Phase]

        @model_validator(mode="after")
        def check(self):
            raise ValueError("@phases[0].end: too late")

    class Root(BaseModel):
        model_config = ConfigDict(extra="forbid")
        regions: dict[str, Checked]

    path = write("r.yaml", "regions:\n  north:\n    phases:\n      - name: a\n        start: 1\n        end: 9\n")
    lines = report(load, path, Root)
    assert lines[1] == "r.yaml:6: regions.north.phases[0].end: too late"


def test_multiple_errors_all_reported_in_file_then_line_order(write):
    write(
        "configs/base.yaml",
        """
        name: base
        levers:
          cut:
            values:
              pilot: -0.5
        """,
    )
    child = write(
        "configs/plan.yaml",
        """
        extends: base.yaml
        seed: many
        levers:
          cut:
            descripton: typo
        timeline:
          phases:
            - name: a
              start: 2023
        """,
    )
    lines = report(load, child, Plan)
    assert lines == [
        "invalid config configs/plan.yaml (4 problems):",
        "configs/plan.yaml:2: seed: Input should be a valid integer, unable to parse string as an integer (got 'many')",
        "configs/plan.yaml:5: levers.cut.descripton: unknown key 'descripton' (did you mean 'description'?)",
        "configs/plan.yaml:8: timeline.phases[0].end: required key 'end' is missing",
        "configs/base.yaml:5: levers.cut.values.pilot: Input should be greater than or equal to 0 (got -0.5)",
    ]


def test_yaml_boolean_key_gets_a_hint(write):
    lines = report(load, write("p.yaml", "name: x\non: 1\n"), Plan)
    assert lines[1] == (
        "p.yaml:2: [True]: key True is not a string "
        "(YAML reads unquoted yes/no/on/off as true/false; quote the key)"
    )


def test_validate_accepts_plain_provenance_and_pathlike_root(write):
    data, prov = load_yaml(write("p.yaml", "name: x\nseed: [1]\n"))
    lines = report(validate, data, dict(prov), Plan, root_file=Path("p.yaml"))
    assert lines == ["invalid config p.yaml (1 problem):", "p.yaml:2: seed: Input should be a valid integer (got a list)"]


# --------------------------------------------------------------------------- #
# ConfigError itself
# --------------------------------------------------------------------------- #


def test_config_error_attributes_and_pickling():
    problems = [Problem(Location("a.yaml", 3), ("x", 0, "y"), "bad"), Problem(Location("a.yaml"), (), "worse")]
    err = ConfigError("a.yaml", problems)
    assert err.file == "a.yaml" and err.problems == problems
    assert str(err) == "invalid config a.yaml (2 problems):\na.yaml:3: x[0].y: bad\na.yaml: worse"
    clone = pickle.loads(pickle.dumps(err))
    assert str(clone) == str(err)


def test_format_path():
    assert format_path(("levers", "cut", "values", "pilot")) == "levers.cut.values.pilot"
    assert format_path(("timeline", "phases", 2, "start")) == "timeline.phases[2].start"
    assert format_path(("weird", "a.b")) == "weird['a.b']"

"""Loading of YAML scenario configs: safe parsing, ``extends`` inheritance, validation.

This module owns everything between a YAML file on disk and a validated pydantic
model, and in particular the quality of the error messages users see:

``load_yaml(path)``
    Parses one file with PyYAML's SafeLoader *composer* and builds Python objects
    from the node tree itself, so no tag can construct an arbitrary object: any tag
    other than the plain YAML ones (``!!str``, ``!!int``, ``!!float``, ``!!bool``,
    ``!!null``, ``!!timestamp``, ``!!map``, ``!!seq``) is refused. Scalars keep
    their YAML 1.1 types, except that dates and timestamps become ISO strings
    (``2024-01`` was a string already; ``2024-01-01`` would otherwise be a date).
    Merge keys (``<<: *defaults``) work as in YAML: explicit keys win.
    Resource limits keep loading fast and small whatever the file holds: at most
    ``MAX_NODES`` values once aliases are expanded (an "alias bomb" of a few hundred
    bytes would otherwise expand to billions), nesting at most ``MAX_DEPTH`` deep,
    files of at most ``MAX_FILE_BYTES``; each refused with the file and line.
``resolve(path)``
    Follows a top-level ``extends:`` (a path relative to the file that contains
    it, or a list of such paths applied in order). Parents are resolved first and
    the child is deep-merged on top: mappings merge key by key, anything else
    (scalars, lists, null) replaces. The ``extends`` key is removed, and so is a
    parent's ``labels`` and ``description`` (a design's display text belongs to the file that names it). Cycles and
    missing parents are reported at the referencing file's ``extends`` line (for
    a block list, the line of the offending item), and so are chains longer than
    ``MAX_EXTENDS_DEPTH`` and more than ``MAX_FILES`` files read for one config. The
    value limit counts every file read for the config.
``validate(data, provenance, model_cls, root_file=...)``
    Runs a pydantic v2 model and turns a ``ValidationError`` into one
    ``ConfigError`` listing every problem as ``file:line: key.path: message``,
    located in the file that set the key (possibly a parent). Keys that are not
    written anywhere (missing required keys) are located at their nearest written
    ancestor, else at the requested file with no line. Unknown keys get a
    did-you-mean or the list of allowed keys; of pydantic's one-error-list-per-
    union-member, only the member that fits the input best is kept. Problems are
    ordered: the requested file first, then other files by name, each by line.
``load(path, model_cls)``
    ``resolve`` + ``validate``; returns ``(model, resolved_dict, files)``.

Provenance
    Key paths are tuples of mapping keys and list indices, e.g.
    ``("levers", "cut", "values", "pilot")`` or ``("timeline", "phases", 2)``.
    A provenance map sends each key path to ``Location(file, line)``: the 1-based
    line of the key (of the item, for list entries) in the file whose value won
    the merge. ``load_yaml`` and ``resolve`` return a ``Provenance``, a dict
    subclass whose ``.files`` attribute lists the files that contributed, in
    resolution order (parents before children, the requested file last; each
    file once), ready to be written to a run manifest.

File names in messages
    The requested file appears exactly as the caller spelled it; parent files are
    shown relative to the current directory when they are under it, else absolute.

Validator convention
    A ``ValueError`` raised in a ``@field_validator`` or ``@model_validator`` is
    reported at the location pydantic gives it (the field, or the model's key).
    To point at a more precise place, start the message with ``@<sub.path>: ``;
    the path is relative to the validator's model (or field) and may use dots
    and list indices (``@phases.2.start: `` or ``@phases[2].start: ``)::

        raise ValueError(f"@phases.{i}.start: phase {p.name!r} starts before the previous one ends")

    is reported as ``plan.yaml:31: timeline.phases[2].start: phase 'scale-up' ...``.
"""

from __future__ import annotations

import collections
import collections.abc as cabc
import copy
import dataclasses
import datetime as dt
import difflib
import os
import re
import types
import typing
from pathlib import Path
from typing import Any, TypeVar, Union, get_args, get_origin

import yaml
from pydantic import AliasChoices, AliasPath, BaseModel, RootModel, ValidationError

__all__ = [
    "ConfigError",
    "Location",
    "Problem",
    "Provenance",
    "format_path",
    "load",
    "load_yaml",
    "resolve",
    "validate",
]

ModelT = TypeVar("ModelT", bound=BaseModel)
KeyPath = tuple  # tuple of mapping keys (usually str) and list indices (int)

# Resource limits. A scenario and its parents hold a few hundred values, nested at most five deep;
# these limits only stop files that would take minutes or gigabytes to load.
MAX_NODES = 100_000  # values (scalars, mappings, lists) built for one config, each use of an alias in full
MAX_DEPTH = 100  # nesting of mappings and lists (PyYAML's composer and our builder recurse)
MAX_FILE_BYTES = 1_000_000  # PyYAML's pure-Python parser reads ~100 kB/s; a scenario is ~10 kB
MAX_FILES = 200  # files read for one config through `extends`, repeats counted
MAX_EXTENDS_DEPTH = 50  # length of an `extends` chain


# --------------------------------------------------------------------------- #
# Public value types
# --------------------------------------------------------------------------- #


@dataclasses.dataclass(frozen=True)
class Location:
    """Where something is written: a file as displayed to the user, and a 1-based line."""

    file: str
    line: int | None = None

    def __str__(self) -> str:
        return self.file if self.line is None else f"{self.file}:{self.line}"


@dataclasses.dataclass(frozen=True)
class Problem:
    """One thing wrong with a config, rendered as ``file:line: key.path: message``."""

    location: Location
    path: KeyPath
    message: str

    def __str__(self) -> str:
        # Continuation lines are indented so each problem still starts a line with file:line.
        message = self.message.replace("\n", "\n    ")
        if self.path:
            return f"{self.location}: {format_path(self.path)}: {message}"
        return f"{self.location}: {message}"


class ConfigError(Exception):
    """A config could not be loaded. ``str()`` is the full, multi-line report.

    Attributes: ``file`` (the requested config, as the caller spelled it),
    ``problems`` (list of ``Problem``, in report order) and ``what`` (the kind of
    file, for the header: "config", "experiment spec").
    """

    def __init__(self, file: str | os.PathLike, problems: typing.Iterable[Problem], what: str = "config"):
        self.file = os.fspath(file)
        self.problems = list(problems)
        self.what = what
        # Passing them to Exception keeps the error picklable (worker processes).
        super().__init__(self.file, self.problems, what)

    def __str__(self) -> str:
        n = len(self.problems)
        header = f"invalid {self.what} {self.file} ({n} problem{'' if n == 1 else 's'}):"
        return "\n".join([header, *(str(p) for p in self.problems)])


class Provenance(dict):
    """``dict[key path, Location]`` plus ``files``: contributing files in resolution order."""

    def __init__(self, *args: Any, files: typing.Iterable[str] = (), **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.files: list[str] = list(files)


def format_path(path: KeyPath) -> str:
    """Render a key path the way users read it: ``levers.cut.values[0]``."""
    out = ""
    for seg in path:
        if isinstance(seg, int) and not isinstance(seg, bool):
            out += f"[{seg}]"
        elif isinstance(seg, str) and re.fullmatch(r"[^.\[\]\s]+", seg):
            out += f".{seg}" if out else seg
        else:  # keys that would be ambiguous in dotted form: '', 'a.b', True, None...
            out += f"[{seg!r}]"
    return out


# --------------------------------------------------------------------------- #
# Parsing one file
# --------------------------------------------------------------------------- #

_TAG = "tag:yaml.org,2002:"
_SCALAR_TAGS = frozenset(_TAG + t for t in ("str", "int", "float", "bool", "null", "timestamp"))
_MAP_TAG, _SEQ_TAG, _MERGE_TAG, _NULL_TAG = _TAG + "map", _TAG + "seq", _TAG + "merge", _TAG + "null"
_INVALID = object()  # a node that could not be turned into a value (a problem was recorded)


def load_yaml(path: str | os.PathLike) -> tuple[dict, Provenance]:
    """Parse one YAML file into plain data and a provenance map. Raises ConfigError."""
    display = os.fspath(path)
    return _load_file(Path(display), display, _Budget())


class _Budget:
    """What loading one config has used so far (values built, files read), against the limits."""

    def __init__(self) -> None:
        self.nodes = 0
        self.files = 0


class _TooMuch(Exception):
    """A resource limit was hit at a line: stops composing or building at once."""

    def __init__(self, line: int | None, path: KeyPath, message: str):
        super().__init__(message)
        self.line, self.path, self.message = line, path, message


def _depth_message(expanded: bool = False) -> str:
    where = " once aliases (*name) are expanded" if expanded else ""
    return (f"mappings and lists are nested more than {MAX_DEPTH} levels deep{where}; refused "
            "(a scenario nests about five levels)")


class _Composer(yaml.SafeLoader):
    """PyYAML's SafeLoader (composing only) with a depth limit: its composer recurses once per level."""

    def __init__(self, stream: str):
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent, index):  # noqa: ANN001 (PyYAML's signature)
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise _TooMuch(self.peek_event().start_mark.line + 1, (), _depth_message())
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def _compose(text: str, display: str) -> yaml.Node | None:
    loader = _Composer(text)
    try:
        return loader.get_single_node()  # composes nodes only; constructs nothing
    except _TooMuch as exc:
        raise ConfigError(display, [Problem(Location(display, exc.line), (), exc.message)]) from None
    except RecursionError:  # the depth limit should come first; a low recursion limit could still get here
        line = loader.get_mark().line + 1
        raise ConfigError(display, [Problem(Location(display, line), (), _depth_message())]) from None
    finally:
        loader.dispose()


def _load_file(path: Path, display: str, budget: _Budget) -> tuple[dict, Provenance]:
    text = _read_text(path, display)
    budget.files += 1
    try:
        root = _compose(text, display)
    except yaml.MarkedYAMLError as exc:
        raise ConfigError(display, [_syntax_problem(exc, display)]) from None
    except yaml.YAMLError as exc:  # ReaderError (control characters) carries no mark
        position = getattr(exc, "position", None)
        line = text.count("\n", 0, position) + 1 if isinstance(position, int) else None
        raise ConfigError(display, [Problem(Location(display, line), (), f"YAML error: {exc}")]) from None

    builder = _NodeBuilder(display, budget)
    try:
        data = None if root is None else builder.build(root, ())
    except _TooMuch as exc:
        problem = Problem(Location(display, exc.line), exc.path, exc.message)
        raise ConfigError(display, [*builder.problems, problem]) from None
    except RecursionError:
        problem = Problem(Location(display, builder.line), (), _depth_message(expanded=True))
        raise ConfigError(display, [*builder.problems, problem]) from None
    if builder.problems:
        raise ConfigError(display, builder.problems)
    if data is None:  # empty file, only comments, or a bare '---'
        return {}, builder.provenance
    if not isinstance(data, dict):
        line = root.start_mark.line + 1
        kind = "a list" if isinstance(data, list) else f"the value {data!r}"
        message = f"the top level must be a mapping of keys to values, not {kind}"
        raise ConfigError(display, [Problem(Location(display, line), (), message)])
    return data, builder.provenance


def _read_text(path: Path, display: str) -> str:
    try:
        size = path.stat().st_size if path.is_file() else 0
        if size > MAX_FILE_BYTES:
            message = (f"file is {size / 1e6:,.1f} MB; config files may be at most {MAX_FILE_BYTES / 1e6:g} MB "
                       "(a scenario is a few kB)")
            raise ConfigError(display, [Problem(Location(display), (), message)])
        return path.read_text(encoding="utf-8-sig")  # -sig: tolerate a BOM from Windows editors
    except FileNotFoundError:
        message = "file not found"
    except IsADirectoryError:
        message = "is a directory, not a YAML file"
    except (OSError, UnicodeDecodeError) as exc:
        message = f"cannot read file: {exc}"
    raise ConfigError(display, [Problem(Location(display), (), message)])


def _syntax_problem(exc: yaml.MarkedYAMLError, display: str) -> Problem:
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark else None
    message = exc.problem or "invalid YAML"
    if exc.context:
        # The context often names where an unclosed construct began, which is
        # where the user has to look (the problem line may be past the end).
        started = exc.context_mark.line + 1 if exc.context_mark else None
        where = f" started at line {started}" if started and started != line else ""
        message = f"{message} ({exc.context}{where})"
    return Problem(Location(display, line), (), f"YAML syntax error: {message}")


def _tag_name(tag: str) -> str:
    return "!!" + tag[len(_TAG):] if tag.startswith(_TAG) else tag


class _NodeBuilder:
    """Builds plain Python data from one file's node tree.

    Records the line of every key / list item in ``provenance`` and collects
    problems (refused tags, duplicate keys, ...) instead of stopping at the first,
    so a user sees all of them at once.
    """

    def __init__(self, display: str, budget: _Budget):
        self.file = display
        self.provenance = Provenance(files=[display])
        self.problems: list[Problem] = []
        self.line: int | None = None  # line of the node being built (for a RecursionError)
        self._budget = budget
        self._constructor = yaml.constructor.SafeConstructor()
        self._building: set[int] = set()  # collection nodes on the stack: catches `&a [*a]`

    def build(self, node: yaml.Node, path: KeyPath) -> Any:
        value = self._build(node, path)
        return None if value is _INVALID else value

    def _build(self, node: yaml.Node, path: KeyPath) -> Any:
        # Aliases share nodes, so the tree built can be far larger and deeper than the text: count as we go.
        self.line = node.start_mark.line + 1
        self._budget.nodes += 1
        if self._budget.nodes > MAX_NODES:
            message = (f"more than {MAX_NODES:,} values once aliases (*name) are expanded; refused "
                       "(an 'alias bomb'? a scenario has a few hundred values)")
            raise _TooMuch(self._use_line(path), path, message)
        if len(path) >= MAX_DEPTH:
            raise _TooMuch(self._use_line(path), path[:3], _depth_message(expanded=True))
        if not self._tag_allowed(node, path):
            return _INVALID
        if isinstance(node, yaml.ScalarNode):
            return self._scalar(node, path)
        if id(node) in self._building:
            self._problem(node, path, "an alias refers to the collection that contains it (recursive alias)")
            return _INVALID
        self._building.add(id(node))
        try:
            if isinstance(node, yaml.MappingNode):
                return self._mapping(node, path)
            return self._sequence(node, path)
        finally:
            self._building.discard(id(node))

    def _use_line(self, path: KeyPath) -> int | None:
        """The line of the top-level key being built: a node's own line may be inside the anchor that an
        alias repeats, far from where the alias is used."""
        top = self.provenance.get(path[:1]) if path else None
        return top.line if top is not None else self.line

    def _problem(self, node: yaml.Node, path: KeyPath, message: str) -> None:
        self.problems.append(Problem(self._loc(node), path, message))

    def _loc(self, node: yaml.Node) -> Location:
        return Location(self.file, node.start_mark.line + 1)

    def _tag_allowed(self, node: yaml.Node, path: KeyPath) -> bool:
        # The composer leaves explicit tags (`!!python/object/apply:...`, `!foo`)
        # on the node; we only ever construct the plain YAML types, so refusing
        # everything else here is what makes loading unable to run code.
        if isinstance(node, yaml.ScalarNode):
            allowed = node.tag in _SCALAR_TAGS
        elif isinstance(node, yaml.MappingNode):
            allowed = node.tag == _MAP_TAG
        else:
            allowed = node.tag == _SEQ_TAG
        if not allowed:
            self._problem(
                node,
                path,
                f"tag {_tag_name(node.tag)} is not allowed; configs may only contain mappings, "
                "lists, strings, numbers, booleans, null and dates",
            )
        return allowed

    def _scalar(self, node: yaml.ScalarNode, path: KeyPath) -> Any:
        try:
            value = self._constructor.construct_object(node)
        except Exception:  # e.g. `!!int abc`: the constructors raise assorted errors
            self._problem(node, path, f"cannot read {node.value!r} as {_tag_name(node.tag)}")
            return _INVALID
        if isinstance(value, (dt.date, dt.datetime)):
            return value.isoformat()  # downstream code expects dates as strings
        return value

    def _sequence(self, node: yaml.SequenceNode, path: KeyPath) -> list:
        items = []
        for index, item in enumerate(node.value):
            item_path = path + (index,)
            self.provenance[item_path] = self._loc(item)
            items.append(self.build(item, item_path))
        return items

    def _mapping(self, node: yaml.MappingNode, path: KeyPath) -> dict:
        result: dict = {}
        first_line: dict = {}
        merged: dict = {}
        merged_provenance: dict = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                self._merge_key(value_node, path, merged, merged_provenance)
                continue
            key = self._key(key_node, path)
            if key is _INVALID:
                continue
            key_path = path + (key,)
            line = key_node.start_mark.line + 1
            if key in first_line:
                message = f"duplicate key {key!r} (first defined at line {first_line[key]})"
                self._problem(key_node, key_path, message)
                continue
            first_line[key] = line
            self.provenance[key_path] = Location(self.file, line)
            result[key] = self.build(value_node, key_path)
        # Keys brought in by `<<:` are defaults: explicitly written keys win.
        for key, value in merged.items():
            if key not in result:
                result[key] = value
                _copy_subtree(self.provenance, merged_provenance, path + (key,), value)
        return result

    def _key(self, node: yaml.Node, path: KeyPath) -> Any:
        if not isinstance(node, yaml.ScalarNode):
            message = "mapping keys must be plain values (strings or numbers), not lists or mappings"
            self._problem(node, path, message)
            return _INVALID
        if not self._tag_allowed(node, path):
            return _INVALID
        return self._scalar(node, path)

    def _merge_key(self, node: yaml.Node, path: KeyPath, merged: dict, merged_provenance: dict) -> None:
        sources = node.value if isinstance(node, yaml.SequenceNode) else [node]
        # In `<<: [*a, *b]` earlier mappings take precedence, so apply them last.
        for source in reversed(sources):
            if not isinstance(source, yaml.MappingNode):
                self._problem(source, path, "'<<' (merge key) needs a mapping or a list of mappings")
                continue
            # Build into a scratch provenance map: only the keys not written
            # explicitly in this mapping may keep these locations.
            outer, self.provenance = self.provenance, Provenance()
            try:
                value = self.build(source, path)
            finally:
                scratch, self.provenance = self.provenance, outer
            for key, item in (value or {}).items():
                if key in merged:
                    _drop_subtree(merged_provenance, path + (key,), merged[key])
                merged[key] = item
                _copy_subtree(merged_provenance, scratch, path + (key,), item)


# --------------------------------------------------------------------------- #
# Inheritance (`extends`)
# --------------------------------------------------------------------------- #

_EXTENDS = "extends"
_NOT_INHERITED = ("labels", "description")  # display text belongs to the file that names a design


def resolve(path: str | os.PathLike) -> tuple[dict, Provenance]:
    """Load ``path`` and its ``extends`` ancestors, merged. Raises ConfigError.

    The returned ``Provenance.files`` lists the files used, parents first.
    """
    display = os.fspath(path)
    try:
        return _resolve(Path(display), display, chain=(), budget=_Budget())
    except ConfigError as exc:
        if exc.file == display:
            raise
        # A problem in a parent file is still a problem with the config the user asked for.
        raise ConfigError(display, exc.problems) from None


def _resolve(path: Path, display: str, chain: tuple[tuple[Path, str], ...],
             budget: _Budget) -> tuple[dict, Provenance]:
    data, provenance = _load_file(path, display, budget)
    chain = chain + ((path.resolve(), display),)
    merged: dict = {}
    merged_provenance = Provenance()
    files: list[str] = []
    for target, where, key_path in _pop_extends(data, provenance, display):
        parent = path.parent / target  # relative to the file that says `extends`
        parent_display = _display_path(parent)
        real = parent.resolve()
        for start, (seen, _) in enumerate(chain):
            if seen == real:
                cycle = " -> ".join([shown for _, shown in chain[start:]] + [chain[start][1]])
                raise ConfigError(display, [Problem(where, key_path, f"cycle: {cycle}")])
        if not parent.is_file():
            raise ConfigError(display, [Problem(where, key_path, f"file not found: {parent_display}")])
        if len(chain) >= MAX_EXTENDS_DEPTH:
            message = f"more than {MAX_EXTENDS_DEPTH} files extend one another in a chain; refused"
            raise ConfigError(display, [Problem(where, key_path, message)])
        if budget.files >= MAX_FILES:
            message = f"more than {MAX_FILES} files to read through 'extends' (repeats counted); refused"
            raise ConfigError(display, [Problem(where, key_path, message)])
        parent_data, parent_provenance = _resolve(parent, parent_display, chain, budget)
        _overlay(merged, merged_provenance, parent_data, parent_provenance)
        files.extend(f for f in parent_provenance.files if f not in files)
    # A design's display labels belong to the file that names it: an extending config is another design.
    for key in _NOT_INHERITED:
        merged.pop(key, None)
    _overlay(merged, merged_provenance, data, provenance)
    merged_provenance.files = files + [display]
    return merged, merged_provenance


def _pop_extends(data: dict, provenance: Provenance, display: str) -> list[tuple[str, Location, KeyPath]]:
    """Remove ``extends`` from one file's data; return (target, location, key path) per parent."""
    if _EXTENDS not in data:
        return []
    value = data.pop(_EXTENDS)
    key_location = provenance.get((_EXTENDS,), Location(display))
    locations = {k: provenance.pop(k) for k in list(provenance) if k[:1] == (_EXTENDS,)}
    if value is None:
        return []
    if isinstance(value, str):
        entries = [(value, key_location, (_EXTENDS,))]
    elif isinstance(value, list):
        entries = [
            (item, locations.get((_EXTENDS, i), key_location), (_EXTENDS, i)) for i, item in enumerate(value)
        ]
    else:
        message = f"must be a file path or a list of file paths (got {_short_repr(value)})"
        raise ConfigError(display, [Problem(key_location, (_EXTENDS,), message)])
    bad = [
        Problem(where, key_path, f"must be a file path (got {_short_repr(target)})")
        for target, where, key_path in entries
        if not isinstance(target, str) or not target.strip()
    ]
    if bad:
        raise ConfigError(display, bad)
    return entries


def _display_path(path: Path) -> str:
    absolute = Path(os.path.abspath(path))  # abspath, not resolve(): keep the user's symlinks
    try:
        return str(absolute.relative_to(os.getcwd()))
    except ValueError:
        return str(absolute)


def _overlay(dst: dict, dst_prov: dict, src: dict, src_prov: dict, prefix: KeyPath = ()) -> None:
    """Deep-merge ``src`` onto ``dst`` in place, keeping provenance in step.

    Mappings merge key by key; any other value replaces, and then none of the
    replaced value's locations may survive (they would point at dead lines).
    """
    for key, value in src.items():
        path = prefix + (key,)
        old = dst.get(key)
        if isinstance(value, dict) and isinstance(old, dict):
            _overlay(old, dst_prov, value, src_prov, path)
        else:
            if isinstance(old, (dict, list)):
                _drop_subtree(dst_prov, path, old)
            dst[key] = value
            if isinstance(value, (dict, list)):
                _copy_subtree(dst_prov, src_prov, path, value)
        if path in src_prov:  # the child's mention of a key is the nearest place to fix it
            dst_prov[path] = src_prov[path]


def _subtree_paths(path: KeyPath, value: Any) -> list[KeyPath]:
    """``path`` and the key path of everything inside ``value`` (mapping keys, list items).

    Provenance has an entry for each of these; walking the value costs its size, where scanning the
    whole map for the prefix would cost the map's size for every key merged (quadratic)."""
    out = [path]
    stack = [(path, value)]
    while stack:
        prefix, node = stack.pop()
        items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
        for key, child in items:
            child_path = prefix + (key,)
            out.append(child_path)
            if isinstance(child, (dict, list)):
                stack.append((child_path, child))
    return out


def _drop_subtree(provenance: dict, path: KeyPath, value: Any) -> None:
    """Forget the locations of ``value`` (held at ``path``) and of everything inside it."""
    for key in _subtree_paths(path, value):
        provenance.pop(key, None)


def _copy_subtree(dst: dict, src: dict, path: KeyPath, value: Any) -> None:
    """Copy from ``src`` the locations of ``value`` (held at ``path``) and of everything inside it."""
    for key in _subtree_paths(path, value):
        if key in src:
            dst[key] = src[key]


# --------------------------------------------------------------------------- #
# Validation
# --------------------------------------------------------------------------- #


def load(path: str | os.PathLike, model_cls: type[ModelT], base: dict | None = None,
         prepare: typing.Callable[[dict, Provenance, str], dict] | None = None) -> tuple[ModelT, dict, list[str]]:
    """Resolve and validate a config: ``(model instance, merged dict, files in resolution order)``.

    ``base`` is a layer under every file (a scenario's levers at their registry defaults): the files
    override it key by key, as a file overrides the one it extends. ``prepare(data, provenance, path)``
    may rewrite the merged data before it is validated (a scenario reads its county table there; it may
    add the files it reads to ``provenance.files``)."""
    data, provenance = resolve(path)
    if base:
        merged, merged_provenance = copy.deepcopy(base), Provenance(files=provenance.files)
        _overlay(merged, merged_provenance, data, provenance)
        data = {key: merged[key] for key in [*data, *(k for k in merged if k not in data)]}  # the files' order
        provenance = merged_provenance
    if prepare is not None:
        data = prepare(data, provenance, os.fspath(path))
    model = validate(data, provenance, model_cls, root_file=os.fspath(path))
    return model, data, list(provenance.files)


def validate(
    data: dict, provenance: dict, model_cls: type[ModelT], *, root_file: str | os.PathLike
) -> ModelT:
    """Validate ``data`` with ``model_cls``; on failure raise one ConfigError listing every problem."""
    try:
        return model_cls.model_validate(data)
    except ValidationError as exc:
        root_file = os.fspath(root_file)
        errors = _collapse_unions([_Err.from_pydantic(e, model_cls) for e in exc.errors(include_url=False)])
        problems = [_to_problem(e, data, provenance, root_file) for e in errors]
        raise ConfigError(root_file, _ordered(problems, root_file)) from exc


_EXTRA_TYPES = frozenset({"extra_forbidden", "unexpected_keyword_argument"})
# Error types meaning "the input is not even the right kind of thing". Inside a
# union they tell us the user did not mean that member.
_SHAPE_TYPES = frozenset(
    {"literal_error", "enum", "none_required", "is_instance_of", "is_subclass_of", "int_from_float",
     "union_tag_invalid", "union_tag_not_found", "dataclass_exact_type"}
)


def _is_shape_error(error_type: str) -> bool:
    return error_type in _SHAPE_TYPES or error_type.endswith(("_type", "_parsing"))


@dataclasses.dataclass
class _Err:
    """A pydantic error re-expressed in terms of the user's data."""

    type: str
    message: str
    input: Any
    path: KeyPath  # key path in the config data (union member names removed)
    tags: tuple[tuple[KeyPath, str], ...] = ()  # (data path of a union, member pydantic tried)
    key_error: bool = False  # the problem is with a mapping key itself, not its value
    allowed_keys: list[str] | None = None  # for unknown keys: what the model accepts there

    @classmethod
    def from_pydantic(cls, error: dict, model_cls: type) -> _Err:
        loc = tuple(error["loc"])
        key_error = bool(loc) and loc[-1] == "[key]"  # pydantic's marker for invalid dict keys
        if key_error:
            loc = loc[:-1]
        if error["type"] == "invalid_key" and loc:
            # A non-string key in a model's input: pydantic gives the key's
            # position among the mapping's items; the key itself is the input.
            loc = loc[:-1] + (error.get("input"),)
            key_error = True
        extra = error["type"] in _EXTRA_TYPES
        tag_positions, end_type = _trace(model_cls, loc[:-1] if extra else loc)
        path: list = []
        tags = []
        for i, seg in enumerate(loc):
            if i in tag_positions:
                tags.append((tuple(path), str(seg)))
            else:
                path.append(seg)
        return cls(
            type=error["type"],
            message=error["msg"],
            input=error.get("input"),
            path=tuple(path),
            tags=tuple(tags),
            key_error=key_error,
            allowed_keys=_allowed_keys(end_type) if extra else None,
        )


def _collapse_unions(errors: list[_Err], depth: int = 0) -> list[_Err]:
    """Keep one member's errors per union, so the user sees what they probably meant.

    Pydantic reports a failed union as one error list per member. We keep the
    member whose errors show the input had the right shape (then the fewest
    errors); if no member fits, the member messages are merged into one.
    """
    out: list[_Err] = []
    unions: dict[KeyPath, list[_Err]] = {}
    for err in errors:
        if len(err.tags) > depth:
            unions.setdefault(err.tags[depth][0], []).append(err)
        else:
            out.append(err)
    for point, union_errors in unions.items():
        by_member: dict[str, list[_Err]] = {}
        for err in union_errors:
            by_member.setdefault(err.tags[depth][1], []).append(err)
        fitting = [
            member for member, errs in by_member.items()
            if any(e.path != point or not _is_shape_error(e.type) for e in errs)
        ]
        if fitting:
            best = min(fitting, key=lambda m: len(by_member[m]))  # min() keeps the first on ties
            out.extend(_collapse_unions(by_member[best], depth + 1))
        else:
            out.append(_merge_union_messages(point, union_errors))
    return out


def _merge_union_messages(point: KeyPath, errors: list[_Err]) -> _Err:
    prefix = "Input should be "
    messages = list(dict.fromkeys(e.message for e in errors))
    if all(m.startswith(prefix) for m in messages):
        # "a valid integer, unable to parse string as an integer" -> "a valid integer"
        parts = dict.fromkeys(re.sub(r", unable to .*$", "", m[len(prefix):]) for m in messages)
        message = prefix + ", or ".join(parts)
    else:
        message = "; or ".join(messages)
    first = errors[0]
    return _Err(type="union_type", message=message, input=first.input, path=point)


def _to_problem(err: _Err, data: dict, provenance: dict, root_file: str) -> Problem:
    path, message = err.path, err.message
    if err.type in _EXTRA_TYPES:
        message = _unknown_key_message(path[-1], err.allowed_keys)
    elif err.type.startswith("missing") and path and isinstance(path[-1], str):
        message = f"required key {path[-1]!r} is missing"
    elif err.type == "invalid_key" and path:
        message = f"key {path[-1]!r} is not a string ({_quote_hint(path[-1])})"
    elif err.key_error and path:
        message = f"invalid key {path[-1]!r}: {message}"
    else:
        message = re.sub(r"^(Value error|Assertion failed), ", "", message)
        sub_path = re.match(r"@([^\s:]+):\s*(.*)\Z", message, re.S)
        if sub_path:  # the validator points at a key below its own location
            path = path + _parse_sub_path(sub_path.group(1), _lookup(data, path))
            message = sub_path.group(2)
        elif _is_scalar(err.input):
            message += f" (got {_short_repr(err.input)})"
        elif err.type.endswith("_type") and isinstance(err.input, (dict, list)):
            message += f" (got a {'mapping' if isinstance(err.input, dict) else 'list'})"
    return Problem(_locate(path, provenance, root_file), path, message)


def _unknown_key_message(key: Any, allowed: list[str] | None) -> str:
    message = f"unknown key {key!r}"
    if not isinstance(key, str):
        return message + f" ({_quote_hint(key)})"
    if allowed is None:
        return message
    if not allowed:
        return message + " (no keys are allowed here)"
    by_lower = {a.lower(): a for a in allowed}
    close = difflib.get_close_matches(str(key).lower(), list(by_lower), n=3, cutoff=0.6)
    if close:
        return message + f" (did you mean {' or '.join(repr(by_lower[c]) for c in close)}?)"
    return message + f" (allowed: {', '.join(allowed)})"


def _quote_hint(key: Any) -> str:
    if isinstance(key, bool):  # `on:` / `yes:` / `no:` are booleans in YAML 1.1
        return "YAML reads unquoted yes/no/on/off as true/false; quote the key"
    return "quote it in the YAML file to make it a string"


def _locate(path: KeyPath, provenance: dict, root_file: str) -> Location:
    # Missing keys (and keys a validator invents) are not in any file; the
    # nearest written ancestor is where the user has to add them.
    for n in range(len(path), 0, -1):
        location = provenance.get(path[:n])
        if location is not None:
            return location
    return Location(root_file)


def _lookup(data: Any, path: KeyPath) -> Any:
    for seg in path:
        if isinstance(data, dict) and seg in data:
            data = data[seg]
        elif isinstance(data, list) and isinstance(seg, int) and 0 <= seg < len(data):
            data = data[seg]
        else:
            return None
    return data


def _parse_sub_path(text: str, node: Any) -> KeyPath:
    """``phases[2].start`` / ``phases.2.start`` -> ``("phases", 2, "start")``, guided by the data."""
    out: list = []
    for index, name in re.findall(r"\[(\d+)\]|([^.\[\]]+)", text):
        seg: Any = int(index) if index else name
        # Digits in dotted form are list indices or int keys (`2025:`) when the data says so.
        if isinstance(seg, str) and seg.isdigit() and (
            isinstance(node, list) or (isinstance(node, dict) and seg not in node and int(seg) in node)
        ):
            seg = int(seg)
        out.append(seg)
        node = _lookup(node, (seg,))
    return tuple(out)


def _ordered(problems: list[Problem], root_file: str) -> list[Problem]:
    """Drop duplicates; the requested file first, then other files by name, each by line."""
    unique = list(dict.fromkeys(problems))
    return sorted(
        unique,
        key=lambda p: (p.location.file != root_file, p.location.file, p.location.line or 0),
    )


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, (bool, int, float, str))


def _short_repr(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


# --------------------------------------------------------------------------- #
# Following a pydantic error location through the model's type annotations
# --------------------------------------------------------------------------- #
#
# Pydantic error locations mix config keys with union member names
# (`("output", "FileOutput", "path")`). Walking the annotations alongside the
# location tells the two apart, and gives the model reached at the end (whose
# keys are the allowed ones for an unknown-key error).

_LOST = object()  # the annotations could not explain the location any further
_SEQUENCE_ORIGINS = (
    list, set, frozenset, collections.deque, cabc.Sequence, cabc.MutableSequence,
    cabc.Set, cabc.MutableSet, cabc.Iterable, cabc.Collection,
)
_MAPPING_ORIGINS = (
    dict, collections.OrderedDict, collections.defaultdict, cabc.Mapping, cabc.MutableMapping,
)


def _trace(tp: Any, loc: tuple, i: int = 0) -> tuple[frozenset[int], Any]:
    """Return (positions in ``loc`` that are union member names, type reached or _LOST)."""
    tp = _unwrap(tp)
    members = _union_members(tp)
    if members is not None and len(members) == 1:  # Optional[X]: pydantic adds no segment
        return _trace(members[0], loc, i)
    if i == len(loc):
        return frozenset(), tp
    seg = loc[i]
    if members is not None:
        # Pydantic names the member in the next segment; try the member it names
        # first, then the others, and keep the first that explains the rest.
        for member in sorted(members, key=lambda m: not _tag_names_member(seg, m)):
            positions, end = _trace(member, loc, i + 1)
            if end is not _LOST:
                return positions | {i}, end
        return frozenset({i}), _LOST
    if _is_root_model(tp):
        return _trace(tp.model_fields["root"].annotation, loc, i)
    fields = _fields(tp)
    if fields is not None:
        for _, names, annotation in fields:
            if seg in names:
                return _trace(annotation, loc, i + 1)
        return frozenset(), _LOST
    item = _item_type(tp, seg)
    if item is _LOST:
        return frozenset(), _LOST
    return _trace(item, loc, i + 1)


def _unwrap(tp: Any) -> Any:
    while True:
        if get_origin(tp) is typing.Annotated:
            tp = get_args(tp)[0]
        elif hasattr(tp, "__supertype__"):  # typing.NewType
            tp = tp.__supertype__
        elif type(tp).__name__ == "TypeAliasType":  # `type X = ...` / typing_extensions
            tp = tp.__value__
        else:
            return tp


def _union_members(tp: Any) -> list | None:
    if get_origin(tp) in (Union, types.UnionType):
        return [a for a in get_args(tp) if a is not type(None)]
    return None


def _is_root_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, RootModel)


def _tag_names_member(tag: Any, member: Any) -> bool:
    """Does pydantic's union segment ``tag`` name this member?"""
    member = _unwrap(member)
    if not isinstance(tag, str) or not isinstance(member, type):
        return False
    name = member.__name__
    # Models with validators are named like 'function-after[check(), Timeline]'.
    if tag == name or (tag.startswith("function-") and tag.endswith(f", {name}]")):
        return True
    # Discriminated unions name the member by its discriminator value.
    fields = _fields(member) or []
    return any(tag in _literal_values(annotation) for _, _, annotation in fields)


def _literal_values(tp: Any) -> tuple:
    tp = _unwrap(tp)
    if get_origin(tp) is typing.Literal:
        return tuple(str(v) for v in get_args(tp))
    return ()


def _fields(tp: Any) -> list[tuple[str, set, Any]] | None:
    """(name to show, names accepted in input, annotation) per field of a model-like type."""
    if not isinstance(tp, type):
        return None
    infos = tp.model_fields if issubclass(tp, BaseModel) else getattr(tp, "__pydantic_fields__", None)
    if infos is not None:
        out = []
        for name, info in infos.items():
            names = _input_names(name, info)
            out.append((names[0], set(names), info.annotation))
        return out
    if dataclasses.is_dataclass(tp) or typing.is_typeddict(tp):
        try:
            hints = typing.get_type_hints(tp, include_extras=True)
        except Exception:  # unresolvable forward references: better no suggestions than a crash
            return None
        names = [f.name for f in dataclasses.fields(tp)] if dataclasses.is_dataclass(tp) else list(hints)
        return [(n, {n}, hints.get(n, Any)) for n in names]
    return None


def _input_names(name: str, info: Any) -> list[str]:
    """Keys a user may write for a field, the preferred spelling first."""
    names: list[str] = []
    alias = info.validation_alias
    choices = alias.choices if isinstance(alias, AliasChoices) else [alias] if alias else []
    for choice in choices:
        if isinstance(choice, AliasPath):
            choice = choice.path[0]
        if isinstance(choice, str):
            names.append(choice)
    if info.alias:
        names.append(info.alias)
    names.append(name)
    return list(dict.fromkeys(names))


def _item_type(tp: Any, seg: Any) -> Any:
    """Type of the element ``seg`` of a container type, or _LOST."""
    origin, args = get_origin(tp) or tp, get_args(tp)
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return args[0]
        if isinstance(seg, int) and 0 <= seg < len(args):
            return args[seg]
        return _LOST
    if origin in _SEQUENCE_ORIGINS:
        return args[0] if args and isinstance(seg, int) else (Any if isinstance(seg, int) else _LOST)
    if origin in _MAPPING_ORIGINS:
        return args[1] if len(args) == 2 else Any
    return _LOST


def _allowed_keys(tp: Any) -> list[str] | None:
    tp = _unwrap(tp)
    if _is_root_model(tp):
        return _allowed_keys(tp.model_fields["root"].annotation)
    fields = _fields(tp) if tp is not _LOST else None
    return None if fields is None else [shown for shown, _, _ in fields]

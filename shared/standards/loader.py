"""Load standards packs from TOML, and look up which clocks apply.

A bad file raises StandardsError; each problem names the file, the line (for a value
that fails validation, the line of its key or, when the key is missing, of the table
that should hold it) and the field path, e.g.

    hexagon.toml, line 42: versions[0].clocks[3].target.unit: Input should be 'hours', ...
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from pydantic import ValidationError

from shared.standards.models import (
    ApplicableClock,
    EventFacts,
    InconsistentPack,
    Loc,
    StandardInForce,
    StandardsBook,
    StandardsPack,
)

DEFAULT_DIRECTORY = Path(__file__).parent


@dataclass(frozen=True)
class Problem:
    file: Path
    line: int | None
    field: str
    message: str
    column: int | None = None

    def __str__(self) -> str:
        where = f"{self.file.name}, line {self.line if self.line is not None else '?'}"
        if self.column is not None:
            where += f", column {self.column}"
        return f"{where}: {self.field or '(top level)'}: {self.message}"


class StandardsError(Exception):
    """A standards file that cannot be used; `problems` lists every reason found."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = tuple(problems)
        files = sorted({str(problem.file) for problem in self.problems})
        heading = f"invalid standards file {', '.join(files)}"
        super().__init__("\n".join([heading, *(f"  {problem}" for problem in self.problems)]))


# -- loading -------------------------------------------------------------------------


def load_pack(path: Path | str) -> StandardsPack:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise StandardsError([Problem(path, None, "", f"cannot be read: {error.strerror}")]) from None
    lines = _TomlLines(text)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise StandardsError([_syntax_problem(path, lines, error)]) from None
    try:
        return StandardsPack.model_validate(data)
    except ValidationError as error:
        raise StandardsError(_validation_problems(path, lines, error)) from None


def load_all(directory: Path | str = DEFAULT_DIRECTORY) -> StandardsBook:
    """Every `*.toml` pack in `directory`; problems in all files are reported together."""
    paths = sorted(Path(directory).glob("*.toml"))
    if not paths:
        raise StandardsError([Problem(Path(directory), None, "", "holds no standards files (*.toml)")])
    packs: list[tuple[Path, StandardsPack]] = []
    problems: list[Problem] = []
    for path in paths:
        try:
            packs.append((path, load_pack(path)))
        except StandardsError as error:
            problems.extend(error.problems)
    problems.extend(_duplicate_pack_ids(packs))
    if problems:
        raise StandardsError(problems)
    return StandardsBook(packs=tuple(pack for _, pack in packs))


def _duplicate_pack_ids(packs: list[tuple[Path, StandardsPack]]) -> Iterator[Problem]:
    first_file: dict[str, Path] = {}
    for path, pack in packs:
        if pack.id in first_file:
            line = _TomlLines(path.read_text(encoding="utf-8")).line_of(("id",))
            message = f"pack id '{pack.id}' is already used by {first_file[pack.id].name}"
            yield Problem(path, line, "id", message)
        else:
            first_file[pack.id] = path


# -- lookups -------------------------------------------------------------------------


def clocks_in_force(pack: StandardsPack, on: date) -> StandardInForce | None:
    """The version of `pack` in force on `on` (a case keeps the one in force when it opened)."""
    return pack.standard_on(on)


def clocks_started_by(
    book: StandardsBook, facts: EventFacts, on: date, *, include_superseded: bool = False
) -> tuple[ApplicableClock, ...]:
    """The clocks, across every pack in force on `on`, that an event with `facts` starts.

    Clocks that only chain from another clock are not included (see
    `StandardInForce.chained_from`), nor are superseded ones unless asked for.
    """
    return book.started_by(facts, on, include_superseded)


# -- reporting problems ----------------------------------------------------------------

_TOML_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)$")


def _syntax_problem(path: Path, lines: _TomlLines, error: tomllib.TOMLDecodeError) -> Problem:
    message = str(error)
    position = _TOML_POSITION.search(message)
    if position is None:
        return Problem(path, None, "", f"TOML syntax: {message}")
    line, column = int(position.group(1)), int(position.group(2))
    field = _field_path(lines.loc_at(line))
    return Problem(path, line, field, f"TOML syntax: {message[: position.start()]}", column)


def _validation_problems(path: Path, lines: _TomlLines, error: ValidationError) -> list[Problem]:
    problems = []
    for detail in error.errors(include_url=False):
        loc: Loc = tuple(detail["loc"])
        message = detail["msg"]
        cause = detail.get("ctx", {}).get("error")
        if isinstance(cause, InconsistentPack):
            loc, message = loc + cause.loc, cause.message
        problems.append(Problem(path, lines.line_of(loc), _field_path(loc), message))
    return problems


def _field_path(loc: Loc) -> str:
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else f".{part}" if path else str(part)
    return path


_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\[\]]+?)\s*\]\]?\s*(?:#.*)?$")
_KEY = re.compile(r"^\s*([A-Za-z0-9_\-.\"' ]+?)\s*=")


class _TomlLines:
    """Best-effort map between field paths and line numbers of a TOML text.

    It follows table headers (counting `[[arrays]]`) and `key =` lines; it does not
    parse values, so a field inside an inline table or array maps to its key's line.
    """

    def __init__(self, text: str) -> None:
        self._line_by_loc: dict[Loc, int] = {(): 1}
        self._loc_by_line: dict[int, Loc] = {}
        array_lengths: dict[Loc, int] = {}
        table: Loc = ()
        in_multiline_string = False
        for number, line in enumerate(text.splitlines(), start=1):
            if in_multiline_string:
                in_multiline_string = _toggles_multiline_string(line) != in_multiline_string
                continue
            header = _HEADER.match(line)
            key = _KEY.match(line)
            if header:
                table = _table_loc(_dotted(header.group(2)), array_lengths, is_array=header.group(1) == "[[")
                self._record(table, number)
            elif key:
                self._record(table + _dotted(key.group(1)), number)
                in_multiline_string = _toggles_multiline_string(line)
            if number not in self._loc_by_line:
                self._loc_by_line[number] = table

    def _record(self, loc: Loc, number: int) -> None:
        self._line_by_loc.setdefault(loc, number)
        self._loc_by_line[number] = loc

    def line_of(self, loc: Loc) -> int:
        """The line of the longest prefix of `loc` that appears in the text."""
        for length in range(len(loc), -1, -1):
            if loc[:length] in self._line_by_loc:
                return self._line_by_loc[loc[:length]]
        return 1

    def loc_at(self, number: int) -> Loc:
        return self._loc_by_line.get(number, ())


def _dotted(key: str) -> tuple[str, ...]:
    return tuple(part.strip().strip("\"'") for part in key.split("."))


def _table_loc(parts: tuple[str, ...], array_lengths: dict[Loc, int], *, is_array: bool) -> Loc:
    loc: Loc = ()
    for position, part in enumerate(parts):
        loc += (part,)
        if is_array and position == len(parts) - 1:
            array_lengths[loc] = array_lengths.get(loc, 0) + 1
        if loc in array_lengths:
            loc += (array_lengths[loc] - 1,)
    return loc


def _toggles_multiline_string(line: str) -> bool:
    return (line.count('"""') + line.count("'''")) % 2 == 1

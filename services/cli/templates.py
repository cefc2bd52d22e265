"""`doorstep templates preview NAME [--channel email|sms] [--long] [--html]`: one message
rendered with sample values, as the tenant would get it.
`doorstep templates check`: every template rendered with its normal and its longest
sample values; each text held to its segment limit, each email to having a subject, a
plain-text part and an HTML part, each template to using only the values the catalogue
names. One line per template; exit status 1 on any problem.

Files whose names start with an underscore (the HTML layout and macros) are shared
parts, not templates of their own.
"""

import argparse
import sys
from collections.abc import Iterable
from dataclasses import dataclass

from jinja2 import Environment, TemplateError, UndefinedError, meta, nodes

from shared.events.notifications import NotificationChannel
from services.notifier.adapters.jinja_templates import Templates
from services.notifier.domain.messages import EmailMessageText
from services.notifier.domain.phones import is_gsm7, sms_segments
from services.notifier.domain.template_catalogue import (
    CATALOGUE,
    TemplateSpec,
    UnknownTemplate,
    names,
    required_only,
    sample,
    spec,
)

SMS, EMAIL = NotificationChannel.SMS, NotificationChannel.EMAIL
EMAIL_PARTS = ("subject", "txt", "html")
# Names Jinja reports as free that are not personalisation: `self` is the template's
# own blocks (the layout prints its title block twice).
_NOT_PERSONALISATION = frozenset({"self"})


def add_arguments(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    templates_cmd = commands.add_parser("templates", help="preview and check the message templates")
    actions = templates_cmd.add_subparsers(dest="action", required=True)
    preview_cmd = actions.add_parser("preview", help="render one template with sample values")
    preview_cmd.add_argument("name", help="a template name, e.g. on_the_way")
    preview_cmd.add_argument("--channel", choices=[str(SMS), str(EMAIL)], default=None,
                             help="one channel only (default: every channel the template has)")
    preview_cmd.add_argument("--long", action="store_true", help="the longest plausible sample values")
    preview_cmd.add_argument("--html", action="store_true", help="the email's HTML part instead of its text")
    actions.add_parser("check", help="render every template with normal and long samples")


def main(args: argparse.Namespace) -> int:
    if args.action == "preview":
        channel = NotificationChannel(args.channel) if args.channel else None
        return preview(args.name, channel, long=args.long, html=args.html)
    return check()


# -- preview ---------------------------------------------------------------------------


def preview(
    name: str,
    channel: NotificationChannel | None = None,
    *,
    long: bool = False,
    html: bool = False,
    templates: Templates | None = None,
) -> int:
    templates = templates or Templates()
    try:
        wanted = spec(name)
    except UnknownTemplate:
        print(f"doorstep templates: no template {name!r}; there are: {', '.join(names())}", file=sys.stderr)
        return 2
    channels = [channel] if channel else sorted(wanted.channels, key=[SMS, EMAIL].index)
    for each in channels:
        if not templates.has(name, each):
            print(f"doorstep templates: {name} has no {each} template", file=sys.stderr)
            return 2
    values = sample(name, long=long)
    blocks = []
    for each in channels:
        if each is SMS:
            blocks.append(_show_sms(templates.sms(name, values), wanted.sms_segments))
        else:
            blocks.append(_show_email(templates.email(name, values), html))
    print(("\n\n" + "-" * 72 + "\n\n").join(blocks))
    return 0


def segments_label(count: int) -> str:
    return f"{count} segment" if count == 1 else f"{count} segments"


def _show_sms(text: str, limit: int | None) -> str:
    count = sms_segments(text)
    encoding = "GSM-7" if is_gsm7(text) else "UCS-2"
    of_limit = f" (limit {limit})" if limit is not None else ""
    return f"SMS:\n\n{text}\n\n{segments_label(count)}{of_limit}, {len(text)} characters, {encoding}"


def _show_email(message: EmailMessageText, html: bool) -> str:
    body = message.html if html and message.html is not None else message.text
    return f"Subject: {message.subject}\n\n{body.rstrip()}"


# -- check -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Result:
    name: str
    problems: list[str]
    summary: str

    @property
    def ok(self) -> bool:
        return not self.problems


def check(templates: Templates | None = None) -> int:
    results = check_all(templates or Templates())
    width = max(len(result.name) for result in results)
    for result in results:
        if result.ok:
            print(f"ok    {result.name:<{width}}  {result.summary}")
        else:
            print(f"FAIL  {result.name:<{width}}  {'; '.join(result.problems)}")
    failed = sum(not result.ok for result in results)
    print(f"{len(results)} templates, {failed} with problems")
    return 1 if failed else 0


def check_all(templates: Templates) -> list[Result]:
    on_disk = template_names(templates.env)
    results = [check_one(templates, name) for name in sorted(set(CATALOGUE) | on_disk)]
    for result in results:
        if result.name not in on_disk:
            result.problems.insert(0, "in the catalogue but no template files")
    return results


def template_names(env: Environment) -> set[str]:
    """The templates in the folder: every file name up to its first dot, shared parts left out."""
    return {file.split(".", 1)[0] for file in env.list_templates() if not file.startswith("_")}


def check_one(templates: Templates, name: str) -> Result:
    try:
        wanted = spec(name)
    except UnknownTemplate:
        return Result(name, ["template files with no entry in the template catalogue"], "")
    problems = list(_catalogue_problems(wanted))
    problems += _file_problems(templates.env, wanted)
    if problems:
        return Result(name, problems, "")
    problems += _variable_problems(templates.env, wanted)
    summary = []
    if SMS in wanted.channels:
        counts, sms_problems = _check_sms(templates, wanted)
        problems += sms_problems
        limit = wanted.sms_segments
        summary.append(f"sms {segments_label(counts[0])}, {counts[1]} with long values (limit {limit})")
    if EMAIL in wanted.channels:
        problems += _check_email(templates, wanted)
        summary.append("email subject, text and html")
    problems += _required_problems(templates, wanted)
    return Result(name, problems, "; ".join(summary))


def _catalogue_problems(wanted: TemplateSpec) -> Iterable[str]:
    for label, values in (("samples", wanted.samples), ("long samples", wanted.long)):
        if missing := wanted.required - values.keys():
            yield f"{label} lack required {', '.join(sorted(missing))}"
        if unknown := values.keys() - wanted.keys:
            yield f"{label} have undeclared {', '.join(sorted(unknown))}"
    if (SMS in wanted.channels) != (wanted.sms_segments is not None):
        yield "a text template needs a segment limit, and only a text template has one"


def _files(wanted: TemplateSpec) -> list[str]:
    parts = []
    if SMS in wanted.channels:
        parts.append("sms")
    if EMAIL in wanted.channels:
        parts += EMAIL_PARTS
    return [f"{wanted.name}.{part}.j2" for part in parts]


def _file_problems(env: Environment, wanted: TemplateSpec) -> Iterable[str]:
    present = set(env.list_templates())
    for file in _files(wanted):
        if file not in present:
            yield f"missing {file}"
    for file in sorted(present):
        if file.startswith(f"{wanted.name}.") and file not in _files(wanted):
            yield f"{file} is for a channel the catalogue does not name"


def used_variables(env: Environment, file: str) -> set[str]:
    """The personalisation keys a template file reads, including in the files it extends
    or imports."""
    seen: set[str] = set()
    found: set[str] = set()
    waiting = [file]
    while waiting:
        current = waiting.pop()
        if current in seen:
            continue
        seen.add(current)
        source, _, _ = env.loader.get_source(env, current)  # type: ignore[union-attr]
        tree = env.parse(source)
        imported = {node.target for node in tree.find_all(nodes.Import)}
        imported |= {
            name if isinstance(name, str) else name[1]
            for node in tree.find_all(nodes.FromImport)
            for name in node.names
        }
        found |= meta.find_undeclared_variables(tree) - imported
        waiting += [ref for ref in meta.find_referenced_templates(tree) if ref]
    return found - _NOT_PERSONALISATION


def _variable_problems(env: Environment, wanted: TemplateSpec) -> Iterable[str]:
    used: set[str] = set()
    for file in _files(wanted):
        if undeclared := used_variables(env, file) - wanted.keys:
            yield f"{file} uses {', '.join(sorted(undeclared))}, which the catalogue does not name"
        used |= used_variables(env, file)
    if unused := wanted.keys - used:
        yield f"the catalogue names {', '.join(sorted(unused))}, which no part uses"


def _render(
    templates: Templates, wanted: TemplateSpec, values: dict[str, str]
) -> tuple[str | None, EmailMessageText | None]:
    text = templates.sms(wanted.name, values) if SMS in wanted.channels else None
    email = templates.email(wanted.name, values) if EMAIL in wanted.channels else None
    return text, email


def _check_sms(templates: Templates, wanted: TemplateSpec) -> tuple[tuple[int, int], list[str]]:
    problems, counts = [], []
    for label, values in (("sample", sample(wanted.name)), ("long sample", sample(wanted.name, long=True))):
        try:
            text = templates.sms(wanted.name, values)
        except TemplateError as error:
            problems.append(f"the text does not render with the {label}: {error}")
            counts.append(0)
            continue
        count = sms_segments(text)
        counts.append(count)
        if not text:
            problems.append(f"the text is empty with the {label}")
        if wanted.sms_segments is not None and count > wanted.sms_segments:
            problems.append(
                f"the text is {segments_label(count)} with the {label}, over its limit of {wanted.sms_segments}"
            )
        if "reference" in values and values["reference"] not in text:
            problems.append(f"the text does not give the reference with the {label}")
    return (counts[0], counts[1]), problems


def _check_email(templates: Templates, wanted: TemplateSpec) -> list[str]:
    problems = []
    for label, values in (("sample", sample(wanted.name)), ("long sample", sample(wanted.name, long=True))):
        try:
            message = templates.email(wanted.name, values)
        except TemplateError as error:
            problems.append(f"the email does not render with the {label}: {error}")
            continue
        if not message.subject or "\n" in message.subject:
            problems.append(f"the subject is empty or more than one line with the {label}")
        if not message.text.strip():
            problems.append(f"the text part is empty with the {label}")
        if not message.html or '<html lang="en-GB">' not in message.html:
            problems.append(f"no HTML part in British English with the {label}")
        parts = (message.subject, message.text)
        if "reference" in values and any(values["reference"] not in part for part in parts):
            problems.append(f"the subject or text does not give the reference with the {label}")
    return problems


def _required_problems(templates: Templates, wanted: TemplateSpec) -> list[str]:
    """Renders with the required keys alone, and refuses to without any one of them."""
    problems = []
    try:
        _render(templates, wanted, required_only(wanted.name))
    except TemplateError as error:
        problems.append(f"does not render with the required values alone: {error}")
    for key in sorted(wanted.required):
        values = {k: v for k, v in required_only(wanted.name).items() if k != key}
        try:
            _render(templates, wanted, values)
        except UndefinedError:
            continue
        problems.append(f"renders without the required {key}")
    return problems

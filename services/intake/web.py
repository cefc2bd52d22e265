"""The web forms over HTTP: `GET /forms/{name}` serves a plain HTML page that works
without JavaScript; `POST /forms/{name}` takes JSON or an HTML form post alike.

JSON in, JSON out: 201 {reference, case_id}, or 422 naming each field and what is wrong
with it, never what was typed. A form post gets HTML back: a thank-you page with the
reference (201), or the same page again (422) with the messages next to the fields and
the tenant's own answers kept in them.
"""

import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from fastapi import FastAPI, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from pydantic import ValidationError
from starlette.types import ASGIApp, Receive, Scope, Send

from shared.service import Runtime
from shared.standards.models import StandardsBook
from services.intake import handlers
from services.intake.adapters.store import RefusedForm
from services.intake.domain.cases import reply_promise, standard_promise
from services.intake.forms import FORMS, CaseForm, ComplaintEscalation, FormPage, to_contact

log = logging.getLogger(__name__)

# Every answer at its longest, percent-encoded, still fits; anything bigger is not a form.
MAX_BODY_BYTES = 256 * 1024
MAX_FIELDS = 64

JSON_TYPE = "application/json"
FORM_TYPE = "application/x-www-form-urlencoded"

_pages = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)

# The pages hold a tenant's own answers: never cached, never framed, nothing loaded from elsewhere.
_HTML_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
        "base-uri 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a submission: the field (None for the whole form) and what to do."""

    field: str | None
    message: str
    type: str


class BadBody(ValueError):
    def __init__(self, status: int, message: str, type_: str) -> None:
        super().__init__(message)
        self.status = status
        self.type = type_


def add_form_routes(app: FastAPI, runtime: Runtime, book: StandardsBook) -> None:
    """Serve and accept every web form on `app`."""

    @app.get("/forms", response_class=HTMLResponse, tags=["forms"], summary="The web forms")
    async def index(request: Request) -> HTMLResponse:
        return _html("index.html.j2", 200, title="Contact us", pages=FORMS.values(), base=request.url.path)

    posts = {f"/forms/{page.name}": _add_form(app, runtime, book, page) for page in FORMS.values()}
    app.add_middleware(FormPosts, posts=posts)


Submit = Callable[[Request], Awaitable[Response]]


class FormPosts:
    """A POST to a form goes straight to its handler, past FastAPI's routing, dependency
    solving and request wrappers, which cost about as much CPU as the handler's own work
    under a burst. The routes stay declared (the OpenAPI document, any other method) and
    the handler is the same; errors still reach the app's 500 handler outside."""

    def __init__(self, app: ASGIApp, posts: dict[str, Submit]) -> None:
        self.app = app
        self.posts = posts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST":
            path, root = scope["path"], scope.get("root_path", "")
            if root and path.startswith(root):
                path = path[len(root):]
            if submit := self.posts.get(path):
                response = await submit(Request(scope, receive))
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _add_form(app: FastAPI, runtime: Runtime, book: StandardsBook, page: FormPage) -> Submit:
    path = f"/forms/{page.name}"

    async def show(request: Request) -> HTMLResponse:
        return _form_page(page, request, 200)

    async def submit(request: Request) -> Response:
        content_type = request.headers.get("content-type", "")
        media = content_type.split(";")[0].strip().lower()
        body, whole = await _read_body(request)
        if media != FORM_TYPE and media != JSON_TYPE and not media.endswith("+json"):
            await _keep_refused(runtime, page, 415, "unsupported_media_type", 1, content_type, body)
            return JSONResponse({"detail": f"send the form as {JSON_TYPE} or {FORM_TYPE}"}, status_code=415)
        as_html = media == FORM_TYPE and not _wants_json(request)
        sent = Sent(runtime, page, request, content_type, body, as_html)
        typed: dict[str, str] = {}
        try:
            if not whole:
                raise BadBody(413, "The form is too large to send", "too_large")
            if media == FORM_TYPE:
                typed = _form_fields(body, page)
                data: Any = typed
            else:
                data = _json_object(body)
            form = page.model.model_validate(data)
        except BadBody as bad:
            problem = Problem(None, str(bad), bad.type)
            return await _refused(sent, bad.status, [problem], typed)
        except ValidationError as error:
            return await _refused(sent, 422, problems_of(page, error), typed)
        if isinstance(form, ComplaintEscalation):
            return await _escalate(book, sent, form, typed)
        assert isinstance(form, CaseForm)
        contact = to_contact(form)
        case = await handlers.receive_form(runtime, book, page.name, form.model_dump_json().encode(), contact)
        if not as_html:
            return JSONResponse({"reference": case.reference, "case_id": case.case_id}, status_code=201)
        promise = reply_promise(book, case)
        return _thanks(request, "We have received your form", case.reference, [promise] if promise else [])

    schema = page.model.model_json_schema()
    app.add_api_route(
        path,
        show,
        methods=["GET"],
        response_class=HTMLResponse,
        tags=["forms"],
        name=f"show_{page.name}",
        summary=f"The page: {page.title}",
    )
    app.add_api_route(
        path,
        submit,
        methods=["POST"],
        tags=["forms"],
        name=f"submit_{page.name}",
        summary=page.title,
        status_code=201,
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {JSON_TYPE: {"schema": schema}, FORM_TYPE: {"schema": schema}},
            }
        },
    )
    return submit


async def _escalate(book: StandardsBook, sent: "Sent", form: ComplaintEscalation, typed: dict[str, str]) -> Response:
    page, request = sent.page, sent.request
    try:
        escalation, new = await handlers.escalate_complaint(
            sent.runtime, form.reference, form.model_dump_json().encode()
        )
    except handlers.UnknownComplaint:
        message = (
            "We cannot find a complaint with that reference. Check it against our reply to your complaint"
        )
        await _keep_refused(sent.runtime, page, 404, "not_found", 1, sent.content_type, sent.body)
        if sent.as_html:
            return _form_page(page, request, 404, [Problem("reference", message, "not_found")], typed)
        return JSONResponse({"detail": message}, status_code=404)
    if not sent.as_html:
        body = {"reference": escalation.reference, "case_id": escalation.case_id}
        return JSONResponse(body, status_code=201 if new else 200)
    promise = standard_promise(book, "complaint_stage2_response", escalation.escalated_at)
    title = "Your complaint is now at Stage 2" if new else "Your complaint is already at Stage 2"
    return _thanks(request, title, escalation.reference, [promise] if promise else [], 201 if new else 200)


# -- reading a submission --------------------------------------------------------------


async def _read_body(request: Request) -> tuple[bytes, bool]:
    """The body, and whether it is whole: reading stops at the limit, whatever length
    was declared, and what was read up to it is kept with the refusal."""
    chunks, size = [], 0
    async for chunk in request.stream():
        if size + len(chunk) > MAX_BODY_BYTES:
            chunks.append(chunk[: MAX_BODY_BYTES - size])
            return b"".join(chunks), False
        size += len(chunk)
        chunks.append(chunk)
    return b"".join(chunks), True


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except ValueError:
        raise BadBody(422, "The body is not valid JSON", "json_invalid") from None
    if not isinstance(data, dict):
        raise BadBody(422, "The body must be a JSON object", "model_type")
    return data


def _form_fields(body: bytes, page: FormPage) -> dict[str, str]:
    """The answers to this form's questions; anything else a browser sends is left out."""
    try:
        text = body.decode("utf-8")
        fields = parse_qs(text, keep_blank_values=True, max_num_fields=MAX_FIELDS, errors="strict")
    except UnicodeDecodeError:
        raise BadBody(422, "The form must be sent as UTF-8", "unicode_error") from None
    except ValueError:
        raise BadBody(422, "The form has too many fields", "too_many_fields") from None
    known = page.model.model_fields
    return {name: values[0] for name, values in fields.items() if name in known}


def _wants_json(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return JSON_TYPE in accept and "text/html" not in accept


def problems_of(page: FormPage, error: ValidationError) -> list[Problem]:
    """What is wrong, field by field, in words a tenant can act on; never the values."""
    questions = page.questions
    problems = []
    for detail in error.errors(include_url=False, include_input=False):
        context = detail.get("ctx") or {}
        loc = detail["loc"]
        field = str(loc[0]) if loc else context.get("field")
        question = questions.get(field) if field else None
        label = question.label if question else "This answer"
        kind = detail["type"]
        if kind in ("missing", "string_too_short", "too_short"):
            message = f"Enter {question.missing or question.label.lower()}" if question else f"Enter {field}"
        elif kind in ("string_too_long", "too_long"):
            message = f"{label} must be {context.get('max_length', 0):,} characters or fewer"
        elif kind == "string_type":
            message = f"{label} must be text"
        elif kind.startswith("bool"):
            message = f"{label}: tick the box or leave it empty (true or false)"
        elif kind == "extra_forbidden":
            message = "This is not a question on this form"
        elif kind in ("email", "phone", "postcode", "reference", "contact_needed", "feedback_needed"):
            message = detail["msg"]
        else:
            message = f"{label}: check this answer"
        problems.append(Problem(field, message, kind))
    return problems


# -- answering -------------------------------------------------------------------------


@dataclass(frozen=True)
class Sent:
    """One submission to one form, as it arrived."""

    runtime: Runtime
    page: FormPage
    request: Request
    content_type: str
    body: bytes
    as_html: bool


async def _refused(sent: Sent, status: int, problems: list[Problem], typed: dict[str, str]) -> Response:
    reason = ",".join(sorted({p.type for p in problems}))
    await _keep_refused(sent.runtime, sent.page, status, reason, len(problems), sent.content_type, sent.body)
    if sent.as_html:
        return _form_page(sent.page, sent.request, status, problems, typed)
    detail = [
        {"loc": ["body", p.field] if p.field else ["body"], "msg": p.message, "type": p.type}
        for p in problems
    ]
    return JSONResponse({"detail": detail}, status_code=status)


async def _keep_refused(  # noqa: PLR0913
    runtime: Runtime, page: FormPage, status: int, reason: str, count: int, content_type: str, body: bytes
) -> None:
    """Keep a refused submission as it arrived, with why; the log names only the form,
    the status and the kinds of problem, never what was typed."""
    path = f"/forms/{page.name}"
    try:
        refused_id = await handlers.refuse_form(
            runtime, RefusedForm(page.name, status, reason, content_type, body)
        )
    except Exception as error:  # noqa: BLE001 - the tenant is still told what is wrong
        log.warning("refused form not kept", extra={"path": path, "status": status, "reason": type(error).__name__})
        return
    log.info(
        "form refused",
        extra={"path": path, "status": status, "count": count, "reason": reason, "raw_id": refused_id},
    )


def _form_page(
    page: FormPage,
    request: Request,
    status: int,
    problems: list[Problem] | None = None,
    typed: dict[str, str] | None = None,
) -> HTMLResponse:
    problems = problems or []
    errors: dict[str, str] = {}
    for problem in problems:
        if problem.field in page.questions:
            errors.setdefault(problem.field, problem.message)
    shown = [p for p in problems if p.field is None or p.field in page.questions]
    return _html(
        "form.html.j2",
        status,
        title=page.title,
        page=page,
        action=request.url.path,
        problems=[Problem(p.field if p.field in page.questions else None, p.message, p.type) for p in shown],
        errors=errors,
        values=typed or {},
    )


def _thanks(
    request: Request, title: str, reference: str, paragraphs: list[str], status: int = 201
) -> HTMLResponse:
    back = request.url.path.rsplit("/", 1)[0]
    return _html(
        "thanks.html.j2",
        status,
        title=title,
        reference=reference,
        paragraphs=paragraphs,
        back=back,
        problems=[],
    )


def _html(template: str, status: int, **context: Any) -> HTMLResponse:
    context.setdefault("problems", [])
    body = _pages.get_template(template).render(**context)
    return HTMLResponse(body, status_code=status, headers=_HTML_HEADERS)

"""The web forms: what each one asks (`answers`), the case it opens (`models`) and its
page (`pages`), which `web.py` renders and accepts."""

from services.intake.forms.answers import LONG_MAX
from services.intake.forms.models import CaseForm, ComplaintEscalation, WebForm, to_contact
from services.intake.forms.pages import FORMS, FormPage, Question

__all__ = ["FORMS", "LONG_MAX", "CaseForm", "ComplaintEscalation", "FormPage", "Question", "WebForm", "to_contact"]

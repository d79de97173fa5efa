from dataclasses import dataclass
from pathlib import Path

from django import forms
from django.conf import settings
from django.core.validators import URLValidator
from django.template.defaultfilters import filesizeformat
from django.utils.functional import lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .models import (
    Call,
    Country,
    Nomination,
    PublishedPractice,
    PublishedPracticeTranslation,
    SurveyQuestion,
    Theme,
)
from .services import REQUIRED_FOR_SUBMISSION
from .uploads import detected_content_type

SURVEY_PREFIX = "survey_"


def survey_field(question):
    """The form field that asks one survey question."""
    common = {
        "label": question.text,
        "help_text": question.help_text,
        "required": False,  # required questions are enforced on submission only
    }
    kind = SurveyQuestion.Kind
    if question.kind == kind.SHORT_TEXT:
        return forms.CharField(max_length=300, **common)
    if question.kind == kind.LONG_TEXT:
        return forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), **common)
    if question.kind == kind.NUMBER:
        return forms.DecimalField(**common)
    if question.kind == kind.YES_NO:
        return forms.TypedChoiceField(
            choices=[("", "—"), ("yes", _("Yes")), ("no", _("No"))],
            coerce=lambda value: value == "yes",
            empty_value=None,
            **common,
        )
    choices = question.choice_pairs
    if question.kind == kind.SINGLE_CHOICE:
        return forms.ChoiceField(choices=[("", "—"), *choices], widget=forms.RadioSelect, **common)
    return forms.MultipleChoiceField(choices=choices, widget=forms.CheckboxSelectMultiple, **common)


def _initial_answer(question, value):
    if question.kind == SurveyQuestion.Kind.YES_NO and value is not None:
        return "yes" if value else "no"
    return value


def _upload_help():
    # Formatted each time it is shown, so that the words and the size ("10,0 MB" in
    # Swedish) follow the reader's language rather than the language at start-up.
    return _("PDF, image or document, up to %(size)s.") % {
        "size": filesizeformat(settings.ATTACHMENT_MAX_BYTES)
    }


@dataclass
class FormSection:
    """One part of the nomination form, with what the saved draft still lacks in it."""

    id: str
    number: int
    title: str
    fields: list
    needs_anything: bool
    missing: int


#: The nomination form's parts in order; the survey's questions come from the call.
FORM_SECTIONS = (
    (
        "practice",
        gettext_lazy("The practice"),
        (
            "title",
            "kind",
            "country",
            "themes",
            "year_started",
            "language",
            "summary",
            "english_summary",
        ),
    ),
    ("organisation", gettext_lazy("Organisation"), ("organisation", "organisation_sector")),
    (
        "problem",
        gettext_lazy("Problem, target group and results"),
        ("problem", "target_group", "results"),
    ),
    (
        "transferability",
        gettext_lazy("Transferability and links"),
        ("transferability", "links"),
    ),
    ("survey", gettext_lazy("Survey questions"), ()),
    ("attachments", gettext_lazy("Attachments"), ("attachment",)),
    ("contact", gettext_lazy("Contact person"), ("contact_name", "contact_email")),
    (
        "consent",
        gettext_lazy("Reviewers and consent"),
        ("conflicts_declared", "consent_to_publish"),
    ),
)


class NominationForm(forms.ModelForm):
    """The nomination with the call's survey and an optional attachment.

    Saving a draft checks only what is filled in; submitting (``submitting=True``)
    also requires every field and question marked required.
    """

    attachment = forms.FileField(
        label=gettext_lazy("Add an attachment"),
        required=False,
        help_text=lazy(_upload_help, str)(),
    )
    client_token = forms.UUIDField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Nomination
        fields = [
            "title",
            "kind",
            "country",
            "organisation",
            "organisation_sector",
            "themes",
            "language",
            "summary",
            "english_summary",
            "problem",
            "target_group",
            "results",
            "year_started",
            "transferability",
            "links",
            "conflicts_declared",
            "contact_name",
            "contact_email",
            "consent_to_publish",
        ]
        widgets = {
            "themes": forms.CheckboxSelectMultiple,
            "summary": forms.Textarea(attrs={"rows": 4}),
            "english_summary": forms.Textarea(attrs={"rows": 4}),
            "problem": forms.Textarea(attrs={"rows": 3}),
            "target_group": forms.Textarea(attrs={"rows": 2}),
            "results": forms.Textarea(attrs={"rows": 4}),
            "transferability": forms.Textarea(attrs={"rows": 3}),
            "links": forms.Textarea(attrs={"rows": 2}),
            "conflicts_declared": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args, call, submitting=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.call = call
        self.submitting = submitting
        self.fields["country"].queryset = Country.objects.filter(is_partner=True)
        self.fields["themes"].queryset = call.themes.all()
        self.fields["language"] = forms.ChoiceField(
            label=self.fields["language"].label,
            choices=[("", "—"), *call.language_choices()],
            required=False,
        )
        self.questions = list(call.questions.all())
        answers = self.instance.survey_answers if self.instance.pk else {}
        for question in self.questions:
            field = survey_field(question)
            field.initial = _initial_answer(question, answers.get(str(question.pk)))
            self.fields[f"{SURVEY_PREFIX}{question.pk}"] = field
        #: The fields a draft may leave empty but a submission may not, marked * from
        #: the first view on (the summary in English only counts for another language).
        self.needed_to_submit = [
            *REQUIRED_FOR_SUBMISSION,
            "themes",
            *(f"{SURVEY_PREFIX}{q.pk}" for q in self.questions if q.required),
        ]
        for name in self.needed_to_submit:
            field = self.fields[name]
            field.required = submitting
            if not isinstance(field.widget, forms.CheckboxSelectMultiple | forms.RadioSelect):
                # A group of boxes says it in its legend instead (see _field.html).
                field.widget.attrs["aria-required"] = "true"
        self.fields["title"].required = True

    def sections(self, *, missing=None):
        """The form's parts in order, each with its fields and what it still needs.

        ``missing`` is what the saved draft lacks (``nomination_missing``); without a
        saved draft everything needed to submit is missing.
        """
        if missing is None:
            missing_names = set(self.needed_to_submit)
        else:
            fields, questions = missing
            missing_names = {*fields, *(f"{SURVEY_PREFIX}{q.pk}" for q in questions)}
        survey = [f"{SURVEY_PREFIX}{q.pk}" for q in self.questions]
        sections = []
        for slug, title, names in FORM_SECTIONS:
            if slug == "survey":
                names = survey
                if not names:
                    continue
            needed = [n for n in names if n in self.needed_to_submit or n in missing_names]
            sections.append(
                FormSection(
                    id=f"section-{slug}",
                    number=len(sections) + 1,
                    title=title,
                    fields=[self[name] for name in names],
                    needs_anything=bool(needed),
                    missing=sum(1 for n in names if n in missing_names),
                )
            )
        return sections

    def clean_links(self):
        links = self.cleaned_data["links"]
        validate = URLValidator(schemes=["http", "https"])
        for line in links.splitlines():
            if line.strip():
                try:
                    validate(line.strip())
                except forms.ValidationError:
                    raise forms.ValidationError(
                        _("“%(link)s” is not a web address (it must start with https://).")
                        % {"link": line.strip()}
                    ) from None
        return links

    def clean_attachment(self):
        upload = self.cleaned_data.get("attachment")
        if not upload:
            return upload
        suffix = Path(upload.name).suffix.lower()
        allowed = settings.ATTACHMENT_CONTENT_TYPES
        if suffix not in allowed:
            raise forms.ValidationError(
                _("Files of type “%(suffix)s” cannot be attached. Allowed: %(allowed)s.")
                % {"suffix": suffix or "?", "allowed": ", ".join(sorted(allowed))}
            )
        if upload.size > settings.ATTACHMENT_MAX_BYTES:
            raise forms.ValidationError(
                _("The file is %(size)s; the largest allowed is %(max)s.")
                % {
                    "size": filesizeformat(upload.size),
                    "max": filesizeformat(settings.ATTACHMENT_MAX_BYTES),
                }
            )
        # The content decides: an HTML page named page.png is an HTML page.
        detected = detected_content_type(upload)
        if detected not in allowed.values():
            raise forms.ValidationError(
                _(
                    "“%(name)s” cannot be attached: its content is none of the kinds allowed "
                    "(%(allowed)s), regardless of its file name."
                )
                % {"name": upload.name, "allowed": ", ".join(sorted(allowed))}
            )
        if allowed[suffix] != detected:
            actual = next(s for s, content_type in allowed.items() if content_type == detected)
            raise forms.ValidationError(
                _(
                    "“%(name)s” holds a %(actual)s file but its name ends in %(suffix)s. "
                    "Rename it to end in %(actual)s and choose it again."
                )
                % {"name": upload.name, "actual": actual, "suffix": suffix}
            )
        upload.checked_content_type = detected
        return upload

    def clean(self):
        cleaned = super().clean()
        if self.submitting:
            language = cleaned.get("language")
            if language and language != "en" and not cleaned.get("english_summary"):
                self.add_error(
                    "english_summary",
                    _("Reviewers come from other countries: please add a summary in English."),
                )
        return cleaned

    def nomination_values(self):
        """The model fields as cleaned, without themes (a many-to-many)."""
        return {name: self.cleaned_data[name] for name in self.Meta.fields if name != "themes"}

    def survey_answers(self):
        answers = {}
        for question in self.questions:
            value = self.cleaned_data.get(f"{SURVEY_PREFIX}{question.pk}")
            if value in (None, "", []):
                continue
            if question.kind == SurveyQuestion.Kind.NUMBER:
                value = float(value) if value % 1 else int(value)
            answers[str(question.pk)] = value
        return answers


class HubFilterForm(forms.Form):
    """The knowledge hub's search: words, and country, theme, kind and call."""

    q = forms.CharField(label=gettext_lazy("Words"), required=False, max_length=200)
    country = forms.ModelChoiceField(
        label=gettext_lazy("Country"),
        queryset=Country.objects.filter(is_partner=True),
        required=False,
        empty_label=gettext_lazy("All countries"),
    )
    theme = forms.ModelChoiceField(
        label=gettext_lazy("Theme"),
        queryset=Theme.objects.all(),
        required=False,
        empty_label=gettext_lazy("All themes"),
    )
    kind = forms.ChoiceField(
        label=gettext_lazy("Kind"),
        choices=[("", gettext_lazy("All kinds")), *Nomination.Kind.choices],
        required=False,
    )
    call = forms.ModelChoiceField(
        label=gettext_lazy("Call"),
        queryset=Call.objects.all(),
        required=False,
        empty_label=gettext_lazy("All calls"),
    )

    def filters(self):
        """Keyword arguments for ``hub_practices``; an invalid choice is left out."""
        self.is_valid()
        data = self.cleaned_data
        return {
            "words": data.get("q", ""),
            "country": data.get("country"),
            "theme": data.get("theme"),
            "kind": data.get("kind", ""),
            "call": data.get("call"),
        }


class PublicPracticeForm(forms.ModelForm):
    class Meta:
        model = PublishedPractice
        fields = ["title", "summary", "results", "transferability", "links"]
        widgets = {
            "summary": forms.Textarea(attrs={"rows": 6}),
            "results": forms.Textarea(attrs={"rows": 4}),
            "transferability": forms.Textarea(attrs={"rows": 3}),
            "links": forms.Textarea(attrs={"rows": 2}),
        }

    def clean_links(self):
        links = self.cleaned_data["links"]
        validate = URLValidator(schemes=["http", "https"])
        for line in links.splitlines():
            if line.strip():
                try:
                    validate(line.strip())
                except forms.ValidationError as error:
                    raise forms.ValidationError(
                        _("“%(link)s” is not a web address (https://…).") % {"link": line.strip()}
                    ) from error
        return links


class PracticeTranslationForm(forms.ModelForm):
    """One language's translation of the public text; both texts empty take it away."""

    class Meta:
        model = PublishedPracticeTranslation
        fields = ["title", "summary", "results", "transferability"]
        widgets = {
            "summary": forms.Textarea(attrs={"rows": 6}),
            "results": forms.Textarea(attrs={"rows": 4}),
            "transferability": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["title"].required = False
        self.fields["summary"].required = False
        for field in self.fields.values():
            # What is typed here is in the translation's language, the labels are not.
            field.widget.attrs["lang"] = self.instance.language

    def clean(self):
        data = super().clean()
        if bool(data.get("title", "").strip()) != bool(data.get("summary", "").strip()):
            raise forms.ValidationError(
                _(
                    "A translation needs both a title and a summary; "
                    "leave both empty to take the translation away."
                )
            )
        return data

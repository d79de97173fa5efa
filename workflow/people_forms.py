"""Forms of the invitations' pages (workflow/views/people.py)."""

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model, password_validation
from django.utils.translation import gettext_lazy as _

from nominations.models import Call, Country, Invitation


class InviteForm(forms.Form):
    """Invite one person; the choices are what ``user`` may give (``may_invite``)."""

    email = forms.EmailField(label=_("Email address"))
    role = forms.ChoiceField(label=_("Role"))
    country = forms.ModelChoiceField(
        label=_("Country"),
        queryset=Country.objects.none(),
        required=False,
        help_text=_("For a coordinator, the country they screen; for a reviewer, their own."),
    )
    call = forms.ModelChoiceField(
        label=_("Call"),
        queryset=Call.objects.none(),
        required=False,
        help_text=_("For a lead, the call they lead; for a reviewer, optional."),
    )
    language = forms.ChoiceField(
        label=_("Language of the invitation"),
        choices=settings.LANGUAGES,
        help_text=_("If the address has an account, its owner's language is used instead."),
    )
    message = forms.CharField(
        label=_("Personal message"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        if user.is_staff:
            roles = Invitation.Role.choices
            countries = Country.objects.filter(is_partner=True)
            calls = Call.objects.all()
        else:
            roles = [(Invitation.Role.REVIEWER.value, Invitation.Role.REVIEWER.label)]
            coordinated = Country.objects.filter(coordinators=user)
            led = Call.objects.filter(leads=user)
            # A coordinator names any call; a lead invites from any country, for their call.
            countries = Country.objects.filter(is_partner=True) if led.exists() else coordinated
            calls = Call.objects.all() if coordinated.exists() else led
        self.fields["role"].choices = roles
        self.fields["country"].queryset = countries.order_by("name")
        self.fields["call"].queryset = calls.order_by("-opens_at", "pk")
        self.fields["email"].widget.attrs["autocomplete"] = "off"


class DeclineForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason (optional)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class AcceptForm(forms.Form):
    """Accepting while signed in: a new reviewer names their organisation."""

    # Optional, as on the reviewer profile: a blank organisation keeps nobody out, where a
    # made-up one ("independent") could match a nomination's.
    organisation = forms.CharField(
        label=_("Organisation"),
        max_length=200,
        required=False,
        help_text=_("Where you work. Leave it empty if you work independently."),
    )

    def __init__(self, *args, needs_organisation, **kwargs):
        super().__init__(*args, **kwargs)
        if not needs_organisation:
            del self.fields["organisation"]


class NewAccountForm(AcceptForm):
    """Accepting without an account: the account is made with the invited address."""

    first_name = forms.CharField(label=_("First name"), max_length=150)
    last_name = forms.CharField(label=_("Last name"), max_length=150)
    password1 = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validation.password_validators_help_text_html(),
    )
    password2 = forms.CharField(
        label=_("Password (again)"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    language = forms.ChoiceField(label=_("Language"), choices=settings.LANGUAGES)

    def __init__(self, *args, email, **kwargs):
        super().__init__(*args, **kwargs)
        self.email = email
        self.fields["first_name"].widget.attrs["autocomplete"] = "given-name"
        self.fields["last_name"].widget.attrs["autocomplete"] = "family-name"
        order = ["first_name", "last_name", "organisation", "password1", "password2", "language"]
        self.order_fields([name for name in order if name in self.fields])

    def clean(self):
        data = super().clean()
        password = data.get("password1")
        if password and password != data.get("password2"):
            self.add_error("password2", _("The two passwords differ."))
        elif password:
            person = get_user_model()(
                email=self.email,
                first_name=data.get("first_name", ""),
                last_name=data.get("last_name", ""),
            )
            try:
                password_validation.validate_password(password, person)
            except forms.ValidationError as error:
                self.add_error("password1", error)
        return data

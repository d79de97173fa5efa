"""allauth's sign-up form, asking the person's name (ACCOUNT_FORMS in config/settings/base.py)."""

from allauth.account import forms as allauth_forms
from django import forms
from django.utils.translation import gettext_lazy as _


class SignupForm(allauth_forms.SignupForm):
    """Sign-up asks the name first, so that pages and emails greet people by it."""

    first_name = forms.CharField(label=_("First name"), max_length=150)
    last_name = forms.CharField(label=_("Last name"), max_length=150)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["first_name"].widget.attrs["autocomplete"] = "given-name"
        self.fields["last_name"].widget.attrs["autocomplete"] = "family-name"
        self.order_fields(["first_name", "last_name"])

    def save(self, request):
        user = super().save(request)
        if user is not None:  # None when the address is taken: allauth makes no account then
            user.first_name = self.cleaned_data["first_name"].strip()
            user.last_name = self.cleaned_data["last_name"].strip()
            user.save(update_fields=["first_name", "last_name"])
        return user

from allauth.core import ratelimit
from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy


class ErasureConfirmForm(forms.Form):
    """The person proves it is them, and that they mean it: their password, or their address.

    The password where the account has one; an account without a usable password (made
    by an administrator, never set) confirms with its email address instead.
    """

    confirmation = forms.CharField(
        label=gettext_lazy("Your password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, *args, request, **kwargs):
        super().__init__(*args, **kwargs)
        self.request = request
        self.user = user = request.user
        if not user.has_usable_password():
            self.fields["confirmation"] = forms.CharField(
                label=gettext_lazy("Your email address"),
                widget=forms.EmailInput(attrs={"autocomplete": "email"}),
            )

    def clean_confirmation(self):
        value = self.cleaned_data["confirmation"]
        # Counted with allauth's own re-authentication attempts, per account: a session
        # taken over by someone else is no way to guess the password without limit.
        if not ratelimit.consume(self.request, action="reauthenticate", user=self.user):
            raise forms.ValidationError(_("Too many attempts. Wait a few minutes, then try again."))
        if self.user.has_usable_password():
            if not self.user.check_password(value):
                raise forms.ValidationError(_("That is not your password."))
        elif value.strip().casefold() != self.user.email.casefold():
            raise forms.ValidationError(_("That is not your email address."))
        return value

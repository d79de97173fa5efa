"""An invitation email's link, from the nonce its message stores: ``{% invitation_link nonce %}``.

The outbox keeps the nonce, never the token; the token is derived when the email is
rendered (``Invitation.token_for``), so the stored message alone opens nothing.
"""

from django import template
from django.urls import reverse

from config.site import absolute_url

from ..models import Invitation

register = template.Library()


@register.simple_tag
def invitation_link(nonce):
    return absolute_url(reverse("people:invitation", args=[Invitation.token_for(nonce)]))

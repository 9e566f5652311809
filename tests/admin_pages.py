"""What the admin tests share: admin URLs built from each model's app label (never hard-coded),
staff users with exactly the permissions a test names, and the check that a page holds nothing of
a secret."""

import html as html_module
import re

from django.contrib.auth.models import Permission, User
from django.db.models import Model
from django.urls import reverse

# Long enough not to match ordinary words of a page, short enough to catch a cut secret.
FRAGMENT_LENGTH = 6


def admin_url(model: type[Model], view: str, *args) -> str:
    """e.g. admin_url(Order, "changelist"), admin_url(Integration, "change", pk)."""
    opts = model._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_{view}", args=args)


def staff_user(username: str, permissions: dict[type[Model], tuple[str, ...]]) -> User:
    """A staff user (not a superuser) with `permissions`, e.g. {Order: ("view",)}."""
    user = User.objects.create_user(username, password=f"{username}-pw-4471", is_staff=True)
    for model, actions in permissions.items():
        opts = model._meta
        for action in actions:
            user.user_permissions.add(
                Permission.objects.get(content_type__app_label=opts.app_label, codename=f"{action}_{opts.model_name}")
            )
    return user


def fragments(secret: str, length: int = FRAGMENT_LENGTH) -> set[str]:
    """Every piece of `secret` of `length` characters (the whole of a shorter one)."""
    if len(secret) <= length:
        return {secret}
    return {secret[i : i + length] for i in range(len(secret) - length + 1)}


def assert_nothing_of(text: str, *secrets: str) -> None:
    """No piece of any of `secrets` (FRAGMENT_LENGTH characters) appears in `text`."""
    for secret in secrets:
        leaked = sorted(piece for piece in fragments(secret) if piece in text)
        assert not leaked, f"pieces of a secret in the page: {leaked}"


def filter_links(html: str) -> list[str]:
    """The query strings of a changelist's filter links (`href="?..."`), unescaped."""
    return sorted({html_module.unescape(link) for link in re.findall(r'href="(\?[^"]*)"', html)})

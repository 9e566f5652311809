"""What monitor_health says about webhooks: per `internal` integration, whether its webhook is
set up and when its last valid event arrived."""

from hooks import schedule as pushed
from hooks.models import WebhookSetting
from orders.formats import integration_label, local_iso
from providers.models import Integration


def webhook_rows() -> list[dict]:
    """{"integration_id", "name", "webhook": "enabled" | "disabled" | "not set", "last_event_at",
    "schedule": "safety net" (its events arrive: hooks.schedule) | "learned"} of every internal
    integration, by name."""
    settings = {setting.integration_id: setting for setting in WebhookSetting.objects.all()}
    rows = []
    for integration in Integration.objects.order_by("name", "id").only("id", "name", "provider"):
        if (integration.provider or "").strip().lower() != "internal":
            continue
        setting = settings.get(integration.pk)
        state = "not set" if setting is None or not setting.secret else ("enabled" if setting.enabled else "disabled")
        last = setting.last_event_at if setting else None
        rows.append(
            {
                "integration_id": str(integration.pk),
                "name": integration.name,
                "webhook": state,
                "last_event_at": last.isoformat() if last else None,
                "schedule": "safety net" if integration.pk in pushed.PUSHED else "learned",
            }
        )
    return rows


def webhook_lines(rows: list[dict]) -> list[str]:
    """The text of monitor_health's webhook section (nothing without internal integrations)."""
    if not rows:
        return []
    lines = ["webhooks of internal integrations (last valid event):"]
    for row in rows:
        label = integration_label(row["name"], row["integration_id"])
        shown = local_iso(row["last_event_at"]) if row["last_event_at"] else "never"
        lines.append(f"  {label}: {row['webhook']}, last event {shown}, {row['schedule']} schedule")
    return lines

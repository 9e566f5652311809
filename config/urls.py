from django.contrib import admin
from django.urls import path

from hooks.views import order_status_event

urlpatterns = [
    path("admin/", admin.site.urls),
    path("hooks/internal/<uuid:integration_id>/", order_status_event, name="internal-webhook"),
]

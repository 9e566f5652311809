from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "orders"
    # The platform's own Django project on the same database has an app labelled "orders": a
    # label of our own keeps the two projects' migrations, content types and permissions apart.
    label = "monitor_orders"
    verbose_name = "Orders"

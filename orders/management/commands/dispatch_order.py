"""python manage.py dispatch_order --order-id UUID ...: place one not-yet-sent order with its provider."""

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from orders.dispatch import DispatchError, dispatch_order
from orders.management.errors import database_error_line
from providers.base import PlaceRequest


class Command(BaseCommand):
    help = "Place one order (externalStatus not_sent) with its integration's provider, at most once."

    def add_arguments(self, parser):
        parser.add_argument("--order-id", required=True)
        parser.add_argument("--integration-id", help="default: the order's providerId")
        parser.add_argument("--product", required=True, help="znet: oyun_bilgi_id; apstore, internal: package id")
        parser.add_argument("--denomination", default="", help="znet: kupur")
        parser.add_argument("--quantity", type=int, default=1)
        parser.add_argument(
            "--player-id", default="", help="player id or phone (znet: musteri_tel; internal: user_identifier)"
        )
        parser.add_argument("--player-info", default="", help="znet: oyuncu_bilgi; internal: extra_field")

    def handle(self, *args, **options):
        if options["quantity"] < 1:
            raise CommandError("--quantity must be at least 1")
        request = PlaceRequest(
            product=options["product"],
            denomination=options["denomination"],
            quantity=options["quantity"],
            player_id=options["player_id"],
            player_info=options["player_info"],
        )
        try:
            result = dispatch_order(options["order_id"].strip(), request, options["integration_id"])
        except DispatchError as exc:
            raise CommandError(str(exc)) from None
        except DatabaseError as exc:
            raise CommandError(database_error_line(exc)) from None
        self.stdout.write(f"order {result.order_id}: {result.external_status} {result.message}")

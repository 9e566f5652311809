"""python manage.py dispatch_order --order-id UUID ...: place one not-yet-sent order with its provider."""

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from config.env import Range
from dispatch.placing import DispatchError, dispatch_order
from orders.management.options import database_error_line, number_option, text_option, uuid_option
from providers.base import PlaceRequest

# PINs of one order are stored together in "pinCode" (120 characters): a handful fit at most.
QUANTITY = Range(1, 100, whole=True)
# Product and player ids are short codes; longer text is a paste gone wrong.
MAX_TEXT = 200


class Command(BaseCommand):
    help = "Place one order (externalStatus not_sent) with its integration's provider, at most once."

    def add_arguments(self, parser):
        parser.add_argument("--order-id", required=True)
        parser.add_argument("--integration-id", help="default: the order's providerId")
        parser.add_argument("--product", required=True, help="znet: oyun_bilgi_id; apstore, internal: package id")
        parser.add_argument("--denomination", default="", help="znet: kupur")
        parser.add_argument("--quantity", default="1", help=f"{QUANTITY.describe()} (default 1)")
        parser.add_argument(
            "--player-id", default="", help="player id or phone (znet: musteri_tel; internal: user_identifier)"
        )
        parser.add_argument("--player-info", default="", help="znet: oyuncu_bilgi; internal: extra_field")

    def handle(self, *args, **options):
        # Every option is read before the order is taken: a bad one leaves it not_sent.
        order_id = uuid_option("--order-id", options["order_id"])
        integration_id = uuid_option("--integration-id", options["integration_id"])
        request = PlaceRequest(
            product=text_option("--product", options["product"], MAX_TEXT, required=True),
            denomination=text_option("--denomination", options["denomination"], MAX_TEXT),
            quantity=int(number_option("--quantity", str(options["quantity"]), QUANTITY)),
            player_id=text_option("--player-id", options["player_id"], MAX_TEXT),
            player_info=text_option("--player-info", options["player_info"], MAX_TEXT),
        )
        try:
            result = dispatch_order(order_id, request, integration_id)
        except DispatchError as exc:
            raise CommandError(str(exc)) from None
        except DatabaseError as exc:
            raise CommandError(database_error_line(exc)) from None
        self.stdout.write(f"order {result.order_id}: {result.external_status} {result.message}")

from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "pbxportal.catalog"
    label = "catalog"

    partner_nav = [("Price book", "catalog:price_book")]
    staff_nav = [("Price books", "catalog:staff_price_books")]

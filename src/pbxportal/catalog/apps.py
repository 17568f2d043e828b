from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "pbxportal.catalog"
    label = "catalog"

    staff_nav = [("Price books", "catalog:staff_price_books")]

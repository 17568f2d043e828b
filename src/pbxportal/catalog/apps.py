from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "pbxportal.catalog"
    label = "catalog"

from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "clientela.api"
    label = "api"
    verbose_name = "API"

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SalesConfig(AppConfig):
    name = "clientela.sales"
    label = "sales"
    verbose_name = _("Sales")

    def ready(self) -> None:
        from clientela.core.panels import PANELS, register_card_panel
        from clientela.sales.panels import DEALS_PANEL

        if DEALS_PANEL not in PANELS:
            register_card_panel(DEALS_PANEL)

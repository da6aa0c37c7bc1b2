from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BillingConfig(AppConfig):
    name = "clientela.billing"
    label = "billing"
    verbose_name = _("Billing")

    def ready(self) -> None:
        from clientela.billing.panels import balance_panel_context, deal_panel_context
        from clientela.core.panels import CardPanel, register_card_panel

        register_card_panel(
            CardPanel(
                template="billing/panels/balance.html", context=balance_panel_context, column="side", order=40
            )
        )
        register_card_panel(
            CardPanel(
                template="billing/panels/deal.html",
                context=deal_panel_context,
                entities=("deal",),
                column="side",
                order=40,
            )
        )

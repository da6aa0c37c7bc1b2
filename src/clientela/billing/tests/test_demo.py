"""The demo catalogue and documents load over demo customers, consistently, and only once."""

from clientela.billing import selectors
from clientela.billing.demo import demo_billing
from clientela.billing.models import Document, DocumentKind, Payment, Product
from clientela.contacts.demo import demo_customers
from clientela.contacts.models import Company
from clientela.core.tenancy import workspace_scope


def test_demo_billing(owner_a, member_factory):
    ws = owner_a.workspace
    member_factory(ws, "sales")
    with workspace_scope(ws):
        demo_customers(workspace=ws, owners=[owner_a.user], people=60, seed=3)
        made = demo_billing(workspace=ws, owners=[owner_a.user], seed=3, customers=10)
        assert made > 0 and Product.objects.count() == 10
        assert Document.objects.filter(kind=DocumentKind.INVOICE).count() == made
        assert Payment.objects.exists()
        for invoice in Document.objects.filter(kind=DocumentKind.INVOICE):
            assert invoice.gross == sum(line.gross for line in invoice.lines.all())
        dates = list(
            Document.objects.filter(kind=DocumentKind.INVOICE)
            .order_by("year", "sequence")
            .values_list("issue_date", flat=True)
        )
        assert dates == sorted(dates)  # numbers follow dates
        company = Company.objects.filter(pk__in=Document.objects.values("company")).first()
        balance = selectors.customer_balance(workspace=ws, customer=company)
        assert balance.balance == balance.invoiced - balance.credited - balance.paid
        assert demo_billing(workspace=ws, owners=[owner_a.user], seed=3) == 0

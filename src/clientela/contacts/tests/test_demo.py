"""Demo customers: records a user can open, edit and save as they are."""

from django.core.validators import URLValidator

from clientela.contacts.demo import demo_customers
from clientela.contacts.models import Company


def test_demo_companies_have_websites_their_form_accepts(owner_a):
    ws = owner_a.workspace
    demo_customers(workspace=ws, owners=[owner_a.user], people=600, seed=3)
    validate = URLValidator()
    websites = list(Company.objects.filter(workspace=ws).values_list("website", flat=True))
    assert len(websites) == 100
    for website in websites:  # "Szabó és Társa Kft." once gave www.szaboestarsakft..example
        validate(website)

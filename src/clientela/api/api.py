"""The one NinjaAPI instance: authentication, problem details, and every app's router."""

from ninja import NinjaAPI

from clientela.api import problems
from clientela.api.auth import BearerToken, WorkspaceSession
from clientela.billing.api import router as billing_router
from clientela.contacts.api import router as contacts_router
from clientela.contacts.api_dedupe import router as dedupe_router
from clientela.contacts.api_imports import router as imports_router
from clientela.sales.api import router as sales_router
from clientela.workspaces.api import router as workspaces_router

api = NinjaAPI(
    title="Clientela API",
    version="1",
    description="REST API of Clientela. Authenticate with `Authorization: Bearer <token>` "
    "(create tokens under Settings → API tokens). Errors are RFC 9457 problem details.",
    auth=[BearerToken(), WorkspaceSession()],
    urls_namespace="api",
    docs_url="/docs",
    openapi_url="/openapi.json",
)
problems.install(api)

api.add_router("", workspaces_router)
api.add_router("", imports_router)
api.add_router("", dedupe_router)
api.add_router("", contacts_router)
api.add_router("", sales_router)
api.add_router("", billing_router)

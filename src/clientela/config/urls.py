from django.contrib import admin
from django.urls import include, path

from clientela.api.api import api
from clientela.web import views as web_views
from clientela.workspaces import views as auth

urlpatterns = [
    path("", include("clientela.web.urls")),
    path("", include("clientela.workspaces.urls")),
    path("", include("clientela.contacts.urls")),
    path("", include("clientela.sales.urls")),
    path("", include("clientela.billing.urls")),
    path("healthz", web_views.healthz, name="healthz"),
    path("sign-in/", auth.sign_in, name="login"),
    path("sign-out/", auth.sign_out, name="logout"),
    path("password-reset/", auth.PasswordResetView.as_view(), name="password_reset"),
    path("password-reset/sent/", auth.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "password-reset/<uidb64>/<token>/",
        auth.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path("password-reset/done/", auth.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
    path("invitations/<str:token>/", auth.invitation_accept, name="invitation_accept"),
    path("api/v1/", api.urls),
    path("admin/", admin.site.urls),
]

handler403 = "clientela.web.views.error_403"
handler404 = "clientela.web.views.error_404"
handler500 = "clientela.web.views.error_500"

from django.urls import path

from clientela.sales import views

app_name = "sales"

urlpatterns = [
    path("deals/", views.board, name="board"),
    path("deals/column/<int:stage_id>/", views.column, name="column"),
    path("deals/list/", views.deal_list, name="deal_list"),
    path("deals/new/", views.deal_create, name="deal_create"),
    path("deals/customers/", views.customer_options, name="customer_options"),
    path("deals/<int:deal_id>/", views.deal_detail, name="deal_detail"),
    path("deals/<int:deal_id>/edit/", views.deal_edit, name="deal_edit"),
    path("deals/<int:deal_id>/move/", views.deal_move, name="deal_move"),
    path("deals/qualify/person/<int:person_id>/", views.qualify_person, name="qualify_person"),
    path("deals/qualify/company/<int:company_id>/", views.qualify_company, name="qualify_company"),
    path("forecast/", views.forecast, name="forecast"),
    path("settings/pipelines/", views.pipeline_settings, name="pipeline_settings"),
    path("settings/pipelines/new/", views.pipeline_create, name="pipeline_create"),
    path("settings/pipelines/<int:pipeline_id>/", views.pipeline_update, name="pipeline_update"),
    path("settings/pipelines/<int:pipeline_id>/stages/", views.stage_add, name="stage_add"),
    path("settings/pipelines/<int:pipeline_id>/stages/order/", views.stage_reorder, name="stage_reorder"),
    path("settings/stages/<int:stage_id>/", views.stage_update, name="stage_update"),
    path("settings/stages/<int:stage_id>/retire/", views.stage_retire, name="stage_retire"),
    path("settings/stages/<int:stage_id>/restore/", views.stage_restore, name="stage_restore"),
]

"""URLs of the input pages (under /assessment/, namespace "assessment") and of the public
questionnaire (`public_urlpatterns`, under /survey/, namespace "survey")."""

from django.urls import path

from . import inputs as views

urlpatterns = [
    path("inputs/", views.hub, name="inputs"),
    path("reports/", views.report_list, name="report-list"),
    path("reports/<str:code>/<int:year>/<int:month>/", views.report_form, name="report-form"),
    path("surveys/", views.survey_villages, name="survey-villages"),
    path("surveys/qr/", views.survey_qr, name="survey-qr"),
    path("surveys/qr/<str:code>.svg", views.survey_qr_svg, name="survey-qr-svg"),
    path("surveys/<str:code>/sample/", views.survey_sample_page, name="survey-sample"),
    path(
        "surveys/<str:code>/sample/<int:year>/<int:round_no>/<int:household>/",
        views.survey_entry,
        name="survey-entry",
    ),
    path("groups/", views.group_list, name="group-list"),
    path("groups/<int:pk>/", views.group_edit, name="group-edit"),
    path("scoring/", views.scoring, name="scoring"),
    path("scoring/<int:group_pk>/<str:code>/", views.score_unit, name="score-unit"),
    path("reviews/", views.review_list, name="review-list"),
    path("vetoes/", views.veto_list, name="veto-list"),
    path("vetoes/new/", views.veto_new, name="veto-new"),
    path("vetoes/<int:pk>/", views.veto_detail, name="veto-detail"),
    path("vetoes/<int:pk>/evidence/", views.veto_evidence, name="veto-evidence"),
    path("vetoes/<int:pk>/<str:step>/", views.veto_act, name="veto-act"),
    path("awards/", views.award_list, name="award-list"),
    path("tolerance/", views.claim_list, name="claim-list"),
    path("tolerance/new/", views.claim_new, name="claim-new"),
    path("tolerance/<int:pk>/", views.claim_detail, name="claim-detail"),
    path("tolerance/<int:pk>/evidence/", views.claim_evidence, name="claim-evidence"),
    path("rectifications/", views.rectification_list, name="rectification-list"),
    path("rectifications/<int:pk>/", views.rectification_detail, name="rectification-detail"),
    path("rectifications/<int:pk>/evidence/", views.rectification_evidence, name="rectification-evidence"),
    path("rectifications/<int:pk>/notice.pdf", views.rectification_notice, name="rectification-notice"),
    path("rectifications/<int:pk>/<str:step>/", views.rectification_act, name="rectification-act"),
]

public_urlpatterns = [
    path("<str:code>/", views.survey_public, name="form"),
    path("<str:code>/thanks/", views.survey_thanks, name="thanks"),
]

"""URLs of the input pages (under /assessment/, namespace "assessment") and of the public
questionnaire (`public_urlpatterns`, under /survey/, namespace "survey")."""

from django.urls import path

from . import awards, inputs, monthly_reports, rectification, scores, surveys, tolerance, vetoes

urlpatterns = [
    path("inputs/", inputs.hub, name="inputs"),
    path("reports/", monthly_reports.report_list, name="report-list"),
    path("reports/<str:code>/<int:year>/<int:month>/", monthly_reports.report_form, name="report-form"),
    path("surveys/", surveys.survey_villages, name="survey-villages"),
    path("surveys/qr/", surveys.survey_qr, name="survey-qr"),
    path("surveys/qr/<str:code>.svg", surveys.survey_qr_svg, name="survey-qr-svg"),
    path("surveys/<str:code>/sample/", surveys.survey_sample_page, name="survey-sample"),
    path(
        "surveys/<str:code>/sample/<int:year>/<int:round_no>/<int:household>/",
        surveys.survey_entry,
        name="survey-entry",
    ),
    path("groups/", scores.group_list, name="group-list"),
    path("groups/<int:pk>/", scores.group_edit, name="group-edit"),
    path("scoring/", scores.scoring, name="scoring"),
    path("scoring/<int:group_pk>/<str:code>/", scores.score_unit, name="score-unit"),
    path("reviews/", scores.review_list, name="review-list"),
    path("vetoes/", vetoes.veto_list, name="veto-list"),
    path("vetoes/new/", vetoes.veto_new, name="veto-new"),
    path("vetoes/<int:pk>/", vetoes.veto_detail, name="veto-detail"),
    path("vetoes/<int:pk>/evidence/", vetoes.veto_evidence, name="veto-evidence"),
    path("vetoes/<int:pk>/<str:step>/", vetoes.veto_act, name="veto-act"),
    path("awards/", awards.award_list, name="award-list"),
    path("tolerance/", tolerance.claim_list, name="claim-list"),
    path("tolerance/new/", tolerance.claim_new, name="claim-new"),
    path("tolerance/<int:pk>/", tolerance.claim_detail, name="claim-detail"),
    path("tolerance/<int:pk>/evidence/", tolerance.claim_evidence, name="claim-evidence"),
    path("rectifications/", rectification.rectification_list, name="rectification-list"),
    path("rectifications/<int:pk>/", rectification.rectification_detail, name="rectification-detail"),
    path("rectifications/<int:pk>/evidence/", rectification.rectification_evidence, name="rectification-evidence"),
    path("rectifications/<int:pk>/notice.pdf", rectification.rectification_notice, name="rectification-notice"),
    path("rectifications/<int:pk>/<str:step>/", rectification.rectification_act, name="rectification-act"),
]

public_urlpatterns = [
    path("<str:code>/", surveys.survey_public, name="form"),
    path("<str:code>/thanks/", surveys.survey_thanks, name="thanks"),
]

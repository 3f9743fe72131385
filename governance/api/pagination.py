from django.utils.translation import gettext_lazy as _
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response

from governance.counting import BoundedPaginator


class StandardPagination(PageNumberPagination):
    """Page-number pagination; `page_size` may be asked for up to 500.

    `count` is exact up to `LIST_EXACT_COUNT_LIMIT` rows; beyond it it is the database's estimate and
    `count_exact` is false (governance/counting.py). Follow `next` to page: it is present while there
    may be more rows, and a page past the data is empty rather than an error.
    """

    page_size_query_param = "page_size"
    max_page_size = 500
    django_paginator_class = BoundedPaginator

    def get_paginated_response(self, data):
        paginator = self.page.paginator
        return Response(
            {
                "count": paginator.count,
                "count_exact": paginator.count_exact,
                "next": self.get_next_link(),
                "previous": self.get_previous_link(),
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema):
        response = super().get_paginated_response_schema(schema)
        response["required"] = ["count", "count_exact", "results"]
        response["properties"]["count"]["description"] = _(
            "匹配的记录数：不超过 LIST_EXACT_COUNT_LIMIT（设置项）时为精确值，超过时为数据库的估计值。"
        )
        properties = {
            "count": response["properties"]["count"],
            "count_exact": {
                "type": "boolean",
                "description": _("count 是否为精确值；为 false 时 count 是估计值，请按 next 链接翻页。"),
            },
        }
        response["properties"] = {**properties, **response["properties"]}
        return response

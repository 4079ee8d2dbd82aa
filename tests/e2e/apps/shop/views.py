"""A view that fails, as an application's bug would."""

from django.http import HttpRequest, HttpResponse


def order(request: HttpRequest, order_id: int) -> HttpResponse:
    total = {"items": 3}
    return HttpResponse(str(total["price"] * order_id))

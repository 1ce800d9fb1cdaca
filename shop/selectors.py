from django.db.models import QuerySet

from .models import Frame


def frame_list_active() -> QuerySet[Frame]:
    return Frame.objects.filter(is_active=True)

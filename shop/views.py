from django.shortcuts import get_object_or_404, render

from . import selectors


def catalog(request):
    return render(request, "shop/catalog.html", {"frames": selectors.frame_list_active()})


def frame_detail(request, slug):
    frame = get_object_or_404(selectors.frame_list_active(), slug=slug)
    return render(request, "shop/frame_detail.html", {"frame": frame})

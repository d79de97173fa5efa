from django.urls import path

app_name = "nominations"
urlpatterns = []

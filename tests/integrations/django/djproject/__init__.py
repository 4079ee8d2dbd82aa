"""A tiny Django project (settings, urls, views, templates, a management command) the Django tests run."""

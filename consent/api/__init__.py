"""The consent app's REST API (DRF), mounted under /api/v1/ by consent/api_urls.py."""

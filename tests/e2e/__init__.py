"""Browser tests (Playwright driving Debian's Chromium); see conftest.py."""

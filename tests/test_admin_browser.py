"""The admin in a real browser (Debian's headless Chromium driven by Selenium): log in, the order
list, an order's page, an integration's form with "Test connection", and "Check now" against the
znet sandbox. No page the browser renders holds a provider secret or an unmasked PIN."""

import os
import shutil
import tempfile

import pytest
from django.contrib.admin.templatetags.admin_urls import admin_urlname
from django.urls import reverse
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import Select, WebDriverWait

from orders.models import ExternalStatus, Order
from providers.models import Integration
from tests.factories import SANDBOX_KOD, SANDBOX_SIFRE

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

CHROMIUM = shutil.which("chromium")
CHROMEDRIVER = shutil.which("chromedriver")
# Offline and quiet: no first-run pages, updates, sync or background requests of its own.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1280,1024",
)
DELIVERED_PIN = "QWER-TYUI-OPAS-7788"
FINAL_PIN = "ZXCV-BNML-KJHG-4321"
PASSWORD = "browser-admin-pw-1"


@pytest.fixture
def browser():
    if not (CHROMIUM and CHROMEDRIVER):
        message = "needs Debian's chromium and chromium-driver: apt-get install chromium chromium-driver"
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    profile = tempfile.mkdtemp(prefix="admin-browser-")
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


class Session:
    """The browser on the live server; keeps every page it saw for the secret check."""

    def __init__(self, driver, base_url):
        self.driver = driver
        self.base_url = base_url
        self.pages = []

    def open(self, path):
        self.driver.get(self.base_url + path)
        return self.page()

    def page(self):
        html = self.driver.page_source
        self.pages.append(html)
        return html

    def wait_for(self, css):
        return WebDriverWait(self.driver, 30).until(
            expected_conditions.presence_of_element_located((By.CSS_SELECTOR, css))
        )

    def find(self, css):
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def messages(self):
        return self.wait_for("ul.messagelist").text


def test_operator_session_in_chromium(browser, live_server, admin_user, integration, make_order, sandbox):
    admin_user.set_password(PASSWORD)
    admin_user.save()
    final = make_order(external_status=ExternalStatus.DONE, pin_code=FINAL_PIN)
    active = make_order(outcome="completed", checks_until_final=1, pin=DELIVERED_PIN)
    session = Session(browser, live_server.url)

    session.open("/admin/login/?next=/admin/")
    session.find("#id_username").send_keys(admin_user.username)
    session.find("#id_password").send_keys(PASSWORD)
    session.find("input[type=submit]").click()
    session.wait_for("#user-tools")
    session.page()

    orders = session.open(reverse(admin_urlname(Order._meta, "changelist")))
    assert "znet sandbox" in session.find(f"#result_list a[title='{integration.pk}']").text
    assert "none (final)" in orders

    detail = session.open(reverse(admin_urlname(Order._meta, "change"), args=[final.pk]))
    assert "****4321" in detail

    session.open(reverse(admin_urlname(Integration._meta, "change"), args=[integration.pk]))
    assert session.find("#id_name").tag_name == "input"
    assert session.find("#id_name").get_attribute("maxlength") == "120"
    assert Select(session.find("#id_provider")).first_selected_option.get_attribute("value") == "znet"
    session.find("#test-connection").click()
    assert "OK: 1 product in the catalog" in session.messages()
    session.page()

    session.open(reverse(admin_urlname(Order._meta, "changelist")))
    session.find(f"input[name=_selected_action][value='{active.pk}']").click()
    Select(session.find("select[name=action]")).select_by_value("check_now")
    session.find("button[name=index]").click()
    message = session.messages()
    session.page()
    assert f"Order {active.pk}: completed" in message and "****7788" in message
    assert "Checked 1 of 1 selected orders (at most 5 per click, 10 s)." in message
    assert Order.objects.get(pk=active.pk).pin_code == DELIVERED_PIN

    assert len(session.pages) == 8  # login, index, list, order, form, tested, list, checked
    for html in session.pages:
        for secret in (SANDBOX_KOD, SANDBOX_SIFRE, DELIVERED_PIN, FINAL_PIN, PASSWORD):
            assert secret not in html

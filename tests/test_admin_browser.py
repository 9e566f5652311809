"""The admin in a real browser (Debian's headless Chromium driven by Selenium), as staff who may
change orders and integrations and as staff who may only view them: log in, the order list, an
order's page, an integration's form with "Test connection", "Check now" against the znet sandbox,
and URL lookups that try to read a PIN. No page the browser renders holds a provider secret or an
unmasked PIN, and a prefix that matches a PIN gets the same page as one that does not."""

import os
import shutil
import tempfile

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import Select, WebDriverWait

from orders.models import ExternalStatus, Order
from providers.models import Integration
from tests.admin_pages import admin_url, assert_nothing_of, staff_user
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
PASSWORD = "Qz7-pw-Xk9w4"


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

    def log_in(self, user):
        user.set_password(PASSWORD)
        user.save()
        self.open("/admin/login/?next=/admin/")
        self.find("#id_username").send_keys(user.username)
        self.find("#id_password").send_keys(PASSWORD)
        self.find("input[type=submit]").click()
        self.wait_for("#user-tools")
        self.page()

    def assert_no_secret_seen(self):
        for html in self.pages:
            assert_nothing_of(html, SANDBOX_KOD, SANDBOX_SIFRE, DELIVERED_PIN, FINAL_PIN, PASSWORD)


def test_operator_session_in_chromium(browser, live_server, integration, make_order, sandbox):
    operator = staff_user("operator", {Order: ("view", "change"), Integration: ("view", "change")})
    final = make_order(external_status=ExternalStatus.COMPLETED, pin_code=FINAL_PIN)
    active = make_order(outcome="completed", checks_until_final=1, pin=DELIVERED_PIN)
    session = Session(browser, live_server.url)
    session.log_in(operator)

    orders = session.open(admin_url(Order, "changelist"))
    assert "znet sandbox" in session.find(f"#result_list a[title='{integration.pk}']").text
    assert "none (final)" in orders

    detail = session.open(admin_url(Order, "change", final.pk))
    assert "****4321" in detail

    form = session.open(admin_url(Integration, "change", integration.pk))
    assert "kod: set, ends in 21; sifre: set, ends in 17; apiToken: not set" in form
    assert session.find("#id_name").tag_name == "input"
    assert session.find("#id_name").get_attribute("maxlength") == "120"
    assert session.find("#id_kod").get_attribute("value") == ""
    assert Select(session.find("#id_provider")).first_selected_option.get_attribute("value") == "znet"
    session.find("#test-connection").click()
    assert "reached znet: 1 product in the catalog" in session.messages()
    session.page()

    session.open(admin_url(Order, "changelist"))
    session.find(f"input[name=_selected_action][value='{active.pk}']").click()
    Select(session.find("select[name=action]")).select_by_value("check_now")
    session.find("button[name=index]").click()
    message = session.messages()
    session.page()
    assert f"Order {active.pk}: completed" in message and "****7788" in message
    assert "Checked 1 of 1 selected orders (at most 5 per click, 10 s)." in message
    assert Order.objects.get(pk=active.pk).pin_code == DELIVERED_PIN

    assert len(session.pages) == 8  # login, index, list, order, form, tested, list, checked
    session.assert_no_secret_seen()


def test_view_only_session_in_chromium(browser, live_server, integration, make_order):
    viewer = staff_user("viewer", {Order: ("view",), Integration: ("view",)})
    final = make_order(external_status=ExternalStatus.COMPLETED, pin_code=FINAL_PIN)
    session = Session(browser, live_server.url)
    session.log_in(viewer)

    orders = session.open(admin_url(Order, "changelist"))
    assert str(final.pk) in orders and "check_now" not in orders
    assert "****4321" in session.open(admin_url(Order, "change", final.pk))

    page = session.open(admin_url(Integration, "change", integration.pk))
    assert "kod: set, ends in 21; sifre: set, ends in 17; apiToken: not set" in page
    assert not browser.find_elements(By.CSS_SELECTOR, "input[name=kod], input[name=sifre], #test-connection")
    session.open(admin_url(Integration, "changelist"))
    session.open(admin_url(Integration, "history", integration.pk))

    # The oracle: the order's id and a PIN prefix that matches, then one that does not.
    orders_url = admin_url(Order, "changelist")
    matching = session.open(f"{orders_url}?id={final.pk}&pin_code__startswith={FINAL_PIN[:4]}")
    not_matching = session.open(f"{orders_url}?id={final.pk}&pin_code__startswith=QQQQ")
    password_probe = session.open(f"{admin_url(Integration, 'changelist')}?sifre__startswith={SANDBOX_SIFRE[:3]}")
    assert matching == not_matching == password_probe
    assert "Bad Request (400)" in matching

    assert len(session.pages) == 10  # login, index, list, order, integration, list, history, 3 probes
    session.assert_no_secret_seen()

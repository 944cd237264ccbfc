"""The console in a real browser: Debian's headless Chromium driven by Selenium
through Debian's chromedriver, against the real ``idgraph serve`` and a real
``idgraph worker``, with no network beyond this machine.

Sign in, search a phone as a caller says it, open the profile, one node per
identifier in the picture, an explanation, a segment (with a mistake shown in
place, then fixed), an export followed to its download, ``/docs``, the page at
phone width, keyboard access. Screenshots of each page go to
``IDGRAPH_SCREENSHOTS`` when it is set (``scripts/console_screenshots.sh`` writes
docs/console/ that way), else to the test's temporary directory.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.access.keys import SCOPES, create_key
from app.config import Config
from app.linking import record_health
from app.resources import Resources
from app.rfm import run_rfm
from graph.ingest.readers import read_records
from graph.resolve.resolution import resolve
from ml.synthetic import GeneratedData
from tests.conftest import IDGRAPH, serving, store_env

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"

pytestmark = pytest.mark.browser


@pytest.fixture
def browser(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    assert os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER), (
        "Debian's chromium and chromium-driver are needed (scripts/test.sh installs them "
        "with apt-get; `pytest -m 'not browser'` leaves these tests out)"
    )
    monkeypatch.setenv("SE_OFFLINE", "true")  # Selenium Manager never downloads a driver

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                     "--window-size=1280,800", "--disable-gpu", "--no-first-run"):  # fmt: skip
        options.add_argument(argument)
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    options.add_experimental_option("prefs", {"download.default_directory": str(downloads),
                                              "download.prompt_for_download": False})  # fmt: skip
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    # Chromium keeps its singleton socket in a directory of $TMPDIR that it leaves
    # behind (one in /tmp for every run): a short folder of its own, removed after (a
    # unix socket's path may not be longer than 107 bytes, so not under tmp_path)
    scratch = tempfile.mkdtemp(prefix="idgraph-chromium-")
    service = Service(executable_path=CHROMEDRIVER, env={**os.environ, "TMPDIR": scratch})
    try:
        driver = webdriver.Chrome(options=options, service=service)
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise
    driver.downloads = downloads  # type: ignore[attr-defined]
    driver.implicitly_wait(0)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(scratch, ignore_errors=True)


def _shots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("IDGRAPH_SCREENSHOTS") or tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _wait(driver: Any, condition: Any, timeout: float = 20) -> Any:
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout).until(condition)


#: elements that make the page wider than the window (at phone width: none may; a
#: wide table scrolls inside its own box)
WIDER_THAN_THE_SCREEN = """
var out = [];
function scrolls(el) {
  for (var p = el.parentElement; p; p = p.parentElement) {
    var o = getComputedStyle(p).overflowX;
    if (o === "auto" || o === "scroll" || o === "hidden") { return true; }
  }
  return false;
}
document.querySelectorAll("body *").forEach(function (el) {
  var r = el.getBoundingClientRect();
  if (r.right > window.innerWidth + 1 && el.offsetParent !== null && !scrolls(el)) {
    out.push(el.tagName + "#" + el.id + "." + el.className + " " + Math.round(r.right));
  }
});
return out.slice(0, 10);
"""


def _no_page_errors(driver: Any) -> None:
    """Nothing the page did failed: no script error, no CSP refusal, no 4xx/5xx asset."""
    problems = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    assert not problems, problems


def test_the_console_in_a_real_browser(
    browser: Any, config: Config, resources: Resources, small_data: GeneratedData,
    tmp_path: Path,
) -> None:  # fmt: skip
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import Select

    res = resources
    res.ingester().ingest_records(read_records(small_data.events_path, "jsonl"))
    resolve(res.store, res.registry, res.resolve_settings())
    record_health(res, model_links=0)
    run_rfm(res)
    key, _ = create_key(res.store, "browser-test", SCOPES)
    phone, profile_id = next(
        (i.value, pid) for i, pid in sorted(res.store.assignments().items())
        if i.type == "phone" and len(res.store.profile_member_keys(pid)) >= 3
    )  # fmt: skip
    spoken = f"({phone[2:5]}) {phone[5:8]}-{phone[8:]}"
    shots = _shots(tmp_path)
    env = {**store_env(config), "IDGRAPH_DATA_DIR": str(config.data_dir)}
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("IDGRAPH_")} | env
    worker = subprocess.Popen([IDGRAPH, "worker"], env=full_env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        with serving(config.data_dir, env=env) as live:
            d = browser
            # -- sign in (a page with a password field) --------------------------------
            d.get(live.base + "/")
            assert "/sign-in" in d.current_url
            field = d.find_element(By.ID, "api_key")
            assert field.get_attribute("type") == "password"
            d.save_screenshot(str(shots / "sign-in.png"))
            field.send_keys(key + Keys.ENTER)
            _wait(d, ec.presence_of_element_located((By.ID, "q")))
            session = d.get_cookie("idgraph_session")
            assert session and session["httpOnly"] and session["secure"]
            assert session["sameSite"] == "Strict"
            # keyboard: the first Tab reaches the skip link
            d.find_element(By.TAG_NAME, "body").send_keys(Keys.TAB)
            assert d.switch_to.active_element.get_attribute("class") == "skip"

            # -- search a phone as a caller says it --------------------------------------
            box = d.find_element(By.ID, "q")
            assert box.get_attribute("type") == "search"
            box.send_keys(spoken + Keys.ENTER)
            _wait(d, ec.url_contains(f"/profiles/{profile_id}"))
            _wait(d, lambda drv: drv.find_element(By.ID, "cluster").get_attribute("data-ready"))
            rows = d.find_elements(By.CSS_SELECTOR, "button.why")
            members = d.execute_script("return idgraphCluster.get().nodes('[?member]').length")
            assert members == len(rows) == len(res.store.profile_member_keys(profile_id))
            d.save_screenshot(str(shots / "profile.png"))

            # -- an explanation: a node through its keyboard button, then a link ------
            devices = [
                b for b in rows if b.get_attribute("data-type") in ("cookie_id", "device_id")
            ]
            (devices or rows)[0].click()  # a chain of links to explain, when there is one
            panel = d.find_element(By.ID, "explain")
            _wait(d, lambda drv: "Why it is here" in panel.text)
            d.execute_script("document.getElementById('picture').scrollIntoView()")
            d.save_screenshot(str(shots / "cluster.png"))
            d.execute_script("idgraphCluster.get().edges()[0].emit('tap')")
            _wait(d, lambda drv: "Between" in panel.text)
            d.find_element(By.ID, "show-ips").click()
            weak = "var c = idgraphCluster.get(); return c && c.nodes('[?weak]').length > 0"
            _wait(d, lambda drv: drv.execute_script(weak))

            # -- a segment: a mistake shown where it is, then saved ---------------------
            d.find_element(By.LINK_TEXT, "Segments").click()
            d.find_element(By.LINK_TEXT, "New segment").click()
            d.find_element(By.ID, "name").send_keys("Bought and reachable")
            Select(d.find_element(By.ID, "row-0-what")).select_by_value("purchase_count")
            Select(d.find_element(By.ID, "row-0-op")).select_by_value(">=")
            d.find_element(By.ID, "row-0-value").send_keys("many")
            Select(d.find_element(By.ID, "row-1-what")).select_by_value("has")
            d.find_element(By.ID, "row-1-value").send_keys("email")
            d.find_element(By.CSS_SELECTOR, ".segment-form button[type=submit]").click()
            error = _wait(d, ec.presence_of_element_located((By.ID, "row-0-value-error")))
            assert error.text and d.find_element(By.ID, "row-0-value").get_attribute(
                "aria-invalid") == "true"  # fmt: skip
            d.save_screenshot(str(shots / "segment-error.png"))
            expected = d.get_log("browser")  # the form's answer was 422, as it should be
            assert all("422" in e["message"] for e in expected if e["level"] == "SEVERE")
            before = len(d.find_elements(By.CSS_SELECTOR, "table.conditions tbody tr"))
            d.find_element(By.ID, "add-condition").click()  # two more rows, renumbered
            d.find_element(By.ID, "add-condition").click()
            assert d.switch_to.active_element.get_attribute("id") == f"row-{before + 1}-what"
            value = d.find_element(By.ID, "row-0-value")
            value.clear()
            value.send_keys("1")
            d.find_element(By.CSS_SELECTOR, ".segment-form button[type=submit]").click()
            _wait(d, ec.presence_of_element_located((By.ID, "member-preview")))
            count = _wait(d, lambda drv: drv.find_element(By.CSS_SELECTOR, "h2 .num.loaded"))
            assert int(count.text.replace(",", "")) > 0
            d.execute_script("document.getElementById('members').scrollIntoView()")
            d.save_screenshot(str(shots / "segment.png"))

            # -- an export followed to its download --------------------------------------
            d.find_element(By.CSS_SELECTOR, "input[name=format][value=csv]").click()
            d.find_element(By.XPATH, "//button[text()='Start export']").click()
            link = _wait(d, ec.visibility_of_element_located((By.ID, "download-link")), 60)
            assert "finished" in d.find_element(By.ID, "state").text
            d.save_screenshot(str(shots / "export.png"))
            link.click()
            deadline = time.monotonic() + 20
            files: list[Path] = []
            while time.monotonic() < deadline and not files:
                files = [f for f in d.downloads.iterdir() if f.suffix == ".csv"]
                time.sleep(0.2)
            assert files and files[0].read_text().startswith("profile_id")

            d.find_element(By.LINK_TEXT, "Segments").click()
            _wait(d, ec.presence_of_element_located((By.CSS_SELECTOR, "td.num.loaded")))
            d.save_screenshot(str(shots / "segments.png"))
            d.find_element(By.LINK_TEXT, "Operations").click()
            assert "Profiles per size" in d.page_source
            d.save_screenshot(str(shots / "operations.png"))
            _no_page_errors(d)

            # -- at phone width, nothing is wider than the screen ---------------------
            d.set_window_size(390, 844)
            d.get(f"{live.base}/profiles/{profile_id}")
            _wait(d, lambda drv: drv.find_element(By.ID, "cluster").get_attribute("data-ready"))
            wide = d.execute_script(WIDER_THAN_THE_SCREEN)
            assert not wide, wide
            assert d.execute_script(
                "return document.documentElement.scrollWidth <= window.innerWidth + 1"
            )
            d.save_screenshot(str(shots / "profile-phone.png"))
            d.set_window_size(1280, 800)

            # -- /docs from local files ---------------------------------------------------
            d.get(live.base + "/docs")
            title = _wait(
                d, ec.presence_of_element_located((By.CSS_SELECTOR, ".swagger-ui .info .title"))
            )
            assert "idgraph" in title.text
            d.save_screenshot(str(shots / "docs.png"))
    finally:
        worker.terminate()
        _out, err = worker.communicate(timeout=30)
    assert "Traceback" not in err, err[-3000:]

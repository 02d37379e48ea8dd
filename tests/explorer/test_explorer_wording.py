"""Products by name, every value in the page's language, and scores with a one-line explanation built from the
API's score parts and churn contributors."""

from __future__ import annotations

import re
from typing import Any

import pytest

from loaders.generator.people import CITY_NAMES
from tests.explorer.conftest import MANAGER, Bank, shot, sign_in
from tests.explorer.test_explorer import _consenting_with_recommendations, open_customer

pytestmark = pytest.mark.browser

# Codes the API sends that a reader must never see as such (case matters: "Gold" is the English label).
RAW_VALUES = re.compile(
    r"\b(retail|private|sme|corporate|active|churned|gold|silver|platinum|diamond|standard|growth|maturity|"
    r"decline|acquisition|[A-Z]+_OF|REFERRED|GUARANTEES|EMPLOYED_BY|SUPPLIES)\b"
)
ENGLISH_IN_CHINESE = re.compile(r"\b(network|similar|eligibility|manager|strongest)\b")

PART_NAMES = {
    "network": ("关系网络", "network"),
    "similar": ("相似客户", "similar customers"),
    "model": ("模型", "model"),
    "own": ("自身", "own"),
}


def test_products_by_name_values_translated_and_scores_explained(page: Any, bank: Bank) -> None:
    customer_id = _consenting_with_recommendations(bank)
    with bank.api("manager") as api:
        profile = api.get(f"/customers/{customer_id}").json()
        recommendations = api.get(f"/customers/{customer_id}/recommendations").json()["recommendations"]
        churn = api.get(f"/customers/{customer_id}/churn-risk").json()
        catalogue = api.get("/products").json()["items"]
    names = {product["id"]: product["name"] for product in catalogue}
    categories = {product["id"]: product["category"] for product in catalogue}
    sign_in(page, bank.tokens["manager"])
    open_customer(page, customer_id)

    panel = page.inner_text("#side-panel")
    held = [account["product_id"] for account in profile["accounts"] if account["product_id"]]
    assert held, "the customer holds products"
    for code in held + [item["product_code"] for item in recommendations]:
        assert code not in panel, f"product code {code} shown instead of its name"
    for code in held:
        assert names[code] in panel
    chinese = panel + page.inner_text("#who")
    assert not RAW_VALUES.search(chinese) and not ENGLISH_IN_CHINESE.search(chinese), chinese

    # The best recommendation's line names its score parts in Chinese, with the API's values.
    parts = {name: value for name, value in recommendations[0]["parts"].items() if name != "eligibility"}
    assert parts, "the API returns the parts of the score"
    line = page.inner_text("#recommendations li >> nth=0 >> .why")
    for name, value in parts.items():
        assert f"{PART_NAMES[name][0]} {value:.2f}" in line
    if churn["contributors"]:  # whether this customer has churned neighbours depends on the generated bank
        top = churn["contributors"][0]
        assert (top["node"]["name"] or "") in page.inner_text("#churn-why")
    shot(page, "wording-chinese")

    page.click("#lang-toggle")
    page.wait_for_function("() => document.querySelector('#side-panel').innerText.includes('Churn risk')")
    panel = page.inner_text("#side-panel")
    assert not RAW_VALUES.search(panel), panel
    assert "Relationship manager" in page.inner_text("#who")
    line = page.inner_text("#recommendations li >> nth=0 >> .why")
    for name, value in parts.items():
        assert f"{PART_NAMES[name][1]} {value:.2f}" in line
    assert not re.search("[\u4e00-\u9fff]", page.inner_text("#side-panel .facts dt"))
    # The bank's Chinese product names stay (the contract's), glossed in English with their kind of product.
    english = {"deposit": "Deposit", "investment": "Investment", "loan": "Loan", "credit": "Credit card"}
    for code in held:
        if categories[code] in english:
            assert f"{names[code]} ({english[categories[code]]})" in panel, panel
    # An industry is a section of the national classification: a coded value, translated.
    facts = dict(
        zip(*(page.locator(f"#side-panel .facts {tag}").all_inner_texts() for tag in ("dt", "dd")), strict=True)
    )
    assert bool(profile["customer"]["industry"]) == ("Industry" in facts)
    assert not re.search("[\u4e00-\u9fff]", facts.get("Industry", "")), facts
    product = page.inner_text("#recommendations li >> nth=0 >> .product")
    assert product.startswith(names[recommendations[0]["product_code"]] + " (") and product.endswith(")")
    # A city by its English name (pinyin), as the bank's English documents write it.
    city = profile["customer"]["city"]
    assert city and facts["City"] == english_city_names(page, [city])[city], facts
    shot(page, "wording-english")


def english_city_names(page: Any, cities: list[str]) -> dict[str, str]:
    """What the page's English view calls each city (the page must be in English)."""
    names: dict[str, str] = page.evaluate(
        """async (cities) => {
            const { cityName } = await import("/static/js/i18n.js");
            return Object.fromEntries(cities.map((city) => [city, cityName(city)]));
        }""",
        cities,
    )
    return names


def test_every_city_of_the_generated_bank_has_an_english_name(page: Any, bank: Bank) -> None:
    sign_in(page, bank.tokens["manager"])
    page.click("#lang-toggle")
    names = english_city_names(page, [*CITY_NAMES, "杭州市", "未列之城"])
    assert all(re.fullmatch(r"[A-Z][a-z']+( [A-Z][a-z]+)?", names[city]) for city in CITY_NAMES), names
    assert names["杭州"] == names["杭州市"] == "Hangzhou" and names["西安"] == "Xi'an"
    assert names["未列之城"] == "未列之城"  # a city the page does not know stays as written


def test_why_a_customer_gets_no_recommendation_is_a_sentence_in_either_language(page: Any, bank: Bank) -> None:
    customer_id = next(c for c in sorted(bank.book(MANAGER)) if bank.customers[c].get("consent_marketing") is not True)
    with bank.api("manager") as api:
        body = api.get(f"/customers/{customer_id}/recommendations").json()
    assert body["recommendations"] == [] and body["reason"] == "customer has not consented to marketing"
    sign_in(page, bank.tokens["manager"])
    open_customer(page, customer_id)
    assert page.inner_text("#no-recommendations") == "客户未同意接受营销"
    page.click("#lang-toggle")
    page.wait_for_function("() => document.querySelector('#no-recommendations')?.textContent.startsWith('The')")
    assert page.inner_text("#no-recommendations") == "The customer has not consented to marketing."

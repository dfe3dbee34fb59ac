"""scope.tr_for: the one place that picks a person's (or a group's) language."""

from __future__ import annotations

from types import SimpleNamespace
from typing import cast

from telegram import User

from bot.context import Services
from bot.scope import tr_for
from storage.models import Person

SERVICES = cast(Services, SimpleNamespace(settings=SimpleNamespace(default_language="it")))


def _person(*, language: str | None, telegram_language: str | None) -> Person:
    return Person(display_name="Anna", language=language, telegram_language=telegram_language)


def _user(code: str | None) -> User:
    return User(id=1, first_name="Anna", is_bot=False, language_code=code)


def test_a_group_reads_the_instance_default() -> None:
    assert tr_for(SERVICES).language == "it"
    en = cast(Services, SimpleNamespace(settings=SimpleNamespace(default_language="en")))
    assert tr_for(en).language == "en"


def test_the_chosen_language_wins_over_telegram() -> None:
    person = _person(language="it", telegram_language="en")
    assert tr_for(SERVICES, person=person, user=_user("en-GB")).language == "it"
    assert tr_for(SERVICES, language="en", user=_user("it")).language == "en"


def test_telegram_language_the_update_first_then_the_stored_one() -> None:
    stored_en = _person(language=None, telegram_language="en")
    assert tr_for(SERVICES, person=stored_en).language == "en"
    assert tr_for(SERVICES, person=stored_en, user=_user("it")).language == "it"
    # The update's user says nothing: the language last seen on the person is used.
    assert tr_for(SERVICES, person=stored_en, user=_user(None)).language == "en"
    assert tr_for(SERVICES, telegram_language="en-US").language == "en"


def test_unsupported_languages_fall_back_to_the_given_default() -> None:
    nobody = _person(language=None, telegram_language="de")
    assert tr_for(SERVICES, person=nobody).language == "it"
    assert tr_for(SERVICES, person=nobody, default="en").language == "en"
    assert tr_for(SERVICES, language="xx", user=_user("fr"), default="en").language == "en"

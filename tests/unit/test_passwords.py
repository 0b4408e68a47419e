"""The password policy for staff accounts (app/passwords.py)."""

from __future__ import annotations

import pytest

from app.passwords import DEMO_PASSWORD, password_problems


@pytest.mark.parametrize(
    "password",
    [
        "1",  # the attack: accepted before
        "short#Pw9",  # under 12 characters
        DEMO_PASSWORD,  # published in the README
        DEMO_PASSWORD + "-x!",  # the published one with a tail
        "password1234",  # among the most common passwords
        "qwertyuiop12",  # a keyboard walk
        "clerk-clerk-clerk",  # the user's own name
        "Yingshang110!",  # the platform's own name: accepted before (attacker review)
        "yingshang110yingshang110",  # the same, twice: accepted before
        "Demo-Yingshang-2026",  # platform words and the year
        "yíngshāng110!!",  # the second attacker review: accents,
        "110gnahsgniy!!",  # the platform's name reversed,
        "Dem0@2026!Dem0",  # the demo password in leetspeak,
        "correcthorsebatterystaple",  # the most quoted passphrase,
        "Hotline12345!",  # a demo account's name
    ],
)
def test_a_short_common_published_or_own_name_password_is_refused(password):
    assert password_problems(password, username="clerk")


@pytest.mark.parametrize("password", ["Zq8#kP2!vL9@mW4", "望岳-铁锅-Kite-1987", "Pass@2026word"])
def test_a_long_unguessable_password_is_accepted(password):
    assert password_problems(password, username="clerk") == []


def test_the_minimum_length_is_a_setting():
    assert password_problems("Zq8#kP2!vL9@mW4", min_length=20)
    assert password_problems("Zq8#kP2!vL9@mW4", min_length=8) == []


def test_words_of_the_account_count_as_guessable():
    assert password_problems("wangjianguo1987", user_inputs=("wangjianguo",))

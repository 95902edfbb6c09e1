"""--redis NAME=URL / RQ_GATEWAY_REDIS_INSTANCES (gateway/redis_instances.py): every list the
setting accepts reads back as itself from the variable the worker processes get, whatever the
URLs hold (commas of a Sentinel host list included); bad items are refused by name."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from gateway.config import Settings, environment
from gateway.redis_instances import parse_instances, serialize_instances

names = st.from_regex(r"[A-Za-z0-9_-]{1,12}", fullmatch=True)
urls = st.one_of(
    st.builds("redis://127.0.0.1:{}/{}".format, st.integers(1, 65535), st.integers(0, 15)),
    st.builds(
        "redis+sentinel://{}/mymaster/0".format,
        st.lists(st.builds("h{}:26379".format, st.integers(0, 9)), min_size=1, max_size=3).map(",".join),
    ),
)


@given(st.dictionaries(names, urls, min_size=1, max_size=4))
def test_every_list_reads_back_from_json_and_from_the_comma_form(instances):
    items = tuple(f"{name}={url}" for name, url in instances.items())
    assert parse_instances(items) == items
    assert parse_instances(serialize_instances(items)) == items
    assert parse_instances(",".join(items)) == items


def test_the_exported_variable_reads_back(monkeypatch):
    settings = Settings(redis_url="redis://a:1/0", redis_instances=("b=redis+sentinel://h1:1,h2:2/m/0",))
    for name, value in environment(settings).items():
        if value is not None:
            monkeypatch.setenv(name, value)
    assert Settings().redis_instances == settings.redis_instances


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("b", "expected NAME=URL"),
        ("b=", "expected NAME=URL"),
        ("b c=redis://x", "expected NAME=URL"),
        ("b=redis://x,b=redis://y", "instance 'b' is given twice"),
        ('{"b": 1}', "expected a JSON object"),
        ("{nope", "not a JSON object"),
    ],
)
def test_bad_items_are_refused(value, message):
    with pytest.raises(ValueError, match=message):
        parse_instances(value)


def test_the_default_name_is_reserved_for_the_url():
    with pytest.raises(ValidationError, match="'default' is the name of --redis-url"):
        Settings(redis_url="redis://a:1/0", redis_instances=("default=redis://b:1/0",))
    # Without --redis-url, the first item is the default and may be called anything.
    assert not Settings(redis_instances=("default=redis://b:1/0",)).demo


def test_the_readme_example_is_read_as_documented():
    import re
    import shlex
    from pathlib import Path

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    section = readme.split("### Several Redis instances\n", 1)[1].split("\n### ", 1)[0]
    command = shlex.split(
        re.search(r"```shell\n(rq-gateway serve .*?)```", section, re.S)[1].replace("\\\n", "")
    )
    given = [command[i + 1] for i, word in enumerate(command) if word == "--redis"]
    url = command[command.index("--redis-url") + 1]
    settings = Settings(redis_url=url, redis_instances=tuple(given))
    assert [item.split("=")[0] for item in settings.redis_instances] == ["billing", "mail"]

"""Property tests (Hypothesis): every normalizer, the segment compiler, masking, and
clustering resumed with the model's links."""

from __future__ import annotations

import contextlib
import ipaddress
import re
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graph.errors import IdentifierRejected, InputError
from graph.ingest.identifiers import (
    default_registry,
    normalize_device_id,
    normalize_email,
    normalize_ip,
    normalize_phone,
    normalize_trim,
)
from graph.privacy import mask_value
from graph.profiles.segments import compile_rule
from graph.resolve.integrity import cluster, cluster_on
from graph.resolve.resolution import ResolveSettings, clustering, clustering_with
from graph.store.falkordb_params import Literal, cypher_literal, params_header
from graph.store.records import Identifier, Link

FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
anything = st.one_of(st.text(), st.integers(), st.floats(), st.none(), st.booleans(),
                     st.lists(st.text(), max_size=3))  # fmt: skip


def _outcome(normalizer: Any, value: Any) -> str | None:
    """The normalized value, or None when rejected; any other exception fails the test."""
    try:
        result = normalizer(value)
    except IdentifierRejected:
        return None
    assert isinstance(result, str) and result
    return result


@FAST
@given(anything)
def test_every_normalizer_accepts_or_rejects_with_a_reason(value: Any) -> None:
    for normalizer in (normalize_trim, normalize_email, normalize_phone, normalize_device_id,
                       normalize_ip):  # fmt: skip
        result = _outcome(normalizer, value)
        if result is not None:  # idempotent: a stored value normalizes to itself
            assert normalizer(result) == result


@FAST
@given(st.emails())
def test_emails_are_trimmed_lowercased_and_stable(address: str) -> None:
    result = _outcome(normalize_email, f"  {address.upper()} ")
    if result is not None:
        assert result == result.strip().lower() and "@" in result
        assert normalize_email(result) == result


@FAST
@given(st.from_regex(r"\A\(?[2-9][0-9]{2}\)?[ .-]?[2-9][0-9]{2}[ .-]?[0-9]{4}\Z"))
def test_us_phones_as_people_write_them_become_e164(text: str) -> None:
    result = _outcome(normalize_phone, text)
    if result is not None:
        assert re.fullmatch(r"\+1\d{10}", result)
        assert result[2:] == re.sub(r"\D", "", text)
        assert normalize_phone(result) == result


@FAST
@given(st.ip_addresses())
def test_ips_are_canonical(address: Any) -> None:
    result = _outcome(normalize_ip, str(address))
    if result is not None:
        assert ipaddress.ip_address(result).compressed == result
    else:
        effective = getattr(address, "ipv4_mapped", None) or address
        assert effective.is_loopback or effective.is_unspecified


@FAST
@given(st.uuids())
def test_uuid_device_ids_are_lowercase_hyphenated(value: Any) -> None:
    assert _outcome(normalize_device_id, str(value).upper()) in (str(value), None)


@FAST
@given(st.sampled_from(["email", "phone", "user_id", "cookie_id", "ip"]), st.text(min_size=1))
def test_the_registry_never_raises_anything_else(type_name: str, value: str) -> None:
    registry = default_registry()
    with contextlib.suppress(IdentifierRejected):
        registry.normalize(type_name, value)


@FAST
@given(st.sampled_from(["email", "phone", "user_id", "cookie_id"]), st.text(min_size=6))
def test_masked_values_never_hold_the_value(type_name: str, value: str) -> None:
    masked = mask_value(type_name, value)
    assert value not in masked or len(value) <= 4


# -- the segment compiler: values only ever travel as parameters ---------------------
MARK = "ZQX"  #: every generated string carries it: it must never reach the query text
marked = st.text(max_size=30).map(lambda t: MARK + t)
values = st.one_of(marked, st.integers(min_value=10**9), st.floats(min_value=1e9, max_value=1e12))
leaves = st.one_of(
    st.builds(lambda f, op, v: {"field": f, "op": op, "value": v},
              st.sampled_from(["purchase_total", "purchase_count", "rfm.group", "size"]),
              st.sampled_from(["=", "!=", "<", ">=", "exists"]), values),
    st.builds(lambda t, v: {"trait": t, "op": "=", "value": v},
              marked, values),
    st.builds(lambda s: {"source": s}, marked),
    st.builds(lambda t, n: {"events": {"type": t, "within_days": n}, "op": ">=", "value": 1},
              marked, st.integers(min_value=1, max_value=365)),
    st.builds(lambda t: {"has": t}, st.sampled_from(["email", "phone", "nothing"])),
)  # fmt: skip
rules = st.recursive(
    leaves,
    lambda inner: st.one_of(
        st.builds(lambda xs: {"and": xs}, st.lists(inner, min_size=1, max_size=3)),
        st.builds(lambda xs: {"or": xs}, st.lists(inner, min_size=1, max_size=3)),
        st.builds(lambda x: {"not": x}, inner),
    ),
    max_leaves=12,
)


@FAST
@given(rules)
def test_no_value_ever_appears_in_the_compiled_cypher(rule: Any) -> None:
    try:
        condition = compile_rule(rule, strong_types=["email", "phone"], now=1_800_000_000_000)
    except InputError:
        return
    text = condition.expression
    assert MARK not in text
    assert not re.search(r"\d{9,}", text)  # no generated number either
    assert "'" not in text and '"' not in text  # no literal strings at all
    assert condition.params  # the values went here


scalars = st.one_of(st.text(), st.integers(), st.floats(), st.none(), st.booleans())
nested = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.tuples(inner, inner),
        st.dictionaries(st.text(max_size=5), inner, max_size=4),
    ),
    max_leaves=20,
)


@FAST
@given(nested)
def test_query_parameters_as_falkordbs_client_writes_them(value: Any) -> None:
    from falkordb.helpers import stringify_param_value

    try:
        expected = str(stringify_param_value(value))
    except ValueError as e:  # a map key the header cannot hold: the same error
        with contextlib.suppress(ValueError):
            cypher_literal(value)
            raise AssertionError(f"accepted what the client refuses: {value!r}") from e
        return
    assert cypher_literal(value) == expected


@FAST
@given(st.dictionaries(st.text(min_size=1, max_size=5).filter(lambda k: "`" not in k), nested,
                       max_size=4))  # fmt: skip
def test_parameters_encoded_ahead_travel_unchanged(value: Any) -> None:
    """Parameters encoded once (:class:`Literal`, as a prepared ingest batch holds them)
    are written as they were encoded, never quoted a second time."""
    try:
        direct = cypher_literal(value)
    except ValueError:  # a nested map key the header cannot hold
        return
    ahead = {key: Literal(cypher_literal(item)) for key, item in value.items()}
    assert cypher_literal(ahead) == direct
    assert params_header(ahead) == params_header(value)


#: small graphs of identifiers of every kind: dense enough for limits, quarantine and
#: the model's guard to decide often
_TYPES = ("user_id", "loyalty_id", "email", "phone", "cookie_id", "device_id")
_node = st.builds(Identifier, st.sampled_from(_TYPES), st.sampled_from("abcdefgh"))


def _links(kind: str) -> Any:
    pair = st.tuples(_node, _node).filter(lambda p: p[0] != p[1])
    return st.lists(st.builds(lambda p, w: Link(p[0], p[1], kind, w), pair,
                              st.integers(1, 4).map(float)), max_size=40)  # fmt: skip


@FAST
@given(_links("deterministic"), _links("model"), st.sets(_node, max_size=4))
def test_clustering_resumed_with_later_links_equals_clustering_them_all(
    deterministic: list[Link], model: list[Link], quarantined: set[Identifier]
) -> None:
    nodes = {x for lk in [*deterministic, *model] for x in (lk.a, lk.b)}
    whole = cluster(nodes, [*deterministic, *model], quarantined=quarantined)
    resumed = cluster_on(cluster(nodes, deterministic, quarantined=quarantined), model,
                         quarantined=quarantined)  # fmt: skip
    assert resumed.clusters == whole.clusters
    assert resumed.conflicts == whole.conflicts and resumed.applied == whole.applied


@FAST
@given(_links("deterministic"), _links("model"), st.dictionaries(_node, st.sampled_from(
    ["force", "release"]), max_size=2))  # fmt: skip
def test_the_model_links_clustering_equals_one_made_afresh(
    deterministic: list[Link], model: list[Link], overrides: dict[Identifier, str]
) -> None:
    # whether the model's links change the quarantine or not (it then clusters afresh)
    nodes = {x for lk in [*deterministic, *model] for x in (lk.a, lk.b)}
    strict = ResolveSettings(quarantine_thresholds=dict.fromkeys(_TYPES, 2))
    before = clustering(nodes, deterministic, overrides=overrides, settings=strict)
    resumed = clustering_with(before, deterministic, model, overrides=overrides, settings=strict)
    whole = clustering(nodes, [*deterministic, *model], overrides=overrides, settings=strict)
    assert resumed.blocked == whole.blocked and resumed.degrees == whole.degrees
    assert resumed.clusters == whole.clusters
    assert resumed.result.conflicts == whole.result.conflicts

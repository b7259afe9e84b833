"""The `bfcl` matching mode against BFCL's AST checker rules (bfcl_eval/eval_checker/ast_eval/ast_checker.py)."""

from __future__ import annotations

from evals.matching import NodeMatcher, bfcl_normalize, key_of


def test_string_standardisation_is_bfcls():
    # standardize_string: drop spaces and ,./-_*^, lower-case, ' -> "
    assert bfcl_normalize("April 1, 2024") == "april12024"
    assert key_of("San Francisco, CA", "bfcl") == key_of("sanfrancisco ca", "bfcl")
    assert bfcl_normalize("it's") == 'it"s'
    assert key_of("New-York", "bfcl") != key_of("New-York!", "bfcl")


def test_int_promoted_to_float_but_not_the_reverse():
    as_float = NodeMatcher({"x": 5.0}, mode="bfcl")
    assert as_float.matches({"x": 5}) and as_float.matches({"x": 5.0})
    as_int = NodeMatcher({"x": 5}, mode="bfcl")
    assert as_int.matches({"x": 5}) and not as_int.matches({"x": 5.0})
    assert not NodeMatcher({"x": 2.5}, mode="bfcl").matches({"x": 2})
    # the default mode compares numbers numerically both ways
    assert NodeMatcher({"x": 5}).matches({"x": 5.0})


def test_booleans_are_not_numbers():
    assert not NodeMatcher({"flag": True}, mode="bfcl").matches({"flag": 1})


def test_lists_keep_order_and_item_types():
    m = NodeMatcher({"xs": [1.0, 2.0]}, mode="bfcl")
    assert m.matches({"xs": [1.0, 2.0]})
    assert not m.matches({"xs": [2.0, 1.0]})
    assert not m.matches({"xs": [1, 2]})  # answered in floats: BFCL's item type check takes no int


def test_dict_values_compare_numerically():
    m = NodeMatcher({"prefs": {"size": "Large", "shots": 2.0}}, mode="bfcl")
    assert m.matches({"prefs": {"shots": 2, "size": "large"}})


def test_missing_parameter_needs_an_empty_alternative_even_when_the_default_matches():
    kw = {"defaults": {"unit": "celsius"}, "props": {"city", "unit"}}
    assert NodeMatcher({"city": "Paris", "unit": "celsius"}, **kw).matches({"city": "Paris"})
    assert not NodeMatcher({"city": "Paris", "unit": "celsius"}, mode="bfcl", **kw).matches({"city": "Paris"})
    omissible = NodeMatcher({"city": "Paris", "unit": "celsius"}, omissible=["unit"], mode="bfcl", **kw)
    assert omissible.matches({"city": "Paris"})


def test_unexpected_parameter_is_rejected_even_at_its_default():
    kw = {"defaults": {"unit": "celsius"}, "props": {"city", "unit"}}
    assert NodeMatcher({"city": "Paris"}, **kw).matches({"city": "Paris", "unit": "celsius"})
    assert not NodeMatcher({"city": "Paris"}, mode="bfcl", **kw).matches({"city": "Paris", "unit": "celsius"})
    # an answer of only "" for a string parameter: leave it out, or give the empty string
    m = NodeMatcher({"city": "Paris"}, accept={"unit": [""]}, mode="bfcl", **kw)
    assert m.matches({"city": "Paris"}) and m.matches({"city": "Paris", "unit": ""})
    assert not m.matches({"city": "Paris", "unit": "kelvin"})


def test_alternatives():
    m = NodeMatcher({"loc": "Boston, MA"}, accept={"loc": ["Boston"]}, mode="bfcl")
    assert m.matches({"loc": "boston ma"}) and m.matches({"loc": "Boston"})
    assert not m.matches({"loc": "Cambridge"})


def test_nested_lists_compare_numerically_below_the_first_level():
    """simple_python_122's shape (`table`: array of array of integer): BFCL's nested type check goes
    one level deep (each row is a list), then its list_checker compares with Python `==`, where
    10.0 == 10."""
    m = NodeMatcher({"table": [[10, 20], [30, 40]]}, mode="bfcl")
    assert m.matches({"table": [[10, 20], [30, 40]]})
    assert m.matches({"table": [[10.0, 20.0], [30.0, 40.0]]})
    assert m.matches({"table": [[10, 20.0], [30.0, 40]]})
    assert not m.matches({"table": [[10.5, 20], [30, 40]]})
    # the first level keeps its type rule
    assert not NodeMatcher({"xs": [1, 2]}, mode="bfcl").matches({"xs": [1.0, 2.0]})
    assert bfcl_normalize([[1.0, [2.0]], 3.0]) == [[1, [2]], 3.0]


def test_a_list_mixing_ints_and_floats_matches_when_both_forms_are_accepted():
    """parallel_multiple_187's shape: the importer writes a float list answered in ints as its
    all-float and its integer form (BFCL passes an int item there, then compares with `==`); a list
    mixing the two matches when both of its own forms are accepted, whatever the mix."""
    m = NodeMatcher({"list": [23.0, 45.0, 12.0]}, accept={"list": [[23, 45, 12]]}, mode="bfcl")
    for xs in ([23, 45, 12], [23.0, 45.0, 12.0], [23.0, 45, 12], [23, 45.0, 12], [23, 45, 12.0]):
        assert m.matches({"list": xs}), xs
    assert not m.matches({"list": [23.0, 45, 13]})
    assert not m.matches({"list": [45, 23.0, 12]})
    assert not m.matches({"list": [23.5, 45, 12]})
    # a non-integral item stays a float in the integer form: [0, 2.5]
    m = NodeMatcher({"interval": [0.0, 2.5]}, accept={"interval": [[0, 2.5]]}, mode="bfcl")
    assert m.matches({"interval": [0, 2.5]}) and m.matches({"interval": [0.0, 2.5]})
    # only the all-float form accepted (an answer written in floats): no int item passes
    m = NodeMatcher({"interval": [1.0, 3.0]}, mode="bfcl")
    assert m.matches({"interval": [1.0, 3.0]})
    assert not m.matches({"interval": [1, 3.0]}) and not m.matches({"interval": [1, 3]})

"""HyperNode regexMatch patterns: Go's regexp semantics (what Volcano v1.15.1 compiles), linear time.

Volcano compiles ``regexMatch.pattern`` with Go's ``regexp.Compile`` in its admission webhook
(``pkg/webhooks/admission/hypernodes/validate/admit_hypernode.go``, ``validateHyperNodeRegexPattern``:
an invalid pattern is refused) and in the scheduler (``pkg/scheduler/api/hyper_node_info.go``,
``GetMembers``: ``reg.MatchString(node.Name)``).
"""

import json
import random
import re
import shutil
import subprocess
import sys
import time

import pytest
import yaml

from hypertopo.placement import PlacementInputError, predict
from hypertopo.placement.goregexp import (
    MAX_HEIGHT,
    GoSyntaxError,
    RegexLimitError,
    compile_pattern,
)

from . import goregexp_corpus
from .helpers import hard, job, node, task, template
from .test_cli_filter import ROOT


def outcome(pattern: str, names: list[str]) -> dict:
    try:
        regex = compile_pattern(pattern)
    except GoSyntaxError as exc:
        return {"error": str(exc)}
    return {"matches": "".join("1" if regex.search(name) else "0" for name in names)}


def test_agrees_with_go_on_the_recorded_corpus():
    """Every pattern: the same error message as Go, or the same answer on every name."""
    recorded = json.loads(goregexp_corpus.RESULTS.read_text())
    names = recorded["names"]
    assert len(recorded["patterns"]) > 600
    errors = sum("error" in r for r in recorded["results"])
    assert 100 < errors < len(recorded["results"]) - 100  # both kinds are well represented
    mismatches = [
        (pattern, want, got)
        for pattern, want in zip(recorded["patterns"], recorded["results"], strict=True)
        if (got := outcome(pattern, names)) != want
    ]
    assert mismatches == []


@pytest.mark.skipif(shutil.which("go") is None, reason="needs the go toolchain")
def test_agrees_with_go_on_fresh_random_patterns():
    rng = random.Random(20260412)
    cases = {
        "patterns": [goregexp_corpus.rand_pattern(rng) for _ in range(600)],
        "names": goregexp_corpus.names() + goregexp_corpus.rand_names(rng),
    }
    for pattern, res in zip(cases["patterns"], goregexp_corpus.run_go(cases), strict=True):
        want = res if "error" in res else {"matches": res.get("matches") or [False] * len(cases["names"])}
        if "matches" in want:
            want = {"matches": "".join("1" if m else "0" for m in want["matches"])}
        assert outcome(pattern, cases["names"]) == want, pattern


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("(?=x)", "invalid or unsupported Perl syntax: `(?=`"),  # lookahead
        ("(?<!x)y", "invalid named capture: `(?<!x)y`"),  # lookbehind
        (r"(a)\1", r"invalid escape sequence: `\1`"),  # backreference
        ("a++", "invalid nested repetition operator: `++`"),  # possessive quantifier
        (r"node\Z", r"invalid escape sequence: `\Z`"),
        ("a{1001}", "invalid repeat count: `{1001}`"),
        ("(a{100}){11}", "invalid repeat count: `{11}`"),
        (r"\C", r"invalid escape sequence: `\C`"),
        (r"\p{Klingon}", r"invalid character class range: `\p{Klingon}`"),
        ("(?P<n>a)(?P=n)", "invalid or unsupported Perl syntax: `(?P`"),
    ],
)
def test_patterns_go_rejects(pattern, message):
    with pytest.raises(GoSyntaxError, match=re.escape(message)):
        compile_pattern(pattern)


@pytest.mark.parametrize(
    ("pattern", "name", "expected"),
    [
        ("node$", "node\n", False),  # Go's $ is the end of text; Python's also matches before a final \n
        (r"^node-\d+$", "node-٣", False),  # \d is ASCII in Go
        ("[[:digit:]]", "node-1", True),  # POSIX classes (Python reads [[:digit:]] as a set of characters)
        (r"\Qa.b\E", "axb", False),  # quoting
        (r"\pL-\pN", "a-1", True),  # Unicode classes
        ("(?U)a+", "a", True),
        ("(?i)NODE-7", "node-7", True),
    ],
)
def test_go_semantics_where_python_differs(pattern, name, expected):
    assert compile_pattern(pattern).search(name) is expected


def test_backtracking_selector_stays_linear():
    """``^(a|aa)+$`` makes a backtracking engine take exponential time on ``aaaa...a-1``."""
    names = [f"{'a' * (20 + i % 230)}-{i}" for i in range(5000)]
    regex = compile_pattern("^(a|aa)+$")
    assert not any(regex.search(name) for name in names)
    total_chars = sum(map(len, names))
    # each character costs one cached transition; building the few DFA states is all the work
    assert regex.work < 10_000 < total_chars
    assert compile_pattern("^(a|aa)+$").search("a" * 253)


def test_work_is_bounded_with_a_clear_error():
    """A pattern whose DFA keeps growing (the 20th character from the end is an a) hits the budget."""
    regex = compile_pattern("(a|b)*a(a|b){20}", max_work=200_000)
    rng = random.Random(1)
    with pytest.raises(RegexLimitError, match="needs more than 200,000 steps"):
        for _ in range(1000):
            regex.search("".join(rng.choice("ab") for _ in range(200)))


def test_nesting_and_size_limits():
    with pytest.raises(GoSyntaxError, match="expression nests too deeply"):
        compile_pattern("(" * 1001 + "a" + ")" * 1001)
    with pytest.raises(RegexLimitError, match=f"more than the {MAX_HEIGHT} the predictor evaluates"):
        compile_pattern("(" * 300 + "a" + ")" * 300)  # valid Go
    with pytest.raises(RegexLimitError, match="more than 20,000 NFA instructions"):
        compile_pattern("[a-z]{1000}" * 21)  # valid Go
    assert compile_pattern("(" * 150 + "a" + ")" * 150).search("xa")


def hn_with_pattern(pattern: str) -> dict:
    return {
        "apiVersion": "topology.volcano.sh/v1alpha1",
        "kind": "HyperNode",
        "metadata": {"name": "rack0"},
        "spec": {"tier": 1, "members": [{"type": "Node", "selector": {"regexMatch": {"pattern": pattern}}}]},
    }


def test_predict_names_hypernode_and_field_for_a_pattern_go_rejects():
    with pytest.raises(PlacementInputError) as err:
        predict([], [node("node-1")], [hn_with_pattern(r"^node-(?=\d)")])
    assert str(err.value) == (
        "HyperNode rack0: spec.members[0].selector.regexMatch.pattern: invalid regular expression for "
        "Go's regexp (Volcano's admission webhook rejects the HyperNode): error parsing regexp: invalid or "
        "unsupported Perl syntax: `(?=`"
    )


def test_predict_selects_with_go_semantics():
    nodes = [node("node-1"), node("node-2"), node("gpu-3")]
    jobs = [job("j", [task("w", 3, template(gpus=8))], topology=hard(1))]
    result = predict(jobs, nodes, [hn_with_pattern(r"^node-\d$")], baseline=False)
    assert result["jobs"][0]["feasible"] is False  # 2 nodes under rack0, the gpu node outside
    jobs = [job("j", [task("w", 2, template(gpus=8))], topology=hard(1))]
    result = predict(jobs, nodes, [hn_with_pattern(r"^node-\d$")], baseline=False)
    placed = {(p["node"], p["leaf"]) for p in result["jobs"][0]["placements"]}
    assert placed == {("node-1", "rack0"), ("node-2", "rack0")}


def test_cli_evil_selector_over_thousands_of_nodes_is_fast(tmp_path):
    """bin/topology-hints with ``^(a|aa)+$`` over 3,000 nodes named ``aaa...a-<i>``: seconds, not hours."""
    nodes = [node(f"{'a' * (30 + i % 40)}-{i}") for i in range(3000)] + [node("a" * 40)]
    hns = [hn_with_pattern("^(a|aa)+$")]
    (tmp_path / "nodes.json").write_text(json.dumps(nodes))
    (tmp_path / "hns.yaml").write_text(yaml.safe_dump_all(hns))
    (tmp_path / "jobs.yaml").write_text(
        yaml.safe_dump(job("j", [task("w", 1, template(gpus=1))], topology=hard(1)))
    )
    started = time.monotonic()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "hypertopo.cli.hints",
            "--nodes",
            tmp_path / "nodes.json",
            "--hypernodes",
            tmp_path / "hns.yaml",
            "--jobs",
            tmp_path / "jobs.yaml",
            "--no-baseline",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert time.monotonic() - started < 60
    placed = json.loads(done.stdout)["jobs"][0]["placements"]
    assert [(p["node"], p["leaf"]) for p in placed] == [("a" * 40, "rack0")]

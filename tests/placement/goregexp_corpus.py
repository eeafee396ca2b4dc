"""Patterns and node names on which the Go-regexp port is checked against Go itself.

``HAND`` covers every rule of Go's parser (each error code, flags, escapes, classes, counted
repetition limits) and node-name patterns; :func:`random_patterns` adds seeded random ones.
``python -m tests.placement.goregexp_corpus`` runs Go (``tests/placement/goregexp/main.go``)
on them and rewrites ``tests/placement/data/goregexp_go_results.json``.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
GO_MAIN = HERE / "goregexp" / "main.go"
RESULTS = HERE / "data" / "goregexp_go_results.json"
HAND = [
    *r"""
^(a|aa)+$
node-[0-9]+
^node-[0-9]+$
a**
a*?
a*??
a+*
a?+
a{2}{3}
a{2}*
(a*)*
a*(?i)*
(?i)*
*a
(*a)
a|*b
^*
$*
\b*
(?=x)
(?!x)
(?<=x)
(?<!x)
(?<=x)>
(?P<n>a)
(?P<n>a)(?P=n)
(?P>n)
(?<n>x)
(?<1a>x)
(?<>x)
(?P<>x)
(?<n!>x)
(?<n
(?P<
(?
(?i
(?i)
(?i:a)
(?i-s:a)
(?-)
(?i-)
(?--i)
(?)
(?:)
(?x)
(?#comment)
(?U)a*
(?sm)^a.$
\Z
\z
\A
\C
\Q.*\E
\Q.*
\Qa\E*
\1
\8
\0
\01
\012
\0123
\7
\x
\xA
\x4g
\x41
\x{41}
\x{}
\x{110000}
\x{10FFFF}
\x{41
\p
\p{
\p{}
\pL
\pl
\p{L}
\p{Lu}
\p{lu}
\p{Greek}
\p{greek}
\p{Old_Italic}
\p{Letter}
\p{uppercase letter}
\p{Uppercase_Letter}
\p{^Greek}
\P{^Greek}
\PL
\p{Any}
\p{ASCII}
\p{Assigned}
\p{LC}
\p{Cn}
\p{Foo}
\pZ
\pN
\p{Nd}
(?i)\p{Lu}
(?i)\P{Lu}
(?i)\p{Ll}
(?i)[[:upper:]]
(?i)[[:^upper:]]
(?i)[^k]
(?i)\x{212A}
(?i)\x{17F}
(?i)[\x{212A}]
(?i)[\x{100}-\x{300}]
(?i)k
(?i)S
[[:alpha:]]
[[:^alpha:]]
[[:foo:]]
[[:alpha:]
[[:alpha]
[[:word:]]
[[.a.]]
[[=a=]]
[a-]
[-a]
[a-\d]
[\d-z]
[z-a]
[a-a]
[]a]
[^]a]
[]
[^]
[a
[\b]
[\Q]
[\pL]
[\p{Foo}]
[\x{61}-\x{7a}]
[a-\x{7a}]
\d+
\D
\s
\S
\w
\W
\b
\B
a{,5}
a{01}
a{1,0}
a{0}
a{0,0}
a{1000}
a{1001}
a{1000,}
a{1001,}
a{2,1001}
a{100000000}
a{99999999}
(a{100}){10}
(a{100}){11}
((a{10}){10}){10}
((a{10}){10}){11}
(a{2}){501}
(a*){1000}
a{1,2}{3}
{
{1
{1}
a{1
a{1,
a{1,2
a{1,2}?
a{1,2}??
x{2,}
()
(|)
(a|)
(|a)
a||b
a|
|
)
(
(()
())
(?:
a)b(
\
a\
[\]
.
(?s).
^$
(?m)^$
(?m)$
\n
\t\v\f\a\r
\e
\_
\-
\.
\é
é
[é]
(?i)é
a.b
^.+$
^[a-z0-9]([-a-z0-9]*[a-z0-9])?$
^gpu-node-(0[0-9]|1[0-5])$
rack[0-3]-node[0-9]+
^(ib|eth)-leaf[0-9]+-.*$
(?i)^NODE
node\d{2,4}$
^node(1|2|3)$
^(?:node|host)-[a-f0-9]{8}$
\bnode\b
node\B
(a|b|c|d)
(ab|ac)
[ab]|[cd]
\pLx
x\p{L}y
(((a)))
(?:(?:(?:a)))
""".strip("\n").split("\n"),
    "\\ ",
    "a b",
]


def names() -> list[str]:
    """ASCII names (what a Kubernetes node name can hold, and more)."""
    return [
        "",
        "a",
        "aa",
        "aaa",
        "a" * 40,
        "a" * 41 + "!",
        "ab",
        "abc",
        "b",
        "node-1",
        "node-12",
        "xnode-12",
        "node1",
        "node2",
        "node3",
        "node-x",
        "NODE",
        "node",
        "k",
        "K",
        "s",
        "S",
        "x",
        "1",
        "0",
        "gpu-node-07",
        "gpu-node-16",
        "rack2-node5",
        "ib-leaf3-x",
        "eth-leaf",
        "host-deadbeef",
        "node-deadbeef",
        "a-b",
        "a.b",
        "a_b",
        "{",
        "{1}",
        "-",
        ".",
        "_",
        "\n",
        "a\nb",
        "ab\n",
        "aaaa",
        "xyz",
        "x y",
        "abx",
        "ac",
        "ad",
        "acd",
        "Lu",
        "\x00",
        " ",
        "\t",
        "*",
        "node0.example.com",
    ]


def rand_pattern(rng: random.Random) -> str:
    atoms = [
        "a",
        "b",
        ".",
        "[ab]",
        "[^a]",
        "\\d",
        "\\w",
        "\\b",
        "\\B",
        "^",
        "$",
        "(?i)",
        "(?m)",
        "(?s)",
        "\\pL",
        "[[:alpha:]]",
        "x",
        "-",
        "\\.",
        "k",
        "\\x41",
        "\\Qa*\\E",
        "[a-c]",
        "(?U)",
    ]
    ops = ["*", "+", "?", "{2}", "{1,3}", "{0,}", "*?", "+?", "{2,1}", "{1001}", "**", ""]

    def gen(depth: int) -> str:
        out = []
        for _ in range(rng.randint(1, 4)):
            r = rng.random()
            if r < 0.15 and depth < 4:
                inner = gen(depth + 1)
                out.append(rng.choice(["(", "(?:", "(?i:", "(?P<g>", "(?<g>"]) + inner + ")")
            elif r < 0.25 and depth < 4:
                out.append(gen(depth + 1) + "|" + gen(depth + 1))
            else:
                out.append(rng.choice(atoms))
            if rng.random() < 0.4:
                out.append(rng.choice(ops))
        return "".join(out)

    p = gen(0)
    if rng.random() < 0.05:
        p = p.replace(")", "", 1)
    if rng.random() < 0.05:
        p = "(" + p
    return p


def rand_names(rng: random.Random) -> list[str]:
    out = []
    for _ in range(40):
        out.append("".join(rng.choice("abxk-.1AK\n_ ") for _ in range(rng.randint(0, 8))))
    return out


def corpus(seed: int = 1, count: int = 400) -> dict[str, list[str]]:
    rng = random.Random(seed)
    patterns = HAND + [rand_pattern(rng) for _ in range(count)]
    return {"patterns": patterns, "names": names() + rand_names(rng)}


def run_go(cases: dict[str, list[str]]) -> list[dict[str, Any]]:
    """Go's verdict per pattern: {"error": message} or {"matches": [bool per name]}."""
    done = subprocess.run(
        ["go", "run", str(GO_MAIN), "check"],
        input=json.dumps(cases),
        capture_output=True,
        text=True,
        check=True,
        cwd=GO_MAIN.parent,
        env=None,
    )
    return json.loads(done.stdout)


def main() -> None:
    cases = corpus()
    results = []
    for res in run_go(cases):
        if "error" in res:
            results.append({"error": res["error"]})
        else:
            matches = res.get("matches") or [False] * len(cases["names"])
            results.append({"matches": "".join("1" if m else "0" for m in matches)})
    version = subprocess.run(["go", "version"], capture_output=True, text=True, check=True).stdout.split()[2]
    RESULTS.write_text(json.dumps({"go": version, **cases, "results": results}, indent=0) + "\n")
    print(f"wrote {RESULTS} ({len(results)} patterns, {version})", file=sys.stderr)


if __name__ == "__main__":
    main()

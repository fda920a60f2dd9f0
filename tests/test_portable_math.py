"""jangrad's tanh (``portable_math``): musl's algorithm in Python, so the eager engine's tanh has the same bits on
every platform. Held to musl's own results (recorded from Pyodide's ``math.tanh``: musl compiled to WebAssembly),
to the exact value (mpmath), and to the special values; the browser test holds it to the page's ``math.tanh``."""

from __future__ import annotations

import math
import random

import pytest

from jangrad import Value, ops, portable_math

# (x, musl's tanh(x)) as hex: inputs drawn at random from [-3, 3], [-0.3, 0.3] and [-25, 25], and ones where glibc's
# math.tanh rounds the other way; the last is the lecture's neuron.
MUSL = [
    ("0x1.d1b19091c5b1cp-1", "0x1.711c6bd6876c8p-1"),
    ("-0x1.9d14422d7cd50p-2", "-0x1.880a6ff21713fp-2"),
    ("-0x1.de8408d28b930p-2", "-0x1.be7ae18b877bdp-2"),
    ("-0x1.7d9e5e2eb8410p-2", "-0x1.6ce174dbf4cd7p-2"),
    ("-0x1.de93187a12bb0p-2", "-0x1.be87141fcacebp-2"),
    ("0x1.0d0c30f5ce2a8p-1", "0x1.ed7cc02371870p-2"),
    ("-0x1.80e98ddecbe40p-1", "-0x1.45bd6bc25ffbep-1"),
    ("-0x1.77050e023be80p-2", "-0x1.671b430bbb91ep-2"),
    ("-0x1.47eb9bf1b8240p-1", "-0x1.216465c78bfeep-1"),
    ("0x1.1e42aade05010p-1", "0x1.03be48f0ff7efp-1"),
    ("-0x1.46dc9c877df60p-1", "-0x1.20abc2bdae099p-1"),
    ("-0x1.c6194f269d980p-2", "-0x1.aa8045ffc4777p-2"),
    ("0x1.ae136ea9c7b58p-2", "0x1.96740c6b98e91p-2"),
    ("-0x1.d8d93fff6436cp-1", "-0x1.74834d65535f6p-1"),
    ("0x1.0376bb456bca0p-1", "0x1.dea39bad8c479p-2"),
    ("0x1.15413ae8cb324p+1", "0x1.f2b8249a3c67dp-1"),
    ("-0x1.ddeed69087e40p-1", "-0x1.76e37b2711debp-1"),
    ("-0x1.e5e0299c841f0p-2", "-0x1.c46c066a3efcfp-2"),
    ("0x1.448d78a5c1778p-1", "0x1.1f17821eeb3d8p-1"),
    ("0x1.c836330bc9f58p-1", "0x1.6c7efb444c590p-1"),
    ("-0x1.42df917cd6608p-1", "-0x1.1df03b1541c1ep-1"),
    ("0x1.d1ff626900050p-2", "0x1.b449b0345a267p-2"),
    ("0x1.924596a3b2ef0p-1", "0x1.4fd9d7cafbebap-1"),
    ("-0x1.0184d0a710114p-1", "-0x1.db97f76ccf230p-2"),
    ("0x1.afcdc761ef490p-2", "0x1.97e873feeccaep-2"),
    ("0x1.3b3ffb255f51cp+1", "0x1.f89f4f9356b87p-1"),
    ("-0x1.27b3879384038p-1", "-0x1.0ab04c6f46210p-1"),
    ("0x1.92afc97b820e8p-2", "0x1.7f2326197a616p-2"),
    ("0x1.03c9ae3e4b47cp+1", "0x1.ee9f61ad8257fp-1"),
    ("-0x1.b9a32f6e02d40p+0", "-0x1.e0806a2630c9dp-1"),
    ("-0x1.08840fc6d9f4cp+1", "-0x1.efd72e75d56bfp-1"),
    ("0x1.046cbad995c14p+1", "0x1.eecab1745fe6ep-1"),
    ("-0x1.f81bcd83c551dp+0", "-0x1.ec6eeb487bad6p-1"),
    ("0x1.98f061fe8be40p-2", "0x1.8480843651170p-2"),
    ("0x1.0ed904fed0588p-1", "0x1.f03f2782465c2p-2"),
    ("-0x1.440c106b2d870p+1", "-0x1.f990588f2e30ap-1"),
    ("0x1.5770b9cf17fc0p+1", "0x1.fb3d107c88d66p-1"),
    ("0x1.d0759540db5d0p+0", "0x1.e5832d702a548p-1"),
    ("-0x1.62b2ed0246ec3p+0", "-0x1.c3adee98a381cp-1"),
    ("0x1.c1eaf9da1fb8cp+0", "0x1.e26af2a81c789p-1"),
    ("-0x1.a84048475f072p+0", "-0x1.dc14696e8c60cp-1"),
    ("-0x1.4278782f15b00p-2", "-0x1.3837a2173dba1p-2"),
    ("0x1.0093ad060d7c4p+1", "0x1.edbe936b1d144p-1"),
    ("-0x1.e7c567bc93840p-5", "-0x1.e7320c454acfbp-5"),
    ("-0x1.3205f982238e8p+1", "-0x1.f77cdb54579cfp-1"),
    ("-0x1.79848ac0041adp+1", "-0x1.fd32ea119a39ap-1"),
    ("0x1.9b0bd062b1d60p-1", "0x1.54cb35a810c24p-1"),
    ("-0x1.0e5c32b214f80p-3", "-0x1.0cccecbfff176p-3"),
    ("0x1.0067a012b597cp+0", "0x1.86469ab7efd00p-1"),
    ("-0x1.8ad85b97903ccp+0", "-0x1.d33564806ce08p-1"),
    ("-0x1.5c8b19f4a94a0p-2", "-0x1.4fadd70a95549p-2"),
    ("-0x1.8e6ca7a0d6de0p-2", "-0x1.7b774f6521fb5p-2"),
    ("-0x1.28e1d3d2d4dd5p+1", "-0x1.f6317c63c0ab1p-1"),
    ("-0x1.e39b0303badbap-4", "-0x1.e15eee2ea744cp-4"),
    ("-0x1.d816685fe39e3p-3", "-0x1.cfe664028836fp-3"),
    ("-0x1.882c8ae8a9540p-4", "-0x1.86fae0ad8a3c4p-4"),
    ("0x1.a0f904194b540p-4", "0x1.9f89cc01ea5d7p-4"),
    ("0x1.0039e585df284p-3", "0x1.fdcb92fd82259p-4"),
    ("-0x1.0555fe4587b53p-3", "-0x1.03ed37cb4f772p-3"),
    ("0x1.0cbc82b89bbedp-2", "0x1.06bb6bc28009bp-2"),
    ("-0x1.86a584acf70b0p-3", "-0x1.81fa0d98fab77p-3"),
    ("-0x1.361b8ebb60b18p+2", "-0x1.ffefc9d864e31p-1"),
    ("-0x1.afb20d8d08f3cp+3", "-0x1.fffffffff7933p-1"),
    ("0x1.93f0824aaa000p-7", "0x1.93eb457028d84p-7"),
    ("0x1.c34366179d428p-1", "0x1.6a09e667f3bcdp-1"),
]


def test_it_gives_musls_bits():
    for x, expected in MUSL:
        assert portable_math.tanh(float.fromhex(x)) == float.fromhex(expected), x


def test_the_lectures_neuron_gets_the_correctly_rounded_tanh():
    n = 0.8813735870195432
    assert portable_math.tanh(n) == 0.7071067811865476
    assert Value(n).tanh().data == 0.7071067811865476 and ops.FLOAT_MATH.tanh(n) == 0.7071067811865476


def test_it_is_within_two_ulp_of_the_exact_value_and_mostly_correctly_rounded():
    mpmath = pytest.importorskip("mpmath")
    mpmath.mp.prec = 120
    rng = random.Random(11)
    inputs = [rng.uniform(-3.0, 3.0) for _ in range(1500)] + [rng.uniform(-0.3, 0.3) for _ in range(500)]
    inputs += [math.ldexp(rng.random(), -rng.randint(20, 1000)) for _ in range(100)]  # tiny ones: tanh(x) ~ x
    rounded = 0
    for x in inputs:
        ours, exact = portable_math.tanh(x), mpmath.tanh(mpmath.mpf(x))
        rounded += ours == float(exact)
        assert abs(mpmath.mpf(ours) - exact) <= 2.2 * math.ulp(ours), x
    assert rounded / len(inputs) > 0.75, f"correctly rounded for {rounded} of {len(inputs)}"


def test_special_values_keep_their_meaning():
    assert math.copysign(1.0, portable_math.tanh(-0.0)) == -1.0 and portable_math.tanh(0.0) == 0.0
    assert portable_math.tanh(math.inf) == 1.0 and portable_math.tanh(-math.inf) == -1.0
    assert math.isnan(portable_math.tanh(math.nan))
    assert portable_math.tanh(5e-324) == 5e-324 and portable_math.tanh(-1e-310) == -1e-310
    assert portable_math.tanh(20.5) == 1.0 and portable_math.tanh(-19.5) == math.tanh(-19.5)


def test_expm1_agrees_with_the_c_librarys_to_an_ulp():
    rng = random.Random(3)
    for x in [rng.uniform(-40.0, 40.0) for _ in range(2000)] + [rng.uniform(-1e-3, 1e-3) for _ in range(200)]:
        ours = portable_math.expm1(x)
        assert abs(ours - math.expm1(x)) <= math.ulp(ours), x
    assert portable_math.expm1(800.0) == math.inf and portable_math.expm1(-800.0) == -1.0
    assert math.isnan(portable_math.expm1(math.nan)) and portable_math.expm1(1e-300) == 1e-300

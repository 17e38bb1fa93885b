"""
Image names: pack's go-containerregistry form (what pack asks the daemon for), Docker's
canonical form (the pull log's key), the familiar short form, and [registry-mirrors].
"""

from __future__ import annotations

import pytest

from ppack import reference
from ppack.reference import ReferenceError as RefError


DIGEST = "sha256:" + "0123456789abcdef" * 4


@pytest.mark.parametrize(
    ("name", "ggcr", "docker"),
    [
        ("ubuntu", "index.docker.io/library/ubuntu:latest", "docker.io/library/ubuntu:latest"),
        ("ubuntu:22.04", "index.docker.io/library/ubuntu:22.04", "docker.io/library/ubuntu:22.04"),
        ("library/ubuntu", "index.docker.io/library/ubuntu:latest", "docker.io/library/ubuntu:latest"),
        ("docker.io/ubuntu", "index.docker.io/library/ubuntu:latest", "docker.io/library/ubuntu:latest"),
        (
            "docker.io/library/ubuntu:latest",
            "index.docker.io/library/ubuntu:latest",
            "docker.io/library/ubuntu:latest",
        ),
        (
            "index.docker.io/ubuntu",
            "index.docker.io/library/ubuntu:latest",
            "docker.io/library/ubuntu:latest",
        ),
        ("heroku/builder:24", "index.docker.io/heroku/builder:24", "docker.io/heroku/builder:24"),
        ("index.docker.io/x/y", "index.docker.io/x/y:latest", "docker.io/x/y:latest"),
        ("docker.io/x/y:1", "index.docker.io/x/y:1", "docker.io/x/y:1"),
        ("a/b/c:v", "index.docker.io/a/b/c:v", "docker.io/a/b/c:v"),
        ("ghcr.io/org/img", "ghcr.io/org/img:latest", "ghcr.io/org/img:latest"),
        ("ghcr.io/img:1", "ghcr.io/img:1", "ghcr.io/img:1"),  # no library/ off Docker Hub
        ("localhost:5000/foo", "localhost:5000/foo:latest", "localhost:5000/foo:latest"),
        ("localhost:5000/foo:1.2", "localhost:5000/foo:1.2", "localhost:5000/foo:1.2"),
        ("127.0.0.1:5000/a/b:c", "127.0.0.1:5000/a/b:c", "127.0.0.1:5000/a/b:c"),
        # ggcr takes a first part as a registry only with "." or ":" in it; pack then asks the
        # daemon for index.docker.io/localhost/foo, which Docker keys as docker.io/localhost/foo.
        ("localhost/foo", "index.docker.io/localhost/foo:latest", "docker.io/localhost/foo:latest"),
        ("localhost:5000", "index.docker.io/library/localhost:5000", "docker.io/library/localhost:5000"),
        (
            "ubuntu@" + DIGEST,
            "index.docker.io/library/ubuntu@" + DIGEST,
            "docker.io/library/ubuntu@" + DIGEST,
        ),
        # Tag and digest: the digest wins, as in ggcr's NewDigest.
        (
            "ubuntu:22.04@" + DIGEST,
            "index.docker.io/library/ubuntu@" + DIGEST,
            "docker.io/library/ubuntu@" + DIGEST,
        ),
        ("reg.io:443/a/b:t@" + DIGEST, "reg.io:443/a/b@" + DIGEST, "reg.io:443/a/b@" + DIGEST),
        ("ubuntu:Tag_1.-x", "index.docker.io/library/ubuntu:Tag_1.-x", "docker.io/library/ubuntu:Tag_1.-x"),
        ("a_b-c/e__f.g", "index.docker.io/a_b-c/e__f.g:latest", "docker.io/a_b-c/e__f.g:latest"),
    ],
    ids=str,
)
def test_normalize_and_canonical(name: str, ggcr: str, docker: str) -> None:
    assert reference.normalize(name) == ggcr
    assert reference.canonical(name) == docker
    # Both forms are fixed points, and name the same image.
    assert reference.normalize(ggcr) == ggcr
    assert reference.canonical(ggcr) == docker
    assert reference.canonical(docker) == docker


def test_one_image_one_key() -> None:
    names = ["ubuntu", "ubuntu:latest", "library/ubuntu:latest", "docker.io/library/ubuntu:latest"]
    names += ["index.docker.io/library/ubuntu", "index.docker.io/ubuntu:latest", "docker.io/ubuntu"]
    assert {reference.canonical(n) for n in names} == {"docker.io/library/ubuntu:latest"}
    assert reference.canonical("ubuntu:24.04") != reference.canonical("ubuntu")
    assert reference.canonical("ghcr.io/library/ubuntu") != reference.canonical("ubuntu")


@pytest.mark.parametrize(
    ("name", "registry", "tag_given"),
    [
        ("ubuntu", "index.docker.io", False),
        ("docker.io/x/y:1", "index.docker.io", True),
        ("ghcr.io/xy", "ghcr.io", False),
        ("localhost:5000/xy@" + DIGEST, "localhost:5000", True),
    ],
    ids=str,
)
def test_registry_and_tag_given(name: str, registry: str, tag_given: bool) -> None:
    assert reference.registry_of(name) == registry
    assert reference.parse(name).tag_given is tag_given


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "invalid image reference ''"),
        ("my image", "invalid image reference 'my image'"),
        (" ubuntu", "invalid image reference ' ubuntu'"),
        ("ubuntu\t", "invalid image reference 'ubuntu\\t'"),
        ("ubu\x00ntu", "invalid image reference 'ubu\\x00ntu'"),
        ("ubuntu\n", "invalid image reference 'ubuntu\\n'"),
        ("ubu\x1bntu", "invalid image reference 'ubu\\x1bntu'"),
        ("Ubuntu", "invalid image reference 'Ubuntu': repository can only contain lower case letters"),
        (
            "docker.io/Heroku/builder",
            "invalid image reference 'docker.io/Heroku/builder': repository can only",
        ),
        ("ubüntu", "invalid image reference 'ubüntu': repository can only contain"),
        ("ghcr.io//x", "invalid image reference 'ghcr.io//x': repository can only contain"),
        ("a", "invalid image reference 'a': repository must be between 2 and 255 characters long"),
        ("ghcr.io/x", "invalid image reference 'ghcr.io/x': repository must be between 2 and 255"),
        ("x/" + "a" * 254, "repository must be between 2 and 255 characters long"),
        ("ubuntu:", "invalid tag in image reference 'ubuntu:'"),
        ("ubuntu:-x", "invalid tag in image reference 'ubuntu:-x'"),
        ("ubuntu:" + "t" * 129, "invalid tag in image reference"),
        ("ubuntu:a+b", "invalid tag in image reference 'ubuntu:a+b'"),
        ("ubuntu@", "invalid digest in image reference 'ubuntu@'"),
        ("ubuntu@sha256:abc", "invalid digest in image reference 'ubuntu@sha256:abc'"),
        ("ubuntu@md5:" + "0" * 32, "invalid digest"),
        ("ubuntu@" + DIGEST.upper().replace("SHA", "sha"), "invalid digest"),
        ("ubuntu@" + DIGEST + "@" + DIGEST, "invalid digest"),
    ],
    ids=repr,
)
def test_invalid_references(name: str, message: str) -> None:
    with pytest.raises(RefError) as caught:
        reference.parse(name)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)  # one line, even for a name with a newline in it
    for call in (reference.normalize, reference.canonical, reference.registry_of):
        with pytest.raises(RefError):
            call(name)


def test_the_longest_repository_is_accepted() -> None:
    name = "x/" + "a" * 253
    assert reference.normalize(name) == f"index.docker.io/{name}:latest"


@pytest.mark.parametrize(
    ("name", "short"),
    [
        ("index.docker.io/library/ubuntu:latest", "ubuntu:latest"),
        ("docker.io/library/ubuntu:22.04", "ubuntu:22.04"),
        ("docker.io/library/ubuntu@" + DIGEST, "ubuntu@" + DIGEST),
        ("index.docker.io/heroku/builder:24", "heroku/builder:24"),
        ("docker.io/heroku/builder:24", "heroku/builder:24"),
        ("docker.io/library/a/b:1", "library/a/b:1"),  # not an official image
        ("ghcr.io/library/ubuntu:1", "ghcr.io/library/ubuntu:1"),
        ("localhost:5000/x:1", "localhost:5000/x:1"),
    ],
    ids=str,
)
def test_familiar(name: str, short: str) -> None:
    assert reference.familiar(name) == short


# pack's TranslateRegistry (internal/name/name.go): "*" wins; Docker Hub's key is index.docker.io.
HUB_MIRROR = {"index.docker.io": "cache:5000"}


@pytest.mark.parametrize(
    ("name", "mirrors", "translated"),
    [
        ("ubuntu", {}, "ubuntu"),
        ("ubuntu", HUB_MIRROR, "cache:5000/library/ubuntu:latest"),
        ("heroku/builder:24", HUB_MIRROR, "cache:5000/heroku/builder:24"),
        ("index.docker.io/heroku/builder:24", HUB_MIRROR, "cache:5000/heroku/builder:24"),
        ("docker.io/heroku/builder:24", HUB_MIRROR, "cache:5000/heroku/builder:24"),
        ("ubuntu@" + DIGEST, HUB_MIRROR, "cache:5000/library/ubuntu@" + DIGEST),
        ("ubuntu:1@" + DIGEST, HUB_MIRROR, "cache:5000/library/ubuntu@" + DIGEST),
        # docker.io is not the key pack looks up: ggcr has rewritten it to index.docker.io.
        ("ubuntu", {"docker.io": "cache:5000"}, "ubuntu"),
        ("ghcr.io/a/b:1", HUB_MIRROR, "ghcr.io/a/b:1"),
        ("ghcr.io/a/b:1", {"ghcr.io": "m.example"}, "m.example/a/b:1"),
        ("ghcr.io/bb", {"ghcr.io": "m.example"}, "m.example/bb:latest"),  # no library/ off the Hub
        ("localhost:5000/ab", {"localhost:5000": "m:1"}, "m:1/ab:latest"),
        # "*" wins for every registry, over a registry's own entry.
        (
            "ubuntu",
            {"*": "all.example", "index.docker.io": "cache:5000"},
            "all.example/library/ubuntu:latest",
        ),
        ("ghcr.io/a/b:1", {"*": "all.example", "ghcr.io": "m.example"}, "all.example/a/b:1"),
        ("localhost:5000/ab@" + DIGEST, {"*": "all.example"}, "all.example/ab@" + DIGEST),
    ],
    ids=str,
)
def test_translate(name: str, mirrors: dict[str, str], translated: str) -> None:
    assert reference.translate(name, mirrors) == translated


def test_translate_rejects_an_invalid_name_when_mirrors_are_set() -> None:
    with pytest.raises(RefError):
        reference.translate("Bad Name", HUB_MIRROR)

import datetime as dt
from pathlib import Path

import pytest

from extractor.articles import ArticleError, article_from_text, load_article
from tests.conftest import ROOT, SEED_FILES

SHARED_SEEDS = ROOT.parent / "shared" / "seeds"


def test_five_seeds_with_metadata() -> None:
    assert [p.name[:3] for p in SEED_FILES] == ["000", "001", "002", "003", "004"]
    articles = [load_article(p) for p in SEED_FILES]
    assert [a.id for a in articles] == [p.stem for p in SEED_FILES]
    assert {a.id: a.published for a in articles if a.published} == {"004_32894de17cdd8ad9": dt.date(2014, 4, 10)}
    assert all(a.title and a.published_note for a in articles)


@pytest.mark.skipif(not SHARED_SEEDS.is_dir(), reason="../shared/seeds not beside this checkout")
def test_seeds_are_byte_for_byte_copies() -> None:
    for path in SEED_FILES:
        assert path.read_bytes() == (SHARED_SEEDS / path.name).read_bytes(), path.name


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ArticleError, match=r"nope.txt: no such file; check the path"):
        load_article(tmp_path / "nope.txt")


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin.txt"
    path.write_bytes("Homs \xe9t\xe9".encode("latin-1"))
    with pytest.raises(ArticleError, match=r"latin.txt: not UTF-8 text \(byte 5 is 0xe9\); convert it first"):
        load_article(path)


@pytest.mark.parametrize("content", ["", "  \n\t "])
def test_empty_or_blank(tmp_path: Path, content: str) -> None:
    path = tmp_path / "blank.txt"
    path.write_text(content)
    with pytest.raises(ArticleError, match=r"blank.txt: the file is empty or whitespace only"):
        load_article(path)
    with pytest.raises(ArticleError, match="empty or whitespace only"):
        article_from_text(content)


def test_bad_sidecar_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("text")
    (tmp_path / "a.meta.json").write_text('{"published": "last Tuesday"}')
    with pytest.raises(ArticleError, match=r"a.txt: published: Input should be a valid date"):
        load_article(tmp_path / "a.txt")


def test_text_gets_a_stable_id() -> None:
    assert article_from_text("Clashes in Arsal.").id == article_from_text("Clashes in Arsal.").id

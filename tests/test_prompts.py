import datetime as dt
from pathlib import Path

import pytest

from extractor.articles import Article
from extractor.prompts import PromptError, PromptVersion, available_versions

# Published prompt versions and their content hashes. A prompt is never edited in
# place once published: results and cassettes refer to it by hash. Add a version instead.
PUBLISHED = {
    "v1": "8b9a3c2c95f65a2e",
    "v2": "bbe4512862bd93d6",
}


@pytest.mark.parametrize(("version", "content_hash"), sorted(PUBLISHED.items()))
def test_published_prompt_is_unchanged(version: str, content_hash: str) -> None:
    assert PromptVersion.load(version).content_hash == content_hash, (
        f"prompts/{version} changed after publication; restore it and put the change in a new version"
    )


def test_every_version_is_pinned() -> None:
    assert set(available_versions()) == set(PUBLISHED)


def test_rendering_puts_the_article_and_its_date_in_the_messages() -> None:
    article = Article(id="a", text="Clashes on Sunday killed 5.", title="Clashes", published=dt.date(2016, 3, 29))
    system, user = PromptVersion.load("v1").render(article)
    assert system["role"] == "system" and "Armed clash" in system["content"]
    assert user == {
        "role": "user",
        "content": "Title: Clashes\nPublished: 2016-03-29\n\nArticle:\nClashes on Sunday killed 5.",
    }


def test_unknown_publication_date_is_said_not_guessed() -> None:
    _, user = PromptVersion.load("v1").render(Article(id="a", text="x"))
    assert "Published: unknown" in user["content"]


def test_missing_version_names_the_ones_that_exist() -> None:
    with pytest.raises(PromptError, match=r"prompt version 'v9' not found in .* \(available: v1"):
        PromptVersion.load("v9")


def test_manifest_must_match_folder(tmp_path: Path) -> None:
    folder = tmp_path / "v5"
    folder.mkdir()
    (folder / "manifest.toml").write_text('version = "v4"\n')
    (folder / "system.j2").write_text("s")
    (folder / "user.j2").write_text("u")
    with pytest.raises(PromptError, match="says version 'v4', folder says 'v5'"):
        PromptVersion.load("v5", tmp_path)

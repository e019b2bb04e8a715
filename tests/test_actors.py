import pytest

from extractor.actors import AliasTable, alias_key
from extractor.schema import Actor

TABLE = AliasTable.load()


@pytest.mark.parametrize(
    "written",
    ["ISIS", "IS", "ISIL", "Daesh", "Islamic State", "the Islamic State group", "ISIS militants",
     "Islamic State of Iraq and the Levant", "Islamic State fighters"],
)  # fmt: skip
def test_islamic_state_aliases(written: str) -> None:
    assert TABLE.canonical_name(written) == "Islamic State"


@pytest.mark.parametrize(
    "written",
    ["Nusra Front", "al-Nusra Front", "Jabhat al-Nusra", "al Qaeda-linked Nusra Front", "Nusra", "al-Nusra",
     "Syria's al-Qaida affiliate", "Nusra Front militants", "the Nusra Front"],
)  # fmt: skip
def test_nusra_front_aliases(written: str) -> None:
    assert TABLE.canonical_name(written) == "Nusra Front"


def test_unknown_actor_is_kept_as_written() -> None:
    assert TABLE.canonical_name("Abu Malek al-Talleh") == "Abu Malek al-Talleh"


def test_canonicalizing_keeps_the_article_wording_and_sets_category() -> None:
    actor = TABLE.canonicalize_actor(Actor(name="Daesh", mentions=["Daesh gunmen"]))
    assert actor.name == "Islamic State"
    assert actor.mentions == ["Daesh", "Daesh gunmen"]
    assert actor.category is not None and actor.category.value == "rebel group"


def test_alias_key_folds_punctuation_al_and_tail_words() -> None:
    assert alias_key("The al-Nusra Front fighters") == "nusra front"
    assert alias_key("al-Qaida's Syrian branch") == alias_key("al Qaeda Syrian branch")


def test_a_table_claiming_one_alias_for_two_actors_is_refused(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "aliases.toml"
    path.write_text(
        '[[actor]]\nname = "A"\ncategory = "rebel group"\naliases = ["X"]\n'
        '[[actor]]\nname = "B"\ncategory = "rebel group"\naliases = ["x militants"]\n'
    )
    with pytest.raises(ValueError, match="alias 'x militants' maps to both 'A' and 'B'"):
        AliasTable.load(path)

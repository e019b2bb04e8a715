"""Turn news articles into validated, evidence-grounded armed-conflict event records.

from extractor import extract
result = extract(article_text, model="openai/gpt-4o-mini")
for event in result.events:
    print(event.event_type, event.actor1.name, event.fatalities.best)
"""

from extractor.articles import Article, ArticleError, load_article
from extractor.cassettes import CassetteMissing, CassetteMode
from extractor.llm import EMBEDDED_MODEL, LLMError, ModelConfig
from extractor.pipeline import ContextTooLong, ExtractionError, Extractor, aextract, extract
from extractor.prompts import PromptError, PromptVersion
from extractor.schema import Event, EventList, ExtractionResult, Usage

__all__ = [
    "EMBEDDED_MODEL",
    "Article",
    "ArticleError",
    "CassetteMissing",
    "CassetteMode",
    "ContextTooLong",
    "Event",
    "EventList",
    "ExtractionError",
    "ExtractionResult",
    "Extractor",
    "LLMError",
    "ModelConfig",
    "PromptError",
    "PromptVersion",
    "Usage",
    "aextract",
    "extract",
    "load_article",
]

"""A tiny BERT-style encoder built in the test, with a WordPiece vocabulary counted from the
test's own corpus: what the multilingual tests fine-tune instead of downloading a model; and a
synthetic labelled history of edits (bad words against good ones) to train it on."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from automod.scoring.multilingual import EditMeta, extract_edit_texts


def make_tiny_encoder(path: Path, corpus: Iterable[str], *, vocab_size: int = 300, hidden: int = 32) -> Path:
    """Write a 2-layer BERT and its tokenizer to ``path`` (``save_pretrained`` layout); the
    same corpus always gives the same model."""
    import torch
    from tokenizers import (
        Tokenizer,
        decoders,
        models,
        normalizers,
        pre_tokenizers,
        processors,
    )
    from transformers import BertConfig, BertModel, BertTokenizerFast

    # The vocabulary is counted here, not learned by tokenizers' WordPiece trainer: the
    # trainer breaks ties between equally frequent merges in hash order, which changes from
    # process to process, so the same corpus gave a different vocabulary (and model) each run.
    # Every character (alone and as a "##" continuation) so that any word can be spelled, then
    # the corpus's most frequent whole words, ties broken alphabetically.
    normalizer, pre_tokenizer = normalizers.BertNormalizer(lowercase=True), pre_tokenizers.BertPreTokenizer()
    words: Counter[str] = Counter(word for text in corpus
                                  for word, _ in pre_tokenizer.pre_tokenize_str(normalizer.normalize_str(text)))
    chars = sorted({c for word in words for c in word})
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    pieces = [*chars, *(f"##{c}" for c in chars)]
    frequent = [w for w, _ in sorted(words.items(), key=lambda item: (-item[1], item[0])) if len(w) > 1]
    learned = pieces + frequent[:max(vocab_size - len(specials) - len(pieces), 0)]
    tok = Tokenizer(models.WordPiece({t: i for i, t in enumerate(specials + learned)}, unk_token="[UNK]"))
    tok.normalizer = normalizer
    tok.pre_tokenizer = pre_tokenizer
    cls, sep = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    tok.post_processor = processors.TemplateProcessing(single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1",
                                                       special_tokens=[("[CLS]", cls), ("[SEP]", sep)])
    tok.decoder = decoders.WordPiece()
    BertTokenizerFast(tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]",
                      sep_token="[SEP]", mask_token="[MASK]").save_pretrained(str(path))
    torch.manual_seed(0)
    config = BertConfig(vocab_size=tok.get_vocab_size(), hidden_size=hidden, num_hidden_layers=2,
                        num_attention_heads=2, intermediate_size=2 * hidden, max_position_embeddings=160)
    BertModel(config).save_pretrained(str(path))
    return path


# --- a synthetic labelled history ---------------------------------------------------------

BAD = ["poop", "stupid", "lol", "haha", "sucks", "idiot", "dumb", "fart", "loser", "smells"]


GOOD = ["river", "census", "railway", "district", "founded", "published", "university", "population",
        "station", "century"]


FILLER = ["the", "was", "in", "and", "of", "is", "a", "it", "by", "this"]


BASE = "'''{title}''' is a place.\n\n== History ==\nThe town grew around a mill.\n\nIt has a school.\n"


def random_sentence(rng: random.Random, words: list[str]) -> str:
    picked = [rng.choice(words) if i % 2 else rng.choice(FILLER) for i in range(8)]
    return " ".join(picked).capitalize() + "."


def history(n_titles: int, per_title: int, seed: int) -> list[Any]:
    from automod.training import LabelledEdit

    rng = random.Random(seed)
    out = []
    for t in range(n_titles):
        title = f"Place {seed}-{t}"
        parent = BASE.format(title=title)
        for _ in range(per_title):
            bad = rng.random() < 0.5
            sentence = random_sentence(rng, BAD if bad else GOOD)
            current = f"{parent}\n{sentence}\n"
            meta = EditMeta(bytes_diff=50, anonymous=rng.random() < 0.5)  # uninformative: texts must decide
            out.append(LabelledEdit(extract_edit_texts(parent, current, title), meta, bad))
    return out


def make_encoder(path: Path) -> Path:
    return make_tiny_encoder(path, [" ".join(BAD + GOOD + FILLER), BASE,
                                    "Place town grew around mill school history"] * 3)


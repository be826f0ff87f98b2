"""A tiny BERT-style encoder built in the test, with a WordPiece tokenizer trained on the
test's own corpus: what the multilingual tests fine-tune instead of downloading a model."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path


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
        trainers,
    )
    from transformers import BertConfig, BertModel, BertTokenizerFast

    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    tok.train_from_iterator(list(corpus), trainers.WordPieceTrainer(vocab_size=vocab_size, special_tokens=specials,
                                                                    show_progress=False))
    # The trainer numbers tokens in hash order; renumber them so every run builds the same model.
    learned = sorted(t for t in tok.get_vocab() if t not in specials)
    tok.model = models.WordPiece({t: i for i, t in enumerate(specials + learned)}, unk_token="[UNK]")
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

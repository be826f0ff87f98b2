"""The small torch heads on the shared encoder, apart from the model so that both the torch
and the ONNX Runtime encoders (:mod:`.onnx_encoder`) can build on them without an import cycle.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from automod.scoring.multilingual.card import AGGREGATES

__all__ = ["AGGREGATES", "RevertRiskHeads", "TextHeads", "aggregate"]



class TextHeads(nn.Module):
    """A 2-way head per text kind and a 1-output title regressor on a pooled encoding.

    :meth:`forward` returns ``[n, 2]`` logits, row ``i`` from the head of ``kinds[i]``
    (title rows: the regression score in column 0, 0 in column 1). Subclasses say where
    the pooled encoding comes from (:meth:`pooled`).
    """

    def __init__(self, hidden: int, dropout: float = 0.1) -> None:
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.insert = nn.Linear(hidden, 2)
        self.remove = nn.Linear(hidden, 2)
        self.change = nn.Linear(hidden, 2)
        self.title = nn.Linear(hidden, 1)

    def pooled(self, input_ids: torch.Tensor, attention_mask: torch.Tensor,
               token_type_ids: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_type_ids: torch.Tensor,
                kinds: torch.Tensor) -> torch.Tensor:
        pooled = self.dropout(self.pooled(input_ids, attention_mask, token_type_ids))
        logits = torch.zeros(pooled.shape[0], 2, dtype=pooled.dtype, device=pooled.device)
        for index, head in enumerate((self.insert, self.remove, self.change)):
            mask = kinds == index
            if bool(mask.any()):
                logits[mask] = head(pooled[mask]).to(logits.dtype)
        mask = kinds == 3
        if bool(mask.any()):
            logits[mask, 0] = self.title(pooled[mask]).squeeze(-1).to(logits.dtype)
        return logits


class RevertRiskHeads(TextHeads):
    """The heads on a torch (Hugging Face) encoder: what is trained, and served in fp32."""

    def __init__(self, encoder: nn.Module, dropout: float = 0.1) -> None:
        # A Hugging Face model: nn.Module does not type its ``config`` or ``save_pretrained``.
        self.encoder: Any
        super().__init__(int(getattr(encoder, "config").hidden_size), dropout)
        self.encoder = encoder

    def heads_state(self) -> dict[str, torch.Tensor]:
        """The head weights only (the encoder is saved with ``save_pretrained``)."""
        return {k: v.detach().clone() for k, v in self.state_dict().items() if not k.startswith("encoder.")}

    def pooled(self, input_ids: torch.Tensor, attention_mask: torch.Tensor,
               token_type_ids: torch.Tensor) -> torch.Tensor:
        out = self.encoder(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)
        pooled = getattr(out, "pooler_output", None)
        return out.last_hidden_state[:, 0] if pooled is None else pooled


def aggregate(logits: torch.Tensor) -> list[float]:
    """The 8 per-revision features of one text kind from its ``[n, 2]`` logits, in
    :data:`AGGREGATES` order; all −1 when there is no text of that kind (reference §3.1)."""
    if logits.shape[0] == 0:
        return [-1.0] * len(AGGREGATES)
    logits = logits.float()
    probs = torch.softmax(logits, dim=-1)
    both = torch.cat([logits, probs], dim=-1)
    return [float(v) for v in torch.cat([both.max(dim=0).values, both.mean(dim=0)])]

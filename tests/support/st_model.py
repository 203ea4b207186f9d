"""Build a tiny sentence-transformers model folder offline, for tests of the ``st:`` embedder.

Model hubs are unreachable here, so the test model is made from scratch: a WordPiece tokenizer
trained on a few Korean and English sentences, a 2-layer BERT with random (seeded) weights, and
mean pooling. Its vectors mean nothing; it only exercises the real loading and encoding code.
"""

from __future__ import annotations

from pathlib import Path

TRAINING_TEXT = [
    "넥스트로컬 청년 창업 지원 사업의 판로 개척과 홍보",
    "생활인구 유입을 위한 워케이션과 서울농장 운영",
    "상생상회와 농부의 시장에서 지역 농산물 판매",
    "성과지표 평가 체계와 중간지원조직의 역할 분담",
    "query passage the quick brown fox jumps over the lazy dog",
]


def build_tiny_st_model(folder: str | Path, seed: int = 0, hidden_size: int = 32, layers: int = 2,
                        heads: int = 2, max_length: int = 64) -> Path:
    """Write a random BERT sentence-transformers model to ``folder``; returns the model's folder.

    Tiny by default; ``hidden_size=384, layers=12, heads=12, max_length=512`` gives the size of
    multilingual-e5-small's encoder, for timing (``bench/speed/st_device.py``).
    """
    import torch
    from sentence_transformers import SentenceTransformer

    try:
        from sentence_transformers.sentence_transformer.modules import Pooling, Transformer
    except ImportError:  # sentence-transformers before 6.1 (e.g. on a GPU machine's own image)
        from sentence_transformers.models import Pooling, Transformer
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors, trainers
    from transformers import BertConfig, BertModel, BertTokenizerFast

    folder = Path(folder)
    hf_dir = folder / "hf"
    hf_dir.mkdir(parents=True, exist_ok=True)

    special = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    wordpiece = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    wordpiece.normalizer = normalizers.NFKC()
    wordpiece.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    wordpiece.train_from_iterator(TRAINING_TEXT, trainers.WordPieceTrainer(vocab_size=300, special_tokens=special))
    cls_id, sep_id = wordpiece.token_to_id("[CLS]"), wordpiece.token_to_id("[SEP]")
    wordpiece.post_processor = processors.BertProcessing(("[SEP]", sep_id), ("[CLS]", cls_id))
    tokenizer = BertTokenizerFast(tokenizer_object=wordpiece, model_max_length=max_length)
    tokenizer.save_pretrained(hf_dir)

    torch.manual_seed(seed)
    config = BertConfig(
        vocab_size=wordpiece.get_vocab_size(),
        hidden_size=hidden_size,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        intermediate_size=4 * hidden_size if hidden_size > 32 else 64,
        max_position_embeddings=max_length,
    )
    BertModel(config).save_pretrained(hf_dir)

    transformer = Transformer(str(hf_dir), max_seq_length=max_length)
    pooling = Pooling(transformer.get_embedding_dimension(), pooling_mode="mean")
    SentenceTransformer(modules=[transformer, pooling], device="cpu").save(str(folder / "model"))
    return folder / "model"

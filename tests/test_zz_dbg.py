import sys
sys.path.insert(0, "/work/main/tests")
from test_multilingual import *  # noqa
from test_multilingual import _predict

def test_show(trained, held_out):
    print("CARD", trained.card["evaluation"], trained.card["quantization"], trained.card["data"])
    p = _predict(trained.model, held_out)
    print("P", sorted((round(x,3), e.label) for x, e in zip(p, held_out)))
    print(held_out[0].texts)
    assert 0

"""The complete example in docs/scheme.md adopts and scores as the text says."""
from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

from ledger.scheme import load_scheme
from projections.facts import Adjustment, EvaluationScore, Facts, IndicatorScore
from projections.scoring import score_year

DOC = Path(__file__).resolve().parent.parent / "docs" / "scheme.md"
D = Decimal


def doc_example() -> str:
    text = DOC.read_text(encoding="utf-8")
    section = text.split("## A complete small example", 1)[1]
    return re.search(r"```toml\n(.*?)```", section, re.S).group(1)


def test_the_docs_example_adopts_and_scores_as_described():
    scheme = load_scheme(doc_example(), "docs/scheme.md")
    assert scheme.check_score("丙局", "职能工作", D(70)).weight == 70
    approved = dict(status="approved", reason="r", proposed_by="p", submitted_at="2017-12-01T00:00:00Z")
    facts = Facts(2017, scores=(
        IndicatorScore("甲局", "经济工作/招商引资", D(18), "s1", 1),
        IndicatorScore("甲局", "经济工作/税收", D(450), "s2", 2),
        IndicatorScore("甲局", "职能工作", D(45), "s3", 3)),
        evaluations=(EvaluationScore("甲局", "领导评价", "", D(90), None, "v1", 4),
                     EvaluationScore("甲局", "互评", "", None, None, "v2", 5, {"优秀": 6, "良好": 4})),
        adjustments=(
            Adjustment("a1", "甲局", "表彰", {"level": "国家级", "matter": "文明单位"}, position=6, effective_position=7,
                       document="省委发〔2017〕1号", **approved),
            Adjustment("a2", "甲局", "项目", {"option": "新建", "count": "2"}, position=8, effective_position=9,
                       **approved),
            Adjustment("a3", "甲局", "融资", {"amount": "2500"}, position=10, effective_position=11, **approved),
            Adjustment("a4", "甲局", "投诉", {"count": "3"}, position=12, effective_position=13, **approved)))
    result = score_year(scheme, facts).unit("甲局")
    points = {i.id: i.points for i in result.items}
    assert points == {"经济工作/招商引资": 18, "经济工作/税收": 18, "职能工作": 45, "作风建设": D("8.5"), "安全生产": 0}
    assert {e.rule.id: e.counted for e in result.adjustments} == {"表彰": 3, "项目": 2, "融资": 2, "投诉": D("-1.5")}
    assert result.terms["dept"] == D("96.5")
    assert result.component_values["互评"] == D("9.2")
    assert result.total == D("95.95") and result.published == "95.95"

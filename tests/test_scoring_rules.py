"""Every adjustment rule kind by hand, same matter, village ranks, statuses, deadlines, documents, carry-over."""
from __future__ import annotations

from decimal import Decimal

from ledger.scheme import load_scheme
from projections.facts import Facts
from projections.scoring import score_year
from tests.scoring_cases import D, adj

# ---- every rule kind, by hand ------------------------------------------------------------------------------------

def counted(result) -> dict[str, Decimal]:
    out: dict[str, Decimal] = {}
    for entry in result.adjustments:
        out[entry.rule.id] = out.get(entry.rule.id, D(0)) + entry.counted
    return out


def test_bp_rule_kinds(bp):
    facts = Facts(2017, adjustments=(
        adj("财政局", "附2-1", option="完成", points="2.5"),            # range: +2.5
        adj("财政局", "附2-2", option="新建", count="2"),               # count: 4
        adj("财政局", "附2-2", option="续建", count="3"),               # + 1.5 → 5.5, capped at 5
        adj("财政局", "附2-3", count="6", target="3"),                  # task: 2 + min(3, 2) = 4
        adj("财政局", "附2-4", option="完成"),                          # outcome: +2
        adj("财政局", "附2-5", amount="600"),                           # rate, whole: 600 + 1700 = 2300 → 2
        adj("财政局", "附2-5", amount="1700"),
        adj("财政局", "附2-6", amount="25000"),                         # 2 whole 1亿 → 4
        adj("财政局", "附2-7", option="迟报", count="3"),               # −0.3
        adj("财政局", "附2-7", option="漏报", count="1"),               # −0.2
        adj("财政局", "附2-11", area="保密工作", points="-1.5"),        # area: −1.5 − 1 → capped at −2
        adj("财政局", "附2-11", area="保密工作", points="-1"),
        adj("财政局", "附2-11", area="防汛", points="-0.5"),            # another area: −0.5
        adj("财政局", "附2-14表扬", level="朝阳市及以上", document="朝委发〔2017〕1号"),  # level: +2
        adj("财政局", "市直-8", rank="1", tied="3"),                    # rank: 5 ÷ 3 = 1.67
        adj("统计局", "附2-8", amount="1250"),                          # threshold: 2 + 7 × 0.1 = 2.7
        adj("统计局", "附2-8", amount="1290"),                          # 2.7 again (whole steps) → sum 5.4, cap 5
        adj("统计局", "附2-9", amount="250"),                           # rate, proportional: 2.50
        adj("统计局", "市直-8", rank="4", tied="2"),                    # −2 ÷ 2 = −1.00
        adj("粮食局", "附2-9", amount="650"),                           # 6.5 → cap 5
        adj("粮食局", "附2-3", count="1", target="3"),                  # task missed by 2: −2
        adj("粮食局", "市直-8", rank="7"),                              # beyond the table: as 5th, −3
        adj("地震局", "附2-9", amount="50"),                            # below the minimum 100: 0
        adj("地震局", "附2-3", count="5", target="0"),                  # no task: min(5 × 1, 2) = 2
        adj("地震局", "市直-8", rank="1", tied="2"),                    # 5 ÷ 2 = 2.50
    ))
    scores = score_year(bp, facts)
    assert counted(scores.unit("财政局")) == {
        "附2-1": D("2.5"), "附2-2": 5, "附2-3": 4, "附2-4": 2, "附2-5": 2, "附2-6": 4, "附2-7": D("-0.5"),
        "附2-11": D("-2.5"), "附2-14表扬": 2, "市直-8": D("1.67")}
    assert scores.unit("财政局").terms["dept"] == D("20.17")  # 2.5+5+4+2+2+4-0.5-2.5+2+1.67
    assert counted(scores.unit("统计局")) == {"附2-8": 5, "附2-9": D("2.50"), "市直-8": D("-1.00")}
    assert counted(scores.unit("粮食局")) == {"附2-9": 5, "附2-3": -2, "市直-8": -3}
    zhen = scores.unit("地震局")
    assert counted(zhen) == {"附2-3": 2, "市直-8": D("2.50"), "附2-9": 0}
    funds = next(e for e in scores.unit("财政局").adjustments if e.rule.id == "附2-5")
    assert funds.how.startswith("600 + 1700 = 2300: 2300万元 ÷ 1000万元 → 2 (whole multiples)")
    assert [a.id for a in funds.adjustments] == [a.id for a in facts.adjustments if a.rule == "附2-5"]
    rank = next(e for e in scores.unit("财政局").adjustments if e.rule.id == "市直-8")
    assert "rank 1, 3 tied: 5 ÷ 3 = 1.666" in rank.how and rank.how.endswith("→ 1.67 (2 places, half up)")
    threshold = [e for e in scores.unit("统计局").adjustments if e.rule.id == "附2-8"]
    assert [e.points for e in threshold] == [D("2.7"), D("2.7")] and [e.counted for e in threshold] == [D("2.7"),
                                                                                                         D("2.3")]


def test_same_matter_counts_once_at_its_highest_level(bp, hy):
    facts = Facts(2017, adjustments=(
        adj("长皋乡", "附2-14批评", level="朝阳市及以上", matter="秸秆焚烧", document="朝委通〔2017〕3号"),
        adj("长皋乡", "附2-14批评", level="市", matter="秸秆焚烧", document="北委通〔2017〕9号"),
        adj("长皋乡", "附2-14批评", level="市", matter="安全检查", document="北委通〔2017〕12号"),
    ))
    result = score_year(bp, facts).unit("长皋乡")
    assert sorted(e.counted for e in result.adjustments) == [-3, -2]
    assert result.not_counted[0].reason.startswith("same matter '秸秆焚烧' counts once, at its highest level")
    facts = Facts(2017, adjustments=(
        adj("财政局", "荣誉", level="市级", matter="文明单位", document="d1"),
        adj("财政局", "荣誉", level="国家级", matter="文明单位", document="d2"),
        adj("财政局", "荣誉", level="省级", matter="文明单位", document="d3"),
        adj("财政局", "荣誉", level="省级", matter="综治先进", document="d4"),
    ))
    result = score_year(hy, facts).unit("财政局")
    assert sorted(e.counted for e in result.adjustments) == [2, 3] and len(result.not_counted) == 2



def test_bp_criticisms_at_one_level_each_count_and_across_levels_once(bp):
    # 被市委、市政府通报批评一次减2分 … 同一问题受到不同级别批评的,只计最高一次减分
    facts = Facts(2017, adjustments=(
        adj("长皋乡", "附2-14批评", level="市", matter="秸秆焚烧", document="北委通〔2017〕9号"),
        adj("长皋乡", "附2-14批评", level="市", matter="秸秆焚烧", document="北委通〔2017〕15号"),
        adj("龙潭镇", "附2-14批评", level="市", matter="秸秆焚烧", document="北委通〔2017〕9号"),
        adj("龙潭镇", "附2-14批评", level="市", matter="秸秆焚烧", document="北委通〔2017〕15号"),
        adj("龙潭镇", "附2-14批评", level="朝阳市及以上", matter="秸秆焚烧", document="朝委通〔2017〕3号"),
    ))
    scores = score_year(bp, facts)
    assert scores.unit("长皋乡").terms["dept"] == D("-4") and not scores.unit("长皋乡").not_counted
    town = scores.unit("龙潭镇")
    assert town.terms["dept"] == D("-3") and len(town.not_counted) == 2


def test_bp_a_units_task_is_assessed_once(bp):
    # 附件2 items 1, 3 and 4 assess the unit's one task: a second adjustment does not count
    facts = Facts(2017, adjustments=(
        adj("财政局", "附2-1", option="完成", points="3"), adj("财政局", "附2-1", option="工作不力", points="-2"),
        adj("财政局", "附2-3", count="4", target="2"), adj("财政局", "附2-3", count="4", target="2"),
        adj("财政局", "附2-4", option="完成"), adj("财政局", "附2-4", option="完成"),
    ))
    result = score_year(bp, facts).unit("财政局")
    assert sorted(e.counted for e in result.adjustments) == [D("2"), D("3"), D("4")]
    assert len(result.not_counted) == 3


def test_bp_village_ranks_give_the_township_its_bonus(bp):
    facts = Facts(2017, adjustments=(
        adj("龙潭镇", "附2-12", entity="东村", rank="3"),     # top 10: +0.5
        adj("龙潭镇", "附2-12", entity="西村", rank="8"),     # +0.5
        adj("龙潭镇", "附2-12", entity="南村", rank="15"),    # 11–20: +0.2
        adj("龙潭镇", "附2-12", entity="东村", rank="3"),     # the same village again: counted once
    ))
    result = score_year(bp, facts).unit("龙潭镇")
    assert result.terms["dept"] == D("1.2")
    assert len(result.not_counted) == 1 and "东村 counts once" in result.not_counted[0].reason


def test_statuses_deadlines_documents_and_carry_over(bp, hy):
    facts = Facts(2017, adjustments=(
        adj("财政局", "附2-4", status="pending", option="完成"),
        adj("财政局", "附2-4", status="rejected", option="完成"),
        adj("财政局", "附2-4", status="rescinded", option="完成"),
        adj("财政局", "附2-4", status="carried over to 2018", option="完成"),
        adj("财政局", "附2-14表扬", level="市"),                                   # no document: nothing
        adj("财政局", "附2-13", option="会议现场", count="1", date="2017-06-01", document="朝办通〔2017〕5号",
            submitted="2017-06-04T09:00:00+08:00"),                               # within 3 days: +2
        adj("财政局", "附2-13", option="介绍经验", count="1", date="2017-06-01", document="朝办通〔2017〕5号",
            submitted="2017-06-04T16:00:00Z"),                                    # 06-05 in Beijing: late
        adj("财政局", "市直-8", rank="2", origin=2016),                            # carried over from 2016: +2
    ))
    result = score_year(bp, facts).unit("财政局")
    reasons = {n.id: n.reason for n in result.not_counted}
    ids = [a.id for a in facts.adjustments]
    assert reasons[ids[0]] == "not yet approved: waiting for 分管领导, 常务副市长, 市委副书记"
    assert reasons[ids[1]] == "rejected" and reasons[ids[2]] == "rescinded"
    assert reasons[ids[3]].startswith("carried over to 2018")
    assert reasons[ids[4]].startswith("no document (文号)")
    assert reasons[ids[6]] == "late: submitted 2017-06-05, due within 3 days of 2017-06-01 (by 2017-06-04)"
    assert result.terms["dept"] == 4
    carried = next(e for e in result.adjustments if e.rule.id == "市直-8")
    assert carried.carried_from == 2016 and "(carried over from 2016)" in " ".join(result.explain)
    facts = Facts(2017, adjustments=(
        adj("财政局", "重大创新", points="2", submitted="2018-01-10T15:59:59Z"),   # 23:59:59 on the 10th: in time
        adj("财政局", "重大创新", points="3", submitted="2018-01-10T16:00:00Z"),   # 00:00 on the 11th: late
    ))
    result = score_year(hy, facts).unit("财政局")
    assert [e.counted for e in result.adjustments] == [2]
    assert result.not_counted[0].reason == "late: submitted 2018-01-11, deadline 2018-01-10"


def test_carried_over_adjustment_uses_its_own_years_rule_when_given(bp):
    older = load_scheme(bp.text.replace('by_rank = ["5", "2", "0", "-2", "-3"]', 'by_rank = ["6", "3", "0", "-2", "-3"]'))
    facts = Facts(2017, adjustments=(adj("财政局", "市直-8", rank="1", origin=2016),))
    assert score_year(bp, facts).unit("财政局").terms["dept"] == 5
    assert score_year(bp, facts, {2016: older}).unit("财政局").terms["dept"] == 6


def test_a_carried_over_adjustment_counts_against_the_receiving_years_unit_cap(hy):
    # HY 单个部门加(减)分最多不超过10分: 2017's own +3 +3 +3 and a +2 carried from 2016 reach 11, capped at 10; the
    # rule's own pooling keeps the carried one apart (its year's counted adjustments are not re-read)
    own = [adj("财政局", "重大创新", points="3", submitted=f"2017-12-0{d}T02:00:00Z") for d in (1, 2, 3)]
    carried = adj("财政局", "重大创新", points="2", origin=2016)
    result = score_year(hy, Facts(2017, adjustments=(*own, carried))).unit("财政局")
    assert result.total == 10 and sum(e.counted for e in result.adjustments) == 10
    late = next(e for e in result.adjustments if e.carried_from == 2016)
    assert (late.points, late.counted) == (2, 1)  # the last to come into force gives way to the net cap

"""Seed 004 (DY) against examples/dy-2013.toml, clause by clause: every 扣分 clause's amount and every item's assessing
department as the seed prints them, typed from the seed rather than copied from the scheme file (the computed cases
are in test_seed_dy.py). Pure functions only (no database)."""
from __future__ import annotations

import pytest

from ledger.errors import Refused
from projections.facts import Facts
from projections.scoring import score_year
from tests.scoring_cases import adj
from tests.test_seed_dy import CADRES, CENTRE, GROUP, GUIDES, STYLE, D, item

# ---- every clause's amount and every item's department, as the seed prints them ------------------------------------

# rule → the amounts of its clauses in the seed's order (count rules: per occurrence; range rules: [least, most])
CLAUSES = {
    # 一(四)4 两富指导员: 扣0.5分; 每人次扣0.1分; 每人次扣0.1分; 其他任务 酌情扣分 (within the item's 倒扣分1分)
    "两富-指导员": ["-0.5", "-0.1", "-0.1"], "两富-其他任务": [("-1", "0")],
    # 三(一) 机关作风建设, row by row
    "作风-组织领导": ["-0.2", "-0.1"], "作风-工作计划": ["-0.3", "-0.5"], "作风-检查教育": ["-0.1", "-0.1"],
    "作风-违反实施意见": ["-0.2"], "作风-配套制度": ["-0.5"], "作风-工作制度": ["-0.1"], "作风-服务中心窗口": ["-0.5", "-2"],
    "作风-审批制度改革": ["-1", "-0.5"], "作风-政务公开": ["-0.2", "-0.3"], "作风-排忧解难": ["-0.3", "-0.2", "-0.5"],
    "作风-投诉查实": ["-0.2"], "作风-投诉未按时报结": ["-0.1"], "作风-违反作风规定": ["-1"], "作风-不自查自纠": ["-0.5"],
    "作风-投诉整改": ["-0.5", "-0.3"], "作风-效能监察": ["-0.3", "-0.5"], "作风-行风热线": ["-1", "-0.6"],
    "作风-督办信息": ["-0.2", "-0.2"],
    # 三(二) 领导班子和干部队伍建设 1–5
    "班子-领导班子分工": ["-0.5", "-0.5", "-1"], "班子-民主集中制": ["-0.5", "-0.5"], "班子-干部选拔任用": ["-1", "-1"],
    "班子-干部教育培训": ["-0.5", "-0.5"], "班子-干部管理": ["-0.5", "-0.2", "-1"],
    # 三(六) 自身建设, row by row
    "编制-机构编制": ["-0.5"] * 5, "法治-法治建设": ["-0.5"] * 4, "食品药品-综合评价": [("-0.5", "0")],
    "食品药品-信息报送": ["-0.05"], "食品药品-事件": ["-0.5", "-0.5", "-2"],
    "法制-依法行政": ["-0.1", "-0.5", "-0.5", "-0.2"], "文明-精神文明": ["-0.5"] * 4,
    "人大政协-议案提案": ["-0.5", "-0.2"], "人大政协-答复不规范": [("-0.5", "-0.1")],
    "党代表-提议询问": ["-0.5", "-0.5"], "党代表-答复不规范": [("-0.5", "-0.1")],
    "信息调研-任务": ["-1", "-1"], "信息调研-突发事件": [("-2", "0")], "保密-教育检查": ["-0.5", "-1"],
    "保密-失泄密": ["-2", "-1", "-0.5"], "档案-档案工作": ["-0.5"], "史志-党史志鉴": ["-0.5", "-1", "-0.5"],
    "环保-生态市建设": ["-0.2", "-1"], "卫生-卫生强市": ["-1", "-2"], "老干部-老干部工作": ["-1", "-1"],
    "群团-群团工作": ["-0.5"] * 3,
}


def test_every_clause_deducts_the_seeds_amount(dy):
    # each rule's clauses carry the amounts printed in the seed, in its order; 食品药品 示范创建 is the rate "每扣2分,
    # 相应的扣0.1分" (tested above), so every rule of the file is here but that one
    assert set(dy.rules) - set(CLAUSES) == {"食品药品-示范创建"}
    for rule_id, amounts in CLAUSES.items():
        params = dy.rule(rule_id).params
        if dy.rule(rule_id).kind == "range":
            got = [tuple(map(str, r)) for r in params["ranges"].values()]
        else:
            got = [str(v) for v in params["options"].values()]
        assert got == amounts, rule_id


def test_sudden_event_information_clause_within_its_row(dy):
    # 三(六) 信息调研工作: 信息、调研工作考核任务指标未完成的各扣1分,重大突发事件信息报送不及时的扣除信息考核得分
    # (READING: the deducted 信息 score is recorded, at most 2). 信息 task missed −1, the unit's 信息 score 0.6 deducted:
    # −1.6; with the 调研 task missed too: −2.6 → −2 (每小项倒扣分2分); more than the row's 2 is refused
    row = "作风建设/自身建设/信息调研工作"
    first = (adj("司法局", "信息调研-任务", option="信息工作考核任务指标未完成", count="1"),
             adj("司法局", "信息调研-突发事件", points="-0.6"))
    assert item(score_year(dy, Facts(2013, adjustments=first)), "司法局", row).points == D("-1.6")
    more = first + (adj("司法局", "信息调研-任务", option="调研工作考核任务指标未完成", count="1"),)
    assert item(score_year(dy, Facts(2013, adjustments=more)), "司法局", row).points == -2
    with pytest.raises(Refused):
        dy.check_adjustment("司法局", "信息调研-突发事件", {"points": "-2.5"})


# item → the assessing department(s) the seed names for its section or row
DEPARTMENTS = {
    "中心工作/服务经济发展/工业竞赛": ("工业竞赛领导小组办公室",), "中心工作/服务经济发展/浙商回归": ("招商引资竞赛领导小组办公室",),
    "中心工作/服务经济发展/农业竞赛": ("农业竞赛领导小组办公室",), "中心工作/服务经济发展/服务业竞赛": ("服务业竞赛领导小组办公室",),
    GUIDES: ("农办", "组织部"), "中心工作/五城同创": ("五创办",), "中心工作/人才工作": ("人才办",),
    "职能工作/完成年度工作要点": ("市委办",), STYLE: ("市纪委",), CADRES: ("组织部",),
    "作风建设/宣传和机关党建工作/宣传工作": ("宣传部",), "作风建设/宣传和机关党建工作/机关党建": ("机关工委",),
    "作风建设/党风廉政建设": ("市纪委",), CENTRE: ("行政服务中心",),
    **{f"作风建设/自身建设/{row}": tuple(who.split()) for row, who in (
        ("机构编制", "编委办"), ("法治建设", "司法局"), ("信访工作", "信访局"), ("安全生产", "安监局"),
        ("应急联动", "应急办 公安局"), ("人口和计划生育", "人口计生局"), ("食品药品安全", "食品药品监管局"),
        ("依法行政(政务公开)", "法制办"), ("社区共建", "五创办"), ("精神文明", "文明办"), ("人大议案政协提案", "人大办 政协办"),
        ("党代表提议和询问", "组织部"), ("信息调研工作", "市委办 市府办"), ("保密工作", "保密办"), ("档案工作", "档案局"),
        ("党史和志鉴编纂工作", "史志办"), ("生态市建设", "环保局"), ("“卫生强市”创建", "卫生局"), ("老干部工作", "老干部局"),
        ("群团工作", "总工会 团市委 妇联 残联"))},
}


def test_each_item_is_assessed_by_the_department_the_seed_names(dy):
    # (由…考核) after each section's title; 自身建设's table names a department per row
    tree = dy.group(GROUP).tree_for("司法局")
    for item_id, departments in DEPARTMENTS.items():
        assert tree[item_id].departments == departments, item_id
    assert {i for i in tree if i.startswith("作风建设/自身建设/")} <= set(DEPARTMENTS)  # every one of the 20 rows

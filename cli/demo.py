"""`ledger demo`: a complete signed BP 2017 year built from examples/, then its grade tables.

The demo plays every role itself, with key files it makes in the demo folder (passphrase `demo`): the office adopts
the scheme and records evaluations, departments record scores and propose adjustments, three leaders approve them
(one rejects), the office and the leading group close the year, and a late 朝阳-ranking bonus approved after the
close is carried over into 2018.
"""
from __future__ import annotations

import random
import shutil
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import click

from .context import Env
from .progress import progress_bar

PASSPHRASE = b"demo"
EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
PAPER_DATE = "2017-12-20T10:00:00+08:00"  # the acts were signed on paper in December 2017 and entered now
# Departments that assess BP's 附件2 items (市相关部门 is played by 市考核办) and the leaders who co-sign.
DEPARTMENTS = ["市考核办", "市发展改革局", "市政府督查室", "市建投办", "市外经贸局", "市委办", "市委督查室"]
LEADERS = [("刘分管", "分管领导"), ("赵常务", "常务副市长"), ("孙副书记", "市委副书记"), ("周书记", "组长")]


def _scheme_text(year: int) -> str:
    text = (EXAMPLES / "bp-2017.toml").read_text(encoding="utf-8")
    return text if year == 2017 else text.replace("year = 2017", f"year = {year}", 1)


class Demo:
    """Builds the demo ledger step by step through the same write path as the CLI."""

    def __init__(self, folder: Path, db: str | None):
        from ledger.keys import load_private, new_key
        from ledger.store import EventStore
        from ledger.writer import Ledger

        self.folder = folder
        keys = folder / "keys"
        for path in [keys, *(folder / n for n in ("ledger.db", "ledger.db-wal", "ledger.db-shm"))]:
            if path.is_dir():
                shutil.rmtree(path)
            elif path.exists():
                path.unlink()
        keys.mkdir(parents=True)
        self.db = db or str(folder / "ledger.db")
        self.ledger = Ledger(EventStore(self.db))
        self.keys = {}
        for name in ["office", *DEPARTMENTS, *(person for person, _ in LEADERS)]:
            new_key(keys / f"{name}.key", PASSPHRASE)
            self.keys[name] = load_private(keys / f"{name}.key", PASSPHRASE)
        self.rng = random.Random(2017)

    def act(self, key: str, act_type: str, act: dict, stream=None, signed_at: str | None = PAPER_DATE):
        return self.ledger.act(act_type, act, self.keys[key], signed_at, stream)

    def setup(self) -> None:
        from ledger.canonical import sha256_hex
        from ledger.writer import new_ledger_id

        office = self.keys["office"]
        act = {"name": "北票市乡镇区、市直部门领导班子工作实绩考核", "office": {
            "person": "王军舰", "department": "市考核办", "public_key": office.public_text, "roles": ["office"]}}
        envelope, signature = self.ledger.prepare("ledger.genesis", act, office, "2017-03-28T09:00:00+08:00",
                                                  ledger_id=new_ledger_id())
        self.ledger.submit(envelope, signature)
        for dept in DEPARTMENTS:
            self._register(dept, f"{dept}考核员", dept, ["department"])
        for person, role in LEADERS:
            self._register(person, person, "", [role])
        for year in (2017, 2018):
            text = _scheme_text(year)
            self.act("office", "scheme.adopted", {"year": year, "text": text, "sha256": sha256_hex(text.encode()),
                                                  "file": f"bp-{year}.toml"}, signed_at="2017-03-28T10:00:00+08:00")

    def _register(self, key: str, person: str, department: str, roles: list[str]) -> None:
        k = self.keys[key]
        self.act("office", "signatory.added", {"key_id": k.key_id, "public_key": k.public_text, "person": person,
                                               "department": department, "roles": roles,
                                               "valid_from": "2017-01-01T00:00:00Z"},
                 signed_at="2017-03-28T09:30:00+08:00")

    def scores(self, advance) -> int:
        scheme = self.ledger.year(2017).scheme
        done = 0
        for group in scheme.groups:
            for unit in group.units:
                for item in group.leaves_for(unit) if group.indicators else ():
                    share = Decimal(self.rng.randint(800, 1000)) / 1000
                    value = (item.weight * share).quantize(Decimal("0.1"), ROUND_HALF_UP)
                    self.act("office", "score.recorded", {"year": 2017, "unit": unit, "indicator": item.id,
                                                          "value": str(value)})
                    done += 1
                    advance(done)
                for component in group.components:
                    value = Decimal(self.rng.randint(820, 990)) / 10
                    self.act("office", "evaluation.recorded", {"year": 2017, "unit": unit, "component": component,
                                                               "round": "", "value": str(value)})
                    done += 1
                    advance(done)
        return done

    def propose(self, dept: str, unit: str, rule: str, inputs: dict, reason: str, document: str,
                year: int = 2017) -> str:
        receipt = self.act(dept, "adjustment.proposed", {"year": year, "unit": unit, "rule": rule, "inputs": inputs,
                                                         "reason": reason, "document": document})
        return receipt.stream

    def approve(self, stream: str, signed_at: str | None = PAPER_DATE, leaders=LEADERS[:3]) -> None:
        for person, role in leaders:
            self.act(person, "adjustment.approved", {"role": role}, stream=stream, signed_at=signed_at)

    def adjustments(self) -> str:
        approved = [
            ("市委办", "长皋乡", "附2-14表扬", {"level": "朝阳市及以上"}, "朝阳市委通报表扬脱贫攻坚工作", "朝委发〔2017〕45号"),
            ("市委办", "大板镇", "附2-14批评", {"level": "市", "matter": "信访积案化解不力"}, "市委通报批评", "北委发〔2017〕12号"),
            ("市委办", "大板镇", "附2-14批评", {"level": "朝阳市及以上", "matter": "信访积案化解不力"},
             "同一问题朝阳市委通报批评", "朝委发〔2017〕60号"),
            ("市发展改革局", "上园镇", "附2-2", {"option": "新建", "count": "2"}, "完成新建重点项目2个", "北发改〔2017〕88号"),
            ("市发展改革局", "上园镇", "附2-2", {"option": "续建", "count": "3"}, "完成续建重点项目3个", "北发改〔2017〕89号"),
            ("市建投办", "财政局", "附2-6", {"amount": "25000"}, "完成融资2.5亿元", "北建投〔2017〕7号"),
            ("市考核办", "长皋乡", "附2-12", {"entity": "王家村", "rank": "3"}, "王家村美丽乡村考评第3名", "北考办〔2017〕21号"),
            ("市考核办", "小塔子乡", "附2-11", {"area": "保密工作", "points": "-1"}, "保密检查发现问题", "北保〔2017〕3号"),
            ("市委督查室", "发展改革局", "市直-8", {"rank": "1"}, "朝阳市综合考评第1名", "朝考〔2018〕2号"),
            ("市委督查室", "教育局", "市直-8", {"rank": "2", "tied": "2"}, "朝阳市综合考评并列第2名", "朝考〔2018〕2号"),
            ("市委督查室", "住房城乡建设局", "市直-8", {"rank": "2", "tied": "2"}, "朝阳市综合考评并列第2名", "朝考〔2018〕2号"),
        ]
        for dept, unit, rule, inputs, reason, document in approved:
            self.approve(self.propose(dept, unit, rule, inputs, reason, document))
        rejected = self.propose("市考核办", "马友营乡", "附2-1", {"option": "完成", "points": "3"},
                                "服务“五个一工程”建设", "无")
        self.act("赵常务", "adjustment.rejected", {"role": "常务副市长", "reason": "无佐证材料"}, stream=rejected)
        late = self.propose("市委督查室", "统计局", "市直-8", {"rank": "1"}, "朝阳市综合考评第1名(查询结果晚到)",
                            "朝考〔2018〕5号")
        self.approve(late, leaders=LEADERS[:1])
        return late

    def decisions(self) -> None:
        for unit, rank in (("经济开发区", 1), ("农产品加工园区", 3), ("新市镇(五间房)", 2), ("大黑山景区", 5),
                           ("南山中心商贸集聚区", 4)):
            self.act("office", "decision.recorded", {"year": 2017, "unit": unit, "kind": "outside_rank",
                                                     "value": str(rank), "reason": "朝阳市考核结果",
                                                     "evidence": "朝考〔2018〕1号"})
        self.act("office", "decision.recorded", {"year": 2017, "unit": "龙潭镇", "kind": "fault",
                                                 "value": "发生重大安全生产责任事故", "reason": "9·12安全生产事故",
                                                 "evidence": "北安委〔2017〕9号"})

    def close(self, late: str) -> None:
        from projections.closing import close_act

        for key in ("office", "周书记"):
            self.act(key, "year.close.signed", close_act(self.ledger, 2017, self.keys[key].key_id),
                     signed_at=None)
        # the late 朝阳 result's last approvals arrive after the close: it is counted in 2018
        self.approve(late, signed_at=None, leaders=LEADERS[1:3])


def run_demo(env: Env, folder: Path, db: str | None) -> "object":
    """Build the demo year; return its 2017 results."""
    from projections.replay import replay
    from projections.results import year_results

    folder.mkdir(parents=True, exist_ok=True)
    demo = Demo(folder, db)
    demo.setup()
    with progress_bar("signing scores", 2400) as advance:
        count = demo.scores(advance)
    late = demo.adjustments()
    demo.decisions()
    demo.close(late)
    click.echo(f"Built {demo.db}: {demo.ledger.log_size()} signed events ({count} scores and evaluations); "
               f"keys in {folder / 'keys'} (passphrase: demo)")
    return year_results(replay(demo.ledger.store), 2017), demo.db


@click.command("demo")
@click.option("--dir", "folder", default="kaohe-demo", show_default=True, type=click.Path(file_okay=False),
              help="Folder for the demo's ledger.db and keys (its ledger.db and keys/ are replaced).")
@click.pass_obj
def demo(env: Env, folder: str) -> None:
    """Build a complete signed BP 2017 year from examples/ and print its grade tables.

    \b
    Example:
      ledger demo
      ledger --db kaohe-demo/ledger.db explain --year 2018 --unit 统计局
    """
    from .render import render

    results, db = run_demo(env, Path(folder), None)
    for group in dict.fromkeys(u.group for u in results.scores.units):
        rows = results.rows(group)
        for r in rows:
            r["reasons"] = "; ".join(r["reasons"])
        render(rows, ["rank", "unit", "total", "grade", "reasons"], "table", title=f"2017 {group}",
               headers={"rank": "排名", "unit": "单位", "total": "总分", "grade": "等次", "reasons": "说明"})
    click.echo(f"2017 closed at position {results.close_position}; result sha256 {results.result_hash()}")
    click.echo(f"Next: ledger --db {db} explain --year 2018 --unit 统计局   # the bonus carried over from 2017")


COMMANDS = [demo]

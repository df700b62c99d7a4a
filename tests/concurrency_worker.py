"""One of the concurrent writers of tests/test_concurrency.py: a process that signs and submits acts through the
Ledger API (not the CLI, which would spend its time starting up) and records what became of every one.

Each worker owns some units (its scores, evaluations and proposals there never race another worker's) and shares
others (every worker corrects the same scores), and approves, rejects and rescinds the most recent proposals of the
other workers, so approvals race each other and race rejections and rescissions. The record it writes — the event id
of every act acknowledged, the reason of every refusal, how many conflicts were retried — is what the test checks
against the log afterwards.
"""
from __future__ import annotations

import json
import random
import time
import traceback
from pathlib import Path

YEAR = 2017
INDICATOR = "指标评估"
COMPONENT = "班子成员评议"
SIGNED_AT = "2017-12-20T02:00:00Z"  # before the HY rules' deadline (2018-01-10), after the keys' valid_from

# (operation, weight) of the mix each worker draws from
MIX = [("own_score", 22), ("shared_score", 18), ("evaluation", 6), ("propose", 18), ("approve", 18),
       ("reject", 4), ("rescind", 8), ("invalid", 6)]


def run(spec: dict, barrier=None) -> None:
    """Run one worker (a multiprocessing target): open the ledger, wait for the others, act, write the record."""
    out = Path(spec["out"])
    try:
        record = _work(spec, barrier)
    except BaseException:  # the test reads the file; a crash must show there, not vanish with the process
        record = {"worker": spec["worker"], "crash": traceback.format_exc()}
    out.write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")


def _work(spec: dict, barrier) -> dict:
    from ledger.keys import load_private
    from ledger.store import Conflict, EventStore
    from ledger.writer import Ledger

    ledger = Ledger(EventStore(spec["db"]))
    passphrase = spec["passphrase"].encode()
    keys = {role: load_private(path, passphrase) for role, path in spec["keys"].items()}
    ledger.registry()  # connect and warm up before the start line, so the acts themselves run concurrently
    conflicts = [0]
    submit = ledger.submit

    def counting_submit(envelope, signature, *vet):
        # Ledger.act retries a Conflict by re-reading and re-signing; count each retry it makes
        try:
            return submit(envelope, signature, *vet)
        except Conflict:
            conflicts[0] += 1
            worker.conflicts_this_act += 1
            raise

    worker = Worker(ledger, keys, spec)
    ledger.submit = counting_submit  # instance attribute: Ledger.act calls self.submit
    if barrier is not None:
        barrier.wait(timeout=120)
    started = time.monotonic()
    results = [worker.step(i) for i in range(spec["acts"])]
    return {"worker": spec["worker"], "results": results, "conflicts_retried": conflicts[0],
            "seconds": time.monotonic() - started, "proposed": worker.proposed}


class Worker:
    """Draws operations from MIX with a seeded generator and performs each as one signed act."""

    def __init__(self, ledger, keys: dict, spec: dict):
        self.ledger, self.keys, self.spec = ledger, keys, spec
        self.rng = random.Random(spec["seed"])
        self.proposed: list[str] = []  # streams of this worker's own proposals
        self.conflicts_this_act = 0

    def step(self, i: int) -> dict:
        """Perform one operation; return what happened (an event id, or the refusal's reason)."""
        from ledger.errors import LedgerError

        op = self.rng.choices([m[0] for m in MIX], [m[1] for m in MIX])[0]
        self.conflicts_this_act = 0
        target = None
        if op in ("approve", "reject", "rescind"):
            target = self._others_recent()
            if target is None:  # nobody else has proposed yet: every step is an act all the same
                op = "propose"
        try:
            receipt = getattr(self, op)(i) if target is None else getattr(self, op)(target)
        except LedgerError as exc:
            return {"op": op, "ok": False, "error": type(exc).__name__, "reason": str(exc),
                    "retries": self.conflicts_this_act}
        except Exception as exc:  # anything else is a bug the test must report with its traceback
            return {"op": op, "ok": False, "error": "unexpected", "reason": f"{type(exc).__name__}: {exc}",
                    "traceback": traceback.format_exc()}
        return {"op": op, "ok": True, "event_id": receipt.event_id, "stream": receipt.stream,
                "version": receipt.version, "position": receipt.position, "retries": self.conflicts_this_act}

    # ---- scores and evaluations: a correction names the stream's last event as re-read at every attempt -----------

    def _score(self, unit: str, key: str):
        from ledger.writer import correcting_last

        # the hundredths name the worker: Ed25519 signatures are deterministic, so two workers signing the same value
        # with the shared office key at the same version would sign identical bytes, stored once as one act
        value = f"{self.rng.randint(40, 79)}.{self.rng.randint(0, 9)}{self.spec['worker'] % 10}"
        act = {"year": YEAR, "unit": unit, "indicator": INDICATOR, "value": value,
               "note": f"worker {self.spec['worker']} 复核"}
        return self.ledger.act("score.recorded", act, self.keys[key], SIGNED_AT, rebase=correcting_last)

    def own_score(self, _i: int):
        return self._score(self.rng.choice(self.spec["own_units"]), "kh")

    def shared_score(self, _i: int):
        # the office and the worker's 考核办 officer both score the shared units: two signers per worker, one stream
        return self._score(self.rng.choice(self.spec["shared_units"]), self.rng.choice(["kh", "office"]))

    def evaluation(self, _i: int):
        from ledger.writer import correcting_last

        votes = {"优秀": self.rng.randint(0, 9), "良好": self.rng.randint(1, 9)}
        act = {"year": YEAR, "unit": self.rng.choice(self.spec["own_units"]), "component": COMPONENT, "round": "",
               "votes": votes, "note": "评议复核"}
        return self.ledger.act("evaluation.recorded", act, self.keys["office"], SIGNED_AT, rebase=correcting_last)

    def invalid(self, _i: int):
        # refused whatever the state: 99 is outside 指标评估's 0…80; the test checks no trace of it is stored
        act = {"year": YEAR, "unit": self.rng.choice(self.spec["own_units"]), "indicator": INDICATOR, "value": "99"}
        return self.ledger.act("score.recorded", act, self.keys["kh"], SIGNED_AT)

    # ---- adjustments ------------------------------------------------------------------------------------------------

    def propose(self, i: int):
        unit = self.rng.choice(self.spec["own_units"])
        if self.rng.random() < 0.5:
            inputs = {"level": "市级", "matter": f"w{self.spec['worker']}-{i}"}
            act = {"year": YEAR, "unit": unit, "rule": "荣誉", "inputs": inputs, "reason": "获得荣誉",
                   "document": f"衡文〔2017〕{i}号"}
        else:
            act = {"year": YEAR, "unit": unit, "rule": "重大创新", "inputs": {"points": "1"}, "reason": "重大创新"}
        receipt = self.ledger.act("adjustment.proposed", act, self.keys["kh"], SIGNED_AT)
        self.proposed.append(receipt.stream)
        return receipt

    def _others_recent(self):
        """One of the last few proposals of the other workers (racing the other workers for it)."""
        from uuid import UUID

        self.ledger.index.catch_up()
        streams = [s for s in self.ledger.index.streams_of_type("adjustment.proposed") if s not in self.proposed]
        if not streams:
            return None
        return UUID(self.rng.choice(streams[-6:]))

    def approve(self, stream):
        return self.ledger.act("adjustment.approved", {"role": "组长"}, self.keys["zz"], SIGNED_AT, stream=stream)

    def reject(self, stream):
        act = {"role": "组长", "reason": "材料不全"}
        return self.ledger.act("adjustment.rejected", act, self.keys["zz"], SIGNED_AT, stream=stream)

    def rescind(self, stream):
        # any 考核办 officer may rescind a 考核办 proposal: this races the other workers' approvals of it
        return self.ledger.act("adjustment.rescinded", {"reason": "重复申报"}, self.keys["kh"], SIGNED_AT,
                               stream=stream)


def submit_files(db: str, files: list[str], out: str, barrier) -> None:
    """`ledger submit FILE` for each file in turn, every round started together with the other processes."""
    from tests.cliharness import Cli

    cli = Cli(db, Path(out).parent)
    cli("log", "--format", "json")  # imports and connection done before the start line
    record = []
    for path in files:
        barrier.wait(timeout=120)
        res = cli("submit", path)
        record.append({"code": res.code, "out": res.out, "err": res.err})
    Path(out).write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")

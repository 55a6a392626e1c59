"""The store's merchandising rules on disk: one readable JSON file (`rules.json` in the state folder) written
atomically, and an append-only audit log beside it (`rules-audit.jsonl`: who changed what, when).

Every serving replica that shares the folder sees a change on its next turn (the file is re-read when it
changes). A damaged file is reported and the last rules read keep applying; nothing is ever unpickled.
"""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path
from typing import Any

from assistant.core.durable import fsync_dir, write_durably
from assistant.rank.rules import MerchRule, RuleError

FORMAT = 1
MAX_RULES = 500


class RuleBook:
    """Staff's pin / boost / block rules for one store."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.audit_path = self.path.with_name(self.path.stem + "-audit.jsonl")
        self._lock = threading.Lock()
        self._rules: tuple[MerchRule, ...] = ()
        self._seen: tuple[int, int] | None = None  # (mtime_ns, size) of the file last read
        self.warning: str | None = None

    def rules(self) -> tuple[MerchRule, ...]:
        """The rules in force (re-read when the file changed)."""
        with self._lock:
            self._refresh()
            return self._rules

    def _refresh(self) -> None:
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            self._rules, self._seen, self.warning = (), None, None
            return
        if self._seen == (stat.st_mtime_ns, stat.st_size):
            return
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("rules"), list):
                raise RuleError(f"not a rules file of format {FORMAT}")
            self._rules = tuple(MerchRule.from_dict(r) for r in data["rules"])
            self.warning = None
        except (OSError, ValueError, TypeError) as err:  # RuleError and JSON errors are ValueErrors
            self.warning = f"{self.path}: {err} (the last rules read still apply)"
        self._seen = (stat.st_mtime_ns, stat.st_size)

    def add(self, rule: MerchRule, actor: str) -> MerchRule:
        """Add a rule (its id must be new); audited under `actor`."""
        problems = rule.problems()
        if problems:
            raise RuleError(f"rule {rule.id}: " + "; ".join(problems))
        with self._lock:
            self._refresh()
            if any(r.id == rule.id for r in self._rules):
                raise RuleError(f"a rule with id {rule.id!r} exists: remove it first")
            if len(self._rules) >= MAX_RULES:
                raise RuleError(f"at most {MAX_RULES} rules")
            self._write((*self._rules, rule))
            self._audit(actor, "add", rule)
        return rule

    def remove(self, rule_id: str, actor: str) -> MerchRule:
        """Remove the rule `rule_id` (KeyError when there is none); audited under `actor`."""
        with self._lock:
            self._refresh()
            found = next((r for r in self._rules if r.id == rule_id), None)
            if found is None:
                raise KeyError(rule_id)
            self._write(tuple(r for r in self._rules if r.id != rule_id))
            self._audit(actor, "remove", found)
        return found

    def new_id(self) -> str:
        """An id no rule has yet: r1, r2, ..."""
        taken = {r.id for r in self.rules()}
        return next(f"r{n}" for n in range(1, MAX_RULES + 2) if f"r{n}" not in taken)

    def history(self, limit: int = 50) -> list[dict[str, Any]]:
        """The latest `limit` audit entries, newest last."""
        try:
            lines = self.audit_path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return []
        out = []
        for line in lines[-limit:]:
            try:
                out.append(json.loads(line))
            except ValueError:
                continue  # a line cut by a crash
        return out

    def _write(self, rules: tuple[MerchRule, ...]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps({"format": FORMAT, "rules": [r.to_dict() for r in rules]}, indent=1, ensure_ascii=False)
        temp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        write_durably(temp, text.encode("utf-8") + b"\n")
        os.replace(temp, self.path)
        fsync_dir(self.path.parent)
        self._rules, self._seen = rules, None

    def _audit(self, actor: str, change: str, rule: MerchRule) -> None:
        entry = {"time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "actor": actor[:80],
                 "change": change, "rule": rule.to_dict()}
        with open(self.audit_path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(entry, ensure_ascii=False) + "\n")
            handle.flush()
            os.fsync(handle.fileno())

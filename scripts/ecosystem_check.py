#!/usr/bin/env python3
"""Measures prodlint on a corpus of checked-out real repositories (after ruff's scripts/check_ecosystem.py).

Method
  run        checks each repository of a corpus group with a prodlint binary (`check --no-config --no-cache
             --format json`, cwd = the repository) and writes OUTDIR/findings.jsonl, runs.tsv and counts.md.
             Each finding gets an `id`: sha1 (12 hex) of repo, path, rule, the stripped text of the flagged
             line and the message, so it survives line shifts elsewhere in the file. Findings equal in all five
             parts (the same text on two lines of one file) are counted in line order and the count is hashed
             too from the second one on, so ids are unique within a run.
  sample     draws a seeded random sample per rule into WORKDIR/<rule>.md worksheets. A judge fills each
             entry's `verdict:` (true = a real problem worth fixing, false = a false positive) and `reason:`
             (one line). Sampling again keeps judged entries (by id) and tops the sheet up to --per-rule.
  precision  turns worksheets into the per-rule precision table of docs/precision.md. Only judged entries
             whose id is in the given findings.jsonl count; the others are reported as not counted.
  diff       compares two runs by id (before/after a rule change); with --worksheets it lists judged false
             positives still reported and judged true positives lost.

Corpus: DIR/src/OWNER__NAME/ work trees and DIR/tuning.tsv, DIR/measuring.tsv (columns repo, commit, dir,
rust_files, dockerfiles, k8s_yaml, frameworks, status; rows with status `ok` are used). Tune rules on the tuning
group and measure only on the measuring group.

Reproduce the measurement (from the repository root):
  python3 scripts/ecosystem_check.py checkout --corpus ../corpus      # once: the repositories at their commits
  python3 scripts/ecosystem_check.py run --prodlint target/release/prodlint --corpus ../corpus \\
      --group measuring --out /tmp/eco-after
then `sample` into a worksheet directory, judge, and `precision --out docs/precision.md` (see --help of each).
"""

import argparse
import csv
import functools
import hashlib
import json
import os
import random
import re
import shutil
import subprocess
import sys
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

GROUPS = {"tuning": ["tuning.tsv"], "measuring": ["measuring.tsv"], "all": ["tuning.tsv", "measuring.tsv"]}
SEVERITIES = ["info", "warning", "error"]
CONTEXT = 8
BEGIN, END = "<!-- precision:begin -->", "<!-- precision:end -->"
HEADING = re.compile(r"^### (\d+)\. (\S+) (.*?)\s+\[id ([0-9a-f]+)\]\s*$")
LANGS = {".rs": "rust", ".yaml": "yaml", ".yml": "yaml", ".tpl": "yaml", ".toml": "toml", ".json": "json",
         ".sh": "bash", ".py": "python", ".go": "go", ".md": "markdown", ".dockerfile": "dockerfile"}
TRUE_WORDS, FALSE_WORDS = {"true", "t", "tp", "yes", "y"}, {"false", "f", "fp", "no", "n"}
SHEET_HELP = ("Fill `verdict:` with `true` (a real problem worth fixing) or `false` (a false positive) and "
              "`reason:` with one line. Judged entries are kept when the sample is drawn again.")


def die(msg):
    sys.exit(f"ecosystem_check: {msg}")


def warn(msg):
    print(f"ecosystem_check: {msg}", file=sys.stderr)


def oneline(text):
    """Text for a `- key: value` line: continuation lines are indented so they never start a new key."""
    return "\n  ".join(str(text).splitlines()) if text is not None else ""


def md_cell(text):
    return " ".join(str(text if text is not None else "").split()).replace("|", "\\|")


def table(header, rows, align):
    """A markdown table; align has one letter per column, l or r."""
    lines = [header, ["---" if a == "l" else "---:" for a in align]] + rows
    return "".join("| " + " | ".join(str(c) for c in row) + " |\n" for row in lines)


def describe(f):
    return f"{f.get('repo')} {f.get('path')}:{f.get('line')} {f.get('rule')} {md_cell(f.get('message'))}"


# ---------------------------------------------------------------- corpus and sources

def read_tsv(path):
    try:
        with open(path, newline="", encoding="utf-8", errors="replace") as f:
            return [{k.strip(): (v or "").strip() for k, v in row.items() if k}
                    for row in csv.DictReader(f, delimiter="\t")]
    except OSError:
        return None


def corpus_rows(corpus):
    rows = [row for name in GROUPS["all"] for row in read_tsv(corpus / name) or [] if row.get("repo")]
    return {row["repo"]: row for row in reversed(rows)}  # the first row of a repository wins


def repo_dir(corpus, repo, row=None):
    d = (row or {}).get("dir")
    cands = ([corpus / d, corpus / "src" / d] if d else []) + [corpus / "src" / repo.replace("/", "__")]
    return next((c for c in cands if c.is_dir()), cands[0])


def select_repos(args):
    """[(repo, commit, work tree)] sorted by repo; a missing work tree is kept and recorded as failed by `run`."""
    corpus, out = Path(args.corpus).resolve(), {}
    rows = corpus_rows(corpus)
    if args.repos:
        by_dir = {repo_dir(corpus, r, row).name: row for r, row in rows.items()}
        for item in filter(None, (s.strip() for s in args.repos.split(","))):
            cands = [corpus / "src" / item, corpus / "src" / item.replace("/", "__"), corpus / item, Path(item)]
            d = next((c.resolve() for c in cands if c.is_dir()), None)
            if d is None:
                die(f"no work tree for {item!r} under {corpus / 'src'}")
            row = rows.get(item) or rows.get(d.name.replace("__", "/")) or by_dir.get(d.name) or {}
            repo = row.get("repo") or d.name.replace("__", "/")
            out[repo] = (repo, row.get("commit", ""), d)
    for name in [] if args.repos else GROUPS[args.group]:
        tsv = read_tsv(corpus / name)
        if tsv is None:
            die(f"cannot read {corpus / name}")
        for row in tsv:
            if row.get("status") == "ok" and row.get("repo"):
                out[row["repo"]] = (row["repo"], row.get("commit", ""), repo_dir(corpus, row["repo"], row))
    return [out[r] for r in sorted(out)]


@functools.lru_cache(maxsize=512)
def source_lines(path):
    """The file's lines (split on \\n only, as diagnostics count them), or None when it cannot be read."""
    try:
        with open(path, encoding="utf-8", errors="replace", newline="") as f:
            lines = f.read().split("\n")
    except OSError:
        return None
    return tuple(line.rstrip("\r") for line in (lines[:-1] if lines[-1] == "" else lines))


def load_findings(path):
    p = Path(path) / "findings.jsonl" if Path(path).is_dir() else Path(path)
    try:
        text = p.read_text(encoding="utf-8", errors="replace")
    except OSError as e:
        die(f"cannot read {p}: {e.strerror}")
    out = []
    for i, line in enumerate(text.splitlines(), 1):
        try:
            d = json.loads(line) if line.strip() else None
        except ValueError:
            warn(f"{p}:{i}: not JSON, skipped")
            continue
        if isinstance(d, dict) and d.get("id") and d.get("rule"):
            out.append(d)
    return out


# ---------------------------------------------------------------- run

def run_one(binary, preview, timeout, repo, commit, root):
    rec = {"repo": repo, "exit": "", "seconds": 0.0, "files_checked": "", "findings": [], "error": ""}
    if not root.is_dir():
        return {**rec, "exit": "skipped", "error": f"no work tree at {root}"}
    cmd = [binary, "check", "--no-config", "--no-cache", "--format", "json"] + ["--preview"] * preview + ["."]
    start = time.monotonic()
    try:
        p = subprocess.run(cmd, cwd=root, capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {**rec, "exit": "timeout", "seconds": round(time.monotonic() - start, 2),
                "error": f"timed out after {timeout:g} s"}
    except OSError as e:
        return {**rec, "exit": "failed", "error": str(e)}
    rec.update(exit=p.returncode, seconds=round(time.monotonic() - start, 2))
    stderr = [line for line in p.stderr.decode("utf-8", "replace").splitlines() if line.strip()]
    first = " ".join(stderr[0].split())[:200] if stderr else ""
    try:
        doc = json.loads(p.stdout.decode("utf-8", "replace"))
        diags, summary = [d for d in doc["diagnostics"] if isinstance(d, dict)], doc.get("summary") or {}
    except (ValueError, KeyError, TypeError, AttributeError):
        return {**rec, "error": f"no JSON output (exit {p.returncode}) {first}".rstrip()}
    if p.returncode not in (0, 1):
        rec["error"] = f"exit {p.returncode} {first}".rstrip()
    rec["files_checked"] = summary.get("files_checked", "")
    for d in diags:  # repository-relative, / separated, no leading ./
        path = str(d.get("path") or "")
        path = os.path.relpath(path, root) if os.path.isabs(path) else path
        d["path"] = os.path.normpath(path).replace("\\", "/") if path else ""
    seen = Counter()
    for d in sorted(diags, key=lambda d: (d["path"], d.get("line") or 0, d.get("column") or 0,
                                          str(d.get("rule")), str(d.get("message")))):
        lines = source_lines(str(root / d["path"])) if d["path"] else None
        line = d.get("line") if isinstance(d.get("line"), int) else 0
        text = lines[line - 1].strip() if lines and 0 < line <= len(lines) else ""
        key = (repo, d["path"], str(d.get("rule")), text, str(d.get("message")))
        parts = list(key) + ([str(seen[key])] if seen[key] else [])
        seen[key] += 1
        fid = hashlib.sha1("\0".join(parts).encode("utf-8", "surrogatepass")).hexdigest()[:12]
        rec["findings"].append({"repo": repo, "commit": commit, "id": fid, **d})
    return rec


def write_counts(path, recs, version, preview):
    findings, failed = [d for r in recs for d in r["findings"]], [r for r in recs if r["error"]]
    by_rule = defaultdict(list)
    for d in findings:
        by_rule[str(d.get("rule"))].append(d)
    rows = []
    for rule, ds in sorted(by_rule.items()) + [("**total**", findings)]:
        sev = Counter(d.get("severity") for d in ds)
        rows.append([rule, len(ds), len({d["repo"] for d in ds})] + [sev[s] for s in reversed(SEVERITIES)])
    repos = [[r["repo"], r["exit"], r["seconds"], r["files_checked"], len(r["findings"]), md_cell(r["error"])]
             for r in recs]
    path.write_text(
        f"# prodlint ecosystem run\n\n{md_cell(version)} · preview: {'on' if preview else 'off'} · {len(recs)} "
        f"repositories ({len(failed)} with errors) · {len(findings)} findings\n\n## Findings by rule\n\n"
        + table(["rule", "findings", "repos", "error", "warning", "info"], rows, "lrrrrr")
        + "\n## Findings by repository\n\n"
        + table(["repo", "exit", "seconds", "files checked", "findings", "error"], repos, "lrrrrl"), encoding="utf-8")
    return findings, failed


def cmd_run(args):
    binary = str(Path(args.prodlint).resolve()) if Path(args.prodlint).exists() else shutil.which(args.prodlint)
    if not binary or not os.access(binary, os.X_OK):
        die(f"{args.prodlint}: no executable prodlint binary")
    repos = select_repos(args)
    if not repos:
        die("no repositories selected")
    try:
        version = subprocess.run([binary, "--version"], capture_output=True, timeout=30).stdout.decode(errors="replace")
    except (OSError, subprocess.TimeoutExpired):
        version = "?"
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    recs = []
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futures = [pool.submit(run_one, binary, args.preview, args.timeout, *r) for r in repos]
        for i, fut in enumerate(futures, 1):
            recs.append(fut.result())
            r = recs[-1]
            print(f"[{i}/{len(repos)}] {r['repo']}: exit {r['exit']}, {len(r['findings'])} findings, "
                  f"{r['seconds']} s {r['error']}".rstrip(), file=sys.stderr)
    with open(out / "findings.jsonl", "w", encoding="utf-8") as f:
        f.writelines(json.dumps(d, ensure_ascii=False) + "\n" for r in recs for d in r["findings"])
    with open(out / "runs.tsv", "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, delimiter="\t", lineterminator="\n")
        w.writerow(["repo", "exit", "seconds", "files_checked", "count", "error"])
        w.writerows([r["repo"], r["exit"], r["seconds"], r["files_checked"], len(r["findings"]), r["error"]]
                    for r in recs)
    findings, failed = write_counts(out / "counts.md", recs, version, args.preview)
    print(f"{len(findings)} findings in {len(recs)} repositories ({len(failed)} with errors) -> {out}", file=sys.stderr)


# ---------------------------------------------------------------- worksheets

def parse_worksheet(path):
    """Entries of one worksheet in file order: dicts with id, repo, loc, verdict, reason, message, lines."""
    try:
        lines = Path(path).read_text(encoding="utf-8", errors="replace").split("\n")
    except OSError:
        return []
    starts = [i for i, line in enumerate(lines) if HEADING.match(line)] + [len(lines)]
    entries = []
    for a, b in zip(starts, starts[1:]):
        m = HEADING.match(lines[a])
        e = {"id": m[4], "repo": m[2], "loc": m[3], "lines": lines[a:b]}
        for key, prefix in (("verdict", "verdict:"), ("reason", "reason:"), ("message", "- message:")):
            e[key] = next((line[len(prefix):].strip() for line in lines[a + 1:b] if line.startswith(prefix)), "")
        entries.append(e)
    return entries


def verdict(entry):
    v = entry["verdict"].strip("`* ").lower()
    return "true" if v in TRUE_WORDS else "false" if v in FALSE_WORDS else ("?" if v else "")


def load_worksheets(dirs):
    """{rule: {id: entry}} over the <rule>.md files of the directories; a later judgement overrides an earlier."""
    sheets = defaultdict(dict)
    for d in dirs:
        if not Path(d).is_dir():
            warn(f"{d}: not a directory")
        for path in sorted(Path(d).glob("*.md")):
            for e in parse_worksheet(path):
                old = sheets[path.stem].get(e["id"])
                if old and verdict(old) and verdict(e) and verdict(old) != verdict(e):
                    warn(f"{path}: {e['id']} judged {verdict(old)} elsewhere and {verdict(e)} here; this one counts")
                if verdict(e) == "?":
                    warn(f"{path}: {e['id']}: verdict {e['verdict']!r} is neither true nor false, not counted")
                if not old or verdict(e) or not verdict(old):
                    sheets[path.stem][e["id"]] = e
    return sheets


def render(f, n, root):
    line = f.get("line") if isinstance(f.get("line"), int) else 0
    out = [f"### {n}. {f['repo']} {f.get('path')}:{line}:{f.get('column')}  [id {f['id']}]", "",
           f"- severity: {f.get('severity')}", f"- message: {oneline(f.get('message'))}"]
    if f.get("help"):
        out.append(f"- help: {oneline(f['help'])}")
    for r in f.get("related") or []:
        out.append(f"- related: {r.get('path')}:{r.get('line')}:{r.get('column')} {oneline(r.get('message'))}".rstrip())
    if f.get("commit"):
        out.append(f"- source: https://github.com/{f['repo']}/blob/{f['commit']}/{f.get('path')}#L{line}")
    src = source_lines(str(root / f["path"])) if f.get("path") else None
    if src is None:
        out += ["", f"(source not available: {root / str(f.get('path'))})"]
    else:
        lo, hi = max(1, line - CONTEXT), min(len(src), max(line, 1) + CONTEXT)
        body = [f"{'>' if i == line else ' '} {i:>{len(str(hi))}} | {src[i - 1]}" for i in range(lo, hi + 1)]
        fence = "`" * max([3] + [len(run) + 1 for run in re.findall(r"`+", "\n".join(body))])
        name = os.path.basename(f["path"])
        lang = LANGS.get(os.path.splitext(name)[1].lower(), "text")
        lang = "dockerfile" if name.startswith(("Dockerfile", "Containerfile")) else lang
        out += ["", fence + lang, *body, fence] if body else ["", f"(line {line} is past the end: {len(src)} lines)"]
    return out + ["", "verdict: ", "reason: "]


def cmd_sample(args):
    corpus = Path(args.corpus).resolve()
    rows, wanted = corpus_rows(corpus), set(filter(None, (s.strip() for s in (args.rules or "").split(","))))
    by_rule = defaultdict(list)
    for f in load_findings(args.findings):
        rank = SEVERITIES.index(f["severity"]) if f.get("severity") in SEVERITIES else len(SEVERITIES)
        if (not wanted or f["rule"] in wanted) and rank >= SEVERITIES.index(args.severity_min):
            by_rule[f["rule"]].append(f)
    for rule in sorted(wanted - set(by_rule)):
        warn(f"{rule}: no findings at severity {args.severity_min} or above")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for rule in sorted(by_rule):
        pool, path = sorted(by_rule[rule], key=lambda f: f["id"]), out / f"{rule}.md"
        kept = [e for e in parse_worksheet(path) if e["verdict"]]
        kept_ids = {e["id"] for e in kept}
        # Judged entries whose finding is gone stay on the sheet (a later run shows whether they come
        # back) but do not count towards the sample.
        current = {f["id"] for f in pool}
        live = sum(1 for e in kept if e["id"] in current)
        drawn = random.Random(f"{args.seed}:{rule}").sample(pool, min(args.per_rule, len(pool)))
        drawn_ids = {f["id"] for f in drawn}
        rest = [f for f in pool if f["id"] not in drawn_ids]  # needed only when judged entries are not in this draw
        random.Random(f"{args.seed}:{rule}:more").shuffle(rest)
        new = [f for f in drawn + rest if f["id"] not in kept_ids][:max(0, args.per_rule - live)]
        blocks = []
        for n, e in enumerate(kept, 1):
            lines = list(e["lines"])
            while lines and not lines[-1].strip():
                lines.pop()
            blocks.append([re.sub(r"^### \d+\.", f"### {n}.", lines[0])] + lines[1:])
        blocks += [render(f, n, repo_dir(corpus, f["repo"], rows.get(f["repo"])))
                   for n, f in enumerate(new, len(kept) + 1)]
        head = [f"# {rule}", "", f"- seed: {args.seed}", f"- findings: {len(pool)}",
                f"- sample: {live + len(new)} of the current findings ({live} judged entries still reported, "
                f"{len(kept) - live} judged but gone, {len(new)} drawn)", "", SHEET_HELP, ""]
        path.write_text("\n".join(head + ["\n".join(b) + "\n" for b in blocks]), encoding="utf-8")
        print(f"{path}: {len(pool)} findings, {live} judged still reported, {len(new)} new", file=sys.stderr)


# ---------------------------------------------------------------- diff and precision

def section(title, items):
    print(f"## {title} ({len(items)})\n\n" + ("".join(f"- {i}\n" for i in items) or "(none)\n"))


def cmd_diff(args):
    before = {f["id"]: f for f in load_findings(args.before)}
    after = {f["id"]: f for f in load_findings(args.after)}
    removed, added = set(before) - set(after), set(after) - set(before)
    b, a = Counter(f["rule"] for f in before.values()), Counter(f["rule"] for f in after.values())
    r, ad = Counter(before[i]["rule"] for i in removed), Counter(after[i]["rule"] for i in added)
    rows = [[rule, b[rule], a[rule], r[rule], ad[rule]] for rule in sorted(set(b) | set(a))]
    rows.append(["**total**", len(before), len(after), len(removed), len(added)])
    print(table(["rule", "before", "after", "removed", "added"], rows, "lrrrr"))
    for label, d in (("before", args.before), ("after", args.after)):
        runs = read_tsv(Path(d) / "runs.tsv") if Path(d).is_dir() else None
        for row in sorted(runs or [], key=lambda row: row.get("repo", "")):
            if row.get("error"):  # a failed repository makes all of its findings look removed or added
                print(f"warning: the {label} run had errors on {row.get('repo')}: {row['error']}\n")
    key = lambda f: (f["rule"], f["repo"], f.get("path") or "", f.get("line") or 0, f["id"])
    if args.details:
        section("Added", [describe(f) for f in sorted((after[i] for i in added), key=key)])
        section("Removed", [describe(f) for f in sorted((before[i] for i in removed), key=key)])
    if args.worksheets:
        judged = sorted(((rule, e) for rule, es in load_worksheets(args.worksheets).items() for e in es.values()
                         if verdict(e) in ("true", "false")), key=lambda re_: (re_[0], re_[1]["repo"], re_[1]["loc"]))
        fixed = sum(1 for _, e in judged if verdict(e) == "false" and e["id"] not in after)
        print(f"{len(judged)} judged findings in the worksheets; {fixed} judged false are no longer reported\n")
        section("Judged-false findings still reported",
                [f"{describe(after[e['id']])} [id {e['id']}]" for _, e in judged
                 if verdict(e) == "false" and e["id"] in after])
        section("Judged-true findings lost", [f"{e['repo']} {e['loc']} {rule} {e['message']} [id {e['id']}]"
                                              for rule, e in judged if verdict(e) == "true" and e["id"] not in after])


def rule_status(rules_dir, rule):
    try:
        lines = (Path(rules_dir) / f"{rule}.md").read_text(encoding="utf-8", errors="replace").split("\n")
    except OSError:
        return "?"
    marks = [i for i, line in enumerate(lines) if line.strip() == "---"][:2]
    for line in lines[marks[0] + 1:marks[1]] if len(marks) == 2 else []:
        m = re.match(r"status:\s*(.*?)\s*(#.*)?$", line)
        if m:
            return m[1].strip("'\"") or "?"
    return "?"


def cmd_precision(args):
    findings = load_findings(args.findings)
    ids, per_rule = {f["id"] for f in findings}, Counter(f["rule"] for f in findings)
    sheets = load_worksheets(args.worksheets)
    rules = set(per_rule) | {r for r, entries in sheets.items() if entries}
    rules |= {p.stem for p in Path(args.rules_dir).glob("*.md")} if args.all_rules else set()
    pct = lambda c: f"{100 * c['true'] / c['judged']:.1f}%" if c["judged"] else "—"
    rows, totals, stale, cols = [], Counter(), 0, ("findings", "sampled", "judged", "true", "false")
    for rule in sorted(rules):
        entries = [e for e in sheets.get(rule, {}).values() if e["id"] in ids]
        stale += sum(1 for e in sheets.get(rule, {}).values() if e["id"] not in ids and verdict(e))
        v = Counter(verdict(e) for e in entries)
        c = Counter(findings=per_rule[rule], sampled=len(entries), judged=v["true"] + v["false"], true=v["true"],
                    false=v["false"])
        totals.update(c)
        rows.append([f"`{rule}`", *(c[k] for k in cols), pct(c), rule_status(args.rules_dir, rule)])
    rows.append(["**total**", *(totals[k] for k in cols), pct(totals), ""])
    text = table(["rule", "findings", "sampled", "judged", "true", "false", "precision", "status"], rows, "lrrrrrrl")
    if stale:
        text += f"\nJudged worksheet entries not among this run's findings (not counted): {stale}.\n"
        warn(f"{stale} judged entries are not in {args.findings}; not counted")
    if not args.out:
        return sys.stdout.write(text)
    p = Path(args.out)
    old = p.read_text(encoding="utf-8", errors="replace") if p.is_file() else None
    if old is not None and BEGIN in old and END in old.split(BEGIN, 1)[1]:
        head, rest = old.split(BEGIN, 1)
        text = f"{head}{BEGIN}\n{text}{END}{rest.split(END, 1)[1]}"
    elif old and old.strip():
        warn(f"{p} has no {BEGIN} ... {END} markers: it is replaced by the table alone")
    p.write_text(text, encoding="utf-8")
    print(f"wrote {p}", file=sys.stderr)


def cmd_checkout(args):
    """Clones every repository of docs/precision/corpus.tsv at its commit into DIR/src/OWNER__NAME and
    writes DIR/tuning.tsv and DIR/measuring.tsv for `run --group`."""
    corpus = Path(args.corpus)
    (corpus / "src").mkdir(parents=True, exist_ok=True)
    with open(args.list, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    for group in ("tuning", "measuring"):
        with open(corpus / f"{group}.tsv", "w", encoding="utf-8") as out:
            out.write("repo\tcommit\tdir\trust_files\tdockerfiles\tk8s_yaml\tframeworks\tstatus\n")
            for r in rows:
                if r["group"] != group:
                    continue
                dest = r["repo"].replace("/", "__")
                status = r["status"]
                tree = corpus / "src" / dest
                if status == "ok" and not tree.exists():
                    url = f"https://github.com/{r['repo']}.git"
                    steps = [["git", "init", "-q", str(tree)],
                             ["git", "-C", str(tree), "fetch", "-q", "--depth", "1", url, r["commit"]],
                             ["git", "-C", str(tree), "checkout", "-q", "FETCH_HEAD"]]
                    for step in steps:
                        if subprocess.run(step).returncode != 0:
                            status = f"checkout failed: {' '.join(step[:4])}"
                            break
                    print(f"{r['repo']}@{r['commit'][:12]}: {status}", file=sys.stderr)
                fields = [r["repo"], r["commit"], dest, r["rust_files"], r["dockerfiles"], r["k8s_yaml"],
                          r["frameworks"], status]
                out.write("\t".join(fields) + "\n")


# ---------------------------------------------------------------- command line

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("checkout", help="clone the corpus of docs/precision/corpus.tsv at its commits",
                       description="Needs git and network access to GitHub; skips work trees already there.")
    p.add_argument("--corpus", required=True, metavar="DIR", help="where to put src/OWNER__NAME/ and the TSV lists")
    p.add_argument("--list", default=str(Path(__file__).resolve().parent.parent / "docs" / "precision" / "corpus.tsv"),
                   metavar="FILE", help="the corpus list (default: docs/precision/corpus.tsv)")
    p.set_defaults(func=cmd_checkout)

    p = sub.add_parser("run", help="run prodlint on each repository of the corpus",
                       description="Writes OUTDIR/findings.jsonl, OUTDIR/runs.tsv and OUTDIR/counts.md.")
    p.add_argument("--prodlint", required=True, metavar="BIN", help="prodlint binary, e.g. target/release/prodlint")
    p.add_argument("--corpus", required=True, metavar="DIR", help="corpus: src/OWNER__NAME/ work trees and TSV lists")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--group", choices=sorted(GROUPS), help="status-ok rows of tuning.tsv, measuring.tsv or both")
    which.add_argument("--repos", metavar="A,B", help="work trees by name (OWNER__NAME or OWNER/NAME) or path")
    p.add_argument("--out", required=True, metavar="OUTDIR", help="output directory (created)")
    p.add_argument("--preview", action="store_true", help="pass --preview to prodlint")
    p.add_argument("--jobs", type=int, default=1, help="repositories checked at once (default 1, for timings)")
    p.add_argument("--timeout", type=float, default=600, metavar="SECONDS", help="per repository (default 600)")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("sample", help="draw seeded per-rule samples into worksheets to judge",
                       description="Writes WORKDIR/<rule>.md for each rule; judged entries already there are kept.")
    p.add_argument("--findings", required=True, metavar="FILE", help="findings.jsonl of a run (or the run's OUTDIR)")
    p.add_argument("--corpus", required=True, metavar="DIR", help="the corpus of the run (for source excerpts)")
    p.add_argument("--per-rule", type=int, default=20, metavar="N", help="entries per worksheet (default 20)")
    p.add_argument("--seed", default="1", help="random seed (default 1)")
    p.add_argument("--out", required=True, metavar="WORKDIR", help="worksheet directory (created)")
    p.add_argument("--rules", metavar="A,B", help="only these rules")
    p.add_argument("--severity-min", choices=SEVERITIES, default="info", help="leave out less severe findings")
    p.set_defaults(func=cmd_sample)

    p = sub.add_parser("diff", help="compare two runs per rule, matching findings by id",
                       description="Prints a markdown report to stdout.")
    p.add_argument("--before", required=True, metavar="OUTDIR_A", help="run directory (or findings.jsonl) before")
    p.add_argument("--after", required=True, metavar="OUTDIR_B", help="run directory (or findings.jsonl) after")
    p.add_argument("--worksheets", action="append", metavar="DIR", help="judged worksheets (repeatable)")
    p.add_argument("--details", action="store_true", help="list each added and removed finding")
    p.set_defaults(func=cmd_diff)

    p = sub.add_parser("precision", help="per-rule precision table from judged worksheets",
                       description=f"Writes a markdown table; into FILE between {BEGIN} and {END} when present.")
    p.add_argument("--worksheets", action="append", required=True, metavar="DIR", help="worksheets (repeatable)")
    p.add_argument("--findings", required=True, metavar="FILE", help="findings.jsonl of the measured run (or OUTDIR)")
    p.add_argument("--rules-dir", default=str(Path(__file__).resolve().parent.parent / "rules"), metavar="DIR",
                   help="rule docs with front matter (default: rules/ of this repository)")
    p.add_argument("--all-rules", action="store_true", help="also list rules with no findings and no worksheet")
    p.add_argument("--out", metavar="FILE", help="output file (default: stdout)")
    p.set_defaults(func=cmd_precision)

    args = ap.parse_args(argv)
    if getattr(args, "per_rule", 0) < 0 or getattr(args, "jobs", 1) < 1:
        ap.error("--per-rule must be 0 or more and --jobs 1 or more")
    args.func(args)


if __name__ == "__main__":
    main()

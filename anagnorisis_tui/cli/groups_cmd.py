"""`groups`, `dedupe` and `undo`: near-duplicate groups, their clean-up, and taking it back."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable

from anagnorisis_tui.core.duplicates.options import GroupOptions


def _group_options(parser: argparse.ArgumentParser) -> None:
    from anagnorisis_tui.core.duplicates.options import (
        DEFAULT_PHASH_DISTANCE,
        DEFAULT_THRESHOLD,
        METHODS,
    )

    parser.add_argument(
        "--threshold",
        type=float,
        default=DEFAULT_THRESHOLD,
        help=f"cosine similarity of CLIP vectors that proposes a pair (default {DEFAULT_THRESHOLD});"
        " every proposed pair is still verified",
    )
    parser.add_argument(
        "--phash-distance",
        type=int,
        default=DEFAULT_PHASH_DISTANCE,
        metavar="BITS",
        help=f"perceptual-hash bits that may differ for a pair to be proposed (default "
        f"{DEFAULT_PHASH_DISTANCE} of 64); every proposed pair is still verified",
    )
    parser.add_argument(
        "--method",
        choices=METHODS,
        default=METHODS[0],
        help="phash: perceptual hash, no model needed; vectors: CLIP only; both (the default, "
        "as in the app; without stored vectors it is phash)",
    )
    from anagnorisis_tui.cli.model_args import add_model_options

    add_model_options(parser)
    parser.add_argument("--root", help="only this library root")
    parser.add_argument("--folder", help="only this folder (relative to the root) and below")
    parser.add_argument(
        "--reference",
        action="append",
        metavar="DIR",
        default=[],
        help="a protected folder (repeatable, besides [duplicates] reference in the settings): "
        "its files are preferred as keepers and never moved",
    )
    parser.add_argument(
        "--prefer-format",
        metavar="FMT[,FMT]",
        help="keep these formats first, best first (e.g. RAW,PNG,HEIC,JPEG); default: "
        "[duplicates] prefer_formats, else none",
    )
    parser.add_argument(
        "--prefer-folder",
        action="append",
        metavar="DIR",
        default=[],
        help="keep files in this folder first (repeatable, first best)",
    )
    parser.add_argument(
        "--prefer-rated",
        action="store_true",
        help="keep the copy you rated higher first",
    )


def register(sub: argparse._SubParsersAction, common: Callable[..., None]) -> None:
    groups = sub.add_parser(
        "groups",
        help="duplicate groups, each member verified against the keeper, strongest tier first",
        description="Group duplicates. Perceptual hashes of whole pictures and of crop boxes (and "
        "CLIP vectors, with --method both or vectors) propose pairs; every pair is verified on a small colour rendition that "
        "respects transparency, and each member is shown with its tier: identical bytes, "
        "identical pixels, same picture (re-encoded, resized, another format, EXIF-rotated), "
        "lightly edited (crop up to ~10%, brightness/contrast, a small colour shift), "
        "raw-pair (a RAW file and the JPEG of one shot), series (another moment of one scene: "
        "a burst, a pan, a bracket; told by the shots' capture time and exposure and by the "
        "256-pixel thumbnails) or similar (alike, not a copy). Members are verified against "
        "the first one, the suggested keeper (reference folders and your keeper rules first, "
        "then highest resolution, more metadata, largest file, oldest); groups never chain. "
        "--dismiss N remembers that group N is not duplicates (by content: it never comes "
        "back), --dismissed lists those decisions, --undismiss ID takes one back.",
    )
    common(groups)
    _group_options(groups)
    _tier_option(groups, "show only groups with a member of these tiers (default: all)")
    groups.add_argument("--json", action="store_true", help="one JSON object per group per line")
    decide = groups.add_mutually_exclusive_group()
    decide.add_argument(
        "--dismiss",
        type=int,
        action="append",
        metavar="N",
        help="remember that group N (as listed with the same options) is not duplicates",
    )
    decide.add_argument("--dismissed", action="store_true", help="list the groups dismissed so far")
    decide.add_argument(
        "--undismiss", type=int, metavar="ID", help="take back dismissal ID (see --dismissed)"
    )
    groups.set_defaults(func=run_groups)

    dedupe = sub.add_parser(
        "dedupe",
        help="keep one image per group; trash or move the others (undoable)",
        description="For each group (see `groups`), keep the suggested keeper and send the "
        "members verified as duplicates of it (by default the tiers bytes, pixels, same and "
        "edited, but not a tone change neither file records the capture of; never raw-pair, "
        "series or similar unless --tier names them) to the system "
        "trash (--trash) or into "
        "DIR (--move-to DIR, keeping their folders). Anything uncertain stays. Nothing is "
        "deleted permanently; ratings and XMP sidecars go to the keeper; files changed or moved "
        "by another program since the listing are skipped. Undo with `anagnorisis-tui undo "
        "BATCH`.",
    )
    common(dedupe)
    _group_options(dedupe)
    _tier_option(dedupe, "act only on members of these tiers (default: bytes,pixels,same,edited)")
    what = dedupe.add_mutually_exclusive_group(required=True)
    what.add_argument("--trash", action="store_true", help="send the others to the system trash")
    what.add_argument("--move-to", metavar="DIR", help="move the others into DIR")
    dedupe.add_argument(
        "--group",
        type=int,
        action="append",
        metavar="N",
        help="only group N (repeatable), numbered as `groups` lists them with the same "
        "--method, --threshold and --phash-distance",
    )
    dedupe.add_argument(
        "--max-group",
        type=int,
        default=20,
        metavar="N",
        help="leave groups of more than N images alone and list them (default 20): a group that "
        "large is more likely a chain of look-alikes than copies of one photo",
    )
    dedupe.add_argument("--dry-run", action="store_true", help="only list what would happen")
    dedupe.add_argument("--json", action="store_true", help="print the report as JSON")
    dedupe.set_defaults(func=run_dedupe)

    undo = sub.add_parser(
        "undo",
        help="undo a dedupe batch (no BATCH: list recent batches)",
        description="Put the files of a dedupe batch back where they were and take back the "
        "ratings it carried. Moves are always undone; files sent to a freedesktop trash "
        "(Linux) are restored from it; on macOS/Windows restore them from the Trash.",
    )
    common(undo)
    undo.add_argument("batch", nargs="?", help="batch id (see `undo` with no argument)")
    undo.add_argument("--last", action="store_true", help="undo the most recent batch")
    undo.set_defaults(func=run_undo)


def _tiers(text: str) -> tuple[str, ...]:
    from anagnorisis_tui.core.duplicates.options import TIERS

    chosen = tuple(t.strip() for t in text.split(",") if t.strip())
    unknown = [t for t in chosen if t not in TIERS]
    if unknown or not chosen:
        raise argparse.ArgumentTypeError(
            f"unknown tier {unknown[0] if unknown else text!r}; choose from {', '.join(TIERS)}"
        )
    return chosen


def _tier_option(parser: argparse.ArgumentParser, help_text: str) -> None:
    parser.add_argument("--tier", type=_tiers, metavar="TIER[,TIER]", help=help_text)


def _progress(stream=None):
    # Looked up per call: a default bound at import time outlives a replaced sys.stderr.
    stream = stream or sys.stderr
    if not stream.isatty():
        return None

    def show(p) -> None:
        total = f"/{p.total}" if p.total else ""
        stream.write(f"\r{p.stage}: {p.done}{total}   ")
        stream.flush()

    return show


def _open(args: argparse.Namespace):
    from anagnorisis_tui.cli.model_args import settings_with_model
    from anagnorisis_tui.core.library import Library

    return Library(settings_with_model(args))


def _rules(library, args: argparse.Namespace):
    """The settings' keeper rules with what the command line adds or replaces."""
    return library.duplicates.rules.with_reference(args.reference).overridden(
        formats=args.prefer_format, folders=args.prefer_folder, rated=args.prefer_rated
    )


def _find(library, args: argparse.Namespace):
    from anagnorisis_tui.cli.list_cmd import catalogue_root

    report = library.duplicates.group_report(
        GroupOptions(
            threshold=args.threshold,
            method=args.method,
            phash_distance=args.phash_distance,
            root=catalogue_root(args.root),
            folder=args.folder,
        ),
        rules=_rules(library, args),
        progress=_progress(),
    )
    if sys.stderr.isatty():
        sys.stderr.write("\r\033[K")
    return report


def _notes(report) -> None:
    from anagnorisis_tui.core.duplicates.report import left_out

    for note in left_out(report):
        print(note, file=sys.stderr)


def _text(text: str) -> str:
    """Plain text for the terminal: undecodable bytes shown, control characters escaped (a
    file name holding an escape sequence must not act on the terminal)."""
    from anagnorisis_tui.core.base import fsnames

    return fsnames.display(text)


def _decisions(library, args: argparse.Namespace) -> bool:
    """--dismissed and --undismiss; True when one of them was asked."""
    import time

    if args.dismissed:
        found = library.duplicates.dismissed()
        for decision in found:
            when = time.strftime("%Y-%m-%d %H:%M", time.localtime(decision.at))
            print(f"dismissal {decision.id}: {len(decision.hashes)} pictures, {when}")
            for h, path in zip(decision.hashes, decision.paths, strict=True):
                print(f"  {_text(path) if path else '(no file present) ' + h}")
        if not found:
            print("no dismissed groups", file=sys.stderr)
        return True
    if args.undismiss is not None:
        decision = library.duplicates.take_back(args.undismiss)
        print(
            f"took back dismissal {decision.id}: its {len(decision.hashes)} pictures may be grouped again"
        )
        return True
    return False


def run_groups(args: argparse.Namespace) -> int:
    from anagnorisis_tui.cli import CommandError
    from anagnorisis_tui.core.duplicates import report as report_mod

    with _open(args) as library:
        if _decisions(library, args):
            return 0
        report = _find(library, args)
        if args.dismiss:
            known = {g.id: g for g in report.groups}
            missing = sorted(set(args.dismiss) - set(known))
            if missing:
                raise CommandError(f"no group {missing[0]} (there are {len(known)} groups)")
            for number in args.dismiss:
                decision = library.duplicates.dismiss(known[number])
                print(
                    f"group {number} dismissed (dismissal {decision}); take it back with "
                    f"`anagnorisis-tui groups --undismiss {decision}`"
                )
            return 0
        found = report.groups
        if args.tier:
            found = [g for g in found if any(m.tier in args.tier for m in g.others)]
        for group in found:
            if args.json:
                print(json.dumps(report_mod.group_json(group), ensure_ascii=False))
                continue
            print(
                f"group {group.id}: {len(group.members)} images, tier {group.tier}, "
                f"similarity {group.similarity:.3f}"
            )
            for i, m in enumerate(group.members):
                mark = "keep" if i == 0 else "    "
                dims = f"{m.width}x{m.height}" if m.width else "?x?"
                why = "keeper" if i == 0 else _text(m.why or m.tier)
                print(f"  {mark} {_text(m.path)}\t{dims}\t{m.size} B\t{why}")
        if not args.json:
            print(f"{len(found)} groups", file=sys.stderr)
            _notes(report)
    return 0


def run_dedupe(args: argparse.Namespace) -> int:
    from anagnorisis_tui.cli import CommandError

    with _open(args) as library:
        grouping = _find(library, args)
        found = grouping.groups
        if args.group:
            known = {g.id for g in found}
            missing = sorted(set(args.group) - known)
            if missing:
                raise CommandError(f"no group {missing[0]} (there are {len(found)} groups)")
            found = [g for g in found if g.id in set(args.group)]
        if args.max_group < 2:
            raise CommandError(f"--max-group must be at least 2, not {args.max_group}")
        too_big = [g for g in found if len(g.members) > args.max_group]
        found = [g for g in found if len(g.members) <= args.max_group]
        for group in too_big:
            print(
                f"left alone: group {group.id} has {len(group.members)} images (more than "
                f"--max-group {args.max_group}); look at it with `groups` first",
                file=sys.stderr,
            )
        rules = _rules(library, args)
        plan = library.duplicates.plan_group_action(
            found,
            action="trash" if args.trash else "move",
            dest_dir=args.move_to,
            tiers=args.tier,
            rules=rules,
        )
        protected = [m.path for g in found for m in g.others if rules.protected(m.path)]
        for path in protected:
            print(f"protected (reference folder): {_text(path)} stays", file=sys.stderr)
        report = library.duplicates.apply_group_action(plan, dry_run=args.dry_run)
        if args.json:
            print(json.dumps(report.to_json(), ensure_ascii=False))
            return 0
        verb = "would" if args.dry_run else "did"
        because = {item.path: item.why or item.tier for item in plan.items}
        for path, where in report.done:
            print(
                f"{verb} {plan.action}: {_text(path)} -> {_text(str(where))} "
                f"({_text(because.get(path, ''))})"
            )
        for path, why in report.skipped:
            print(f"skipped: {_text(path)}: {_text(why)}")
        for source, keeper in report.carried:
            print(f"rating of {source} carried to {keeper}")
        for source, where in report.sidecars:
            print(f"sidecar {_text(source)} -> {_text(where)}")
        kept = sum(len(g.others) for g in found) - len(plan.items)
        if kept:
            print(
                f"{kept} group members in other tiers stay where they are (see `groups`; "
                "--tier chooses)",
                file=sys.stderr,
            )
        _notes(grouping)
        if args.dry_run:
            print(f"dry run: {_files(len(report.done))} would be moved; nothing was touched")
        elif report.done:
            print(
                f"batch {report.batch}: {_files(len(report.done))}; undo with "
                f"`anagnorisis-tui undo {report.batch}`"
            )
    return 0


def run_undo(args: argparse.Namespace) -> int:
    from anagnorisis_tui.cli import CommandError, settings_from_args
    from anagnorisis_tui.core.library import Library

    with Library(settings_from_args(args)) as library:
        batch = args.batch
        recent = library.duplicates.action_batches()
        if args.last:
            pending = [b for b in recent if not b["undone"]]
            if not pending:
                raise CommandError("nothing to undo")
            batch = pending[0]["batch"]
        if batch is None:
            from anagnorisis_tui.core.duplicates.apply import batch_state

            for b in recent:
                state = batch_state(b)
                print(f"{b['batch']}\t{b['files']} files\t{','.join(b['actions'])}\t{state}")
            if not recent:
                print("no batches yet", file=sys.stderr)
            return 0
        report = library.duplicates.undo(batch)
        for path in report.restored:
            print(f"restored: {_text(path)}")
        for path, why in report.failed:
            print(f"not restored: {_text(path)}: {_text(why)}")
        if report.ratings_reverted:
            print(f"{report.ratings_reverted} carried ratings taken back")
        return 1 if report.failed else 0


def _files(n: int) -> str:
    return f"{n:,} file" if n == 1 else f"{n:,} files"

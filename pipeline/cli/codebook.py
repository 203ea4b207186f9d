"""``advisory codebook promote``: a new-theme candidate of a run becomes a codebook theme."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from pipeline.cli.arguments import add_logging, subcommand


def add_commands(sub) -> None:
    """``advisory codebook promote``: a new-theme candidate of a run becomes a codebook theme."""
    group = subcommand(sub, "codebook", "코드북 관리: 회차에서 발견한 새 주제 후보를 코드북 주제로 올립니다", """\
  advisory codebook promote outputs new_theme_01 --label "참여자 안전·보험" --out themes_2026.yaml""", None)
    commands = group.add_subparsers(dest="codebook_command", required=True, metavar="<명령>", title="명령")
    p = subcommand(commands, "promote", "새 주제 후보를 이름 붙여 코드북에 더한 새 코드북 파일(YAML)을 씁니다", """\
  advisory codebook promote outputs new_theme_01 --label "참여자 안전·보험" --out themes_2026.yaml
  advisory codebook promote outputs/2026 new_theme_02 --label "행사 환경 영향" --id event_environment \\
      --codebook themes_2026.yaml --out themes_2026.yaml
  advisory run 2026_자문.hwpx --codebook themes_2026.yaml     새 주제가 코드북 주제로 분류됩니다""", _cmd_promote)
    p.add_argument("run_dir", type=Path, help="새 주제 후보가 있는 결과 폴더 (advisory run 또는 assign)")
    p.add_argument("theme_id", help="올릴 새 주제 후보의 주제 ID (themes.csv, 예: new_theme_01)")
    p.add_argument("--label", required=True, help="코드북에 쓸 주제 이름 (한국어)")
    p.add_argument("--id", default=None, help="코드북에 쓸 주제 ID (영문 소문자·숫자·_; 기본: 후보의 ID)")
    p.add_argument("--codebook", type=Path, default=None,
                   help="새 주제를 더할 코드북 (기본: 결과 폴더를 만든 코드북, 없으면 번들 corpus/themes.yaml)")
    p.add_argument("--out", type=Path, required=True, help="쓸 코드북 YAML 파일")
    add_logging(p)


def _cmd_promote(args: argparse.Namespace) -> int:
    from pipeline.runfolder.promotion import promote_candidate

    theme = promote_candidate(args.run_dir, args.theme_id, args.label, args.out, codebook=args.codebook,
                              new_id=args.id)
    logging.info("코드북에 새 주제를 더했습니다: %s (%s, 예시 %d건) → %s", theme.label, theme.theme_id,
                 len(theme.examples), args.out)
    return 0



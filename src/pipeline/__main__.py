"""Entry point: python -m src.pipeline [CONFIG] [--set key=value ...] [--plan | --finish]

The whole study on one machine (`make run` runs the built-in default, configs/pipeline.yaml is the
production one): classical and quantum XY sampling on MPI ranks, a DDP classifier with the
classical -> quantum transfer, super-resolution inverse RG of the Ising model with spin and graph
networks, and <output>/report.md with every estimate beside its literature value. Finished stages
are skipped and interrupted ones resumed when it is run again.

--plan writes the stages' configs and prints the stages (id, kind, the stages it waits for, its
config or arguments), one per line, tab-separated: jobs/pipeline.sh submits them as Slurm jobs.
--finish runs what follows the sampling and training jobs there: generation and the report.
"""

from __future__ import annotations

import sys
import time

from src.cli import Parser
from src.configuration import ConfigError
from src.pipeline import config, report, stages


def main(argv=None) -> int:
    p = Parser(prog="python -m src.pipeline", description=__doc__.splitlines()[0])
    p.add_argument("config", nargs="?", help="YAML pipeline config (default: the built-in small study)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a config key")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--plan", action="store_true", help="write the stage configs and print the stages")
    mode.add_argument("--finish", action="store_true", help="generation and the report only")
    args = p.parse_args(argv)
    started = time.perf_counter()
    try:
        cfg = config.load(args.config, args.set)
        plan = stages.plan(cfg)
        stages.write_configs(plan, cfg.data)
        if args.plan:
            for s in plan:
                what = s.config_path(cfg.data) if s.config is not None else " ".join(s.arguments)
                print("\t".join([s.id, s.kind, ",".join(s.after) or "-", str(what)]))
            return 0
        stages.run_stages([s for s in plan if s.kind == "generate"] if args.finish else plan, cfg)
        path = report.write(cfg, time.perf_counter() - started)
    except (ConfigError, stages.StageError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(path.read_text())
    print(f"report: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

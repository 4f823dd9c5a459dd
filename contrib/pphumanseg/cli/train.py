"""``pphumanseg train``: PaddleSeg's training flags on pphumanseg's training loop.

Data-parallel training (SyncBatchNorm on GPUs; gloo on CPU, also selected by
``PADDLE_DISTRI_BACKEND=gloo``)::

    python -m paddle.distributed.launch --nproc_per_node 2 "$(command -v pphumanseg)" train ...

The launcher takes a program path, not ``-m module`` (given ``-m`` it falls back to its legacy
mode, which treats ``pphumanseg`` as a file name), hence the console script's path.
"""
from pphumanseg.cli.common_flags import add_config_arguments, add_device_argument
from pphumanseg.core.train import TrainSchedule, train_from_config


def add_arguments(parser):
    add_config_arguments(parser)
    parser.add_argument("--save_dir", default="output", help="checkpoints, best_model/ and VisualDL logs")
    parser.add_argument("--iters", type=int, help="total iterations (overrides the config)")
    parser.add_argument("--batch_size", type=int, help="samples per process and iteration (overrides the config)")
    parser.add_argument("--learning_rate", type=float, help="base learning rate (overrides the config)")
    parser.add_argument("--save_interval", type=int, default=TrainSchedule.save_interval,
                        help="iterations between checkpoints")
    parser.add_argument("--keep_checkpoint_max", type=int, default=TrainSchedule.keep_checkpoint_max,
                        help="newest iter_* checkpoints to keep (0 keeps all)")
    parser.add_argument("--do_eval", action="store_true",
                        help="evaluate at every checkpoint and keep best_model/ by mIoU")
    parser.add_argument("--use_vdl", action="store_true", help="write VisualDL scalars to --save_dir")
    parser.add_argument("--resume_model", help="checkpoint directory (e.g. output/iter_1000) to continue")
    parser.add_argument("--seed", type=int,
                        help="seed of initialisation, shuffles and augmentation (default 0, or the resumed run's)")
    parser.add_argument("--num_workers", type=int, default=TrainSchedule.num_workers,
                        help="data loader processes")
    parser.add_argument("--log_iters", type=int, default=TrainSchedule.log_iters,
                        help="iterations between log lines")
    add_device_argument(parser)


def run(args):
    train_from_config(args.config, args.opts, args.save_dir, iters=args.iters,
                      batch_size=args.batch_size, learning_rate=args.learning_rate,
                      save_interval=args.save_interval, keep_checkpoint_max=args.keep_checkpoint_max,
                      do_eval=args.do_eval, use_vdl=args.use_vdl, resume_model=args.resume_model,
                      seed=args.seed, num_workers=args.num_workers, log_iters=args.log_iters,
                      device=args.device)

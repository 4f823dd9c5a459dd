"""``pphumanseg serve``: the browser page of deploy/web and an exported model, on localhost
(pphumanseg_deploy.web_server)."""
from pphumanseg.utils.errors import UsageError


def add_arguments(parser):
    parser.add_argument("--model_dir", required=True,
                        help="exported model directory (deploy.yaml and model.onnx)")
    parser.add_argument("--port", type=int, default=8000, help="TCP port; 0 takes any free one")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on; browsers open the camera only on localhost or https")


def run(args):
    from pphumanseg_deploy import DeployError
    from pphumanseg_deploy.web_server import serve

    if not 0 <= args.port <= 65535:
        raise UsageError(f"--port must be between 0 and 65535, got {args.port}")
    try:
        serve(args.model_dir, args.host, args.port)
    except DeployError as error:
        raise UsageError(str(error)) from None

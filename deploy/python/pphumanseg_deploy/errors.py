class DeployError(Exception):
    """A problem with a model directory, an input or an output path, told in one line.

    The ``pphumanseg infer`` command and ``deploy/python/infer.py`` print it as one line and exit
    with status 2.
    """

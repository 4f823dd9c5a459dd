class UsageError(Exception):
    """A problem with what the user asked for (a flag, a path, a config field).

    The command line prints it as one line and exits with status 2.
    """

class UsageError(Exception):
    """A problem with what the user asked for (a parameter, a path, a config field).

    The command line prints it as one line and exits with status 2.
    """


class ParameterError(UsageError):
    """A bad value of a library function's parameter, read as ``<parameter> <value>: <problem>``.

    The command line names the flag instead (``--<parameter> <value>: <problem>``): each command's
    flags are named after the parameters they set.
    """

    def __init__(self, parameter, value, problem):
        super().__init__(f"{parameter} {value}: {problem}")
        self.parameter = parameter
        self.value = value
        self.problem = problem

    def as_flag(self):
        return f"--{self.parameter} {self.value}: {self.problem}"

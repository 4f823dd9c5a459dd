"""A small client of the Chrome DevTools protocol over ``--remote-debugging-pipe``: JSON messages,
each ended by a NUL byte, written to the browser's fd 3 and read from its fd 4."""
import json
import os
import select
import time


class DevToolsError(Exception):
    pass


class DevTools:
    """Sends commands and collects events; ``session`` addresses a page attached with ``attach``.

    Args:
        to_browser (int): File descriptor the browser reads commands from.
        from_browser (int): File descriptor the browser writes answers and events to.
    """

    def __init__(self, to_browser, from_browser):
        self.to_browser = to_browser
        self.from_browser = from_browser
        self.buffer = b""
        self.next_id = 0
        self.events = []

    def _read_message(self, deadline):
        while b"\0" not in self.buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([self.from_browser], [], [], remaining)[0]:
                raise DevToolsError("no answer from the browser in time")
            chunk = os.read(self.from_browser, 1 << 20)
            if not chunk:
                raise DevToolsError("the browser closed the DevTools pipe")
            self.buffer += chunk
        message, self.buffer = self.buffer.split(b"\0", 1)
        return json.loads(message)

    def call(self, method, params=None, session=None, timeout=30.0):
        """The result of one command; raises DevToolsError with the browser's message on error."""
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params or {}}
        if session is not None:
            message["sessionId"] = session
        os.write(self.to_browser, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            answer = self._read_message(deadline)
            if answer.get("id") != self.next_id:
                self.events.append(answer)
                continue
            if "error" in answer:
                raise DevToolsError(f"{method}: {answer['error'].get('message')}")
            return answer["result"]

    def wait_for_event(self, method, since, timeout=30.0):
        """The first event named ``method`` from ``events[since:]`` on, reading more as needed."""
        deadline = time.monotonic() + timeout
        while True:
            for event in self.events[since:]:
                if event.get("method") == method:
                    return event
            since = len(self.events)
            self.events.append(self._read_message(deadline))

    def attach(self, target_id):
        """A session id for the target (flat mode: commands carry the session id)."""
        return self.call("Target.attachToTarget", {"targetId": target_id, "flatten": True})["sessionId"]

    def evaluate(self, expression, session, timeout=30.0):
        """The value of a JavaScript expression in the page (promises awaited), as JSON data."""
        result = self.call("Runtime.evaluate", {"expression": expression, "awaitPromise": True,
                                                "returnByValue": True}, session=session, timeout=timeout)
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            text = details.get("exception", {}).get("description") or details.get("text")
            raise DevToolsError(f"page exception: {text}")
        return result["result"].get("value")

    def console_messages(self):
        """The page's console output and uncaught exceptions seen so far (for failure messages)."""
        lines = []
        for event in self.events:
            if event.get("method") == "Runtime.consoleAPICalled":
                args = event["params"]["args"]
                lines.append(" ".join(str(arg.get("value", arg.get("description", ""))) for arg in args))
            elif event.get("method") == "Runtime.exceptionThrown":
                details = event["params"]["exceptionDetails"]
                lines.append(details.get("exception", {}).get("description") or details.get("text", ""))
        return lines

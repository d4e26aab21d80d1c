"""Sum the first thousand integers: a user's workload file whose three cells take a second or two on any interpreter.

The fault tests that kill the orchestrator (tests/test_faults_kill.py) measure it, through the real command line.
"""

EXPECTED = 499500


def run():
    return sum(range(1000))

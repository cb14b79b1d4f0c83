"""The parts of the warden, one noun per module.

``process_states`` names the states of a supervised child, ``backoff`` decides
when a dead child may start again, ``system`` is the one object that touches
the clock and the OS (tests swap it for a fake), ``child`` moves one child
through its states, ``alert_file`` writes ``outputs/alerts/*.json``,
``parent`` lets a child notice that its warden died, ``strays`` handles workers
nobody here started, ``roster`` says what to run, ``state_file`` publishes the
warden's view, and ``control`` is what ``up --detach``, ``ensure`` and ``down`` use.
"""

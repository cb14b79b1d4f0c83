"""The monitor: measures continuously, probes with a canary, raises alerts a person can trust.

    loop      the process: every sample interval, sample → judge → act
    sampler   one sample of every figure (built on :mod:`taskwarden.stats`)
    rules     the built-in rules and their :class:`~taskwarden.monitor.rules.Thresholds`
    engine    pending → firing → resolved, with a hold, on injected time
    alerts    store, ``outputs/alerts/alert_<name>.json``, log, events, webhooks
    notifiers webhook delivery off the loop's thread, with retry
    canary    a ``smoke`` task through the public API and a real worker

The warden supervises ``python -m taskwarden monitor`` once this package exists.
"""

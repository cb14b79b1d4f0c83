"""Reports people read: monitoring report, dashboard, loop report, scorecard, and their schedule.

All four are built from one :class:`taskwarden.reports.figures.Figures` per period,
gathered from the store in SQL, so they always agree with each other.
"""

"""The benchmark suites: every module here defines ``SUITE`` and ``cases(quick, device)``.

Discovery lists this package's modules, so a new suite is a new file here; the harness
itself lives one level up and is never mistaken for a suite.
"""

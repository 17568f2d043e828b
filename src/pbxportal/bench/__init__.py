"""Every benchmark and the load generator (``pbxportal bench ...``, ``pbxportal agent-simulate``;
docs/benchmarks.md). Nothing in the domain apps or the core imports this package.

- ``rating``: the pure rating benchmark over a generated Asterisk Master.csv (``bench rate``).
- ``voice``: ``bench rate`` and ``bench authorize`` runners.
- ``agents``: simulated PBX agents and ``bench licence-polls``.
- ``billrun``: ``bench billrun`` on a scratch PostgreSQL database.
- ``loadgen``: the loopback HTTP load generator and server harness.
- ``cli``: the subcommands.
"""

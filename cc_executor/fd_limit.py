"""The open-file limit of a long-running server, raised to what the system allows.

Every connection, execution pipe and stored output file is a descriptor; the usual soft
limit (1,024) is a few hundred clients, and a flood of half-open connections would reach
it long before the handler's own caps do. The hard limit is what the administrator set;
the soft one is raised to it (a process may always do that).
"""

from __future__ import annotations

import resource

#: Linux refuses a soft limit of RLIM_INFINITY for descriptors; fs.nr_open is 1,048,576 by default.
CEILING = 1 << 20


def raise_open_file_limit() -> int:
    """Set the soft RLIMIT_NOFILE to the hard one; returns the soft limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = CEILING if hard == resource.RLIM_INFINITY else hard
    if soft != resource.RLIM_INFINITY and soft < wanted:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
        except (ValueError, OSError):
            return soft
        return wanted
    return soft

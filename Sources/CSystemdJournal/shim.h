#ifndef FLIGHTLOG_CSYSTEMDJOURNAL_SHIM_H
#define FLIGHTLOG_CSYSTEMDJOURNAL_SHIM_H
// libsystemd's sd-journal API (libsystemd-dev): the agent's journal source reads the journal files through it, as
// journalctl does, rather than scraping journalctl's text. Linux only.
#include <systemd/sd-journal.h>
#endif

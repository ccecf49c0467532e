/* The one place the version is written down. */
#ifndef THINVISOR_VERSION_H
#define THINVISOR_VERSION_H

#define THINVISOR_VERSION "0.1.0"

#endif

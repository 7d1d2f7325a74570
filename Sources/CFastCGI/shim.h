#ifndef ASSETDEDUP_CFASTCGI_SHIM_H
#define ASSETDEDUP_CFASTCGI_SHIM_H

/* The re-entrant FastCGI API only; fcgi_stdio.h would redefine stdio for the whole process. */
#include <fcgiapp.h>

#endif

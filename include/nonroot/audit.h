/*
 * audit.h: image audit findings.
 */
#ifndef NONROOT_AUDIT_H
#define NONROOT_AUDIT_H

#include "common.h"
#include "errors.h"

NR_BEGIN_DECL

NR_END_DECL

#endif

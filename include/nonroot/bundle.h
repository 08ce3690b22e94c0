/*
 * bundle.h: OCI runtime bundles.
 */
#ifndef NONROOT_BUNDLE_H
#define NONROOT_BUNDLE_H

#include "common.h"
#include "errors.h"

NR_BEGIN_DECL

NR_END_DECL

#endif

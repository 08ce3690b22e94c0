/*
 * names.h: account name rules (shadow-utils).
 */
#ifndef NONROOT_NAMES_H
#define NONROOT_NAMES_H

#include "common.h"
#include "errors.h"

NR_BEGIN_DECL

NR_END_DECL

#endif

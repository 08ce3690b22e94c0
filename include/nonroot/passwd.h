/*
 * passwd.h: passwd files (lossless).
 */
#ifndef NONROOT_PASSWD_H
#define NONROOT_PASSWD_H

#include "common.h"
#include "errors.h"

NR_BEGIN_DECL

NR_END_DECL

#endif

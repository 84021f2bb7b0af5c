// Public header of shoal::common: status helpers, checks, files.
#ifndef SHOAL_COMMON_COMMON_H_
#define SHOAL_COMMON_COMMON_H_

#include "common/check.h"
#include "common/ggml_types.h"
#include "common/mapped_file.h"
#include "common/status_macros.h"
#include "common/status_util.h"

#endif  // SHOAL_COMMON_COMMON_H_

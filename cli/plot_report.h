// `shoal bench --plot FILE.png`: the report is drawn by bench/plot.py (matplotlib), run as
// a child process, because plotting is a Python job and the binary stays free of it.
#ifndef SHOAL_CLI_PLOT_REPORT_H_
#define SHOAL_CLI_PLOT_REPORT_H_

#include <string>

#include "absl/status/status.h"

namespace shoal::cli {

// Runs `PYTHON plot.py JSON --out PNG` and waits for it. The script is $SHOAL_PLOT_SCRIPT,
// else bench/plot.py of the source tree the binary was built in (build/cli/shoal ->
// bench/plot.py), else share/shoal/plot.py beside an installed bin/. The interpreter is
// $SHOAL_PYTHON, else the tree's .venv/bin/python (where scripts/setup installs
// matplotlib), else python3 from PATH. FailedPrecondition when no script is found,
// Internal with the script's exit status when it fails (its errors go to stderr).
absl::Status PlotReport(const std::string& json_path, const std::string& png_path);

}  // namespace shoal::cli

#endif  // SHOAL_CLI_PLOT_REPORT_H_

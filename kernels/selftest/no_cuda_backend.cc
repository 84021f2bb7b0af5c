// MakeCudaBackend for builds without CUDA (no nvcc at configure time, or SHOAL_CUDA=OFF).
#include "kernels/selftest/op_backend.h"

namespace shoal::kernels::selftest {

absl::StatusOr<std::unique_ptr<OpBackend>> MakeCudaBackend(int) {
  return absl::UnimplementedError("this shoal was built without CUDA (SHOAL_CUDA=OFF or no nvcc)");
}

}  // namespace shoal::kernels::selftest

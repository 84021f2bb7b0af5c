// Device memory with an owner: a DeviceBuffer frees its allocation when it goes, and
// moves but never copies. Host code only (nvcc-free), like the rest of the backend's
// glue; the kernels take the raw pointers.
#ifndef SHOAL_KERNELS_CUDA_DEVICE_BUFFER_H_
#define SHOAL_KERNELS_CUDA_DEVICE_BUFFER_H_

#include <cuda_runtime.h>

#include <cstddef>
#include <span>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "fmt/format.h"

namespace shoal::kernels::cuda {

// An absl::Status for a CUDA error ("what: cudaErrorX (message)"); Ok for cudaSuccess.
inline absl::Status CudaStatus(cudaError_t error, const char* what) {
  if (error == cudaSuccess) return absl::OkStatus();
  const std::string message =
      fmt::format("{}: {} ({})", what, cudaGetErrorName(error), cudaGetErrorString(error));
  if (error == cudaErrorMemoryAllocation) return absl::ResourceExhaustedError(message);
  if (error == cudaErrorNoDevice || error == cudaErrorInsufficientDriver) {
    return absl::UnavailableError(message);
  }
  return absl::InternalError(message);
}

class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  static absl::StatusOr<DeviceBuffer> Allocate(size_t bytes) {
    DeviceBuffer buffer;
    if (bytes > 0) {
      if (absl::Status s = CudaStatus(cudaMalloc(&buffer.data_, bytes), "cudaMalloc"); !s.ok()) {
        return s;
      }
    }
    buffer.bytes_ = bytes;
    return buffer;
  }
  ~DeviceBuffer() {
    if (data_ != nullptr) cudaFree(data_);
  }
  DeviceBuffer(DeviceBuffer&& other) noexcept
      : data_(std::exchange(other.data_, nullptr)), bytes_(std::exchange(other.bytes_, 0)) {}
  DeviceBuffer& operator=(DeviceBuffer&& other) noexcept {
    if (this != &other) {
      if (data_ != nullptr) cudaFree(data_);
      data_ = std::exchange(other.data_, nullptr);
      bytes_ = std::exchange(other.bytes_, 0);
    }
    return *this;
  }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;

  template <typename T>
  T* as() const {
    return static_cast<T*>(data_);
  }
  size_t bytes() const { return bytes_; }

 private:
  void* data_ = nullptr;
  size_t bytes_ = 0;
};

// A device copy of host data (synchronous: the self-test's and the loader's path).
template <typename T>
absl::StatusOr<DeviceBuffer> ToDevice(std::span<const T> host) {
  absl::StatusOr<DeviceBuffer> buffer = DeviceBuffer::Allocate(host.size_bytes());
  if (!buffer.ok()) return buffer.status();
  if (!host.empty()) {
    absl::Status s = CudaStatus(
        cudaMemcpy(buffer->template as<void>(), host.data(), host.size_bytes(), cudaMemcpyHostToDevice),
        "cudaMemcpy to device");
    if (!s.ok()) return s;
  }
  return buffer;
}

template <typename T>
absl::Status ToHost(const DeviceBuffer& device, std::span<T> host) {
  if (device.bytes() < host.size_bytes()) {
    return absl::InvalidArgumentError("device buffer smaller than the host span");
  }
  if (host.empty()) return absl::OkStatus();
  return CudaStatus(cudaMemcpy(host.data(), device.as<void>(), host.size_bytes(),
                               cudaMemcpyDeviceToHost),
                    "cudaMemcpy to host");
}

}  // namespace shoal::kernels::cuda

#endif  // SHOAL_KERNELS_CUDA_DEVICE_BUFFER_H_

// Per-op speed of the CUDA kernels against the device's measured ceilings: a large
// device-to-device copy (bytes read plus written) for bandwidth, a large float32 cuBLAS
// GEMM for arithmetic. Each op runs on inputs that fill the chip, timed with CUDA events
// (median of 20 after 3 warm-ups), and is reported as achieved GB/s (or TFLOP/s) and
// the share of the ceiling. Built only with CUDA; run by bench/gpu_run.sh.
//
//   build/bench/cuda_op_bench [--device 0]
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "kernels/cuda/cuda_kernels.h"

namespace {

using shoal::kernels::cuda::PagedAttentionLaunch;

void Check(cudaError_t e, const char* what) {
  if (e != cudaSuccess) {
    std::fprintf(stderr, "%s: %s\n", what, cudaGetErrorString(e));
    std::exit(1);
  }
}

// Device memory holding random bytes (never zeros: they hide unwritten outputs and can
// run faster than real data). Freed at exit.
void* RandomDevice(size_t bytes, uint32_t seed) {
  std::vector<uint32_t> host((bytes + 3) / 4);
  std::mt19937 rng(seed);
  for (uint32_t& v : host) v = rng();
  void* p = nullptr;
  Check(cudaMalloc(&p, bytes), "cudaMalloc");
  Check(cudaMemcpy(p, host.data(), bytes, cudaMemcpyHostToDevice), "cudaMemcpy");
  return p;
}

// Finite floats in [-1, 1) (random bits would hold NaNs and infinities).
float* RandomFloats(size_t n, uint32_t seed) {
  std::vector<float> host(n);
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1, 1);
  for (float& v : host) v = u(rng);
  float* p = nullptr;
  Check(cudaMalloc(&p, n * sizeof(float)), "cudaMalloc");
  Check(cudaMemcpy(p, host.data(), n * sizeof(float), cudaMemcpyHostToDevice), "cudaMemcpy");
  return p;
}

// Median milliseconds of `run` on the default stream.
double TimeMs(const std::function<void()>& run) {
  cudaEvent_t begin, end;
  cudaEventCreate(&begin);
  cudaEventCreate(&end);
  for (int i = 0; i < 3; ++i) run();
  Check(cudaDeviceSynchronize(), "warm-up");
  std::vector<float> ms;
  for (int i = 0; i < 20; ++i) {
    cudaEventRecord(begin);
    run();
    cudaEventRecord(end);
    Check(cudaEventSynchronize(end), "timed run");
    float t = 0;
    cudaEventElapsedTime(&t, begin, end);
    ms.push_back(t);
  }
  cudaEventDestroy(begin);
  cudaEventDestroy(end);
  std::sort(ms.begin(), ms.end());
  return ms[ms.size() / 2];
}

struct Row {
  std::string op, shape;
  double ms, achieved, peak;
  const char* unit;
};

void Print(const Row& r) {
  std::printf("%-20s %-34s %10.3f %10.1f %-7s %5.0f%%\n", r.op.c_str(), r.shape.c_str(), r.ms,
              r.achieved, r.unit, 100.0 * r.achieved / r.peak);
}

}  // namespace

int main(int argc, char** argv) {
  int device = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::string(argv[i]) == "--device") device = std::atoi(argv[i + 1]);
  }
  Check(cudaSetDevice(device), "cudaSetDevice");
  cudaDeviceProp prop{};
  Check(cudaGetDeviceProperties(&prop, device), "cudaGetDeviceProperties");
  std::printf("device %d: %s, sm_%d%d, %d SMs\n", device, prop.name, prop.major, prop.minor,
              prop.multiProcessorCount);

  // Ceilings.
  const size_t copy_bytes = size_t{1} << 30;
  void* src = RandomDevice(copy_bytes, 1);
  void* dst = RandomDevice(copy_bytes, 2);
  const double copy_ms = TimeMs([&] { cudaMemcpyAsync(dst, src, copy_bytes, cudaMemcpyDeviceToDevice); });
  const double bandwidth = 2.0 * copy_bytes / (copy_ms * 1e-3) / 1e9;  // GB/s
  cublasHandle_t cublas;
  cublasCreate(&cublas);
  cublasSetMathMode(cublas, CUBLAS_PEDANTIC_MATH);
  const int g = 8192;
  float* a = RandomFloats(size_t{1} * g * g, 3);
  float* b = RandomFloats(size_t{1} * g * g, 4);
  float* c = RandomFloats(size_t{1} * g * g, 5);
  const float one = 1, zero = 0;
  const double gemm_ms = TimeMs([&] {
    cublasSgemm(cublas, CUBLAS_OP_N, CUBLAS_OP_N, g, g, g, &one, a, g, b, g, &zero, c, g);
  });
  const double flops = 2.0 * g * g * g / (gemm_ms * 1e-3) / 1e12;  // TFLOP/s
  // bf16 operands, float32 accumulation: the tensor-core ceiling.
  uint16_t* a16 = nullptr;
  uint16_t* b16 = nullptr;
  Check(cudaMalloc(&a16, size_t{2} * g * g), "cudaMalloc");
  Check(cudaMalloc(&b16, size_t{2} * g * g), "cudaMalloc");
  shoal::kernels::cuda::LaunchToBf16(a, int64_t{g} * g, a16, nullptr);
  shoal::kernels::cuda::LaunchToBf16(b, int64_t{g} * g, b16, nullptr);
  cublasHandle_t cublas16;
  cublasCreate(&cublas16);
  const double gemm16_ms = TimeMs([&] {
    cublasGemmEx(cublas16, CUBLAS_OP_N, CUBLAS_OP_N, g, g, g, &one, a16, CUDA_R_16BF, g, b16,
                 CUDA_R_16BF, g, &zero, c, CUDA_R_32F, g, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT);
  });
  const double flops16 = 2.0 * g * g * g / (gemm16_ms * 1e-3) / 1e12;
  std::printf("ceilings: copy %.0f GB/s (read + write), float32 GEMM %.1f TFLOP/s, bf16 GEMM %.1f TFLOP/s\n\n",
              bandwidth, flops, flops16);
  std::printf("%-20s %-34s %10s %10s %-7s %6s\n", "op", "shape", "median ms", "achieved", "unit", "ceil");

  using namespace shoal::kernels::cuda;
  {  // RMSNorm: read x and w, write y.
    const int64_t rows = 8192, n = 4096;
    float* x = RandomFloats(rows * n, 6);
    float* w = RandomFloats(n, 7);
    float* y = RandomFloats(rows * n, 8);
    const double ms = TimeMs([&] { LaunchRmsNorm(x, w, 1, 1e-6f, n, rows, y, nullptr); });
    Print({"rms_norm", "8192 x 4096", ms, 2.0 * rows * n * 4 / (ms * 1e-3) / 1e9, bandwidth, "GB/s"});
  }
  {  // Softmax over vocabulary-sized rows: read once for the max, twice more for the sum
     // and the output (counted once: the minimum traffic), write once.
    const int64_t rows = 64, n = 262144;
    float* x = RandomFloats(rows * n, 9);
    float* y = RandomFloats(rows * n, 10);
    const double ms = TimeMs([&] { LaunchSoftmax(x, n, rows, y, nullptr); });
    Print({"softmax", "64 x 262144", ms, 2.0 * rows * n * 4 / (ms * 1e-3) / 1e9, bandwidth, "GB/s"});
    int32_t* idx = nullptr;
    Check(cudaMalloc(&idx, rows * sizeof(int32_t)), "cudaMalloc");
    const double arg_ms = TimeMs([&] { LaunchArgmax(x, n, rows, idx, nullptr); });
    Print({"argmax", "64 x 262144", arg_ms, 1.0 * rows * n * 4 / (arg_ms * 1e-3) / 1e9, bandwidth, "GB/s"});
  }
  {  // SwiGLU: read gate and up, write out.
    const int64_t n = int64_t{1} << 26;
    float* gate = RandomFloats(n, 11);
    float* up = RandomFloats(n, 12);
    float* out = RandomFloats(n, 13);
    const double ms = TimeMs([&] { LaunchSwiGlu(gate, up, n, out, nullptr); });
    Print({"swiglu", "64M", ms, 3.0 * n * 4 / (ms * 1e-3) / 1e9, bandwidth, "GB/s"});
  }
  {  // Dequantizing a weight matrix to float32: the load-time path of the cuBLAS matmul.
    const int64_t rows = 16384, cols = 4096;
    struct Type {
      int id;
      const char* name;
      int64_t block_bytes, block_values;
    };
    for (Type t : {Type{8, "Q8_0", 34, 32}, Type{12, "Q4_K", 144, 256}, Type{14, "Q6_K", 210, 256}}) {
      const int64_t row_bytes = cols / t.block_values * t.block_bytes;
      // Random bytes are valid quants; the fp16 scales inside may be NaN, which costs no time.
      void* q = RandomDevice(rows * row_bytes, 14);
      float* out = RandomFloats(rows * cols, 15);
      const double ms =
          TimeMs([&] { LaunchDequantizeRows(t.id, static_cast<uint8_t*>(q), row_bytes, cols, nullptr, rows, out, nullptr); });
      Print({std::string("dequantize ") + t.name, "16384 x 4096 -> f32", ms,
             (rows * row_bytes + rows * cols * 4.0) / (ms * 1e-3) / 1e9, bandwidth, "GB/s"});
      // Decode: the quantized mat-vec reads W once as stored.
      float* x = RandomFloats(cols, 25);
      float* y = RandomFloats(rows, 26);
      const double mv_ms = TimeMs([&] {
        LaunchQuantizedMatVec(t.id, static_cast<uint8_t*>(q), row_bytes, rows, cols, x, 1, y, nullptr);
      });
      Print({std::string("matvec ") + t.name, "16384 x 4096, 1 token", mv_ms,
             rows * row_bytes / (mv_ms * 1e-3) / 1e9, bandwidth, "GB/s"});
    }
  }
  {  // Matmul on float32 weights (after dequantizing): cuBLAS at decode and prefill sizes.
    const int64_t rows = 4096, cols = 4096;
    float* w = RandomFloats(rows * cols, 16);
    for (int64_t tokens : {1, 16, 512}) {
      float* x = RandomFloats(tokens * cols, 17);
      float* y = RandomFloats(tokens * rows, 18);
      const double ms = TimeMs([&] {
        cublasSgemm(cublas, CUBLAS_OP_T, CUBLAS_OP_N, rows, tokens, cols, &one, w, cols, x, cols, &zero, y, rows);
      });
      if (tokens < 64) {
        Print({"matmul f32", "4096 x 4096, " + std::to_string(tokens) + " tokens", ms,
               rows * cols * 4.0 / (ms * 1e-3) / 1e9, bandwidth, "GB/s"});
      } else {
        Print({"matmul f32", "4096 x 4096, " + std::to_string(tokens) + " tokens", ms,
               2.0 * rows * cols * tokens / (ms * 1e-3) / 1e12, flops, "TFLOP/s"});
      }
    }
  }
  {  // The bf16-at-load path: 4096 x 4096 bf16 weights, 512 tokens.
    const int64_t rows = 4096, cols = 4096, tokens = 512;
    const double ms = TimeMs([&] {
      cublasGemmEx(cublas16, CUBLAS_OP_T, CUBLAS_OP_N, rows, tokens, cols, &one, a16, CUDA_R_16BF, cols,
                   b16, CUDA_R_16BF, cols, &zero, c, CUDA_R_32F, rows, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT);
    });
    Print({"matmul bf16", "4096 x 4096, 512 tokens", ms, 2.0 * rows * cols * tokens / (ms * 1e-3) / 1e12,
           flops16, "TFLOP/s"});
  }
  {  // Decode attention: 64 sequences of 2048 cached positions, 32 query / 8 KV heads of 128,
     // f16 cache; the minimum traffic is every sequence's K and V once.
    const int64_t seqs = 64, keys = 2048, heads = 32, kv_heads = 8, dim = 128, block = 16;
    const int64_t blocks_per_seq = keys / block, num_blocks = seqs * blocks_per_seq;
    const size_t cache_bytes = num_blocks * block * kv_heads * dim * 2;
    void* k = RandomDevice(cache_bytes, 19);
    void* v = RandomDevice(cache_bytes, 20);
    // Random halves include NaN and infinity; overwrite with small finite ones.
    Check(cudaMemset(k, 0x20, cache_bytes), "cudaMemset");
    Check(cudaMemset(v, 0x21, cache_bytes), "cudaMemset");
    std::vector<int32_t> tables(num_blocks);
    for (int64_t i = 0; i < num_blocks; ++i) tables[i] = static_cast<int32_t>(i);
    std::shuffle(tables.begin(), tables.end(), std::mt19937(21));
    std::vector<int64_t> positions(seqs, keys - 1), offsets(seqs);
    for (int64_t s = 0; s < seqs; ++s) offsets[s] = s * blocks_per_seq;
    int32_t* d_tables;
    int64_t *d_positions, *d_offsets;
    Check(cudaMalloc(&d_tables, tables.size() * 4), "cudaMalloc");
    Check(cudaMalloc(&d_positions, seqs * 8), "cudaMalloc");
    Check(cudaMalloc(&d_offsets, seqs * 8), "cudaMalloc");
    cudaMemcpy(d_tables, tables.data(), tables.size() * 4, cudaMemcpyHostToDevice);
    cudaMemcpy(d_positions, positions.data(), seqs * 8, cudaMemcpyHostToDevice);
    cudaMemcpy(d_offsets, offsets.data(), seqs * 8, cudaMemcpyHostToDevice);
    float* q = RandomFloats(seqs * heads * dim, 22);
    float* out = RandomFloats(seqs * heads * dim, 23);
    float* scores = RandomFloats(seqs * heads * keys, 24);
    PagedAttentionLaunch launch{.f16 = true, .k_cache = k, .v_cache = v, .block_size = block,
                                .n_heads = heads, .n_kv_heads = kv_heads, .head_dim = dim,
                                .value_dim = dim, .scale = 0.088f, .q = q, .out = out,
                                .positions = d_positions, .tables = d_tables,
                                .table_offsets = d_offsets, .n_tokens = seqs, .scores = scores,
                                .max_keys = keys};
    const double ms = TimeMs([&] { LaunchPagedAttention(launch, nullptr); });
    Print({"paged_attention", "decode 64 x 2048 keys, 32/8 x 128", ms,
           2.0 * cache_bytes / (ms * 1e-3) / 1e9, bandwidth, "GB/s"});
  }
  Check(cudaDeviceSynchronize(), "end");
  return 0;
}
